"""Kernel coverage: the .gcda format and merge (checked against GCC's own
gcov-tool), the coverage build of the reference kernel streaming its data
out at power-off, merged runs, and gcovr's HTML. A small subset of the
suite keeps this fast; `make coverage` runs all of it."""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

import pytest

from harness.course import gcda
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.course.coverage import CoverageCollector, totals, write_html
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.machine.qemu import MachineOptions
from harness.run.suite import load_all, select

REPO_ROOT = Path(__file__).resolve().parents[2]
COV_BUILD = REPO_ROOT / "build" / "kernel-cov"
MAKE_TIMEOUT_S = 600

PROGRAM = r"""
#include <stdio.h>
__attribute__((noinline)) int never(int x) { if (x > 3) return x + 1; return x - 1; }
__attribute__((noinline)) int some(int x) { if (x > 3) return x + 1; return x - 1; }
int main(int argc, char **argv) {
  int s = some(argc);
  if (argc > 5) s += never(s);
  printf("%d\n", s);
  return 0;
}
"""


# ---- the .gcda format, on a host program ----

@pytest.fixture(scope="module")
def host_runs(tmp_path_factory) -> list:
    """The .gcda bytes of two runs of a small program built with --coverage
    (one where `never` stays at zero, one where it runs)."""
    work = tmp_path_factory.mktemp("gcda")
    (work / "p.c").write_text(PROGRAM)
    subprocess.run(["gcc", "--coverage", "-O2", "p.c", "-o", "p"], cwd=work, check=True,
                   timeout=60)
    runs = []
    for args in ([], ["1", "2", "3", "4", "5"]):
        (work / "p.gcda").unlink(missing_ok=True)
        subprocess.run(["./p", *args], cwd=work, check=True, capture_output=True, timeout=10)
        runs.append((work / "p.gcda").read_bytes())
    return runs


def gcov_tool_merge(tmp_path: Path, first: dict, second: dict) -> dict:
    """gcov-tool merge of two sets {relative path: bytes}."""
    for name, files in (("a", first), ("b", second)):
        for rel, data in files.items():
            (tmp_path / name / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / rel).write_bytes(data)
    subprocess.run(["gcov-tool", "merge", str(tmp_path / "a"), str(tmp_path / "b"), "-o",
                    str(tmp_path / "out")], check=True, capture_output=True, timeout=60)
    return {rel: (tmp_path / "out" / rel).read_bytes() for rel in first}


def test_gcda_round_trip_keeps_every_byte(host_runs):
    for data in host_runs:
        assert gcda.serialize(gcda.parse(data)) == data
    # the first run leaves `never` at zero: written as a negative length
    assert any(r.is_counters and not any(r.counts) for r in gcda.parse(host_runs[0]).records)


def test_gcda_merge_equals_gcov_tool(host_runs, tmp_path):
    first, second = host_runs
    expected = gcov_tool_merge(tmp_path, {"p.gcda": first}, {"p.gcda": second})["p.gcda"]
    assert gcda.merge_bytes(first, second) == expected
    assert gcda.merge_bytes(second, first) == expected
    assert gcda.arc_counts(expected) == gcda.arc_counts(first) + gcda.arc_counts(second)


def test_gcda_refuses_what_it_cannot_merge(host_runs):
    first, second = host_runs
    other_build = bytearray(second)
    other_build[8] ^= 0xFF                    # the stamp
    with pytest.raises(gcda.GcdaError, match="different builds"):
        gcda.merge_bytes(first, bytes(other_build), "p.gcda")
    with pytest.raises(gcda.GcdaError, match="not a .gcda file"):
        gcda.parse(b"gcno" + first[4:], "p.gcda")
    with pytest.raises(gcda.GcdaError, match="p.gcda"):
        gcda.parse(second[:-12], "p.gcda")    # cut inside a counter record


# ---- the coverage build of the reference kernel ----

@pytest.fixture(scope="module")
def coverage_kernel(built) -> ReferenceAdapter:
    """`make -C reference_kernel COVERAGE=1 O=build/kernel-cov` (once, under
    the build lock) and its adapter."""
    with open(built / ".pytest-make.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(["make", "-C", str(REPO_ROOT / "reference_kernel"), "COVERAGE=1",
                               f"O={COV_BUILD}"], capture_output=True, text=True,
                              timeout=MAKE_TIMEOUT_S)
    assert done.returncode == 0, f"coverage build failed:\n{done.stderr[-3000:]}"
    return ReferenceAdapter.from_spec(str(COV_BUILD))


def run_with_coverage(adapter, name: str, data_dir: Path, run_root: Path):
    """Runs scenario NAME on ADAPTER with a fresh collector into DATA_DIR."""
    (sc,) = select(load_all(adapter.programs_dir, DATA_DIR), [name])
    collector = CoverageCollector(data_dir, adapter.kernel_dir)
    result = run_scenario(adapter, sc, RunnerOptions(machine=MachineOptions(run_root=run_root), coverage=collector))
    assert result.verdict.value == "PASS", f"{name} on the coverage kernel: {result.reason}"
    assert collector.runs == 1
    return {p.relative_to(data_dir).as_posix(): p.read_bytes() for p in data_dir.rglob("*.gcda")}


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_coverage_kernel_streams_merges_and_reports(coverage_kernel, tmp_path, run_root):
    forktree = run_with_coverage(coverage_kernel, "forktree", tmp_path / "forktree", run_root)
    mmap = run_with_coverage(coverage_kernel, "mmap-read", tmp_path / "mmap", run_root)
    vm_sources = sorted(p.name for p in (REPO_ROOT / "reference_kernel" / "vm").glob("*.c"))
    assert sorted(Path(rel).stem + ".c" for rel in forktree if rel.startswith("vm/")) == vm_sources
    assert "kernel/coverage.gcda" not in forktree and "arch/x86_64/power.gcda" not in forktree

    merged_dir = tmp_path / "merged"
    both = CoverageCollector(merged_dir, coverage_kernel.kernel_dir)
    both.add(forktree)
    both.add(mmap)
    expected = gcov_tool_merge(tmp_path / "gcov-tool", forktree, mmap)
    for rel, data in expected.items():
        assert (merged_dir / rel).read_bytes() == data, f"{rel} differs from gcov-tool merge"
    assert gcda.arc_counts(mmap["vm/mmap.gcda"]) > gcda.arc_counts(forktree["vm/mmap.gcda"])

    files = write_html(merged_dir, coverage_kernel.kernel_dir, tmp_path / "html")
    html = (tmp_path / "html" / "index.html").read_text()
    vm_files = {f.path: f for f in files if f.path.startswith("vm/")}
    assert sorted(Path(p).name for p in vm_files) == vm_sources
    for path, f in vm_files.items():
        assert f.lines_covered > 0, f"{path}: no line covered"
        assert path in html
    vm = totals(files, "vm/")
    assert 0 < vm.lines_covered < vm.lines and 0 < vm.branches_covered < vm.branches


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_coverage_command_writes_the_html(coverage_kernel, tmp_path):
    done = subprocess.run([str(REPO_ROOT / "vmcheck"), "coverage", "--kernel-build",
                           str(COV_BUILD), "--data", str(tmp_path / "data"), "--report",
                           str(tmp_path / "report"), "forktree", "mmap-read"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "kernel coverage, 2 run(s) merged:" in done.stdout
    assert any(line.startswith("vm/mmap.c ") for line in done.stdout.splitlines())
    assert (tmp_path / "report" / "index.html").is_file()
    assert (tmp_path / "report" / "suite" / "results.json").is_file()
    assert (tmp_path / "data" / "vm" / "frame.gcda").is_file()


@pytest.mark.integration
def test_coverage_command_refuses_a_plain_kernel(built):
    done = subprocess.run([str(REPO_ROOT / "vmcheck"), "coverage", "--kernel-build",
                           str(built / "kernel"), "forktree"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert "is not a coverage build" in done.stderr
