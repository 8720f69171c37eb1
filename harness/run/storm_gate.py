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
    window of wall time sees hardly a tick. A storm in kernel mode (a
    system call's copy faulting on a user page the kernel "handles"
    without mapping it) pushes its fault frame on the kernel stack below
    the system call's frame, at the same place fault after fault: the
    signal also reads the running thread's live kernel stack (from RSP,
    in `info registers`, up to the user-entry frame: one HMP `x`) for the
    innermost kernel-mode page-fault frame, and that frame (place, rip)
    in GATE_SAMPLES reads of the window or more, no other frame, CR2's
    page and CR3 the same in every read, is storm-like too. Only live
    stack is read, so a frame a handled fault left below RSP is never
    taken for one being handled; a frame counts only if its
    cs is a kernel one and its saved rsp lies between it and the
    user-entry frame. (Without this, such a storm was seen only when the
    system call's frame happened to hold vec_no 14: Pintos-KAIST's
    syscall_entry skips vec_no, so it keeps what the thread's last entry
    from user mode wrote. On team8's tree with a kernel-storm mutant, 4 of
    8 kernel-mode storms under the exact disk waited 61 s for the
    no-progress rule; with the stack read, all 8 end in 4.5 to 8 s.)

The gate opens when its signal is storm-like over the last GATE_S seconds
of wall time (at least GATE_SAMPLES reads, one per poll). Only then does
the rule arm and sample the faults themselves (a breakpoint at the
page-fault entry), which decides as it always did. If it finds no storm
(a program that loops on a system call whose copy faults and is fixed up,
the one known case of the counter's signal), the run goes on changed by
those stops, as any run with the rule did before.
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
from oracles.model.page_fault import PAGE_FAULT_VECTOR

# Counters of every page fault. Not Pintos-KAIST's `page_fault_cnt`: it is
# counted only after vm_try_handle_fault failed (the module docstring).
FAULT_COUNTERS = ("vmcheck_page_fault_count",)
GATE_S = 1.0           # wall seconds of reads the gate judges
GATE_SAMPLES = 5       # reads at least, in that window
GATE_FAULTS = 100      # page faults at least, in that window
TSS_RSP0 = 4           # the 64-bit TSS: rsp0 at byte 4
KERNEL_STACK_MAX = 16 << 10   # live kernel stack read at most (the reference kernel's
                              # 16 KiB; Pintos-KAIST's thread page holds 4 KiB)
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
    """The running thread's latest trap frame from user mode, and the
    innermost kernel-mode page-fault frame above it on the live stack
    (module docstring): a struct intr_frame of SIZE bytes whose vec_no,
    rip, cs and rsp are at offsets VEC, RIP, CS and RSP; the user-entry
    frame ends at the TSS's rsp0."""

    def __init__(self, size: int, vec: int, rip: int, cs: int, rsp: Optional[int] = None):
        self.size, self.vec, self.rip, self.cs, self.rsp = size, vec, rip, cs, rsp
        self.words = (max(vec, rip, cs) - vec) // 8 + 1      # one `x` from vec_no

    @classmethod
    def for_kernel(cls, symbols) -> Optional["FrameSignal"]:
        try:
            frame = symbols.types.get("struct intr_frame")
            offsets = [frame.offset_of(member) for member in ("vec_no", "rip", "cs", "rsp")]
            size = frame.resolved().size
        except (SymbolError, LookupError, KeyError, AttributeError, ValueError):
            return None
        if not size or min(offsets) != offsets[0] or any(o % 8 for o in offsets):
            return None
        return cls(size, *offsets)

    def read(self, hmp, registers: str) -> Optional[tuple]:
        """(vec_no, user mode, rip, CR2's page, CR3) of the user-entry
        frame, then the kernel-mode fault frame's (rip, address) or None;
        None if any part of the user-entry frame cannot be read."""
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
        return (at(self.vec), at(self.cs) & 3 == 3, at(self.rip), cr2 & PAGE_MASK, cr3,
                self.kernel_fault(hmp, register(registers, "RSP"), rsp0 - self.size))

    def kernel_fault(self, hmp, rsp: Optional[int], top: int) -> Optional[tuple]:
        """(rip, address) of the innermost kernel-mode page-fault frame
        wholly between RSP and TOP (the user-entry frame's start); None if
        there is none or the stack cannot be read."""
        if rsp is None or self.rsp is None or not top - KERNEL_STACK_MAX <= rsp < top:
            return None
        start = (rsp + 7) & ~7
        words = read_guest_words(hmp, start, (top - start) // 8) if top > start else []

        def word(frame: int, offset: int) -> int:
            return words[(frame + offset - start) // 8]

        for frame in range(start, start + 8 * len(words) - self.size + 1, 8):
            if word(frame, self.vec) != PAGE_FAULT_VECTOR:
                continue
            cs, saved_rsp = word(frame, self.cs), word(frame, self.rsp)
            if cs and cs & 3 == 0 and frame + self.size <= saved_rsp <= top:
                return word(frame, self.rip), frame
        return None

    @staticmethod
    def storm_like(reads: list) -> bool:
        """READS: (vec_no, user, rip, cr2 page, cr3, kernel fault) over
        the window: the same user-mode page fault in every read, or the
        same kernel-mode one in GATE_SAMPLES reads or more and none other
        (a read may land outside the handler, at the faulting instruction
        or in the entry stub before the frame is whole: a quarter of the
        reads in a storm of the reference kernel's read() copy)."""
        if len({read[:5] for read in reads}) != 1:
            return False
        kernel = [read[5] for read in reads if read[5] is not None]
        if kernel:
            return len(set(kernel)) == 1 and len(kernel) >= GATE_SAMPLES
        vec, user = reads[0][:2]
        return vec == PAGE_FAULT_VECTOR and user


def register(registers: str, name: str) -> Optional[int]:
    """Register NAME (CR2, CR3) in HMP `info registers`' text, None if absent."""
    found = re.search(rf"\b{name}=([0-9a-fA-F]+)", registers)
    return int(found.group(1), 16) if found else None
