"""The disk images of one machine, read and written a sector at a time on
the host (the exact disk: harness/adapters/pintos_kaist/exact_disk.py serves a
kernel's disk requests from here while the guest is stopped).

Only raw images: QEMU's raw format has no cache of its own, and its reads
and writes (`-drive ...,format=raw`, cache mode writeback: pread/pwrite on
the file through the host's page cache) and ours (pread/pwrite on the
same file, through the same page cache) see each other's bytes at once.
A qcow2 image keeps tables in QEMU's memory that a write behind its back
would contradict, so it is refused (DiskRequestError at construction).

A request names the disk by its index (the IDE index the image was given
to QEMU with) and a sector; a disk that is not there, or a sector past
the end of the image, is a DiskRequestError, never a short read.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

SECTOR = 512


class DiskRequestError(Exception):
    """A request the images cannot serve (no such disk, sector out of range,
    an image that is not raw); the message says which."""


@dataclass
class SectorDisk:
    """One raw image file, open for reading and writing."""
    path: Path
    fd: int
    sectors: int
    reads: int = 0
    writes: int = 0


@dataclass
class SectorDisks:
    """The machine's raw images by disk index. Use close() (or `with`)."""
    disks: dict = field(default_factory=dict)   # index -> SectorDisk

    @classmethod
    def open(cls, images: dict, image_format: str = "raw") -> "SectorDisks":
        """IMAGES: disk index -> path of its image file, as given to QEMU
        with IMAGE_FORMAT. DiskRequestError if the format is not raw or an
        image cannot be opened."""
        if image_format != "raw":
            raise DiskRequestError(f"the disks are {image_format} images, not raw: QEMU keeps "
                                   f"{image_format} tables in its own memory, so the harness "
                                   "cannot write sectors behind it")
        out = cls()
        try:
            for index, path in sorted(images.items()):
                fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
                out.disks[index] = SectorDisk(Path(path), fd, os.fstat(fd).st_size // SECTOR)
        except OSError as e:
            out.close()
            raise DiskRequestError(f"cannot open disk image {e.filename}: {e.strerror}") from None
        return out

    def close(self) -> None:
        for disk in self.disks.values():
            if disk.fd >= 0:
                os.close(disk.fd)
                disk.fd = -1

    def __enter__(self) -> "SectorDisks":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _disk(self, index: int, sector: int) -> SectorDisk:
        disk = self.disks.get(index)
        if disk is None:
            have = ", ".join(str(i) for i in sorted(self.disks)) or "none"
            raise DiskRequestError(f"no disk {index} (disks: {have})")
        if disk.fd < 0:
            raise DiskRequestError(f"disk {index} ({disk.path.name}) is closed")
        if not 0 <= sector < disk.sectors:
            raise DiskRequestError(f"sector {sector} is outside disk {index} ({disk.path.name}: "
                                   f"{disk.sectors} sectors)")
        return disk

    def read(self, index: int, sector: int) -> bytes:
        """The SECTOR-byte sector SECTOR of disk INDEX."""
        disk = self._disk(index, sector)
        data = os.pread(disk.fd, SECTOR, sector * SECTOR)
        if len(data) != SECTOR:   # the file shrank under us
            raise DiskRequestError(f"short read of sector {sector} of disk {index}")
        disk.reads += 1
        return data

    def write(self, index: int, sector: int, data: bytes) -> None:
        """Writes DATA (exactly one sector) to sector SECTOR of disk INDEX."""
        if len(data) != SECTOR:
            raise DiskRequestError(f"a sector is {SECTOR} bytes, not {len(data)}")
        disk = self._disk(index, sector)
        if os.pwrite(disk.fd, data, sector * SECTOR) != SECTOR:
            raise DiskRequestError(f"short write of sector {sector} of disk {index}")
        disk.writes += 1

    def counts(self) -> dict:
        """index -> (sectors read, sectors written) through this object."""
        return {i: (d.reads, d.writes) for i, d in sorted(self.disks.items())}


def images_digest(paths) -> str:
    """sha256 (16 hex digits) over the contents of PATHS in order: what the
    guest's disks held when it started."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0end-of-disk\0")
    return digest.hexdigest()[:16]
