"""Finding and reading a Pintos-KAIST SPT through DWARF, and the Pintos
inspector (threads, current thread, pools, swap), on kernels-in-miniature
compiled here with gcc -g in several layouts and a fake guest memory laid
out through their DWARF offsets (tests/unit/pintos_guest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from harness.adapters.pintos_kaist.inspector import PintosInspector
from harness.adapters.pintos_kaist.spt import (SptNotRecognised, SptReadError, discover_layout,
                                         read_pages)
from harness.adapters.inspector import ProcessInfo
from tests.unit.pintos_guest import (KERN_BASE, PAGE, THREAD_MAGIC, FakeImage, FakeMemory, Guest,
                                     build_process, compile_layouts, dwarf)


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> dict[str, Path]:
    """Layout name -> ELF file of that layout (tests/unit/pintos_guest.py)."""
    return compile_layouts(tmp_path_factory.mktemp("pintos-types"))


# ---- what the types say ----

def test_hash_in_the_spt_struct_linked_by_hash_elem(kernels):
    layout = discover_layout(dwarf(kernels["hash"]))
    assert [(c.path, c.kind, link) for c, link in layout.tables] == [("spt.pages", "hash",
                                                                      "spt_elem")]
    assert layout.operations.path == "operations"
    assert layout.describe_table(*layout.tables[0]) == \
        "hash struct thread.spt.pages of struct page via page.spt_elem"


def test_list_links_are_all_candidates_the_one_named_spt_first(kernels):
    layout = discover_layout(dwarf(kernels["list"]))
    assert [(c.kind, link) for c, link in layout.tables] == [("list", "spt_elem"),
                                                             ("list", "mmap_elem")]


def test_pointer_to_a_hash_is_followed(kernels):
    container, _ = discover_layout(dwarf(kernels["pointer"])).tables[0]
    assert container.path == "spt.table" and container.indirect


def test_operations_is_found_by_its_type_not_its_name(kernels):
    layout = discover_layout(dwarf(kernels["decoy"]))
    assert layout.operations.path == "q0"


def test_skeleton_without_an_spt_gets_a_reason(kernels):
    with pytest.raises(SptNotRecognised, match="VM not implemented"):
        discover_layout(dwarf(kernels["skeleton"]))


def test_several_tables_are_left_to_the_running_kernel_or_a_mapping(kernels):
    types = dwarf(kernels["ambiguous"])
    assert [(c.path, link) for c, link in discover_layout(types).tables] == [
        ("spt.a", "x"), ("spt.b", "x")]
    layout = discover_layout(types, {"table": "spt.b", "writable": ""})
    assert [(c.path, link) for c, link in layout.tables] == [("spt.b", "x")]


@pytest.mark.parametrize("mapping,message", [
    ({"table": "donations.head"}, "not a struct hash or struct list"),
    ({"link": "va"}, "not a hash or list element member"),
    ({"writable": "dirty"}, "no member 'dirty'"),
    ({"frame": "va", "kva": "x"}, "is not a pointer"),
    ({"tabel": "spt.pages"}, "unknown keys"),
])
def test_bad_mappings_say_what_is_wrong(kernels, mapping, message):
    with pytest.raises(SptNotRecognised, match=message):
        discover_layout(dwarf(kernels["hash"]), mapping)


# ---- reading struct pages ----

def test_read_pages_gives_every_struct_page_with_its_type(kernels):
    types = dwarf(kernels["hash"])
    layout = discover_layout(types)
    guest = Guest(types)
    pages = [guest.new_page(0x400000, 1), guest.new_page(0x401000, 0 | 8),
             guest.new_page(0x10000000, 2)]
    thread = guest.new_thread(layout.tables[0], pages)
    got = read_pages(guest.mem.read, thread, layout, layout.tables[0], {})
    assert sorted((p.address, p.type) for p in got) == sorted(
        zip(pages, ["anon", "uninit", "file"]))


def test_empty_spt_reads_as_no_pages(kernels):
    types = dwarf(kernels["hash"])
    layout = discover_layout(types)
    guest = Guest(types)
    thread = guest.new_thread(layout.tables[0], [])
    assert read_pages(guest.mem.read, thread, layout, layout.tables[0], {}) == []


def corrupt(types, layout, how: str):
    """A thread whose SPT holds two pages, broken as HOW says."""
    guest = Guest(types)
    good = guest.new_page(0x400000, 1, kva=KERN_BASE + 0x5000)
    other = guest.new_page(0x401000, 1)
    thread = guest.new_thread(layout.tables[0], [good, other], buckets=1 if how != "twice" else 2)
    if how == "null_ops":
        guest.mem.put(other, guest.page, "operations", 0)
    elif how == "bad_type":
        guest.mem.put(guest.ops_table(1), types.get("struct page_operations"), "type", 5)
    elif how == "broken_link":
        guest.mem.write(other + guest.page.offset_of(layout.tables[0][1]) + 8, bytes(8))
    elif how == "twice":        # bucket 1's head leads to the page of bucket 0
        buckets = guest.mem.read(thread + guest.thread.offset_of("spt.pages.buckets"), 8)
        head1_next = int.from_bytes(buckets, "little") + 32 + 8     # buckets[1].head.next
        guest.mem.write(head1_next, (good + guest.page.offset_of(layout.tables[0][1])).to_bytes(
            8, "little"))
    return guest, thread


@pytest.mark.parametrize("how,message", [
    ("null_ops", "operations is NULL"), ("bad_type", "not a vm_type"),
    ("broken_link", "NULL next link"), ("twice", "in the table twice"),
])
def test_corrupt_spts_are_read_errors(kernels, how, message):
    types = dwarf(kernels["hash"])
    layout = discover_layout(types)
    guest, thread = corrupt(types, layout, how)
    with pytest.raises(SptReadError, match=message):
        read_pages(guest.mem.read, thread, layout, layout.tables[0], {})


def test_null_spt_pointer_is_a_read_error(kernels):
    types = dwarf(kernels["pointer"])
    layout = discover_layout(types)
    guest = Guest(types)
    thread = guest.alloc(PAGE)
    with pytest.raises(SptReadError, match="is NULL"):
        read_pages(guest.mem.read, thread, layout, layout.tables[0], {})


# ---- the inspector: threads, current thread, pools ----

class FakeDebugger:
    def __init__(self, mem: FakeMemory, rsp: int, cs: int, rip: int = 0x401000):
        self.read_virt = mem.read
        self.registers = {"rsp": rsp, "cs": cs, "rip": rip}

    def register(self, name: str) -> int:
        return self.registers[name]


class FakeSymbols:
    def __init__(self, types):
        self.types = types


def pool(guest: Guest, name: str, base: int, used: list[bool]) -> None:
    var = guest.types.variable(name)
    guest.mem.write(var.address, bytes(var.type.size))
    guest.mem.put(var.address, var.type, "used_map", guest.bitmap(used))
    guest.mem.put(var.address, var.type, "base", base)


def inspector_guest(kernels, name: str = "hash", user_mode: bool = True):
    """Kernel pool of 6 pages: 0 a user process (running), 1 a kernel
    thread, 2 a dying process, 3 a used non-thread page, 4 a thread in a
    free page, 5 free. User pool 10 pages, 3 used. Swap disk 128 sectors,
    and a swap map of 16 slots with 3 used if the layout has one."""
    types = dwarf(kernels[name])
    guest = Guest(types)
    base = KERN_BASE + 0x400000
    pool(guest, "kernel_pool", base, [True, True, True, True, False, False])
    pool(guest, "user_pool", KERN_BASE + 0x800000, [True] * 3 + [False] * 7)
    t = guest.thread
    for i, (tid, name_, status, pml4) in enumerate([
            (3, "lazy-anon", 0, KERN_BASE + 0x9000), (1, "idle", 2, 0),
            (4, "exited", 3, KERN_BASE + 0xA000), (None, None, None, None),
            (5, "stale", 1, KERN_BASE + 0xB000)]):
        page = base + i * PAGE
        guest.mem.write(page, bytes(PAGE))
        if tid is None:
            continue
        guest.mem.put(page, t, "magic", THREAD_MAGIC)
        guest.mem.put(page, t, "tid", tid)
        guest.mem.put(page, t, "status", status)
        guest.mem.put(page, t, "pml4", pml4)
        guest.mem.write(page + t.offset_of("name"), name_.encode())
    guest.swap_disk(128)
    guest.mem.write(0x401000, bytes(16))                   # the code at the user rip
    if "swap_table" in types.variables():                  # 16 slots, 3 used
        guest.mem.write(types.variable("swap_table").address,
                        guest.bitmap([True] * 3 + [False] * 13).to_bytes(8, "little"))
    tss_var, tss = types.variable("tss"), guest.alloc(64)
    guest.mem.write(tss_var.address, tss.to_bytes(8, "little"))
    guest.mem.put(tss, types.get("struct task_state"), "rsp0", base + PAGE)
    rsp, cs = (0x4747FF00, 0x23) if user_mode else (base + 0xF00, 0x08)
    return guest, PintosInspector(FakeDebugger(guest.mem, rsp, cs), FakeSymbols(types), LAYOUT)


@pytest.mark.parametrize("user_mode", [True, False])
def test_processes_are_live_threads_with_a_pml4(kernels, user_mode):
    _, inspector = inspector_guest(kernels, user_mode=user_mode)
    assert inspector.processes() == [ProcessInfo(3, "lazy-anon", 0x9000, True)]
    assert inspector.current_thread_name() == "lazy-anon"


def test_without_a_readable_kernel_pool_the_running_process_is_still_found(kernels):
    guest, inspector = inspector_guest(kernels)
    pool_var = guest.types.variable("kernel_pool")
    guest.mem.put(pool_var.address, pool_var.type, "used_map", KERN_BASE + 0x7FF000)  # unmapped
    assert inspector.processes() == [ProcessInfo(3, "lazy-anon", 0x9000, True)]


class MappedRam:
    """The mapped guest RAM's reader (harness.debug.guest_memory.
    MappedMemory) over the fake memory: physical reads, and a hole that is
    not RAM (as the legacy VGA/ROM hole is)."""
    ram = "mapped"

    def __init__(self, mem: FakeMemory, hole: tuple):
        self.mem, self.hole, self.reads = mem, hole, []

    def in_ram(self, address: int, size: int) -> bool:
        return address + size <= self.hole[0] or address >= self.hole[1]

    def read_phys(self, address: int, size: int) -> bytes:
        assert self.in_ram(address, size), f"read of {address:#x}, not RAM"
        self.reads.append(address)
        return self.mem.read(KERN_BASE + address, size)


def test_with_mapped_ram_thread_pages_are_read_physically_and_pages_not_ram_skipped(kernels):
    guest, inspector = inspector_guest(kernels)
    pages = [KERN_BASE + 0x400000 + i * PAGE for i in range(4)]    # the 4 used pages
    virtual = inspector.thread_pages(None)
    hole = (pages[3] - KERN_BASE, pages[3] - KERN_BASE + PAGE)  # the used non-thread page
    inspector.dbg.memory = MappedRam(guest.mem, hole)
    inspector.dbg.read_virt = None          # a magic read through the page tables would fail
    assert inspector.thread_pages(None) == virtual == pages[:3]
    assert sorted(inspector.dbg.memory.reads) == \
        [p - KERN_BASE + guest.thread.offset_of("magic") for p in pages[:3]]
    assert inspector.processes() == [ProcessInfo(3, "lazy-anon", 0x9000, True)]


def running_process(guest: Guest, inspector, swapped=None):
    """Puts a built process's SPT into the running thread (tid 3); returns
    its page tables."""
    thread, tables, _ = build_process(guest, inspector.layout.tables[0], swapped=swapped)
    spt_offset, spt_size = guest.thread.offset_of("spt"), guest.thread.member("spt").type.size
    running = KERN_BASE + 0x400000
    guest.mem.write(running + spt_offset, guest.mem.read(thread + spt_offset, spt_size))
    return tables


def test_pools_count_user_frames_and_the_swap_map_found_by_its_size(kernels):
    guest, inspector = inspector_guest(kernels)
    inspector.processes()
    inspector.observe(1, {3: running_process(guest, inspector)}, {})
    pools = inspector.pools()
    assert (pools.user_frames_total, pools.user_frames_free) == (10, 7)
    assert pools.user_pool == (0x800000, 0x800000 + 10 * PAGE)   # physical: base - KERN_BASE
    assert pools.in_user_pool(0x809000) and not pools.in_user_pool(0x80A000)
    assert (pools.swap_slots_total, pools.swap_slots_used) == (16, 3)
    assert "swap map = swap_table (16 bits = the swap disk's 128 sectors / 8)" in \
        inspector.layout_notes()


def test_swap_is_not_reported_without_a_map_of_the_swap_disks_size(kernels):
    guest, inspector = inspector_guest(kernels)
    guest.swap_disk(8 * 1008)
    inspector.processes()
    inspector.observe(1, {3: running_process(guest, inspector)}, {})
    pools = inspector.pools()
    assert pools.user_frames_total == 10 and pools.swap_slots_used is None
    assert "swap map: unknown (no struct bitmap reachable from a global has 1008 bits = the " \
        "swap disk's 8064 sectors / 8; bit counts: swap_table 16)" in inspector.layout_notes()


def test_spt_of_a_process_and_the_reasons_when_not_readable(kernels):
    guest, inspector = inspector_guest(kernels)
    proc = inspector.processes()[0]
    assert inspector.spt(proc)[1] == "SPT of lazy-anon (tid 3) unreadable: pid 3 was not " \
        "observed at this stop"
    tables = running_process(guest, inspector)
    inspector.observe(1, {3: tables}, {"lazy-anon": FakeImage()})
    spt, why = inspector.spt(proc)
    assert why is None and spt[0x400000].frame_pa == 0x200000 and spt[0x400000].writable is False
    notes = {note.split(" ")[0]: note for note in inspector.layout_notes()}
    assert notes["va"].startswith("va = page.va: void * (distinct page-aligned addresses "
                                  "on 5/5 pages, decided at checkpoint 1 (pid 3))")
    assert notes["writable"].startswith("writable = page.writable: _Bool (followed the ELF "
                                        "segment flags")
    guest.mem.put(KERN_BASE + 0x400000, guest.thread, "spt.pages.buckets",
                  KERN_BASE + 0x7FF000)                                  # unmapped
    inspector.observe(2, {3: tables}, {})
    spt, why = inspector.spt(proc)
    assert spt is None and why.startswith("SPT of lazy-anon (tid 3) unreadable: cannot access")
    _, skeleton = inspector_guest(kernels, "skeleton")
    assert skeleton.spt(skeleton.processes()[0]) == (None, skeleton.layout_problem)
    assert "VM not implemented" in skeleton.layout_problem
    assert skeleton.layout_notes() == [f"SPT: {skeleton.layout_problem}"]


def test_the_writable_flag_is_learnt_only_when_the_code_at_the_stop_is_the_programs(kernels):
    guest, inspector = inspector_guest(kernels)
    proc = inspector.processes()[0]
    tables = running_process(guest, inspector)
    inspector.dbg.registers["rip"] = 0x7000000          # not in the image: no evidence
    inspector.observe(1, {3: tables}, {"lazy-anon": FakeImage()})
    assert inspector.spt(proc)[0][0x400000].writable is None
    assert any(note.startswith("writable: unknown (not seen yet")
               for note in inspector.layout_notes())
