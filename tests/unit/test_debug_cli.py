"""`vmcheck debug`'s bad input: one line on stderr, exit 2 (3 without a
gdb), and no QEMU started (Machine.start would fail the test)."""

from __future__ import annotations

import json
import shutil

import pytest

from harness.cli.main import main
from harness.machine.qemu import Machine
from harness.run.schedule import build_id


@pytest.fixture
def no_machine(monkeypatch, built):
    def refuse(self, *args, **kwargs):
        raise AssertionError("a machine was started")
    monkeypatch.setattr(Machine, "start", refuse)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("vmcheck: error: "), err
    return err


@pytest.mark.parametrize("argv, said", [
    (["no-such-scenario"], "no scenario named 'no-such-scenario'"),
    (["ro-data-read", "--at", "somewhere"], "--at 'somewhere': expected failure, start"),
    (["ro-data-read", "--at", "checkpoint:x"], "expected failure"),
    (["ro-data-read", "--at", "checkpoint:1:0"], "expected failure"),
    (["ro-data-read", "--at", "checkpoint:7"], "ro-data-read declares no checkpoint 7 "
                                               "(declared: 1, 2)"),
    (["ro-data-read", "--at", "break:no_such_function"],
     "no symbol 'no_such_function' in the kernel or in ro-data"),
])
def test_bad_input_is_one_line_and_exit_2(argv, said, no_machine, capsys):
    assert main(["debug", *argv]) == 2
    assert said in _one_error_line(capsys)


def test_a_missing_gdb_is_exit_3(no_machine, capsys):
    assert main(["debug", "hello", "--gdb", "no-such-gdb-program"]) == 3
    assert "no 'no-such-gdb-program' on PATH" in _one_error_line(capsys)


def _schedule(tmp_path, **fields):
    from harness.adapters import get_adapter
    from harness.run.schedule import SCHEDULE_VERSION
    schedule = {"vmcheck_schedule": SCHEDULE_VERSION, "scenario": "ro-data-read", "kernel": "reference",
                "kernel_build_id": build_id(get_adapter("reference").symbol_file),
                "injections": [], "clock": {"accel": "tcg", "icount": True},
                "verdict": "FAIL", "reason": "", "console_sha256": ""}
    path = tmp_path / "s.schedule.json"
    path.write_text(json.dumps({**schedule, **fields}))
    return str(path)


def test_a_schedule_of_another_kernel_family_is_refused(no_machine, tmp_path, capsys):
    argv = ["debug", "ro-data-read", "--kernel", f"pintos-kaist:{tmp_path}",
            "--schedule", _schedule(tmp_path)]
    assert main(argv) == 2
    assert "recorded on kernel reference, not pintos-kaist:" in _one_error_line(capsys)


def test_a_schedule_follows_its_kernel_to_another_folder_of_the_same_build(
        no_machine, tmp_path, build_dir):
    """A schedule names the kernel it was recorded on; --kernel may name
    another folder of the same family (a tree moved or copied): the build
    id decides, and a copy of the same build is accepted."""
    from harness.run.schedule import load_schedule, schedule_kernel
    other = tmp_path / "other-kernel"
    shutil.copytree(build_dir / "kernel", other)
    schedule = load_schedule(_schedule(tmp_path))
    assert schedule_kernel(schedule, "reference") == "reference"
    assert schedule_kernel(schedule, f"reference:{other}") == f"reference:{other}"
    from harness.adapters import get_adapter
    from harness.run.schedule import check_travels
    check_travels(schedule, get_adapter(f"reference:{other}"))   # the same bytes: no refusal


def test_a_schedule_of_another_build_or_scenario_is_refused(no_machine, tmp_path, capsys):
    assert main(["debug", "ro-data-read", "--schedule",
                 _schedule(tmp_path, kernel_build_id="0123456789abcdef")]) == 2
    assert "recorded on another kernel build" in _one_error_line(capsys)
    assert main(["debug", "hello", "--schedule", _schedule(tmp_path)]) == 2
    assert "is a schedule of 'ro-data-read', not of 'hello'" in _one_error_line(capsys)


def test_run_names_the_debug_command_of_its_first_failure():
    from harness.cli.run import debug_hint
    from results.model import RunResult, ScenarioResult, Verdict
    passed = ScenarioResult("hello", "core", Verdict.PASS, 0.1)
    failed = ScenarioResult("ro-data-read", "lazy", Verdict.FAIL, 0.1)
    replayed = ScenarioResult("evict-anon-werr", "injection", Verdict.FAIL, 0.1,
                              schedule_file="out/run/schedule-files/e.schedule.json")
    run = RunResult(kernel="reference", started="", duration_s=0.3, jobs=1,
                    scenarios=[passed, failed, replayed])
    assert debug_hint(run, "pintos-kaist:/t") == (
        "to stop at ro-data-read's failure in gdb: ./vmcheck debug ro-data-read "
        "--kernel pintos-kaist:/t  (docs/debug.md)")
    run.scenarios = [passed, replayed]
    assert debug_hint(run, "reference").endswith(
        "./vmcheck debug evict-anon-werr --schedule out/run/schedule-files/e.schedule.json"
        "  (docs/debug.md)")
    run.scenarios = [passed]
    assert debug_hint(run, "reference") == ""
