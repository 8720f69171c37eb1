"""A run that hangs after its program already exited with a wrong status
is a FAIL naming that exit first (harness/run/verdict.py
wrong_exit_before_hang, harness/run/runner.py _ended_by): generated mutant
page-150 made fork-busy's parent fault at rip 0 and exit(-1) at once, then
the pressure process spun in the disk driver for 300 s, and the verdict
said only "no progress"."""

from __future__ import annotations

from types import SimpleNamespace

from harness.run.hang_watch import DEADLOCK, NO_PROGRESS, GuestHang
from harness.run.injection import Injection
from harness.run.runner import RunnerOptions, _ended_by
from harness.run.scenario import Outcome
from harness.run.verdict import wrong_exit_before_hang
from results.model import ScenarioResult, Verdict

FORK_BUSY = SimpleNamespace(
    name="fork-busy", program="fork-busy", inject=(),
    outcomes=(Outcome(0, ("(fork-busy) begin", "(fork-busy) end", "fork-busy: exit(0)"),
                      ("fb-child: exit(0)", "fb-press: exit(0)")),))
WRONG = ("(fork-busy) begin\n(fork-busy) fork the pressure process\n"
         "vmcheck: user fault in fork-busy: #PF page fault rip=0x0 cr2=0x0 err=0x14\n"
         "fork-busy: exit(-1)\n")


def hung(sc, console: str, kind: str = NO_PROGRESS, inject=()) -> ScenarioResult:
    result = ScenarioResult(sc.name, "fork", Verdict.PASS, 0.0)
    result.console = console
    reason = ("deadlock: tid 4 waits for a lock held by tid 4" if kind == DEADLOCK else
              "no progress for 300 s of wall time")
    _ended_by(GuestHang(kind, reason, guest_s=1.5, wall_s=300.0), result, None, sc,
              RunnerOptions(inject=tuple(inject)))
    return result


def test_a_hang_after_a_wrong_exit_is_a_fail_naming_the_exit_first():
    result = hung(FORK_BUSY, WRONG)
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith(
        "fork-busy ended with exit(-1) before the kernel stopped making progress, where a "
        "correct kernel's fork-busy ends with exit(0); then: no progress for 300 s")
    assert result.exit_status == -1
    assert result.hang is not None and result.hang.kind == NO_PROGRESS   # still shown


def test_a_hang_with_no_exit_yet_or_the_right_one_stays_a_hang():
    assert hung(FORK_BUSY, "(fork-busy) begin\n").verdict is Verdict.HANG
    right = "(fork-busy) begin\nfb-child: exit(-1)\nfork-busy: exit(0)\n"
    assert hung(FORK_BUSY, right).verdict is Verdict.HANG
    assert hung(FORK_BUSY, right, kind=DEADLOCK).verdict is Verdict.HANG


def test_a_deadlock_after_a_wrong_exit_is_a_fail_too():
    result = hung(FORK_BUSY, WRONG, kind=DEADLOCK)
    assert result.verdict is Verdict.FAIL and "; then: deadlock: tid 4" in result.reason


def test_an_injected_failure_may_end_the_process_so_the_hang_stays():
    for kind in ("fail", "io_error"):
        inj = Injection("swap_out", kind)
        assert hung(FORK_BUSY, WRONG, inject=[inj]).verdict is Verdict.HANG
    assert wrong_exit_before_hang(FORK_BUSY, WRONG, [Injection("swap_out", "preempt")])


def test_exits_of_the_program_s_name_that_an_outcome_lists_are_not_wrong():
    """A forked child keeps its parent's name: its listed exit(-1) is no
    evidence; nor is any exit when the scenario lists none of the
    program's exit lines."""
    child_dies = SimpleNamespace(
        name="fork-kill", program="fork-kill", inject=(),
        outcomes=(Outcome(0, ("fork-kill: exit(0)",), ("fork-kill: exit(-1)",)),))
    assert wrong_exit_before_hang(child_dies, "fork-kill: exit(-1)\n", ()) is None
    assert wrong_exit_before_hang(child_dies, "fork-kill: exit(3)\n", ())[1] == 3
    unlisted = SimpleNamespace(name="nv", program="nv", inject=(),
                               outcomes=(Outcome(7, ("(nv) begin",)),))
    assert wrong_exit_before_hang(unlisted, "nv: exit(-1)\n", ()) is None


def test_every_accepted_status_is_named():
    two = SimpleNamespace(name="t", program="t", inject=(),
                          outcomes=(Outcome(0, ("t: exit(0)",)), Outcome(-1, ("t: exit(-1)",))))
    problem, status = wrong_exit_before_hang(two, "t: exit(2)\n", ())
    assert status == 2 and problem.endswith("ends with exit(-1) or exit(0)")


def test_a_hang_after_a_printed_panic_is_that_panic():
    """PintosKaist-team04 @879ad56, exit-busy: the kernel printed its panic,
    a page fault in debug_backtrace then ended the panicking thread instead
    of the shutdown, and every other thread blocked: the verdict was HANG
    "deadlock", with the panic only in the console."""
    from harness.adapters.reference.adapter import ReferenceAdapter
    console = ("(exit-busy) begin\n(exit-busy) fork the victim\nKernel PANIC at "
               "../../lib/kernel/bitmap.c:183 in bitmap_test(): assertion `idx < "
               "b->bit_cnt' failed.\nCall stack: 0x80042188fd 0x800421a664\n"
               "eb-victim: exit(-1)\neb-press: exit(-1)\n")
    result = ScenarioResult("exit-busy", "swap", Verdict.PASS, 0.0)
    result.console = console
    _ended_by(GuestHang(DEADLOCK, "deadlock: tid 1 main waits for `wait_sema`", guest_s=1.0,
                        wall_s=0.8), result, ReferenceAdapter(), FORK_BUSY, RunnerOptions())
    assert result.verdict is Verdict.KERNEL_PANIC
    assert result.reason.startswith("Kernel PANIC at ../../lib/kernel/bitmap.c:183 in "
                                    "bitmap_test(): assertion `idx < b->bit_cnt' failed.")
    assert result.reason.endswith("; the kernel went on instead of stopping, then: deadlock: "
                                  "tid 1 main waits for `wait_sema`")
    assert result.hang is not None and result.hang.kind == DEADLOCK   # still shown


DL_EVICT = SimpleNamespace(
    name="dl-evict", program="dl-evict", inject=(), output_mode="exact",
    outcomes=(Outcome(0, ("(dl-evict) begin", "dl-evict-child: exit(0)", "(dl-evict) end",
                          "dl-evict: exit(0)")),))


def test_a_child_s_wrong_exit_decides_an_exact_scenario_and_keeps_the_program_s_status():
    """santaiscoming @939145d: dl-evict's child died of an unimplemented
    system call and the parent polled on: HANG "no progress" after 60 s,
    the child's exit only in the console."""
    result = hung(DL_EVICT, "(dl-evict) begin\ndl-evict-child: exit(-1)\n")
    assert result.verdict is Verdict.FAIL and result.exit_status is None
    assert result.reason.startswith(
        "dl-evict-child ended with exit(-1) before the kernel stopped making progress, where a "
        "correct kernel's dl-evict-child ends with exit(0); then: no progress")


def test_a_child_s_exit_decides_only_once_every_outcome_has_seen_too_many_of_it():
    twice = SimpleNamespace(name="p", program="p", inject=(), output_mode="main-ordered",
                            outcomes=(Outcome(0, ("p: exit(0)",), ("c: exit(0)", "c: exit(0)")),
                                      Outcome(0, ("p: exit(0)",), ("c: exit(0)", "c: exit(-1)"))))
    assert wrong_exit_before_hang(twice, "c: exit(0)\nc: exit(-1)\n", ()) is None
    assert wrong_exit_before_hang(twice, "c: exit(0)\nc: exit(0)\n", ()) is None
    problem, status = wrong_exit_before_hang(twice, "c: exit(-1)\nc: exit(-1)\n", ())
    assert status is None and "where a correct kernel's c ends with exit(-1) or exit(0)" in problem
    stranger = wrong_exit_before_hang(twice, "d: exit(0)\n", ())[0]
    assert stranger.endswith("where no correct ending prints 'd: exit(0)'")


def test_under_the_lines_mode_a_child_s_other_exit_decides_nothing():
    """Lines mode lets other lines come between the listed ones: a child
    that dies may be followed by another of its name that exits right."""
    lines = SimpleNamespace(**{**vars(DL_EVICT), "output_mode": "lines"})
    assert wrong_exit_before_hang(lines, "dl-evict-child: exit(-1)\n", ()) is None
    assert hung(lines, "dl-evict-child: exit(-1)\n").verdict is Verdict.HANG


def test_the_session_s_watch_reads_the_console_for_a_decided_verdict():
    """harness/run/session_watch.py gives the hang watch `decided`: the
    console read again only when it grew, the run's injections heeded."""
    from harness.run.session_watch import _decided

    class Console:
        def __init__(self):
            self.text_value, self.reads = "(dl-evict) begin\n", 0

        @property
        def length(self):
            return len(self.text_value)

        def text(self):
            self.reads += 1
            return self.text_value

    console = Console()
    machine = SimpleNamespace(console=console)
    met = SimpleNamespace(unmet=None)
    decided = _decided(SimpleNamespace(scenario=DL_EVICT, injector=None, premises=met), machine)
    assert not decided() and not decided() and console.reads == 1
    console.text_value += "dl-evict-child: exit(-1)\n"
    assert decided() and console.reads == 2
    failing = SimpleNamespace(injections=[Injection("swap_out", "fail")])
    assert not _decided(SimpleNamespace(scenario=DL_EVICT, injector=failing, premises=met),
                        machine)()


def test_a_harness_error_keeps_where_the_harness_gave_up():
    """team8 @6fddedd's badptr-open-null ended once, in a whole-suite run,
    as HARNESS_ERROR "cannot read register rip: stub replied b'W00'" with
    nothing to say which of the harness's reads it was."""
    from harness.errors import HarnessError

    def read_register():
        raise HarnessError("cannot read register rip: stub replied b'W00'")

    result = ScenarioResult("badptr-open-null", "robustness", Verdict.PASS, 0.0)
    try:
        read_register()
    except HarnessError as e:
        _ended_by(e, result, None, FORK_BUSY, RunnerOptions())
    assert result.verdict is Verdict.HARNESS_ERROR
    assert result.reason == "cannot read register rip: stub replied b'W00'"
    at = result.notes.index("harness traceback:")
    assert any("in read_register" in line for line in result.notes[at:])


def test_an_output_that_relies_on_an_unmet_premise_is_not_decided_by_an_exit():
    """judge voids the output problems of a scenario whose program relies
    on a premise that did not hold (NOT_JUDGED): a wrong exit there decides
    nothing, neither live nor after a hang."""
    relying = SimpleNamespace(**{**vars(DL_EVICT), "output_needs_premise": True})
    console = "(dl-evict) begin\ndl-evict-child: exit(-1)\n"
    assert wrong_exit_before_hang(relying, console, (), "the premise (...) did not hold") is None
    assert wrong_exit_before_hang(relying, console, ()) is not None
    hang = GuestHang(NO_PROGRESS, "no progress for 2 s", guest_s=1.0, wall_s=3.0)
    hang.premise_unmet = "the premise (...) did not hold"
    result = ScenarioResult(relying.name, "swap", Verdict.PASS, 0.0)
    result.console = console
    _ended_by(hang, result, None, relying, RunnerOptions())
    assert result.verdict is Verdict.HANG
