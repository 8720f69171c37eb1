"""A Pintos-KAIST student's supplemental page table (SPT): where it is,
from the kernel's DWARF types, and its struct pages read from guest memory,
without the student's cooperation.

From the types alone (discover_layout):
  * the table: a `struct hash` or `struct list` (or a pointer to one)
    inside the thread's `struct supplemental_page_table` member; a
    `struct hash` elsewhere in `struct thread` if the SPT member holds none;
  * the link: a `struct hash_elem` (for a hash) or `struct list_elem` (for
    a list) member of `struct page`; where several tables or links are
    possible, the running kernel decides (pintos_discovery.py: the walk
    that reads pages with valid `operations` and holds every other's);
  * `operations`: the member that points to `struct page_operations`, and
    the `enum vm_type` member of that struct.
Every other member of struct page (va, frame, writable, swap slot) is
found by what the running kernel does with it: harness/adapters/
pintos_roles.py. Member names are used only to order equal candidates.

A mapping (a course's `[spt]` table, see docs/pintos-kaist.md) can name
the members instead, and then wins:
  table = "spt.pages"    member path of the table in struct thread
  link = "elem_spt"      member of struct page linking it into the table
  va = "va"              member of struct page: the user address
  frame = "frame"        member of struct page: pointer to the frame struct,
  kva = "kva"            and that struct's member holding the kernel address
  writable = "writable"  member of struct page ("" = none)
  read_only = "ro"       member of struct page meaning "not writable"
  swap_slot = "anon.slot_no"  member of struct page: an anonymous page's slot
  swap_map = "st.slots_map"   see harness/adapters/pintos_kaist/swap.py
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from harness.adapters.pintos_kaist.members import Field, scalar_fields
from harness.adapters.pintos_kaist.roles import RawPage
from harness.debug.dwarf_types import Member, TypeInfo, TypeLookupError
from harness.debug.rsp import RspMemoryError
from harness.debug.page_cache import PageCache
from harness.debug.typed_memory import StructureError, decode_hash, list_entries, read_value
from oracles.model.machine_state import ANON, FILE, UNINIT

MAPPING_KEYS = ("table", "link", "va", "frame", "kva", "writable", "read_only", "swap_slot",
                "swap_map")
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
    """What the kernel's types alone say of its SPT: the table(s) in
    struct thread with the struct page member linking pages into each
    (several when the types do not decide: the running kernel then does,
    see pintos_discovery.py), and `operations` (found by its type)."""
    thread_type: TypeInfo
    page_type: TypeInfo
    tables: tuple                  # ((Container, link member), ...), likeliest first
    operations: Field              # struct page's pointer to struct page_operations
    ops_type_offset: int           # offset of the enum vm_type in struct page_operations
    ops_type: TypeInfo

    def describe_table(self, container: Container, link: str) -> str:
        table = f"struct thread.{container.path}" + (" (pointer)" if container.indirect else "")
        return f"{container.kind} {table} of struct page via page.{link}"


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


def _choose_tables(containers: list[Container], page_type: TypeInfo) -> tuple:
    """The (container, link) pairs that can be the SPT, those whose names
    say "spt", "page"... first (the running kernel decides among several);
    SptNotRecognised if none."""
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
    return tuple(sorted(pairs, key=lambda p: (-_hint_score(p[1]), -_hint_score(p[0].path))))


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


def _operations(page: TypeInfo) -> tuple[Field, Member]:
    """struct page's pointer to struct page_operations, and the enum
    vm_type member of that struct (found by their types)."""
    found = [f for f in scalar_fields(page) if not f.in_union and f.target is not None
             and f.target.name == "struct page_operations"]
    if len(found) != 1:
        raise SptNotRecognised(f"struct page has {len(found)} pointers to struct "
                               "page_operations, expected one")
    ops = found[0].target
    typed = [m for m in ops.members if m.type.resolved().name == "enum vm_type"]
    return found[0], typed[0] if len(typed) == 1 else _member_or_fail(ops, "type",
                                                                       "enum vm_type")


def discover_layout(types, mapping: Optional[dict] = None) -> SptLayout:
    """What the types of the kernel whose DwarfTypes are TYPES say of its
    SPT, following MAPPING's table and link where given. SptNotRecognised
    with the reason if there is no SPT to read."""
    mapping = dict(mapping or {})
    unknown = set(mapping) - set(MAPPING_KEYS)
    if unknown:
        raise SptNotRecognised(f"layout mapping: unknown keys {sorted(unknown)} "
                               f"(known: {', '.join(MAPPING_KEYS)})")
    thread, page = _get_type(types, "struct thread"), _get_type(types, "struct page")
    tables = _tables_from_mapping(thread, page, mapping)
    operations, ops_type = _operations(page)
    for key in ("writable", "read_only", "swap_slot", "va"):
        if mapping.get(key):
            _member_or_fail(page, mapping[key], f"layout mapping {key}")
    if mapping.get("frame"):
        frame = _member_or_fail(page, mapping["frame"], "layout mapping frame")
        target = frame.type.resolved().target
        if target is None:
            raise SptNotRecognised(f"layout mapping frame: page.{mapping['frame']} is not a "
                                   "pointer")
        _member_or_fail(target, mapping.get("kva", "kva"), "layout mapping kva")
    return SptLayout(thread, page, tables, operations, ops_type.offset, ops_type.type)


def _tables_from_mapping(thread: TypeInfo, page: TypeInfo, mapping: dict) -> tuple:
    if "table" not in mapping:
        pairs = _choose_tables(find_containers(thread), page)
        if mapping.get("link"):
            pairs = tuple(p for p in pairs if p[1] == mapping["link"])
            if not pairs:
                raise SptNotRecognised(f"layout mapping: page.{mapping['link']} is not a "
                                       "hash or list element member of struct page")
        return pairs
    path = mapping["table"]
    chosen = [c for c in find_containers(thread) if c.path == path]
    if not chosen:
        raise SptNotRecognised(f"layout mapping: struct thread.{path} is not a struct hash or "
                               "struct list (or a pointer to one)")
    links = find_links(page, chosen[0].kind)
    if mapping.get("link"):
        if mapping["link"] not in links:
            raise SptNotRecognised(f"layout mapping: page.{mapping['link']} is not a "
                                   f"{chosen[0].kind} element member of struct page")
        links = [mapping["link"]]
    if not links:
        raise SptNotRecognised(f"layout mapping: struct page has no {chosen[0].kind} element "
                               "member")
    return tuple((chosen[0], link) for link in links)


# ---- reading ----

def read_pages(read: ReadMemory, thread_address: int, layout: SptLayout, table: tuple,
               op_types: dict) -> list[RawPage]:
    """The struct pages in the SPT TABLE ((container, link)) of the thread
    at THREAD_ADDRESS (kernel VA), in table order; READ reads kernel memory
    (a PageCache: a hash's pages are decoded from the pages it keeps);
    OP_TYPES caches operations pointer -> page type. SptReadError if the
    table is corrupt (or TABLE is not the SPT)."""
    container, link = table
    address = thread_address + layout.thread_type.offset_of(container.path)
    if container.indirect:
        address = int.from_bytes(read(address, 8), "little")
        if address == 0:
            raise SptReadError(f"struct thread.{container.path} is NULL")
    pages, addresses = [], set()
    try:
        for entry, data, ops in _entries(read, address, container, layout, link):
            if entry in addresses:
                raise SptReadError(f"struct page at {entry:#x} is in the table twice")
            addresses.add(entry)
            kind = op_types.get(ops) or _page_type(read, layout, entry, ops, op_types)
            pages.append(RawPage(entry, data, kind))
    except StructureError as e:
        raise SptReadError(str(e)) from None
    return pages


def _entries(read: ReadMemory, address: int, container: Container, layout: SptLayout,
             link: str):
    """(address, bytes, operations pointer) of each struct page in the table
    CONTAINER at ADDRESS, linked through LINK."""
    size = layout.page_type.resolved().size
    if container.kind == "hash":
        pages = read if isinstance(read, PageCache) else PageCache(read)
        for entry, data, at, (ops, _) in decode_hash(pages, address, container.type,
                                                      layout.page_type, link,
                                                      (layout.operations.path,)):
            yield entry, data[at:at + size], ops
        return
    for entry in list_entries(read, address, container.type, layout.page_type, link):
        data = read(entry, size)
        yield entry, data, layout.operations.value(data)


def _page_type(read: ReadMemory, layout: SptLayout, address: int, ops: int,
               op_types: dict) -> str:
    if ops == 0:
        raise SptReadError(f"struct page at {address:#x}: operations is NULL")
    if ops not in op_types:
        try:
            raw = read_value(read, ops + layout.ops_type_offset, layout.ops_type)
        except RspMemoryError:
            raise SptReadError(f"struct page at {address:#x}: operations {ops:#x} "
                               "is not readable") from None
        name = VM_TYPES.get(raw & VM_TYPE_MASK)
        if name is None:
            raise SptReadError(f"struct page at {address:#x}: operations->type is "
                               f"{raw}, not a vm_type")
        op_types[ops] = name
    return op_types[ops]
