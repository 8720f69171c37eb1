"""C types and global variables from an ELF file's DWARF, as plain objects.

`DwarfTypes(elffile).get("struct thread")` gives a TypeInfo: kind, size,
members with byte offsets (bit-fields too), pointer/array/typedef targets.
harness/debug/typed_memory.py reads guest memory through these types.

Only the top level of each compilation unit is indexed (C keeps its struct,
union, enum, typedef and global variable definitions there), once, on first
use; TypeInfo objects are built on demand and cached, cycles included.
"""

from dataclasses import dataclass, field
from typing import Optional

# DW_ATE_* base type encodings that are signed.
_SIGNED_ENCODINGS = {0x05, 0x06, 0x0D}  # signed, signed_char, signed_fixed
_DW_OP_ADDR = 0x03

_KIND_OF_TAG = {
    "DW_TAG_base_type": "base", "DW_TAG_structure_type": "struct",
    "DW_TAG_union_type": "union", "DW_TAG_enumeration_type": "enum",
    "DW_TAG_pointer_type": "pointer", "DW_TAG_array_type": "array",
    "DW_TAG_typedef": "typedef", "DW_TAG_subroutine_type": "function",
}
_QUALIFIERS = {"DW_TAG_const_type", "DW_TAG_volatile_type", "DW_TAG_restrict_type",
               "DW_TAG_atomic_type"}
_NAMED_TAGS = {"DW_TAG_structure_type": "struct ", "DW_TAG_union_type": "union ",
               "DW_TAG_enumeration_type": "enum ", "DW_TAG_typedef": "",
               "DW_TAG_base_type": ""}


class TypeLookupError(LookupError):
    """A type, member or variable is not in the DWARF information."""


@dataclass(eq=False)
class Member:
    """A struct/union member. For a bit-field, the value is BIT_SIZE bits
    starting BIT_OFFSET bits (from the least significant) into the bytes at
    OFFSET."""
    name: Optional[str]  # None for an anonymous struct/union member
    offset: int
    type: "TypeInfo"
    bit_size: Optional[int] = None
    bit_offset: int = 0


@dataclass(eq=False)
class TypeInfo:
    """One C type. KIND: base, struct, union, enum, pointer, array, typedef,
    function or void. TARGET: the pointee, element or aliased type."""
    kind: str
    name: str
    size: int = 0
    target: Optional["TypeInfo"] = None
    count: Optional[int] = None  # array elements (None: unknown/flexible)
    members: list = field(default_factory=list)
    signed: bool = False
    enumerators: dict = field(default_factory=dict)  # enum: name -> value
    _found: dict = field(default_factory=dict, repr=False)  # member(): path -> Member
    plain_members: dict = field(default_factory=dict, repr=False)  # typed_memory's cache

    def __repr__(self) -> str:
        return f"<TypeInfo {self.name} ({self.kind}, {self.size} bytes)>"

    def resolved(self) -> "TypeInfo":
        """This type with typedefs stripped."""
        t = self
        while t.kind == "typedef" and t.target is not None:
            t = t.target
        return t

    def member(self, path: str) -> Member:
        """The member at dotted PATH ("elem.next"), offset from the start of
        this type; anonymous struct/union members are searched through.
        Found once per path (a capture asks for the same members of
        thousands of structs)."""
        known = self._found.get(path)
        if known is None:
            known = self._found[path] = self._lookup(path)
        return known

    def _lookup(self, path: str) -> Member:
        t, offset, found = self, 0, None
        for part in path.split("."):
            found = _find_member(t.resolved(), part)
            if found is None:
                names = [m.name for m in t.resolved().members]
                raise TypeLookupError(f"{t.name} has no member {part!r} (in {path!r}); "
                                      f"members: {names}")
            offset += found.offset
            t = found.type
        return Member(found.name, offset, found.type, found.bit_size, found.bit_offset)

    def offset_of(self, path: str) -> int:
        return self.member(path).offset


def _find_member(t: TypeInfo, name: str) -> Optional[Member]:
    for m in t.members:
        if m.name == name:
            return m
    for m in t.members:
        inner = m.type.resolved()
        if m.name is None and inner.kind in ("struct", "union"):
            found = _find_member(inner, name)
            if found is not None:
                return Member(found.name, m.offset + found.offset, found.type,
                              found.bit_size, found.bit_offset)
    return None


def pointer_to(target: Optional[TypeInfo]) -> TypeInfo:
    name = (target.name if target else "void") + " *"
    return TypeInfo("pointer", name.replace("* *", "**"), 8, target)


@dataclass(frozen=True)
class Variable:
    name: str
    address: int
    type: TypeInfo
    compile_unit: str


@dataclass(frozen=True)
class Function:
    """A function defined out of line (it has code of its own): its
    compilation unit and its parameters as (name, TypeInfo) in order."""
    name: str
    compile_unit: str
    parameters: tuple


VOID = TypeInfo("void", "void")


class DwarfTypes:
    """Type and global-variable lookup over one ELF file's DWARF."""

    def __init__(self, elffile):
        if not elffile.has_dwarf_info():
            raise TypeLookupError("the ELF file has no DWARF information (build with -g)")
        self._dwarf = elffile.get_dwarf_info()
        self._types: Optional[dict] = None  # "struct thread" -> [DIE]
        self._variables: Optional[dict] = None  # name -> [(DIE, cu name)]
        self._functions: dict = {}  # name -> [(DIE, cu name)], definitions with code
        self._cache: dict = {}  # DIE offset -> TypeInfo
        self._found_variables: dict = {}  # name -> Variable or TypeLookupError, from variable()

    def get(self, name: str) -> TypeInfo:
        """The type spelled NAME: "struct thread", "tid_t", "unsigned int",
        "struct list_elem *". A bare name also finds a struct/union/enum tag."""
        name = " ".join(name.split())
        if name.endswith("*"):
            return pointer_to(self.get(name[:-1].strip()))
        self._index()
        candidates = [name] if name.split(" ")[0] in ("struct", "union", "enum") else [
            name, "struct " + name, "union " + name, "enum " + name]
        for candidate in candidates:
            dies = self._types.get(candidate)
            if dies:
                complete = [d for d in dies if "DW_AT_declaration" not in d.attributes]
                return self.type_of_die((complete or dies)[0])
        raise TypeLookupError(f"no type {name!r} in the DWARF information")

    def variable(self, name: str) -> Variable:
        """The global (or file-static) variable NAME: address and type. An
        external definition wins over file-static ones of the same name.
        External definitions that all share one address are one variable:
        a common symbol (a global defined in a header, linked with
        -fcommon) has a definition in every file that includes it. Looked
        up once per name (inspectors ask at every stop)."""
        found = self._found_variables.get(name)
        if found is None:
            try:
                found = self._variable(name)
            except TypeLookupError as e:
                found = e
            self._found_variables[name] = found
        if isinstance(found, TypeLookupError):
            raise TypeLookupError(str(found))
        return found

    def _variable(self, name: str) -> Variable:
        self._index()
        found = self._variables.get(name, [])
        external = [(d, cu) for d, cu in found if _attr(_spec(d), "DW_AT_external")]
        chosen = external or found
        if len({_location_address(d) for d, _ in external}) == 1:
            chosen = external[:1]
        if len(chosen) != 1:
            where = ", ".join(cu for _, cu in found) or "no compilation unit"
            raise TypeLookupError(f"variable {name!r}: {len(chosen)} definitions ({where})")
        die, cu = chosen[0]
        return Variable(name, _location_address(die), self._die_type(_spec(die)), cu)

    def variables(self) -> list:
        self._index()
        return sorted(self._variables)

    def function(self, name: str) -> Function:
        """The function NAME defined with code of its own (not only inlined):
        its compilation unit and parameter types. TypeLookupError if there
        is none or more than one."""
        self._index()
        found = self._functions.get(name, [])
        if len(found) != 1:
            where = ", ".join(cu for _, cu in found) or "no compilation unit"
            raise TypeLookupError(f"function {name!r}: {len(found)} definitions ({where})")
        die, cu = found[0]
        parameters = tuple((_name(p), self._die_type(p)) for p in die.iter_children()
                           if p.tag == "DW_TAG_formal_parameter")
        return Function(name, cu, parameters)

    def _index(self) -> None:
        if self._types is not None:
            return
        types, variables = {}, {}
        for cu in self._dwarf.iter_CUs():
            top = cu.get_top_DIE()
            cu_name = _name(top) or "?"
            for die in top.iter_children():
                if die.tag in _NAMED_TAGS and _name(die):
                    types.setdefault(_NAMED_TAGS[die.tag] + _name(die), []).append(die)
                elif die.tag == "DW_TAG_subprogram" and "DW_AT_low_pc" in die.attributes:
                    fn_name = _name(_spec(die))
                    if fn_name:
                        self._functions.setdefault(fn_name, []).append((die, cu_name))
                elif die.tag == "DW_TAG_variable" and "DW_AT_location" in die.attributes:
                    var_name = _name(_spec(die))
                    if var_name and _location_address(die) is not None:
                        variables.setdefault(var_name, []).append((die, cu_name))
        self._types, self._variables = types, variables

    def _die_type(self, die) -> TypeInfo:
        """The TypeInfo of DIE's DW_AT_type (void when absent)."""
        if "DW_AT_type" not in die.attributes:
            return VOID
        return self.type_of_die(die.get_DIE_from_attribute("DW_AT_type"))

    def type_of_die(self, die) -> TypeInfo:
        """TypeInfo for a type DIE (qualifiers are looked through)."""
        while die.tag in _QUALIFIERS:
            if "DW_AT_type" not in die.attributes:
                return VOID
            die = die.get_DIE_from_attribute("DW_AT_type")
        cached = self._cache.get(die.offset)
        if cached is not None:
            return cached
        kind = _KIND_OF_TAG.get(die.tag)
        if kind is None:
            raise TypeLookupError(f"unsupported DWARF type tag {die.tag} at {die.offset:#x}")
        info = TypeInfo(kind, _NAMED_TAGS.get(die.tag, "") + (_name(die) or "<anonymous>"),
                        _attr(die, "DW_AT_byte_size") or 0)
        self._cache[die.offset] = info  # before recursing: types can be cyclic
        getattr(self, "_fill_" + kind, lambda d, i: None)(die, info)
        return info

    def _fill_base(self, die, info: TypeInfo) -> None:
        info.signed = _attr(die, "DW_AT_encoding") in _SIGNED_ENCODINGS

    def _fill_pointer(self, die, info: TypeInfo) -> None:
        target = self._die_type(die)
        info.target = None if target is VOID else target
        info.size = info.size or 8
        info.name = pointer_to(info.target).name if target.kind != "function" else "function *"

    def _fill_typedef(self, die, info: TypeInfo) -> None:
        info.target = self._die_type(die)
        info.size = info.target.resolved().size
        info.signed = info.target.resolved().signed

    def _fill_enum(self, die, info: TypeInfo) -> None:
        info.enumerators = {_name(e): _attr(e, "DW_AT_const_value")
                            for e in die.iter_children() if e.tag == "DW_TAG_enumerator"}
        info.signed = any(v < 0 for v in info.enumerators.values())

    def _fill_struct(self, die, info: TypeInfo) -> None:
        for child in die.iter_children():
            if child.tag == "DW_TAG_member":
                info.members.append(self._member(child))

    _fill_union = _fill_struct

    def _member(self, die) -> Member:
        mtype = self._die_type(die)
        location = _attr(die, "DW_AT_data_member_location") or 0
        if isinstance(location, list):  # DWARF 2 style: DW_OP_plus_uconst N
            location = _uleb128(location[1:])
        bit_size = _attr(die, "DW_AT_bit_size")
        if bit_size is None:
            return Member(_name(die), location, mtype)
        if "DW_AT_data_bit_offset" in die.attributes:  # DWARF 4/5
            bit_position = _attr(die, "DW_AT_data_bit_offset")
        else:  # DWARF 2/3: counted from the storage unit's most significant bit
            unit_bits = 8 * (_attr(die, "DW_AT_byte_size") or mtype.resolved().size)
            bit_position = 8 * location + unit_bits - _attr(die, "DW_AT_bit_offset") - bit_size
        return Member(_name(die), bit_position // 8, mtype, bit_size, bit_position % 8)

    def _fill_array(self, die, info: TypeInfo) -> None:
        """int a[2][3] is an array of 2 arrays of 3 ints."""
        base = self._die_type(die)
        counts = [_subrange_count(s) for s in die.iter_children()
                  if s.tag == "DW_TAG_subrange_type"] or [None]
        element = base
        for k in reversed(range(1, len(counts))):
            element = TypeInfo("array", base.name + _dimensions(counts[k:]),
                               element.resolved().size * (counts[k] or 0), element, counts[k])
        info.target, info.count = element, counts[0]
        info.size = element.resolved().size * (counts[0] or 0)
        info.name = base.name + _dimensions(counts)


def _name(die) -> Optional[str]:
    value = _attr(die, "DW_AT_name")
    return value.decode(errors="replace") if value is not None else None


def _attr(die, name: str):
    attr = die.attributes.get(name)
    return None if attr is None else attr.value


def _spec(die):
    """The declaration DIE a definition refers to (DW_AT_specification)."""
    if "DW_AT_specification" in die.attributes:
        return die.get_DIE_from_attribute("DW_AT_specification")
    return die


def _location_address(die) -> Optional[int]:
    expr = _attr(die, "DW_AT_location")
    if isinstance(expr, list) and len(expr) == 9 and expr[0] == _DW_OP_ADDR:
        return int.from_bytes(bytes(expr[1:]), "little")
    return None


def _subrange_count(die) -> Optional[int]:
    if "DW_AT_count" in die.attributes:
        return _attr(die, "DW_AT_count")
    upper = _attr(die, "DW_AT_upper_bound")
    return upper + 1 if isinstance(upper, int) else None


def _dimensions(counts: list) -> str:
    return "".join(f"[{'' if c is None else c}]" for c in counts)


def _uleb128(data: list) -> int:
    value = 0
    for shift, byte in enumerate(data):
        value |= (byte & 0x7F) << (7 * shift)
        if not byte & 0x80:
            break
    return value
