"""What the harness knows of one user program from its ELF file: symbols
(for address expressions in scenarios), code ranges (for the
code-not-writable invariant), the bytes each segment puts in memory (for
`contents` checks with source = "elf"), and where `checkpoint` is."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from harness.errors import UsageError

PF_X = 1
CHECKPOINT_SYMBOL = "checkpoint"
FAIL_SYMBOL = "fail"          # scenarios/userlib: prints "(NAME) FAIL: ..." and exits 1


class ProgramImage:
    """A user program's ELF image, read once."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                elf = ELFFile(f)
                self.entry = elf.header["e_entry"]
                self.segments = [(s["p_vaddr"], s["p_memsz"], s["p_flags"], s.data())
                                 for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
                symtab = elf.get_section_by_name(".symtab")
                self.symbols = {} if symtab is None else {
                    s.name: s["st_value"] for s in symtab.iter_symbols()
                    if s.name and s["st_info"]["type"] in ("STT_OBJECT", "STT_FUNC", "STT_NOTYPE")}
        except (OSError, ELFError) as e:
            raise UsageError(f"{self.path}: not a readable ELF program ({e})") from None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def code_ranges(self) -> tuple:
        """[start, end) of executable segments, page-rounded."""
        return tuple((va & ~0xFFF, (va + size + 0xFFF) & ~0xFFF)
                     for va, size, flags, _ in self.segments if flags & PF_X)

    @property
    def checkpoint(self) -> Optional[int]:
        return self.symbols.get(CHECKPOINT_SYMBOL)

    @property
    def fail(self) -> Optional[int]:
        return self.symbols.get(FAIL_SYMBOL)

    def elf_bytes(self, va: int, length: int) -> Optional[bytes]:
        """The bytes the loaded image has at [va, va+length): file bytes,
        zeros past p_filesz; None if a byte is outside every segment."""
        out = bytearray()
        addr, end = va, va + length
        while addr < end:
            seg = next((s for s in self.segments if s[0] <= addr < s[0] + s[1]), None)
            if seg is None:
                return None
            seg_va, memsz, _, data = seg
            stop = min(end, seg_va + memsz)
            chunk = data[addr - seg_va:stop - seg_va]
            out += chunk + bytes(stop - addr - len(chunk))
            addr = stop
        return bytes(out)


@functools.lru_cache(maxsize=256)
def load_program(path: Path) -> ProgramImage:
    return ProgramImage(path)
