"""Source file and line of a code address, from an ELF file's DWARF line programs.

    lines = source_lines("build/kernel/kernel.elf")
    lines.lookup(0xffffffff80104a3c)   -> SourceLine("vm/vm.c", 57)
    str(lines.lookup(...))             -> "vm/vm.c:57"

Works for the kernel and for the user programs (both built with -g). The
line programs are read once per file (pyelftools) into one sorted table of
(address, file, line) rows; an address maps to the last row at or before
it within the same sequence. Files are named as the compiler recorded
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
    """Address -> SourceLine over every line program of one ELF file."""

    def __init__(self, rows: list):
        # rows: (address, file or None at a sequence end, line), sorted
        self._rows = sorted(rows, key=lambda r: (r[0], r[1] is not None))
        self._addresses = [r[0] for r in self._rows]

    def lookup(self, address: int) -> Optional[SourceLine]:
        """The source line of the instruction at ADDRESS, None if no line
        program covers it."""
        i = bisect.bisect_right(self._addresses, address) - 1
        if i < 0:
            return None
        _, file, line = self._rows[i]
        if file is None or line == 0:
            return None
        return SourceLine(file, line)

    def __len__(self) -> int:
        return len(self._rows)


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


def _rows_of(dwarf) -> list:
    rows = []
    for cu in dwarf.iter_CUs():
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
    with open(path, "rb") as f:
        elf = ELFFile(f)
        if not elf.has_dwarf_info():
            return LineTable([])
        return LineTable(_rows_of(elf.get_dwarf_info()))


def source_lines(elf_path) -> LineTable:
    """The LineTable of ELF_PATH (cached while the file is unchanged); an
    empty table when the file has no DWARF or cannot be read."""
    path = Path(elf_path)
    try:
        return _load(str(path.resolve()), path.stat().st_mtime_ns)
    except (OSError, ELFError):
        return LineTable([])
