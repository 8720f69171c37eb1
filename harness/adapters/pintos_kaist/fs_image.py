"""A Pintos base file system written on the host: the disk a stock
Pintos-KAIST kernel leaves after `-f put NAME...` (do_format, then one
fsutil_put per file), made before boot so that the kernel starts without
formatting and without copying the files in (thousands of disk requests
for a file of megabytes; docs/pintos-kaist.md, "A file system made
before boot").

What the stock filesys/ code does, and what is written here the same way:
- free_map_init marks the free map's and the root directory's inode
  sectors used; every later allocation is free_map_allocate: the first
  run of free sectors long enough (bitmap_scan_and_flip from sector 0);
  a run of 0 sectors "starts" at sector 0.
- do_format: the free-map file (bitmap_file_size: whole bitmap elements
  of the disk's sector count in bits), then the root directory
  (dir_create: a file of ROOT_ENTRIES directory entries).
- filesys_create per file: one sector for its inode, then its data
  (inode_create: contiguous sectors, zero-filled); dir_add puts the entry
  in the first unused slot; the file's bytes are then written over the
  zeros.
- An inode sector is {start, length, magic} then zeros (calloc); the
  free map's file holds the bitmap: sector N is bit N % 8 of byte N / 8.

The layout facts (struct offsets, sector numbers, magic, entry count)
are a StockFs from fs_format.py, read from the tree's kernel.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Sequence

from harness.adapters.pintos_kaist.disks import SECTOR, PintosDiskError
from harness.adapters.pintos_kaist.fs_format import StockFs


def sectors_for(length: int) -> int:
    """inode.c's bytes_to_sectors."""
    return -(-length // SECTOR)


class _FreeMap:
    """The kernel's free map during do_format and the puts: one byte per
    sector (1 = used), first-fit allocation as bitmap_scan_and_flip."""

    def __init__(self, total_sectors: int, reserved: Sequence[int]):
        self.used = bytearray(total_sectors)
        for sector in reserved:
            self.used[sector] = 1

    def allocate(self, count: int, what: str) -> int:
        start = self.used.find(bytes(count))
        if start < 0:
            raise PintosDiskError(f"no {count} free contiguous sectors for {what} on a disk of "
                                  f"{len(self.used)} sectors")
        self.used[start:start + count] = b"\1" * count
        return start

    def bitmap(self, size: int) -> bytes:
        """The free map file's SIZE bytes: sector N is bit N % 8 of byte N // 8."""
        out = bytearray(size)
        for sector in range(len(self.used)):
            if self.used[sector]:
                out[sector // 8] |= 1 << (sector % 8)
        return bytes(out)


class _Image:
    """The written sectors of the disk, by number."""

    def __init__(self, fs: StockFs):
        self.fs = fs
        self.sectors: dict[int, bytes] = {}

    def inode(self, sector: int, start: int, length: int) -> None:
        data = bytearray(SECTOR)
        for offset, value in ((self.fs.inode_start, start), (self.fs.inode_length, length),
                              (self.fs.inode_magic_at, self.fs.inode_magic)):
            struct.pack_into("<I", data, offset, value)
        self.sectors[sector] = bytes(data)

    def contents(self, start: int, data: bytes) -> None:
        padded = data + bytes(-len(data) % SECTOR)
        for i in range(len(padded) // SECTOR):
            self.sectors[start + i] = padded[i * SECTOR:(i + 1) * SECTOR]

    def entry(self, name: str, sector: int) -> bytes:
        fs = self.fs
        out = bytearray(fs.entry_size)
        struct.pack_into("<I", out, fs.entry_sector_at, sector)
        out[fs.entry_name_at:fs.entry_name_at + len(name.encode())] = name.encode()
        out[fs.entry_in_use_at] = 1
        return bytes(out)


def formatted_sectors(total_sectors: int, files: Sequence[tuple[str, bytes]],
                      fs: StockFs) -> dict[int, bytes]:
    """Sector number -> contents of every sector the stock kernel writes
    when it formats a disk of TOTAL_SECTORS and puts FILES (name,
    contents) in order; all other sectors stay as they were (zero).
    PintosDiskError when the stock kernel could not hold them (more files
    than the root directory's entries, a name too long, no room)."""
    if len(files) > fs.root_entries:
        raise PintosDiskError(f"{len(files)} files, more than the {fs.root_entries} entries of "
                              "the root directory do_format makes")
    free_map = _FreeMap(total_sectors, (fs.free_map_sector, fs.root_dir_sector))
    image = _Image(fs)
    bitmap_size = fs.bitmap_elem_size * -(-total_sectors // (8 * fs.bitmap_elem_size))
    bitmap_start = free_map.allocate(sectors_for(bitmap_size), "the free map")
    directory_size = fs.root_entries * fs.entry_size
    directory_start = free_map.allocate(sectors_for(directory_size), "the root directory")
    directory = bytearray(sectors_for(directory_size) * SECTOR)
    for slot, (name, data) in enumerate(files):
        if not 0 < len(name.encode()) <= fs.name_max:
            raise PintosDiskError(f"file name {name!r} does not fit a directory entry")
        inode = free_map.allocate(1, f"the inode of {name!r}")
        start = free_map.allocate(sectors_for(len(data)), f"the contents of {name!r}")
        image.inode(inode, start, len(data))
        image.contents(start, data)
        directory[slot * fs.entry_size:(slot + 1) * fs.entry_size] = image.entry(name, inode)
    image.inode(fs.root_dir_sector, directory_start, directory_size)
    image.contents(directory_start, bytes(directory))
    image.inode(fs.free_map_sector, bitmap_start, bitmap_size)
    image.contents(bitmap_start, free_map.bitmap(bitmap_size))
    return image.sectors


def write_formatted_disk(path: Path, size_bytes: int, files: Sequence[tuple[str, bytes]],
                         fs: StockFs) -> Path:
    """A raw disk of SIZE_BYTES (rounded up to sectors) at PATH holding the
    stock file system with FILES (formatted_sectors); sparse elsewhere."""
    total = sectors_for(size_bytes)
    sectors = formatted_sectors(total, files, fs)
    with open(path, "wb") as f:
        f.truncate(total * SECTOR)
        for number in sorted(sectors):
            f.seek(number * SECTOR)
            f.write(sectors[number])
    return path
