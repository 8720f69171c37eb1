"""One checkpoint's pages for the report: PTEs and SPT side by side.

`page_rows(cp, previous)` joins the hardware mappings (a PageTableSnapshot)
with the SPT entries (SptPage) of one CheckpointRecord, gives each 4 KiB page a
display state (present writable / read-only / copy-on-write, swapped out,
file-backed or lazy and not loaded...) and marks what changed since the
previous checkpoint of the same process (oracles.model.page_tables.diff_snapshots
for the PTEs, a field comparison for the SPT).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from oracles.model.machine_state import FILE, UNINIT, SptPage
from oracles.model.page_tables import (PAGE_4K, SIZE_NAMES, PageMapping, PageTableSnapshot,
                                       diff_snapshots, format_flags)

# Display states of a page (CSS class "st-<state>"), legend order.
STATES = {
    "rw": "present, writable",
    "ro": "present, read-only",
    "cow": "present, copy-on-write",
    "file": "file-backed, not loaded",
    "lazy": "lazy (uninit), not loaded",
    "swapped": "swapped out",
    "out": "anonymous, not resident, no swap slot",
    "nospt": "present, no SPT entry",
    "super": "supervisor page in user space",
    "gone": "removed since the previous checkpoint",
}
# What a change of an SPT entry is told by: its recorded fields, not the
# page's address or what the harness notes about reading it.
SPT_FIELDS = tuple(f.name for f in dataclasses.fields(SptPage)
                   if f.name not in ("va", "busy", "swap_slot_known"))


@dataclasses.dataclass
class PageRow:
    """One user page at one checkpoint (PTE and/or SPT entry).

    pte: the mapping covering va (a large page covers many rows).
    spt: the SPT entry, None when the kernel has no entry.
    change: '', 'added', 'removed' or 'changed' (since the previous
    checkpoint of this process); change_text says what changed.
    """
    va: int
    pte: Optional[PageMapping]
    spt: Optional[SptPage]
    state: str
    supervisor: bool = False
    change: str = ""
    change_text: str = ""
    violations: list = dataclasses.field(default_factory=list)

    @property
    def flags_text(self) -> str:
        return format_flags(self.pte.flags) if self.pte else ""

    @property
    def size_text(self) -> str:
        return SIZE_NAMES.get(self.pte.size, hex(self.pte.size)) if self.pte else ""

    @property
    def file_backed(self) -> bool:
        """Present and backed by a file (stripes in the picture)."""
        return self.pte is not None and self.spt is not None and self.spt.type == FILE

    @property
    def frame_mismatch(self) -> bool:
        """The SPT records another frame than the PTE maps."""
        if self.pte is None or self.spt is None or self.spt.frame_pa is None:
            return False
        return self.spt.frame_pa != self.pte.phys + (self.va - self.pte.va)

    @property
    def tooltip(self) -> str:
        parts = [f"{self.va:#x}: {STATES[self.state]}"]
        if self.pte is not None:
            parts.append(f"PTE -> {self.pte.phys + self.va - self.pte.va:#x} "
                         f"{self.flags_text}")
        if self.spt is not None:
            parts.append(f"SPT {self.spt.type}")
        if self.change_text:
            parts.append(self.change_text)
        parts += [f"FAILED {v.oracle}: {v.message}"
                  for v in self.violations]
        return "\n".join(parts)


def spt_by_va(spt: Optional[list]) -> Optional[dict]:
    return None if spt is None else {p.va & ~(PAGE_4K - 1): p for p in spt}


def page_state(pte: Optional[PageMapping], spt: Optional[SptPage],
               spt_known: bool, supervisor: bool = False) -> str:
    """The display state (a STATES key) of one page."""
    if supervisor:
        return "super"
    if pte is not None:
        if spt_known and spt is None:
            return "nospt"
        if pte.writable:
            return "rw"
        return "cow" if spt and spt.cow else "ro"
    if spt is None:
        return "gone"
    if spt.swap_slot is not None:
        return "swapped"
    if spt.type == FILE:
        return "file"
    return "lazy" if spt.type == UNINIT else "out"


def _mappings_by_page(snap: Optional[PageTableSnapshot], cap: int) -> dict:
    """va -> (mapping, supervisor) for every 4 KiB user page (at most CAP)."""
    out: dict = {}
    if snap is None:
        return out
    for va, _, mapping in snap.iter_user_4k():
        if len(out) >= cap:
            break
        out[va] = (mapping, False)
    for mapping in snap.supervisor_in_user_range():
        out.setdefault(mapping.va, (mapping, True))
    return out


def _pte_changes(old, new) -> dict:
    """va -> (change, text) from diff_snapshots (A/D ignored)."""
    if old is None or new is None:
        return {}
    diff = diff_snapshots(old, new)
    out = {m.va: ("added", f"mapped {m.describe()}") for m in diff.added}
    out.update({m.va: ("removed", f"unmapped (was {m.describe()})")
                for m in diff.removed})
    out.update({c.va: ("changed", c.describe().split(": ", 1)[1])
                for c in diff.changed})
    return out


def _spt_change_text(old: Optional[SptPage], new: Optional[SptPage]) -> str:
    if old is None:
        return "SPT entry added"
    if new is None:
        return "SPT entry removed"
    parts = [f"{key} {_short(getattr(old, key))} -> {_short(getattr(new, key))}"
             for key in SPT_FIELDS if getattr(old, key) != getattr(new, key)]
    return ("SPT " + ", ".join(parts)) if parts else ""


def _short(value) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "—"}[value]
    if isinstance(value, int) and value >= 4096:
        return f"{value:#x}"
    return str(value)


def _mark_change(row: PageRow, pte_change, old_spt: Optional[SptPage],
                 new_spt: Optional[SptPage], compare_spt: bool) -> None:
    texts = []
    if pte_change:
        row.change, text = pte_change
        texts.append(text)
    if compare_spt:
        spt_text = _spt_change_text(old_spt, new_spt) \
            if (old_spt or new_spt) and old_spt != new_spt else ""
        if spt_text:
            texts.append(spt_text)
            if not row.change:
                row.change = ("added" if old_spt is None else
                              "removed" if new_spt is None else "changed")
    row.change_text = "; ".join(texts)


def page_rows(cp, previous=None, cap: int = 16384) -> tuple:
    """(rows sorted by va, truncated) for checkpoint CP; PREVIOUS is the
    earlier checkpoint of the same process (None: nothing is highlighted).
    At most CAP pages of large mappings are expanded (truncated=True then)."""
    snap, old_snap = cp.pages, previous.pages if previous is not None else None
    spt = spt_by_va(cp.spt)
    old_spt = spt_by_va(previous.spt) if previous is not None else None
    mappings = _mappings_by_page(snap, cap)
    truncated = snap is not None and len(mappings) >= cap
    old_maps = _mappings_by_page(old_snap, cap) if old_snap else {}
    vas = set(mappings) | set(spt or {})
    if snap is not None:            # pages unmapped since the previous checkpoint
        vas |= set(old_maps)
    if spt is not None:             # SPT entries removed since then
        vas |= set(old_spt or {})
    pte_changes = _pte_changes(old_snap, snap)
    by_va = {}
    for va in sorted(vas):
        mapping, supervisor = mappings.get(va, (None, False))
        entry = spt.get(va) if spt is not None else None
        row = PageRow(va, mapping, entry,
                      page_state(mapping, entry, spt is not None, supervisor),
                      supervisor)
        _mark_change(row, pte_changes.get(va),
                     old_spt.get(va) if old_spt is not None else None, entry,
                     spt is not None and old_spt is not None)
        by_va[va] = row
    for v in cp.violations:
        va = v.va
        if va is not None and (va & ~(PAGE_4K - 1)) in by_va:
            by_va[va & ~(PAGE_4K - 1)].violations.append(v)
    return list(by_va.values()), truncated


def state_counts(rows) -> dict:
    """STATES key -> number of rows in that state (only states present)."""
    counts: dict = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return {key: counts[key] for key in STATES if key in counts}
