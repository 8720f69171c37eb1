"""What a kept run folder holds (Machine.close applies it).

A failed run keeps what a person reads: console.log and qemu-stderr.log
(and any file the runner asks for, e.g. a compressed file-system image
after a failed file-system check); disk images go. `--keep` keeps the
whole folder, its raw disk images made sparse (all-zero blocks become
holes: same contents, a fraction of the space on disk).

    keep_only_readable(run_dir, also=[...])   the default for a failed run
    make_sparse(path)                          --keep
    compress(path) -> path.gz                  an image a failed check read
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path
from typing import Iterable

READABLE = ("console.log", "qemu-stderr.log")
DISK_SUFFIXES = (".img", ".dsk", ".qcow2")
BLOCK = 64 * 1024


def keep_only_readable(run_dir: Path, also: Iterable[Path] = ()) -> None:
    """Removes everything in RUN_DIR but READABLE and the files ALSO."""
    keep = {Path(p).resolve() for p in also}
    for path in run_dir.iterdir():
        if path.name in READABLE or path.resolve() in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def disk_images(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.iterdir() if p.suffix in DISK_SUFFIXES and p.is_file())


def make_sparse(path: Path) -> None:
    """Rewrites PATH with its all-zero 64 KiB blocks as holes (a copy
    that seeks over them, then renamed over PATH; contents unchanged).
    qcow2 files are left as they are (they only hold what was written)."""
    if path.suffix == ".qcow2":
        return
    sparse = path.with_name(path.name + ".sparse")
    with open(path, "rb") as src, open(sparse, "wb") as dst:
        while block := src.read(BLOCK):
            if block.count(0) == len(block):
                dst.seek(len(block), os.SEEK_CUR)
            else:
                dst.write(block)
        dst.truncate()
    shutil.copymode(path, sparse)
    os.replace(sparse, path)


def compress(path: Path) -> Path:
    """PATH gzip-compressed as PATH.gz (PATH removed); returns the new path."""
    target = path.with_name(path.name + ".gz")
    with open(path, "rb") as src, gzip.open(target, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, BLOCK)
    path.unlink()
    return target


def allocated_bytes(path: Path) -> int:
    """Bytes PATH takes on disk (holes excluded)."""
    return path.stat().st_blocks * 512
