"""What the debugger (harness/debug/debugger.py) hands out and raises: its
errors, a breakpoint, and why run_until() returned."""

from dataclasses import dataclass
from typing import Callable, Optional

from harness.debug.rsp import StopReply
from harness.errors import HarnessError


class DebuggerError(HarnessError):
    """The debugger could not do what was asked (attach, symbols, state)."""


class DebuggerTimeout(DebuggerError):
    """A run did not reach what it waited for in time; the target has been
    stopped (STOP says where). For a scenario this usually means HANG."""

    def __init__(self, awaited: str, seconds: float, stop: "Stop", where: str):
        super().__init__(f"timed out after {seconds:.1f} s waiting for {awaited}; "
                         f"the guest was stopped at {where}")
        self.awaited = awaited
        self.seconds = seconds
        self.stop = stop


@dataclass(eq=False)
class Breakpoint:
    """One breakpoint. CALLBACK(debugger, breakpoint) runs at each hit while
    the guest is stopped there; a true return value ends run_until().
    REPLACES_CODE: the callback carries out the code at its address (a
    harness service, e.g. the exact disk), so it runs again when a
    call_first() detour comes back to the address."""
    address: int
    label: str
    callback: Optional[Callable] = None
    hardware: bool = False
    hits: int = 0
    replaces_code: bool = False

    def __repr__(self) -> str:
        return f"<Breakpoint {self.label} @{self.address:#x} hits={self.hits}>"


@dataclass(frozen=True)
class Stop:
    """Why run_until() returned. REASON: "breakpoint" (BREAKPOINTS were hit
    and asked to stop), "watchpoint" (a write watchpoint's callback asked
    to stop), "predicate" (the until-function returned true),
    "exited" (the guest ended; REPLY.code is the status QEMU reported, or
    EXIT_STATUS_UNKNOWN if QEMU just closed the connection, as at power-off) or
    "signal" (a stop that is none of these, e.g. an interrupt)."""
    reason: str
    pc: Optional[int]
    breakpoints: tuple
    reply: Optional[StopReply]
