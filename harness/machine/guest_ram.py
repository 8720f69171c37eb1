"""Guest RAM in a shared file that the harness maps and reads as local memory.

QEMU backs the guest's RAM with a file on a memory file system
(`-object memory-backend-file,...,share=on` and `-machine memory-backend=`),
so the CPU's writes land in pages the harness maps read-only too. While the
guest is stopped the mapping is exactly the guest's RAM: a page-table or SPT
walk reads it as bytes instead of asking the GDB stub for each piece
(harness/debug/guest_memory.py does the reading).

    plan = plan_shared_ram(guest_args, run_dir_name)    # None: say plan.note
    cmd += plan.qemu_args()                             # before QEMU starts
    ram = GuestRam.open(plan)                           # after it answers QMP

The file is unlinked as soon as both sides have it mapped, so nothing is left
in /dev/shm even if the harness is killed later; Machine.close() removes it
too if QEMU never got that far. Measured on QEMU 7.2: savevm and loadvm work
with share=on (RAM goes into the snapshot as usual, and loadvm writes it back
into the file, which the mapping then shows).

Where no such file can be made (no memory file system, not enough room in it,
RAM the PC machine would split around the PCI hole, a -m the harness cannot
read) the plan says why in its `note`, and reads go over the GDB stub.
"""

from __future__ import annotations

import mmap
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from harness import config

BACKEND_ID = "vmcheck-ram"
MiB = 1 << 20
LOW_RAM_LIMIT = 0xB0000000   # the PC machines keep RAM below this in one piece (q35's limit)
_SIZE = re.compile(r"^(?:size=)?(\d+)([MG]?)$", re.IGNORECASE)


@dataclass
class SharedRamPlan:
    """Where QEMU's RAM file goes (PATH, SIZE bytes), or, with PATH None, why
    there is none (NOTE)."""
    path: Path | None
    size: int = 0
    note: str | None = None

    def qemu_args(self) -> list[str]:
        if self.path is None:
            return []
        return ["-object", f"memory-backend-file,id={BACKEND_ID},size={self.size},"
                           f"mem-path={self.path},share=on",
                "-machine", f"memory-backend={BACKEND_ID}"]

    def remove_file(self) -> None:
        if self.path is not None:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass


def ram_bytes(guest_args: list[str]) -> int | None:
    """The guest's RAM size from the last `-m` of GUEST_ARGS (N, NM, NG,
    size=N...; megabytes by default, as QEMU reads it), None without one."""
    size = None
    for flag, value in zip(guest_args, guest_args[1:]):
        if flag == "-m":
            match = _SIZE.match(value.split(",")[0])
            if match is None:
                return None
            size = int(match.group(1)) << (30 if match.group(2).upper() == "G" else 20)
    return size


def plan_shared_ram(guest_args: list[str], name: str, shm_dir: Path | None = None) \
        -> SharedRamPlan:
    """A fresh file in SHM_DIR (default config.shm_dir()) for RAM of the size
    GUEST_ARGS give, or a plan without a file and the reason in its note."""
    shm_dir = config.shm_dir() if shm_dir is None else shm_dir
    size = ram_bytes(guest_args)
    if size is None:
        return SharedRamPlan(None, note="the QEMU arguments give no -m the harness can read")
    if any(arg.startswith("memory-backend") for arg in guest_args):
        return SharedRamPlan(None, note="the kernel's QEMU arguments choose their own RAM backend")
    if size > LOW_RAM_LIMIT:
        return SharedRamPlan(None, note=f"{size // MiB} MB of RAM is split around the PCI hole")
    if not shm_dir.is_dir() or not os.access(shm_dir, os.W_OK | os.X_OK):
        return SharedRamPlan(None, note=f"no writable memory file system at {shm_dir}")
    stat = os.statvfs(shm_dir)
    free = stat.f_bavail * stat.f_frsize
    if free < size:
        return SharedRamPlan(None, note=f"{shm_dir} has {free // MiB} MB free, the guest needs "
                                        f"{size // MiB} MB")
    fd, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".ram", dir=shm_dir)
    os.close(fd)
    return SharedRamPlan(Path(path), size)


class GuestRam:
    """A read-only mapping of the guest's RAM file: physical address A is
    byte A of the file, for A below SIZE. Read it only while the guest is
    stopped (the CPU writes to the same pages while it runs), except one
    word with running_u64 (the guest clock's ticks)."""

    def __init__(self, mapping: mmap.mmap, size: int):
        self._mapping = mapping
        self._view = memoryview(mapping)
        self.size = size
        self._address = None

    @classmethod
    def open(cls, plan: SharedRamPlan) -> "GuestRam":
        """Maps PLAN's file (QEMU has sized it by now) and unlinks it.
        OSError (or ValueError for a file of the wrong size) if it cannot."""
        with open(plan.path, "rb") as ram_file:
            actual = os.fstat(ram_file.fileno()).st_size
            if actual != plan.size:
                raise ValueError(f"{plan.path} holds {actual} bytes, not the guest's {plan.size}")
            mapping = mmap.mmap(ram_file.fileno(), plan.size, prot=mmap.PROT_READ)
        plan.remove_file()
        return cls(mapping, plan.size)

    def read(self, address: int, length: int) -> bytes:
        """LENGTH bytes of RAM at ADDRESS; IndexError past its end."""
        if address < 0 or length < 0 or address + length > self.size:
            raise IndexError(f"{length} bytes at {address:#x} are not in the guest's "
                             f"{self.size:#x} bytes of RAM")
        return bytes(self._view[address:address + length])

    def address(self) -> int:
        """The address of the mapping's first byte in this process (for
        the C walk, harness/debug/native_walk.py); ValueError once closed,
        as read() fails then (C would read unmapped memory)."""
        if self._mapping.closed:
            raise ValueError("the guest's RAM mapping is closed")
        if self._address is None:
            from harness.debug.native_walk import buffer_address
            self._address = buffer_address(self._view)
        return self._address

    def u64(self, address: int) -> int:
        """The little-endian 8 bytes at ADDRESS (a page-table entry)."""
        return int.from_bytes(self._view[address:address + 8], "little")

    def running_u64(self, address: int, tries: int = 64) -> Optional[int]:
        """u64() of a word the guest may be writing as it runs (a counter):
        two reads that agree, so a copy torn by a write in between is never
        the answer; None if TRIES pairs disagree (a word rewritten faster
        than it can be read twice). ValueError once closed."""
        view = self._view[address:address + 8]
        for _ in range(tries):
            first, second = bytes(view), bytes(view)
            if first == second:
                return int.from_bytes(first, "little")
        return None

    def close(self) -> None:
        self._view.release()
        self._mapping.close()
