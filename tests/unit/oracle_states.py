"""Hand-built machine states for oracle tests: a small, correct process
that each test breaks in one way."""

from __future__ import annotations

import dataclasses

from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from oracles.model.page_tables import PTE_P, PTE_U, PTE_W, PageMapping, make_snapshot
from oracles.model.machine_state import (ANON, FILE, UNINIT, MachineState, PoolState,
                           ProcessState, SptPage)

CODE, DATA, STACK = 0x400000, 0x401000, 0x4747F000
RO, RW = PTE_P | PTE_U, PTE_P | PTE_U | PTE_W


def mapping(va: int, phys: int, flags: int) -> PageMapping:
    return PageMapping(va, 4096, phys, flags, phys | flags, (0, 0, 0, 0))


def process(pid: int = 1, maps=(), spt=(), **kw) -> ProcessState:
    snap = make_snapshot(0x1000 * pid, list(maps), [], [], user_top=LAYOUT.user_top)
    return ProcessState(pid=pid, name=f"p{pid}", pages=snap,
                        spt={p.va: p for p in spt}, code_ranges=((CODE, CODE + 0x1000),), **kw)


def good_process(pid: int = 1, base: int = 0x100000) -> ProcessState:
    """Code (RO, resident), data (RW, resident), a lazy page, a swapped page
    and a resident stack page."""
    return process(pid, maps=[mapping(CODE, base, RO), mapping(DATA, base + 0x1000, RW),
                              mapping(STACK, base + 0x2000, RW)],
                   spt=[SptPage(CODE, FILE, writable=False, frame_pa=base),
                        SptPage(DATA, ANON, writable=True, frame_pa=base + 0x1000),
                        SptPage(DATA + 0x1000, UNINIT, writable=True),
                        SptPage(DATA + 0x2000, ANON, writable=True, swap_slot=3),
                        SptPage(STACK, ANON, writable=True, frame_pa=base + 0x2000)])


def state(*procs: ProcessState, pools: PoolState | None = None) -> MachineState:
    """PROCS (the first at its checkpoint); by default pools whose counts
    and swap map agree with the SPTs, on a 64-slot swap disk."""
    slots = frozenset(p.swap_slot for pr in procs for p in (pr.spt or {}).values()
                      if p.swap_slot is not None)
    pools = pools or PoolState(user_frames_total=100, user_frames_free=90,
                               swap_slots_total=64, swap_slots_used=len(slots),
                               swap_slots_in_use=slots, swap_disk_slots=64)
    return MachineState(checkpoint=1, current=procs[0].pid,
                        processes={p.pid: p for p in procs}, address_layout=LAYOUT,
                        pools=pools)


def replace_spt(proc: ProcessState, va: int, **changes) -> ProcessState:
    spt = dict(proc.spt)
    spt[va] = dataclasses.replace(spt[va], **changes)
    return dataclasses.replace(proc, spt=spt)


def with_maps(proc: ProcessState, maps) -> ProcessState:
    return dataclasses.replace(proc, pages=make_snapshot(proc.pages.cr3, list(maps), [], [],
                                                         user_top=LAYOUT.user_top))
