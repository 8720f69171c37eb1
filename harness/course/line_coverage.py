"""Which kernel source lines each scenario executes (for `vmcheck mutants
--generate`, harness/course/mutant_gen.py).

Every scenario runs on a coverage build of the reference kernel with a
CoverageCollector of its own (harness/course/coverage.py: the .gcda files
it streams at power-off land in a folder per scenario); gcov's JSON output
then says which lines of the chosen source files ran. The result is cached
in a JSON file with a hash of the kernel's sources and of each scenario's
definition: a scenario is run again only when either changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional

from harness import config
from harness.course.coverage import SOURCE_ROOT, CoverageCollector, stage_notes
from harness.errors import HarnessError

GCOV_TIMEOUT_S = 120


def source_hash(root: Path = SOURCE_ROOT) -> str:
    """A hash of every C, assembly and header file of the kernel at ROOT."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".c", ".h", ".S", ".ld")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def scenario_hash(sc, programs: Optional[Path] = None) -> str:
    """A hash of scenario SC's definition (what it runs and with what) and
    of the program images it runs, from PROGRAMS (default: the built
    programs, build/programs/): a program rebuilt under the same
    definition may run other kernel lines, and its cached lines go stale."""
    digest = hashlib.sha256(repr(sc).encode())
    folder = config.build_dir() / "programs" if programs is None else programs
    for name in sc.programs:
        digest.update(b"\0" + name.encode() + b"\0" + _file_digest(folder / name))
    return digest.hexdigest()[:16]


_digests: dict = {}        # (path, mtime_ns, size) -> sha256 of the file


def _file_digest(path: Path) -> bytes:
    """The sha256 of the file at PATH (b"" if there is none), worked out
    once per version of the file (its mtime and size)."""
    try:
        st = path.stat()
    except OSError:
        return b""
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _digests:
        _digests[key] = hashlib.sha256(path.read_bytes()).digest()
    return _digests[key]


def executed_lines(data_dir: Path, kernel_build_dir: Path, files: list[str],
                   source_root: Path = SOURCE_ROOT) -> dict:
    """{file: sorted executed line numbers} of FILES (relative to
    SOURCE_ROOT) from the .gcda files in DATA_DIR; files without data
    executed nothing."""
    stage_notes(data_dir, kernel_build_dir)
    by_dir = defaultdict(list)
    for file in files:
        by_dir[str(Path(file).parent)].append(file)
    out: dict = {file: [] for file in files}
    for folder, sources in by_dir.items():
        if not any((data_dir / folder).glob("*.gcda")):
            continue
        command = ["gcov", "--json-format", "--stdout", "-o", str(data_dir / folder), *sources]
        done = subprocess.run(command, capture_output=True, text=True, cwd=source_root,
                              timeout=GCOV_TIMEOUT_S)
        if done.returncode != 0:
            raise HarnessError(f"gcov failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        for line in done.stdout.splitlines():
            for entry in json.loads(line)["files"]:
                if entry["file"] in out:
                    out[entry["file"]] = sorted(l["line_number"] for l in entry["lines"]
                                                if l["count"] > 0)
    return out


@dataclasses.dataclass
class ScenarioLines:
    """What one scenario executed on the coverage kernel."""
    seconds: float                 # wall time of its run (orders the runs of a mutant)
    passed: bool
    guest_s: float | None          # guest seconds it took (bounds a mutant's run)
    lines: dict                    # file -> [line numbers]
    scenario_hash: str = ""


class LineCoverage:
    """Per-scenario executed lines, cached in CACHE (JSON)."""

    def __init__(self, cache: Path, kernel_hash: str, files: list[str]):
        self.cache = cache
        self.kernel_hash = kernel_hash
        self.files = list(files)
        self.scenarios: dict = {}
        self._lock = threading.Lock()
        if cache.is_file():
            data = json.loads(cache.read_text())
            if data.get("kernel") == kernel_hash and data.get("files") == self.files:
                self.scenarios = {name: ScenarioLines(**v) for name, v in data["scenarios"].items()}

    def record(self, name: str, lines: ScenarioLines) -> None:
        """Keeps LINES for scenario NAME and saves the cache (thread-safe)."""
        with self._lock:
            self.scenarios[name] = lines
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            self.cache.write_text(json.dumps({"kernel": self.kernel_hash, "files": self.files,
                                              "scenarios": {n: dataclasses.asdict(v) for n, v
                                                            in self.scenarios.items()}}))

    def missing(self, scenarios: list) -> list:
        """Those of SCENARIOS with no cached lines for their definition."""
        return [sc for sc in scenarios if sc.name not in self.scenarios
                or self.scenarios[sc.name].scenario_hash != scenario_hash(sc)]

    def runners_of(self, file: str, line: int, scenarios: list) -> list:
        """Those of SCENARIOS that executed FILE:LINE, fastest first."""
        hits = [sc for sc in scenarios if sc.name in self.scenarios
                and line in self.scenarios[sc.name].lines.get(file, ())]
        return sorted(hits, key=lambda sc: self.scenarios[sc.name].seconds)


def collect(coverage: LineCoverage, adapter, scenarios: list, opts, jobs: int, work: Path,
            progress: Callable[[str], None]) -> None:
    """Runs each of SCENARIOS that COVERAGE has no lines for on the coverage
    kernel of ADAPTER (JOBS at once) and records its executed lines;
    the cache is saved as each finishes."""
    from harness.run.runner import run_scenario
    todo = coverage.missing(scenarios)

    def one(sc) -> None:
        data = work / sc.name
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        collector = CoverageCollector(data, adapter.kernel_dir)
        result = run_scenario(adapter, sc, dataclasses.replace(opts, coverage=collector))
        lines = executed_lines(data, adapter.kernel_dir, coverage.files) if collector.runs else {}
        coverage.record(sc.name, ScenarioLines(result.duration_s, result.verdict.passed,
                                               result.guest_s, lines, scenario_hash(sc)))
        shutil.rmtree(data, ignore_errors=True)
        progress(f"coverage of {sc.name}: {result.verdict.value}, "
                 f"{sum(map(len, lines.values()))} lines ({result.duration_s:.1f}s)")

    if todo:
        progress(f"vmcheck: line coverage of {len(todo)} scenario(s) on the coverage kernel")
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, todo))
