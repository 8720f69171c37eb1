"""x86-64 4-level page-table walker over physical memory.

`walk_page_tables(mem, cr3)` reads the tables the way the MMU does (4 KiB,
2 MiB and 1 GiB pages) and returns a `PageTableSnapshot` of every present
user page. `translate(mem, cr3, va)` follows one address. Memory comes from
any `PhysicalMemory` (the GDB stub in physical mode, or a saved dump via
`BytesPhysicalMemory`); a walk reads every table page once, 4096 bytes at a
time (translate reads just the one entry it needs per level).

What the walker reports as `Anomaly` instead of raising (kind: meaning):
  reserved_bits      a present entry (or CR3) sets a bit that must be zero:
                     address bits at or above phys_bits, PS in a PML4E,
                     bits 13..20/13..29 of a 2 MiB/1 GiB leaf, NX while
                     EFER.NXE is off. The CPU faults there: not followed.
  table_outside_ram  CR3 or a non-leaf entry points at or past ram_size.
  frame_outside_ram  a user leaf maps a frame not wholly in RAM (kernel
                     leaves may map devices or unused space: not reported).
  table_loop         a table is referenced again by an entry below it on the
                     same path (e.g. a recursive PML4 slot): not followed.
  shared_table       a table already reached from another entry of this
                     walk. The MMU accepts it and so does the walker: the
                     subtree is walked again so lookups see the aliases
                     (tables below it are not reported a second time).
  table_mapped_to_user  a user page maps a frame that is a page table of
                     this walk: the process could rewrite its own tables.
  walk_limit         more than max_mappings leaves: the walk stopped.
  non_canonical      (translate only) the address is not canonical. A walk
                     builds VAs from table indexes, sign-extending bit 47,
                     so its VAs are canonical by construction.

Which entries are examined: those whose range starts below user_top (so a
supervisor mapping in user space is seen), those whose path so far allows
user access (U at every level, as Pintos-KAIST sets on its kernel tables),
and, with include_kernel, all of them. Only examined entries are reported.
The user/kernel line is user_top, not the canonical halves: Pintos-KAIST's
direct map (KERN_BASE 0x8004000000) lies in the lower half.
"""
from __future__ import annotations

import struct
from typing import NamedTuple, Optional, Protocol, runtime_checkable

from oracles.model.page_tables import (LEVEL_NAMES, PAGE_1G, PAGE_2M, PAGE_4K, PTE_A, PTE_D,
                                       PTE_G, PTE_NX, PTE_P, PTE_PCD, PTE_PS, PTE_PWT, PTE_U,
                                       PTE_W, TABLE_NAMES, Anomaly, PageMapping,
                                       PageTableSnapshot, is_canonical, make_snapshot)

TABLE_BYTES = 4096
ENTRIES_PER_TABLE = 512
DEFAULT_PHYS_BITS = 40  # QEMU's default CPU models (qemu64, max under TCG)
MAX_MAPPINGS = 1 << 18  # 1 GiB of 4 KiB pages; a 20 MB guest has ~5,000
LEAF_SIZE = {1: PAGE_4K, 2: PAGE_2M, 3: PAGE_1G}
LEVEL_SHIFT = {4: 39, 3: 30, 2: 21, 1: 12}
_TABLE_FORMAT = struct.Struct(f"<{ENTRIES_PER_TABLE}Q")
_LEAF_KEEP = PTE_P | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_G


class PhysicalMemoryError(Exception):
    """A physical read could not be served (outside the memory, short read)."""


@runtime_checkable
class PhysicalMemory(Protocol):
    """Guest physical memory: RAM is [0, ram_size)."""
    ram_size: int

    def read_phys(self, addr: int, length: int) -> bytes:
        """LENGTH bytes at physical ADDR; raises on failure, never short."""


class BytesPhysicalMemory:
    """Physical memory backed by a bytes-like image (e.g. a saved dump)."""

    def __init__(self, data, ram_size: Optional[int] = None):
        self._data = memoryview(data).cast("B")
        self.ram_size = len(self._data) if ram_size is None else ram_size

    @classmethod
    def from_file(cls, path, ram_size: Optional[int] = None):
        with open(path, "rb") as dump:
            return cls(dump.read(), ram_size)

    def read_phys(self, addr: int, length: int) -> bytes:
        if addr < 0 or addr + length > len(self._data):
            raise PhysicalMemoryError(
                f"read of {length} bytes at {addr:#x} is outside the "
                f"{len(self._data):#x}-byte image")
        return bytes(self._data[addr:addr + length])


class SparsePhysicalMemory:
    """Zero-filled RAM of RAM_SIZE bytes that stores only written pages."""

    def __init__(self, ram_size: int):
        self.ram_size = ram_size
        self._pages: dict = {}

    def _check(self, addr: int, length: int) -> None:
        if addr < 0 or length < 0 or addr + length > self.ram_size:
            raise PhysicalMemoryError(
                f"access of {length} bytes at {addr:#x} is outside RAM "
                f"(ram_size {self.ram_size:#x})")

    def write_phys(self, addr: int, data: bytes) -> None:
        self._check(addr, len(data))
        done = 0
        while done < len(data):
            page, offset = divmod(addr + done, PAGE_4K)
            chunk = min(len(data) - done, PAGE_4K - offset)
            frame = self._pages.setdefault(page, bytearray(PAGE_4K))
            frame[offset:offset + chunk] = data[done:done + chunk]
            done += chunk

    def write_u64(self, addr: int, value: int) -> None:
        self.write_phys(addr, value.to_bytes(8, "little"))

    def read_phys(self, addr: int, length: int) -> bytes:
        self._check(addr, length)
        out = bytearray()
        while len(out) < length:
            page, offset = divmod(addr + len(out), PAGE_4K)
            chunk = min(length - len(out), PAGE_4K - offset)
            frame = self._pages.get(page)
            out += frame[offset:offset + chunk] if frame else bytes(chunk)
        return bytes(out)


class _EntryFormat:
    """Address and reserved-bit masks for one CPU (phys_bits, EFER.NXE)."""

    def __init__(self, phys_bits: int, nx_enabled: bool):
        if not 32 <= phys_bits <= 52:
            raise ValueError(f"phys_bits must be 32..52, got {phys_bits}")
        self.addr_mask = ((1 << phys_bits) - 1) & ~(PAGE_4K - 1)
        above_phys = ((1 << 52) - 1) & ~((1 << phys_bits) - 1)
        base = above_phys | (0 if nx_enabled else PTE_NX)
        self.reserved = {(4, False): base | PTE_PS, (3, False): base,
                         (2, False): base, (1, False): base,
                         (3, True): base | _bits(13, 29),
                         (2, True): base | _bits(13, 20)}

    def frame(self, value: int, level: int) -> int:
        return value & self.addr_mask & ~(LEAF_SIZE[level] - 1)


def _bits(low: int, high: int) -> int:
    return ((1 << (high - low + 1)) - 1) << low


def _is_leaf(level: int, value: int) -> bool:
    return level == 1 or (level in (2, 3) and bool(value & PTE_PS))


class _Path(NamedTuple):
    """What the walk carries down one branch of the tree."""
    tables: tuple       # physical addresses of the tables above, CR3 first
    entry_addrs: tuple  # entries passed so far
    writable: bool
    user: bool
    nx: bool
    shared: bool = False  # below a shared_table already reported


def _step(path: _Path, entry_addr: int, value: int) -> _Path:
    """PATH after passing the entry VALUE at ENTRY_ADDR (rights narrowed)."""
    return _Path(path.tables, path.entry_addrs + (entry_addr,),
                 path.writable and bool(value & PTE_W),
                 path.user and bool(value & PTE_U),
                 path.nx or bool(value & PTE_NX), path.shared)


class _WalkLimit(Exception):
    pass


def _leaf_rights(path: _Path) -> tuple:
    """(keep, nx): the flags of a leaf VALUE below PATH are value & keep |
    nx | value & PTE_NX (W and U only where every level above grants them,
    NX if any level sets it)."""
    keep = _LEAF_KEEP | (PTE_W if path.writable else 0) | (PTE_U if path.user else 0)
    return keep, PTE_NX if path.nx else 0


def _leaf_mapping(fmt: _EntryFormat, level: int, va: int, entry_addr: int,
                  value: int, path: _Path) -> PageMapping:
    """PageMapping of the leaf VALUE at ENTRY_ADDR below PATH."""
    keep, nx = _leaf_rights(path)
    return PageMapping(va, LEAF_SIZE[level], fmt.frame(value, level),
                       value & keep | nx | value & PTE_NX, value,
                       path.entry_addrs + (entry_addr,))


class _Walker:
    """One walk: table cache, visited tables, results (see walk_page_tables)."""

    def __init__(self, mem: PhysicalMemory, fmt: _EntryFormat,
                 include_kernel: bool, user_top: int, max_mappings: int):
        self.mem, self.fmt = mem, fmt
        self.include_kernel, self.user_top = include_kernel, user_top
        self.max_mappings = max_mappings
        self.tables: dict = {}      # table address -> 512 entry values
        self.referrer: dict = {}    # table address -> first entry (or CR3)
        self.user: dict = {}
        self.kernel: dict = {}
        self.anomalies: list = []
        self.mapping_count = 0

    def note(self, kind, va, level, entry_addr, value, message) -> None:
        self.anomalies.append(Anomaly(kind, va, level, entry_addr, value, message))

    def read_table(self, addr: int) -> tuple:
        entries = self.tables.get(addr)
        if entries is None:
            data = self.mem.read_phys(addr, TABLE_BYTES)
            if len(data) != TABLE_BYTES:
                raise PhysicalMemoryError(
                    f"short read of page table at {addr:#x}: {len(data)} bytes")
            entries = self.tables[addr] = _TABLE_FORMAT.unpack(data)
        return entries

    def walk_table(self, level: int, table: int, va_base: int, path: _Path):
        """Visits the present entries of TABLE (at LEVEL) that are examined:
        below user_top, user-accessible so far, or include_kernel."""
        entries = self.read_table(table)
        if level == 1:
            self.walk_leaf_table(table, entries, va_base, path)
            return
        shift = LEVEL_SHIFT[level]
        need_user = not self.include_kernel
        for index, value in enumerate(entries):
            if not value & PTE_P:
                continue
            va = va_base | index << shift
            if level == 4 and index >= 256:
                va |= 0xFFFF000000000000  # canonical upper half
            if need_user and va >= self.user_top and not (
                    path.user and value & PTE_U):
                continue
            self.visit(level, va, table + 8 * index, value, path)

    def visit(self, level, va, entry_addr, value, path: _Path) -> None:
        leaf = _is_leaf(level, value)
        reserved = value & self.fmt.reserved[(level, leaf and level > 1)]
        if reserved:
            self.note("reserved_bits", va, level, entry_addr, value,
                      f"{LEVEL_NAMES[level]} at {entry_addr:#x} for {va:#x} sets "
                      f"reserved bits {reserved:#x} (value {value:#x})")
        elif leaf:
            self.record_leaf(level, va, entry_addr, value, path)
        else:
            self.descend(level, va, entry_addr, value,
                         _step(path, entry_addr, value))

    def walk_leaf_table(self, table: int, entries: tuple, va_base: int, path: _Path):
        """walk_table for a page table (level 1), where every present entry
        is a 4 KiB leaf: visit, record_leaf and keep for each, without the
        calls (a 20 MB process has 5,000 of them), each PageMapping made by
        tuple.__new__ (what its NamedTuple __new__ does, without a Python
        call)."""
        need_user, user_top = not self.include_kernel, self.user_top
        reserved, addr_mask = self.fmt.reserved[(1, False)], self.fmt.addr_mask
        keep, nx = _leaf_rights(path)
        above = path.entry_addrs
        wanted = PTE_P         # in a table wholly at or above user_top, only user entries count
        if need_user and va_base >= user_top:
            if not path.user:
                return
            wanted = PTE_P | PTE_U
        user, kernel, ram_end = self.user, self.kernel, self.mem.ram_size - PAGE_4K
        make, limit = tuple.__new__, self.max_mappings
        for index, value in enumerate(entries):
            if value & wanted != wanted:
                continue
            va = va_base | index << 12
            if need_user and va >= user_top and not (path.user and value & PTE_U):
                continue
            entry_addr = table + 8 * index
            if value & reserved:
                self.visit(1, va, entry_addr, value, path)
                continue
            self.mapping_count += 1
            if self.mapping_count > limit:
                raise _WalkLimit()
            flags = value & keep | nx | value & PTE_NX
            phys = value & addr_mask                               # = fmt.frame(value, 1)
            mapping = make(PageMapping, (va, PAGE_4K, phys, flags, value,
                                         above + (entry_addr,)))
            if flags & PTE_U:                                      # keep(), inline
                user[va] = mapping
                if phys > ram_end:
                    self.keep(mapping, 1, entry_addr, value)       # notes frame_outside_ram
            else:
                kernel[va] = mapping

    def record_leaf(self, level, va, entry_addr, value, path: _Path) -> None:
        self.mapping_count += 1
        if self.mapping_count > self.max_mappings:
            raise _WalkLimit()
        self.keep(_leaf_mapping(self.fmt, level, va, entry_addr, value, path), level,
                  entry_addr, value)

    def keep(self, mapping: PageMapping, level, entry_addr, value) -> None:
        """Files MAPPING (of the leaf VALUE at ENTRY_ADDR) with the user or
        the kernel pages; frame_outside_ram for a user page past RAM."""
        if mapping.flags & PTE_U:
            self.user[mapping.va] = mapping
            if mapping.phys + mapping.size > self.mem.ram_size:
                self.note("frame_outside_ram", mapping.va, level, entry_addr, value,
                          f"user page {mapping.va:#x} maps frame {mapping.phys:#x}, "
                          f"not inside RAM (ram_size {self.mem.ram_size:#x})")
        else:
            self.kernel[mapping.va] = mapping

    def descend(self, level, va, entry_addr, value, here: _Path) -> None:
        table = value & self.fmt.addr_mask
        child = TABLE_NAMES[level - 1]
        where = f"{LEVEL_NAMES[level]} at {entry_addr:#x} for {va:#x}"
        if table + TABLE_BYTES > self.mem.ram_size:
            self.note("table_outside_ram", va, level, entry_addr, value,
                      f"{where} points to {child} {table:#x}, past ram_size "
                      f"{self.mem.ram_size:#x}")
            return
        if table in here.tables:
            self.note("table_loop", va, level, entry_addr, value,
                      f"{where} points back to table {table:#x} above it on "
                      f"the same path")
            return
        shared = table in self.referrer
        if shared and not here.shared:
            self.note("shared_table", va, level, entry_addr, value,
                      f"{where} points to {child} {table:#x}, already "
                      f"referenced by the entry at {self.referrer[table]:#x}")
        self.referrer.setdefault(table, entry_addr)
        self.walk_table(level - 1, table, va, here._replace(
            tables=here.tables + (table,), shared=here.shared or shared))

    def check_user_frames(self) -> None:
        """table_mapped_to_user for user pages whose frame is one of our tables."""
        tables = set(self.tables)
        for mapping in self.user.values():
            if mapping.size == PAGE_4K:
                hit = mapping.phys if mapping.phys in tables else None
            else:
                end = mapping.phys + mapping.size
                hit = min((t for t in tables if mapping.phys <= t < end),
                          default=None)
            if hit is not None:
                self.note("table_mapped_to_user", mapping.va, mapping.level,
                          mapping.entry_addrs[-1], mapping.leaf_value,
                          f"user page {mapping.va:#x} maps page-table page "
                          f"{hit:#x} (frame {mapping.phys:#x})")


def walk_page_tables(mem: PhysicalMemory, cr3: int, *, user_top: int,
                     include_kernel: bool = False,
                     phys_bits: int = DEFAULT_PHYS_BITS,
                     nx_enabled: bool = True,
                     max_mappings: int = MAX_MAPPINGS) -> PageTableSnapshot:
    """Snapshot of the address space whose PML4 is at CR3 (low 12 bits and
    bit 63, i.e. PCID/PWT/PCD/no-flush, are ignored); USER_TOP is the
    kernel's user/kernel line (AddressLayout.user_top).

    Anomalies (see the module comment) are listed in the snapshot, never
    raised; only a failing PhysicalMemory read raises (PhysicalMemoryError
    or whatever the memory object raises), since that is a harness fault.
    """
    fmt = _EntryFormat(phys_bits, nx_enabled)
    walker = _Walker(mem, fmt, include_kernel, user_top, max_mappings)
    pml4 = cr3 & ~(PAGE_4K - 1) & ~(1 << 63)
    if pml4 & ~fmt.addr_mask:
        walker.note("reserved_bits", None, None, None, cr3,
                    f"CR3 {cr3:#x} sets bits at or above phys_bits {phys_bits}")
    elif pml4 + TABLE_BYTES > mem.ram_size:
        walker.note("table_outside_ram", None, None, None, cr3,
                    f"CR3 {cr3:#x} points past ram_size {mem.ram_size:#x}")
    else:
        walker.referrer[pml4] = cr3
        try:
            walker.walk_table(4, pml4, 0, _Path((pml4,), (), True, True, False))
        except _WalkLimit:
            walker.note("walk_limit", None, None, None, None,
                        f"more than {max_mappings} mappings: walk stopped")
        walker.check_user_frames()
    return make_snapshot(cr3, walker.user.values(), walker.kernel.values(),
                         walker.anomalies, include_kernel=include_kernel,
                         user_top=user_top)


class Translation(NamedTuple):
    """Result of following one VA: the mapping, or why there is none.

    steps: (level, entry_addr, value) for each entry read, PML4E first.
    reason: '' when mapped, else e.g. 'not present at PDE 0x1ff018'.
    """
    va: int
    mapping: Optional[PageMapping]
    steps: tuple
    anomalies: tuple
    reason: str

    @property
    def phys(self) -> Optional[int]:
        return None if self.mapping is None else self.mapping.translate(self.va)


def translate(mem: PhysicalMemory, cr3: int, va: int, *,
              phys_bits: int = DEFAULT_PHYS_BITS,
              nx_enabled: bool = True) -> Translation:
    """Follow VA from CR3 as the MMU would. Reads only the one 8-byte entry
    per level it needs (a single lookup, e.g. for CR2 at a fault); anomalies
    end the lookup and are returned, not raised."""
    if not is_canonical(va):
        bad = Anomaly("non_canonical", va, None, None, None,
                      f"{va:#x} is not canonical (bits 63..47 differ)")
        return Translation(va, None, (), (bad,), "non-canonical address")
    fmt = _EntryFormat(phys_bits, nx_enabled)
    table = cr3 & fmt.addr_mask
    path = _Path((table,), (), True, True, False)
    steps = []
    for level in (4, 3, 2, 1):
        if table + TABLE_BYTES > mem.ram_size:
            return _failed(va, steps, "table_outside_ram", level, None, table,
                           f"{TABLE_NAMES[level]} {table:#x} for {va:#x} is "
                           f"past ram_size {mem.ram_size:#x}")
        entry_addr = table + 8 * ((va >> LEVEL_SHIFT[level]) & 511)
        value = int.from_bytes(mem.read_phys(entry_addr, 8), "little")
        steps.append((level, entry_addr, value))
        where = f"{LEVEL_NAMES[level]} {entry_addr:#x}"
        if not value & PTE_P:
            return Translation(va, None, tuple(steps), (),
                               f"not present at {where}")
        leaf = _is_leaf(level, value)
        reserved = value & fmt.reserved[(level, leaf and level > 1)]
        if reserved:
            return _failed(va, steps, "reserved_bits", level, entry_addr, value,
                           f"{where} sets reserved bits {reserved:#x}")
        if leaf:
            base = va & ~(LEAF_SIZE[level] - 1)
            mapping = _leaf_mapping(fmt, level, base, entry_addr, value, path)
            return Translation(va, mapping, tuple(steps), (), "")
        path = _step(path, entry_addr, value)
        table = value & fmt.addr_mask
        if table in path.tables:
            return _failed(va, steps, "table_loop", level, entry_addr, value,
                           f"{where} points back to table {table:#x}")
        path = path._replace(tables=path.tables + (table,))
    raise AssertionError("unreachable: a PTE is always a leaf")


def _failed(va, steps, kind, level, entry_addr, value, message) -> Translation:
    anomaly = Anomaly(kind, va, level, entry_addr, value, message)
    return Translation(va, None, tuple(steps), (anomaly,), message)
