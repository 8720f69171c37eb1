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
    assert ("2/2 runs reproduced the verdict FAIL; 2/2 were identical to the first (console, "
            "guest clock at each checkpoint, page tables and SPT); 2/2 to the recorded run"
            in again.stdout), again.stdout
    results = json.loads((report / "results.json").read_text())
    assert [s["name"] for s in results["scenarios"]] == ["mmap-zero-len (replay 1)",
                                                         "mmap-zero-len (replay 2)"]
    assert (report / "index.html").is_file()


def hand_made_schedule(tmp_path, **changes):
    """A schedule of hello on the reference kernel, recorded "here" unless
    CHANGES say otherwise."""
    from harness.adapters.reference.adapter import ReferenceAdapter
    from harness.machine.qemu import qemu_version
    from harness.run.schedule import SCHEDULE_VERSION, build_id
    schedule = {"vmcheck_schedule": SCHEDULE_VERSION, "scenario": "hello", "kernel": "reference",
                "kernel_build_id": build_id(ReferenceAdapter().symbol_file),
                "qemu": qemu_version(), "disks_sha256": None,
                "injections": [{"point": "yield", "kind": "preempt"}], "fired": [],
                "clock": {"accel": "tcg", "icount": True}, "exact_disk": True,
                "verdict": "PASS", "reason": "", "console_sha256": "0" * 16, **changes}
    path = tmp_path / "hello.schedule.json"
    path.write_text(json.dumps(schedule))
    return path


@pytest.mark.parametrize("changes, reason", [
    ({"kernel_build_id": "0123456789abcdef"}, "the schedule was recorded on another kernel "
                                              "build (0123456789abcdef), not this one"),
    ({"qemu": "QEMU emulator version 0.1"}, "the schedule was recorded with QEMU emulator "
                                            "version 0.1, not QEMU emulator version"),
    ({"disks_sha256": "0123456789abcdef"}, "the guest's disks differ from the ones the "
                                           "schedule was recorded with"),
    ({"vmcheck_schedule": 1}, "a schedule of an older vmcheck"),
])
def test_replay_refuses_a_schedule_recorded_elsewhere_in_one_line(built, tmp_path, changes,
                                                                  reason):
    refused = vmcheck("replay", str(hand_made_schedule(tmp_path, **changes)),
                      "--report", str(tmp_path / "replay"))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert reason in line and "Traceback" not in refused.stderr, line
