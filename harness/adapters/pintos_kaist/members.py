"""The scalar members of a C struct, found through DWARF at any depth, and
their values taken from the struct's raw bytes.

Discovery by behaviour (harness/adapters/pintos_kaist/evidence.py) does not ask
for a member by name: it lists every candidate of the right kind (a bool,
an integer, a pointer) with where it sits, reads the whole struct once,
and tries each candidate's value against what the kernel is seen doing.

    fields = scalar_fields(types.get("struct page"))
    [f.path for f in fields if f.kind == "bool"]    # ["writable", "anon.on_disk"]
    f.value(raw_bytes_of_one_struct_page)
"""

from __future__ import annotations

import dataclasses
import functools
import struct
from typing import Optional

from harness.debug.dwarf_types import TypeInfo
from harness.debug.struct_decoder import INTEGER_FORMATS

MAX_DEPTH = 4


@dataclasses.dataclass(frozen=True, eq=False)
class Field:
    """One scalar member. PATH is dotted from the outer struct, anonymous
    structs and unions left out ("anon.slot_no"); OWNER the struct or union
    type that declares it; IN_UNION whether a union lies on the way (the
    member shares its bytes with other members)."""
    path: str
    offset: int
    size: int
    kind: str                    # "bool", "int", "enum" or "pointer"
    signed: bool
    type: TypeInfo
    owner: str
    in_union: bool
    bit_size: Optional[int] = None
    bit_offset: int = 0

    def __post_init__(self):
        code = INTEGER_FORMATS.get((self.size, self.signed)) if self.bit_size is None else None
        object.__setattr__(self, "_unpack", struct.Struct("<" + code).unpack_from
                           if code else None)

    def value(self, data: bytes) -> int:
        """The member's value in DATA, the bytes of the outer struct."""
        if self._unpack is not None:
            try:
                return self._unpack(data, self.offset)[0]
            except struct.error:     # DATA ends inside the member: what bytes there are
                pass
        return self._decode(data[self.offset:self.offset + self.size])

    def value_at(self, buffer, base: int) -> int:
        """The member's value in the outer struct whose first byte is
        BUFFER[BASE] (e.g. a page from harness.debug.page_cache)."""
        if self._unpack is not None:
            return self._unpack(buffer, base + self.offset)[0]
        return self._decode(bytes(buffer[base + self.offset:base + self.offset + self.size]))

    def column(self, datas) -> list:
        """The member's value in each of DATAS (bytes of one outer struct each)."""
        if self._unpack is None:
            return [self.value(data) for data in datas]
        unpack, offset = self._unpack, self.offset
        try:
            return [unpack(data, offset)[0] for data in datas]
        except struct.error:
            return [self.value(data) for data in datas]

    def read(self, read, address: int) -> int:
        """The member's value in the outer struct at ADDRESS of guest
        memory (READ(address, size) -> bytes)."""
        return self._decode(read(address + self.offset, self.size))

    def _decode(self, own: bytes) -> int:
        raw = int.from_bytes(own, "little")
        if self.bit_size is None:
            bits = 8 * self.size
        else:
            raw = (raw >> self.bit_offset) & ((1 << self.bit_size) - 1)
            bits = self.bit_size
        if self.signed and raw >> (bits - 1) & 1:
            raw -= 1 << bits
        return raw

    @property
    def where(self) -> tuple:
        """Bytes and bits it occupies: two fields with equal `where` are
        one value (union members that alias), signed or not."""
        return (self.offset, self.size, self.bit_size, self.bit_offset)

    @functools.cached_property
    def target(self) -> Optional[TypeInfo]:
        """The pointee of a pointer member, typedefs resolved."""
        t = self.type.resolved()
        return t.target.resolved() if t.kind == "pointer" and t.target is not None else None

    def describe(self, outer: str = "page") -> str:
        width = f":{self.bit_size}" if self.bit_size else ""
        return f"{outer}.{self.path}: {self.type.name}{width}"


def _kind(t: TypeInfo) -> Optional[str]:
    r = t.resolved()
    if r.kind == "base":
        if r.name == "_Bool":
            return "bool"
        return None if "float" in r.name or "double" in r.name else "int"
    if r.kind == "enum":
        return "enum"
    if r.kind == "pointer" and (r.target is None or r.target.resolved().kind != "function"):
        return "pointer"
    return None


@functools.lru_cache(maxsize=64)
def scalar_fields(struct: TypeInfo) -> tuple[Field, ...]:
    """Every bool, integer, enum and (data) pointer member of STRUCT, in
    declaration order, looking into nested structs and unions."""
    out: list[Field] = []

    def visit(t: TypeInfo, prefix: str, base: int, in_union: bool, depth: int) -> None:
        for m in t.members:
            path = prefix + m.name if m.name else prefix.rstrip(".")
            r = m.type.resolved()
            kind = _kind(m.type)
            if kind is not None:
                out.append(Field(path, base + m.offset, r.size, kind, r.signed, m.type, t.name,
                                 in_union, m.bit_size, m.bit_offset))
            elif r.kind in ("struct", "union") and depth < MAX_DEPTH:
                visit(r, path + "." if m.name else prefix, base + m.offset,
                      in_union or r.kind == "union", depth + 1)

    visit(struct.resolved(), "", 0, False, 0)
    return tuple(out)


def hinted(field: Field, hints: tuple) -> bool:
    """Whether the last part of FIELD's path contains one of HINTS."""
    name = field.path.rsplit(".", 1)[-1].lower()
    return any(h in name for h in hints)
