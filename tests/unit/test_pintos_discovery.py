"""Identifying struct page members by what the running kernel does with
them (harness/adapters/pintos_kaist/discovery.py, pintos_roles.py), on
kernels-in-miniature compiled with gcc -g (tests/unit/pintos_guest.py):
each role decided right, left unknown (with the reason) when the evidence
does not decide, and decided right where every name hint points at the
wrong member (the "decoy" layout)."""

from __future__ import annotations

import re

import pytest

from harness.adapters.pintos_kaist.discovery import SptDiscovery
from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from harness.adapters.pintos_kaist.spt import discover_layout
from tests.unit.pintos_guest import (KERN_BASE, PAGE, PROCESS_PAGES, STACK_PAGE, FakeImage, Guest,
                                     build_process, compile_layouts, dwarf, names_of, walk)

SWAPPED = {0x10000000: 2, 0x10001000: 5}      # va -> slot


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    return compile_layouts(tmp_path_factory.mktemp("pintos-discovery"))


def make_discovery(kernels, name: str, mapping=None):
    """(guest, discovery) for layout NAME with a 128-sector swap disk."""
    types = dwarf(kernels[name])
    layout = discover_layout(types, mapping)
    guest = Guest(types, names_of(name))
    guest.swap_disk(128)
    return guest, SptDiscovery(layout, types, guest.mem.read, LAYOUT, mapping)


def observed(kernels, name: str):
    """(guest, discovery, made) after one checkpoint of the standard
    process (pintos_guest.PROCESS_PAGES) on layout NAME."""
    guest, discovery = make_discovery(kernels, name)
    thread, tables, made = build_process(guest, discovery.layout.tables[0])
    observe(discovery, thread, tables)
    return guest, discovery, made


def set_map(guest: Guest, path: str, used: set, size: int = 16) -> None:
    """Points the global (member) PATH, a struct bitmap *, at a map of SIZE bits."""
    variable, _, member = path.partition(".")
    var = guest.types.variable(variable)
    offset = var.type.offset_of(member) if member else 0
    address = guest.bitmap([i in used for i in range(size)])
    guest.mem.write(var.address + offset, address.to_bytes(8, "little"))


def observe(discovery: SptDiscovery, thread: int, tables, checkpoint: int = 1, image=FakeImage):
    discovery.observe({3: thread}, {3: tables}, f"checkpoint {checkpoint}", current=3,
                      image=image() if image else None)


def notes_by_role(discovery: SptDiscovery) -> dict:
    """Role ("va", "swap map"...) -> its note."""
    return {re.match(r"(.*?)(?: =|:)", note).group(1): note for note in discovery.notes()}


# ---- decided right ----

@pytest.mark.parametrize("name,swap_map", [("hash", "swap_table"), ("list", "st.slots_map"),
                                           ("pointer", "swap_table"),
                                           ("read_only", "swap_table")])
def test_every_role_is_decided_from_the_running_kernel(kernels, name, swap_map):
    guest, discovery = make_discovery(kernels, name)
    set_map(guest, swap_map, set(SWAPPED.values()))
    table = discovery.layout.tables[0]
    if name == "list":                      # the walk decides between the two list links
        table = next(t for t in discovery.layout.tables if t[1] == "spt_elem")
    thread, tables, _ = build_process(guest, table, inverted=name == "read_only",
                                      swapped=SWAPPED)
    observe(discovery, thread, tables)
    spt, why = discovery.spt(3)
    assert why is None
    assert {va: (p.type, p.writable, p.frame_pa) for va, p in spt.items()
            if va in PROCESS_PAGES} == {
        va: ("anon" if t == 1 else "uninit", w, kva and kva - KERN_BASE)
        for va, (t, w, kva) in PROCESS_PAGES.items()}
    assert {va: (spt[va].swap_slot, spt[va].swapped) for va in SWAPPED} == {
        va: (slot, True) for va, slot in SWAPPED.items()}
    assert spt[0x400000].swapped is False
    notes = notes_by_role(discovery)
    flag = "!page.read_only" if name == "read_only" else "page.writable"
    assert notes["writable"].startswith(f"writable = {flag}: _Bool (followed the ELF segment "
                                        "flags on 5/5 pages, decided at checkpoint 1 (pid 3))")
    assert notes["frame"].startswith("frame = page.frame->kva: void * (the kernel address of "
                                     "the PTE's frame on 4/4 present pages")
    assert notes["frame owner"].startswith("frame owner = frame.page: struct page * (points "
                                           "back to the page on 4/4 present pages")
    assert notes["swap map"].startswith(f"swap map = {swap_map} (16 bits")


def test_names_that_point_at_the_wrong_members_do_not_matter(kernels):
    """decoy: va, frame, kva, writable, rw, slot_no, spt_elem and
    swap_table all exist, hold values that do not behave like their names,
    and the members that do behave are called q1..q9."""
    guest, discovery = make_discovery(kernels, "decoy")
    set_map(guest, "swap_table", set(SWAPPED.values()), size=999)
    struct = guest.alloc(16)
    guest.mem.write(guest.types.variable("q9").address, struct.to_bytes(8, "little"))
    guest.mem.write(struct + 8, guest.bitmap([i in SWAPPED.values() for i in range(16)])
                    .to_bytes(8, "little"))
    real_link = next(t for t in discovery.layout.tables if t[1] == "q7")
    thread, tables, made = build_process(guest, real_link, swapped=SWAPPED)
    frame_type, page = guest.types.get("struct frame"), guest.page
    for va, address in made.items():
        guest.mem.put(address, page, "va", KERN_BASE + va)          # a kernel address
        guest.mem.put(address, page, "writable", 1)
        guest.mem.put(address, page, "rw", 2)
        guest.mem.put(address, page, "anon.slot_no", 7)
        real_frame = int.from_bytes(guest.mem.read(address + page.offset_of("q2"), 8), "little")
        if real_frame:
            q3 = int.from_bytes(guest.mem.read(real_frame + frame_type.offset_of("q3"), 8), "little")
            guest.mem.put(real_frame, frame_type, "kva", q3 + 0x20C000)
            other = guest.alloc(frame_type.size)
            guest.mem.put(other, frame_type, "q3", q3 + 0x1000)
            guest.mem.put(address, page, "frame", other)
    observe(discovery, thread, tables)
    notes = notes_by_role(discovery)
    assert notes["SPT"].startswith("SPT = hash struct thread.spt.pages of struct page via "
                                   "page.q7 (its walk read")
    assert notes["va"].startswith("va = page.q1: void *")
    assert notes["frame"].startswith("frame = page.q2->q3: void *")
    assert notes["writable"].startswith("writable = page.q4: _Bool")
    assert notes["swap map"].startswith("swap map = q9->q6 (16 bits")
    assert discovery.notes()[-1].startswith("swap slot = page.anon.q5: size_t in q9->q6")
    spt, _ = discovery.spt(3)
    assert spt[0x400000].writable is False and spt[0x400000].frame_pa == 0x200000
    assert spt[0x10001000].swap_slot == 5


def test_the_spt_is_the_table_that_holds_every_page(kernels):
    guest, discovery = make_discovery(kernels, "two_tables")
    tables = {c.path: (c, link) for c, link in discovery.layout.tables}
    thread, page_tables, made = build_process(guest, tables["spt.q_pages"])
    link = guest.page.offset_of("q_l")
    guest.link_list(thread + guest.thread.offset_of("spt.q_mmaps"),
                    [made[0x402000] + link, made[0x403000] + link])
    observe(discovery, thread, page_tables)
    assert notes_by_role(discovery)["SPT"].startswith(
        "SPT = hash struct thread.spt.q_pages of struct page via page.q_h (its walk read 5 "
        "struct pages with valid operations, decided at checkpoint 1")
    assert sorted(discovery.spt(3)[0]) == sorted(PROCESS_PAGES)


def test_pages_at_kernel_addresses_in_the_spt_do_not_hide_the_va_member(kernels):
    """2wheeh's mmap-kernel: an mmap that should have been refused leaves
    thousands of SPT pages at and above KERN_BASE."""
    guest, discovery = make_discovery(kernels, "hash")
    pages = dict(PROCESS_PAGES)
    pages.update({KERN_BASE - PAGE + i * PAGE: (0, True, None) for i in range(40)})
    thread, tables, _ = build_process(guest, discovery.layout.tables[0], pages=pages)
    observe(discovery, thread, tables)
    spt, why = discovery.spt(3)
    assert why is None and KERN_BASE + 38 * PAGE in spt and 0x400000 in spt


def test_a_course_mapping_wins_over_behaviour(kernels):
    mapping = {"va": "q1", "frame": "q2", "kva": "q3", "writable": "writable"}
    guest, discovery = make_discovery(kernels, "decoy", mapping)
    real_link = next(t for t in discovery.layout.tables if t[1] == "q7")
    thread, tables, made = build_process(guest, real_link)
    for address in made.values():
        guest.mem.put(address, guest.page, "writable", 1)
    observe(discovery, thread, tables)
    notes = notes_by_role(discovery)
    assert notes["writable"] == "writable = page.writable: _Bool (named in the layout mapping)"
    assert notes["va"] == "va = page.q1: void * (named in the layout mapping)"
    assert notes["frame"] == "frame = page.q2->q3: void * (named in the layout mapping)"
    assert discovery.spt(3)[0][0x400000].writable is True
    _, in_union = make_discovery(kernels, "hash", {"read_only": "anon.slot_no"})
    assert notes_by_role(in_union)["writable"] == \
        "writable = !page.anon.slot_no: size_t (named in the layout mapping)"


# ---- undecidable: unknown, with the reason ----

def test_flags_that_agree_on_every_page_stay_unknown_until_they_differ(kernels):
    guest, discovery = make_discovery(kernels, "twin_flags")
    thread, tables, made = build_process(guest, discovery.layout.tables[0])
    observe(discovery, thread, tables)
    assert discovery.spt(3)[0][0x400000].writable is None
    assert notes_by_role(discovery)["writable"] == (
        "writable: unknown (ambiguous: page.q_a: _Bool, page.q_b: _Bool held the same values "
        "so far)")
    guest.mem.put(made[STACK_PAGE], guest.page, "q_b", 0)        # now they differ
    observe(discovery, thread, tables, checkpoint=2)
    assert discovery.spt(3)[0][0x400000].writable is False
    assert notes_by_role(discovery)["writable"].startswith(
        "writable = page.q_a: _Bool (followed the ELF segment flags on 10/10 pages, "
        "decided at checkpoint 2 (pid 3))")


def test_a_name_hint_tells_apart_two_members_that_hold_the_same_values(kernels):
    _, discovery, _ = observed(kernels, "hinted_twins")
    assert discovery.spt(3)[0][0x400000].writable is False
    assert notes_by_role(discovery)["writable"].endswith(
        "decided at checkpoint 1 (pid 3); page.copy_of_w: _Bool held the same values)")


def test_without_a_present_page_the_spt_is_not_read(kernels):
    guest, discovery = make_discovery(kernels, "hash")
    thread, _, _ = build_process(guest, discovery.layout.tables[0])
    observe(discovery, thread, walk({}))
    assert discovery.spt(3) == (None, "SPT members not identified: va: unknown (not seen yet: "
                                      "a page that is present in the page table)")


def test_a_layout_without_a_flag_reads_writable_as_unknown(kernels):
    _, discovery, _ = observed(kernels, "no_flag")
    assert discovery.spt(3)[0][0x400000].writable is None
    assert notes_by_role(discovery)["writable"] == \
        "writable: unknown (no bool or integer member outside the page-type union)"


def test_writable_needs_the_programs_segments(kernels):
    guest, discovery = make_discovery(kernels, "hash")
    thread, tables, _ = build_process(guest, discovery.layout.tables[0])
    observe(discovery, thread, tables, image=None)
    assert notes_by_role(discovery)["writable"].startswith("writable: unknown (not seen yet: "
                                                          "a checkpoint with both read-only")


def test_a_sample_that_no_member_fits_is_set_aside(kernels):
    guest, discovery = make_discovery(kernels, "hash")
    thread, tables, made = build_process(guest, discovery.layout.tables[0])
    guest.mem.put(made[0x400000], guest.page, "writable", 1)       # code marked writable
    observe(discovery, thread, tables)
    assert discovery.spt(3)[0][0x400000].writable is None
    assert notes_by_role(discovery)["writable"] == (
        "writable: unknown (no member fits: page.writable: _Bool fits 4/5 pages at "
        "checkpoint 1 (pid 3))")


def test_the_swap_slot_is_unknown_until_its_values_tell_members_apart(kernels):
    guest, discovery = make_discovery(kernels, "hash")
    set_map(guest, "swap_table", {0, 3})
    thread, tables, _ = build_process(guest, discovery.layout.tables[0])
    observe(discovery, thread, tables)
    assert discovery.notes()[-1] == ("swap slot: unknown (not seen yet: an anonymous page "
                                     "swapped out)")
    assert discovery.spt(3)[0][0x400000].swapped is False
    thread, tables, _ = build_process(guest, discovery.layout.tables[0], swapped={0x10000000: 0})
    observe(discovery, thread, tables, checkpoint=2)      # slot 0: every zero member fits
    assert discovery.notes()[-1].startswith("swap slot: unknown (")
    page = discovery.spt(3)[0][0x10000000]
    assert (page.swap_slot, page.swapped) == (None, None)
    thread, tables, _ = build_process(guest, discovery.layout.tables[0],
                                      swapped={0x10000000: 0, 0x10001000: 3})
    observe(discovery, thread, tables, checkpoint=3)
    assert discovery.notes()[-1].startswith("swap slot = page.anon.slot_no: size_t in "
                                            "swap_table")
    assert discovery.spt(3)[0][0x10001000].swap_slot == 3


def test_two_maps_of_the_swap_disks_size_are_told_apart_by_the_slots(kernels):
    guest, discovery = make_discovery(kernels, "ambiguous", {"table": "spt.a"})
    set_map(guest, "swap_map", {2, 5})
    set_map(guest, "slot_map", {1, 9})
    thread, tables, _ = build_process(guest, discovery.layout.tables[0],
                                      swapped={0x10000000: 2, 0x10001000: 5})
    observe(discovery, thread, tables)
    assert notes_by_role(discovery)["swap map"] == ("swap map: slot_map, swap_map all have 16 bits "
                                                "= the swap disk's 128 sectors / 8; the swap "
                                                "slot's member decides")
    assert discovery.notes()[-1].startswith("swap slot = page.anon.slot_a: int in swap_map")
    assert discovery.swap_bits()[2] and not discovery.swap_bits()[1]


def test_a_process_whose_spt_holds_another_processes_frames_is_read_and_named(kernels):
    """Item 3 of issue 12 in miniature: pid 4's page tables map its own
    frames, its SPT records the frames pid 5 maps at the same addresses.
    The frame member stays decided (pids 3 and 5 fit it), pid 4's sample
    is set aside, its SPT is read as the kernel keeps it (for the
    invariants to report), and the note says whose frames they are."""
    guest, discovery = make_discovery(kernels, "hash")
    table = discovery.layout.tables[0]
    thread, tables, _ = build_process(guest, table)
    shifted = {va: (t, w, kva and kva + 0x20C000) for va, (t, w, kva) in PROCESS_PAGES.items()}
    stale, _, _ = build_process(guest, table, pages=shifted)
    other, other_tables, _ = build_process(guest, table, pages=shifted)
    discovery.observe({3: thread, 4: stale, 5: other}, {3: tables, 4: tables, 5: other_tables},
                      "checkpoint 101", current=3, image=FakeImage())
    assert discovery.spt(4)[0][0x400000].frame_pa == 0x200000 + 0x20C000
    assert discovery.spt(5)[0][0x400000].frame_pa == 0x200000 + 0x20C000
    notes = notes_by_role(discovery)
    assert notes["frame"].startswith("frame = page.frame->kva")
    for pid in (3, 5):
        discovery.spt(pid)
    assert [n for n in discovery.notes() if n.startswith("frame check")] == [
        "frame check: pid 4 at checkpoint 101: the SPT's frame differs from the PTE's on 4/4 "
        "present pages, always by +0x20c000; those are the frames pid 5 maps at the same "
        "addresses"]


def test_a_frame_that_points_back_to_another_page_is_not_this_pages(kernels):
    """jungle5-pintos-1: swap-out leaves page->frame set; the frame then
    holds another page. The page is swapped (its slot read), not resident."""
    guest, discovery = make_discovery(kernels, "hash")
    set_map(guest, "swap_table", {2, 5})
    thread, tables, made = build_process(guest, discovery.layout.tables[0], swapped=SWAPPED)
    frame_of_other = guest.mem.read(made[0x403000] + guest.page.offset_of("frame"), 8)
    for va in SWAPPED:                                  # stale: the frame of page 0x403000
        guest.mem.write(made[va] + guest.page.offset_of("frame"), frame_of_other)
    observe(discovery, thread, tables)
    spt = discovery.spt(3)[0]
    assert [(spt[va].frame_pa, spt[va].swapped, spt[va].swap_slot) for va in SWAPPED] == [
        (None, True, 2), (None, True, 5)]
    assert spt[0x403000].frame_pa == 0x203000


def test_pages_pointing_at_another_processes_frames_are_named_by_the_frame_check(kernels):
    """Item 3 again, with the struct frames themselves shared: pid 4's
    pages point at the frame structs of pid 5's pages."""
    guest, discovery = make_discovery(kernels, "hash")
    table = discovery.layout.tables[0]
    shifted = {va: (t, w, kva and kva + 0x20C000) for va, (t, w, kva) in PROCESS_PAGES.items()}
    other, other_tables, theirs = build_process(guest, table, pages=shifted)
    stale, own_tables, mine = build_process(guest, table)
    frame = guest.page.offset_of("frame")
    for va, page in mine.items():
        guest.mem.write(page + frame, guest.mem.read(theirs[va] + frame, 8))
    discovery.observe({4: stale, 5: other}, {4: own_tables, 5: other_tables}, "checkpoint 101",
                      current=5, image=FakeImage())
    assert discovery.spt(4)[0][0x400000].frame_pa is None
    assert discovery.spt(5)[0][0x400000].frame_pa == 0x200000 + 0x20C000
    assert [n for n in discovery.notes() if n.startswith("frame check")] == [
        "frame check: pid 4 at checkpoint 101: the SPT's frame differs from the PTE's on 4/4 "
        "present pages, always by +0x20c000; those are the frames pid 5 maps at the same "
        "addresses; 4 of those frames point back to another page"]
