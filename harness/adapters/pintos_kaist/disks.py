"""Disk formats of Pintos-KAIST kernels, on the host.

A Pintos-KAIST machine has four IDE disks (the `pintos` script's order):
  index 0  boot disk: the build's os.dsk (loader sector + kernel), with the
           kernel arguments written into the loader sector (below);
  index 1  file-system disk: blank, formatted by the kernel's `-f`;
  index 2  scratch disk: files for the kernel's `put` actions (below);
  index 3  swap disk: blank.

Kernel arguments (threads/loader.h): a little-endian u32 count at byte
0x17a of the boot disk, then the arguments, each NUL-terminated, in the
128 bytes 0x17e..0x1fd, just before the 0x55 0xaa boot signature.

Scratch disk: for each file, one 512-byte header sector ("PUT\\0", u32
size, zeros) and the contents padded to whole sectors; each `put NAME`
action copies the next file into the file system under NAME.

File system (filesys/, the base Pintos file system Project 3 keeps):
sector 0 is the free map's inode, sector 1 the root directory's; an
inode sector is {u32 first data sector, i32 length, u32 magic "INOD"};
a file's data are contiguous sectors; a directory is a file of 20-byte
entries {u32 inode sector, char name[15], bool in_use}. A kernel built
with -DEFILESYS (Project 4's FAT file system, e.g. the KAIST CS330 vm
build) formats the disk with a FAT boot sector at sector 0 (u32 magic
0xEB3C9000) instead; its layout is the student's code, so it is
recognised and reported as unreadable, never read as the base format.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterable, Sequence

SECTOR = 512
ARG_COUNT_OFFSET = 0x17A
ARGS_OFFSET = 0x17E
ARGS_SIZE = 128
SIGNATURE_OFFSET = 0x1FE
BOOT_SIGNATURE = b"\x55\xaa"
# `pintos --fs-disk=N` / `--swap-disk=N` make N units of this many bytes.
DISK_UNIT_BYTES = 0xFC000
PUT_MAGIC = b"PUT\0"
NAME_MAX = 14                  # filesys/directory.h
FREE_MAP_SECTOR = 0
ROOT_DIR_SECTOR = 1
INODE_MAGIC = 0x494E4F44
FAT_MAGIC = 0xEB3C9000         # filesys/fat.h: the FAT boot sector's first word
_INODE = struct.Struct("<IiI")
_DIR_ENTRY = struct.Struct("<I15s?")


class PintosDiskError(Exception):
    """A disk image or an argument cannot be written or read as asked."""


class PintosFileMissingError(PintosDiskError):
    """The file system was read and holds no file of the name asked for."""


# ---- boot disk: kernel arguments ----

def encode_kernel_args(words: Sequence[str]) -> bytes:
    """The 132 bytes at ARG_COUNT_OFFSET that carry WORDS: the count, then
    the NUL-terminated words padded with NULs to ARGS_SIZE bytes."""
    encoded = b""
    for word in words:
        data = word.encode()
        if not data or b"\0" in data:
            raise PintosDiskError(f"kernel argument {word!r} must be non-empty and without NUL")
        encoded += data + b"\0"
    if len(encoded) > ARGS_SIZE:
        raise PintosDiskError(
            f"the kernel arguments take {len(encoded)} bytes, more than the {ARGS_SIZE} bytes the "
            f"Pintos-KAIST loader sector holds: {' '.join(words)}")
    return struct.pack("<I", len(words)) + encoded.ljust(ARGS_SIZE, b"\0")


def write_kernel_args(boot_disk: Path, words: Sequence[str]) -> None:
    """Writes WORDS into the loader sector of the boot disk image (in place)."""
    block = encode_kernel_args(words)
    with open(boot_disk, "r+b") as f:
        sector = f.read(SECTOR)
        if len(sector) < SECTOR or sector[SIGNATURE_OFFSET:SECTOR] != BOOT_SIGNATURE:
            raise PintosDiskError(f"{boot_disk} does not start with a boot sector "
                                  "(no 0x55 0xaa signature at byte 510): not a Pintos os.dsk")
        f.seek(ARG_COUNT_OFFSET)
        f.write(block)


def read_kernel_args(sector: bytes) -> list[str]:
    """The kernel arguments in a loader sector (the inverse of write_kernel_args)."""
    (count,) = struct.unpack_from("<I", sector, ARG_COUNT_OFFSET)
    words = sector[ARGS_OFFSET:ARGS_OFFSET + ARGS_SIZE].split(b"\0")
    if count > len(words) - 1:
        raise PintosDiskError(f"the loader sector says {count} arguments but holds fewer")
    return [w.decode() for w in words[:count]]


# ---- scratch disk ----

def check_file_name(name: str) -> None:
    """PintosDiskError unless NAME can be a file in the Pintos root directory."""
    if not name or "/" in name or "\0" in name or len(name.encode()) > NAME_MAX:
        raise PintosDiskError(f"file name {name!r} cannot be used on a Pintos file system: it "
                              f"must be 1..{NAME_MAX} bytes without '/'")


def scratch_image(files: Iterable[bytes]) -> bytes:
    """A scratch disk holding FILES (contents, in `put` order)."""
    out = bytearray()
    for data in files:
        out += PUT_MAGIC + struct.pack("<I", len(data))
        out += bytes(SECTOR - len(PUT_MAGIC) - 4)
        out += data + bytes(-len(data) % SECTOR)
    return bytes(out or bytes(SECTOR))


def read_scratch(image: bytes) -> list[bytes]:
    """The files on a scratch disk in put order (stops at the first sector
    without the PUT header)."""
    files, at = [], 0
    while at + SECTOR <= len(image) and image[at:at + 4] == PUT_MAGIC:
        (size,) = struct.unpack_from("<I", image, at + 4)
        start = at + SECTOR
        if start + size > len(image):
            raise PintosDiskError(f"scratch file at byte {at} says {size} bytes, past the end")
        files.append(image[start:start + size])
        at = start + size + (-size % SECTOR)
    return files


def blank_disk(path: Path, size_bytes: int) -> Path:
    """A zero-filled (sparse) raw disk of SIZE_BYTES rounded up to sectors."""
    if size_bytes <= 0:
        raise PintosDiskError(f"disk size must be positive, not {size_bytes}")
    with open(path, "wb") as f:
        f.truncate(-(-size_bytes // SECTOR) * SECTOR)
    return path


# ---- file-system disk (read back after a run) ----

class PintosFileSystem:
    """Read-only view of a Pintos base file system in a raw disk image."""

    def __init__(self, image: Path):
        self.image = image
        try:
            self._data = Path(image).read_bytes()
        except OSError as e:
            raise PintosDiskError(f"cannot read {image}: {e.strerror}") from None

    def _sector(self, number: int) -> bytes:
        start = number * SECTOR
        if start + SECTOR > len(self._data):
            raise PintosDiskError(f"sector {number} is past the end of {self.image}")
        return self._data[start:start + SECTOR]

    def _inode_contents(self, sector: int, what: str) -> bytes:
        start, length, magic = _INODE.unpack_from(self._sector(sector))
        if magic != INODE_MAGIC:
            raise PintosDiskError(f"{what}: sector {sector} is not an inode (magic {magic:#x}); "
                                  "the disk is not a formatted Pintos file system")
        end = start * SECTOR + length
        if length < 0 or end > len(self._data):
            raise PintosDiskError(f"{what}: inode at sector {sector} says {length} bytes from "
                                  f"sector {start}, outside the disk")
        return self._data[start * SECTOR:end]

    def _check_format(self) -> None:
        """PintosDiskError naming the format when the disk is not the base
        Pintos file system's (a FAT boot sector at sector 0)."""
        (first,) = struct.unpack_from("<I", self._sector(FREE_MAP_SECTOR))
        if first == FAT_MAGIC:
            raise PintosDiskError(
                "the disk holds a FAT file system (boot sector magic 0xeb3c9000: a kernel "
                "built with -DEFILESYS, Project 4), whose layout is the student's code; the "
                "harness reads only the base Pintos file system")

    def files(self) -> dict[str, int]:
        """Names in the root directory -> their inode sectors."""
        self._check_format()
        directory = self._inode_contents(ROOT_DIR_SECTOR, "root directory")
        out = {}
        for offset in range(0, len(directory) - _DIR_ENTRY.size + 1, _DIR_ENTRY.size):
            sector, raw_name, in_use = _DIR_ENTRY.unpack_from(directory, offset)
            if in_use:
                out[raw_name.split(b"\0", 1)[0].decode(errors="replace")] = sector
        return out

    def read(self, name: str) -> bytes:
        """Contents of file NAME; PintosDiskError if there is none."""
        files = self.files()
        if name not in files:
            raise PintosFileMissingError(f"no file {name!r} on the file-system disk "
                                  f"(it holds: {', '.join(sorted(files)) or 'nothing'})")
        return self._inode_contents(files[name], f"file {name!r}")
