"""Whether a guest running without progress looks like a page-fault storm,
seen without stopping it: the gate the fault-storm rule
(harness/run/fault_storm.py) must pass before it arms in a run that must
replay exactly (injections, the exact disk).

Arming the rule stops the guest at a moment the host picks, and a stop
changes the guest's run (docs/guest-memory.md, "Stops taken vs needed"),
so such runs had no storm rule: a storm there waited out the no-progress
rule in wall time (2wheeh's fork-swap under the exact disk: 303 s, 7.8 s
on the device disk with the rule). The gate reads, over QMP, without a
stop (as the guest clock is read, harness/machine/guest_clock.py), one of
two signals, by what the kernel offers:

  - a counter of every page fault (the reference kernel's
    `vmcheck_page_fault_count`), with HMP `x`, and CR2, the address of the
    last page fault, with HMP `info registers`: storm-like when, over the
    window, the counter grew by GATE_FAULTS or more and every read saw CR2
    on the same page. A correct kernel that pages hard faults on page
    after page, so CR2 moves between reads a tenth of a second apart; one
    that computes without faulting leaves the counter still.
  - without such a counter (Pintos-KAIST: its `page_fault_cnt` is counted
    only after vm_try_handle_fault failed, so a storm of faults the kernel
    "handles" leaves it at 0; 2wheeh's fork-swap: 0 in every read for
    20 s), the trap frame of the running thread's latest entry from user
    mode: the CPU pushes it at the top of the thread's kernel stack, where
    the TSS's rsp0 points (`info registers` gives the TSS's base, HMP `x`
    reads rsp0 and the frame's vec_no, rip and cs by the kernel's DWARF
    `struct intr_frame`). Storm-like when every read of the window saw a
    user-mode page fault (vector 14) there, at the same rip, with CR2 on
    the same page and the same CR3. A thread that computes in user mode is
    entered by the timer every tick (vector 32 there), one that pages
    faults at other rips or pages, and a blocked one is not running (rsp0
    is another thread's); in a user-mode storm the CPU spends its time
    entering that same fault again, and the guest clock crawls, so a
    window of wall time sees hardly a tick.

The gate opens when its signal is storm-like over the last GATE_S seconds
of wall time (at least GATE_SAMPLES reads, one per poll). Only then does
the rule arm and sample the faults themselves (a breakpoint at the
page-fault entry), which decides as it always did. If it finds no storm
(a program that loops on a system call whose copy faults and is fixed up,
the one known case of the counter's signal), the run goes on changed by
those stops, as any run with the rule did before. A storm in kernel mode
(a system call's copy) shows no user-mode fault frame, so on a kernel
without a counter it still ends by the no-progress rule.
"""

from __future__ import annotations

import collections
import re
import time
from typing import Callable, Optional

from harness.debug.symbols import SymbolError
from harness.errors import QMPError
from harness.run.fault_storm import PAGE_MASK
from harness.machine.guest_clock import read_guest_word, read_guest_words

# Counters of every page fault. Not Pintos-KAIST's `page_fault_cnt`: it is
# counted only after vm_try_handle_fault failed (the module docstring).
FAULT_COUNTERS = ("vmcheck_page_fault_count",)
GATE_S = 1.0           # wall seconds of reads the gate judges
GATE_SAMPLES = 5       # reads at least, in that window
GATE_FAULTS = 100      # page faults at least, in that window
PAGE_FAULT_VECTOR = 14
TSS_RSP0 = 4           # the 64-bit TSS: rsp0 at byte 4
# `info registers`: "TR =0040 000000000011c000 00000067 00008b00 ..."
_TR_BASE = re.compile(r"\bTR\s*=\s*[0-9a-fA-F]+\s+([0-9a-fA-F]+)")


class StormGate:
    """Called by the fault-storm rule each poll while it would arm: True
    once the reads say "storm" (module docstring). HMP: a
    human_monitor_command callable; SIGNAL: a CounterSignal or a
    FrameSignal."""

    def __init__(self, hmp: Callable[[str], str], signal):
        self.hmp, self.signal = hmp, signal
        self._reads: collections.deque = collections.deque()   # (wall, the signal's read)
        self.opened = 0

    @classmethod
    def for_kernel(cls, hmp, symbols) -> Optional["StormGate"]:
        """The gate for the kernel of SYMBOLS: on its fault counter if it
        has one, else on its trap frames; None if it has neither."""
        signal = CounterSignal.for_kernel(symbols) or FrameSignal.for_kernel(symbols)
        return None if signal is None else cls(hmp, signal)

    def __call__(self) -> bool:
        now = time.monotonic()
        try:
            read = self.signal.read(self.hmp, self.hmp("info registers"))
        except QMPError:
            return False
        if read is None:
            return False
        if self._reads and now - self._reads[-1][0] > GATE_S:
            self._reads.clear()                 # a gap: progress came in between
        self._reads.append((now, read))
        while now - self._reads[0][0] > GATE_S:
            self._reads.popleft()
        if len(self._reads) >= GATE_SAMPLES and \
                self.signal.storm_like([value for _, value in self._reads]):
            self.opened += 1
            self._reads.clear()
            return True
        return False


class CounterSignal:
    """The kernel's count of every page fault, and CR2's page."""

    def __init__(self, counter: int):
        self.counter = counter

    @classmethod
    def for_kernel(cls, symbols) -> Optional["CounterSignal"]:
        for name in FAULT_COUNTERS:
            try:
                found = symbols.find(name)
            except SymbolError:
                found = None
            if found is not None:
                return cls(found.address)
        return None

    def read(self, hmp, registers: str) -> Optional[tuple]:
        """(faults so far, CR2's page); None if either cannot be read."""
        cr2 = register(registers, "CR2")
        faults = read_guest_word(hmp, self.counter)
        return None if faults is None or cr2 is None else (faults, cr2 & PAGE_MASK)

    @staticmethod
    def storm_like(reads: list) -> bool:
        """READS: (faults, cr2 page) over the window, oldest first."""
        return reads[-1][0] - reads[0][0] >= GATE_FAULTS and len({p for _, p in reads}) == 1


class FrameSignal:
    """The running thread's latest trap frame from user mode (module
    docstring): its vec_no, rip and cs at offsets VEC, RIP and CS of a
    struct intr_frame of SIZE bytes that ends at the TSS's rsp0."""

    def __init__(self, size: int, vec: int, rip: int, cs: int):
        self.size, self.vec, self.rip, self.cs = size, vec, rip, cs
        self.words = (max(vec, rip, cs) - vec) // 8 + 1      # one `x` from vec_no

    @classmethod
    def for_kernel(cls, symbols) -> Optional["FrameSignal"]:
        try:
            frame = symbols.types.get("struct intr_frame")
            offsets = [frame.offset_of(member) for member in ("vec_no", "rip", "cs")]
            size = frame.resolved().size
        except (SymbolError, LookupError, KeyError, AttributeError, ValueError):
            return None
        if not size or min(offsets) != offsets[0] or any(o % 8 for o in offsets):
            return None
        return cls(size, *offsets)

    def read(self, hmp, registers: str) -> Optional[tuple]:
        """(vec_no, user mode, rip, CR2's page, CR3) of the frame; None if
        any part cannot be read."""
        tss, cr2, cr3 = _TR_BASE.search(registers), register(registers, "CR2"), \
            register(registers, "CR3")
        if tss is None or cr2 is None or cr3 is None:
            return None
        rsp0 = read_guest_word(hmp, int(tss.group(1), 16) + TSS_RSP0)
        if not rsp0:
            return None
        words = read_guest_words(hmp, rsp0 - self.size + self.vec, self.words)
        if not words:
            return None
        at = lambda offset: words[(offset - self.vec) // 8]    # noqa: E731
        return (at(self.vec), at(self.cs) & 3 == 3, at(self.rip), cr2 & PAGE_MASK, cr3)

    @staticmethod
    def storm_like(reads: list) -> bool:
        """READS: (vec_no, user, rip, cr2 page, cr3) over the window."""
        return len(set(reads)) == 1 and reads[0][0] == PAGE_FAULT_VECTOR and reads[0][1]


def register(registers: str, name: str) -> Optional[int]:
    """Register NAME (CR2, CR3) in HMP `info registers`' text, None if absent."""
    found = re.search(rf"\b{name}=([0-9a-fA-F]+)", registers)
    return int(found.group(1), 16) if found else None
