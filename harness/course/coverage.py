"""Kernel coverage: gcov data streamed out of a coverage-built kernel,
merged over a suite run, and turned into an HTML report by gcovr.

A coverage build (`make -C reference_kernel COVERAGE=1 O=DIR`) counts arcs
and, at power-off, sends each unit's .gcda bytes through three hook
functions (reference_kernel/kernel/coverage.c). The harness breaks there:

    collector = CoverageCollector(data_dir, kernel_build_dir)
    RunnerOptions(..., coverage=collector)       # each run arms the hooks
    summary = write_html(data_dir, kernel_build_dir, out_dir)

Each run's files are merged into DATA_DIR (paths relative to the kernel
build folder, e.g. vm/frame.gcda) as soon as the kernel reports the dump
complete; runs that hang before power-off add nothing. write_html puts the
.gcno files next to the merged data and runs gcovr (line and branch
coverage per source file).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import threading
from pathlib import Path

from harness import config
from harness.course import gcda
from harness.errors import HarnessError, UsageError

HOOK_FILENAME = "vmcheck_gcov_filename"   # rdi: the .gcda path (C string)
HOOK_DUMP = "vmcheck_gcov_dump"           # rdi: bytes, esi: length
HOOK_DONE = "vmcheck_gcov_done"           # edi: number of files sent
SOURCE_ROOT = config.REPO_ROOT / "reference_kernel"
MAX_PATH = 4096
GCOVR_TIMEOUT_S = 300


def is_coverage_build(symbols) -> bool:
    """True if the kernel behind SYMBOLS (a SymbolTable) has the hooks."""
    return all(symbols.find(hook) is not None for hook in (HOOK_FILENAME, HOOK_DUMP, HOOK_DONE))


def read_c_string(dbg, address: int, limit: int = MAX_PATH) -> str:
    """The NUL-terminated string at kernel ADDRESS (at most LIMIT bytes)."""
    out = bytearray()
    while len(out) < limit:
        piece = dbg.read_virt(address + len(out), 64)
        end = piece.find(b"\0")
        if end >= 0:
            return (out + piece[:end]).decode("utf-8", "replace")
        out += piece
    raise HarnessError(f"coverage: file name at {address:#x} is longer than {limit} bytes")


class CoverageRecording:
    """The gcov files one run sends. Breakpoint callbacks fill FILES; at
    the done hook the set goes to the collector (once complete)."""

    def __init__(self, collector: "CoverageCollector"):
        self.collector = collector
        self.files: dict = {}        # relative .gcda path -> bytearray
        self.current = None

    def on_filename(self, dbg, bp) -> bool:
        name = read_c_string(dbg, dbg.register("rdi"))
        self.current = self.collector.relative_name(name)
        if self.current in self.files:
            raise HarnessError(f"coverage: the kernel sent {name} twice in one run")
        self.files[self.current] = bytearray()
        return False

    def on_dump(self, dbg, bp) -> bool:
        if self.current is None:
            raise HarnessError("coverage: gcov data before any file name")
        size = dbg.register("rsi") & 0xFFFFFFFF
        self.files[self.current] += dbg.read_virt(dbg.register("rdi"), size)
        return False

    def on_done(self, dbg, bp) -> bool:
        sent = dbg.register("rdi") & 0xFFFFFFFF
        if sent != len(self.files):
            raise HarnessError(f"coverage: the kernel says it sent {sent} files, "
                               f"the harness got {len(self.files)}")
        self.collector.add({name: bytes(data) for name, data in self.files.items()})
        return False


class CoverageCollector:
    """Merges the gcov data of every run into DATA_DIR. Thread-safe: runs
    of `--jobs N` add their files one at a time."""

    def __init__(self, data_dir: Path, kernel_build_dir: Path):
        self.data_dir = Path(data_dir)
        self.kernel_build_dir = Path(kernel_build_dir).resolve()
        self.runs = 0
        self._merged: dict = {}      # relative path -> bytes
        self._lock = threading.Lock()

    def arm(self, dbg) -> CoverageRecording:
        """Breakpoints on the three hooks of the kernel DBG controls; they
        never stop the run."""
        recording = CoverageRecording(self)
        dbg.add_breakpoint(HOOK_FILENAME, recording.on_filename)
        dbg.add_breakpoint(HOOK_DUMP, recording.on_dump)
        dbg.add_breakpoint(HOOK_DONE, recording.on_done)
        return recording

    def relative_name(self, name: str) -> str:
        """A .gcda path the kernel sent, relative to the kernel build
        folder (where the matching .gcno is)."""
        path = Path(name)
        try:
            relative = path.relative_to(self.kernel_build_dir)
        except ValueError:
            raise HarnessError(f"coverage: the kernel sent {name}, which is not under its build "
                               f"folder {self.kernel_build_dir}; was it built elsewhere?") from None
        if path.suffix != ".gcda" or ".." in relative.parts:
            raise HarnessError(f"coverage: unexpected gcov file name {name!r}")
        return relative.as_posix()

    def add(self, files: dict) -> None:
        """Adds one run's FILES (relative path -> .gcda bytes, the whole
        program's) to the total and writes the merged files. Files without
        an object summary get one for this run (gcda.add_run_summary)."""
        parsed = {name: gcda.parse(data, name) for name, data in files.items()}
        run_max = max(map(gcda.max_arc_count, parsed.values()), default=0)
        run = {name: gcda.serialize(gcda.add_run_summary(g, run_max))
               for name, g in parsed.items()}
        with self._lock:
            for name, data in run.items():
                old = self._merged.get(name)
                merged = data if old is None else gcda.merge_bytes(old, data, name)
                self._merged[name] = merged
                target = self.data_dir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(merged)
            self.runs += 1


# ---- the HTML report ----

@dataclasses.dataclass
class FileCoverage:
    path: str              # relative to the source root, e.g. vm/frame.c
    lines: int
    lines_covered: int
    branches: int
    branches_covered: int


def percent(covered: int, total: int) -> float:
    return 100.0 * covered / total if total else 100.0


def totals(files: list, prefix: str = "") -> FileCoverage:
    """Line and branch counts summed over FILES whose path starts with PREFIX."""
    chosen = [f for f in files if f.path.startswith(prefix)]
    return FileCoverage(prefix or "all", sum(f.lines for f in chosen),
                        sum(f.lines_covered for f in chosen), sum(f.branches for f in chosen),
                        sum(f.branches_covered for f in chosen))


def stage_notes(data_dir: Path, kernel_build_dir: Path) -> int:
    """Copies every .gcno of the build next to the merged data (gcov wants
    them side by side); returns how many. UsageError if there are none."""
    notes = sorted(Path(kernel_build_dir).rglob("*.gcno"))
    if not notes:
        raise UsageError(f"{kernel_build_dir} has no .gcno files: not a coverage build "
                         "(make -C reference_kernel COVERAGE=1 O=DIR)")
    for note in notes:
        target = Path(data_dir) / note.relative_to(kernel_build_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(note, target)
    return len(notes)


def write_html(data_dir: Path, kernel_build_dir: Path, out_dir: Path,
               source_root: Path = SOURCE_ROOT, title: str = "vmcheck reference kernel") -> list:
    """gcovr's HTML (index.html and a page per file) and summary.json in
    OUT_DIR from the merged data; returns the FileCoverage of every file."""
    if shutil.which("gcovr") is None:
        raise HarnessError("gcovr not found (install the Debian package gcovr, e.g. `make deps`)")
    stage_notes(data_dir, kernel_build_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in [*out_dir.glob("index*.html"), *out_dir.glob("index*.css"),
                out_dir / "summary.json"]:
        old.unlink(missing_ok=True)   # gcovr's own files of an earlier report, nothing else
    summary_file = out_dir / "summary.json"
    command = ["gcovr", "--root", str(source_root), "--object-directory", str(data_dir),
               "--html-details", str(out_dir / "index.html"), "--html-title", title,
               "--json-summary-pretty", "--json-summary", str(summary_file),
               "--exclude-unreachable-branches", str(data_dir)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=GCOVR_TIMEOUT_S,
                              cwd=source_root)
    except subprocess.TimeoutExpired:
        raise HarnessError(f"gcovr did not finish in {GCOVR_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise HarnessError(f"gcovr failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return read_summary(summary_file)


def read_summary(path: Path) -> list:
    """FileCoverage per file from gcovr's --json-summary."""
    data = json.loads(Path(path).read_text())
    return [FileCoverage(f["filename"], f["line_total"], f["line_covered"],
                         f["branch_total"], f["branch_covered"]) for f in data["files"]]


def summary_lines(files: list, areas=("arch/", "kernel/", "vm/", "include/")) -> list:
    """Text lines: coverage per area and each vm/ file."""
    def line(c: FileCoverage) -> str:
        return (f"{c.path:<28} lines {c.lines_covered:>5}/{c.lines:<5} "
                f"{percent(c.lines_covered, c.lines):5.1f}%   branches "
                f"{c.branches_covered:>5}/{c.branches:<5} "
                f"{percent(c.branches_covered, c.branches):5.1f}%")
    out = [line(totals(files, area)) for area in areas if totals(files, area).lines]
    out.append(line(totals(files)))
    out += ["", *(line(f) for f in sorted(files, key=lambda f: f.path)
                  if f.path.startswith("vm/"))]
    return out
