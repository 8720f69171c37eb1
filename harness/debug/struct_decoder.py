"""Scalar members of a C struct decoded in one call, from offsets the DWARF
types give, compiled once per (type, members).

StructValue (harness/debug/typed_memory.py) decodes a member at a time,
which is what a capture of 12,000 `struct page`s cannot afford. A
StructDecoder turns the members it is asked for into as few
struct.Struct formats as their bytes allow (members of one union share
bytes, so they go into separate formats), and decodes them all with one
unpack_from per format, straight from a buffer (a page of guest memory):

    decoder = StructDecoder(types.get("struct page"), ("ops", "va", "writable"))
    ops, va, writable = decoder.values(buffer, offset)

Values are what StructValue gives for the same members: int for integers,
enums and pointers (signed as the type says), bool for _Bool, the bits of
a bit-field (sign-extended if its type is signed). Only such scalar
members can be asked for (TypeError otherwise).
"""

from __future__ import annotations

import operator
import struct
from typing import NamedTuple, Optional

from harness.debug.dwarf_types import TypeInfo

# struct's format of an integer by (size, signed), little-endian with "<"
INTEGER_FORMATS = {(1, False): "B", (1, True): "b", (2, False): "H", (2, True): "h",
            (4, False): "I", (4, True): "i", (8, False): "Q", (8, True): "q"}


class _Slot(NamedTuple):
    """Where one member's value comes from: OFFSET and SIZE bytes read with
    format CODE; BITS (bit offset, bit size, signed) for a bit-field."""
    path: str
    offset: int
    size: int
    code: str
    bits: Optional[tuple]


def _slot(t: TypeInfo, path: str) -> _Slot:
    member = t.member(path)
    r = member.type.resolved()
    if r.kind not in ("base", "enum", "pointer") or "float" in r.name or "double" in r.name:
        raise TypeError(f"{t.name}.{path} is not an integer, enum, pointer or _Bool "
                        f"({r.kind} {r.name})")
    if member.bit_size is not None:
        width = (member.bit_offset + member.bit_size + 7) // 8
        code = INTEGER_FORMATS.get((width, False), f"{width}s")
        bits = (member.bit_offset, member.bit_size, r.signed)
        return _Slot(path, member.offset, width, code, bits)
    if r.kind == "base" and r.name == "_Bool":
        return _Slot(path, member.offset, 1, "?", None)
    code = INTEGER_FORMATS.get((r.size, r.signed))
    if code is None:
        raise TypeError(f"{t.name}.{path}: no format for a {r.size}-byte integer")
    return _Slot(path, member.offset, r.size, code, None)


def _groups(slots: list) -> list:
    """SLOTS split into groups whose bytes do not overlap, each in offset
    order (first fit: one group unless union members are asked for)."""
    groups: list = []
    for slot in sorted(slots, key=lambda s: (s.offset, s.size)):
        for group in groups:
            last = group[-1]
            if last.offset + last.size <= slot.offset:
                group.append(slot)
                break
        else:
            groups.append([slot])
    return groups


def _format(group: list) -> struct.Struct:
    parts, at = ["<"], 0
    for slot in group:
        if slot.offset > at:
            parts.append(f"{slot.offset - at}x")
        parts.append(slot.code)
        at = slot.offset + slot.size
    return struct.Struct("".join(parts))


def _bit_field(raw, bit_offset: int, bit_size: int, signed: bool) -> int:
    if isinstance(raw, bytes):
        raw = int.from_bytes(raw, "little")
    value = (raw >> bit_offset) & ((1 << bit_size) - 1)
    if signed and value >> (bit_size - 1):
        value -= 1 << bit_size
    return value


class StructDecoder:
    """Decodes members PATHS (dotted, as TypeInfo.member takes them) of
    struct T."""

    def __init__(self, t: TypeInfo, paths):
        self.type = t
        self.paths = tuple(paths)
        if not self.paths:
            raise ValueError(f"StructDecoder of {t.name}: no members asked for")
        slots = [_slot(t, p) for p in self.paths]
        groups = _groups(slots)
        self._structs = [_format(g) for g in groups]
        order = [s.path for g in groups for s in g]
        position = {path: i for i, path in enumerate(order)}
        self._bits = [(i, s.bits) for i, s in enumerate(slots) if s.bits is not None]
        self._records: dict = {}     # record size -> a format padded to it (iter_values)
        self._single = None
        if len(groups) == 1 and order == list(self.paths):
            self._single = self._structs[0].unpack_from
        else:          # two paths at least (one path is one group, in order)
            self._pick = operator.itemgetter(*(position[p] for p in self.paths))
        if len(groups) == 1 and not self._bits:     # values() in one or two C calls
            unpack = self._structs[0].unpack_from
            pick = getattr(self, "_pick", None)
            self.values = unpack if pick is None else \
                lambda buffer, offset=0: pick(unpack(buffer, offset))

    def iter_values(self, buffer, step: int):
        """values() of each STEP-byte record of BUFFER, in turn (one
        iter_unpack over all of them where the members are one format)."""
        if len(self._structs) == 1 and not self._bits and self._structs[0].size <= step:
            record = self._records.get(step)
            if record is None:
                first = self._structs[0]
                record = self._records[step] = struct.Struct(
                    f"{first.format}{step - first.size}x")
            values = record.iter_unpack(buffer)
            return values if self._single is not None else map(self._pick, values)
        return (self.values(buffer, at) for at in range(0, len(buffer), step))

    def values(self, buffer, offset: int = 0) -> tuple:
        """The members' values, in the order of PATHS, from the struct whose
        first byte is BUFFER[OFFSET] (bytes, bytearray or memoryview)."""
        if self._single is not None:
            values = self._single(buffer, offset)
        else:
            raw = ()
            for s in self._structs:
                raw += s.unpack_from(buffer, offset)
            values = self._pick(raw)
        if not self._bits:
            return values
        values = list(values)
        for i, (bit_offset, bit_size, signed) in self._bits:
            values[i] = _bit_field(values[i], bit_offset, bit_size, signed)
        return tuple(values)
