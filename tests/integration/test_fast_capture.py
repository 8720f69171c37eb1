"""A capture's fast decoding (whole pages kept per stop, struct page members
unpacked by compiled formats: harness/debug/page_cache.py,
harness/debug/struct_decoder.py) against the slow way, on a real stop:
bigtouch's checkpoint, 12,000 SPT entries. The slow way walks the SPT hash
read by read through the debugger and decodes each struct page member by
member (StructValue); both must give the same SPT."""

from __future__ import annotations

import pytest

from harness.adapters.pintos_kaist.members import scalar_fields
from harness.debug import native_walk
from harness.debug.typed_memory import read_struct
from harness.run.capture import capture_state
from oracles.model.machine_state import ANON, FILE, UNINIT
from tests.integration.test_guest_memory import RAM_MB, TOUCH_MB, at_bigtouch_checkpoint  # noqa: F401

pytestmark = pytest.mark.integration

SWAP_SLOT_NONE = (1 << 64) - 1


def slow_spt_addresses(dbg, types, process: int) -> list:
    """The struct pages of the reference kernel's SPT of the process at
    PROCESS, bucket by bucket, one read per link."""
    spt = process + types.get("struct process").offset_of("memory.spt.pages")
    table = read_struct(dbg.read_virt, spt, types.get("struct hash"))
    elem = types.get("struct page").offset_of("spt_elem")
    out = []
    for i in range(table["bucket_cnt"]):
        link = dbg.read_u64(table["buckets"] + 8 * i)
        while link:
            out.append(link - elem)
            link = dbg.read_u64(link)
    return out


def slow_spt_page(dbg, types, address: int, layout) -> dict:
    """The SptPage fields of the struct page at ADDRESS, member by member."""
    page = read_struct(dbg.read_virt, address, types.get("struct page"))
    ops = read_struct(dbg.read_virt, page["ops"], types.get("struct page_operations"))
    kind = {0: UNINIT, 1: ANON, 2: FILE}[ops["type"]]
    frame = read_struct(dbg.read_virt, page["frame"], types.get("struct frame")) \
        if page["frame"] else None
    source = page[f"{kind}.source"] if kind in (UNINIT, FILE) else None
    slot = page["anon.slot"] if kind == ANON else None
    return dict(va=page["va"], type=kind, writable=page["writable"], dirty=page["dirty"],
                frame_pa=layout.phys(frame["kva"]) if frame else None,
                cow=frame["sharer_cnt"] > 1 if frame else None,
                busy=bool(page["busy"]) or bool(frame and frame["pin_cnt"] > 0),
                swap_slot=None if slot in (None, SWAP_SLOT_NONE) else slot,
                has_file=bool(source and source["file"]),
                file_offset=source["offset"] if source and source["file"] else None,
                read_bytes=source["read_bytes"] if source and source["file"] else None)


def test_fast_spt_equals_the_slow_walk(at_bigtouch_checkpoint):
    adapter, image, dbg, symbols = at_bigtouch_checkpoint
    inspector = adapter.inspector(dbg, symbols)
    state = capture_state(inspector, dbg, RAM_MB << 20, 1, {"bigtouch": image})
    spt = state.proc.spt
    if adapter.name != "reference":
        check_pintos_pages(inspector, dbg, symbols.types)
        assert spt is not None and len(spt) > TOUCH_MB * 256
        return
    types = symbols.types
    addresses = slow_spt_addresses(dbg, types, inspector._threads[state.current]["process"])
    assert len(addresses) == len(spt) > TOUCH_MB * 256
    for address in addresses:
        slow = slow_spt_page(dbg, types, address, adapter.address_layout)
        fast = spt[slow["va"]]
        assert (fast.file_id is not None) == slow.pop("has_file")
        assert {key: getattr(fast, key) for key in slow} == slow, hex(address)


def test_the_c_walk_gives_the_python_walks_capture(at_bigtouch_checkpoint, monkeypatch):
    """A whole capture with the SPT hash walked in C (harness/native/
    hash_walk.c) equals the capture walked in Python on the same stop:
    every PTE, SPT entry, pool figure and adapter note. On the reference
    kernel the C walk must have served the SPT; on a Pintos-KAIST tree it
    may hand a table back to Python (pages in the legacy window)."""
    adapter, image, dbg, symbols = at_bigtouch_checkpoint
    assert native_walk.available(), f"{native_walk.library_path()} is not built (make native)"
    answers = []
    walk = native_walk.walk_hash

    def recording_walk(*args):
        answers.append(walk(*args))
        return answers[-1]

    def capture():
        inspector = adapter.inspector(dbg, symbols)
        dbg.client.epoch += 1
        state = capture_state(inspector, dbg, RAM_MB << 20, 1, {"bigtouch": image})
        return state, inspector.layout_notes()

    monkeypatch.setattr(native_walk, "walk_hash", recording_walk)
    in_c, c_notes = capture()
    monkeypatch.setattr(native_walk, "walk_hash", lambda *args: None)
    in_python, python_notes = capture()
    if adapter.name == "reference":
        assert answers and all(answer is not None for answer in answers)
        assert len(answers[0][0]) == len(in_c.proc.spt) > TOUCH_MB * 256
    assert in_c.proc.spt is not None and len(in_c.proc.spt) > TOUCH_MB * 256
    assert in_c.processes == in_python.processes
    assert in_c.pools == in_python.pools and c_notes == python_notes


def check_pintos_pages(inspector, dbg, types) -> None:
    """Each struct page the Pintos-KAIST discovery read: its bytes as one
    read of the debugger gives them, and every scalar member's value as
    the member's bytes alone decode."""
    page_type = types.get("struct page")
    fields = scalar_fields(page_type)
    pages = [p for ps in inspector.discovery.pages.values() if isinstance(ps, list) for p in ps]
    assert len(pages) > TOUCH_MB * 256
    for page in pages:
        assert page.data == dbg.read_virt(page.address, page_type.size)
        assert [f.value(page.data) for f in fields] == \
            [f._decode(page.data[f.offset:f.offset + f.size]) for f in fields]


def test_frame_records_read_one_by_one_give_the_bulk_reads_capture(at_bigtouch_checkpoint,
                                                                   monkeypatch):
    """The reference inspector reads the frame table in one piece for a
    large SPT and record by record for a small one (SMALL_SPT_SHARE); both
    ways give the same capture of bigtouch's 12,000 pages, 5,000 of them
    resident."""
    adapter, image, dbg, symbols = at_bigtouch_checkpoint
    if adapter.name != "reference":
        pytest.skip("the reference kernel's frame table")
    from harness.adapters.reference import inspector as reference_inspector

    def capture():
        dbg.client.epoch += 1
        state = capture_state(adapter.inspector(dbg, symbols), dbg, RAM_MB << 20, 1,
                              {"bigtouch": image})
        return state

    bulk = capture()
    monkeypatch.setattr(reference_inspector, "SMALL_SPT_SHARE", 0)     # every SPT is small
    one_by_one = capture()
    resident = [p for p in bulk.proc.spt.values() if p.frame_pa is not None]
    assert len(resident) > TOUCH_MB * 256
    assert one_by_one.processes == bulk.processes and one_by_one.pools == bulk.pools
