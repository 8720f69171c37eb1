"""Choices a kernel family leaves to the student (harness/run/choices.py):
a scenario that tests one is NOT_JUDGED on such a kernel, and an
expectation that is only its premise is not judged there when it does
not hold. Found on Pintos-KAIST trees (team04 @879ad56, 2wheeh @7b1efaa,
qkrwns1478 @a157e70): FIFO eviction failed hot-page, a fork that keeps
the parent's mapping failed mm-fork, an eviction that kept page 0
failed mm-reclean and evict-dirty, and the skeleton's TSS failed
fault-priv-in on every tree."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.adapters.base import BootOutcome, Ending, find_exits
from harness.adapters.pintos_kaist.adapter import PintosKaistAdapter
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.cli.main import main
from harness.run import runner
from harness.run.checkpoints import CheckpointSession
from harness.run.choices import CHOICES, Premises, not_judged_reason
from harness.run.scenario import Expectation, ScenarioError, load_file
from harness.run.suite import load_all
from harness.run.verdict import judge
from oracles.model.machine_state import FAIL, NOT_JUDGED, UNKNOWN, Violation, unknown
from results.model import CheckpointRecord, ScenarioResult, Verdict
from tests.unit.fake_pintos_tree import fake_pintos_tree

PINTOS = PintosKaistAdapter(Path("/nonexistent/pintos"))   # nothing runs at __init__
REFERENCE = ReferenceAdapter()


def test_pintos_names_where_the_assignment_leaves_each_choice_open():
    choices = PINTOS.open_choices()
    assert set(choices) <= set(CHOICES)
    assert "The policy for eviction is up to you" in choices["eviction-policy"]
    assert "supplemental_page_table_copy" in choices["fork-mmap"]
    assert "userprog/tss.c" in choices["user-port-io"]
    assert "one or more anonymous pages" in choices["stack-growth-extent"]
    assert REFERENCE.open_choices() == {}


def test_the_suite_leaves_out_on_pintos_exactly_the_scenarios_that_test_an_open_choice():
    scenarios = load_all(None, None)
    assuming = {sc.name for sc in scenarios if sc.assumes}
    assert assuming == {"hot-page", "mm-fork", "fault-priv-in"}
    for sc in scenarios:
        if sc.assumes:
            assert "leaves to the student" in not_judged_reason(PINTOS, sc)
        if not sc.inject:   # the reference kernel judges all of them
            assert not_judged_reason(REFERENCE, sc) is None, sc.name
    premises = {(sc.name, exp.check) for sc in scenarios for cp in sc.checkpoints
                for exp in cp.expect if exp.premise}
    assert {name for name, _ in premises} == {
        "fork-swap", "cow-evict", "evict-anon", "evict-file", "evict-file-noswap",
        "evict-dirty", "evict-code", "stk-evict", "mm-reclean", "stk-sc-depth-1",
        "stk-sc-depth-2", "stk-sc-depth-8", "stk-sc-depth-32", "stk-sc-depth-span",
        "stk-sc-depth-write"}
    assert {check for _, check in premises} == {"pages"}
    assert {sc.name for sc in scenarios if sc.output_needs_premise} == {
        "evict-dirty", "mm-reclean", "stk-sc-depth-1", "stk-sc-depth-2", "stk-sc-depth-8",
        "stk-sc-depth-32", "stk-sc-depth-span", "stk-sc-depth-write"}


def test_the_runner_gives_not_judged_without_booting(monkeypatch):
    def boots(*args, **kw):
        raise AssertionError("booted a scenario that cannot be judged")

    monkeypatch.setattr(runner, "_execute", boots)
    sc = SimpleNamespace(name="hot-page", area="swap", exit_status=0, description="",
                         inject=(), assumes=("eviction-policy",), timeout=60)
    result = runner.run_scenario(PINTOS, sc, runner.RunnerOptions())
    assert result.verdict is Verdict.NOT_JUDGED
    assert result.reason.startswith("not judged on the pintos-kaist kernel: the scenario "
                                    "tests what it leaves to the student (eviction-policy "
                                    "(which page a full pool evicts): ")
    assert "vm_get_victim" in result.reason


def test_list_marks_the_scenarios_that_test_an_open_choice(tmp_path, capsys):
    tree = fake_pintos_tree(tmp_path / "tree")
    assert main(["list", "hot-page", "fault-priv-*", "--kernel", f"pintos-kaist:{tree}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    marked = [line.split()[0] for line in lines if "[NOT_JUDGED on pintos-kaist:" in line]
    assert marked == ["hot-page", "fault-priv-in"]
    assert "user-port-io" in next(line for line in lines if line.startswith("fault-priv-in"))


def _fail(oracle="pages", va=0x1000):
    return Violation(oracle, "page is not not_present", va, 3, "not_present", "present")


PREMISE = Expectation("pages", {}, "eviction-policy")
PLAIN = Expectation("page", {})


def test_an_unmet_premise_on_an_open_choice_voids_that_and_every_later_expectation():
    premises = Premises(PINTOS)
    later_unknown = unknown("page", "SPT not readable")
    first = premises.judge([(PLAIN, [_fail("page")]), (PREMISE, [_fail()]),
                            (PLAIN, [later_unknown])])
    assert [v.outcome for v in first] == [NOT_JUDGED, NOT_JUDGED, UNKNOWN]
    assert "expected: not_present; actual: present" in first[1].message
    assert "eviction-policy (which page a full pool evicts) is the kernel's choice" in \
        first[1].message
    assert "The policy for eviction is up to you" in premises.unmet
    later = premises.judge([(PLAIN, [_fail("contents")])])   # the next checkpoint
    assert [v.outcome for v in later] == [NOT_JUDGED] and later[0].oracle == "contents"


def test_a_premise_that_holds_voids_nothing():
    premises = Premises(PINTOS)
    found = premises.judge([(PREMISE, []), (PLAIN, [_fail("page")])])
    assert [v.outcome for v in found] == [FAIL] and premises.unmet is None


def test_a_premise_on_a_choice_the_kernel_makes_itself_is_judged_as_any_expectation():
    premises = Premises(REFERENCE)     # its eviction order is the suite's
    found = premises.judge([(PREMISE, [_fail()]), (PLAIN, [_fail("page")])])
    assert [v.outcome for v in found] == [FAIL, FAIL] and premises.unmet is None


GOOD = 'area = "swap"\n\n[[scenario]]\nname = "ok"\nprogram = "hello"\n'
CP = '[[scenario.checkpoint]]\nid = 1\n'


@pytest.mark.parametrize("text,line,message", [
    (GOOD + 'assumes = ["lru"]\n', 6, "assumes: unknown choice 'lru' (known: eviction-policy"),
    (GOOD + 'assumes = "eviction-policy"\n', 6, "assumes: must be a list"),
    (GOOD + CP + 'expect = [{ check = "pages", at = "0x1000", state = "present", '
     'premise = "lru" }]\n', 8, "premise: unknown choice 'lru'"),
    (GOOD + CP + 'expect = [{ check = "pages", at = "0x1000", state = "present", '
     'premise = 3 }]\n', 8, "premise: must be a choice's name"),
    (GOOD + 'files = ["a"]\n[[scenario.after]]\ncheck = "file_cksum"\nfile = "a"\n'
     'cksum = 1\npremise = "eviction-policy"\n', 11, "after[0].premise: no checkpoint "
     "expectation of the scenario is a premise for this check to rely on"),
    (GOOD + 'output_needs_premise = true\n', 6, "output_needs_premise: no checkpoint "
     "expectation of the scenario is a premise"),
], ids=["unknown-choice", "not-a-list", "unknown-premise", "premise-not-a-string",
        "after-run-premise-alone", "output-needs-no-premise"])
def test_a_wrong_choice_is_one_line_with_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    assert str(info.value).startswith(f"{path}:{line}: scenario 'ok': "), str(info.value)
    assert message in str(info.value)


def test_choices_load_onto_the_scenario_and_its_expectations(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(GOOD + 'assumes = ["fork-mmap"]\n' + CP + 'expect = [{ check = "pages", '
                    'at = "0x1000", state = "present", premise = "eviction-policy" }]\n')
    sc, = load_file(path)
    assert sc.assumes == ("fork-mmap",)
    exp, = sc.checkpoints[0].expect
    assert exp.premise == "eviction-policy" and "premise" not in exp.params


def _judged_evict_dirty(adapter, fails=()):
    """evict-dirty judged as 2wheeh ran it: page 0 never evicted (its policy
    keeps dirty pages), so the program's read() finds no stamp and it fails
    before checkpoint 2."""
    sc = next(s for s in load_all(None, None) if s.name == "evict-dirty")
    session = CheckpointSession(None, sc, {}, {}, None)
    session.premises = Premises(adapter)
    premise = next(e for e in sc.checkpoints[0].expect if e.premise)
    recorded = session.premises.judge([(premise, [_fail()])]) + list(fails)
    session.hits[(sc.program, 1)] += 1
    console = ("(evict-dirty) begin\n(evict-dirty) FAIL: read() sees page 0's stamp before "
               "munmap (written back on eviction)\nevict-dirty: exit(1)\n")
    result = ScenarioResult(sc.name, sc.area, Verdict.PASS, 0.0, expected_exit_status=0)
    result.checkpoints = [CheckpointRecord(1, 1, 3, sc.program,
                                           violations=[v for v in recorded if v.outcome == FAIL],
                                           not_judged=[v for v in recorded
                                                       if v.outcome == NOT_JUDGED])]
    result.console = console
    judge(adapter, sc, BootOutcome(Ending.POWEROFF, 0, find_exits(console)), session, result)
    return result


def test_a_run_whose_premise_did_not_hold_is_not_judged_with_what_it_would_have_failed():
    r = _judged_evict_dirty(PINTOS)
    assert r.verdict is Verdict.NOT_JUDGED
    assert r.reason.startswith("not judged on the pintos-kaist kernel: the run did not set up "
                               "what the scenario tests: the premise (pages at 0x1000")
    assert any(n.startswith("not judged (the premise") and "exit status 1, expected 0" in n
               for n in r.notes)


def test_state_found_wrong_still_fails_a_run_whose_premise_did_not_hold():
    broken = Violation("present_pte_has_spt_frame", "present PTE but no SPT frame", 0x2000, 3,
                       "a resident SPT page", "none")
    r = _judged_evict_dirty(PINTOS, fails=[broken])
    assert r.verdict is Verdict.FAIL
    assert r.reason == f"1 oracle violation(s), first: {broken}"


def test_the_reference_kernel_fails_the_same_run():
    r = _judged_evict_dirty(REFERENCE)
    assert r.verdict is Verdict.FAIL
    assert r.reason.startswith("exit status 1, expected 0")


def test_a_program_that_does_not_rely_on_the_premise_is_judged_by_its_output():
    """evict-anon's program checks every stamp whichever pages were
    evicted: with page 0 kept resident (2wheeh), a right output passes
    (the expectations are notes) and a wrong one fails."""
    sc = next(s for s in load_all(None, None) if s.name == "evict-anon")
    assert not sc.output_needs_premise
    premise = next(e for e in sc.checkpoints[0].expect if e.premise)
    for console, verdict in (("\n".join(sc.output) + "\n", Verdict.PASS),
                             ("(evict-anon) begin\nevict-anon: exit(-1)\n", Verdict.FAIL)):
        session = CheckpointSession(None, sc, {}, {}, None)
        session.premises = Premises(PINTOS)
        voided = session.premises.judge([(premise, [_fail()])])
        for cp in sc.checkpoints:
            session.hits[(sc.program, cp.id)] += 1
        result = ScenarioResult(sc.name, sc.area, Verdict.PASS, 0.0, expected_exit_status=0)
        result.checkpoints = [CheckpointRecord(1, 1, 3, sc.program, not_judged=voided)]
        result.console = console
        judge(PINTOS, sc, BootOutcome(Ending.POWEROFF, 0, find_exits(console)), session, result)
        assert result.verdict is verdict, (result.verdict, result.reason)
