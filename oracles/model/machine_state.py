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

from oracles.model.address_layout import AddressLayout
from oracles.model.page_tables import PageTableSnapshot

PAGE = 4096

# SPT page types (adapters map kernel-specific names onto these).
UNINIT, ANON, FILE = "uninit", "anon", "file"


@dataclasses.dataclass(frozen=True, slots=True)
class SptPage:
    """One SPT record: what the kernel believes about user page `va`.

    frame_pa: physical address of the resident frame, None if not resident.
    swap_slot: slot holding the contents while swapped out, else None.
    cow: the page shares its frame copy-on-write (read-only in hardware).
    busy: another thread is loading, evicting or copying the page right
    now; its fields may be in transition, so invariants skip it.
    swap_slot_known: False when the page may be in swap but the adapter
    could not tell which slot (or whether) it holds: `swapped` is then None.
    Fields a kernel does not record are None ("unknown"): a check that
    needs one reports UNKNOWN, never FAIL (frame_pa None is "not resident").
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
    swap_slot_known: bool = True

    def known(self, field: str) -> bool:
        """Whether FIELD's value (None included) is what the kernel holds."""
        if field == "swap_slot":
            return self.swap_slot_known
        return field == "frame_pa" or getattr(self, field) is not None

    @property
    def resident(self) -> bool:
        return self.frame_pa is not None

    @property
    def swapped(self) -> Optional[bool]:
        """In swap (True), not (False), or unknown (None)."""
        return self.swap_slot is not None if self.swap_slot_known else None


class SptPageSlots:
    """SptPage's slots without its frozen __setattr__, the fast way to make
    an SptPage: SptPageSlots(all 12 fields, in SptPage's order), then
    `.__class__ = SptPage` (the same slots on the same base, so Python lets
    __class__ be assigned). The value is what SptPage(...) makes
    (tests/unit/test_machine_state.py), ~3x faster: the frozen dataclass's
    __init__ sets each field through object.__setattr__, and a capture
    makes 12,000 SptPages at a stop (both inspectors' SPT loops)."""
    __slots__ = SptPage.__slots__

    def __init__(self, va, type, writable, frame_pa, swap_slot, file_id, file_offset,
                 read_bytes, dirty, cow, busy, swap_slot_known):
        self.va = va
        self.type = type
        self.writable = writable
        self.frame_pa = frame_pa
        self.swap_slot = swap_slot
        self.file_id = file_id
        self.file_offset = file_offset
        self.read_bytes = read_bytes
        self.dirty = dirty
        self.cow = cow
        self.busy = busy
        self.swap_slot_known = swap_slot_known


@dataclasses.dataclass(frozen=True)
class ProcessState:
    """One user process at the checkpoint.

    spt is None when the SPT could not be read; spt_unreadable says why
    (SPT checks then report UNKNOWN instead of passing).
    code_ranges: [start, end) of executable ELF segments of the program
    the process runs; None where that is not known (e.g. a forked child
    caught before its exec still runs its parent's program).
    settled: the process is at a moment the program defines (it is the
    one stopped at its checkpoint): invariants that only hold between
    kernel operations judge settled processes only (oracles/invariants.py).
    """
    pid: int
    name: str
    pages: PageTableSnapshot
    spt: Optional[dict] = None          # va -> SptPage
    spt_unreadable: Optional[str] = None
    code_ranges: Optional[tuple] = None
    settled: bool = True

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
    a quiet checkpoint. user_pool: physical [start, end) of the frames the
    kernel hands out for user pages (None where not known): a present user
    page whose frame lies outside it and that no SPT entry claims is a
    kernel page mapped into user space (e.g. a course's read-only page),
    not a user frame. swap_slots_in_use: the slots the kernel's swap map
    marks used (None where the map's bits are not read). swap_disk_slots:
    the pages the swap disk the harness gave the kernel holds (its size /
    4 KiB; 0 without a swap disk; None where the harness does not know)."""
    user_frames_total: Optional[int] = None
    user_frames_free: Optional[int] = None
    swap_slots_total: Optional[int] = None
    swap_slots_used: Optional[int] = None
    vm_busy: bool = False
    user_pool: Optional[tuple[int, int]] = None
    swap_slots_in_use: Optional[frozenset] = None
    swap_disk_slots: Optional[int] = None

    def in_user_pool(self, phys: int) -> Optional[bool]:
        """Whether frame PHYS is one of the user pool's (None: not known)."""
        if self.user_pool is None:
            return None
        return self.user_pool[0] <= phys < self.user_pool[1]


def number_ranges(numbers) -> str:
    """NUMBERS (integers) as sorted ranges: "0-3, 7, 9-10"; "none" if empty."""
    runs: list = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs) or "none"


def parse_number_ranges(text: str) -> frozenset:
    """The numbers number_ranges wrote as TEXT; ValueError if it is not such."""
    if text == "none":
        return frozenset()
    out: set = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        out.update(range(int(first), int(last or first) + 1))
    return frozenset(out)


@dataclasses.dataclass(frozen=True)
class MachineState:
    """Everything the oracles see at one checkpoint.

    current: pid of the process that reached the checkpoint.
    address_layout: where the kernel puts the stack, its direct map... (the
    adapter's).
    read_user: reads bytes of the current process's memory by user VA
    through its page tables (None where no memory access is available);
    only present pages can be read.
    """
    checkpoint: int
    current: int
    processes: dict                      # pid -> ProcessState
    address_layout: AddressLayout
    pools: PoolState = PoolState()
    read_user: Optional[Callable[[int, int], bytes]] = None

    @property
    def proc(self) -> ProcessState:
        return self.processes[self.current]


# Outcomes of a check that did not pass (a check that passed returns nothing).
FAIL = "fail"              # it saw a value a correct kernel would not have
UNKNOWN = "unknown"        # it could not see what it needs (the message says why)
NOT_JUDGED = "not_judged"  # not a moment at which the property must hold
OUTCOMES = (FAIL, UNKNOWN, NOT_JUDGED)


@dataclasses.dataclass(frozen=True)
class Violation:
    """One check that did not pass: which oracle, which page, and its
    outcome. FAIL: expected (what a correct kernel would have) vs actual
    (what was seen). UNKNOWN: the message says what could not be read;
    only --strict makes it fail a scenario. NOT_JUDGED: the property was
    not judged at this moment (a process caught mid-operation); it is a
    note, never a failure."""
    oracle: str
    message: str
    va: Optional[int] = None
    pid: Optional[int] = None
    expected: Optional[str] = None
    actual: Optional[str] = None
    outcome: str = FAIL

    def __str__(self) -> str:
        where = f" at 0x{self.va:x}" if self.va is not None else ""
        who = f" (pid {self.pid})" if self.pid is not None else ""
        if self.outcome == UNKNOWN:
            return f"{self.oracle}{where}{who}: could not inspect: {self.message}"
        if self.outcome == NOT_JUDGED:
            return f"{self.oracle}{where}{who}: not judged: {self.message}"
        text = f"{self.oracle}{where}{who}: {self.message}"
        if self.expected is not None or self.actual is not None:
            text += f" [expected: {self.expected}; actual: {self.actual}]"
        return text


def unknown(oracle: str, why: str, va: Optional[int] = None,
            pid: Optional[int] = None) -> Violation:
    """The UNKNOWN outcome of ORACLE: WHY names what could not be read."""
    return Violation(oracle, why, va, pid, outcome=UNKNOWN)


def not_judged(oracle: str, why: str, pid: Optional[int] = None) -> Violation:
    """ORACLE was not judged at this moment, for the reason WHY."""
    return Violation(oracle, why, None, pid, outcome=NOT_JUDGED)


def by_outcome(findings) -> dict:
    """FINDINGS (Violations) split into {FAIL: [...], UNKNOWN: [...],
    NOT_JUDGED: [...]}, each in the original order."""
    out: dict = {kind: [] for kind in OUTCOMES}
    for finding in findings:
        out[finding.outcome].append(finding)
    return out


def spt_unknown(oracle: str, proc: "ProcessState", va: Optional[int] = None) -> Violation:
    """UNKNOWN: PROC's SPT could not be read (and why)."""
    return unknown(oracle, f"SPT of {proc.name} not inspectable: "
                   f"{proc.spt_unreadable or 'the adapter could not read it'}", va, proc.pid)


def fields_unknown(oracle: str, proc: "ProcessState", field: str, vas: list,
                   what: str) -> list:
    """One UNKNOWN for the pages VAS of PROC whose SPT FIELD is not known
    (WHAT says what it was needed for); nothing if VAS is empty."""
    if not vas:
        return []
    first = min(vas)
    more = f" and {len(vas) - 1} more page(s)" if len(vas) > 1 else ""
    return [unknown(oracle, f"the SPT of {proc.name} records no {field} the harness can read "
                    f"(needed to judge {what}), page 0x{first:x}{more}", first, proc.pid)]
