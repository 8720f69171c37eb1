"""One scenario's view of a Pintos-KAIST kernel's SPT: the layout from its
types (pintos_spt.py), the members identified so far from what the
kernel does (pintos_roles.py), and the SptPages read with them.

At each checkpoint `observe` reads every process's struct pages, gives
each role its samples (in order: the table, va, frame, writable, swap
slot, since a role's rule uses the ones before it), then `spt(pid)` turns
the pages into SptPages with whatever is decided. What is not decided is
unknown: the whole SPT when the va or the frame member is not identified
(the oracles then say "not inspectable" with the reason), the writable
flag (None), the swap slot of a page that is swapped out (SptPage's
swap_slot_known False).

Every scenario decides from its own checkpoints, so a verdict does not
depend on which scenarios ran before it on the same kernel; what is
computed once per kernel is the static part (candidates from DWARF).
"""

from __future__ import annotations

from typing import Callable, Optional

from harness.adapters.pintos_kaist.evidence import Candidate, Narrowing
from harness.adapters.pintos_kaist.frame_check import frame_check
from harness.adapters.pintos_kaist.roles import FrameRole, Sample, SlotRole, VaRole, WritableRole
from harness.adapters.pintos_kaist.spt import SptLayout, SptReadError, read_pages
from harness.adapters.pintos_kaist.swap import map_candidates, swap_maps
from harness.debug.rsp import RspMemoryError
from harness.debug.typed_memory import read_bitmap
from oracles.model.address_layout import AddressLayout
from oracles.model.machine_state import ANON, SptPage, SptPageSlots

ReadMemory = Callable[[int, int], bytes]


class SptDiscovery:
    """Roles of struct page members in one kernel, narrowed during one
    scenario. READ reads kernel memory; MAPPING is the course's [spt] table."""

    def __init__(self, layout: SptLayout, types, read: ReadMemory,
                 address_layout: AddressLayout, mapping: Optional[dict] = None):
        mapping = dict(mapping or {})
        self.layout, self.types, self.read = layout, types, read
        self.kern_base = address_layout.kern_base
        self.mapping = mapping
        self.table = _table_narrowing(layout, mapping)
        self.va = VaRole(layout.page_type, mapping, self.kern_base)
        self.frame = FrameRole(layout.page_type, mapping, read, self.kern_base)
        self.writable = WritableRole(layout.page_type, mapping, address_layout)
        self.maps: Optional[list] = None      # swap maps of the right size, once looked at
        self.map_note = "swap map: not looked at yet"
        self.slot: Optional[SlotRole] = None
        self.op_types: dict = {}
        self.pages: dict = {}                 # pid -> [RawPage] or the read error, this stop
        self.walks: dict = {}                 # pid -> page tables, this stop
        self.where = ""
        self.frame_checks: list[str] = []     # processes whose SPT and PTE frames disagree

    # ---- evidence ----

    def observe(self, threads: dict, walks: dict, where: str, current: Optional[int] = None,
                image=None) -> None:
        """One stop: THREADS pid -> struct thread address, WALKS pid ->
        page tables; IMAGE the program of process CURRENT when its code at
        the breakpoint is that program's (else None)."""
        self.walks, self.where = walks, where
        self._read_tables(threads, where)
        samples = [Sample(pid, pages, walks[pid], image if pid == current else None)
                   for pid, pages in self.pages.items() if isinstance(pages, list)]
        for s in samples:
            self.va.observe(s, f"{where} (pid {s.pid})")
        vas: dict = {}                           # RawPage -> its va, as decided now
        for s in samples:
            vas.update(zip(s.pages, self.va.values(s.pages)))
        va_of = vas.get
        for s in samples:
            self.frame.observe(s, va_of, f"{where} (pid {s.pid})")
        for s in samples:
            self.writable.observe(s, va_of, f"{where} (pid {s.pid})")
        bits = self._map_bits()
        for s in samples if self.slot is not None else ():
            s.maps = bits
            self.slot.observe(s, va_of, self._resident, f"{where} (pid {s.pid})")

    def _read_tables(self, threads: dict, where: str) -> None:
        self.pages = {}
        if self.table.decided is None:
            self.table.observe(self._table_trials(threads), where)
        chosen = self.table.decided
        for pid, thread in threads.items():
            self.pages[pid] = (self._read(thread, chosen.payload) if chosen is not None else
                               f"SPT table: {self.table.note()}")

    def _table_trials(self, threads: dict) -> dict:
        """Each candidate table walked in every thread: a walk that fails
        does not fit; of walks that all succeed, one whose pages include
        every other's in each thread is the SPT (which holds every page of
        a process; another table of pages, an mmap list, holds some)."""
        walked = {c: {pid: self._read(thread, c.payload) for pid, thread in threads.items()}
                  for c in self.table.alive}
        sets = {c: {pid: {p.address for p in pages} for pid, pages in by_pid.items()}
                for c, by_pid in walked.items()
                if not any(isinstance(pages, str) for pages in by_pid.values())}
        widest = [c for c in sets if all(sets[c][pid] >= sets[o][pid]
                                         for o in sets for pid in threads)]
        trials = {}
        for c, by_pid in walked.items():
            if widest and c not in widest:
                trials[c] = [("holds fewer pages", 0, False)]
                continue
            trial = []
            for pid, pages in by_pid.items():
                if isinstance(pages, str):
                    trial.append(((pid, None), 0, False))
                else:
                    trial += [((pid, p.address), p.address, True) for p in pages]
            trials[c] = trial or None
        return trials

    def _read(self, thread: int, table: tuple):
        try:
            return read_pages(self.read, thread, self.layout, table, self.op_types)
        except (SptReadError, RspMemoryError) as e:
            return str(e)

    def _resident(self, page) -> bool:
        """Whether PAGE has a frame, as far as the decided frame role says
        (False while undecided: the slot role then relies on the PTE)."""
        if self.frame.narrowing.decided is None:
            return False
        try:
            kva, elsewhere = self.frame.frame_of(page)
        except RspMemoryError:
            return False
        return kva != 0 and not elsewhere

    def _map_bits(self) -> dict:
        """Swap map name -> its bits now, for the maps of the right size
        (looked for until found: a kernel sets its map up at boot)."""
        if not self.maps:
            self.maps, self.map_note = swap_maps(self.read, self.types,
                                                 map_candidates(self.types), self.mapping)
            if self.maps:
                self.slot = SlotRole(self.layout.page_type, self.mapping,
                                     [m.name for m in self.maps])
        bits = {}
        for m in self.maps:
            try:
                address = m.bitmap_address(self.read)
                if address:
                    bits[m.name] = read_bitmap(self.read, self.types.get("struct bitmap"),
                                               address)
            except RspMemoryError:
                continue
        return bits

    def swap_bits(self) -> Optional[list]:
        """The swap map's bits now, None while the map is not identified."""
        if self.maps and len(self.maps) == 1:
            chosen = self.maps[0]
        else:
            name = self.slot.map_name if self.slot is not None else None
            chosen = next((m for m in self.maps or () if m.name == name), None)
        if chosen is None:
            return None
        address = chosen.bitmap_address(self.read)
        return read_bitmap(self.read, self.types.get("struct bitmap"), address) if address else None

    # ---- reading ----

    def spt(self, pid: int) -> tuple[Optional[dict], Optional[str]]:
        """(va -> SptPage, None) for process PID at this stop, or (None, why
        it cannot be read)."""
        pages = self.pages.get(pid)
        if pages is None:
            return None, f"pid {pid} was not observed at this stop"
        if isinstance(pages, str):
            return None, pages
        for role in (self.va, self.frame):
            if role.narrowing.decided is None:
                return None, f"SPT members not identified: {role.narrowing.note()}"
        bits = self.swap_bits() if self.slot is not None and self.slot.narrowing.decided else None
        out: dict = {}
        elsewhere: dict = {}                  # va -> frame another page holds now
        try:
            self._entries(pages, bits, out, elsewhere)
        except (SptReadError, RspMemoryError) as e:
            return None, str(e)
        if not any(c.startswith(f"pid {pid} ") for c in self.frame_checks):
            found = frame_check(pid, self.where, self.walks, out, elsewhere)
            self.frame_checks += [found] if found else []
        return out, None

    def _entries(self, pages: list, bits: Optional[list], out: dict, elsewhere: dict) -> None:
        """Each of PAGES as an SptPage into OUT (va -> SptPage), from its va,
        frame (FrameRole.frames_of) and writable flag as decided; and into
        ELSEWHERE (va -> physical frame) the pages whose frame pointer leads
        to a frame another page holds now: such a page is not resident.
        BITS: the swap map (None: a swapped page's slot is not known).
        SptReadError for two pages at one va or a frame below KERN_BASE.
        One loop turn per page (12,000 at a 20 MB process's stop), so the
        SptPage is made from its slots (SptPageSlots)."""
        kern_base, slot_role, new_page, page_class = (self.kern_base, self.slot, SptPageSlots,
                                                      SptPage)
        columns = zip(pages, self.va.values(pages), self.frame.frames_of(pages),
                      self.writable.values(pages))
        for page, va, (kva, stale), writable in columns:
            if kva and kva < kern_base:
                raise SptReadError(f"page {va:#x}: frame->kva {kva:#x} is below KERN_BASE "
                                   f"{kern_base:#x}")
            frame_pa = kva - kern_base if kva and not stale else None
            slot, known = None, True
            if frame_pa is None and page.type == ANON:
                if bits is None:
                    known = False
                else:
                    raw = slot_role.value(page)
                    slot = raw if 0 <= raw < len(bits) else None
            if va in out:
                raise SptReadError(f"two SPT entries for va {va:#x}")
            entry = new_page(va, page.type, writable, frame_pa, slot, None, None, None, None,
                             None, False, known)
            entry.__class__ = page_class
            out[va] = entry
            if kva and stale:
                elsewhere[va] = kva - kern_base

    def notes(self) -> list[str]:
        """What plays each role and how it was identified, one line each."""
        owner = self.frame.owner
        out = [self.table.note(), self.va.narrowing.note(), self.frame.narrowing.note()]
        out += [owner.note()] if owner is not None else []
        out += [self.writable.narrowing.note(), self.map_note]
        out += [self.slot.narrowing.note()] if self.slot is not None else []
        return out + [f"frame check: {line}" for line in self.frame_checks[:3]]


def _table_narrowing(layout: SptLayout, mapping: dict) -> Narrowing:
    cands = [Candidate(layout.describe_table(c, link), (c, link), (c.path, link), False, (i,))
             for i, (c, link) in enumerate(layout.tables)]
    fixed = cands[0] if len(cands) == 1 else None
    how = ("named in the layout mapping" if mapping.get("table") or mapping.get("link") else
           "by type: the only table in struct thread and link in struct page")
    return Narrowing("SPT", cands, "its walk read {matched} struct pages with valid operations",
                     "a process with pages in its SPT", fixed, how)
