"""Guest memory read and written by the harness as the guest's own kernel
code would: through the current page tables, with the Accessed and Dirty
bits the CPU would set, and refused where the CPU would fault.

A debugger write (GDB `M`) goes straight to the physical page and sets no
bit: a kernel that asks later whether a page is dirty (an mmap write-back,
an eviction) would see a page the device had filled as clean. So the
exact disk (harness/adapters/pintos_kaist/exact_disk.py), which does a driver's
`insw`/`outsw` for it, goes through here: each page of the buffer is
translated under CR3 (harness/x86/pagewalk.py translate), A is set in every
entry of the walk and, for a write, D in the leaf, as a supervisor-mode
access with no TLB entry would set them; a page that is not present, or
not writable for a write while CR0.WP is set, is an AccessRefused (the
CPU would take a page fault there, which the harness cannot stand in
for), and nothing is copied.
"""

from __future__ import annotations

import contextlib
from typing import Optional

from harness.x86.pagewalk import translate
from oracles.model.page_tables import PTE_A, PTE_D

CR0_WP = 1 << 16
EFER_NXE = 1 << 11
PAGE = 4096


class AccessRefused(Exception):
    """The CPU would fault on this access; the message says where and why."""


class CpuMemory:
    """Supervisor-mode data accesses of one stopped guest (a Debugger) with
    RAM_SIZE bytes of RAM, under the page tables at the current CR3.
    DIRECT_MAP: the virtual address at which every address space maps all
    of physical memory (Pintos-KAIST's KERN_BASE), if there is one: page
    tables and data are then read and written through it, which saves the
    two packets that switch the GDB stub to physical addresses and back.

    Where the debugger reads guest RAM from its local mapping
    (Debugger.reads_ram_locally: harness/debug/guest_memory.py), page
    tables and data are read there, physically: no packet. Writes always
    go through the debugger (the GDB stub): QEMU does not see a write made
    behind it into its RAM and would keep translated code of that page."""

    def __init__(self, debugger, ram_size: int, direct_map: Optional[int] = None):
        self.debugger = debugger
        self.ram_size = ram_size
        self.direct_map = direct_map
        self.local = bool(getattr(debugger, "reads_ram_locally", lambda: False)())

    def read_phys(self, address: int, length: int) -> bytes:   # pagewalk.PhysicalMemory
        if self.local:
            return self.debugger.read_phys(address, length)
        if self.direct_map is not None:
            return self.debugger.read_virt(self.direct_map + address, length)
        return self.debugger.read_phys(address, length)

    def _write_phys(self, address: int, data: bytes) -> None:
        if self.direct_map is not None:
            self.debugger.write_virt(self.direct_map + address, data)
        else:
            self.debugger.write_phys(address, data)

    def _physical(self):
        """The context in which read_phys/_write_phys run."""
        return contextlib.nullcontext() if self.direct_map is not None \
            else self.debugger.physical_memory()

    def _pieces(self, va: int, size: int, write: bool) -> list:
        """[(physical address, length, Translation)] covering [VA, VA+SIZE),
        page by page; AccessRefused if any page would fault."""
        cr3 = self.debugger.register("cr3")
        write_protect = bool(self.debugger.register("cr0") & CR0_WP)
        nx = bool(self.debugger.register("efer") & EFER_NXE)
        pieces, at, end = [], va, va + size
        while at < end:
            length = min(end, (at & ~(PAGE - 1)) + PAGE) - at
            found = translate(self, cr3, at, nx_enabled=nx)
            if found.mapping is None:
                raise AccessRefused(f"{at:#x}: {found.reason}")
            if write and write_protect and not found.mapping.writable:
                raise AccessRefused(f"{at:#x}: a write to a read-only page (CR0.WP is set)")
            pieces.append((found.phys, length, found))
            at += length
        return pieces

    def _set_bits(self, found, write: bool) -> None:
        """A in every entry FOUND passed, D in its leaf for a write, where
        not already set."""
        last = len(found.steps) - 1
        for i, (_, entry_addr, value) in enumerate(found.steps):
            wanted = value | PTE_A | (PTE_D if write and i == last else 0)
            if wanted != value:
                self._write_phys(entry_addr, wanted.to_bytes(8, "little"))

    def read(self, va: int, size: int) -> bytes:
        """SIZE bytes at VA, as a kernel load would read them."""
        out = b""
        with self._physical():
            for phys, length, found in self._pieces(va, size, write=False):
                self._set_bits(found, write=False)
                out += self.read_phys(phys, length)
        return out

    def peek(self, va: int, size: int) -> bytes:
        """SIZE bytes at VA as a debugger reads them: no bit set, no
        permission asked. From the local RAM through a walk of the page
        tables where the debugger has it; else, or where that walk fails,
        the debugger's own read (which then raises as it does)."""
        if self.local:
            try:
                pieces = self._pieces(va, size, write=False)
            except AccessRefused:
                pieces = None
            if pieces is not None:
                return b"".join(self.read_phys(phys, length) for phys, length, _ in pieces)
        return self.debugger.read_virt(va, size)

    def write(self, va: int, data: bytes) -> None:
        """DATA to VA, as a kernel store would write it."""
        done = 0
        with self._physical():
            for phys, length, found in self._pieces(va, len(data), write=True):
                self._set_bits(found, write=True)
                self._write_phys(phys, data[done:done + length])
                done += length
