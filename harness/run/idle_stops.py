"""Deadlock looks at moments the guest picks: its idle thread switched in.

Runs that must replay exactly (injections, the exact disk: HangRules.
idle_looks False) cannot be stopped at a moment the host's speed picks,
because a stop changes the guest's run (docs/guest-memory.md, "Stops taken
vs needed"). Before this module such runs had no deadlock looks at all, and
a deadlocked kernel waited out the no-progress rule: the reference kernel's
dl-abba and dl-evict mutants (scenarios with injections) took 61 and 63 s
to be called a HANG.

Both kernels keep a pointer to their idle thread (`idle_thread`) and mark
the thread it switches to THREAD_RUNNING in its `status`. A write
watchpoint on the idle thread's `status` stops the guest each time the
scheduler found no other thread ready (and once more as the idle thread
blocks itself again): a point of the guest's own execution, the same in
every run of the same inputs, so a look taken there changes nothing a
replay sees. Until the idle thread exists, a watchpoint on the
`idle_thread` pointer waits for it. A watchpoint, not a breakpoint on the
idle loop: a breakpoint makes QEMU run every instruction of its code page
as a block of its own, and the idle loop shares its page with the
scheduler (team8's thread.c: thread_current, thread_yield, ...); armed
there for a trial it made team8's scenarios 2 to 4 times slower and
changed the reference kernel's runs (docs/pintos-kaist.md, "Hangs"). A
write watchpoint only sends writes to the idle thread's page (its own
stack) through QEMU's slow path.

At each stop where the idle thread is switched in, the kernel's `ticks`
and QEMU's instruction count are read; both are the guest's own, so
whether a look is due is decided the same way in every run: the CPU has
been idle (no more than IDLE_BUSY_FRACTION of a tick's instructions per
tick between two such stops) for IDLE_STRETCH_TICKS, then the hang
watch's looks and their confirmation DEADLOCK_STRETCH_TICKS later, with
its back-off, as in harness/run/hang_watch.py.

Cost: two stops each time the CPU goes idle. The reference kernel's
correct runs with injections idle only while a thread sleeps in
timer_sleep (its disks are polled): novictim-wait's 100 one-tick waits
take 202 stops, the other injected scenarios 2; a Pintos-KAIST kernel
under the exact disk idles while its threads sleep; a deadlocked kernel
stops about twice a tick until the second look.

A schedule records whether its run had these stops and the storm gate
(`replay_safe_looks`); a replay has them only if the recorded run had
them: an older schedule replays without.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

from harness.debug.symbols import SymbolError
from harness.errors import HarnessError
from harness.machine.guest_clock import TICK_SYMBOL
from harness.run.hang_watch import worked_through

IDLE_POINTER = "idle_thread"     # both kernels: struct thread *idle_thread
THREAD_RUNNING = "THREAD_RUNNING"


class IdleStops:
    """The idle stops of one run, feeding the hang WATCH (a HangWatch).
    TICKS_ADDRESS: the kernel's tick counter; ICOUNT() -> QEMU's
    instruction count (read at the stop)."""

    def __init__(self, watch, pointer: int, status_offset: int, status_size: int,
                 running: int, ticks_address: int, icount: Callable[[], int]):
        self.watch, self.pointer, self.ticks_address = watch, pointer, ticks_address
        self.status_offset, self.status_size, self.running = status_offset, status_size, running
        self.icount = icount
        self.status_address: Optional[int] = None   # the idle thread's status, once known
        self._last: Optional[tuple] = None      # (ticks, icount) at the previous idle stop
        self._idle_from: Optional[int] = None   # ticks when the current idle stretch began

    @classmethod
    def for_kernel(cls, watch, symbols, icount: Callable[[], int]) -> Optional["IdleStops"]:
        """The idle stops for the kernel of SYMBOLS, None if it has no
        `idle_thread` pointer, tick counter or DWARF for struct thread's
        `status` and THREAD_RUNNING."""
        try:
            pointer, ticks = symbols.find(IDLE_POINTER), symbols.find(TICK_SYMBOL)
            if pointer is None or ticks is None or pointer.size != 8:
                return None
            types = symbols.types
            status = types.get("struct thread").member("status")
            running = types.get("enum thread_status").enumerators[THREAD_RUNNING]
        except (SymbolError, LookupError, KeyError):
            return None
        return cls(watch, pointer.address, status.offset, status.type.resolved().size or 4,
                   running, ticks.address, icount)

    def arm(self, dbg) -> None:
        """Watches the idle thread's status, or the pointer until it is set."""
        idle = dbg.read_u64(self.pointer)
        if idle:
            self._watch_status(dbg, idle)
        else:
            dbg.watchpoints.add(self.pointer, 8, self._on_pointer)

    def _on_pointer(self, dbg, wp) -> bool:
        idle = dbg.read_u64(self.pointer)
        if idle:
            dbg.watchpoints.remove(wp)
            self._watch_status(dbg, idle)
        return False

    def _watch_status(self, dbg, idle: int) -> None:
        self.status_address = idle + self.status_offset
        dbg.watchpoints.add(self.status_address, self.status_size, self._on_status)

    def _on_status(self, dbg, wp) -> bool:
        """The idle thread's status was written: when it is switched in,
        tracks the idle stretch and lets the watch look when due (it raises
        GuestHang for a deadlock). Never ends run_until by itself."""
        try:
            status = int.from_bytes(dbg.read_virt(self.status_address, self.status_size),
                                    "little")
            if status != self.running:
                return False
            ticks, icount = dbg.read_u64(self.ticks_address), self.icount()
        except HarnessError:
            return False
        idle_for = self._track(ticks, icount)
        if self.watch.look_due(ticks, idle_for):
            began = time.monotonic()
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
        if worked_through(max(ticks - before[0], 1), icount - before[1]) or \
                self._idle_from is None:
            self._idle_from = ticks
        return ticks - self._idle_from
