"""Guest memory read as C values, through DWARF types (harness/debug/dwarf_types.py).

READ is any callable `read(address, size) -> bytes`, such as
Debugger.read_virt. Values come back as Python values: int (integers, enums,
pointers), bool (_Bool), bytes (arrays of 1-byte char types, uint8_t too),
list (other arrays) and StructValue (structs and unions, decoded lazily
from one read).

    t = types.get("struct thread")
    thread = read_struct(dbg.read_virt, address, t)
    thread["tid"], thread.string("name"), thread.address_of("elem")
    for entry in iter_list(read, all_list_addr, types.get("struct list"), t, "allelem"): ...
"""

import array
import functools
import itertools
import struct
import sys
from collections.abc import Mapping
from typing import Callable, Iterator, Optional

from harness.debug import native_walk
from harness.debug.dwarf_types import TypeInfo
from harness.debug.struct_decoder import StructDecoder

ReadMemory = Callable[[int, int], bytes]
DEFAULT_MAX_ITEMS = 100_000
PAGE = 4096


class StructureError(Exception):
    """A linked structure in guest memory is broken (NULL link, cycle)."""


def decode(data: bytes, t: TypeInfo, address: int = 0):
    """The value of DATA (at guest ADDRESS) as type T."""
    r = t.resolved()
    if r.kind in ("base", "enum", "pointer"):
        if r.kind == "base" and r.name == "_Bool":
            return data[0] != 0
        return int.from_bytes(data[:r.size], "little", signed=r.signed)
    if r.kind in ("struct", "union"):
        return StructValue(r, address, data[:r.size])
    if r.kind == "array":
        element = r.target.resolved()
        if element.kind == "base" and element.size == 1 and "char" in element.name:
            return bytes(data[:r.size])
        step = element.size
        return [decode(data[i * step:(i + 1) * step], r.target, address + i * step)
                for i in range(r.count or 0)]
    raise TypeError(f"cannot decode a value of type {t.name} ({r.kind})")


def read_value(read: ReadMemory, address: int, t: TypeInfo):
    """The value of type T at guest ADDRESS."""
    size = t.resolved().size
    if size <= 0:
        raise TypeError(f"type {t.name} has no size (incomplete or flexible array)")
    return decode(read(address, size), t, address)


def read_struct(read: ReadMemory, address: int, t: TypeInfo) -> "StructValue":
    """The struct or union of type T at guest ADDRESS (one memory read)."""
    if t.resolved().kind not in ("struct", "union"):
        raise TypeError(f"read_struct: {t.name} is a {t.resolved().kind}, not a struct")
    return read_value(read, address, t)


class StructValue(Mapping):
    """A struct read from guest memory. value["tid"] or value.tid decodes a
    member; a dotted path ("elem.next") reaches into nested structs."""

    def __init__(self, t: TypeInfo, address: int, data: bytes):
        self.type = t
        self.address = address
        self.data = bytes(data)

    def __getitem__(self, path: str):
        plain = self.type.plain_members.get(path)
        if plain is None:
            plain = self.type.plain_members[path] = _plain_integer(self.type.member(path))
        if plain:
            start, end, signed = plain
            return int.from_bytes(self.data[start:end], "little", signed=signed)
        member = self.type.member(path)
        size = member.type.resolved().size
        if member.bit_size is None:
            return decode(self.data[member.offset:member.offset + size], member.type,
                          self.address + member.offset)
        width = (member.bit_offset + member.bit_size + 7) // 8
        raw = int.from_bytes(self.data[member.offset:member.offset + width], "little")
        value = (raw >> member.bit_offset) & ((1 << member.bit_size) - 1)
        if member.type.resolved().signed and value >> (member.bit_size - 1):
            value -= 1 << member.bit_size
        return value

    def __getattr__(self, name: str):
        if name.startswith("_") or name in ("type", "address", "data"):
            raise AttributeError(name)
        try:
            return self[name]
        except LookupError as err:
            raise AttributeError(str(err)) from None

    def __iter__(self) -> Iterator[str]:
        return (m.name for m in self.type.members if m.name is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def address_of(self, path: str) -> int:
        """Guest address of member PATH."""
        return self.address + self.type.offset_of(path)

    def string(self, path: str, encoding: str = "utf-8") -> str:
        """A char-array member as text, up to its first NUL."""
        raw = self[path]
        if not isinstance(raw, bytes):
            raise TypeError(f"{self.type.name}.{path} is not a char array")
        return raw.split(b"\0", 1)[0].decode(encoding, errors="replace")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={self._short(name)}" for name in self)
        return f"<{self.type.name} @{self.address:#x} {{{fields}}}>"

    def _short(self, name: str) -> str:
        value = self[name]
        if isinstance(value, StructValue):
            return "{...}"
        return hex(value) if isinstance(value, int) and not isinstance(value, bool) else repr(value)


def _plain_integer(member) -> tuple:
    """(start, end, signed) of MEMBER's bytes if it decodes as a plain
    integer (an integer, enum or pointer that is not a bit field), else ()."""
    r = member.type.resolved()
    if member.bit_size is not None or r.kind not in ("base", "enum", "pointer") or \
            (r.kind == "base" and r.name == "_Bool"):
        return ()
    return member.offset, member.offset + r.size, r.signed


def container_of(member_address: int, t: TypeInfo, member: str) -> int:
    """Address of the T whose member MEMBER is at MEMBER_ADDRESS."""
    return member_address - t.offset_of(member)


def _read_pointer(read: ReadMemory, address: int) -> int:
    return int.from_bytes(read(address, 8), "little")


def list_elements(read: ReadMemory, list_address: int, list_type: TypeInfo,
                  max_items: int = DEFAULT_MAX_ITEMS) -> Iterator[int]:
    """Addresses of the elements of a Pintos-style list: struct list
    { elem head, tail; }, elem { prev, next }, head.next .. tail."""
    elem_type = list_type.member("head").type
    next_offset = elem_type.offset_of("next")
    tail = list_address + list_type.offset_of("tail")
    first = _read_pointer(read, list_address + list_type.offset_of("head") + next_offset)
    return _links(read, first, next_offset, tail, max_items, f"list at {list_address:#x}")


def _links(read: ReadMemory, first: int, next_offset: int, end: int, max_items: int,
           what: str) -> Iterator[int]:
    """Addresses along a chain of next links (at NEXT_OFFSET) from FIRST up
    to END (a list's tail; 0 for a NULL-terminated chain). StructureError
    for a NULL link before END, or no END after MAX_ITEMS elements."""
    elem, count = first, 0
    while elem != end:
        _check_link(elem, end, count, max_items, what)
        yield elem
        count += 1
        elem = _read_pointer(read, elem + next_offset)


def _check_link(elem: int, end: int, count: int, max_items: int, what: str) -> None:
    """StructureError if ELEM, the COUNTth link of a chain before its END,
    is NULL or one too many."""
    if elem == 0:
        raise StructureError(f"{what}: NULL next link before the tail")
    if count == max_items:
        raise StructureError(f"{what}: no {'tail' if end else 'end'} after {max_items} "
                             f"elements (a cycle or corruption)")


def iter_list(read: ReadMemory, list_address: int, list_type: TypeInfo,
              entry_type: TypeInfo, member: str,
              max_items: int = DEFAULT_MAX_ITEMS) -> Iterator[StructValue]:
    """The entries (of ENTRY_TYPE, linked through its list element MEMBER)
    of the Pintos-style list at LIST_ADDRESS."""
    for address in list_entries(read, list_address, list_type, entry_type, member, max_items):
        yield read_struct(read, address, entry_type)


def list_entries(read: ReadMemory, list_address: int, list_type: TypeInfo,
                 entry_type: TypeInfo, member: str,
                 max_items: int = DEFAULT_MAX_ITEMS) -> Iterator[int]:
    """Addresses of the entries of the list at LIST_ADDRESS (see iter_list)."""
    offset = entry_type.offset_of(member)
    for elem in list_elements(read, list_address, list_type, max_items):
        yield elem - offset


def hash_entries(read: ReadMemory, hash_address: int, hash_type: TypeInfo,
                 entry_type: TypeInfo, member: str,
                 max_items: int = DEFAULT_MAX_ITEMS) -> Iterator[int]:
    """Addresses of the entries of a chained hash table (struct hash { ...,
    bucket_cnt, buckets }) whose hash element is ENTRY_TYPE's member
    MEMBER (read_struct them for StructValues), bucket by bucket (the bucket array is read in one piece). The
    DWARF type of `buckets` tells the two layouts apart:
      struct list *buckets (Pintos): each bucket is a Pintos list through
        hash_elem.list_elem;
      struct hash_elem **buckets (vmcheck's lib/hash.h): each bucket is a
        NULL-terminated chain of hash_elems through hash_elem.next."""
    chains = _HashChains(read, hash_address, hash_type, entry_type, member, max_items)
    next_offset = entry_type.offset_of(chains.next_path) - chains.elem_offset
    seen = 0
    for i, (first, end) in enumerate(zip(chains.heads, chains.ends())):
        for elem in _links(read, first, next_offset, end, max_items - seen, chains.what(i)):
            seen += 1
            yield elem - chains.elem_offset


def decode_hash(pages, hash_address: int, hash_type: TypeInfo, entry_type: TypeInfo,
                member: str, paths: tuple,
                max_items: int = DEFAULT_MAX_ITEMS) -> Iterator[tuple]:
    """(address, buffer, offset, values) for each entry of the hash table at
    HASH_ADDRESS, in hash_entries' order: the entry's bytes are
    buffer[offset:offset + its size], VALUES the entry's members PATHS, from
    one StructDecoder call per entry (PAGES: a harness.debug.page_cache.
    PageCache, which gives the buffers). The link to the next entry is
    decoded with them: hash_link(MEMBER) among PATHS (in offset order, the
    call is one unpack_from), or after them. With the guest's RAM mapped
    and the C walk built (harness/debug/native_walk.py), the chains are
    walked in C and every entry's bytes come in one buffer (the same bytes
    and values; where the C walk cannot go, Python walks as before)."""
    chains = _HashChains(pages.read, hash_address, hash_type, entry_type, member, max_items)
    paths = tuple(paths) if chains.next_path in paths else (*paths, chains.next_path)
    decoder = _decoder(entry_type, paths)
    size = entry_type.resolved().size
    native = _native_walk(pages, chains, entry_type, max_items)
    if native is not None:
        addresses, data = native
        yield from zip(addresses, itertools.repeat(data), range(0, len(data), size),
                       decoder.iter_values(data, size))
        return
    yield from _python_walk(pages, chains, decoder, paths.index(chains.next_path), size,
                            max_items)


def hash_rows(pages, hash_address: int, hash_type: TypeInfo, entry_type: TypeInfo,
              member: str, max_items: int = DEFAULT_MAX_ITEMS) -> tuple[array.array, bytes]:
    """(addresses, data): decode_hash's entries in one buffer, entry I's
    bytes at data[I * size:(I + 1) * size] (size: ENTRY_TYPE's), for a
    caller that decodes them a column at a time (StructDecoder.iter_values
    over DATA); ADDRESSES, entry I's address at I (an array of unsigned
    64-bit integers). The buffer is the C walk's, or the Python walk's
    entries joined (the same bytes)."""
    chains = _HashChains(pages.read, hash_address, hash_type, entry_type, member, max_items)
    native = _native_walk(pages, chains, entry_type, max_items)
    if native is not None:
        return native
    size = entry_type.resolved().size
    entries = list(_python_walk(pages, chains, _decoder(entry_type, (chains.next_path,)), 0,
                                size, max_items))
    return (array.array("Q", [address for address, _, _, _ in entries]),
            b"".join(bytes(data[at:at + size]) for _, data, at, _ in entries))


def _native_walk(pages, chains: "_HashChains", entry_type: TypeInfo,
                 max_items: int) -> Optional[tuple[array.array, bytes]]:
    """native_walk.walk_hash over the chains: (addresses, data), or None
    where the C walk cannot go (then Python walks)."""
    return native_walk.walk_hash(
        pages.native_view() if hasattr(pages, "native_view") else None, chains.heads,
        chains.ends(), chains.elem_offset, entry_type.offset_of(chains.next_path),
        entry_type.resolved().size, max_items)


def _python_walk(pages, chains: "_HashChains", decoder: StructDecoder, link: int, size: int,
                 max_items: int) -> Iterator[tuple]:
    """decode_hash's entries, the chains walked in Python through PAGES;
    the decoder's LINK-th value is the link to the next entry."""
    decode, elem_offset, seen = decoder.values, chains.elem_offset, 0
    kept = pages.kept() if size <= PAGE else {}          # read at this one stop
    for i, (first, end) in enumerate(zip(chains.heads, chains.ends())):
        if first == end:
            continue                                        # an empty bucket
        elem, count, limit = first, 0, max_items - seen
        while elem != end:
            if elem == 0 or count == limit:
                _check_link(elem, end, count, limit, chains.what(i))
            address = elem - elem_offset
            at = address & (PAGE - 1)
            data = kept.get(address - at) if at + size <= PAGE else None
            if not data:
                data, at = pages.buffer(address, size)
            values = decode(data, at)
            yield address, data, at, values
            count += 1
            elem = values[link]
        seen += count


def hash_link(hash_type: TypeInfo, member: str) -> str:
    """The path, in the entry, of the link to the next entry of a hash
    table of HASH_TYPE whose hash element is the entry's MEMBER."""
    bucket = hash_type.member("buckets").type.resolved().target
    chained = bucket is not None and bucket.resolved().kind == "pointer"
    return member + (".next" if chained else ".list_elem.next")


@functools.lru_cache(maxsize=32)
def _decoder(t: TypeInfo, paths: tuple) -> StructDecoder:
    return StructDecoder(t, paths)


class _HashChains:
    """The bucket chains of a hash table (see hash_entries): `heads`, the
    first link of each bucket's chain; ends(), the links that end them;
    what(i), what to call bucket I in an error."""

    def __init__(self, read: ReadMemory, hash_address: int, hash_type: TypeInfo,
                 entry_type: TypeInfo, member: str, max_items: int):
        table = read_struct(read, hash_address, hash_type)
        bucket_type = hash_type.member("buckets").type.resolved().target
        count = table["bucket_cnt"]
        if bucket_type is None or count > max_items:
            raise StructureError(f"hash at {hash_address:#x}: bad buckets (bucket_cnt={count})")
        self.address, self.buckets = hash_address, table["buckets"]
        bucket_type = bucket_type.resolved()
        self.step = bucket_type.size
        chained = bucket_type.kind == "pointer"
        self.next_path = hash_link(hash_type, member)
        self.elem_offset = entry_type.offset_of(self.next_path.rsplit(".", 1)[0])
        self.tail = None if chained else bucket_type.offset_of("tail")
        head = 0 if chained else \
            bucket_type.offset_of("head") + bucket_type.member("head").type.offset_of("next")
        self.heads = _pointers(read(self.buckets, count * self.step) if count else b"",
                               self.step, head)

    def ends(self):
        """The link that ends each bucket's chain, in turn: NULL for a
        chain, the list's tail for a Pintos list."""
        if self.tail is None:
            return itertools.repeat(0, len(self.heads))
        first = self.buckets + self.tail
        return range(first, first + len(self.heads) * self.step, self.step)

    def what(self, i: int) -> str:
        return f"hash at {self.address:#x}, bucket {i}"


def _pointers(data: bytes, step: int, offset: int) -> list:
    """The 8-byte pointer at OFFSET of each STEP-byte record of DATA."""
    if step % 8 == 0 and offset % 8 == 0 and sys.byteorder == "little":
        return memoryview(data).cast("Q")[offset // 8::step // 8].tolist()   # one C call
    record = struct.Struct(f"<{offset}xQ{step - offset - 8}x")
    return [pointer for (pointer,) in record.iter_unpack(data)]


def read_bitmap(read: ReadMemory, bitmap_type: TypeInfo, address: int) -> list[bool]:
    """The bits of the `struct bitmap` at ADDRESS, as Pintos (lib/kernel/
    bitmap.c) and the reference kernel lay it out: bit_cnt, then bits in
    unsigned longs, least significant bit first."""
    bitmap = read_struct(read, address, bitmap_type)
    count = bitmap["bit_cnt"]
    raw = read(bitmap["bits"], (count + 7) // 8) if count else b""
    return [bit for byte in raw for bit in _BYTE_BITS[byte]][:count]


_BYTE_BITS = tuple(tuple(bool(byte >> i & 1) for i in range(8)) for byte in range(256))
