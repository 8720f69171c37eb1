"""Page-table snapshot: what one CR3 maps, as immutable values.

`harness.x86.pagewalk.walk_page_tables` produces a `PageTableSnapshot`; oracles
read it, reports print it, replays compare it. This module holds the data
model (x86-64 entry bits, `PageMapping`, `Anomaly`, the snapshot itself)
and the comparison of two snapshots (`diff_snapshots`); its JSON form is
in results/codec.py.

Large pages stay one `PageMapping` with `size` 2 MiB or 1 GiB; `lookup(va)`
finds the mapping for any address inside it and `iter_user_4k()` expands
them lazily when 4 KiB granularity is wanted.
"""
from __future__ import annotations

import dataclasses
import functools
import operator
import types
from typing import Iterator, NamedTuple, Optional

# x86-64 paging-entry bits (same names as reference_kernel/include/arch/mmu.h).
PTE_P = 1 << 0
PTE_W = 1 << 1
PTE_U = 1 << 2
PTE_PWT = 1 << 3
PTE_PCD = 1 << 4
PTE_A = 1 << 5
PTE_D = 1 << 6
PTE_PS = 1 << 7  # page size in PDPTE/PDE; PAT in a PTE
PTE_G = 1 << 8
PTE_NX = 1 << 63
AD_MASK = PTE_A | PTE_D
# Bits the OS may use freely: 9-11 and 52-62 (e.g. a copy-on-write marker).
SOFTWARE_MASK = (0x7 << 9) | (0x7FF << 52)

FLAG_NAMES = (("P", PTE_P), ("W", PTE_W), ("U", PTE_U), ("PWT", PTE_PWT),
              ("PCD", PTE_PCD), ("A", PTE_A), ("D", PTE_D), ("G", PTE_G),
              ("NX", PTE_NX))
FLAGS_MASK = sum(bit for _, bit in FLAG_NAMES)

PAGE_4K = 1 << 12
PAGE_2M = 1 << 21
PAGE_1G = 1 << 30
SIZE_NAMES = {PAGE_4K: "4K", PAGE_2M: "2M", PAGE_1G: "1G"}
LEVEL_NAMES = {4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE"}
TABLE_NAMES = {4: "PML4", 3: "PDPT", 2: "PD", 1: "PT"}



def format_flags(flags: int) -> str:
    """'P|W|U|NX'-style text of the FLAG_NAMES bits set in FLAGS ('-' if none)."""
    names = [name for name, bit in FLAG_NAMES if flags & bit]
    return "|".join(names) if names else "-"


def parse_flags(text: str) -> int:
    """Inverse of format_flags; ValueError on an unknown flag name."""
    by_name = dict(FLAG_NAMES)
    flags = 0
    for name in text.split("|"):
        if name in ("", "-"):
            continue
        if name not in by_name:
            raise ValueError(f"unknown page flag {name!r} in {text!r}")
        flags |= by_name[name]
    return flags


_CANONICAL_TOPS = (0, (1 << 17) - 1)     # bits 63..47 of a canonical address


def is_canonical(va: int) -> bool:
    """True if VA is a canonical 48-bit address (bits 63..47 all equal)."""
    return 0 <= va < 1 << 64 and va >> 47 in _CANONICAL_TOPS


def sign_extend_va(va: int) -> int:
    """Canonical form of a 48-bit VA: bit 47 copied into bits 63..48."""
    va &= (1 << 48) - 1
    return va | 0xFFFF000000000000 if va & (1 << 47) else va


class PageMapping(NamedTuple):
    """One present leaf entry: [va, va + size) -> [phys, phys + size).

    flags: effective rights over the whole walk (W and U only if every level
    has them, NX if any level has it; P, A, D, G, PWT, PCD from the leaf).
    leaf_value: the raw leaf entry. entry_addrs: physical addresses of the
    entries passed, PML4E first, leaf last (2, 3 or 4 of them).
    """
    va: int
    size: int
    phys: int
    flags: int
    leaf_value: int
    entry_addrs: tuple

    @property
    def user(self) -> bool:
        return bool(self.flags & PTE_U)

    @property
    def writable(self) -> bool:
        return bool(self.flags & PTE_W)

    @property
    def executable(self) -> bool:
        return not self.flags & PTE_NX

    @property
    def level(self) -> int:
        """Level of the leaf entry: 1 (PTE), 2 (PDE, 2 MiB) or 3 (PDPTE, 1 GiB)."""
        return 5 - len(self.entry_addrs)

    @property
    def leaf_flags(self) -> int:
        return self.leaf_value & FLAGS_MASK

    @property
    def software_bits(self) -> int:
        return self.leaf_value & SOFTWARE_MASK

    def contains(self, va: int) -> bool:
        return self.va <= va < self.va + self.size

    def translate(self, va: int) -> int:
        """Physical address of VA, which must lie inside this mapping."""
        if not self.contains(va):
            raise ValueError(f"{va:#x} is outside the mapping at {self.va:#x}")
        return self.phys + (va - self.va)

    def without_ad(self) -> "PageMapping":
        return self._replace(flags=self.flags & ~AD_MASK,
                             leaf_value=self.leaf_value & ~AD_MASK)

    def describe(self) -> str:
        return (f"{self.va:#x} {SIZE_NAMES.get(self.size, hex(self.size))} -> "
                f"{self.phys:#x} {format_flags(self.flags)}")

@dataclasses.dataclass(frozen=True)
class Anomaly:
    """Something in the tables a correct kernel would not build.

    kind: one of ANOMALY_KINDS (harness.x86.pagewalk documents each). va: first
    address covered by the entry (None for CR3 itself); level: 4..1 (PML4E..
    PTE) or None; entry_addr/value: physical address and raw entry.
    """
    kind: str
    va: Optional[int]
    level: Optional[int]
    entry_addr: Optional[int]
    value: Optional[int]
    message: str

    def without_ad(self) -> "Anomaly":
        if self.value is None:
            return self
        return dataclasses.replace(self, value=self.value & ~AD_MASK)



@dataclasses.dataclass(frozen=True)
class PageTableSnapshot:
    """Every present user page of one address space, plus what is odd in it.

    user_pages: mappings whose effective U bit is set, by VA, ascending.
    kernel_pages: supervisor mappings below user_top (always recorded: a
    teaching kernel should not have any there), and every other supervisor
    mapping when the walk was asked to include_kernel.
    Both are read-only views; treat the snapshot as a value.
    """
    cr3: int
    user_pages: types.MappingProxyType
    kernel_pages: types.MappingProxyType
    anomalies: tuple
    user_top: int          # user addresses lie below (AddressLayout.user_top)
    include_kernel: bool = False

    def __deepcopy__(self, memo) -> "PageTableSnapshot":
        return self      # an immutable value (its mappings are read-only views)

    def lookup(self, va: int) -> Optional[PageMapping]:
        """The mapping covering VA (user or recorded kernel), else None."""
        if not (0 <= va < 1 << 64 and va >> 47 in _CANONICAL_TOPS):   # is_canonical(va)
            return None
        for mask, pages in self._probes:
            found = pages.get(va & mask)
            if found is not None and found.contains(va):
                return found
        return None

    @functools.cached_property
    def _probes(self) -> tuple:
        """(address mask, mappings) to look in for an address: a key for each
        page size some mapping has (the leaves of one walk do not overlap,
        so the one mapping covering an address is found whatever the order)."""
        sizes = {m.size for pages in (self.user_pages, self.kernel_pages)
                 for m in pages.values()}
        return tuple((~(size - 1), pages) for size in (PAGE_4K, PAGE_2M, PAGE_1G)
                     if size in sizes for pages in (self.user_pages, self.kernel_pages)
                     if pages)

    def iter_user_pages(self) -> Iterator[PageMapping]:
        return iter(self.user_pages.values())

    def iter_user_4k(self) -> Iterator[tuple]:
        """(va, phys, mapping) for every 4 KiB user page, large pages expanded."""
        for mapping in self.user_pages.values():
            for offset in range(0, mapping.size, PAGE_4K):
                yield mapping.va + offset, mapping.phys + offset, mapping

    def user_bytes(self) -> int:
        return sum(m.size for m in self.user_pages.values())

    def supervisor_in_user_range(self) -> list:
        return [m for m in self.kernel_pages.values() if m.va < self.user_top]

    def anomalies_of_kind(self, kind: str) -> list:
        return [a for a in self.anomalies if a.kind == kind]

    def equals(self, other: "PageTableSnapshot", ignore_ad: bool = True) -> bool:
        """Same CR3, mappings and anomalies; A/D bits skipped if IGNORE_AD."""
        return (self.cr3 == other.cr3 and self.user_top == other.user_top
                and self.include_kernel == other.include_kernel
                and _normalized(self, ignore_ad) == _normalized(other, ignore_ad))


_VA = operator.itemgetter(0)     # PageMapping.va, in C (5,000 calls a capture)


def make_snapshot(cr3: int, user_pages, kernel_pages, anomalies, *, user_top: int,
                  include_kernel: bool = False) -> PageTableSnapshot:
    """Snapshot from iterables of PageMapping / Anomaly (pages sorted by VA)."""
    def by_va(pages):
        ordered = sorted(pages, key=_VA)
        return types.MappingProxyType(dict(zip(map(_VA, ordered), ordered)))
    return PageTableSnapshot(cr3, by_va(user_pages), by_va(kernel_pages),
                             tuple(anomalies), user_top, include_kernel)


def _normalized(snap: PageTableSnapshot, ignore_ad: bool):
    if not ignore_ad:
        return (dict(snap.user_pages), dict(snap.kernel_pages), snap.anomalies)
    return ({va: m.without_ad() for va, m in snap.user_pages.items()},
            {va: m.without_ad() for va, m in snap.kernel_pages.items()},
            tuple(a.without_ad() for a in snap.anomalies))


CHANGE_FIELDS = ("size", "phys", "flags", "leaf_flags", "software_bits",
                 "entries")


class PageChange(NamedTuple):
    """A VA mapped in both snapshots whose FIELDS (CHANGE_FIELDS) differ."""
    va: int
    old: PageMapping
    new: PageMapping
    fields: tuple

    def describe(self) -> str:
        o, n = self.old, self.new
        text = {
            "size": lambda: f"size {SIZE_NAMES[o.size]} -> {SIZE_NAMES[n.size]}",
            "phys": lambda: f"phys {o.phys:#x} -> {n.phys:#x}",
            "flags": lambda: (f"flags {format_flags(o.flags)} -> "
                              f"{format_flags(n.flags)}"),
            "leaf_flags": lambda: (f"leaf flags {format_flags(o.leaf_flags)} "
                                   f"-> {format_flags(n.leaf_flags)}"),
            "software_bits": lambda: (f"software bits {o.software_bits:#x} -> "
                                      f"{n.software_bits:#x}"),
            "entries": lambda: "table entries at "
                               f"{_hex_list(o.entry_addrs)} -> "
                               f"{_hex_list(n.entry_addrs)}",
        }
        return f"{self.va:#x}: " + "; ".join(text[f]() for f in self.fields)


def _hex_list(values) -> str:
    return "[" + ", ".join(hex(v) for v in values) + "]"


@dataclasses.dataclass(frozen=True)
class SnapshotDiff:
    """What changed between two snapshots (old -> new), VA-sorted."""
    added: tuple
    removed: tuple
    changed: tuple
    anomalies_added: tuple
    anomalies_removed: tuple
    old_cr3: int
    new_cr3: int
    ignore_ad: bool

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed
                    or self.anomalies_added or self.anomalies_removed)

    def summary(self, max_lines: int = 40) -> str:
        """Counts on the first line, then one line per difference (capped)."""
        ad = " (A/D ignored)" if self.ignore_ad else ""
        cr3 = ("" if self.old_cr3 == self.new_cr3
               else f" [cr3 {self.old_cr3:#x} -> {self.new_cr3:#x}]")
        if self.empty:
            return f"page tables: no differences{ad}{cr3}"
        head = (f"page tables: {len(self.added)} added, {len(self.removed)} "
                f"removed, {len(self.changed)} changed, "
                f"{len(self.anomalies_added)} new anomalies, "
                f"{len(self.anomalies_removed)} anomalies gone{ad}{cr3}")
        lines = ([f"  + {m.describe()}" for m in self.added]
                 + [f"  - {m.describe()}" for m in self.removed]
                 + [f"  ~ {c.describe()}" for c in self.changed]
                 + [f"  ! new {a.kind}: {a.message}" for a in self.anomalies_added]
                 + [f"  ! gone {a.kind}: {a.message}"
                    for a in self.anomalies_removed])
        if len(lines) > max_lines:
            hidden = len(lines) - max_lines
            lines = lines[:max_lines] + [f"  ... {hidden} more"]
        return "\n".join([head] + lines)


def _compared_pages(snap: PageTableSnapshot, with_kernel: bool) -> dict:
    pages = dict(snap.user_pages)
    for va, mapping in snap.kernel_pages.items():
        if with_kernel or va < snap.user_top:
            pages[va] = mapping
    return pages


def _changed_fields(old: PageMapping, new: PageMapping) -> tuple:
    checks = (("size", old.size != new.size), ("phys", old.phys != new.phys),
              ("flags", old.flags != new.flags),
              ("leaf_flags", old.leaf_flags != new.leaf_flags),
              ("software_bits", old.software_bits != new.software_bits),
              ("entries", old.entry_addrs != new.entry_addrs))
    return tuple(name for name, differs in checks if differs)


def diff_snapshots(old: PageTableSnapshot, new: PageTableSnapshot, *,
                   ignore_ad: bool = True) -> SnapshotDiff:
    """Pages added, removed and changed from OLD to NEW, keyed by base VA.

    User pages and supervisor pages below user_top are always compared;
    other kernel pages only if both walks included them. A U-bit change is
    a 'flags' change, not a removal. A large page split into 4 KiB pages
    shows as one removal plus the additions. IGNORE_AD masks A/D bits.
    """
    with_kernel = old.include_kernel and new.include_kernel
    before = _compared_pages(old, with_kernel)
    after = _compared_pages(new, with_kernel)
    if ignore_ad:
        before = {va: m.without_ad() for va, m in before.items()}
        after = {va: m.without_ad() for va, m in after.items()}
    changed = []
    for va in sorted(before.keys() & after.keys()):
        fields = _changed_fields(before[va], after[va])
        if fields:
            changed.append(PageChange(va, before[va], after[va], fields))
    old_anoms = [a.without_ad() if ignore_ad else a for a in old.anomalies]
    new_anoms = [a.without_ad() if ignore_ad else a for a in new.anomalies]
    return SnapshotDiff(
        added=tuple(after[va] for va in sorted(after.keys() - before.keys())),
        removed=tuple(before[va] for va in sorted(before.keys() - after.keys())),
        changed=tuple(changed),
        anomalies_added=tuple(a for a in new_anoms if a not in old_anoms),
        anomalies_removed=tuple(a for a in old_anoms if a not in new_anoms),
        old_cr3=old.cr3, new_cr3=new.cr3, ignore_ad=ignore_ad)
