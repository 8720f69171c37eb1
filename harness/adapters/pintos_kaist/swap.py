"""The swap map of a Pintos-KAIST student kernel: which `struct bitmap` it
is, found by its size rather than its name.

Candidates: every `struct bitmap *` reachable from a global variable:
the variable itself, a member of a global struct, or a member of the struct
a global pointer points to (`swap_table`, `st.slots_map`, `swap->used`),
except palloc's pools. The swap map is the one whose bit count is the swap
disk's size in pages: the `capacity` (sectors) of the swap disk's `struct
disk` in devices/disk.c (channel 1, device 1) divided by 8 sectors a page.
A name that says "swap" or "slot" only orders candidates of equal size.
Which member of struct page holds a page's slot is decided from the
running kernel (harness/adapters/pintos_kaist/roles.py, SlotRole).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from harness.adapters.pintos_kaist.points import swap_disk_address
from harness.debug.dwarf_types import TypeInfo, TypeLookupError
from harness.errors import UsageError
from harness.debug.rsp import RspMemoryError
from harness.debug.typed_memory import read_struct

MAP_HINTS = ("swap", "slot")
SECTORS_PER_PAGE = 8
EXCLUDED_TYPES = ("struct pool",)     # palloc's pools: their used_map is a bitmap too
ReadMemory = Callable[[int, int], bytes]


@dataclasses.dataclass(frozen=True)
class SwapMap:
    """A `struct bitmap *` at POINTER, or at OFFSET inside the struct that
    the pointer at POINTER points to (VIA_POINTER)."""
    name: str          # "swap_table", "st.slots_map", "swap->used"
    pointer: int
    offset: int = 0
    via_pointer: bool = False

    def bitmap_address(self, read: ReadMemory) -> int:
        """The struct bitmap's address now, 0 if not set up."""
        address = int.from_bytes(read(self.pointer, 8), "little")
        if self.via_pointer:
            address = address and int.from_bytes(read(address + self.offset, 8), "little")
        return address


def _is_bitmap_pointer(t: TypeInfo) -> bool:
    r = t.resolved()
    return r.kind == "pointer" and r.target is not None and \
        r.target.resolved().name == "struct bitmap"


def _hinted(text: str) -> bool:
    return any(hint in text.lower() for hint in MAP_HINTS)


def _bitmap_members(t: TypeInfo, prefix: str, depth: int = 2):
    """(path, offset) of the struct bitmap * members of struct T."""
    for m in t.resolved().members:
        path = f"{prefix}.{m.name}" if m.name else prefix
        if _is_bitmap_pointer(m.type):
            yield path, m.offset
        elif m.type.resolved().kind in ("struct", "union") and depth > 0:
            yield from ((p, m.offset + o) for p, o in _bitmap_members(m.type, path, depth - 1))


def map_candidates(types) -> list[SwapMap]:
    """Every struct bitmap * reachable from a global, hinted names first."""
    found = []
    for name in types.variables():
        try:
            variable = types.variable(name)
        except TypeLookupError:
            continue   # file-static variables of the same name in several files
        vtype = variable.type.resolved()
        if vtype.name in EXCLUDED_TYPES:
            continue
        target = vtype.target.resolved() if vtype.kind == "pointer" and vtype.target else None
        if _is_bitmap_pointer(vtype):
            found.append(SwapMap(name, variable.address))
        elif vtype.kind == "struct":
            found += [SwapMap(path, variable.address + offset)
                      for path, offset in _bitmap_members(vtype, name)]
        elif target is not None and target.kind == "struct" and target.name not in EXCLUDED_TYPES:
            found += [SwapMap(path.replace(".", "->", 1), variable.address, offset, True)
                      for path, offset in _bitmap_members(target, name)]
    return sorted(found, key=lambda m: not _hinted(m.name))


def swap_disk_sectors(types, read: ReadMemory) -> Optional[int]:
    """The swap disk's size in sectors, as the kernel probed it (None if
    the disk structures cannot be read)."""
    try:
        disk = types.get("struct disk")
        capacity = disk.member("capacity")
        raw = read(swap_disk_address(types) + capacity.offset, capacity.type.resolved().size)
    except (TypeLookupError, UsageError, RspMemoryError):
        return None
    return int.from_bytes(raw, "little")


def swap_maps(read: ReadMemory, types, candidates: list,
              mapping: Optional[dict] = None) -> tuple[list, str]:
    """([the swap map], how it was identified), or several maps of the
    right size (the slot role then decides among them), or ([], why
    none). MAPPING's `swap_map` ("VARIABLE", "VARIABLE.MEMBER" or
    "VARIABLE->MEMBER") names it; otherwise the swap map is a candidate
    whose bit count is the swap disk's size in pages."""
    wanted = (mapping or {}).get("swap_map")
    if wanted:
        chosen = [c for c in candidates if c.name == wanted]
        if not chosen:
            return [], f"layout mapping: {wanted} is not a global struct bitmap * (or member)"
        return chosen[:1], f"swap map = {wanted} (named in the layout mapping)"
    sectors = swap_disk_sectors(types, read)
    if not sectors:
        return [], "swap map: unknown (the swap disk's size cannot be read)"
    slots = sectors // SECTORS_PER_PAGE
    counts = {}
    for c in candidates:
        try:
            address = c.bitmap_address(read)
            counts[c.name] = bit_count(read, types, address) if address else None
        except RspMemoryError:
            counts[c.name] = None
    fitting = [c for c in candidates if counts[c.name] == slots]
    size = f"{slots} bits = the swap disk's {sectors} sectors / {SECTORS_PER_PAGE}"
    if len(fitting) == 1:
        return fitting, f"swap map = {fitting[0].name} ({size})"
    if fitting:
        return fitting, (f"swap map: {', '.join(c.name for c in fitting)} all have {size}; "
                         "the swap slot's member decides")
    seen = ", ".join(f"{name} {count if count is not None else 'not set up'}"
                     for name, count in counts.items()) or "none"
    return [], (f"swap map: unknown (no struct bitmap reachable from a global has {size}; "
                f"bit counts: {seen})")


def bit_count(read: ReadMemory, types, address: int) -> int:
    return read_struct(read, address, types.get("struct bitmap"))["bit_cnt"]
