"""Questions several invariants ask of a MachineState: the present user
pages of a process, and whether machine-wide counts may be judged now."""

from __future__ import annotations

from oracles.model.page_tables import PTE_W
from oracles.model.machine_state import (PAGE, MachineState, ProcessState, Violation, not_judged,
                                         spt_unknown, unknown)


def present_4k(proc: ProcessState):
    """(va, phys, writable) of every present user 4 KiB page of PROC."""
    for m in proc.pages.iter_user_pages():
        for off in range(0, m.size, PAGE):
            yield m.va + off, m.phys + off, bool(m.flags & PTE_W)


def counts_in_transition(state: MachineState, name: str) -> list[Violation]:
    """NOT_JUDGED for global count NAME while the VM is busy or a process
    that is not settled has no readable SPT (an exec or exit in progress);
    [] when the counts may be judged."""
    if state.pools.vm_busy:
        return [not_judged(name, "a thread is inside the VM; counts may be mid-update")]
    moving = [p for p in state.processes.values() if p.spt is None and not p.settled]
    if moving:
        who = ", ".join(f"pid {p.pid} ({p.name})" for p in moving)
        return [not_judged(name, f"{who} in transition: {moving[0].spt_unreadable}")]
    return []


def swap_slots_unreadable(state: MachineState, name: str) -> list[Violation]:
    """UNKNOWN for check NAME when a process's SPT, or the swap slot its
    pages record, cannot be read; [] when every page's slot is known."""
    for proc in state.processes.values():
        if proc.spt is None:
            return [spt_unknown(name, proc)]
        if not all(page.swap_slot_known for page in proc.spt.values()):
            return [unknown(name, f"the SPT of {proc.name} records no swap slot the harness "
                            "can read", None, proc.pid)]
    return []


def swap_slots_not_judged(state: MachineState, name: str) -> list[Violation]:
    """Why check NAME, over the swap slots the SPT pages record, cannot be
    judged now: the counts are in transition (NOT_JUDGED) or a slot cannot
    be read (UNKNOWN); [] when it can."""
    return counts_in_transition(state, name) or swap_slots_unreadable(state, name)

