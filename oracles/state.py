"""The machine state oracles look at, kernel-independent.

The harness fills a MachineState at a checkpoint: the hardware page
tables of every user process (walked from their PML4s through physical
memory), and what the kernel adapter could read of each process's
supplemental page table (SPT), the frame table and swap usage. Oracles are
pure functions of it, so they are unit-tested on hand-built states.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from harness.snapshot import PageTableSnapshot

PAGE = 4096

# SPT page types (adapters map kernel-specific names onto these).
UNINIT, ANON, FILE = "uninit", "anon", "file"


@dataclasses.dataclass(frozen=True)
class SptPage:
    """One SPT record: what the kernel believes about user page `va`.

    frame_pa: physical address of the resident frame, None if not resident.
    swap_slot: slot holding the contents while swapped out, else None.
    cow: the page shares its frame copy-on-write (read-only in hardware).
    busy: another thread is loading, evicting or copying the page right
    now; its fields may be in transition, so invariants skip it.
    Fields a kernel does not record are None ("unknown"), and oracles
    skip what is unknown rather than guess.
    """
    va: int
    type: str
    writable: Optional[bool] = None
    frame_pa: Optional[int] = None
    swap_slot: Optional[int] = None
    file_id: Optional[int] = None
    file_offset: Optional[int] = None
    read_bytes: Optional[int] = None
    dirty: Optional[bool] = None
    cow: Optional[bool] = None
    busy: bool = False     # mid-operation (loading, eviction): in transition

    @property
    def resident(self) -> bool:
        return self.frame_pa is not None


@dataclasses.dataclass(frozen=True)
class ProcessState:
    """One user process at the checkpoint.

    spt is None when the SPT could not be read; spt_unreadable says why
    (SPT oracles then report "not inspectable" instead of passing).
    code_ranges: [start, end) of executable ELF segments.
    """
    pid: int
    name: str
    pages: PageTableSnapshot
    spt: Optional[dict] = None          # va -> SptPage
    spt_unreadable: Optional[str] = None
    code_ranges: tuple = ()
    stack_top: int = 0x47480000

    def spt_page(self, va: int) -> Optional[SptPage]:
        return None if self.spt is None else self.spt.get(va & ~(PAGE - 1))

    def busy(self, va: int) -> bool:
        page = self.spt_page(va)
        return page is not None and page.busy


@dataclasses.dataclass(frozen=True)
class PoolState:
    """User-frame pool and swap usage (None = the kernel does not say).
    vm_busy: some thread is inside the VM (holds its lock) at this stop, so
    global counts may be mid-update; count-based invariants then wait for
    a quiet checkpoint."""
    user_frames_total: Optional[int] = None
    user_frames_free: Optional[int] = None
    swap_slots_total: Optional[int] = None
    swap_slots_used: Optional[int] = None
    vm_busy: bool = False


@dataclasses.dataclass(frozen=True)
class MachineState:
    """Everything the oracles see at one checkpoint.

    current: pid of the process that reached the checkpoint.
    read_user: reads bytes of the current process's memory by user VA
    through its page tables (None where no memory access is available);
    only present pages can be read.
    """
    checkpoint: int
    current: int
    processes: dict                      # pid -> ProcessState
    pools: PoolState = PoolState()
    read_user: Optional[Callable[[int, int], bytes]] = None

    @property
    def proc(self) -> ProcessState:
        return self.processes[self.current]


@dataclasses.dataclass(frozen=True)
class Violation:
    """One failed check: which oracle, which page, expected vs actual."""
    oracle: str
    message: str
    va: Optional[int] = None
    pid: Optional[int] = None
    expected: Optional[str] = None
    actual: Optional[str] = None

    def __str__(self) -> str:
        where = f" at 0x{self.va:x}" if self.va is not None else ""
        who = f" (pid {self.pid})" if self.pid is not None else ""
        text = f"{self.oracle}{where}{who}: {self.message}"
        if self.expected is not None or self.actual is not None:
            text += f" [expected: {self.expected}; actual: {self.actual}]"
        return text

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
