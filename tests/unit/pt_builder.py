"""Synthetic x86-64 page tables for tests, and the walker benchmark.

PageTableBuilder writes tables into a SparsePhysicalMemory with its own
bit arithmetic (independent of harness.x86.pagewalk), so tests can state the
exact snapshot they expect. Run this file to print the walk benchmark:
    /usr/bin/python3 -m tests.unit.pt_builder   (from the repository root)
"""
from __future__ import annotations

import statistics
import time

from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from harness.x86.pagewalk import SparsePhysicalMemory, walk_page_tables
from oracles.model.page_tables import PAGE_1G, PAGE_2M, PAGE_4K, PTE_P, PTE_PS, PTE_U, PTE_W

URW = PTE_P | PTE_W | PTE_U
ADDR_MASK = 0x000FFFFFFFFFF000
LEAF_LEVEL = {PAGE_4K: 1, PAGE_2M: 2, PAGE_1G: 3}
SHIFT = {4: 39, 3: 30, 2: 21, 1: 12}


def index_of(level: int, va: int) -> int:
    return (va >> SHIFT[level]) & 511


class PageTableBuilder:
    """Builds one address space; tables are allocated from TABLE_BASE up."""

    def __init__(self, ram_size: int = 20 << 20, table_base: int = 0x100000):
        self.mem = SparsePhysicalMemory(ram_size)
        self._next_table = table_base
        self.cr3 = self.new_table()

    def new_table(self) -> int:
        addr = self._next_table
        self._next_table += PAGE_4K
        return addr

    def read(self, addr: int) -> int:
        return int.from_bytes(self.mem.read_phys(addr, 8), "little")

    def write(self, addr: int, value: int) -> None:
        self.mem.write_u64(addr, value)

    def entry_addr(self, level: int, va: int, upper: int | None = None) -> int:
        """Address of VA's entry at LEVEL (4 = PML4E). Missing upper tables
        are created with flags UPPER, or KeyError if UPPER is None."""
        table = self.cr3
        for lvl in range(4, level, -1):
            addr = table + 8 * index_of(lvl, va)
            value = self.read(addr)
            if not value & PTE_P:
                if upper is None:
                    raise KeyError(f"no level-{lvl} entry for {va:#x}")
                value = self.new_table() | upper
                self.write(addr, value)
            table = value & ADDR_MASK
        return table + 8 * index_of(level, va)

    def map(self, va: int, phys: int, size: int = PAGE_4K, flags: int = URW,
            upper: int = URW) -> int:
        """Maps one page of SIZE; returns the leaf entry's address."""
        level = LEAF_LEVEL[size]
        addr = self.entry_addr(level, va, upper)
        self.write(addr, phys | flags | (PTE_PS if level > 1 else 0))
        return addr

    def update(self, level: int, va: int, set_bits: int = 0,
               clear_bits: int = 0) -> int:
        """Sets/clears bits of an existing entry; returns its address."""
        addr = self.entry_addr(level, va)
        self.write(addr, (self.read(addr) | set_bits) & ~clear_bits)
        return addr

    def walk(self, **options):
        return walk_page_tables(self.mem, self.cr3, **{"user_top": LAYOUT.user_top, **options})


KERN_BASE = 0x8004000000
KERNEL_VMA = 0xFFFFFFFF80000000


def build_process(user_pages: int = 5000, kernel_4k_direct_map: bool = False,
                  ram_size: int = 64 << 20) -> PageTableBuilder:
    """A ~20 MB process: code at 0x400000, heap, a stack below 0x47480000,
    plus the kernel: direct map at KERN_BASE (2 MiB supervisor pages, or
    Pintos-KAIST style 4 KiB pages under user-enabled upper levels) and the
    kernel image as one 1 GiB page at KERNEL_VMA."""
    b = PageTableBuilder(ram_size=ram_size)
    frame = 0x2000000
    stack = 256
    layout = [(0x400000, user_pages - stack), (0x47480000 - stack * PAGE_4K, stack)]
    for start, count in layout:
        for i in range(count):
            b.map(start + i * PAGE_4K, frame, flags=URW)
            frame += PAGE_4K
    kernel = PTE_P | PTE_W
    if kernel_4k_direct_map:
        for pa in range(0, ram_size, PAGE_4K):
            b.map(KERN_BASE + pa, pa, flags=kernel, upper=URW)
    else:
        for pa in range(0, ram_size, PAGE_2M):
            b.map(KERN_BASE + pa, pa, PAGE_2M, flags=kernel, upper=kernel)
    b.map(KERNEL_VMA, 0, PAGE_1G, flags=kernel, upper=kernel)
    return b


def _time_walk(builder: PageTableBuilder, repeat: int, **options) -> dict:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        snap = builder.walk(**options)
        times.append((time.perf_counter() - start) * 1000)
    return {"pages": len(snap.user_pages), "kernel_pages": len(snap.kernel_pages),
            "min_ms": round(min(times), 2),
            "median_ms": round(statistics.median(times), 2)}


def bench_walk(repeat: int = 30) -> dict:
    """Walk times (ms) for a 5,000-page (20 MB) process over in-memory RAM."""
    plain = build_process()
    kaist = build_process(kernel_4k_direct_map=True)
    return {
        "user only, 2M kernel direct map": _time_walk(plain, repeat),
        "user only, 4K kernel direct map with U upper levels":
            _time_walk(kaist, repeat),
        "include_kernel, 4K kernel direct map":
            _time_walk(kaist, repeat, include_kernel=True),
    }


if __name__ == "__main__":
    for name, result in bench_walk().items():
        print(f"{name}: {result}")
