"""Host-side tool for VMFS images, the reference kernel's file system.

The format is specified in docs/filesystem.md; the kernel side is
reference_kernel/kernel/filesys.c. Both must agree byte for byte.

Library use:
    create_image(path, {"name": b"data"}, size_bytes=2 << 20)
    list_files(path)            -> {"name": size, ...}
    read_file(path, "name")     -> bytes
    add_file(path, "name", b"data")

Command line (exit status 2 and a one-line error on bad input):
    python3 -m harness.adapters.reference.fsimage create IMG --size-kb N [--entries E] FILE[=NAME]...
    python3 -m harness.adapters.reference.fsimage add IMG FILE[=NAME]...
    python3 -m harness.adapters.reference.fsimage list IMG
    python3 -m harness.adapters.reference.fsimage extract IMG NAME [OUT]
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from dataclasses import dataclass

SECTOR_SIZE = 512
MAGIC = b"VMFS"
VERSION = 1
NAME_MAX = 14
DIRENT_SIZE = 32
DIRENTS_PER_SECTOR = SECTOR_SIZE // DIRENT_SIZE
MIN_DIR_ENTRIES = 64
DEFAULT_DIR_ENTRIES = 128
DEFAULT_SIZE_BYTES = 4 << 20
FLAG_IN_USE = 1
MAX_FILE_LENGTH = 2**31 - 1
MAX_IMAGE_BYTES = (1 << 28) * SECTOR_SIZE  # what the kernel's LBA28 driver reaches

_SUPER = struct.Struct("<4s6I")  # magic, version, total, dir_start, dir_sectors, dir_entries, data_start
_DIRENT = struct.Struct("<16s4I")  # name, start_sector, sector_count, length, flags


class FsImageError(Exception):
    """A VMFS image or a request on one is invalid (message says which)."""


class FileNotInImageError(FsImageError):
    """The image is readable and holds no file of the name asked for."""


@dataclass(frozen=True)
class Superblock:
    total_sectors: int
    dir_sectors: int
    dir_entries: int
    dir_start: int = 1

    @property
    def data_start(self) -> int:
        return self.dir_start + self.dir_sectors

    def pack(self) -> bytes:
        head = _SUPER.pack(MAGIC, VERSION, self.total_sectors, self.dir_start,
                           self.dir_sectors, self.dir_entries, self.data_start)
        return head.ljust(SECTOR_SIZE, b"\0")


@dataclass(frozen=True)
class DirEntry:
    name: str
    start_sector: int
    sector_count: int
    length: int

    @property
    def end_sector(self) -> int:
        return self.start_sector + self.sector_count

    def pack(self) -> bytes:
        return _DIRENT.pack(self.name.encode("latin-1"), self.start_sector,
                            self.sector_count, self.length, FLAG_IN_USE)


def sectors_for_length(length: int) -> int:
    """Sectors a file of LENGTH bytes owns: at least one, even when empty."""
    return max(1, -(-length // SECTOR_SIZE))


def check_new_name(name: str) -> None:
    """Raises FsImageError unless NAME is 1..14 visible ASCII characters."""
    if not isinstance(name, str):
        raise FsImageError(f"file name must be a string, not {type(name).__name__}")
    if not 1 <= len(name) <= NAME_MAX:
        raise FsImageError(f"file name {name!r} must be 1..{NAME_MAX} characters long")
    bad = [c for c in name if not "!" <= c <= "~"]
    if bad:
        raise FsImageError(f"file name {name!r} has a character that is not visible ASCII: {bad[0]!r}")


def _parse_superblock(raw: bytes, image_sectors: int, where: str) -> Superblock:
    if len(raw) < SECTOR_SIZE:
        raise FsImageError(f"{where}: not a VMFS image (smaller than one sector)")
    magic, version, total, dir_start, dir_sectors, dir_entries, data_start = _SUPER.unpack_from(raw)
    if magic != MAGIC:
        raise FsImageError(f"{where}: not a VMFS image (magic {magic!r}, expected {MAGIC!r})")
    if version != VERSION:
        raise FsImageError(f"{where}: VMFS version {version} is not supported (expected {VERSION})")
    problems = [
        (dir_start != 1, f"dir_start is {dir_start}, expected 1"),
        (dir_sectors * DIRENTS_PER_SECTOR < MIN_DIR_ENTRIES,
         f"dir_sectors {dir_sectors} holds fewer than {MIN_DIR_ENTRIES} entries"),
        (dir_entries != dir_sectors * DIRENTS_PER_SECTOR,
         f"dir_entries {dir_entries} != 16 * dir_sectors {dir_sectors}"),
        (data_start != dir_start + dir_sectors, f"data_start {data_start} != 1 + dir_sectors"),
        (total <= data_start, f"total_sectors {total} leaves no data sectors"),
        (total > image_sectors, f"total_sectors {total} exceeds the image's {image_sectors} sectors"),
    ]
    for bad, message in problems:
        if bad:
            raise FsImageError(f"{where}: corrupt VMFS superblock: {message}")
    return Superblock(total, dir_sectors, dir_entries)


def _parse_entry(raw: bytes, index: int, sb: Superblock, where: str) -> DirEntry | None:
    """The in-use entry in RAW (32 bytes), None if free; raises if corrupt."""
    name_field, start, count, length, flags = _DIRENT.unpack(raw)
    if flags == 0 and raw == bytes(DIRENT_SIZE):
        return None
    name_bytes = name_field.split(b"\0", 1)[0]
    problems = [
        (flags != FLAG_IN_USE, f"flags {flags:#x}"),
        (not 1 <= len(name_bytes) <= NAME_MAX, "name is empty or longer than 14 bytes"),
        (name_field[len(name_bytes):] != bytes(16 - len(name_bytes)), "name is not NUL-padded"),
        (length > MAX_FILE_LENGTH, f"length {length} is too large"),
        (count != sectors_for_length(length), f"sector_count {count} does not match length {length}"),
        (start < sb.data_start or start + count > sb.total_sectors,
         f"extent {start}+{count} is outside the data area"),
    ]
    for bad, message in problems:
        if bad:
            raise FsImageError(f"{where}: corrupt VMFS directory entry {index}: {message}")
    return DirEntry(name_bytes.decode("latin-1"), start, count, length)


class Image:
    """An open VMFS image: its superblock and its directory (by slot)."""

    def __init__(self, path: str | os.PathLike, raw_head: bytes, image_sectors: int):
        self.path = os.fspath(path)
        self.superblock = _parse_superblock(raw_head, image_sectors, self.path)
        sb = self.superblock
        dir_bytes = raw_head[sb.dir_start * SECTOR_SIZE:sb.data_start * SECTOR_SIZE]
        if len(dir_bytes) != sb.dir_sectors * SECTOR_SIZE:
            raise FsImageError(f"{self.path}: VMFS image truncated inside the directory")
        self.slots: list[DirEntry | None] = [
            _parse_entry(dir_bytes[i * DIRENT_SIZE:(i + 1) * DIRENT_SIZE], i, sb, self.path)
            for i in range(sb.dir_entries)]
        self._check_consistency()

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Image":
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                head = f.read(SECTOR_SIZE)
                if len(head) == SECTOR_SIZE and head[:4] == MAGIC:
                    dir_sectors = _SUPER.unpack_from(head)[4]
                    head += f.read(min(dir_sectors, 1 << 16) * SECTOR_SIZE)
        except OSError as e:
            raise FsImageError(f"{path}: cannot read image: {e.strerror}") from None
        return cls(path, head, size // SECTOR_SIZE)

    def _check_consistency(self) -> None:
        seen: set[str] = set()
        for entry in self.entries():
            if entry.name in seen:
                raise FsImageError(f"{self.path}: corrupt VMFS directory: name {entry.name!r} appears twice")
            seen.add(entry.name)
        extents = sorted((e.start_sector, e.end_sector, e.name) for e in self.entries())
        for (_, end, name), (start, _, other) in zip(extents, extents[1:]):
            if start < end:
                raise FsImageError(f"{self.path}: corrupt VMFS directory: files {name!r} and {other!r} overlap")

    def entries(self) -> list[DirEntry]:
        return [e for e in self.slots if e is not None]

    def find(self, name: str) -> DirEntry:
        for entry in self.entries():
            if entry.name == name:
                return entry
        raise FileNotInImageError(f"{self.path}: no file named {name!r} in the image")

    def first_fit(self, sector_count: int) -> int:
        """Lowest start sector of a free run of SECTOR_COUNT sectors (the
        kernel's rule); raises FsImageError if none."""
        candidate = self.superblock.data_start
        for entry in sorted(self.entries(), key=lambda e: e.start_sector):
            if entry.start_sector >= candidate + sector_count:
                break
            candidate = max(candidate, entry.end_sector)
        if candidate + sector_count > self.superblock.total_sectors:
            free = self.superblock.total_sectors - self.superblock.data_start - \
                sum(e.sector_count for e in self.entries())
            raise FsImageError(f"{self.path}: no room for {sector_count} contiguous sectors "
                               f"({free} sectors free in total)")
        return candidate

    def add(self, name: str, data: bytes) -> int:
        """Allocates NAME in memory (slot and extent) and returns the slot;
        the caller writes the entry and the data."""
        check_new_name(name)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise FsImageError(f"contents of file {name!r} must be bytes, not {type(data).__name__}")
        if len(data) > MAX_FILE_LENGTH:
            raise FsImageError(f"file {name!r} is too large ({len(data)} bytes)")
        if any(e.name == name for e in self.entries()):
            raise FsImageError(f"{self.path}: a file named {name!r} already exists")
        try:
            slot = self.slots.index(None)
        except ValueError:
            raise FsImageError(f"{self.path}: directory is full "
                               f"({self.superblock.dir_entries} entries)") from None
        count = sectors_for_length(len(data))
        self.slots[slot] = DirEntry(name, self.first_fit(count), count, len(data))
        return slot

    def write_entry(self, f, slot: int) -> None:
        entry = self.slots[slot]
        f.seek(self.superblock.dir_start * SECTOR_SIZE + slot * DIRENT_SIZE)
        f.write(entry.pack() if entry else bytes(DIRENT_SIZE))


def _write_file_data(f, entry: DirEntry, data: bytes) -> None:
    f.seek(entry.start_sector * SECTOR_SIZE)
    f.write(data.ljust(entry.sector_count * SECTOR_SIZE, b"\0"))


def create_image(path: str | os.PathLike, files: dict[str, bytes],
                 size_bytes: int = DEFAULT_SIZE_BYTES,
                 dir_entries: int = DEFAULT_DIR_ENTRIES) -> None:
    """Writes a new VMFS image of SIZE_BYTES at PATH holding FILES (name ->
    contents), placed first fit in the dict's order. Raises FsImageError on
    a bad name, a duplicate, files that do not fit, or a bad size."""
    if size_bytes <= 0 or size_bytes % SECTOR_SIZE or size_bytes > MAX_IMAGE_BYTES:
        raise FsImageError(f"image size {size_bytes} must be a multiple of {SECTOR_SIZE} "
                           f"between {SECTOR_SIZE} and {MAX_IMAGE_BYTES} (IDE LBA28)")
    if dir_entries < MIN_DIR_ENTRIES or dir_entries % DIRENTS_PER_SECTOR:
        raise FsImageError(f"directory entries {dir_entries} must be a multiple of "
                           f"{DIRENTS_PER_SECTOR} and at least {MIN_DIR_ENTRIES}")
    dir_sectors = dir_entries // DIRENTS_PER_SECTOR
    sb = Superblock(size_bytes // SECTOR_SIZE, dir_sectors, dir_entries)
    if sb.total_sectors <= sb.data_start:
        raise FsImageError(f"image size {size_bytes} leaves no room for data "
                           f"(superblock and directory take {sb.data_start} sectors)")
    head = sb.pack() + bytes(dir_sectors * SECTOR_SIZE)
    image = Image(path, head, sb.total_sectors)
    slots = [image.add(name, data) for name, data in files.items()]
    try:
        with open(path, "wb") as f:
            f.write(sb.pack())
            for slot, data in zip(slots, files.values()):
                image.write_entry(f, slot)
                _write_file_data(f, image.slots[slot], bytes(data))
            f.truncate(size_bytes)
    except OSError as e:
        raise FsImageError(f"{path}: cannot write image: {e.strerror}") from None


def list_files(path: str | os.PathLike) -> dict[str, int]:
    """Name -> length of every file, in directory-slot order."""
    return {e.name: e.length for e in Image.open(path).entries()}


def read_file(path: str | os.PathLike, name: str) -> bytes:
    """Contents of file NAME; FsImageError if absent or the image is bad."""
    entry = Image.open(path).find(name)
    with open(path, "rb") as f:
        f.seek(entry.start_sector * SECTOR_SIZE)
        data = f.read(entry.length)
    if len(data) != entry.length:
        raise FsImageError(f"{path}: image truncated inside file {name!r}")
    return data


def add_file(path: str | os.PathLike, name: str, data: bytes) -> None:
    """Adds a new file to an existing image (first fit, zero-padded)."""
    image = Image.open(path)
    slot = image.add(name, data)
    try:
        with open(path, "r+b") as f:
            _write_file_data(f, image.slots[slot], bytes(data))
            image.write_entry(f, slot)
    except OSError as e:
        raise FsImageError(f"{path}: cannot write image: {e.strerror}") from None


def _file_arg(arg: str) -> tuple[str, str]:
    """FILE[=NAME] -> (host path, name in the image); the name defaults to
    the file's base name. Splits at the last '='."""
    host, sep, name = arg.rpartition("=")
    if not sep:
        return arg, os.path.basename(arg)
    return host, name


def _read_host_files(args: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for arg in args:
        host, name = _file_arg(arg)
        if name in files:
            raise FsImageError(f"file name {name!r} given twice")
        try:
            with open(host, "rb") as f:
                files[name] = f.read()
        except OSError as e:
            raise FsImageError(f"{host}: cannot read: {e.strerror}") from None
    return files


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage dump), still exit status 2."""

    def error(self, message: str):
        self.exit(2, f"fsimage: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python3 -m harness.adapters.reference.fsimage",
                                description="Create and read VMFS disk images (docs/filesystem.md).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("create", help="write a new image holding FILEs")
    c.add_argument("image")
    c.add_argument("--size-kb", type=int, required=True, help="image size in KiB")
    c.add_argument("--entries", type=int, default=DEFAULT_DIR_ENTRIES,
                   help=f"directory entries (default {DEFAULT_DIR_ENTRIES})")
    c.add_argument("files", nargs="*", metavar="FILE[=NAME]")
    a = sub.add_parser("add", help="add FILEs to an existing image")
    a.add_argument("image")
    a.add_argument("files", nargs="+", metavar="FILE[=NAME]")
    ls = sub.add_parser("list", help="print 'NAME SIZE' for every file")
    ls.add_argument("image")
    x = sub.add_parser("extract", help="copy file NAME out (to OUT, default ./NAME; '-' = stdout)")
    x.add_argument("image")
    x.add_argument("name")
    x.add_argument("out", nargs="?")
    return p


def _run(args: argparse.Namespace) -> None:
    if args.command == "create":
        create_image(args.image, _read_host_files(args.files),
                     size_bytes=args.size_kb * 1024, dir_entries=args.entries)
    elif args.command == "add":
        for name, data in _read_host_files(args.files).items():
            add_file(args.image, name, data)
    elif args.command == "list":
        for name, size in list_files(args.image).items():
            print(f"{name} {size}")
    elif args.command == "extract":
        data = read_file(args.image, args.name)
        if args.out == "-":
            sys.stdout.buffer.write(data)
            return
        out = args.out or args.name
        try:
            with open(out, "wb") as f:
                f.write(data)
        except OSError as e:
            raise FsImageError(f"{out}: cannot write: {e.strerror}") from None


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    # FILEs may follow options ("create IMG --size-kb N FILE..."): argparse
    # leaves those as extras, which belong to the file list.
    args, extra = parser.parse_known_args(argv)  # exits 2 on bad syntax
    if extra and (not hasattr(args, "files") or any(x.startswith("-") for x in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.files += extra
    try:
        _run(args)
    except FsImageError as e:
        print(f"fsimage: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
