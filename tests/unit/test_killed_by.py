"""`killed_by`: the exception (vector) that must end a scenario's program,
judged from the faults the harness caught (harness/run/verdict.py)."""

from __future__ import annotations

import pytest

from harness.adapters.base import BootOutcome, Ending, find_exits
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.checkpoints import CheckpointSession
from harness.run.scenario import ScenarioError, load_file
from harness.run.suite import load_all
from harness.run.verdict import judge
from results.model import FaultRecord, ScenarioResult, Verdict

KILLED = "fault-trap: exit(-1)\n"


def scenario(name="fault-trap-int3"):
    return next(sc for sc in load_all(None, None) if sc.name == name)


def judged(sc, console: str, faults=(), strict=False) -> ScenarioResult:
    result = ScenarioResult(sc.name, sc.area, Verdict.PASS, 0.0,
                            expected_exit_status=sc.exit_status, strict=strict)
    result.faults = list(faults)
    result.console = console
    judge(ReferenceAdapter(), sc, BootOutcome(Ending.POWEROFF, 0, find_exits(console)),
          CheckpointSession(None, sc, {}, {}, None), result)
    return result


def fault(vector: int, process="fault-trap", mode="user") -> FaultRecord:
    return FaultRecord(process, "a fault", 0x4000E6, vector=vector, mode=mode,
                       instruction="int3")


def test_the_int3_scenarios_ask_for_a_breakpoint_and_int4_for_an_overflow():
    assert scenario("fault-trap-int3").killed_by == 3
    assert scenario("fault-trap-int-3").killed_by == 3
    assert scenario("fault-trap-int-4").killed_by == 4


def test_killed_by_the_vector_asked_for_passes():
    assert judged(scenario(), KILLED, [fault(3)]).verdict is Verdict.PASS


def test_killed_by_another_vector_fails_naming_both():
    r = judged(scenario(), KILLED, [fault(13)])
    assert r.verdict is Verdict.FAIL
    assert "general protection fault (vector 13)" in r.reason
    assert "expected a breakpoint (vector 3)" in r.reason and "int3" in r.reason


def test_faults_of_other_processes_or_of_kernel_mode_do_not_count():
    r = judged(scenario(), KILLED, [fault(13, process="other"), fault(13, mode="kernel")])
    assert r.verdict is Verdict.PASS   # no fault of the program itself: unknown
    assert any("killed_by" in note and "could not inspect" in note for note in r.notes)


def test_no_fault_caught_is_unknown_and_fails_only_under_strict():
    r = judged(scenario(), KILLED, strict=True)
    assert r.verdict is Verdict.FAIL and "unknown under --strict" in r.reason
    assert "killed_by" in r.reason


def test_a_program_that_was_not_killed_fails_on_its_exit_status_alone():
    r = judged(scenario(), "(fault-trap) FAIL: int3 returned\nfault-trap: exit(1)\n")
    assert r.verdict is Verdict.FAIL and "exit status 1, expected -1" in r.reason
    assert "killed_by" not in r.reason and not r.after_unknowns


@pytest.mark.parametrize("value", [32, -1, "3"])
def test_killed_by_must_be_an_exception_vector(tmp_path, value):
    path = tmp_path / "bad.toml"
    path.write_text('area = "robustness"\n[[scenario]]\nname = "x"\nprogram = "fault-trap"\n'
                    f'exit_status = -1\nkilled_by = {value!r}\n'.replace("'", '"'))
    with pytest.raises(ScenarioError, match="killed_by"):
        load_file(path)
