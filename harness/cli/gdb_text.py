"""The text of the vm-* GDB commands (harness/cli/gdb_commands.py): the
model objects a MachineView returns (harness/cli/gdb_view.py), in the
words and groupings of the report (reports/pages_view.py STATES and
page rows, reports/addrspace.py regions). Pure functions, unit-tested.
"""

from __future__ import annotations

from typing import Optional

from oracles.model.machine_state import SptPage
from oracles.model.page_tables import PAGE_4K
from reports.addrspace import regions
from reports.pages_view import STATES, page_rows, state_counts


def spt_text(page: Optional[SptPage]) -> str:
    """One SPT entry's fields as `type key=value...` (unknown fields left out)."""
    if page is None:
        return "no SPT entry"
    parts = [page.type]
    if page.writable is not None:
        parts.append("writable" if page.writable else "read-only")
    parts.append(f"frame={page.frame_pa:#x}" if page.frame_pa is not None else "not resident")
    if page.swap_slot is not None:
        parts.append(f"swap_slot={page.swap_slot}")
    elif not page.swap_slot_known:
        parts.append("swap_slot=?")
    for name in ("file_id", "file_offset", "read_bytes"):
        value = getattr(page, name)
        if value is not None:
            parts.append(f"{name}={value:#x}" if name == "file_offset" else f"{name}={value}")
    parts += [flag for flag in ("dirty", "cow", "busy") if getattr(page, flag)]
    return " ".join(parts)


def page_lines(page) -> list[str]:
    """vm-pt: a FaultPage (results/model.py) as the report tells a fault's page."""
    out = [f"{page.va:#x} in cr3 {page.cr3:#x}: {page.mapping}"]
    out += [f"  {e.level:<6} @{e.entry:#014x} = {e.value:#018x}  {e.flags}" for e in page.levels]
    out.append(f"  frame {page.frame:#x}" if page.frame is not None else "  frame: none")
    out.append(f"  SPT: {spt_text(page.spt)}")
    out += [f"  mapped by {owner}" for owner in page.owners]
    out += [f"  note: {note}" for note in page.notes]
    return out


def spt_lines(record, va: Optional[int] = None) -> list[str]:
    """vm-spt: the SPT of the record's process, one entry a line with the
    page's state in the report's words (only VA's page if given)."""
    if record.spt is None:
        return [f"{record.process} (pid {record.pid}): SPT not readable: {record.spt_note}"]
    rows = {row.va: row for row in page_rows(record)[0]}
    entries = sorted(record.spt, key=lambda p: p.va)
    if va is not None:
        entries = [p for p in entries if p.va == va & ~(PAGE_4K - 1)]
        if not entries:
            return [f"{va:#x}: no SPT entry in {record.process} (pid {record.pid})"]
    out = [f"{record.process} (pid {record.pid}): {len(record.spt)} SPT entries"]
    for p in entries:
        row = rows.get(p.va)
        state = STATES[row.state] if row is not None else "?"
        out.append(f"  {p.va:#014x}  {spt_text(p)}  [{state}]")
    return out


def maps_lines(record, layout) -> list[str]:
    """vm-maps: the record's pages as the report's address-space regions,
    with the number of pages in each state."""
    rows, truncated = page_rows(record)
    out = [f"{record.process} (pid {record.pid}): {len(rows)} pages"
           + (" (large mappings truncated)" if truncated else "")]
    for region in regions(rows, layout):
        touched = [cell.row for cell in region.cells if cell.row is not None]
        counts = ", ".join(f"{n} {STATES[key]}" for key, n in state_counts(touched).items())
        out.append(f"  {region.start:#014x}-{region.end:#014x}  {region.title}: "
                   f"{len(touched)} pages: {counts}")
    return out


def check_lines(record, at_checkpoint: bool) -> list[str]:
    """vm-check: the invariants' failures, unknowns and notes."""
    out = [f"{record.process} (pid {record.pid}): {len(record.violations)} invariant "
           f"violation(s)"]
    out += [f"  FAIL {v}" for v in record.violations]
    out += [f"  UNKNOWN {v}" for v in record.unknowns]
    out += [f"  NOTE {v}" for v in record.not_judged]
    if not at_checkpoint:
        out.append("  (not at a checkpoint: the kernel may be in the middle of an update, "
                   "and invariants may not hold here)")
    return out


def frames_lines(record, owners: dict) -> list[str]:
    """vm-frames: the pools, then every user frame mapped now and by whom
    (OWNERS: frame -> ["name (pid N) at VA"])."""
    pools = record.pools
    out = [f"user frames: {_known(pools.user_frames_total)} total, "
           f"{_known(pools.user_frames_free)} free; swap slots: "
           f"{_known(pools.swap_slots_used)} used of {_known(pools.swap_slots_total)}"
           + ("; a thread is inside the VM (counts may be mid-update)" if pools.vm_busy else "")]
    for frame in sorted(owners):
        out.append(f"  {frame:#014x}  {'; '.join(owners[frame])}")
    return out


def threads_lines(report: list, graph) -> list[str]:
    """vm-threads: one line per thread, then the wait cycle if every
    thread is blocked now (a deadlock, as the hang watch would judge it
    after seeing the same waits twice)."""
    out = list(report) or ["the kernel family does not tell its threads"]
    if graph is not None and graph.deadlock_problem() is None:
        out.append(f"deadlock now: {graph.describe()}")
    return out


def _known(value) -> str:
    return "?" if value is None else str(value)
