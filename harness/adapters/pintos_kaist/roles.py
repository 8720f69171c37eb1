"""The roles a member of a Pintos-KAIST `struct page` plays, each found by
what the running kernel does with it (harness/adapters/pintos_kaist/evidence.py
decides from the samples these rules produce):

  va        the 8-byte member whose values, over one process's SPT, are
            distinct, page-aligned, non-zero user addresses, some of them
            present in that process's page table;
  frame     a pointer to a struct (P) and the 8-byte member of that struct
            (K) such that, on every page whose PTE is present, P->K is the
            kernel address KERN_BASE + the PTE's frame;
  writable  a bool (or 0/1 integer) member outside the page-type union
            whose value, or its negation (a read-only flag), follows the
            program's ELF segment flags on the running process's pages:
            false on read-only segments (code), true on writable ones
            (data, bss) and on the stack. Only the process that hit the
            checkpoint, and only when the code at its breakpoint is its
            program's, so the segments are the right ones;
  swap slot an integer member anywhere in struct page (the anon_page arm of
            the union comes first among aliases) whose value, on every
            anonymous page that is not present, is a set bit of the swap
            map (or, for a member that holds a sector, value / 8 is), and
            distinct within the process.

Name hints (WRITABLE_NAMES...) only order candidates that fit equally.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Callable, Iterator, NamedTuple, Optional

from harness.adapters.pintos_kaist.evidence import Candidate, Narrowing
from harness.adapters.pintos_kaist.members import Field, hinted, scalar_fields
from harness.debug.page_cache import PageCache
from harness.debug.rsp import RspMemoryError
from oracles.model.address_layout import AddressLayout
from oracles.model.machine_state import ANON

PAGE = 4096
PF_W = 2
MAX_FRAME_PAGES = 64           # resident pages tried per sample for the frame role
MAX_POINTEE = 256              # bytes of a struct a page points to, read per page
SECTORS_PER_PAGE = 8
WRITABLE_NAMES = ("writable", "is_writable", "writeable", "is_writeable", "can_write",
                  "rw", "write", "w")
READ_ONLY_NAMES = ("read_only", "readonly", "is_read_only", "ro")
VA_HINTS = ("va", "upage", "uaddr", "addr")
FRAME_HINTS = ("frame",)
KVA_HINTS = ("kva", "kaddr", "kpage")
SLOT_HINTS = ("slot", "idx", "index", "sector", "no", "num")
ReadMemory = Callable[[int, int], bytes]


class RawPage(NamedTuple):
    """One struct page as read from the SPT: its address, bytes and type."""
    address: int
    data: bytes
    type: str


@dataclasses.dataclass
class Sample:
    """One process at one stop. IMAGE: its program, given only when the
    process is the one at the checkpoint and its code there is that
    program's; MAPS: swap map name -> bits, the maps the slot role tries."""
    pid: int
    pages: list
    walk: object                       # oracles.model.page_tables.PageTableSnapshot
    image: object = None               # harness.debug.program_image.ProgramImage
    maps: dict = dataclasses.field(default_factory=dict)


def _order(field: Field, fields: tuple) -> int:
    return next(i for i, f in enumerate(fields) if f is field)


def _fixed(fields: tuple, path: Optional[str], make) -> Optional[Candidate]:
    if not path:
        return None
    field = next((f for f in fields if f.path == path), None)
    return None if field is None else make(field)


class VaRole:
    """The user virtual address of a page."""

    def __init__(self, page_type, mapping: dict, kern_base: int):
        fields = scalar_fields(page_type)
        self.kern_base = kern_base

        def candidate(f: Field) -> Candidate:
            hint = hinted(f, VA_HINTS)
            return Candidate(f.describe(), f, f.where, hint, (not hint, _order(f, fields)))
        pool = [f for f in fields if f.size == 8 and not f.in_union and f.bit_size is None
                and f.kind in ("pointer", "int") and not _points_to_struct(f)]
        self.narrowing = Narrowing(
            "va", [candidate(f) for f in pool],
            "distinct page-aligned addresses on {matched}/{tried} pages",
            "a page that is present in the page table",
            _fixed(fields, mapping.get("va"), candidate))

    def observe(self, sample: Sample, where: str) -> None:
        self.narrowing.observe({c: self._trial(c.payload, sample)
                                for c in self.narrowing.alive}, where)

    def _trial(self, field: Field, sample: Sample):
        """Every page fits if its value is a page address, unique in the
        process; none does unless some value is a user page present in the
        page tables (which have present pages: else the sample tells
        nothing). A kernel that keeps pages at kernel addresses in an SPT
        (an mmap it should have refused) does not hide its va member."""
        if not sample.pages or next(sample.walk.iter_user_pages(), None) is None:
            return None
        values = field.column([p.data for p in sample.pages])
        seen = Counter(values)
        fits = [v != 0 and v % PAGE == 0 and seen[v] == 1 for v in values]
        if not any(ok and v < self.kern_base and sample.walk.lookup(v) is not None
                   for v, ok in zip(values, fits)):
            fits = [False] * len(values)
        return [((sample.pid, p.address), v, ok)
                for p, v, ok in zip(sample.pages, values, fits)]

    def values(self, pages: list) -> list:
        """The va of each of PAGES (None while the role is undecided)."""
        chosen = self.narrowing.decided
        return [None] * len(pages) if chosen is None else \
            chosen.payload.column([page.data for page in pages])


def _points_to_struct(field: Field) -> bool:
    target = field.target
    return field.kind == "pointer" and target is not None and target.kind == "struct"


class FrameRole:
    """The page's frame: page.P->K, the kernel address of the frame; and,
    once that is known, the member of the frame struct that points back at
    its page (`owner`), which tells a frame the page holds from one the
    kernel gave to another page without clearing the old page's pointer."""

    def __init__(self, page_type, mapping: dict, read: ReadMemory, kern_base: int):
        self.read, self.kern_base = read, kern_base
        self.pages = read if isinstance(read, PageCache) else PageCache(read)
        self.page_name = page_type.resolved().name
        self.owner: Optional[Narrowing] = None
        self._owner_of = None                  # the frame candidate `owner` was made for
        fields = scalar_fields(page_type)
        pairs = []
        for p in fields:
            target = p.target
            if (not _points_to_struct(p) or p.in_union or target.name == "struct page_operations"
                    or target.size > MAX_POINTEE):
                continue
            inner = scalar_fields(target)
            pairs += [(p, k) for k in inner if k.size == 8 and k.kind in ("pointer", "int")]
        cands = [Candidate(f"page.{p.path}->{k.path}: {k.type.name}", (p, k), (p.where, k.where),
                           hinted(p, FRAME_HINTS) and hinted(k, KVA_HINTS),
                           (not hinted(p, FRAME_HINTS), not hinted(k, KVA_HINTS),
                            _order(p, fields), _order(k, scalar_fields(p.target))))
                 for p, k in pairs]
        named = (mapping.get("frame"), mapping.get("kva", "kva"))
        fixed = next((c for c in cands if (c.payload[0].path, c.payload[1].path) == named),
                     None)
        self.narrowing = Narrowing(
            "frame", cands, "the kernel address of the PTE's frame on {matched}/{tried} "
            "present pages", "a present page whose SPT entry points to a frame", fixed)

    def observe(self, sample: Sample, va_of, where: str) -> None:
        resident = []
        for page in sample.pages:
            va = va_of(page)
            mapping = None if va is None else sample.walk.lookup(va)
            if mapping is not None:
                resident.append((page, mapping.translate(va) & ~(PAGE - 1)))
                if len(resident) == MAX_FRAME_PAGES:
                    break
        pointees: dict = {}
        trials = {}
        for c in self.narrowing.alive:
            p, k = c.payload
            trial = []
            for page, frame in resident:       # a present page's frame pointer is set
                pointer = p.value(page.data)
                data = self._pointee(pointees, pointer, p.target.size) if pointer else None
                kva = None if data is None else k.value(data)
                trial.append(((sample.pid, page.address), kva, kva == frame + self.kern_base))
            trials[c] = trial or None
        self.narrowing.observe(trials, where)
        self._observe_owner(sample, resident, pointees, where)

    def _observe_owner(self, sample: Sample, resident: list, pointees: dict, where: str) -> None:
        """The owner role on the present pages whose frame the decided
        P->K confirms: a pointer to struct page in the frame struct that
        holds the page's own address."""
        chosen = self.narrowing.decided
        if chosen is None:
            return
        p, k = chosen.payload
        if self._owner_of is not chosen:
            self.owner, self._owner_of = self._owner_narrowing(p), chosen
        confirmed = []
        for page, frame in resident:
            pointer = p.value(page.data)
            data = self._pointee(pointees, pointer, p.target.size) if pointer else None
            if data is not None and k.value(data) == frame + self.kern_base:
                confirmed.append((page, data))
        self.owner.observe({c: [((sample.pid, page.address), c.payload.value(data),
                                 c.payload.value(data) == page.address)
                                for page, data in confirmed] or None
                            for c in self.owner.alive}, where)

    def _owner_narrowing(self, p: Field) -> Narrowing:
        inner = scalar_fields(p.target)
        cands = [Candidate(f"frame.{f.path}: {f.type.name}", f, f.where, hinted(f, ("page",)),
                           (not hinted(f, ("page",)), _order(f, inner)))
                 for f in inner if f.target is not None and f.target.name == self.page_name]
        return Narrowing("frame owner", cands, "points back to the page on {matched}/{tried} "
                         "present pages", "a present page", empty_why="the frame struct has "
                         "no pointer to struct page: a page's frame pointer is taken as it is")

    def _pointee(self, cache: dict, address: int, size: int) -> Optional[bytes]:
        if address not in cache:
            try:
                cache[address] = self.read(address, size)
            except RspMemoryError:
                cache[address] = None
        return cache[address]

    def frame_of(self, page: RawPage) -> tuple[int, bool]:
        """(P->K of PAGE, whether that frame belongs to another page now):
        (0, False) when P is NULL; the second is False while the owner
        member is not known. Only once the frame role is decided."""
        p, k = self.narrowing.decided.payload
        pointer = p.value(page.data)
        if pointer == 0:
            return 0, False
        owner = self.owner.decided if self.owner is not None else None
        if owner is None:
            return k.read(self.read, pointer), False
        data = self.read(pointer, p.target.size)
        return k.value(data), owner.payload.value(data) != page.address

    def frames_of(self, pages: list) -> Iterator[tuple]:
        """frame_of() of each of PAGES, read as the caller goes."""
        p, k = self.narrowing.decided.payload
        owner = self.owner.decided if self.owner is not None else None
        size, read, buffer = p.target.size, self.read, self.pages.buffer
        for page, pointer in zip(pages, p.column([page.data for page in pages])):
            if pointer == 0:
                yield 0, False
            elif owner is None:
                yield k.read(read, pointer), False
            else:
                data, at = buffer(pointer, size)
                yield k.value_at(data, at), owner.payload.value_at(data, at) != page.address


class WritableRole:
    """Whether the page may be written."""

    def __init__(self, page_type, mapping: dict, address_layout: AddressLayout):
        self.address_layout = address_layout
        fields = scalar_fields(page_type)
        cands = []
        for f in fields:
            if f.in_union or f.kind not in ("bool", "int"):
                continue
            name = f.path.rsplit(".", 1)[-1].lower()
            for inverted in (False, True):
                hint = name in (READ_ONLY_NAMES if inverted else WRITABLE_NAMES)
                label = ("!" if inverted else "") + f.describe()
                cands.append(Candidate(label, (f, inverted), (f.where, inverted), hint,
                                       (not hint, _order(f, fields), inverted)))
        why = "no bool or integer member outside the page-type union"
        fixed = None
        for key, inverted in (("writable", False), ("read_only", True)):
            if mapping.get(key):
                fixed = _fixed(fields, mapping[key], lambda f, inv=inverted: Candidate(
                    ("!" if inv else "") + f.describe(), (f, inv)))
            elif key in mapping:          # "" = the kernel keeps no such flag
                cands, why = [], "none: the layout mapping says the kernel keeps no such flag"
        self.narrowing = Narrowing(
            "writable", cands, "followed the ELF segment flags on {matched}/{tried} pages",
            "a checkpoint with both read-only (code) and writable (data, stack) pages",
            fixed, empty_why=why)

    def observe(self, sample: Sample, va_of, where: str) -> None:
        if sample.image is None:
            return
        ranges = segment_ranges(sample.image)
        stack = (self.address_layout.stack_bottom, self.address_layout.user_stack)
        expected = []
        for page in sample.pages:
            va = va_of(page)
            want = None if va is None else expected_writable(ranges, stack, va)
            if want is not None:
                expected.append((page, want))
        if len({want for _, want in expected}) < 2:
            return
        datas = [page.data for page, _ in expected]
        trials = {}
        for c in self.narrowing.alive:
            field, inverted = c.payload
            boolean = field.kind == "bool"
            trials[c] = [((sample.pid, page.address), raw,
                          (boolean or raw in (0, 1)) and (bool(raw) != inverted) == want)
                         for (page, want), raw in zip(expected, field.column(datas))]
        self.narrowing.observe(trials, where)

    def values(self, pages: list) -> list:
        """Whether each of PAGES may be written (None while undecided)."""
        chosen = self.narrowing.decided
        if chosen is None:
            return [None] * len(pages)
        field, inverted = chosen.payload
        return [bool(raw) != inverted for raw in field.column([page.data for page in pages])]


def segment_ranges(image) -> tuple:
    """([start, end) page-rounded, writable) of each of IMAGE's segments."""
    return tuple((start & ~(PAGE - 1), (start + size + PAGE - 1) & ~(PAGE - 1),
                  bool(flags & PF_W)) for start, size, flags, _ in image.segments)


def expected_writable(ranges: tuple, stack: tuple, va: int) -> Optional[bool]:
    """What a program's segments (RANGES, from segment_ranges) say of the
    page at VA: writable or not; the stack pages ([STACK[0], STACK[1]),
    where the user stack may be) are writable; None where no segment (or
    two that disagree) covers it."""
    if stack[0] <= va < stack[1]:
        return True
    said = None
    for start, end, writable in ranges:
        if start <= va < end:
            if said is not None and said != writable:
                return None
            said = writable
    return said


class SlotRole:
    """An anonymous page's swap slot, as a bit of the swap map."""

    def __init__(self, page_type, mapping: dict, maps: list):
        fields = scalar_fields(page_type)
        cands = []
        for name in maps:
            for f in fields:
                if f.kind != "int" or f.size < 2:
                    continue
                for scale in (1, SECTORS_PER_PAGE):
                    pref = (f.owner != "struct anon_page", not hinted(f, SLOT_HINTS),
                            scale, _order(f, fields))
                    per = f" / {scale}" if scale != 1 else ""
                    cands.append(Candidate(f"{f.describe()}{per} in {name}", (name, f, scale),
                                           (name, f.where, scale), hinted(f, SLOT_HINTS), pref))
        fixed = next((c for c in cands if c.payload[1].path == mapping.get("swap_slot")
                      and c.payload[2] == 1), None)
        self.narrowing = Narrowing(
            "swap slot", cands, "a set bit of the swap map, distinct within its process, on "
            "{matched}/{tried} anonymous pages not present", "an anonymous page swapped out",
            fixed)

    def observe(self, sample: Sample, va_of, resident_of, where: str) -> None:
        swapped = []
        for page in sample.pages:
            if page.type != ANON:
                continue
            va = va_of(page)
            if va is not None and sample.walk.lookup(va) is None and not resident_of(page):
                swapped.append(page)
        if not swapped:
            return
        trials = {}
        for c in self.narrowing.alive:
            name, field, scale = c.payload
            bits = sample.maps.get(name)
            if bits is None:
                continue
            values = field.column([p.data for p in swapped])
            seen = Counter(values)
            trials[c] = [((sample.pid, p.address), v // scale,
                          v % scale == 0 and 0 <= v // scale < len(bits) and bits[v // scale]
                          and seen[v] == 1) for p, v in zip(swapped, values)]
        self.narrowing.observe(trials, where)

    def value(self, page: RawPage) -> Optional[int]:
        """The slot PAGE's member holds (not checked against the map)."""
        _, field, scale = self.narrowing.decided.payload
        return field.value(page.data) // scale

    @property
    def map_name(self) -> Optional[str]:
        chosen = self.narrowing.decided
        return None if chosen is None else chosen.payload[0]
