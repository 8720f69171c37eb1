"""Invariants about who holds a frame's write access and a swap slot
(issue 18), registered with the others in oracles/invariants.py.

  unshared_frame_writable  once a copy-on-write frame is no longer shared,
                           its last sharer's W bit follows its SPT entry
                           (settled processes only)
  swap_slots_match_disk    the kernel's swap slot total is the number of
                           pages the swap disk holds
  swap_slot_owners         every slot the swap map marks used is held by an
                           SPT page, every slot an SPT page holds is marked
                           used, and no two pages hold one slot unless they
                           are one copy-on-write group (the same address in
                           different processes)

A frame mapped by several PTEs is writable in none of them: that is
no_shared_frames (oracles/invariants.py). Each returns FAIL with what a
correct kernel would have, UNKNOWN where the adapter could not read what
the rule needs (a sharer count, the swap map's bits, the disk's size),
NOT_JUDGED while counts may be mid-update.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from oracles.model.machine_state import (MachineState, Violation, fields_unknown, not_judged, number_ranges,
                           spt_unknown, unknown)
from oracles.state_queries import present_4k, swap_slots_not_judged

SECTORS_PER_SLOT = 8


def _sole_read_only_pages(state: MachineState, proc):
    """(va, SptPage) of PROC's present pages mapped read-only whose frame
    no other PTE maps, that are not busy and that the SPT has."""
    mappers = Counter(phys for other in state.processes.values()
                      for _, phys, _ in present_4k(other))
    for va, phys, writable in present_4k(proc):
        page = proc.spt_page(va)
        if not writable and mappers[phys] == 1 and page is not None and not page.busy:
            yield va, page


def unshared_frame_writable(state: MachineState) -> list[Violation]:
    """A settled process's present page that the SPT marks writable, whose
    frame the kernel no longer shares (SptPage.cow False: its sharer count
    is one) and no other PTE maps, is writable in hardware: when the other
    sharers of a copy-on-write frame have copied it, the last one gets its
    write access back (its next write must not fault)."""
    name = "unshared_frame_writable"
    if state.pools.vm_busy:
        return [not_judged(name, "a thread is inside the VM; sharer counts may be mid-update")]
    out = []
    for pid, proc in state.processes.items():
        if not proc.settled:
            continue
        if proc.spt is None:
            out.append(spt_unknown(name, proc))
            continue
        unread: dict = {"writable flag": [], "sharer count": []}
        for va, page in _sole_read_only_pages(state, proc):
            if page.writable is None:
                unread["writable flag"].append(va)
            elif page.writable and page.cow is None:
                unread["sharer count"].append(va)
            elif page.writable and page.cow is False:
                out.append(Violation(
                    name, "writable page left read-only after its frame stopped being shared",
                    va, pid, "W set: the other sharers copied the frame, so a correct kernel "
                    "gives this one its write access back", "W clear (the next write faults)"))
        for field, vas in unread.items():
            out += fields_unknown(name, proc, field, vas,
                                  "whether a read-only page's frame is still shared")
    return out


def swap_slots_match_disk(state: MachineState) -> list[Violation]:
    """The kernel's swap slot total equals the pages on the swap disk the
    harness gave it (its size / 4 KiB; no disk: no slots)."""
    name = "swap_slots_match_disk"
    pools = state.pools
    if pools.swap_disk_slots is None:
        return [unknown(name, "the harness does not know the size of this kernel's swap disk")]
    if pools.swap_slots_total is None:
        return [unknown(name, "the kernel does not report its swap slot total "
                        "(no swap map the harness can read)")]
    if pools.swap_slots_total == pools.swap_disk_slots:
        return []
    disk = pools.swap_disk_slots
    return [Violation(name, "the kernel's swap slot total differs from the swap disk's size",
                      None, None, f"{disk} slots (the disk's {disk * SECTORS_PER_SLOT} sectors, "
                      f"{SECTORS_PER_SLOT} to a page)", f"{pools.swap_slots_total} slots")]


def _slot_holders(state: MachineState) -> tuple[dict, bool]:
    """({slot: [(pid, va, busy)]} over every SPT, whether any page is busy)."""
    holders = defaultdict(list)
    any_busy = False
    for pid, proc in state.processes.items():
        for va, page in proc.spt.items():
            any_busy = any_busy or page.busy
            if page.swap_slot is not None:
                holders[page.swap_slot].append((pid, va, page.busy))
    return holders, any_busy


def _one_cow_group(holders: list) -> bool:
    """Whether HOLDERS, (pid, va, busy), are one page copied by fork: the
    same address, each in a different process."""
    return len({va for _, va, _ in holders}) == 1 and \
        len({pid for pid, _, _ in holders}) == len(holders)


def _holder_problems(name: str, slot: int, holders: list, in_use: frozenset) -> list:
    """FAILs for one slot: held by a page while free on the map, or held by
    pages that are not one copy-on-write group."""
    out = []
    settled = [h for h in holders if not h[2]]
    if slot not in in_use and settled:
        pid, va, _ = settled[0]
        out.append(Violation(name, f"page holds swap slot {slot}, which the swap map marks free "
                             "(it can be handed to another page)", va, pid,
                             f"slot {slot} marked used", "free"))
    if len(holders) > 1 and not _one_cow_group(holders):
        pid, va, _ = holders[0]
        who = ", ".join(f"pid {p} 0x{v:x}" for p, v, _ in holders)
        out.append(Violation(name, f"swap slot {slot} held by {who}", va, pid,
                             "one page, or one copy-on-write group (one address, "
                             "different processes)", f"{len(holders)} pages"))
    return out


def swap_slot_owners(state: MachineState) -> list[Violation]:
    """Slots in use on the kernel's swap map are exactly the slots SPT pages
    hold, each by one page or one copy-on-write group. Judged over every
    process; a used slot that no page holds waits while a page is busy (an
    eviction writes its slot before the page records it)."""
    name = "swap_slot_owners"
    in_use = state.pools.swap_slots_in_use
    if in_use is None:
        return [unknown(name, "the kernel's swap map bits are not read")]
    not_now = swap_slots_not_judged(state, name)
    if not_now:
        return not_now
    holders, any_busy = _slot_holders(state)
    out = []
    for slot in sorted(holders):
        out += _holder_problems(name, slot, holders[slot], in_use)
    leaked = in_use - holders.keys()
    if leaked and any_busy:
        out.append(not_judged(name, f"swap slots {number_ranges(leaked)} in use with no page "
                              "holding them while a page is busy (its slot may not be "
                              "recorded yet)"))
    elif leaked:
        out.append(Violation(name, "swap slots in use that no SPT page holds (leaked)", None,
                             None, "every used slot held by a page",
                             f"slots {number_ranges(leaked)} held by none"))
    return out
