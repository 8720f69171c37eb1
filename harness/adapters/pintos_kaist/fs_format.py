"""Whether a Pintos-KAIST kernel's file system is the stock one that
fs_image.py can write before boot, and its layout facts (a StockFs).

What is checked (a failed check is a NotStockFs whose message is the
reason; the adapter then keeps `-f` and `put`, and says why):
- from the code of kernel.o: the functions that format the disk and put
  a file (filesys_init, do_format, the free map's, filesys_create,
  inode_create, dir_create, dir_add, fsutil_put) call what the stock ones
  call, nothing else. A kernel built with -DEFILESYS (Project 4's FAT)
  has filesys_init call fat_init; a tree whose inode_create also
  allocates something else (indexed inodes, a cache) calls more.
- from the DWARF: struct inode_disk is one sector with 4-byte `start`,
  `length`, `magic`; struct dir_entry has a 4-byte `inode_sector`, a char
  array `name` and a 1-byte `in_use`; the bitmap's elem_type (the free
  map file is whole elements).
- from the tree's source, as the DWARF has no macros: FREE_MAP_SECTOR and
  ROOT_DIR_SECTOR (include/filesys/filesys.h), INODE_MAGIC
  (filesys/inode.c) and the root directory's entry count (do_format's
  `dir_create (ROOT_DIR_SECTOR, N)` in filesys/filesys.c).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.adapters.pintos_kaist.disks import SECTOR
from harness.adapters.pintos_kaist.driver import DriverNotServable, called_functions
from harness.debug.dwarf_types import TypeLookupError

# What the stock functions call, besides ALWAYS_ALLOWED: debug_panic (ASSERT,
# PANIC), printf, and the locks some trees add around the file system
# (qkrwns1478's filesys_init initialises one), which write nothing.
STOCK_CALLS = {
    "filesys_init": {"disk_get", "inode_init", "free_map_init", "do_format", "free_map_open"},
    "do_format": {"free_map_create", "dir_create", "free_map_close"},
    "free_map_init": {"bitmap_create", "bitmap_mark", "disk_size"},
    "free_map_create": {"inode_create", "bitmap_file_size", "file_open", "inode_open",
                        "bitmap_write"},
    "free_map_allocate": {"bitmap_scan_and_flip", "bitmap_set_multiple", "bitmap_write"},
    "filesys_create": {"dir_open_root", "free_map_allocate", "inode_create", "dir_add",
                       "free_map_release", "dir_close"},
    "inode_create": {"calloc", "bytes_to_sectors", "free_map_allocate", "disk_write", "free"},
    "dir_create": {"inode_create"},
    "dir_add": {"strlen", "lookup", "inode_read_at", "inode_write_at", "strlcpy"},
    "fsutil_put": {"malloc", "disk_get", "disk_read", "memcmp", "filesys_create",
                   "filesys_open", "file_write", "file_close", "free"},
}
ALWAYS_ALLOWED = {"debug_panic", "printf", "puts", "lock_init", "lock_acquire", "lock_release"}
SOURCE_FACTS = {   # name -> (file in the tree, pattern whose group 1 is the value)
    "free_map_sector": ("include/filesys/filesys.h", r"#define\s+FREE_MAP_SECTOR\s+(\w+)"),
    "root_dir_sector": ("include/filesys/filesys.h", r"#define\s+ROOT_DIR_SECTOR\s+(\w+)"),
    "inode_magic": ("filesys/inode.c", r"#define\s+INODE_MAGIC\s+(\w+)"),
    "root_entries": ("filesys/filesys.c", r"dir_create\s*\(\s*ROOT_DIR_SECTOR\s*,\s*(\w+)\s*\)"),
}


class NotStockFs(Exception):
    """The kernel's file system is not the stock one; the message says how."""


@dataclass(frozen=True)
class StockFs:
    """Layout facts of one kernel's stock file system (byte offsets within
    an inode sector and a directory entry)."""
    free_map_sector: int
    root_dir_sector: int
    inode_magic: int
    root_entries: int
    inode_start: int
    inode_length: int
    inode_magic_at: int
    entry_size: int
    entry_sector_at: int
    entry_name_at: int
    name_max: int
    entry_in_use_at: int
    bitmap_elem_size: int


def stock_fs(symbols, tree: Path) -> StockFs:
    """The StockFs of the kernel of SYMBOLS (a SymbolTable) built from
    TREE; NotStockFs with the reason when it is not the stock file system."""
    check_stock_calls(symbols)
    facts = source_facts(tree)
    try:
        facts.update(_dwarf_facts(symbols.types))
    except TypeLookupError as e:
        raise NotStockFs(f"the kernel's DWARF lacks a stock file-system type: {e}") from None
    return StockFs(**facts)


def check_stock_calls(symbols) -> None:
    """NotStockFs unless every function of STOCK_CALLS calls what it does."""
    for name, expected in STOCK_CALLS.items():
        symbol = symbols.find(name)
        if symbol is None or symbol.kind != "func" or not symbol.size:
            raise NotStockFs(f"the kernel has no function {name}")
        try:
            called = set(called_functions(symbols, symbol)) - ALWAYS_ALLOWED
        except DriverNotServable as e:
            raise NotStockFs(str(e)) from None
        if called != expected:
            extra, missing = sorted(called - expected), sorted(expected - called)
            how = "; ".join(([f"it also calls {', '.join(extra)}"] if extra else [])
                            + ([f"it does not call {', '.join(missing)}"] if missing else []))
            raise NotStockFs(f"{name} is not the stock one: {how}"
                             + (" (a -DEFILESYS kernel: FAT)" if "fat_init" in called else ""))


def source_facts(tree: Path) -> dict:
    """SOURCE_FACTS read from TREE's files (integers)."""
    facts = {}
    for name, (relative, pattern) in SOURCE_FACTS.items():
        try:
            text = (tree / relative).read_text(errors="replace")
        except OSError as e:
            raise NotStockFs(f"cannot read {relative} of the tree: {e.strerror}") from None
        found = re.search(pattern, text)
        try:
            facts[name] = int(found.group(1), 0) if found else None
        except ValueError:
            facts[name] = None
        if facts[name] is None:
            raise NotStockFs(f"{relative} does not define {name} as an integer "
                             f"(looked for {pattern!r})")
    return facts


def _dwarf_facts(types) -> dict:
    inode = types.get("struct inode_disk").resolved()
    if inode.size != SECTOR:
        raise NotStockFs(f"struct inode_disk is {inode.size} bytes, not one sector")
    entry = types.get("struct dir_entry").resolved()
    name = entry.member("name")
    name_type = name.type.resolved()
    if name_type.kind != "array" or name_type.target.resolved().size != 1 or not name_type.count:
        raise NotStockFs(f"struct dir_entry's name is a {name_type.name}, not a char array")
    return {"inode_start": _field(inode, "start", 4), "inode_length": _field(inode, "length", 4),
            "inode_magic_at": _field(inode, "magic", 4), "entry_size": entry.size,
            "entry_sector_at": _field(entry, "inode_sector", 4), "entry_name_at": name.offset,
            "name_max": name_type.count - 1, "entry_in_use_at": _field(entry, "in_use", 1),
            "bitmap_elem_size": types.get("elem_type").resolved().size}


def _field(struct, name: str, size: int) -> int:
    """The offset of STRUCT's integer member NAME of SIZE bytes."""
    member = struct.member(name)
    kind = member.type.resolved()
    if kind.kind not in ("base", "enum") or kind.size != size or member.bit_size is not None:
        raise NotStockFs(f"{struct.name}'s {name} is a {kind.name}, not a {size}-byte integer")
    return member.offset
