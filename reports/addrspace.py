"""The picture of an address space: regions of touched pages as cell grids.

`regions(rows, layout)` groups the PageRows of one checkpoint into regions
of nearby pages (gaps of up to GAP_PAGES untouched pages stay inside a
region as empty cells so holes show) and names each region after what it
most likely is: the program image (code/data/bss) from the layout's
CODE_BASE, the stack below its USER_STACK, mmap regions (mostly
file-backed pages), else heap / anonymous memory. Without a layout (results
saved before it was recorded) no region is named program or stack.
"""

from __future__ import annotations

import dataclasses

from typing import Optional

from oracles.model.address_layout import AddressLayout
from oracles.model.machine_state import FILE
from oracles.model.page_tables import PAGE_4K

GAP_PAGES = 16
PROGRAM_SPAN = 1 << 28   # a region starting this close above CODE_BASE is the image


@dataclasses.dataclass
class Cell:
    """One 4 KiB page in the picture; row None = an untouched hole."""
    va: int
    row: object = None


@dataclasses.dataclass
class Region:
    kind: str          # program, stack, mmap, anon
    start: int         # first page
    end: int           # one past the last page
    cells: list

    @property
    def title(self) -> str:
        return {"program": "program image (code / data / bss)",
                "stack": "stack", "mmap": "mmap (file-backed)",
                "anon": "heap / anonymous"}[self.kind]

    @property
    def pages(self) -> int:
        return (self.end - self.start) // PAGE_4K


def _kind(start: int, end: int, rows: list, first_above_base: bool,
          layout: Optional[AddressLayout]) -> str:
    if layout is not None and end > layout.stack_bottom and start < layout.user_stack:
        return "stack"
    if first_above_base and layout.code_base <= start < layout.code_base + PROGRAM_SPAN:
        return "program"
    files = sum(1 for r in rows if r.spt and r.spt.type == FILE)
    return "mmap" if files * 2 > len(rows) else "anon"


def _split(rows: list) -> list:
    """Lists of consecutive rows with gaps of at most GAP_PAGES pages."""
    groups, current = [], []
    for row in rows:
        if current and row.va - current[-1].va > (GAP_PAGES + 1) * PAGE_4K:
            groups.append(current)
            current = []
        current.append(row)
    if current:
        groups.append(current)
    return groups


def regions(rows: list, layout: Optional[AddressLayout]) -> list:
    """Regions (ascending VA) covering ROWS; rows must be sorted by va."""
    out = []
    program_seen = layout is None    # no layout: no region is called the program
    for group in _split(rows):
        start, end = group[0].va, group[-1].va + PAGE_4K
        first_above_base = not program_seen and start >= layout.code_base
        kind = _kind(start, end, group, first_above_base, layout)
        program_seen = program_seen or kind == "program" or start >= layout.code_base
        by_va = {r.va: r for r in group}
        cells = [Cell(va, by_va.get(va)) for va in range(start, end, PAGE_4K)]
        out.append(Region(kind, start, end, cells))
    return out
