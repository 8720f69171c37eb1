"""Whether a guest running without progress looks like a page-fault storm,
seen without stopping it: the gate the fault-storm rule
(harness/run/fault_storm.py) must pass before it arms in a run that must
replay exactly (injections, the exact disk).

Arming the rule stops the guest at a moment the host picks, and a stop
changes the guest's run (docs/guest-memory.md, "Stops taken vs needed"),
so such runs had no storm rule: a storm there waited out the no-progress
rule in wall time (2wheeh's fork-swap under the exact disk: 303 s, 7.8 s
on the device disk with the rule). The gate reads, over QMP, without a
stop (as the guest clock is read, harness/machine/guest_clock.py):

  - the kernel's own count of every page fault (the reference kernel's
    `vmcheck_page_fault_count`), with HMP `x`;
  - CR2, the address of the last page fault, with HMP `info registers`.

It opens when, over the last GATE_S seconds of wall time (at least
GATE_SAMPLES reads, one per poll), the counter grew by GATE_FAULTS or more
and every read saw CR2 on the same page. A correct kernel that pages hard
faults on page after page, so CR2 moves between reads a tenth of a second
apart; one that computes without faulting leaves the counter still. Only
then does the rule arm and sample the faults themselves (a breakpoint at
the page-fault entry), which decides as it always did. If it finds no
storm (a program that loops on a system call whose copy faults and is
fixed up, the one known case), the run goes on changed by those stops, as
any run with the rule did before.
"""

from __future__ import annotations

import collections
import re
import time
from typing import Callable, Optional

from harness.debug.symbols import SymbolError
from harness.errors import QMPError
from harness.machine.guest_clock import read_guest_word

# Counters of every page fault. Not Pintos-KAIST's `page_fault_cnt`: it is
# counted only after vm_try_handle_fault failed, so a storm of faults the
# kernel "handles" leaves it at 0 (2wheeh's fork-swap under the exact disk:
# 0 in every read for 20 s, CR2 on one page). Without such a counter there
# is no gate, and a storm in a run that must replay exactly still ends by
# the no-progress rule.
FAULT_COUNTERS = ("vmcheck_page_fault_count",)
GATE_S = 1.0           # wall seconds of reads the gate judges
GATE_SAMPLES = 5       # reads at least, in that window
GATE_FAULTS = 100      # page faults at least, in that window
PAGE_MASK = ~0xFFF
_CR2 = re.compile(r"\bCR2=([0-9a-fA-F]+)")


class StormGate:
    """Called by the fault-storm rule each poll while it would arm: True
    once the reads say "storm" (module docstring). HMP: a
    human_monitor_command callable; COUNTER: the fault counter's address."""

    def __init__(self, hmp: Callable[[str], str], counter: int):
        self.hmp, self.counter = hmp, counter
        self._reads: collections.deque = collections.deque()   # (wall, faults, cr2 page)
        self.opened = 0

    @classmethod
    def for_kernel(cls, hmp, symbols) -> Optional["StormGate"]:
        """The gate for the kernel of SYMBOLS, None if it has no fault counter."""
        for name in FAULT_COUNTERS:
            try:
                found = symbols.find(name)
            except SymbolError:
                found = None
            if found is not None:
                return cls(hmp, found.address)
        return None

    def __call__(self) -> bool:
        now = time.monotonic()
        try:
            faults = read_guest_word(self.hmp, self.counter)
            cr2 = _CR2.search(self.hmp("info registers"))
        except QMPError:
            return False
        if faults is None or cr2 is None:
            return False
        if self._reads and now - self._reads[-1][0] > GATE_S:
            self._reads.clear()                 # a gap: progress came in between
        self._reads.append((now, faults, int(cr2.group(1), 16) & PAGE_MASK))
        while now - self._reads[0][0] > GATE_S:
            self._reads.popleft()
        if self.storm_like(list(self._reads)):
            self.opened += 1
            self._reads.clear()
            return True
        return False

    @staticmethod
    def storm_like(reads: list) -> bool:
        """READS: (wall, faults, cr2 page) over the window, oldest first."""
        return len(reads) >= GATE_SAMPLES and reads[-1][1] - reads[0][1] >= GATE_FAULTS \
            and len({page for _, _, page in reads}) == 1
