"""NOT_JUDGED (issue 12, "no false alarm"): a scenario that injects a
failure the kernel family gives a kernel no way to observe (Pintos-KAIST's
swap_in/swap_out are the void disk_read/disk_write) is neither PASS nor
FAIL on that kernel, decided before booting, and every consumer of
results treats it as "not wrong"."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.adapters.pintos_kaist.adapter import PintosKaistAdapter
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.cli import explore as explore_cli
from harness.errors import UsageError
from harness.grade.scheduler import summary_line
from harness.run import runner
from harness.run.injection import Injection, refuse_unobservable, unobservable
from harness.run.suite import load_all
from reports.autograder import autograder_results
from reports.html import render_report
from reports.junit import junit_tree
from reports.summary_table import summary_table
from results.codec import load_run, save_run
from results.grade import SubmissionResult, cell_of
from results.model import RunResult, ScenarioResult, Verdict

PINTOS = PintosKaistAdapter(Path("/nonexistent/pintos"))   # nothing runs at __init__
WERR = Injection("swap_out", "io_error")
RERR = Injection("swap_in", "io_error")


def test_pintos_declares_void_disk_transfers_unobservable_and_value_returns_observable():
    assert "disk_write returns nothing" in PINTOS.injection_unobservable("swap_out", "io_error")
    assert "disk_read returns nothing" in PINTOS.injection_unobservable("swap_in", "io_error")
    assert PINTOS.injection_unobservable("swap_out", "fail")
    assert PINTOS.injection_unobservable("yield", "fail")
    for point, kind in (("file_write", "io_error"), ("file_read", "io_error"),
                        ("frame_alloc", "fail"), ("page_alloc", "fail"),
                        ("evict_choose", "fail"), ("page_fault", "fail")):
        assert PINTOS.injection_unobservable(point, kind) is None, (point, kind)
    # a preemption is no forced failure: it happens whatever the function returns
    assert unobservable(PINTOS, [Injection("swap_out", "preempt")]) == []


def test_pintos_cannot_be_put_under_memory_pressure_at_a_point():
    """steal/release write the reference kernel's request block, which a
    Pintos-KAIST kernel does not have: NOT_JUDGED, at any point."""
    for point in ("frame_alloc", "yield", "page_fault"):
        for kind in ("steal", "release"):
            assert "no request block" in PINTOS.injection_unobservable(point, kind)
            assert ReferenceAdapter().injection_unobservable(point, kind) is None
    assert unobservable(PINTOS, [Injection("yield", "release", arg=6)]) == [
        "release at yield: " + PINTOS.injection_unobservable("yield", "release")]


def test_pintos_cannot_be_made_to_sleep_at_a_point_but_can_be_preempted():
    """A delay writes the reference kernel's request block too: a scenario
    with one is NOT_JUDGED on Pintos-KAIST before anything runs, instead of
    ending the whole run with an error at the first delay (it did)."""
    delay = Injection("swap_out", "delay", ticks=10)
    assert "no request block" in PINTOS.injection_unobservable("swap_out", "delay")
    assert unobservable(PINTOS, [delay]) == [
        "delay at swap_out: " + PINTOS.injection_unobservable("swap_out", "delay")]
    assert unobservable(ReferenceAdapter(), [delay]) == []
    assert unobservable(PINTOS, [Injection("swap_out", "preempt")]) == []


def test_the_suite_is_not_judged_on_pintos_only_where_a_swap_transfer_fails_or_frames_go():
    """Every scenario of scenarios/suite with an injection, on both kernels:
    only the swap I/O errors, the no-victim scenarios (frames taken out
    of the pool) and a frame failure aimed at one page (palloc_get_page is
    not told the page) are out of a Pintos kernel's reach, and the
    reference kernel observes every one of them."""
    scenarios = [sc for sc in load_all(None, None) if sc.inject]
    assert len(scenarios) >= 10
    not_judged = {sc.name for sc in scenarios if unobservable(PINTOS, sc.inject)}
    assert not_judged == {"evict-anon-werr", "evict-anon-rerr", "novictim-wait",
                          "novictim-giveup", "novictim-pinned", "novictim-transit",
                          "novictim-count", "novictim-evicting", "novictim-hand",
                          "one-frame-wait", "one-frame-werr", "stack-grow-allocfail"}
    assert [sc.name for sc in scenarios if unobservable(ReferenceAdapter(), sc.inject)] == []


def test_the_reference_kernel_observes_every_failure_but_its_observe_only_fault_hook():
    ref = ReferenceAdapter()
    for point in ("frame_alloc", "page_alloc", "swap_out", "swap_in", "file_read",
                  "file_write", "evict_choose", "yield"):
        assert ref.injection_unobservable(point, "fail") is None, point
    assert "only observes" in ref.injection_unobservable("page_fault", "fail")


def _scenario(inject=(WERR,), name="evict-anon-werr", exit_status=0):
    return SimpleNamespace(name=name, area="injection", exit_status=exit_status,
                           description="", inject=inject, assumes=(), timeout=60)


def test_the_runner_gives_not_judged_with_the_reason_without_booting(monkeypatch):
    def boots(*args, **kw):
        raise AssertionError("booted a scenario that cannot be judged")

    monkeypatch.setattr(runner, "_execute", boots)
    result = runner.run_scenario(PINTOS, _scenario(), runner.RunnerOptions())
    assert result.verdict is Verdict.NOT_JUDGED
    assert "not judged on the pintos-kaist kernel" in result.reason
    assert "io_error at swap_out" in result.reason and "disk_write" in result.reason
    assert result.schedule is None and result.schedule_file is None and result.duration_s == 0
    # an injection added on the command line counts too
    opts = runner.RunnerOptions(inject=(RERR,))
    again = runner.run_scenario(PINTOS, _scenario(inject=()), opts)
    assert again.verdict is Verdict.NOT_JUDGED and "swap_in" in again.reason


class _BuiltPintos(PintosKaistAdapter):
    programs_dir = None               # scenarios load without looking for programs

    def check_built(self) -> None:
        pass


def test_explore_and_run_inject_refuse_an_unobservable_injection(monkeypatch):
    with pytest.raises(UsageError, match="--inject: not judged on the pintos-kaist kernel.*"
                                         "disk_write"):
        refuse_unobservable(PINTOS, [WERR], "--inject")
    refuse_unobservable(ReferenceAdapter(), [WERR, RERR], "--inject")    # observable there
    monkeypatch.setattr("harness.adapters.get_adapter",
                        lambda spec: _BuiltPintos(Path("/nonexistent/pintos")))
    args = SimpleNamespace(scenario="evict-anon", point="swap_in", kind="io_error", mode="once",
                           kernel="pintos-kaist:/nonexistent/pintos", suite=None)
    with pytest.raises(UsageError, match="explore evict-anon --point swap_in --kind io_error: "
                                         "not judged.*disk_read"):
        explore_cli.handle(args)
    args.scenario, args.point, args.kind = "evict-anon-werr", "frame_alloc", "fail"
    with pytest.raises(UsageError, match="io_error at swap_out"):     # the scenario's own
        explore_cli.handle(args)


def _result(name, verdict, points=2.0, reason=""):
    return ScenarioResult(name, "injection", verdict, 0.5, reason=reason, points=points,
                          kernel="pintos-kaist")


def _run(strict=False):
    nj = _result("evict-anon-werr", Verdict.NOT_JUDGED,
                 reason="not judged on the pintos-kaist kernel: io_error at swap_out: void")
    nj.strict = strict
    return RunResult("pintos-kaist", "2026-12-03T05:00:00", 1.0, 1,
                     scenarios=[_result("lazy-anon-allocfail", Verdict.PASS), nj])


def test_a_run_with_not_judged_scenarios_passes_with_strict_too():
    assert _run().passed and _run(strict=True).passed
    failing = _run()
    failing.scenarios.append(_result("mmap-write-werr", Verdict.FAIL))
    assert not failing.passed
    text = summary_table(_run())
    assert "1/1 judged passed (1 NOT_JUDGED, 1 PASS)" in text
    assert "1 scenario(s) NOT_JUDGED" in text


def test_junit_shows_not_judged_as_skipped_with_the_reason():
    root = junit_tree(_run()).getroot()
    assert (root.get("tests"), root.get("skipped"), root.get("failures")) == ("2", "1", "0")
    case = next(c for c in root.iter("testcase") if c.get("name") == "evict-anon-werr")
    [skipped] = case.findall("skipped")
    assert "not judged on the pintos-kaist kernel" in skipped.get("message")
    assert case.find("failure") is None


def test_html_shows_its_own_count_colour_and_leaves_its_points_out(tmp_path):
    index = render_report(_run(), tmp_path).read_text()
    assert 'id="not-judged"' in index and "1 NOT_JUDGED" in index
    assert 'class="row-not-judged"' in index
    assert 'class="banner pass"' in index            # not a failure
    assert "2<span>/ 2</span>" in index              # the not-judged 2 points are not at stake
    page = next((tmp_path / "scenarios").glob("evict-anon-werr*.html")).read_text()
    assert 'class="banner not-judged"' in page and "(not at stake)" in page
    css = (tmp_path / "static" / "report.css").read_text()
    assert ".v-NOT_JUDGED" in css and ".banner.not-judged" in css


def test_grade_and_autograder_leave_not_judged_out_of_the_score():
    run = _run()
    sub = SubmissionResult("team8", {}, "pintos-kaist", True, 1.0, "now",
                           cells=[cell_of(sc) for sc in run.scenarios])
    assert (sub.earned, sub.max_points) == (2.0, 2.0)
    assert sub.signature() == ()                     # nothing failed
    assert "1/1 passed (1 not judged), 2/2 points" in summary_line(sub)
    grader = autograder_results(run)
    assert grader["score"] == 2.0 and grader["extra_data"]["max_score"] == 2.0
    test = next(t for t in grader["tests"] if t["name"] == "evict-anon-werr")
    assert (test["max_score"], test["status"]) == (0.0, "passed")
    assert test["output"].startswith("NOT_JUDGED") and "swap_out" in test["output"]


def test_results_json_round_trips_not_judged_and_an_older_file_still_loads(tmp_path):
    path = tmp_path / "results.json"
    save_run(_run(), path)
    assert load_run(path).scenarios[1].verdict is Verdict.NOT_JUDGED
    data = json.loads(path.read_text())            # as written before NOT_JUDGED existed
    data["scenarios"] = [s for s in data["scenarios"] if s["verdict"] != "NOT_JUDGED"]
    path.write_text(json.dumps(data))
    assert [sc.verdict for sc in load_run(path).scenarios] == [Verdict.PASS]


def test_verdict_properties():
    assert not Verdict.NOT_JUDGED.passed and not Verdict.NOT_JUDGED.failed
    assert not Verdict.NOT_JUDGED.judged and not Verdict.NOT_RUN.judged
    assert Verdict.FAIL.failed and Verdict.HARNESS_ERROR.failed and not Verdict.PASS.failed


def test_an_injection_aimed_at_one_page_matches_where_the_pintos_function_is_told_the_page():
    """page_alloc's arg is vm_alloc_page_with_initializer's upage (rsi, its
    second argument): mmap-recfail's failure for 0x10002000 fired on no
    Pintos tree while the harness matched rdi (the vm_type), and the
    program's 'mmap worked although a page record could not be had' failed
    every tree. palloc_get_page is given only flags: not judged."""
    assert PINTOS.injection_unaimed("page_alloc") is None
    assert "allocation's flags" in PINTOS.injection_unaimed("frame_alloc")
    aimed = Injection("frame_alloc", "fail", arg=0x4747E000)
    assert unobservable(PINTOS, [aimed]) == [
        "fail at frame_alloc for 0x4747e000: " + PINTOS.injection_unaimed("frame_alloc")]
    assert unobservable(PINTOS, [Injection("page_alloc", "fail", arg=0x10002000)]) == []
    assert unobservable(ReferenceAdapter(), [aimed]) == []
    assert ReferenceAdapter().injection_unaimed("frame_alloc") is None


def _judge_unfired(fails=(), records=()):
    """mmap-recfail judged as every Pintos tree ran it before the page_alloc
    arg was read from rsi: the failure never fired, mmap worked, and the
    program said so."""
    from harness.adapters.base import BootOutcome, Ending, find_exits
    from harness.run.checkpoints import CheckpointSession
    from harness.run.verdict import judge
    from results.model import CheckpointRecord
    sc = next(s for s in load_all(None, None) if s.name == "mmap-recfail")
    session = CheckpointSession(None, sc, {}, {}, None)
    session.injector = SimpleNamespace(records=list(records), injections=list(sc.inject),
                                       hits={0: 0}, calls={"page_alloc": 5})
    console = ("(mm-fail) begin\n(mm-fail) FAIL: mmap of 4 pages worked although a page "
               "record could not be had\nmm-fail: exit(1)\n")
    result = ScenarioResult(sc.name, sc.area, Verdict.PASS, 0.0, expected_exit_status=0)
    result.checkpoints = [CheckpointRecord(1, 1, 3, sc.program, violations=list(fails))]
    result.console = console
    judge(PINTOS, sc, BootOutcome(Ending.POWEROFF, 0, find_exits(console)), session, result)
    return result


def test_a_fixed_failure_that_never_fired_leaves_the_run_not_judged():
    from oracles.model.machine_state import Violation
    r = _judge_unfired()
    assert r.verdict is Verdict.NOT_JUDGED
    assert r.reason == ("not judged on the pintos-kaist kernel: the run did not set up what the "
                        "scenario tests: the failure it injects never happened (fail at "
                        "page_alloc, call 1 for 0x10002000: 0 matching call(s) of 5 there)")
    assert any("mmap of 4 pages worked" in n for n in r.notes)
    # an expectation that presumes the failure is a note; an invariant still fails the run
    page = Violation("unmapped", "SPT entry still there", 0x10000000, 3, "no SPT entry", "uninit")
    broken = Violation("present_pte_has_spt_frame", "present PTE but no SPT frame", 0x400000, 3,
                       "a resident SPT page", "none")
    r = _judge_unfired(fails=[page, broken])
    assert r.verdict is Verdict.FAIL and r.reason == f"1 oracle violation(s), first: {broken}"
    assert [v.oracle for v in r.checkpoints[0].not_judged] == ["unmapped"]


def test_a_fixed_failure_that_fired_is_judged_as_always():
    from results.model import InjectionRecord
    fired = InjectionRecord(point="page_alloc", hit=3, kind="fail", thread="mm-fail", icount=1)
    r = _judge_unfired(records=[fired])
    assert r.verdict is Verdict.FAIL and "mmap of 4 pages worked" in r.reason


def test_an_adapter_whose_site_has_no_argument_refuses_an_aimed_injection_by_default():
    """KernelAdapter.injection_unaimed follows the site's arg_register, so
    the injector is never asked to read a register the site does not have."""
    from harness.adapters.base import InjectionSite

    class NoArgument(ReferenceAdapter):
        def injection_site(self, point):
            return InjectionSite(self.injection_symbol(point), arg_register=None)

    kernel = NoArgument()
    assert kernel.injection_unaimed("frame_alloc") == (
        "the reference kernel's vmcheck_hook_frame_alloc is given nothing an injection's arg "
        "could match")
    assert unobservable(kernel, [Injection("frame_alloc", "fail", arg=0x1000)]) == [
        "fail at frame_alloc for 0x1000: " + kernel.injection_unaimed("frame_alloc")]
    assert unobservable(kernel, [Injection("frame_alloc", "fail")]) == []
