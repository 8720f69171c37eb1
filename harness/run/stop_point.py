"""Where `vmcheck debug` stops a scenario's run and hands the machine over.

    where = parse_where("checkpoint:2:1")      # UsageError on bad input
    opts = RunnerOptions(..., stop=StopRequest(where, hand_over))

The checkpoint session (harness/run/checkpoints.py) tells the request of
each moment it meets (a Moment: the start, a checkpoint, a fail() call, a
fault it decoded, the panic, a deadlock, a breakpoint of the request). At
the first one WHERE wants, it calls HAND_OVER(machine, debugger, moment)
with the guest stopped there and the debugger still attached; hand_over releases
the link and lets someone else look (harness/cli/debug.py starts gdb),
and when it returns the run ends with HandedOver (no verdict: the machine
was in other hands).

WHERE, as the command line gives it:
  failure            the first moment a correct kernel would not show: a
                     checkpoint with a failed check, fail(), a decoded fault
                     (of the scenario's own process, when it accepts no
                     exit(-1)), the panic, a deadlock, a program running
                     other code than its own
  start              the kernel's first C line (the debugger's attach point)
  fault | panic      the first decoded fault / the panic
  checkpoint:N[:HIT] the HIT-th (default 1st) stop at checkpoint(N)
  break:SYMBOL       the first call of a kernel or user function
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from harness.errors import UsageError

START, CHECKPOINT, FAIL_CALL, FAULT, PANIC, DEADLOCK, BREAK, WRONG_CODE = (
    "start", "checkpoint", "fail", "fault", "panic", "deadlock", "break", "wrong code")
FAILURE = "failure"
WHERE_FORMS = "failure, start, fault, panic, checkpoint:N[:HIT] or break:SYMBOL"


@dataclasses.dataclass(frozen=True)
class Moment:
    """A moment of the run the session met, the guest stopped there.
    WHY: one line for the banner; FAILED: a correct kernel would not get
    here; CHECKPOINT: (id, hit) at a checkpoint; PROGRAM: the user program
    running, if known."""
    kind: str
    why: str
    failed: bool = False
    checkpoint: Optional[tuple] = None
    program: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class StopAt:
    """A parsed WHERE: KIND is FAILURE or one of the moment kinds; ID and
    HIT for a checkpoint, SYMBOL for a breakpoint."""
    kind: str
    id: Optional[int] = None
    hit: int = 1
    symbol: Optional[str] = None

    def wants(self, moment: Moment) -> bool:
        if self.kind == FAILURE:
            return moment.failed
        if self.kind == CHECKPOINT:
            return moment.kind == CHECKPOINT and moment.checkpoint == (self.id, self.hit)
        return moment.kind == self.kind

    def __str__(self) -> str:
        if self.kind == CHECKPOINT:
            return f"checkpoint:{self.id}:{self.hit}"
        return f"break:{self.symbol}" if self.kind == BREAK else self.kind


def parse_where(text: str) -> StopAt:
    """WHERE from the command line; UsageError naming the accepted forms."""
    kind, _, rest = text.partition(":")
    if kind in (FAILURE, START, FAULT, PANIC) and not rest:
        return StopAt(kind)
    if kind == BREAK and rest:
        return StopAt(BREAK, symbol=rest)
    if kind == CHECKPOINT and rest:
        parts = rest.split(":")
        try:
            numbers = [int(p, 0) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) in (1, 2) and (len(numbers) == 1 or numbers[1] >= 1):
            return StopAt(CHECKPOINT, id=numbers[0], hit=numbers[1] if len(numbers) == 2 else 1)
    raise UsageError(f"--at {text!r}: expected {WHERE_FORMS}")


class HandedOver(Exception):
    """The run was handed over at MOMENT and ended when the other
    debugger was done; not a verdict. RESULT: what hand_over returned."""

    def __init__(self, moment: Moment, result=None):
        super().__init__(f"handed over at {moment.kind}: {moment.why}")
        self.moment = moment
        self.result = result


@dataclasses.dataclass
class StopRequest:
    """WHERE to stop and HAND_OVER(machine, debugger, moment), called there."""
    where: StopAt
    hand_over: Callable

    def meet(self, machine, dbg, moment: Moment) -> None:
        """Hands over (and raises HandedOver) if WHERE wants MOMENT."""
        if self.where.wants(moment):
            raise HandedOver(moment, self.hand_over(machine, dbg, moment))
