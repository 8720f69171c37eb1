"""Swap usage of a Pintos-KAIST student kernel, found by name through DWARF.

Swap map: a global `struct bitmap *`, or a global struct with a
`struct bitmap *` member, whose name says "swap" or "slot" (`swap_table`,
`swap_slot`, `st.slots_map`...): one bit per page-sized slot, set = used.

Slot of a page: an integer member of `struct anon_page` (the page's `anon`
union member) named after the slot, the first of SLOT_HINTS that names
exactly one member (`slot_no`, `slot_idx`, `swap_idx`...). Its value is a
slot only for an anonymous page without a frame and only when it is a bit
of the map (0 <= value < bit count): students mark "no slot" with -1,
SIZE_MAX or count + 1.

Both or nothing: swap usage is reported only when the map and the slot
member are both found, so that oracles never compare a map against pages
whose slots could not be read.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from harness.dwarf_types import TypeInfo, TypeLookupError
from harness.typed_memory import read_struct

MAP_HINTS = ("swap", "slot")
SLOT_HINTS = ("slot", "idx", "index", "sector", "no", "num")
ReadMemory = Callable[[int, int], bytes]


@dataclasses.dataclass(frozen=True)
class SwapMap:
    name: str          # "swap_table" or "st.slots_map"
    pointer: int       # address of the `struct bitmap *`


def _is_bitmap_pointer(t: TypeInfo) -> bool:
    r = t.resolved()
    return r.kind == "pointer" and r.target is not None and \
        r.target.resolved().name == "struct bitmap"


def _hinted(text: str) -> bool:
    return any(hint in text.lower() for hint in MAP_HINTS)


def _map_candidates(types) -> list[SwapMap]:
    found = []
    for name in types.variables():
        try:
            variable = types.variable(name)
        except TypeLookupError:
            continue   # file-static variables of the same name in several files
        vtype = variable.type.resolved()
        if _is_bitmap_pointer(vtype) and _hinted(name):
            found.append(SwapMap(name, variable.address))
        elif vtype.kind == "struct":
            found += [SwapMap(f"{name}.{m.name}", variable.address + m.offset)
                      for m in vtype.members
                      if m.name and _is_bitmap_pointer(m.type) and _hinted(f"{name}.{m.name}")]
    return found


def find_swap_map(types, mapping: Optional[dict] = None) -> tuple[Optional[SwapMap], str]:
    """(the swap map, "") or (None, why not). MAPPING's `swap_map` names it
    ("VARIABLE" or "VARIABLE.MEMBER")."""
    wanted = (mapping or {}).get("swap_map")
    candidates = _map_candidates(types)
    if wanted:
        chosen = [c for c in candidates if c.name == wanted]
        if not chosen:
            return None, f"layout mapping: {wanted} is not a global struct bitmap * (or member)"
        return chosen[0], ""
    if len(candidates) == 1:
        return candidates[0], ""
    if candidates:
        return None, ("several swap maps: " + ", ".join(c.name for c in candidates)
                      + " (name one as swap_map in a layout mapping)")
    return None, "no global struct bitmap * whose name says swap or slot"


def find_slot_member(page_type: TypeInfo, mapping: Optional[dict] = None) -> Optional[str]:
    """Member path in struct page of an anonymous page's swap slot
    ("anon.slot_no"), or None."""
    wanted = (mapping or {}).get("swap_slot")
    if wanted:
        page_type.member(wanted)   # TypeLookupError names the members
        return wanted
    try:
        anon = page_type.member("anon").type.resolved()
    except TypeLookupError:
        return None
    integers = [m.name for m in anon.members
                if m.name and m.type.resolved().kind in ("base", "enum")
                and m.type.resolved().name != "_Bool"]
    for hint in SLOT_HINTS:
        named = [n for n in integers if hint in n.lower()]
        if len(named) == 1:
            return f"anon.{named[0]}"
    return None


def read_bitmap(read: ReadMemory, bitmap_type: TypeInfo, address: int) -> list[bool]:
    """The bits of the Pintos `struct bitmap` at ADDRESS (lib/kernel/bitmap.c:
    bit_cnt, then bits in unsigned longs, least significant bit first)."""
    bitmap = read_struct(read, address, bitmap_type)
    count = bitmap["bit_cnt"]
    raw = read(bitmap["bits"], (count + 7) // 8) if count else b""
    return [bool(raw[i >> 3] >> (i & 7) & 1) for i in range(count)]
