"""A Pintos-KAIST student's supplemental page table (SPT), found through the
kernel's DWARF types and read from guest memory, without the student's
cooperation.

Discovery (discover_layout) looks at `struct thread` and `struct page`:
  * the table: a `struct hash` or `struct list` (or a pointer to one)
    inside the thread's `struct supplemental_page_table` member; a
    `struct hash` elsewhere in `struct thread` if the SPT member holds none;
  * the link: the `struct hash_elem` (for a hash) or `struct list_elem`
    (for a list) member of `struct page` that puts pages in that table;
  * per page: `va`, `frame->kva`, `operations->type` (the skeleton's
    members), and a writable flag under a recognisable name (WRITABLE_NAMES,
    or READ_ONLY_NAMES meaning the opposite).
Where this is ambiguous or absent, SptNotRecognised says why. A mapping
(a course's `[spt]` table, see docs/pintos-kaist.md) can name the members:
  table = "spt.pages"    member path of the table in struct thread
  link = "elem_spt"      member of struct page linking it into the table
  writable = "writable"  member of struct page ("" = none)
  read_only = "ro"       member of struct page meaning "not writable"
  swap_slot, swap_map    see harness/adapters/pintos_swap.py
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from harness.adapters.pintos_swap import find_slot_member
from harness.dwarf_types import TypeInfo, TypeLookupError
from harness.typed_memory import StructureError, iter_hash, iter_list, read_value
from oracles.state import ANON, FILE, UNINIT, SptPage

WRITABLE_NAMES = ("writable", "is_writable", "writeable", "is_writeable", "can_write",
                  "rw", "write", "w")
READ_ONLY_NAMES = ("read_only", "readonly", "is_read_only", "ro")
MAPPING_KEYS = ("table", "link", "writable", "read_only", "swap_slot", "swap_map")
SPT_STRUCT = "struct supplemental_page_table"
# enum vm_type (include/vm/vm.h): VM_TYPE(type) = type & 7.
VM_TYPES = {0: UNINIT, 1: ANON, 2: FILE, 3: "page_cache"}
VM_TYPE_MASK = 7
MAX_DEPTH = 4
ReadMemory = Callable[[int, int], bytes]


class SptNotRecognised(Exception):
    """The kernel's types do not show an SPT layout we can read (the
    message says what is missing or ambiguous)."""


class SptReadError(Exception):
    """The SPT of one thread could not be read (corrupt links, bad values)."""


@dataclasses.dataclass(frozen=True)
class Container:
    """A candidate table inside struct thread."""
    path: str            # member path in struct thread ("spt.pages")
    kind: str            # "hash" or "list"
    type: TypeInfo       # struct hash / struct list
    indirect: bool       # the member is a pointer to the table
    in_spt: bool         # inside the struct supplemental_page_table member


@dataclasses.dataclass(frozen=True)
class SptLayout:
    """How to read one kernel's SPT."""
    thread_type: TypeInfo
    page_type: TypeInfo
    container: Container
    link: str                      # struct page member in the table
    writable: Optional[str]        # struct page member, None if unknown
    writable_inverted: bool        # the member means read-only
    frame_kva_offset: int          # offset of kva in struct frame
    ops_type_offset: int           # offset of type in struct page_operations
    ops_type: TypeInfo
    swap_slot: Optional[str] = None  # struct page member: an anon page's slot
    notes: tuple = ()              # what was not recognised

    def describe(self) -> str:
        c = self.container
        table = f"struct thread.{c.path}" + (" (pointer)" if c.indirect else "")
        flag = ("none" if self.writable is None else
                ("!" if self.writable_inverted else "") + f"page.{self.writable}")
        slot = f"page.{self.swap_slot}" if self.swap_slot else "none"
        return (f"{c.kind} {table} of struct page via page.{self.link}; writable: {flag}; "
                f"swap slot: {slot}")


# ---- discovery ----

def _container_kind(t: TypeInfo) -> Optional[str]:
    names = {m.name for m in t.members}
    if t.kind == "struct" and t.name == "struct hash" and {"buckets", "bucket_cnt"} <= names:
        return "hash"
    if t.kind == "struct" and t.name == "struct list" and {"head", "tail"} <= names:
        return "list"
    return None


def find_containers(thread_type: TypeInfo) -> list[Container]:
    """Every struct hash / struct list (or pointer to one) inside struct
    thread, looking through embedded structs and unions."""
    found: list[Container] = []

    def visit(t: TypeInfo, prefix: str, in_spt: bool, depth: int) -> None:
        for m in t.members:
            path = prefix + m.name if m.name else prefix.rstrip(".")
            mt = m.type.resolved()
            kind = _container_kind(mt)
            target = mt.target.resolved() if mt.kind == "pointer" and mt.target else None
            if kind:
                found.append(Container(path, kind, mt, False, in_spt))
            elif target is not None and _container_kind(target):
                found.append(Container(path, _container_kind(target), target, True, in_spt))
            elif mt.kind in ("struct", "union") and depth < MAX_DEPTH:
                inner = path + "." if m.name else prefix
                visit(mt, inner, in_spt or mt.name == SPT_STRUCT, depth + 1)

    visit(thread_type.resolved(), "", False, 0)
    return found


def _direct_members(t: TypeInfo, prefix: str = ""):
    """(name, Member) of T's members, looking through anonymous ones only."""
    for m in t.resolved().members:
        if m.name is not None:
            yield prefix + m.name, m
        elif m.type.resolved().kind in ("struct", "union"):
            yield from _direct_members(m.type, prefix)


def find_links(page_type: TypeInfo, kind: str) -> list[str]:
    """Members of struct page that can link it into a table of KIND."""
    wanted = "struct hash_elem" if kind == "hash" else "struct list_elem"
    return [name for name, m in _direct_members(page_type) if m.type.resolved().name == wanted]


def _hint_score(text: str) -> int:
    lowered = text.lower()
    return sum(hint in lowered for hint in ("spt", "page", "hash", "table", "vm"))


def _choose_table(containers: list[Container], page_type: TypeInfo) -> tuple[Container, str]:
    """The (container, link) pair that is the SPT; SptNotRecognised if none
    or several equally likely."""
    in_spt = [c for c in containers if c.in_spt]
    pool = in_spt or [c for c in containers if c.kind == "hash"]
    pairs = [(c, link) for c in pool for link in find_links(page_type, c.kind)]
    if not pairs:
        found = ", ".join(f"{c.kind} thread.{c.path}" for c in pool)
        if not found:
            raise SptNotRecognised(f"no SPT found: neither {SPT_STRUCT} nor struct thread holds "
                                   "a struct hash (or a list) of pages (VM not implemented?)")
        raise SptNotRecognised(f"no SPT found: struct page has no hash_elem/list_elem member "
                               f"that links it into {found}")
    if len(pairs) > 1:  # prefer names that say "spt", "page"...: the link's first
        score = {id(p): (_hint_score(p[1]), _hint_score(p[0].path)) for p in pairs}
        best = max(score.values())
        pairs = [p for p in pairs if score[id(p)] == best]
    if len(pairs) > 1:
        listed = "; ".join(f"thread.{c.path} via page.{link}" for c, link in pairs)
        raise SptNotRecognised(f"SPT ambiguous: {listed} (name it in a layout mapping)")
    return pairs[0]


def _find_writable(page_type: TypeInfo) -> tuple[Optional[str], bool]:
    members = dict(_direct_members(page_type))
    for name in WRITABLE_NAMES:
        if name in members and members[name].type.resolved().kind in ("base", "enum"):
            return name, False
    for name in READ_ONLY_NAMES:
        if name in members and members[name].type.resolved().kind in ("base", "enum"):
            return name, True
    return None, False


def _member_or_fail(t: TypeInfo, path: str, why: str):
    try:
        return t.member(path)
    except TypeLookupError:
        raise SptNotRecognised(f"{t.name} has no member {path!r} ({why})") from None


def _get_type(types, name: str) -> TypeInfo:
    try:
        return types.get(name)
    except TypeLookupError:
        raise SptNotRecognised(f"the kernel's debug information has no {name} "
                               "(built without VM, or without -g?)") from None


def _pointee(t: TypeInfo, member: str, expected: str) -> TypeInfo:
    m = _member_or_fail(t, member, f"expected a pointer to {expected}")
    target = m.type.resolved().target
    if m.type.resolved().kind != "pointer" or target is None:
        raise SptNotRecognised(f"{t.name}.{member} is not a pointer to {expected}")
    return target.resolved()


def discover_layout(types, mapping: Optional[dict] = None) -> SptLayout:
    """The SPT layout of the kernel whose DwarfTypes are TYPES, following
    MAPPING's names where given. SptNotRecognised with the reason if none."""
    mapping = dict(mapping or {})
    unknown = set(mapping) - set(MAPPING_KEYS)
    if unknown:
        raise SptNotRecognised(f"layout mapping: unknown keys {sorted(unknown)} "
                               f"(known: {', '.join(MAPPING_KEYS)})")
    thread, page = _get_type(types, "struct thread"), _get_type(types, "struct page")
    container, link = _table_from_mapping(thread, page, mapping)
    _member_or_fail(page, "va", "the page's user virtual address")
    frame = _pointee(page, "frame", "struct frame")
    kva = _member_or_fail(frame, "kva", "the frame's kernel virtual address")
    ops = _pointee(page, "operations", "struct page_operations")
    ops_type = _member_or_fail(ops, "type", "enum vm_type")
    writable, inverted = _writable_from_mapping(page, mapping)
    try:
        slot = find_slot_member(page, mapping)
    except TypeLookupError as e:
        raise SptNotRecognised(f"layout mapping swap_slot: {e}") from None
    notes = () if writable else (
        "struct page has no writable flag (looked for " + ", ".join(WRITABLE_NAMES) + ")",)
    return SptLayout(thread, page, container, link, writable, inverted, kva.offset,
                     ops_type.offset, ops_type.type, slot, notes)


def _table_from_mapping(thread: TypeInfo, page: TypeInfo, mapping: dict):
    if "table" not in mapping:
        container, link = _choose_table(find_containers(thread), page)
        if mapping.get("link") and mapping["link"] not in find_links(page, container.kind):
            raise SptNotRecognised(f"layout mapping: page.{mapping['link']} is not a "
                                   f"{container.kind} element member of struct page")
        return container, mapping.get("link") or link
    path = mapping["table"]
    chosen = [c for c in find_containers(thread) if c.path == path]
    if not chosen:
        raise SptNotRecognised(f"layout mapping: struct thread.{path} is not a struct hash or "
                               "struct list (or a pointer to one)")
    links = find_links(page, chosen[0].kind)
    link = mapping.get("link") or (links[0] if len(links) == 1 else None)
    if link is None:
        raise SptNotRecognised(f"layout mapping: name the link member of struct page "
                               f"(candidates: {', '.join(links) or 'none'})")
    return chosen[0], link


def _writable_from_mapping(page: TypeInfo, mapping: dict) -> tuple[Optional[str], bool]:
    for key, inverted in (("writable", False), ("read_only", True)):
        if key in mapping:
            if not mapping[key]:
                return None, False
            _member_or_fail(page, mapping[key], f"layout mapping {key}")
            return mapping[key], inverted
    return _find_writable(page)


# ---- reading ----

def read_spt(read: ReadMemory, thread_address: int, layout: SptLayout, kern_base: int,
             slot_count: Optional[int] = None) -> dict[int, SptPage]:
    """va -> SptPage for the thread at THREAD_ADDRESS (kernel VA); READ
    reads kernel memory. SLOT_COUNT: bits of the swap map, if known (swap
    slots are read only then). SptReadError if the table is corrupt."""
    c = layout.container
    table = thread_address + layout.thread_type.offset_of(c.path)
    if c.indirect:
        table = int.from_bytes(read(table, 8), "little")
        if table == 0:
            raise SptReadError(f"struct thread.{c.path} is NULL")
    walk = iter_hash if c.kind == "hash" else iter_list
    reader = _PageReader(read, layout, kern_base, slot_count)
    pages: dict[int, SptPage] = {}
    try:
        for value in walk(read, table, c.type, layout.page_type, layout.link):
            page = reader.page(value)
            if page.va in pages:
                raise SptReadError(f"two SPT entries for va {page.va:#x}")
            pages[page.va] = page
    except StructureError as e:
        raise SptReadError(str(e)) from None
    return pages


class _PageReader:
    """Turns struct page values into SptPages (caches operations->type)."""

    def __init__(self, read: ReadMemory, layout: SptLayout, kern_base: int,
                 slot_count: Optional[int]):
        self.read, self.layout, self.kern_base = read, layout, kern_base
        self.slot_count = slot_count if layout.swap_slot else None
        self._op_types: dict[int, str] = {}

    def page(self, value) -> SptPage:
        va = value["va"]
        writable = None
        if self.layout.writable is not None:
            writable = bool(value[self.layout.writable]) != self.layout.writable_inverted
        page_type = self._type(va, value["operations"])
        frame_pa = self._frame_pa(va, value["frame"])
        slot = None
        if self.slot_count is not None and page_type == ANON and frame_pa is None:
            raw = value[self.layout.swap_slot]
            slot = raw if 0 <= raw < self.slot_count else None
        # an anonymous page out of memory is in swap or not: without a slot member, unknown
        known = bool(self.layout.swap_slot) or page_type != ANON or frame_pa is not None
        return SptPage(va=va, type=page_type, writable=writable, frame_pa=frame_pa,
                       swap_slot=slot, swap_slot_known=known)

    def _type(self, va: int, ops: int) -> str:
        if ops == 0:
            raise SptReadError(f"page {va:#x}: operations is NULL")
        if ops not in self._op_types:
            raw = read_value(self.read, ops + self.layout.ops_type_offset, self.layout.ops_type)
            name = VM_TYPES.get(raw & VM_TYPE_MASK)
            if name is None:
                raise SptReadError(f"page {va:#x}: operations->type is {raw}, not a vm_type")
            self._op_types[ops] = name
        return self._op_types[ops]

    def _frame_pa(self, va: int, frame: int) -> Optional[int]:
        if frame == 0:
            return None
        kva = int.from_bytes(self.read(frame + self.layout.frame_kva_offset, 8), "little")
        if kva == 0:
            return None
        if kva < self.kern_base:
            raise SptReadError(f"page {va:#x}: frame->kva {kva:#x} is below KERN_BASE "
                               f"{self.kern_base:#x}")
        return kva - self.kern_base
