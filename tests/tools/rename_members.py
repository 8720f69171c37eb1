"""Copies a Pintos-KAIST tree and renames every member of `struct page`, of
the structs in its union (struct uninit_page, anon_page, file_page...) and
of `struct frame` to names that no discovery hint matches (zq1, zq2...), so
a test can show that the harness reads the SPT without relying on names.

    /usr/bin/python3 -m tests.tools.rename_members TREE DEST

1. builds TREE (as the harness does) and reads from its kernel.o's DWARF
   where each of those members is declared (file, line, column);
2. copies TREE to DEST (without vm/build) and renames each declaration;
3. builds DEST with gcc's JSON diagnostics: each "'struct X' has no member
   named 'Y'" is a use of a renamed member, and the identifier Y at the
   place gcc reports (or, inside a macro call such as hash_entry, the
   first Y after it) is renamed; again until nothing is reported;
4. checks DEST: it builds, its kernel.o has the same functions with the
   same sizes as TREE's (renaming changed no code), and every renamed
   struct has the same size and member offsets.

Prints "struct.member -> new" per member. Exit 0 when DEST is ready, 1
with the reason when it is not, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from harness.adapters.pintos_kaist.adapter import BUILD_CC, PintosKaistAdapter
from harness.errors import HarnessError

PREFIX = "zq"
MAX_ROUNDS = 12
SEARCH_WINDOW = 600            # characters after gcc's caret searched for the member
NO_MEMBER = re.compile(r"['\u2018](?:const |volatile )*(struct|union) (\w+)['\u2019] has no "
                       r"member named "
                       r"['\u2018](\w+)['\u2019]")


class RenameError(Exception):
    """The copy could not be renamed or does not build (message says why)."""


@dataclass(frozen=True)
class Declaration:
    struct: str          # "page", "frame", "anon_page"
    member: str
    file: Path
    line: int
    column: int


def _name(die) -> str:
    attr = die.attributes.get("DW_AT_name")
    return attr.value.decode() if attr else ""


def _type_die(die):
    return die.get_DIE_from_attribute("DW_AT_type") if "DW_AT_type" in die.attributes else None


def _strip(die):
    while die is not None and die.tag in ("DW_TAG_typedef", "DW_TAG_const_type",
                                          "DW_TAG_volatile_type"):
        die = _type_die(die)
    return die


def _structs_to_rename(page_die) -> dict:
    """struct name -> its DIE: struct page, struct frame (via page's
    pointer), and the struct types inside struct page's unions."""
    found = {"page": page_die}

    def visit(die, in_union: bool) -> None:
        for member in die.iter_children():
            t = _strip(_type_die(member))
            if t is None:
                continue
            if t.tag == "DW_TAG_union_type":
                visit(t, True)
            elif t.tag == "DW_TAG_structure_type" and in_union and _name(t):
                found[_name(t)] = t
            elif t.tag == "DW_TAG_structure_type" and not _name(t):
                visit(t, in_union)
    visit(page_die, False)
    return found


def _file_of(die, cu, dwarf, tree: Path) -> Path:
    program = dwarf.line_program_for_CU(cu)
    index = die.attributes["DW_AT_decl_file"].value
    entry = program.header.file_entry[index if cu.header.version >= 5 else index - 1]
    directory = program.header.include_directory[entry.dir_index]
    if cu.header.version < 5 and entry.dir_index == 0:
        directory = b"."
    return (tree / "vm" / "build" / directory.decode() / entry.name.decode()).resolve()


def declarations(kernel_o: Path, tree: Path) -> list[Declaration]:
    """Where each member to rename is declared, from KERNEL_O's DWARF."""
    dwarf = ELFFile(open(kernel_o, "rb")).get_dwarf_info()
    for cu in dwarf.iter_CUs():
        for die in cu.get_top_DIE().iter_children():
            if (die.tag == "DW_TAG_structure_type" and _name(die) == "page"
                    and "DW_AT_declaration" not in die.attributes):
                return _declarations_in(cu, dwarf, die, tree)
    raise RenameError(f"{kernel_o}: no struct page in the debug information")


def _declarations_in(cu, dwarf, page_die, tree: Path) -> list[Declaration]:
    structs = _structs_to_rename(page_die)
    for top in cu.get_top_DIE().iter_children():
        if (top.tag == "DW_TAG_structure_type" and _name(top) == "frame"
                and "DW_AT_declaration" not in top.attributes):
            structs["frame"] = top
    out = []

    def members(struct: str, die) -> None:
        for m in die.iter_children():
            if m.tag != "DW_TAG_member":
                continue
            if not _name(m):                       # anonymous struct/union: its members
                members(struct, _strip(_type_die(m)))
                continue
            out.append(Declaration(struct, _name(m), _file_of(m, cu, dwarf, tree),
                                   m.attributes["DW_AT_decl_line"].value,
                                   m.attributes["DW_AT_decl_column"].value))
    for struct, die in structs.items():
        members(struct, die)
    return out


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[:line - 1]) + column - 1


def _rename_at(text: str, start: int, old: str, new: str, window: int) -> tuple[str, int]:
    """TEXT with the first whole-word OLD at or after START (within WINDOW
    characters) replaced by NEW, and where; RenameError if there is none."""
    match = re.compile(rf"\b{re.escape(old)}\b").search(text, start, start + window)
    if match is None:
        snippet = text[start:start + 60].split("\n")[0]
        raise RenameError(f"no {old!r} at or after {snippet!r}")
    return text[:match.start()] + new + text[match.end():], match.start()


def _rename_use(dest: Path, path: Path, line: int, column: int, old: str, new: str) -> None:
    """Renames the use of member OLD that gcc reported at PATH:LINE:COLUMN:
    the first OLD after that place (the member, or a macro argument such
    as hash_entry's), else, when the place is a call of a macro whose body
    uses the member (`#define swap_in(page, v) (page)->operations->...`),
    OLD in that macro's definition."""
    text = path.read_text(errors="surrogateescape")
    start = _offset(text, line, column)
    try:
        text, _ = _rename_at(text, start, old, new, SEARCH_WINDOW)
        path.write_text(text, errors="surrogateescape")
        return
    except RenameError:
        macro = re.match(r"\w+", text[start:]) or re.search(r"(\w+)\s*$", text[:start])
        if macro is None:
            raise
    name = macro.group(macro.lastindex or 0)
    definition = re.compile(rf"^[ \t]*#[ \t]*define[ \t]+{name}\b(?:.*\\\n)*.*$", re.MULTILINE)
    for header in sorted(dest.rglob("*.[ch]")):
        source = header.read_text(errors="surrogateescape")
        found = definition.search(source)
        if found and re.search(rf"(->|\.)\s*{new}\b", found.group()):
            return                                 # renamed for another use this round
        if found and re.search(rf"\b{old}\b", found.group()):
            body = re.sub(rf"(->|\.)(\s*){old}\b", rf"\1\2{new}", found.group())
            header.write_text(source[:found.start()] + body + source[found.end():],
                              errors="surrogateescape")
            return
    raise RenameError(f"{path}:{line}:{column}: no {old!r} there, nor in a macro {name}")


def rename_declarations(decls: list[Declaration], names: dict) -> None:
    by_file: dict = {}
    for d in decls:
        by_file.setdefault(d.file, []).append(d)
    for path, found in by_file.items():
        text = path.read_text(errors="surrogateescape")
        for d in sorted(found, key=lambda d: (d.line, d.column), reverse=True):
            text, _ = _rename_at(text, _offset(text, d.line, d.column), d.member,
                                 names[(d.struct, d.member)], len(d.member))
        path.write_text(text, errors="surrogateescape")


def _diagnostics(output: str) -> list:
    out = []
    for line in output.splitlines():
        if line.startswith("["):
            try:
                out += json.loads(line)
            except json.JSONDecodeError:
                continue
    return out


def _build(dest: Path, json_diagnostics: bool) -> subprocess.CompletedProcess:
    cc = BUILD_CC + (" -fdiagnostics-format=json" if json_diagnostics else "")
    return subprocess.run(["make", "-k", "-C", str(dest / "vm"), f"CC={cc}"],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "LC_ALL": "C"})


def rename_uses(dest: Path, names: dict) -> int:
    """Builds DEST, renaming each reported use of a renamed member, until
    none is reported. Returns the number of uses renamed."""
    total = 0
    for _ in range(MAX_ROUNDS):
        done = _build(dest, True)
        edits = {}
        for diag in _diagnostics(done.stdout + done.stderr):
            match = NO_MEMBER.search(diag.get("message", ""))
            if diag.get("kind") != "error" or not match:
                continue
            key = (match.group(2), match.group(3))
            if key not in names:
                raise RenameError(f"gcc: {diag['message']} (not a member this tool renamed)")
            caret = diag["locations"][0]["caret"]
            path = (dest / "vm" / "build" / caret["file"]).resolve()
            edits[(path, caret["line"], caret.get("byte-column", caret["column"]))] = key
        if not edits:
            return total
        for (path, line, column), (struct, member) in sorted(edits.items(), reverse=True):
            _rename_use(dest, path, line, column, member, names[(struct, member)])
        total += len(edits)
    raise RenameError(f"still renaming after {MAX_ROUNDS} builds")


def functions(kernel_o: Path) -> dict:
    with open(kernel_o, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        return {s.name: s["st_size"] for s in symtab.iter_symbols()
                if s["st_info"]["type"] == "STT_FUNC"}


def struct_shapes(kernel_o: Path, structs: set) -> dict:
    from harness.debug.dwarf_types import DwarfTypes
    with open(kernel_o, "rb") as f:
        types = DwarfTypes(ELFFile(f))
        return {s: (types.get(f"struct {s}").size,
                    [m.offset for m in types.get(f"struct {s}").members]) for s in structs}


def rename_tree(tree: Path, dest: Path) -> dict:
    """Makes DEST, TREE's copy with the members renamed; returns the
    renaming {(struct, member): new name}. RenameError if it cannot."""
    original = PintosKaistAdapter(tree, log=lambda _: None)
    original.prepare()
    decls = declarations(original.symbol_file, tree)
    names = {(d.struct, d.member): f"{PREFIX}{i}" for i, d in enumerate(decls, 1)}
    if dest.exists():
        raise RenameError(f"{dest} exists")
    shutil.copytree(tree, dest, symlinks=True, ignore=shutil.ignore_patterns("build", ".git"))
    if re.search(rf"\b{PREFIX}\d+\b", subprocess.run(
            ["grep", "-rhoE", rf"\b{PREFIX}[0-9]+\b", str(dest)], capture_output=True,
            text=True).stdout):
        raise RenameError(f"{tree} already uses identifiers like {PREFIX}1")
    rename_declarations([Declaration(d.struct, d.member, dest / d.file.relative_to(tree),
                                     d.line, d.column) for d in decls], names)
    rename_uses(dest, names)
    done = _build(dest, False)
    if done.returncode != 0:
        raise RenameError(f"{dest} does not build:\n{(done.stdout + done.stderr)[-3000:]}")
    renamed = PintosKaistAdapter(dest, log=lambda _: None)
    if functions(renamed.symbol_file) != functions(original.symbol_file):
        raise RenameError("the renamed kernel's functions differ from the original's")
    structs = {d.struct for d in decls}
    if struct_shapes(renamed.symbol_file, structs) != struct_shapes(original.symbol_file, structs):
        raise RenameError("a renamed struct's size or member offsets changed")
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", type=Path, help="a Pintos-KAIST tree (it is built first)")
    parser.add_argument("dest", type=Path, help="where the renamed copy goes (must not exist)")
    args = parser.parse_args(argv)
    if not (args.tree / "vm" / "Makefile").is_file():
        print(f"rename_members: {args.tree} is not a Pintos-KAIST tree (no vm/Makefile)",
              file=sys.stderr)
        return 2
    try:
        names = rename_tree(args.tree.resolve(), args.dest.resolve())
    except (RenameError, HarnessError) as e:
        print(f"rename_members: {e}", file=sys.stderr)
        return 1
    for (struct, member), new in names.items():
        print(f"struct {struct}.{member} -> {new}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
