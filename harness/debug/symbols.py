"""Symbols and types of a kernel ELF file (pyelftools).

    syms = SymbolTable("build/kernel/kernel.elf")
    syms.address_of("thread_yield")        -> 0xffffffff80104a30
    syms.describe(0xffffffff80104a3c)      -> "thread_yield+0xc"
    syms.lookup("thread_yield").section    -> ".text"
    syms.types.get("struct thread").offset_of("elem")
    syms.types.variable("vmcheck_current_thread") -> Variable(address, type)
    syms.describe_return(0xffffffff80104a51) -> "schedule+0x4c" (the call before it)

Call chains (thread lists, panic stacks) are CallChain values, checked and
printed by one rule (format_call_chain): a return address is named after
the call instruction that ends at it, found by decoding the kernel's own
code (a call to a function that never returns is often the last
instruction of its function, so the return address itself would name the
next function); the chain stops at the first word that is not a return
address (outside kernel text, or no call ends there) and says so.
"""

import bisect
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from harness.x86.disasm import x86_64_decoder
from harness.debug.dwarf_types import DwarfTypes

SHF_EXECINSTR = 0x4
# Lengths of x86-64 call instructions that end at a return address, most
# common first: e8 rel32; ff /2 through a register, [reg+disp8], [rip+disp32],
# with a REX or SIB byte, [reg+disp32], [r12+disp32].
CALL_LENGTHS = (5, 2, 3, 6, 4, 7, 8)


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
        self._text = sorted((s["sh_addr"], s["sh_addr"] + s["sh_size"], s)
                            for s in self._elf.iter_sections()
                            if s["sh_flags"] & SHF_EXECINSTR and s["sh_type"] == "SHT_PROGBITS"
                            and s["sh_addr"])
        self._text_data: dict = {}

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

    # ---- code and return addresses ----

    def is_text(self, address: int) -> bool:
        """Whether ADDRESS is inside an executable section of the ELF."""
        return self._text_section(address) is not None

    def _text_section(self, address: int) -> Optional[tuple]:
        for start, end, section in self._text:
            if start <= address < end:
                return start, end, section
        return None

    def code(self, address: int, size: int) -> Optional[bytes]:
        """SIZE bytes of code at ADDRESS from the ELF file, None unless they
        lie inside one executable section."""
        found = self._text_section(address)
        if found is None or address + size > found[1]:
            return None
        start, _, section = found
        if start not in self._text_data:
            self._text_data[start] = section.data()
        return self._text_data[start][address - start:address - start + size]

    def call_before(self, return_address: int) -> Optional[int]:
        """Address of the call instruction that ends at RETURN_ADDRESS, None
        if no call ends there (then it is not a return address)."""
        for length in CALL_LENGTHS:
            code = self.code(return_address - length, length)
            if code is None:
                continue
            insn = next(x86_64_decoder().disasm_lite(code, return_address - length, 1), None)
            if insn is None or insn[1] != length or insn[2] != "call":
                continue
            target = insn[3]   # a direct call's target must be code too
            if not target.startswith("0x") or self.is_text(int(target, 16)):
                return return_address - length
        return None

    def not_a_return(self, address: int) -> Optional[str]:
        """None if ADDRESS can be a return address into this kernel, else
        why not: "next frame 0x841f0f outside kernel text", "next frame
        0x... (switch_entry) not after a call instruction"."""
        if not self.is_text(address - 1):
            return f"next frame {address:#x} outside kernel text"
        if self.call_before(address) is None:
            return (f"next frame {address:#x} ({self.describe(address)}) "
                    "not after a call instruction")
        return None

    def describe_return(self, address: int) -> str:
        """"caller+0xoff" of the call instruction before return ADDRESS
        (named at ADDRESS - 1 when no call is found)."""
        call = self.call_before(address)
        return self.describe(call if call is not None else address - 1)

    def caller_of(self, address: int) -> Optional[str]:
        """Name of the function that holds the call returning to ADDRESS."""
        found = self.function_at(address - 1)
        return found[0].name if found else None


# ---- call chains ----

MAX_SHOWN_FRAMES = 8   # frames a thread list shows per thread


@dataclass
class CallChain:
    """A kernel call chain, innermost first. PC: where the thread is (an
    exact address, named as it is), None when only return addresses are
    known (a panic's printed stack). RETURNS: return addresses, each checked
    (SymbolTable.not_a_return). END: why the chain stops before its
    natural end (a word that is not a return address, a bad frame pointer),
    None if it ended where the stack does."""

    pc: Optional[int]
    returns: list = field(default_factory=list)
    end: Optional[str] = None
    frame_pointers: list = field(default_factory=list)  # rbp where each return was read (None: not by frame)


def checked_chain(symbols: SymbolTable, pc: Optional[int], return_addresses) -> CallChain:
    """PC and RETURN_ADDRESSES up to the first one that is not a return
    address into SYMBOLS' kernel (named in END)."""
    chain = CallChain(pc)
    for address in return_addresses:
        chain.end = symbols.not_a_return(address)
        if chain.end is not None:
            break
        chain.returns.append(address)
    return chain


def format_call_chain(symbols: SymbolTable, chain: CallChain, limit: Optional[int] = None) -> str:
    """"pc < caller+0xoff < ..." with at most LIMIT frames, "< ... (N more)"
    for the rest, and "< (stack ends: why)" when the chain stopped early."""
    names = [symbols.describe(chain.pc)] if chain.pc is not None else []
    names += [symbols.describe_return(a) for a in chain.returns]
    if not names and chain.end is None:
        return "no kernel frames found"
    if limit is not None and len(names) > limit:
        names = names[:limit] + [f"... ({len(names) - limit} more)"]
    if chain.end is not None:
        names.append(f"(stack ends: {chain.end})")
    return " < ".join(names)
