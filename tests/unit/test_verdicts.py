"""The verdict rule with UNKNOWN checks, --strict, and how unknowns show
in every output (CLI table, HTML, JUnit, autograder, results.json); the
ending an also_accept entry declares, judged by its checkpoint counts."""

from __future__ import annotations

import json

import pytest

from results.codec import load_run, run_to_json
from harness.adapters.base import BootOutcome, Ending, find_exits
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.checkpoints import CheckpointSession
from harness.cli.main import parse_args
from results.model import CheckpointRecord, ScenarioResult, Verdict
from harness.run.verdict import judge
from harness.run.suite import load_all
from reports.summary_table import summary_table
from oracles.model.machine_state import Violation, unknown
from harness.cli.report import publish
from reports.autograder import autograder_results
from reports.junit import junit_tree
from tests.unit import report_fixtures as fx

UNKNOWN_SWAP = unknown("swap_used", "the kernel does not report swap usage")
WRONG_PAGE = Violation("page", "SPT writable of page buf", 0x405000, 3, "False", "True")


def suite():
    return {sc.name: sc for sc in load_all(None, None)}


def judged(sc, console: str, strict=False, unknowns=(), fails=(), hits=()):
    """Runs the runner's verdict on SC as if the kernel printed CONSOLE and
    checkpoint 1 recorded UNKNOWNS and FAILS, hit once per entry of HITS."""
    result = ScenarioResult(sc.name, sc.area, Verdict.PASS, 0.0,
                            expected_exit_status=sc.exit_status, strict=strict)
    session = CheckpointSession(None, sc, {}, {}, None)
    for program in hits:
        session.hits[(program, 1)] += 1
    result.checkpoints = [CheckpointRecord(1, 1, 3, sc.program, violations=list(fails),
                                           unknowns=list(unknowns))]
    result.console = console
    outcome = BootOutcome(Ending.POWEROFF, 0, find_exits(console))
    judge(ReferenceAdapter(), sc, outcome, session, result)
    return result


def _console(sc, ending):
    return "\n".join(ending.output) + "\n"


def test_only_unknown_checks_pass_with_a_note_naming_them():
    sc = suite()["mmap-bad-fd"]
    r = judged(sc, _console(sc, sc.outcomes[0]), unknowns=[UNKNOWN_SWAP], hits=[sc.program])
    assert r.verdict is Verdict.PASS and r.reason == ""
    assert any("swap_used" in n and "could not inspect" in n for n in r.notes)


def test_strict_makes_an_unknown_fail_and_says_so():
    sc = suite()["mmap-bad-fd"]
    r = judged(sc, _console(sc, sc.outcomes[0]), strict=True, unknowns=[UNKNOWN_SWAP],
               hits=[sc.program])
    assert r.verdict is Verdict.FAIL
    assert "unknown under --strict" in r.reason and "swap_used" in r.reason


def test_a_wrong_value_still_fails_next_to_an_unknown():
    sc = suite()["mmap-bad-fd"]
    r = judged(sc, _console(sc, sc.outcomes[0]), unknowns=[UNKNOWN_SWAP], fails=[WRONG_PAGE],
               hits=[sc.program])
    assert r.verdict is Verdict.FAIL and "SPT writable" in r.reason
    assert "[expected: False; actual: True]" in r.reason   # what a correct kernel would have
    assert "--strict" not in r.reason


@pytest.mark.parametrize("name", ["mmap-bad-fd", "mmap-bad-fd2", "mmap-bad-fd3", "mmap-zero-len"])
def test_the_killed_ending_passes_without_reaching_the_checkpoint_after_the_call(name):
    sc = suite()[name]
    killed = sc.outcomes[1]
    assert killed.exit_status == -1 and dict(killed.checkpoints) == {1: 0}
    r = judged(sc, _console(sc, killed))
    assert r.verdict is Verdict.PASS, r.reason
    assert r.expected_exit_status == -1      # the report shows the ending that passed
    r = judged(sc, _console(sc, killed), hits=[sc.program])   # killed after it? not this ending
    assert r.verdict is Verdict.FAIL and "reached 1 times, expected 0" in r.reason
    r = judged(sc, _console(sc, sc.outcomes[0]))             # the call failed: checkpoint due
    assert r.verdict is Verdict.FAIL and "reached 0 times, expected 1" in r.reason


# ---- outputs -----------------------------------------------------------------

def _run_with_unknowns(strict=False):
    run = fx.build_run()
    sc = next(s for s in run.scenarios if s.verdict.passed)
    sc.checkpoints[0].unknowns = [UNKNOWN_SWAP, UNKNOWN_SWAP]
    sc.after_unknowns = [unknown("file_bytes", "no file system reader")]
    sc.strict = strict
    return run, sc


def test_summary_table_counts_unknowns_apart():
    run, sc = _run_with_unknowns()
    text = summary_table(run)
    row = next(line for line in text.splitlines() if line.startswith(sc.name + " "))
    assert row.split()[-1] == "3"
    assert "3 unknown check(s) (could not inspect) in 1 scenario(s)" in text
    assert "--strict fails them" in text


def test_junit_shows_each_unknown_as_a_skipped_testcase_and_the_scenario_passed(tmp_path):
    run, sc = _run_with_unknowns()
    root = junit_tree(run).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert all(cases[sc.name].find(kind) is None for kind in ("skipped", "failure", "error"))
    skipped = cases[f"{sc.name} · unknown: swap_used"].find("skipped")
    assert "could not inspect: the kernel does not report swap usage" in skipped.get("message")
    assert "checkpoint 1" in skipped.get("message")
    assert f"{sc.name} · unknown: file_bytes" in cases
    base = int(junit_tree(fx.build_run()).getroot().get("skipped"))
    assert int(root.get("skipped")) == base + 2


def test_junit_with_unknowns_validates_against_the_schema(tmp_path):
    etree = pytest.importorskip("lxml.etree", reason="python3-lxml not installed (make deps)")
    from tests.unit.test_report_files import XSD
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    run, _ = _run_with_unknowns()
    path = tmp_path / "junit.xml"
    junit_tree(run).write(path, encoding="utf-8", xml_declaration=True)
    assert schema.validate(etree.parse(str(path))), schema.error_log


def test_autograder_keeps_the_points_and_lists_the_unknowns():
    run, sc = _run_with_unknowns()
    out = autograder_results(run)
    test = next(t for t in out["tests"] if t["name"] == sc.name)
    assert test["status"] == "passed" and test["score"] == sc.points
    assert "could not inspect: the kernel does not report swap usage" in test["output"]
    assert out["extra_data"]["unknown_checks"] == 3


def test_html_report_shows_unknowns_in_their_own_colour_and_counts(tmp_path):
    run, sc = _run_with_unknowns()
    index = publish(run, tmp_path)
    summary = index.read_text()
    assert 'id="unknown-total"' in summary and "3 unknown checks" in summary
    assert 'class="badge v-UNKNOWN"' in summary and "unknown-cell" in summary
    page = next((tmp_path / "scenarios").glob(f"{sc.name}*.html")).read_text()
    assert 'id="unknowns"' in page and 'class="unknown"' in page
    assert "could not inspect: the kernel does not report swap usage" in page
    assert "v-UNKNOWN" in page and ".v-UNKNOWN" in (tmp_path / "static/report.css").read_text()
    loaded = load_run(tmp_path / "results.json")   # and the JSON keeps them
    again = next(s for s in loaded.scenarios if s.name == sc.name)
    assert len(again.unknowns) == 3 and again.verdict is Verdict.PASS


def test_results_written_before_unknowns_existed_still_load(tmp_path):
    run, _ = _run_with_unknowns()
    data = run_to_json(run)
    for s in data["scenarios"]:
        s.pop("after_unknowns"), s.pop("strict")
        for c in s["checkpoints"]:
            c.pop("unknowns"), c.pop("not_judged")
    (tmp_path / "old.json").write_text(json.dumps(data, default=str))
    assert load_run(tmp_path / "old.json").scenarios[0].unknowns == []


@pytest.mark.parametrize("command", [["run"], ["explore", "x", "--point", "yield"],
                                     ["replay", "f.json"], ["mutants"]])
def test_strict_is_an_option_of_every_command_that_judges(command):
    assert parse_args(command + ["--strict"]).strict is True
    assert parse_args(command).strict is False


def test_a_forbidden_output_names_the_line_that_holds_it():
    """`output_absent`: the reason quotes the program's FAIL line, which
    says what a correct kernel would have done."""
    sc = suite()["stk-slack"]
    line = ("(stk-slack) FAIL: a store 9 bytes below rsp grew the stack (exit 0): a correct "
            "kernel ends the process with exit(-1)")
    r = judged(sc, f"(stk-slack) begin\n{line}\nstk-slack: exit(1)\n", hits=[sc.program])
    assert r.verdict is Verdict.FAIL
    assert f"output contains 'FAIL': {line!r}" in r.reason


def test_a_failed_fork_child_s_exit_line_is_no_problem_but_a_child_that_ran_is():
    sc = suite()["fork-recfail"]
    ok = "\n".join(sc.outcomes[0].output)
    # a kernel that prints an exit line for the half-built child (from process_exit)
    quiet = judged(sc, ok.replace("(cow-simple) parent:", "cow-child: exit(-1)\n"
                                  "(cow-simple) parent:", 1) + "\n")
    assert "output contains" not in quiet.reason
    ran = judged(sc, ok.replace("(cow-simple) parent:", "(cow-simple) child: data page "
                                "holds its initial bytes\n(cow-simple) parent:", 1) + "\n")
    assert ran.verdict is Verdict.FAIL
    assert ("output contains '(cow-simple) child:', which a correct kernel never prints "
            "here: '(cow-simple) child: data page holds its initial bytes'") in ran.reason


def test_an_unreachable_point_reached_fails_and_names_it():
    """`kind = "unreachable"`: the injection does nothing to the kernel; its
    record is the finding (novictim-hand: the no-victim wait entered while
    a victim existed)."""
    from types import SimpleNamespace
    from results.model import InjectionRecord
    sc = suite()["novictim-hand"]
    console = "\n".join(sc.output) + "\n"
    result = ScenarioResult(sc.name, sc.area, Verdict.PASS, 0.0, expected_exit_status=7)
    result.console = console
    session = CheckpointSession(None, sc, {}, {}, None)
    session.injector = SimpleNamespace(records=[
        InjectionRecord("frame_alloc", 16, "steal", "child-exit")])
    judge(ReferenceAdapter(), sc, BootOutcome(Ending.POWEROFF, 0, find_exits(console)),
          session, result)
    assert result.verdict is Verdict.PASS, result.reason
    session.injector.records.append(InjectionRecord("yield", 32, "unreachable", "child-exit"))
    result.verdict, result.reason = Verdict.PASS, ""
    judge(ReferenceAdapter(), sc, BootOutcome(Ending.POWEROFF, 0, find_exits(console)),
          session, result)
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("reached yield 6 (call 32, thread child-exit), which a "
                                    "correct kernel never reaches here: the clock's first")
