"""`vmcheck explore` and `vmcheck replay` from the command line, on a
reference-kernel mutant that fails mmap-zero-len (docs/mutants.md):
--mode from injects at the n-th and every later call, the failing run's
schedule file is written where --schedules says, and replay reproduces it
(exactly: reference-kernel runs are deterministic) and writes its HTML
report."""

import json
import subprocess

import pytest

from harness.course.mutants import build_mutant, load_catalogue

pytestmark = pytest.mark.integration


def vmcheck(*args):
    return subprocess.run(["./vmcheck", *args], capture_output=True, text=True, timeout=300)


def test_explore_from_the_first_call_then_replay_with_a_report(built, tmp_path):
    mutant = tmp_path / "mutant"
    build_mutant({m.name: m for m in load_catalogue()}["mmap-zero-length"], mutant)
    kernel = f"reference:{mutant}"
    schedules = tmp_path / "schedules"
    found = vmcheck("explore", "mmap-zero-len", "--kernel", kernel, "--point", "page_fault",
                    "--kind", "preempt", "--mode", "from", "--stop-on-failure", "--max-n", "3",
                    "--schedules", str(schedules))
    assert found.returncode == 1, found.stdout + found.stderr
    assert "at the n-th and every later call page_fault" in found.stdout
    assert "page_fault #1: FAIL" in found.stdout, found.stdout
    [schedule] = schedules.glob("mmap-zero-len*.schedule.json")
    recorded = json.loads(schedule.read_text())
    assert recorded["injections"][0]["mode"] == "from" and recorded["injections"][0]["nth"] == 1
    assert len(recorded["fired"]) > 1            # every later call failed too

    report = tmp_path / "replay"
    again = vmcheck("replay", str(schedule), "--kernel", kernel, "--times", "2",
                    "--report", str(report))
    assert again.returncode == 1, again.stdout + again.stderr
    assert "2/2 runs reproduced the verdict FAIL; 2/2 had an identical console" in again.stdout
    results = json.loads((report / "results.json").read_text())
    assert [s["name"] for s in results["scenarios"]] == ["mmap-zero-len (replay 1)",
                                                         "mmap-zero-len (replay 2)"]
    assert (report / "index.html").is_file()
