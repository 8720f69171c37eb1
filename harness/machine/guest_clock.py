"""The guest's clock, read while the guest runs (no debugger stop).

Under `-icount shift=0,sleep=off` the guest's virtual clock advances one
nanosecond per instruction while a CPU runs and jumps straight to the next
timer deadline while it idles: a deadlocked kernel burns guest seconds in
a few host milliseconds, a busy one runs slower than real time under TCG.
So the guest's time is not the instruction count: it is what the kernel
counts, its timer ticks. Both kernels keep them in a `ticks` variable
(Pintos-KAIST devices/timer.c, the reference kernel arch/x86_64/timer.c),
at TIMER_FREQ = 100 Hz.

A sample reads `ticks` with HMP `x` over QMP (a virtual-address read
through the CPU's current page tables, in which both kernels map
themselves, no stop, no effect on the guest) and the instruction count
with QMP `query-replay`. Measured under TCG with -icount on 2 cores: a
sample costs two QMP round trips (see docs/pintos-kaist.md, "Hangs").
With the guest's RAM mapped (harness/machine/guest_ram.py), `ticks` is
read from the mapping instead, at the physical address HMP `gva2gpa`
gives once the kernel has mapped itself (a kernel's own variable stays
where it is): the `x` cost 0.5 to 3 ms a sample, its QMP command
contending with the running CPU, the mapped read a microsecond.
Stopping the guest over GDB instead would cost a stop and, worse, let
QEMU warp the virtual clock at each stop (docs/pintos-kaist.md), changing
when the reference kernel's ticks land.

Before the kernel maps itself at its link address the read fails; the
sample's ticks are then None.
"""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Optional

from harness.errors import QMPError

TICK_SYMBOL = "ticks"
TIMER_HZ = 100                 # TIMER_FREQ of both kernels' devices/timer.c
NS_PER_INSTRUCTION = 1         # -icount shift=0
INSTRUCTIONS_PER_TICK = 10 ** 9 // TIMER_HZ // NS_PER_INSTRUCTION
_HMP_WORD = re.compile(r"^[0-9a-fA-F]+:\s+0x([0-9a-fA-F]+)")
_HMP_WORDS = re.compile(r"0x([0-9a-fA-F]+)")
_GPA = re.compile(r"^gpa: 0x([0-9a-fA-F]+)$")


@dataclasses.dataclass(frozen=True)
class ClockSample:
    wall: float                 # time.monotonic() when read
    ticks: Optional[int]        # the kernel's timer ticks; None: not readable yet
    icount: Optional[int]       # instructions executed (None or 0 without -icount)

    @property
    def guest_s(self) -> Optional[float]:
        return None if self.ticks is None else self.ticks / TIMER_HZ


class GuestClock:
    """Reads one running guest's tick counter at TICK_ADDRESS through QMP,
    or from GUEST_RAM (a harness.machine.guest_ram.GuestRam; None: none)
    once its physical address is known."""

    def __init__(self, qmp, tick_address: int, guest_ram=None):
        self.qmp = qmp
        self.tick_address = tick_address
        self.guest_ram = guest_ram
        self.tick_phys: Optional[int] = None    # where `ticks` is in GUEST_RAM, once known

    @classmethod
    def for_kernel(cls, qmp, symbols, guest_ram=None) -> Optional["GuestClock"]:
        """The clock of the kernel whose SymbolTable is SYMBOLS, or None if
        it has no `ticks` variable (the guest clock is then unknown)."""
        try:
            symbol = symbols.find(TICK_SYMBOL)
        except LookupError:
            return None
        return None if symbol is None else cls(qmp, symbol.address, guest_ram)

    def sample(self) -> ClockSample:
        """The current ticks and instruction count. QMPError if QEMU does
        not answer (it has exited)."""
        ticks = self._ticks()
        icount = self.qmp.execute("query-replay").get("icount")
        return ClockSample(time.monotonic(), ticks, icount)

    def _ticks(self) -> Optional[int]:
        """From the mapped RAM where it can be read there, else with HMP `x`:
        without a mapping, before paging (gva2gpa answers past RAM), and
        for a word rewritten without pause (`x` reads it with the CPU held)."""
        hmp = self.qmp.human_monitor_command
        if self.guest_ram is not None and self.tick_phys is None:
            phys = guest_physical(hmp, self.tick_address)
            if phys is None:
                return None                     # not mapped yet: `x` could not read it either
            if phys + 8 <= self.guest_ram.size:
                self.tick_phys = phys
        if self.tick_phys is not None:
            try:
                ticks = self.guest_ram.running_u64(self.tick_phys)
            except ValueError:                  # the mapping is closed: the run is over
                raise QMPError("the guest's RAM is no longer mapped") from None
            if ticks is not None:
                return ticks
        return read_guest_word(hmp, self.tick_address)


def guest_physical(hmp, address: int) -> Optional[int]:
    """The physical address behind kernel virtual ADDRESS through the CPU's
    current page tables (HMP `gva2gpa`), or None where it is not mapped.
    Before the kernel turns paging on, QEMU answers the address itself cut
    to the physical width, past any RAM: the caller checks the answer is
    RAM."""
    answer = _GPA.match(hmp(f"gva2gpa {address:#x}").strip())
    return int(answer.group(1), 16) if answer else None


def read_guest_word(hmp, address: int) -> Optional[int]:
    """The 8-byte word at kernel virtual ADDRESS of a running guest, read
    with HMP `x` (HMP: a human_monitor_command callable); None if it cannot
    be read (not mapped yet). QMPError if QEMU does not answer."""
    words = read_guest_words(hmp, address, 1)
    return words[0] if words else None


def read_guest_words(hmp, address: int, count: int) -> list:
    """The COUNT 8-byte words from kernel virtual ADDRESS of a running
    guest, read with one HMP `x`; [] if they cannot all be read (not
    mapped). QMPError if QEMU does not answer."""
    words = []
    for line in hmp(f"x /{count}gx {address:#x}").strip().splitlines():
        if not _HMP_WORD.match(line.strip()):
            return []
        words += [int(word, 16) for word in _HMP_WORDS.findall(line.split(":", 1)[1])]
    return words if len(words) == count else []
