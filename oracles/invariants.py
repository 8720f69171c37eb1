"""Invariants every correct paging implementation keeps at every checkpoint.

Each invariant is a function MachineState -> list[Violation]. A scenario
may turn one off by name, with a reason (scenario key `invariants_off`).
Where the kernel's SPT could not be read, SPT-based invariants check
nothing for that process; the runner reports it as "not inspectable".
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

from harness.snapshot import PTE_W
from oracles.state import PAGE, MachineState, ProcessState, Violation


def _present_4k(proc: ProcessState):
    """(va, phys, writable) of every present user 4 KiB page."""
    for m in proc.pages.iter_user_pages():
        for off in range(0, m.size, PAGE):
            yield m.va + off, m.phys + off, bool(m.flags & PTE_W)


def present_pte_has_spt_frame(state: MachineState) -> list[Violation]:
    """Every present user PTE has an SPT entry whose frame is that page."""
    out = []
    for pid, proc in state.processes.items():
        if proc.spt is None:
            continue
        for va, phys, _ in _present_4k(proc):
            page = proc.spt_page(va)
            if page is not None and page.busy:
                continue
            if page is None:
                out.append(Violation("present_pte_has_spt_frame",
                                     "present PTE with no SPT entry", va, pid,
                                     "an SPT entry", "none"))
            elif page.frame_pa is not None and page.frame_pa != phys:
                out.append(Violation("present_pte_has_spt_frame",
                                     "PTE maps a different frame than the SPT records",
                                     va, pid, f"frame 0x{page.frame_pa:x}",
                                     f"PTE -> 0x{phys:x}"))
            elif page.frame_pa is None:
                out.append(Violation("present_pte_has_spt_frame",
                                     "present PTE but the SPT page has no frame",
                                     va, pid, "a resident SPT page",
                                     f"not resident (type {page.type})"))
    return out


def nonresident_not_present(state: MachineState) -> list[Violation]:
    """An SPT page without a frame has no present PTE."""
    out = []
    for pid, proc in state.processes.items():
        if proc.spt is None:
            continue
        for va, page in proc.spt.items():
            if page.frame_pa is None and not page.busy and proc.pages.lookup(va) is not None:
                out.append(Violation("nonresident_not_present",
                                     "page without a frame is present in hardware",
                                     va, pid, "no present PTE",
                                     proc.pages.lookup(va).describe()))
    return out


def user_bit(state: MachineState) -> list[Violation]:
    """User pages have U set; nothing at or above the user top has U."""
    out = []
    for pid, proc in state.processes.items():
        for m in proc.pages.supervisor_in_user_range():
            out.append(Violation("user_bit", "supervisor-only page in user space",
                                 m.va, pid, "U set", m.describe()))
        for va, m in proc.pages.user_pages.items():
            if va >= proc.pages.user_top:
                out.append(Violation("user_bit", "user-accessible kernel page",
                                     va, pid, "U clear", m.describe()))
    return out


def writable_only_if_spt_writable(state: MachineState) -> list[Violation]:
    """W only where the SPT says the page is writable (read-only mappings of
    writable pages are fine: copy-on-write, dirty tracking)."""
    out = []
    for pid, proc in state.processes.items():
        if proc.spt is None:
            continue
        for va, _, writable in _present_4k(proc):
            page = proc.spt_page(va)
            if writable and page is not None and page.writable is False:
                out.append(Violation("writable_only_if_spt_writable",
                                     "read-only page is writable in hardware",
                                     va, pid, "W clear", "W set"))
    return out


def code_not_writable(state: MachineState) -> list[Violation]:
    """Pages of executable segments are never writable."""
    out = []
    for pid, proc in state.processes.items():
        for va, _, writable in _present_4k(proc):
            if writable and any(lo <= va < hi for lo, hi in proc.code_ranges):
                out.append(Violation("code_not_writable", "code page is writable",
                                     va, pid, "W clear", "W set"))
    return out


def no_shared_frames(state: MachineState) -> list[Violation]:
    """No frame is mapped twice unless every mapping of it is read-only
    (copy-on-write sharing); a shared frame must not back a page the SPT
    marks writable and not copy-on-write."""
    users = defaultdict(list)
    for pid, proc in state.processes.items():
        for va, phys, writable in _present_4k(proc):
            users[phys].append((pid, va, writable, proc.spt_page(va)))
    out = []
    for phys, maps in users.items():
        if len(maps) < 2:
            continue
        names = ", ".join(f"pid {p} 0x{v:x}{' W' if w else ''}" for p, v, w, _ in maps)
        for pid, va, writable, page in maps:
            bad_spt = page is not None and page.writable and page.cow is False
            if writable or bad_spt:
                out.append(Violation("no_shared_frames",
                                     f"frame 0x{phys:x} shared by {names}", va, pid,
                                     "private frame, or read-only copy-on-write sharing",
                                     "writable mapping" if writable else
                                     "writable page not marked copy-on-write"))
    return out


def resident_within_pool(state: MachineState) -> list[Violation]:
    """Distinct resident user frames never exceed the user frames in use."""
    pools = state.pools
    if pools.user_frames_total is None or pools.vm_busy:
        return []
    frames = {phys for proc in state.processes.values() for _, phys, _ in _present_4k(proc)}
    limit = pools.user_frames_total
    what = "user pool size"
    if pools.user_frames_free is not None:
        limit -= pools.user_frames_free
        what = "user frames allocated"
    if len(frames) > limit:
        return [Violation("resident_within_pool",
                          f"more mapped user frames than {what}", None, None,
                          f"<= {limit}", str(len(frames)))]
    return []


def swap_accounting(state: MachineState) -> list[Violation]:
    """Used swap slots equal the distinct slots SPT pages record."""
    if state.pools.swap_slots_used is None or state.pools.vm_busy:
        return []
    if any(p.spt is None for p in state.processes.values()):
        return []
    slots = {page.swap_slot for proc in state.processes.values()
             for page in proc.spt.values() if page.swap_slot is not None}
    if len(slots) != state.pools.swap_slots_used:
        return [Violation("swap_accounting",
                          "swap slots in use differ from the slots SPT pages hold",
                          None, None, f"{len(slots)} slots (from the SPTs)",
                          f"{state.pools.swap_slots_used} used on the swap map")]
    return []


INVARIANTS: dict[str, Callable[[MachineState], list[Violation]]] = {
    f.__name__: f for f in (
        present_pte_has_spt_frame, nonresident_not_present, user_bit,
        writable_only_if_spt_writable, code_not_writable, no_shared_frames,
        resident_within_pool, swap_accounting)
}


def check_invariants(state: MachineState, disabled=()) -> list[Violation]:
    """Runs every invariant not in DISABLED; returns all violations."""
    out = []
    for name, check in INVARIANTS.items():
        if name not in disabled:
            out.extend(check(state))
    return out
