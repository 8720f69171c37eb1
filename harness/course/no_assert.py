"""The no-assertion variant of a mutant killed only by a crash (issue 18,
point 5; docs/mutants.md, "Without the assertions").

A mutant killed only by a KERNEL_PANIC, TRIPLE_FAULT or unnamed HANG is
"crash only": usually the reference kernel's own ASSERT caught it, which
says nothing about the suite, since a student's kernel has other
assertions or none. So such a mutant is built once more with every ASSERT
compiled out (`make NO_ASSERT=1`, include/kernel/debug.h; PANIC and
NOT_REACHED stay, they mark states the kernel cannot go on from) and run
on the scenarios that killed it, then, unless one of them names the cause,
on the other scenarios that may reach the change (the rest of the suite
for a catalogued mutant, those that execute the mutated line for a
generated one). An unnamed hang costs a scenario's whole guest-time limit
(a livelock mutant hangs in every scenario: 640 to 1,140 s each in the
first full generated run), so the search stops after HANG_BUDGET unnamed
hangs and says how many scenarios it left. Its outcome:

  killed        a scenario names the cause: a FAIL, or a HANG found as a
                deadlock or fault storm
  crash only    only crashes again (a real kernel fault, a PANIC that
                stayed, an unnamed hang): recorded as work
  survived      every scenario passed: a gap in the suite, it counts as a
                survivor (exit status 1, survivors.diff)
  equivalent    (generated) without assertions the mutated object is the
                unmutated one's: the change only ever fed an assertion
  not compiled, not run (interrupted)
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

from harness.run.hang_watch import named_hang
from results.model import Verdict

MAKE_FLAGS = ("NO_ASSERT=1",)
KEPT_CRASHES = 3        # crashes seen on the way, kept for the report
HANG_BUDGET = 2         # unnamed hangs the variant may take before the search stops


def names_cause(verdict: str, reason: str) -> bool:
    """A kill that names its cause: a FAIL, or a HANG found as a deadlock
    (its reason is the wait cycle) or as a fault storm (the instruction)."""
    return verdict == Verdict.FAIL.value or (verdict == Verdict.HANG.value
                                             and named_hang(reason))


def needs_variant(kills, expect_crash: bool = False) -> bool:
    """KILLS ([(scenario, verdict, reason)]) are crash only: killed, none
    naming the cause, and a crash is not the mistake's own symptom."""
    return bool(kills) and not expect_crash and not any(names_cause(v, r) for _, v, r in kills)


def search_done(failures: list) -> bool:
    """The variant's search is over: one of FAILURES ([(scenario, verdict,
    reason)]) names the cause, or HANG_BUDGET of them are unnamed hangs."""
    return (any(names_cause(v, r) for _, v, r in failures)
            or _unnamed_hangs(failures) >= HANG_BUDGET)


def _unnamed_hangs(failures: list) -> int:
    return sum(1 for _, v, r in failures if v == Verdict.HANG.value and not names_cause(v, r))


@dataclasses.dataclass
class NoAssertResult:
    state: str                  # killed, crash only, survived, equivalent, not compiled, not run
    killed_by: tuple = ()       # (scenario, verdict, reason) that named the cause
    crashes: list = dataclasses.field(default_factory=list)   # [(scenario, verdict, reason)]
    runs: int = 0               # scenarios run on the variant
    seconds: float = 0.0
    note: str = ""

    @property
    def counts_as_survivor(self) -> bool:
        return self.state == "survived"

    def text(self) -> str:
        """One phrase for the table: what the suite did without the assertions."""
        if self.state == "killed":
            name, verdict, reason = self.killed_by
            return f"without the assertions: killed by {name} ({verdict}: {_short(reason)})"
        if self.state == "crash only":
            name, verdict, reason = self.crashes[0]
            return (f"without the assertions: crash only again, {name} "
                    f"({verdict}: {_short(reason)})" + (f"; {self.note}" if self.note else ""))
        if self.state == "survived":
            return f"survived without the assertions ({self.runs} scenarios passed)"
        return f"without the assertions: {self.state}" + (f" ({self.note})" if self.note else "")

    def to_dict(self) -> dict:
        return {"state": self.state, "text": self.text(), "killed_by": list(self.killed_by),
                "crashes": [list(c) for c in self.crashes], "runs": self.runs,
                "seconds": round(self.seconds, 2), "note": self.note}


def _short(reason: str, limit: int = 160) -> str:
    line = reason.strip().splitlines()[0] if reason.strip() else ""
    return line if len(line) <= limit else line[:limit - 3] + "..."


def judge(failures: list, runs: int, finished: bool, planned: int = 0) -> NoAssertResult:
    """The variant's outcome from the scenarios that did not pass on it
    (FAILURES, [(scenario, verdict, reason)] in run order) after RUNS of
    PLANNED scenarios; FINISHED is False when a stop signal cut the runs
    short."""
    named = next((f for f in failures if names_cause(f[1], f[2])), None)
    crashes = [f for f in failures if not names_cause(f[1], f[2])][:KEPT_CRASHES]
    if named is not None:
        return NoAssertResult("killed", tuple(named), crashes, runs)
    if crashes:
        left = planned - runs if _unnamed_hangs(failures) >= HANG_BUDGET else 0
        note = (f"the search stopped after {HANG_BUDGET} unnamed hangs, "
                f"{left} scenario(s) not run" if left > 0 else "")
        return NoAssertResult("crash only", (), crashes, runs, note=note)
    if not finished:
        return NoAssertResult("not run", (), [], runs, note="interrupted")
    return NoAssertResult("survived", (), [], runs)


def ordered(killers: list[str], scenarios: list) -> tuple[list, list]:
    """(the scenarios named in KILLERS, the rest of SCENARIOS), each in
    SCENARIOS' order."""
    first = [sc for sc in scenarios if sc.name in killers]
    return first, [sc for sc in scenarios if sc.name not in killers]


RunBatch = Callable[[list], tuple]    # scenarios -> (failures, runs, finished)


def run_variant(run_batch: RunBatch, first: list, rest: list) -> NoAssertResult:
    """FIRST (the scenarios that killed the mutant), then, unless one of
    them names the cause, REST; RUN_BATCH runs a list of scenarios on the
    variant: ([(scenario, verdict, reason)] of those that did not pass,
    scenarios run, finished)."""
    t0 = time.monotonic()
    failures, runs, finished = run_batch(first)
    if finished and rest and not search_done(failures):
        more, more_runs, finished = run_batch(rest)
        failures, runs = failures + more, runs + more_runs
    result = judge(failures, runs, finished, len(first) + len(rest))
    result.seconds = time.monotonic() - t0
    return result


def variants_line(variants: list) -> str:
    """The no-assertion variants of VARIANTS ([(name, NoAssertResult)]) in
    one line: how many a scenario killed by a named cause, and the others."""
    killed = [n for n, v in variants if v.state == "killed"]
    others = [f"{n} ({v.state})" for n, v in variants if v.state != "killed"]
    return (f"without the assertions: {len(killed)}/{len(variants)} killed by a named cause"
            + (f"; not: {', '.join(others)}" if others else ""))
