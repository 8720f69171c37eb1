"""The verdict of one scenario run: from how the machine ended (its
outcome), the program's exit status and output against the scenario's
accepted endings, the checkpoint session's findings and the UNKNOWN
checks (harness/run/runner.py calls judge once the run is over).
"""

from __future__ import annotations

from collections import Counter

from harness.adapters.base import EXIT_LINE, Ending, find_exits, find_panic
from harness.run.choices import as_not_judged
from harness.run.fault_explain import EXCEPTION_NAMES
from harness.run.injection import FAILURE_KINDS
from harness.run.output_match import missing_in_order, output_problem
from oracles.invariants import INVARIANTS
from oracles.model.machine_state import UNKNOWN, Violation
from results.model import ScenarioResult, Verdict


def _outcome_problems(sc, result: ScenarioResult) -> tuple:
    """(problems, ending): no problems and the accepted outcome that the
    exit status and output match; else the problems against the primary
    (first) outcome, and None."""
    first, first_mismatch = None, ""
    for want in sc.outcomes:
        problems = []
        if result.exit_status is None:
            problems.append(f"{sc.program} printed no exit line")
        elif result.exit_status != want.exit_status:
            problems.append(f"exit status {result.exit_status}, expected {want.exit_status}")
        mismatch = output_problem(result.console, sc.output_mode, want.output,
                                  want.other_lines, sc.program)
        if mismatch:
            problems.append(mismatch)
        if not problems:
            return [], want
        if first is None:
            first, first_mismatch = problems, mismatch or ""
    if sc.output_mode == "lines":
        result.missing_output = missing_in_order(result.console, sc.output)
    else:
        result.output_mismatch = first_mismatch
    return first, None


def _fault_tolerant(sc, session) -> bool:
    """True if an injected failure (fail/io_error) fired: then the program's
    own output and status may differ. Preemption and delay never change
    what a correct kernel computes, so they are judged strictly."""
    injector = session.injector
    return injector is not None and any(r.kind in FAILURE_KINDS for r in injector.records)


def judge(adapter, sc, outcome, session, result: ScenarioResult) -> None:
    """Sets RESULT's verdict and a one-line reason from the run's OUTCOME
    (harness/run/boot.py) and the checkpoint SESSION's findings. Once a
    premise did not hold on a choice the kernel makes itself
    (harness/run/choices.py) in a scenario whose program relies on it
    (output_needs_premise), what the program did is not judged (notes):
    the state the oracles found wrong still fails the run, and a run with
    nothing else wrong is NOT_JUDGED, not PASS."""
    if outcome.ending is Ending.PANIC:
        result.verdict, result.reason = Verdict.KERNEL_PANIC, outcome.panic_line or "kernel panic"
        if result.panic_story:   # the story names every frame, with file:line
            result.reason = result.reason.split(" [call stack:")[0] + f" [{result.panic_story}]"
        return
    if outcome.ending is Ending.TRIPLE_FAULT:
        result.verdict, result.reason = Verdict.TRIPLE_FAULT, "the CPU reset (triple fault)"
        return
    result.exit_status = outcome.status_of(sc.program)
    problems = _program_problems(sc, result, session)
    unmet = session.premises.unmet if sc.output_needs_premise else None
    unfired = unfired_failure(sc, session)
    if unfired:   # what the program and the expectations say presumes the failure
        _void_expectations(result, unfired)
        unmet = unmet or unfired
    if problems and unmet:   # the program ran another experiment than the scenario's
        result.notes = list(result.notes) + [f"not judged ({unmet}): {p}" for p in problems]
        problems = []
    result.run_violations = list(session.wrong_code)
    problems = [str(v) for v in session.wrong_code] + problems   # the root cause first
    violations = result.violations[len(result.run_violations):]   # said above
    if violations:   # the first with what a correct kernel would have
        problems.append(f"{len(violations)} oracle violation(s), first: {violations[0]}")
    leak = adapter.leak_problem(outcome)
    if leak:
        problems.append(leak)
    problems += judge_unknowns(result)
    if problems:
        result.verdict, result.reason = Verdict.FAIL, "; ".join(problems)
    elif unmet:
        result.verdict = Verdict.NOT_JUDGED
        result.reason = (f"not judged on the {adapter.name} kernel: the run did not set up what "
                         f"the scenario tests: {unmet}")


def unfired_failure(sc, session) -> str | None:
    """Why SC's run did not test what it says, when SC fixes forced
    failures (fail, io_error) and none of them fired: the kernel made no
    call at the point that matched (too few calls, none for that page, or
    none at all: a kernel may do that work elsewhere). None if one fired or
    SC fixes none."""
    injector = session.injector
    fixed = [inj for inj in sc.inject if inj.kind in FAILURE_KINDS]
    if not fixed or injector is None or \
            any(r.kind in FAILURE_KINDS for r in injector.records):
        return None
    said = "; ".join(f"{inj.describe()}" + (f" for {inj.arg:#x}" if inj.arg is not None else "")
                     + f": {injector.hits[injector.injections.index(inj)]} matching call(s) "
                     f"of {injector.calls.get(inj.point, 0)} there" for inj in fixed)
    return f"the failure it injects never happened ({said})"


def _void_expectations(result: ScenarioResult, why: str) -> None:
    """RESULT's checkpoint expectations that failed become NOT_JUDGED notes
    saying WHY; the invariants' findings stay (a kernel must keep them
    whatever it was asked to do)."""
    for cp in result.checkpoints:
        voided = [v for v in cp.violations if v.oracle not in INVARIANTS]
        cp.violations = [v for v in cp.violations if v.oracle in INVARIANTS]
        cp.not_judged = list(cp.not_judged) + [as_not_judged(v, why) for v in voided]


def _program_problems(sc, result: ScenarioResult, session) -> list[str]:
    """What the program did against the scenario: its exit status and
    output against the accepted endings, the output that must be absent,
    the exception that must end it, points it must not reach and the
    checkpoints it must reach."""
    problems, ending = _outcome_problems(sc, result)
    if ending is not None:   # the report shows the status of the ending that passed
        result.expected_exit_status = ending.exit_status
    if problems and _fault_tolerant(sc, session):
        # An injected failure may end the process or fail its system call;
        # the kernel must still survive, keep its invariants, leak nothing.
        result.notes += problems
        problems = []
    problems += [_absent_problem(result.console, bad) for bad in sc.output_absent
                 if bad in result.console]
    problems += kill_problems(sc, result)
    problems += unreachable_problems(sc, session)
    unreached = session.unreached(dict(ending.checkpoints) if ending is not None else {})
    if unreached and _fault_tolerant(sc, session):
        result.notes = list(result.notes) + unreached   # the process was ended by the injection
    else:
        problems += unreached
        result.unreached = unreached
    return problems


def panic_before_hang(adapter, console: str) -> str | None:
    """The kernel's panic line (with its call stack) when a run that then
    hung had already printed one: the panic is the root cause, and the
    kernel went on instead of stopping (its shutdown blocked, or a fault
    in the panic path ended the panicking thread: PintosKaist-team04's
    exit-busy, where a page fault in debug_backtrace killed it and every
    other thread then blocked). None if CONSOLE has no panic."""
    line = find_panic(console)
    return adapter.with_call_stack(line, console) if line else None


def wrong_exit_before_hang(sc, console: str, injections, unmet: str | None = None) \
        -> tuple | None:
    """(problem, status) when a run that then hung (or ran out of time) had
    already printed an exit with a status no accepted outcome has: that
    exit is the root cause a student should see first, the hang came after
    it. STATUS is the program's exit status, None when the wrong exit is
    another process's. The program's exit counts only when the scenario
    lists its program's exit lines (else an exit line of that name may be
    a child's); another process's only under an output mode that lists
    every exit line (exact, main-ordered), and only once each accepted
    outcome has fewer such lines than the console. None too when
    INJECTIONS hold a failure a kernel may answer by ending the process
    (judge's _fault_tolerant, decided here before the run's records are
    known), or when the program's output relies on a premise that did not
    hold (UNMET, as judge voids its output problems then)."""
    if any(inj.kind in FAILURE_KINDS for inj in injections):
        return None
    if unmet and getattr(sc, "output_needs_premise", False):
        return None
    return _program_wrong_exit(sc, console) or _other_wrong_exit(sc, console)


def _program_wrong_exit(sc, console: str) -> tuple | None:
    prefix = f"{sc.program}: exit("
    listed = {line for want in sc.outcomes for line in (*want.output, *want.other_lines)
              if line.startswith(prefix)}
    if not listed:
        return None
    accepted = sorted({want.exit_status for want in sc.outcomes})
    wrong = [e for e in find_exits(console) if e.name == sc.program
             and e.status not in accepted and f"{prefix}{e.status})" not in listed]
    if not wrong:
        return None
    return _wrong_exit_problem(sc.program, wrong[0].status, accepted), wrong[0].status


def _wrong_exit_problem(name: str, status: int, statuses) -> str:
    """The problem of NAME's exit(STATUS) where a correct run's NAME ends
    with one of STATUSES (none: no correct run prints that line)."""
    expected = (f"where a correct kernel's {name} ends with "
                + " or ".join(f"exit({s})" for s in statuses)) if statuses else \
        f"where no correct ending prints '{name}: exit({status})'"
    return f"{name} ended with exit({status}) before the kernel stopped making progress, {expected}"


def _other_wrong_exit(sc, console: str) -> tuple | None:
    """The first exit of a process other than the program that every
    outcome of an exact or main-ordered scenario has already seen enough
    of (its line listed fewer times than printed so far)."""
    if getattr(sc, "output_mode", "lines") not in ("exact", "main-ordered"):
        return None
    allowed = [Counter(line for line in (*want.output, *want.other_lines)
                       if EXIT_LINE.match(line)) for want in sc.outcomes]
    seen: Counter = Counter()
    for e in find_exits(console):
        line = f"{e.name}: exit({e.status})"
        seen[line] += 1
        if e.name == sc.program or not all(seen[line] > a[line] for a in allowed):
            continue
        statuses = sorted({int(m.group(2)) for a in allowed for m in map(EXIT_LINE.match, a)
                           if m and m.group(1) == e.name})
        return _wrong_exit_problem(e.name, e.status, statuses), None
    return None


def kill_problems(sc, result: ScenarioResult) -> list[str]:
    """The scenario's `killed_by`: its program must be ended after a
    user-mode exception with that vector, as the fault capture saw it
    (harness/run/fault_capture.py: the reference kernel's fault hook, a
    Pintos-KAIST kernel's kill()). A problem when the program's user-mode
    fault had another vector; an UNKNOWN check (after the run) when the
    program ended with exit(-1) and no user-mode fault of it was caught."""
    vector = sc.killed_by
    if vector is None:
        return []
    name = EXCEPTION_NAMES.get(vector, "exception")
    want = f"{'an' if name[0] in 'aeiou' else 'a'} {name} (vector {vector})"
    mine = [f for f in result.faults if f.mode == "user" and f.process == sc.program]
    if any(f.vector == vector for f in mine):
        return []
    if mine:
        got = mine[-1]
        return [f"killed_by: {sc.program} was ended by a user-mode "
                f"{EXCEPTION_NAMES.get(got.vector, 'exception')} (vector {got.vector}) at "
                f"{got.rip:#x} ({got.instruction or 'instruction not decoded'}), expected {want}"]
    if result.exit_status == -1:
        result.after_unknowns.append(Violation(
            "killed_by", f"{sc.program} ended with exit(-1) but no user-mode fault of it was "
            f"caught, so the harness cannot tell whether {want} ended it", outcome=UNKNOWN))
    return []


def unreachable_problems(sc, session) -> list[str]:
    """A problem for each `unreachable` injection of SC that fired: the
    kernel reached a point a correct kernel never reaches in SC (its
    description says why)."""
    injector = session.injector
    if injector is None:
        return []
    args = {inj.point: inj.arg for inj in sc.inject if inj.kind == "unreachable"}
    out = []
    for r in injector.records:
        if r.kind == "unreachable":
            arg = args.get(r.point)
            where = f"{r.point} {arg}" if arg is not None else r.point
            out.append(f"reached {where} (call {r.hit}, thread {r.thread}), which a correct "
                       f"kernel never reaches here: {sc.description}")
    return out


def _absent_problem(console: str, bad: str) -> str:
    """The problem of BAD appearing in CONSOLE, with the first line that
    holds it (a program's "FAIL: ..." line says what a correct kernel
    would have done; for any other text, the reason says that a correct
    kernel prints none)."""
    line = next((line for line in console.splitlines() if bad in line), bad)
    if bad == "FAIL":
        return f"output contains {bad!r}: {line.strip()[:300]!r}"
    return (f"output contains {bad!r}, which a correct kernel never prints here: "
            f"{line.strip()[:300]!r}")


def judge_unknowns(result: ScenarioResult) -> list[str]:
    """The problems RESULT's UNKNOWN checks make: none (a note says which
    they are), or under --strict one problem saying they were unknown."""
    summary = result.unknown_note()
    if not summary:
        return []
    if result.strict:
        return [f"unknown under --strict: {summary}"]
    result.notes = list(result.notes) + [summary]
    return []
