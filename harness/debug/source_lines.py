"""Source file and line of a code address, from an ELF file's DWARF line programs.

    lines = source_lines("build/kernel/kernel.elf")
    lines.lookup(0xffffffff80104a3c)   -> SourceLine("vm/vm.c", 57)
    str(lines.lookup(...))             -> "vm/vm.c:57"

Works for the kernel and for the user programs (both built with -g). The
line programs are read once per file (pyelftools), one compilation unit at a
time (the one .debug_aranges names for an address), into sorted (address,
file, line) rows; an address maps to the last row at or before it within
the same sequence. Files are named as the compiler recorded
them, relative to the compilation directory when they lie inside it
(leading "../" dropped: a Pintos-KAIST tree compiles in vm/build).
"""

from __future__ import annotations

import bisect
import functools
import os
from pathlib import Path
from typing import NamedTuple, Optional

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile


class SourceLine(NamedTuple):
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class LineTable:
    """Address -> SourceLine over the line programs of one ELF file. With
    .debug_aranges only the compilation unit holding an address is decoded
    (on first use); without, every unit once."""

    def __init__(self, dwarf=None):
        self._dwarf = dwarf
        self._aranges = dwarf.get_aranges() if dwarf is not None else None
        self._units: dict = {}          # CU offset (or None: all) -> (addresses, rows)

    def lookup(self, address: int) -> Optional[SourceLine]:
        """The source line of the instruction at ADDRESS, None if no line
        program covers it."""
        if self._dwarf is None:
            return None
        key = self._aranges.cu_offset_at_addr(address) if self._aranges else None
        if key is None and self._aranges:
            return None
        if key not in self._units:
            cus = ([self._dwarf.get_CU_at(key)] if key is not None
                   else list(self._dwarf.iter_CUs()))
            rows = sorted(_rows_of(self._dwarf, cus), key=lambda r: (r[0], r[1] is not None))
            self._units[key] = ([r[0] for r in rows], rows)
        addresses, rows = self._units[key]
        i = bisect.bisect_right(addresses, address) - 1
        if i < 0:
            return None
        _, file, line = rows[i]
        if file is None or line == 0:
            return None
        return SourceLine(file, line)

    @property
    def empty(self) -> bool:
        return self._dwarf is None


def _file_name(lineprog, index: int, comp_dir: str) -> str:
    """The name of file entry INDEX of LINEPROG (DWARF 5 counts from 0,
    earlier versions from 1), with its directory, relative to COMP_DIR."""
    header = lineprog.header
    files = header["file_entry"]
    version = header["version"]
    entry = files[index if version >= 5 else index - 1]
    name = entry.name.decode(errors="replace")
    dirs = header["include_directory"]
    dir_index = entry.dir_index
    if dir_index and not os.path.isabs(name):
        position = dir_index if version >= 5 else dir_index - 1
        if 0 <= position < len(dirs):
            name = os.path.join(dirs[position].decode(errors="replace"), name)
    if comp_dir and os.path.isabs(name) and name.startswith(comp_dir.rstrip("/") + "/"):
        name = name[len(comp_dir.rstrip("/")) + 1:]
    name = os.path.normpath(name)
    while name.startswith("../"):   # Pintos builds in vm/build: ../../userprog/...
        name = name[3:]
    return name


def _rows_of(dwarf, cus) -> list:
    """(address, file or None at a sequence end, line) of every row of the
    line programs of CUS."""
    rows = []
    for cu in cus:
        lineprog = dwarf.line_program_for_CU(cu)
        if lineprog is None:
            continue
        top = cu.get_top_DIE()
        comp_dir = top.attributes.get("DW_AT_comp_dir")
        comp_dir = comp_dir.value.decode(errors="replace") if comp_dir else ""
        names: dict = {}
        for entry in lineprog.get_entries():
            state = entry.state
            if state is None:
                continue
            if state.end_sequence:
                rows.append((state.address, None, 0))
                continue
            if state.file not in names:
                try:
                    names[state.file] = _file_name(lineprog, state.file, comp_dir)
                except (IndexError, AttributeError):
                    names[state.file] = f"(file {state.file})"
            rows.append((state.address, names[state.file], state.line))
    return rows


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int) -> LineTable:
    elf = ELFFile(open(path, "rb"))    # kept open: units are decoded on first use
    return LineTable(elf.get_dwarf_info() if elf.has_dwarf_info() else None)


def source_lines(elf_path) -> LineTable:
    """The LineTable of ELF_PATH (cached while the file is unchanged); an
    empty table when the file has no DWARF or cannot be read."""
    path = Path(elf_path)
    try:
        return _load(str(path.resolve()), path.stat().st_mtime_ns)
    except (OSError, ELFError):
        return LineTable()
