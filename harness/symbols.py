"""Symbols and types of a kernel ELF file (pyelftools).

    syms = SymbolTable("build/kernel/kernel.elf")
    syms.address_of("thread_yield")        -> 0xffffffff80104a30
    syms.describe(0xffffffff80104a3c)      -> "thread_yield+0xc"
    syms.lookup("thread_yield").section    -> ".text"
    syms.types.get("struct thread").offset_of("elem")
    syms.types.variable("vmcheck_current_thread") -> Variable(address, type)
"""

import bisect
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from harness.dwarf_types import DwarfTypes


class SymbolError(LookupError):
    """A symbol is missing or ambiguous, or the ELF file cannot be read."""


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int
    kind: str  # "func", "object", "notype", "section", "file", ...
    binding: str  # "global", "local", "weak"
    section: Optional[str]  # None for absolute and undefined symbols


_BINDING_RANK = {"global": 0, "weak": 1, "local": 2}


class SymbolTable:
    """Name <-> address lookups over an ELF file's .symtab, plus its DWARF
    types (loaded on first use of `types`)."""

    def __init__(self, elf_path):
        self.path = Path(elf_path)
        try:
            self._file = open(self.path, "rb")
            self._elf = ELFFile(self._file)
        except (OSError, ELFError) as err:
            raise SymbolError(f"cannot read ELF file {self.path}: {err}") from err
        self._by_name: dict = {}
        self._functions: list = []  # sorted by address
        self._types: Optional[DwarfTypes] = None
        self._load_symbols()

    def close(self) -> None:
        self._file.close()

    def _load_symbols(self) -> None:
        symtab = self._elf.get_section_by_name(".symtab")
        if symtab is None:
            raise SymbolError(f"{self.path} has no symbol table (stripped?)")
        sections = [s.name for s in self._elf.iter_sections()]
        self._section_bounds = {s.name: (s["sh_addr"], s["sh_addr"] + s["sh_size"])
                                for s in self._elf.iter_sections()}
        for sym in symtab.iter_symbols():
            kind = sym["st_info"]["type"][4:].lower()  # STT_FUNC -> func
            if not sym.name or kind in ("file", "section"):
                continue
            index = sym["st_shndx"]
            symbol = Symbol(sym.name, sym["st_value"], sym["st_size"], kind,
                            sym["st_info"]["bind"][4:].lower(),
                            sections[index] if isinstance(index, int) else None)
            self._by_name.setdefault(symbol.name, []).append(symbol)
            if kind == "func" or (kind == "notype" and symbol.section
                                  and symbol.section.startswith(".text")):
                self._functions.append(symbol)
        self._functions.sort(key=lambda s: (s.address, -s.size))
        self._function_starts = [s.address for s in self._functions]

    @property
    def types(self) -> DwarfTypes:
        if self._types is None:
            self._types = DwarfTypes(self._elf)
        return self._types

    def find(self, name: str) -> Optional[Symbol]:
        """The symbol NAME (a global one before weak and local ones of the
        same name), or None."""
        found = self._by_name.get(name)
        if not found:
            return None
        ranked = sorted(found, key=lambda s: _BINDING_RANK.get(s.binding, 3))
        best = ranked[0]
        if best.binding == "local" and len({s.address for s in ranked}) > 1:
            raise SymbolError(f"symbol {name!r} is ambiguous: {len(found)} local "
                              f"definitions at {', '.join(hex(s.address) for s in found)}")
        return best

    def lookup(self, name: str) -> Symbol:
        symbol = self.find(name)
        if symbol is None:
            near = difflib.get_close_matches(name, self._by_name, n=6, cutoff=0.75)
            hint = f"; similar: {', '.join(near)}" if near else ""
            raise SymbolError(f"no symbol {name!r} in {self.path}{hint}")
        return symbol

    def address_of(self, name: str) -> int:
        return self.lookup(name).address

    def section_of(self, name: str) -> Optional[str]:
        return self.lookup(name).section

    def function_at(self, address: int) -> Optional[tuple]:
        """(Symbol, offset) of the function containing ADDRESS, or None. A
        symbol without a size (an assembly label) covers up to the next
        function symbol or the end of its section."""
        i = bisect.bisect_right(self._function_starts, address) - 1
        if i < 0:
            return None
        start = self._function_starts[i]
        same_start = self._functions[bisect.bisect_left(self._function_starts, start):i + 1]
        for sym in same_start:
            if sym.size and address < start + sym.size:
                return sym, address - start
        for sym in same_start:
            low, high = self._section_bounds.get(sym.section, (0, 0))
            if not sym.size and low <= address < high:
                return sym, address - start
        return None

    def describe(self, address: int) -> str:
        """"name+0xoff" for an address inside a function, else hex."""
        found = self.function_at(address)
        if found is None:
            return hex(address)
        sym, offset = found
        return f"{sym.name}+{offset:#x}" if offset else sym.name

    def names(self) -> list:
        return sorted(self._by_name)
