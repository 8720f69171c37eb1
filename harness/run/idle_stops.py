"""Deadlock looks at moments the guest picks: its idle thread about to halt.

Runs that must replay exactly (injections, the exact disk: HangRules.
idle_looks False) cannot be stopped at a moment the host's speed picks,
because a stop changes the guest's run (docs/guest-memory.md, "Stops taken
vs needed"). Before this module such runs had no deadlock looks at all, and
a deadlocked kernel waited out the wall-clock rules: 2wheeh's fork-swap
under the exact disk took 303 s to be called a HANG.

Both kernels' idle threads loop on `intr_disable (); thread_block ();
asm ("sti; hlt")`: the `sti` runs each time the scheduler found no other
thread ready, and then once after every interrupt that woke the CPU and
readied nobody. A breakpoint there is a stop at a point of the guest's own
execution, the same in every run of the same inputs, so a look taken there
changes nothing a replay sees. Interrupts are off at the `sti`, so the
debugger's step over it (interrupts masked) delays none; the guest halts
right after it, so a stop there cannot move the clock past a deadline the
`hlt` would not have warped to anyway.

But a breakpoint changes how all the code on its page runs, even when it
is never hit: QEMU runs such a page one instruction per translated block,
slower and with interrupts landing between any two instructions
(docs/guest-memory.md, "Stops taken vs needed": novictim-wait took 45 to
58 s instead of 6.5 s and its run changed while the reference kernel's
idle loop shared a page with the scheduler). So the stop is armed only
where the idle function is alone on its page: the reference kernel keeps
it on one (`.vmcheck.idle` in kernel.ld). A Pintos-KAIST tree's idle loop
shares its page with thread.c's scheduler (thread_current, thread_yield,
next_thread_to_run, ...): no idle stops there, and a deadlock in a run
that must replay exactly is still ended by the no-progress rule.

At each such stop the kernel's `ticks` and QEMU's instruction count are
read; both are the guest's own, so whether a look is due is decided the
same way in every run: the CPU has been idle (no more than
IDLE_BUSY_FRACTION of a tick's instructions per tick between two idle
stops) for IDLE_STRETCH_TICKS, then the hang watch's looks and their
confirmation DEADLOCK_STRETCH_TICKS later, with its back-off, as in
harness/run/hang_watch.py.

Cost: one stop each time the CPU goes idle. The reference kernel's
correct suite never idles in its runs with injections (its timer_sleep
yields, its disks are polled): no idle stop in its 152 scenarios; a
deadlocked kernel stops about once a tick until the second look.

A schedule records whether its run had these stops (`idle_stops`); a
replay has them only if the recorded run had them: an older schedule
replays without.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

from harness.debug.symbols import SymbolError
from harness.errors import HarnessError
from harness.machine.guest_clock import INSTRUCTIONS_PER_TICK, TICK_SYMBOL
from harness.run.hang_watch import IDLE_BUSY_FRACTION
from harness.x86.disasm import x86_64_decoder

IDLE_FUNCTION = "idle"
PAGE_SIZE = 4096
PAGE_MASK = ~(PAGE_SIZE - 1)


def idle_halt_address(symbols) -> Optional[int]:
    """The address of the `sti` right before a `hlt` in the kernel's idle
    function (SYMBOLS: its SymbolTable), None if there is no such function
    or pair (a kernel whose idle loop is written otherwise gets no idle
    stops), or if other functions share its page (module docstring)."""
    try:
        symbol = symbols.find(IDLE_FUNCTION)
    except SymbolError:
        return None
    if symbol is None or symbol.kind != "func" or not symbol.size:
        return None
    code = symbols.code(symbol.address, symbol.size)
    if code is None:
        return None
    previous = None
    for address, _, mnemonic, _ in x86_64_decoder().disasm_lite(code, symbol.address):
        if mnemonic == "hlt" and previous is not None and previous[1] == "sti":
            return previous[0] if alone_on_its_page(symbols, symbol, previous[0]) else None
        previous = (address, mnemonic)
    return None


def alone_on_its_page(symbols, function, address: int) -> bool:
    """Whether no function but FUNCTION has code on the page of ADDRESS."""
    page = address & PAGE_MASK
    before = symbols.function_at(page - 1) if page else None
    if before is not None and before[0].address + before[0].size > page and \
            before[0].address != function.address:
        return False                        # a function running into the page
    return all(other.address == function.address
               for other in symbols.functions_starting_in(page, page + PAGE_SIZE))


class IdleStops:
    """The idle stops of one run, feeding the hang WATCH (a HangWatch).
    TICKS_ADDRESS: the kernel's tick counter; ICOUNT() -> QEMU's
    instruction count (read at the stop)."""

    def __init__(self, watch, address: int, ticks_address: int, icount: Callable[[], int]):
        self.watch, self.address, self.ticks_address = watch, address, ticks_address
        self.icount = icount
        self.breakpoint = None
        self.looks = 0
        self._last: Optional[tuple] = None      # (ticks, icount) at the previous idle stop
        self._idle_from: Optional[int] = None   # ticks when the current idle stretch began

    @classmethod
    def for_kernel(cls, watch, symbols, icount: Callable[[], int]) -> Optional["IdleStops"]:
        """The idle stops for the kernel of SYMBOLS, None if it has no idle
        `sti; hlt` or no tick counter."""
        address = idle_halt_address(symbols)
        try:
            ticks = symbols.find(TICK_SYMBOL)
        except SymbolError:
            ticks = None
        if address is None or ticks is None:
            return None
        return cls(watch, address, ticks.address, icount)

    def arm(self, dbg) -> None:
        self.breakpoint = dbg.add_breakpoint(self.address, callback=self._on_stop)

    def _on_stop(self, dbg, bp) -> bool:
        """The idle thread is about to halt: tracks the idle stretch and
        lets the watch look when due (it raises GuestHang for a deadlock).
        Never ends run_until by itself."""
        try:
            ticks, icount = dbg.read_u64(self.ticks_address), self.icount()
        except HarnessError:
            return False
        idle_for = self._track(ticks, icount)
        if self.watch.look_due(ticks, idle_for):
            began = time.monotonic()
            self.looks += 1
            try:
                self.watch.look(dbg, ticks)
            finally:
                self.watch.exclude(time.monotonic() - began)
        return False

    def _track(self, ticks: int, icount: Optional[int]) -> int:
        """Ticks the CPU has been idle as of this stop (0: it worked since
        the previous idle stop)."""
        before, self._last = self._last, (ticks, icount)
        if before is None or icount is None or before[1] is None:
            self._idle_from = ticks
            return 0
        passed = max(ticks - before[0], 1)
        worked = (icount - before[1]) / INSTRUCTIONS_PER_TICK
        if worked > passed * IDLE_BUSY_FRACTION or self._idle_from is None:
            self._idle_from = ticks
        return ticks - self._idle_from
