"""Finding and reading a Pintos-KAIST SPT through DWARF, and the Pintos
inspector (threads, current thread, pools, swap), on kernels-in-miniature
compiled here with gcc -g in several layouts and a fake guest memory laid
out through their DWARF offsets (tests/unit/pintos_guest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.adapters.pintos_inspect import KERN_BASE, PintosInspector
from harness.adapters.pintos_spt import (SptNotRecognised, SptReadError, discover_layout,
                                         read_spt)
from harness.adapters.pintos_swap import find_swap_map
from harness.state_capture import ProcessInfo
from tests.unit.pintos_guest import PAGE, THREAD_MAGIC, FakeMemory, Guest, compile_layouts, dwarf


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> dict[str, Path]:
    """Layout name -> ELF file of that layout (tests/unit/pintos_guest.py)."""
    return compile_layouts(tmp_path_factory.mktemp("pintos-types"))


# ---- discovery ----

def test_hash_in_the_spt_struct_linked_by_hash_elem(kernels):
    layout = discover_layout(dwarf(kernels["hash"]))
    assert (layout.container.path, layout.container.kind, layout.link) == \
        ("spt.pages", "hash", "spt_elem")
    assert layout.writable == "writable" and not layout.writable_inverted
    assert layout.notes == ()
    assert "hash struct thread.spt.pages of struct page via page.spt_elem" in layout.describe()


def test_list_picks_the_list_elem_whose_name_says_spt(kernels):
    layout = discover_layout(dwarf(kernels["list"]))
    assert (layout.container.kind, layout.link) == ("list", "spt_elem")


def test_pointer_to_a_hash_is_followed(kernels):
    layout = discover_layout(dwarf(kernels["pointer"]))
    assert layout.container.path == "spt.table" and layout.container.indirect


def test_read_only_flag_is_read_inverted_and_missing_flag_is_noted(kernels):
    inverted = discover_layout(dwarf(kernels["read_only"]))
    assert (inverted.writable, inverted.writable_inverted) == ("read_only", True)
    missing = discover_layout(dwarf(kernels["no_flag"]))
    assert missing.writable is None and "no writable flag" in missing.notes[0]


def test_skeleton_without_an_spt_gets_a_reason(kernels):
    with pytest.raises(SptNotRecognised, match="VM not implemented"):
        discover_layout(dwarf(kernels["skeleton"]))


def test_ambiguous_tables_need_a_mapping_which_then_works(kernels):
    types = dwarf(kernels["ambiguous"])
    with pytest.raises(SptNotRecognised, match="ambiguous: thread.spt.a via page.x; "
                                               "thread.spt.b via page.x"):
        discover_layout(types)
    layout = discover_layout(types, {"table": "spt.b", "writable": ""})
    assert (layout.container.path, layout.link, layout.writable) == ("spt.b", "x", None)


@pytest.mark.parametrize("mapping,message", [
    ({"table": "donations.head"}, "not a struct hash or struct list"),
    ({"link": "va"}, "not a hash element member"),
    ({"writable": "dirty"}, "no member 'dirty'"),
    ({"tabel": "spt.pages"}, "unknown keys"),
])
def test_bad_mappings_say_what_is_wrong(kernels, mapping, message):
    with pytest.raises(SptNotRecognised, match=message):
        discover_layout(dwarf(kernels["hash"]), mapping)


@pytest.mark.parametrize("name", ["hash", "list", "pointer", "read_only"])
def test_read_spt_gives_va_type_frame_and_writable(kernels, name):
    types = dwarf(kernels[name])
    layout = discover_layout(types)
    guest = Guest(types)
    flag_for_writable = 0 if name == "read_only" else 1
    pages = [guest.new_page(0x400000, 1, 1 - flag_for_writable, kva=KERN_BASE + 0x123000),
             guest.new_page(0x401000, 0 | 8, flag_for_writable),       # uninit, marker bit
             guest.new_page(0x10000000, 2, flag_for_writable, kva=KERN_BASE + 0x200000)]
    thread = guest.new_thread(layout, pages)
    spt = read_spt(guest.mem.read, thread, layout, KERN_BASE)
    assert {va: (p.type, p.writable, p.frame_pa) for va, p in spt.items()} == {
        0x400000: ("anon", False, 0x123000),
        0x401000: ("uninit", True, None),
        0x10000000: ("file", True, 0x200000)}


def test_empty_spt_reads_as_no_pages(kernels):
    types = dwarf(kernels["hash"])
    layout = discover_layout(types)
    guest = Guest(types)
    assert read_spt(guest.mem.read, guest.new_thread(layout, []), layout, KERN_BASE) == {}


def corrupt(types, layout, how: str):
    """A thread whose SPT holds two pages, broken as HOW says."""
    guest = Guest(types)
    kva = 0x5000 if how == "low_kva" else KERN_BASE + 0x5000
    good = guest.new_page(0x400000, 1, kva=kva)
    other = guest.new_page(0x400000 if how == "duplicate" else 0x401000, 1)
    thread = guest.new_thread(layout, [good, other], buckets=1)
    if how == "null_ops":
        guest.mem.put(other, guest.page, "operations", 0)
    elif how == "bad_type":
        guest.mem.put(guest.ops_table(1), types.get("struct page_operations"), "type", 5)
    elif how == "broken_link":
        guest.mem.write(other + guest.page.offset_of(layout.link) + 8, bytes(8))
    return guest, thread


@pytest.mark.parametrize("how,message", [
    ("null_ops", "operations is NULL"), ("low_kva", "below KERN_BASE"),
    ("bad_type", "not a vm_type"), ("duplicate", "two SPT entries for va 0x400000"),
    ("broken_link", "NULL next link"),
])
def test_corrupt_spts_are_read_errors(kernels, how, message):
    types = dwarf(kernels["hash"])
    layout = discover_layout(types)
    guest, thread = corrupt(types, layout, how)
    with pytest.raises(SptReadError, match=message):
        read_spt(guest.mem.read, thread, layout, KERN_BASE)


def test_null_spt_pointer_is_a_read_error(kernels):
    types = dwarf(kernels["pointer"])
    layout = discover_layout(types)
    guest = Guest(types)
    thread = guest.alloc(PAGE)
    with pytest.raises(SptReadError, match="is NULL"):
        read_spt(guest.mem.read, thread, layout, KERN_BASE)


# ---- the inspector: threads, current thread, pools ----

class FakeDebugger:
    def __init__(self, mem: FakeMemory, rsp: int, cs: int):
        self.read_virt = mem.read
        self.registers = {"rsp": rsp, "cs": cs}

    def register(self, name: str) -> int:
        return self.registers[name]


class FakeSymbols:
    def __init__(self, types):
        self.types = types


def bitmap(guest: Guest, used: list[bool]) -> int:
    """A struct bitmap with bits USED; returns its address."""
    bitmap_type = guest.types.get("struct bitmap")
    address, bits = guest.alloc(bitmap_type.size), guest.alloc(len(used) // 8 + 8)
    guest.mem.put(address, bitmap_type, "bit_cnt", len(used))
    guest.mem.put(address, bitmap_type, "bits", bits)
    guest.mem.write(bits, sum(1 << i for i, u in enumerate(used) if u).to_bytes(
        len(used) // 8 + 8, "little"))
    return address


def pool(guest: Guest, name: str, base: int, used: list[bool]) -> None:
    var = guest.types.variable(name)
    guest.mem.write(var.address, bytes(var.type.size))
    guest.mem.put(var.address, var.type, "used_map", bitmap(guest, used))
    guest.mem.put(var.address, var.type, "base", base)


def inspector_guest(kernels, name: str = "hash", user_mode: bool = True):
    """Kernel pool of 6 pages: 0 a user process (running), 1 a kernel
    thread, 2 a dying process, 3 a used non-thread page, 4 a thread in a
    free page, 5 free. User pool 10 pages, 3 used."""
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
    if "swap_table" in types.variables():                  # 16 slots, 3 used
        guest.mem.write(types.variable("swap_table").address,
                        bitmap(guest, [True] * 3 + [False] * 13).to_bytes(8, "little"))
    tss_var, tss = types.variable("tss"), guest.alloc(64)
    guest.mem.write(tss_var.address, tss.to_bytes(8, "little"))
    guest.mem.put(tss, types.get("struct task_state"), "rsp0", base + PAGE)
    rsp, cs = (0x4747FF00, 0x23) if user_mode else (base + 0xF00, 0x08)
    return guest, PintosInspector(FakeDebugger(guest.mem, rsp, cs), FakeSymbols(types))


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


def test_pools_count_user_frames_and_swap_slots(kernels):
    _, inspector = inspector_guest(kernels)
    pools = inspector.pools()
    assert (pools.user_frames_total, pools.user_frames_free) == (10, 7)
    assert (pools.swap_slots_total, pools.swap_slots_used) == (16, 3)


def test_swap_is_not_reported_without_map_and_slot_member(kernels):
    _, inspector = inspector_guest(kernels, "no_flag")
    pools = inspector.pools()
    assert pools.user_frames_total == 10 and pools.swap_slots_used is None
    assert "no member recognisable as the swap slot" in inspector.swap_problem


# ---- swap ----

@pytest.mark.parametrize("name,slot,swap_map,member", [
    ("hash", "anon.slot_no", "swap_table", None),
    ("list", "anon.swap_idx", "st.slots_map", "slots_map")])
def test_swap_map_and_slot_member_are_found_by_name(kernels, name, slot, swap_map, member):
    types = dwarf(kernels[name])
    assert discover_layout(types).swap_slot == slot
    found, why = find_swap_map(types)
    variable = types.variable(swap_map.split(".")[0])
    offset = variable.type.offset_of(member) if member else 0
    assert (found.name, found.pointer, why) == (swap_map, variable.address + offset, "")


def test_missing_or_ambiguous_swap_maps_and_slots_give_reasons(kernels):
    assert find_swap_map(dwarf(kernels["no_flag"])) == (
        None, "no global struct bitmap * whose name says swap or slot")
    types = dwarf(kernels["ambiguous"])
    assert find_swap_map(types) == (None, "several swap maps: slot_map, swap_map (name one as "
                                          "swap_map in a layout mapping)")
    assert find_swap_map(types, {"swap_map": "swap_map"})[0].name == "swap_map"
    mapping = {"table": "spt.a", "swap_slot": "anon.slot_b"}
    assert discover_layout(types, {"table": "spt.a"}).swap_slot is None    # slot_a or slot_b?
    assert discover_layout(types, mapping).swap_slot == "anon.slot_b"
    with pytest.raises(SptNotRecognised, match="swap_slot"):
        discover_layout(types, {"table": "spt.a", "swap_slot": "anon.slot_c"})


SIZE_MAX = (1 << 64) - 1


@pytest.mark.parametrize("name,raw,vm_type,resident,expected", [
    ("hash", 5, 1, False, 5), ("hash", 0, 1, False, 0), ("hash", SIZE_MAX, 1, False, None),
    ("hash", 16, 1, False, None), ("hash", 17, 1, False, None),     # count, count + 1
    ("hash", 5, 1, True, None), ("hash", 5, 0, False, None), ("hash", 5, 2, False, None),
    ("list", -1, 1, False, None), ("list", 7, 1, False, 7),
])
def test_swap_slot_is_read_for_swapped_out_anon_pages_only(kernels, name, raw, vm_type,
                                                           resident, expected):
    types = dwarf(kernels[name])
    layout = discover_layout(types)
    guest = Guest(types)
    page = guest.new_page(0x400000, vm_type, kva=KERN_BASE + 0x9000 if resident else None,
                          slot=raw, slot_member=layout.swap_slot)
    thread = guest.new_thread(layout, [page])
    assert read_spt(guest.mem.read, thread, layout, KERN_BASE, 16)[0x400000].swap_slot == expected
    assert read_spt(guest.mem.read, thread, layout, KERN_BASE)[0x400000].swap_slot is None


def test_spt_of_a_process_and_the_reasons_when_not_readable(kernels):
    guest, inspector = inspector_guest(kernels)
    proc = inspector.processes()[0]
    assert inspector.spt(proc) == ({}, None)         # zeroed table: no buckets, no pages
    page = guest.new_page(0x400000, 1, kva=KERN_BASE + 0x7000)
    built = guest.new_thread(inspector.layout, [page])
    spt_offset, spt_size = guest.thread.offset_of("spt"), guest.thread.member("spt").type.size
    running = KERN_BASE + 0x400000
    guest.mem.write(running + spt_offset, guest.mem.read(built + spt_offset, spt_size))
    spt, why = inspector.spt(proc)
    assert why is None and spt[0x400000].frame_pa == 0x7000
    guest.mem.put(running, guest.thread, "spt.pages.buckets", KERN_BASE + 0x7FF000)  # unmapped
    spt, why = inspector.spt(proc)
    assert spt is None and why.startswith("SPT of lazy-anon (tid 3) unreadable: cannot access")
    _, skeleton = inspector_guest(kernels, "skeleton")
    assert skeleton.spt(skeleton.processes()[0]) == (None, skeleton.layout_problem)
    assert "VM not implemented" in skeleton.layout_problem
