"""Invariants every correct paging implementation keeps at every checkpoint.

Each invariant is a function MachineState -> list[Violation] (FAIL: a
wrong value seen; UNKNOWN: what it needs could not be read). A scenario
may turn one off by name, with a reason (scenario key `invariants_off`).

When they hold. At a checkpoint only the process that called checkpoint()
is at a moment its program defines (ProcessState.settled); any other
process may be stopped in the middle of a kernel operation on its address
space: a fork building it (its PTEs and SPT entries come one after the
other), an exec that has not loaded its program yet (a forked child still
runs its parent's image, so the code ranges of the program it is named
after do not apply), an exit tearing it down, a fault or an eviction.
So the properties of one process's own records are judged on settled
processes only (PER_PROCESS minus INSTANT_SAFE); other processes get a
NOT_JUDGED note and are judged at their own checkpoints. What holds at
every instant of a correct kernel is judged on every process:
  user_bit            the U bit is set when a PTE is made, never later
  no_shared_frames    frames a settled process maps (a writable mapping of a
                      frame someone else maps is wrong at any instant)
  resident_within_pool, swap_accounting, swap_slot_owners
                      counts over the whole machine, skipped while a thread
                      is inside the VM (PoolState.vm_busy) or a process is
                      in transition (no readable SPT while not settled)
  swap_slots_match_disk  the swap map's size, fixed at boot
The copy-on-write and swap-slot ownership invariants live in
oracles/ownership.py.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

from oracles.model.machine_state import (MachineState, ProcessState, Violation,
                                         fields_unknown, not_judged, spt_unknown, unknown)
from oracles.state_queries import counts_in_transition, present_4k, swap_slots_not_judged
from oracles.ownership import (swap_slot_owners, swap_slots_match_disk,
                               unshared_frame_writable)


def _settled(state: MachineState):
    """(pid, proc) of the processes at a moment their program defines."""
    return [(pid, proc) for pid, proc in state.processes.items() if proc.settled]


def _frame_problem(proc: ProcessState, va: int, phys: int, page) -> Violation | None:
    """Why PROC's present page VA -> PHYS disagrees with its SPT record PAGE."""
    name = "present_pte_has_spt_frame"
    if page is None:
        return Violation(name, "present PTE with no SPT entry", va, proc.pid,
                         "an SPT entry", "none")
    if page.frame_pa is not None and page.frame_pa != phys:
        return Violation(name, "PTE maps a different frame than the SPT records", va,
                         proc.pid, f"frame 0x{page.frame_pa:x}", f"PTE -> 0x{phys:x}")
    if page.frame_pa is None:
        return Violation(name, "present PTE but the SPT page has no frame", va, proc.pid,
                         "a resident SPT page", f"not resident (type {page.type})")
    return None


def _kernel_page(state: MachineState, proc: ProcessState, va: int, phys: int) -> bool:
    """Whether PROC's present page VA -> PHYS is a kernel page mapped into
    user space: no SPT entry claims it and its frame lies outside the user
    pool (e.g. the read-only statistics page the KAIST CS330 code maps at
    0x4000 in every process). It is not a user page the student's SPT or
    frame accounting must cover. False where the pool is not known."""
    return proc.spt_page(va) is None and state.pools.in_user_pool(phys) is False


def _kernel_pages_note(proc: ProcessState, pages: list) -> list[Violation]:
    """One NOT_JUDGED note for PROC's kernel pages PAGES, (va, phys, W)."""
    if not pages:
        return []
    va, phys, writable = pages[0]
    more = f" and {len(pages) - 1} more" if len(pages) > 1 else ""
    return [not_judged("present_pte_has_spt_frame",
                       f"kernel page mapped into user space at 0x{va:x}{more} (frame 0x{phys:x} "
                       f"outside the user pool, {'writable' if writable else 'read-only'}, no "
                       "SPT entry): not a user page the SPT must record", proc.pid)]


def present_pte_has_spt_frame(state: MachineState) -> list[Violation]:
    """Every present user PTE has an SPT entry whose frame is that page
    (kernel pages mapped into user space, see _kernel_page, get a note)."""
    out = []
    for _, proc in _settled(state):
        if proc.spt is None:
            out.append(spt_unknown("present_pte_has_spt_frame", proc))
            continue
        kernel_pages = []
        for va, phys, writable in present_4k(proc):
            page = proc.spt_page(va)
            if page is not None and page.busy:
                continue
            if _kernel_page(state, proc, va, phys):
                kernel_pages.append((va, phys, writable))
                continue
            problem = _frame_problem(proc, va, phys, page)
            if problem is not None:
                out.append(problem)
        out += _kernel_pages_note(proc, kernel_pages)
    return out


def nonresident_not_present(state: MachineState) -> list[Violation]:
    """An SPT page without a frame has no present PTE."""
    out = []
    for pid, proc in _settled(state):
        if proc.spt is None:
            out.append(spt_unknown("nonresident_not_present", proc))
            continue
        for va, page in proc.spt.items():
            if page.busy or page.frame_pa is not None or proc.pages.lookup(va) is None:
                continue
            out.append(Violation("nonresident_not_present",
                                 "page without a frame is present in hardware",
                                 va, pid, "no present PTE", proc.pages.lookup(va).describe()))
    return out


def user_bit(state: MachineState) -> list[Violation]:
    """User pages have U set; nothing at or above the user top has U.
    Instant-safe: judged on every process."""
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
    name = "writable_only_if_spt_writable"
    out = []
    for pid, proc in _settled(state):
        if proc.spt is None:
            out.append(spt_unknown(name, proc))
            continue
        unread = []
        for va, _, writable in present_4k(proc):
            page = proc.spt_page(va)
            if not writable or page is None or page.busy:
                continue
            if page.writable is None:
                unread.append(va)
            elif page.writable is False:
                out.append(Violation(name, "read-only page is writable in hardware",
                                     va, pid, "W clear", "W set"))
        out += fields_unknown(name, proc, "writable flag", unread,
                              "whether a page mapped writable may be written")
    return out


def code_not_writable(state: MachineState) -> list[Violation]:
    """Pages of the executable segments of the program a settled process
    runs are never writable."""
    out = []
    for pid, proc in _settled(state):
        if proc.code_ranges is None:
            out.append(unknown("code_not_writable", f"which program {proc.name} runs is not "
                               "known (no code ranges)", None, pid))
            continue
        for va, _, writable in present_4k(proc):
            if writable and any(lo <= va < hi for lo, hi in proc.code_ranges):
                out.append(Violation("code_not_writable", "code page is writable",
                                     va, pid, "W clear", "W set"))
    return out


def _sharing_problem(maps: list, names: str, phys: int) -> list:
    """Findings for one frame mapped by every entry of MAPS, (pid, va,
    writable, SptPage or None): each writable mapping fails, and so does a
    writable SPT page not marked copy-on-write; an SPT that cannot say
    which (writable or cow unknown) is UNKNOWN."""
    out = []
    for pid, va, writable, page in maps:
        if writable or (page is not None and page.writable and page.cow is False):
            out.append(Violation("no_shared_frames", f"frame 0x{phys:x} shared by {names}",
                                 va, pid, "private frame, or read-only copy-on-write sharing",
                                 "writable mapping" if writable else
                                 "writable page not marked copy-on-write"))
        elif page is not None and page.writable is not False and (
                page.writable is None or page.cow is None):
            what = "writable flag" if page.writable is None else "copy-on-write flag"
            out.append(unknown("no_shared_frames", f"frame 0x{phys:x} shared by {names}: the SPT "
                               f"records no {what} to tell copy-on-write sharing from a bug",
                               va, pid))
    return out


def no_shared_frames(state: MachineState) -> list[Violation]:
    """No frame is mapped twice unless every mapping of it is read-only
    (copy-on-write sharing); a shared frame must not back a page the SPT
    marks writable and not copy-on-write. Judged on the frames a settled
    process maps."""
    users = defaultdict(list)
    for pid, proc in state.processes.items():
        for va, phys, writable in present_4k(proc):
            users[phys].append((pid, va, writable, proc.spt_page(va)))
    out = []
    for phys, maps in users.items():
        if len(maps) < 2 or not any(state.processes[m[0]].settled for m in maps):
            continue
        names = ", ".join(f"pid {p} 0x{v:x}{' W' if w else ''}" for p, v, w, _ in maps)
        out += _sharing_problem(maps, names, phys)
    return out


def resident_within_pool(state: MachineState) -> list[Violation]:
    """Distinct resident user frames never exceed the user frames in use
    (kernel pages mapped into user space, see _kernel_page, are not user
    frames and are not counted)."""
    pools = state.pools
    if pools.user_frames_total is None:
        return [unknown("resident_within_pool", "the kernel does not report its user pool size")]
    moment = counts_in_transition(state, "resident_within_pool")
    if moment:
        return moment
    frames = {phys for proc in state.processes.values() for va, phys, _ in present_4k(proc)
              if not _kernel_page(state, proc, va, phys)}
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
    name = "swap_accounting"
    if state.pools.swap_slots_used is None:
        return [unknown(name, "the kernel does not report swap usage")]
    not_now = swap_slots_not_judged(state, name)
    if not_now:
        return not_now
    slots = {page.swap_slot for proc in state.processes.values()
             for page in proc.spt.values() if page.swap_slot is not None}
    if len(slots) != state.pools.swap_slots_used:
        return [Violation(name, "swap slots in use differ from the slots SPT pages hold",
                          None, None, f"{len(slots)} slots (from the SPTs)",
                          f"{state.pools.swap_slots_used} used on the swap map")]
    return []


INVARIANTS: dict[str, Callable[[MachineState], list[Violation]]] = {
    f.__name__: f for f in (
        present_pte_has_spt_frame, nonresident_not_present, user_bit,
        writable_only_if_spt_writable, code_not_writable, no_shared_frames,
        resident_within_pool, swap_accounting, unshared_frame_writable,
        swap_slots_match_disk, swap_slot_owners)
}
# Judged on settled processes only (the others get a NOT_JUDGED note).
SETTLED_ONLY = ("present_pte_has_spt_frame", "nonresident_not_present",
                "writable_only_if_spt_writable", "code_not_writable",
                "unshared_frame_writable")


def _unsettled_notes(state: MachineState, disabled) -> list[Violation]:
    """One NOT_JUDGED per process that is not settled, naming the
    invariants left to its own checkpoints."""
    names = [n for n in SETTLED_ONLY if n not in disabled]
    if not names:
        return []
    return [not_judged(", ".join(names), f"{proc.name} (pid {pid}) was caught mid-flight, not "
                       "at a moment its program defines; judged at its own checkpoints", pid)
            for pid, proc in state.processes.items() if not proc.settled]


def check_invariants(state: MachineState, disabled=()) -> list[Violation]:
    """Runs every invariant not in DISABLED; returns what did not pass
    (FAIL and UNKNOWN findings, and NOT_JUDGED notes)."""
    out = []
    for name, check in INVARIANTS.items():
        if name not in disabled:
            out.extend(check(state))
    return out + _unsettled_notes(state, disabled)
