"""Page-table walker, snapshot and diff over synthetic tables (pt_builder)."""
import json

import pytest

from results.codec import from_json, to_json
from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from harness.x86.pagewalk import (BytesPhysicalMemory, PhysicalMemory,
                              PhysicalMemoryError, SparsePhysicalMemory,
                              translate, walk_page_tables)
from oracles.model.page_tables import (PAGE_1G, PAGE_2M, PAGE_4K, PTE_A, PTE_D, PTE_NX,
                              PTE_P, PTE_PS, PTE_U, PTE_W, Anomaly,
                              PageMapping, PageTableSnapshot, diff_snapshots,
                              format_flags, parse_flags)
from tests.unit.pt_builder import URW, PageTableBuilder

PML4, PDPT, PD, PT = 0x100000, 0x101000, 0x102000, 0x103000  # first tables
KRW = PTE_P | PTE_W


def kinds(snap):
    return [a.kind for a in snap.anomalies]


def test_single_4k_page_exact_mapping():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000, flags=URW | PTE_A)
    snap = b.walk()
    expected = PageMapping(0x400000, PAGE_4K, 0x500000, URW | PTE_A,
                           0x500000 | URW | PTE_A,
                           (PML4, PDPT, PD + 8 * 2, PT))
    assert dict(snap.user_pages) == {0x400000: expected}
    assert dict(snap.kernel_pages) == {}
    assert snap.anomalies == ()
    assert snap.cr3 == PML4
    assert snap.lookup(0x400FFF) == expected
    assert snap.lookup(0x401000) is None
    assert expected.level == 1 and expected.translate(0x400123) == 0x500123


def test_large_pages_lookup_and_4k_expansion():
    b = PageTableBuilder()
    b.map(0x600000, 0x800000, PAGE_2M)                 # PD index 3
    b.map(0x40000000, 0x40000000, PAGE_1G)             # PDPT index 1
    snap = walk_page_tables(b.mem, b.cr3, user_top=LAYOUT.user_top)
    two_m = PageMapping(0x600000, PAGE_2M, 0x800000, URW,
                        0x800000 | URW | PTE_PS, (PML4, PDPT, PD + 24))
    one_g = PageMapping(0x40000000, PAGE_1G, 0x40000000, URW,
                        0x40000000 | URW | PTE_PS, (PML4, PDPT + 8))
    assert list(snap.iter_user_pages()) == [two_m, one_g]
    assert snap.lookup(0x7FFFFF) == two_m
    assert snap.lookup(0x600000 + 0x12345) == two_m
    assert snap.lookup(0x7FFFFFFF) == one_g
    assert snap.lookup(0x800000) is None
    assert snap.lookup(0x1 << 63) is None  # non-canonical: no mapping
    granules = [(va, pa) for va, pa, m in snap.iter_user_4k() if m == two_m]
    assert len(granules) == 512
    assert granules[0] == (0x600000, 0x800000)
    assert granules[-1] == (0x7FF000, 0x9FF000)
    assert snap.user_bytes() == PAGE_2M + PAGE_1G
    # the 1 GiB page starts at 1 GiB, past the 20 MiB RAM: reported
    assert kinds(snap) == ["frame_outside_ram"]


def test_not_present_levels_map_nothing():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000)
    b.map(0x40000000 + 0x1000, 0x501000)               # second PD, PT
    b.map(0x200000, 0x502000)                          # second PT in first PD
    b.update(1, 0x400000, clear_bits=PTE_P)            # PTE not present
    b.update(2, 0x200000, clear_bits=PTE_P)            # PDE not present
    b.update(3, 0x40000000, clear_bits=PTE_P)          # PDPTE not present
    snap = b.walk()
    assert dict(snap.user_pages) == {} and snap.anomalies == ()
    b.update(4, 0, clear_bits=PTE_P)                   # PML4E not present
    assert b.walk().equals(snap)


def test_effective_rights_combine_all_levels():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000, upper=URW)
    b.map(0x40000000, 0x501000, upper=URW)
    b.update(3, 0x40000000, clear_bits=PTE_W)          # PDPTE without W
    b.map(0x40200000, 0x503000, upper=URW)             # same PDPTE, next PDE
    b.update(2, 0x40200000, clear_bits=PTE_W)          # PDE without W
    b.map(0x80000000, 0x502000, upper=URW)
    b.update(3, 0x80000000, set_bits=PTE_NX)           # NX at the PDPTE
    snap = b.walk()
    assert snap.user_pages[0x400000].flags == URW
    for va in (0x40000000, 0x40200000):
        readonly = snap.user_pages[va]
        assert readonly.flags == PTE_P | PTE_U and readonly.leaf_flags == URW
    noexec = snap.user_pages[0x80000000]
    assert noexec.flags == URW | PTE_NX and noexec.leaf_flags == URW
    assert not noexec.executable and snap.user_pages[0x400000].executable
    assert format_flags(noexec.flags) == "P|W|U|NX"


def test_u_cleared_above_leaf_makes_supervisor_page_in_user_range():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000)
    b.map(0x600000, 0x501000)                          # same PD, second PT
    b.update(2, 0x600000, clear_bits=PTE_U)            # PDE without U
    b.map(0x40000000, 0x502000)
    b.update(3, 0x40000000, clear_bits=PTE_U)          # PDPTE without U
    snap = b.walk()
    assert list(snap.user_pages) == [0x400000]
    supervisor = snap.kernel_pages[0x600000]
    assert supervisor.flags == KRW and supervisor.leaf_flags == URW
    assert snap.kernel_pages[0x40000000].flags == KRW
    assert snap.supervisor_in_user_range() == [supervisor,
                                               snap.kernel_pages[0x40000000]]
    assert snap.lookup(0x600010) == supervisor


def test_kernel_half_sign_extended_and_only_when_asked():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000)
    b.map(0xFFFFFFFF80000000, 0, PAGE_1G, flags=KRW, upper=KRW)
    b.map(0x8004000000, 0, PAGE_2M, flags=KRW, upper=KRW)  # KERN_BASE
    assert dict(b.walk().kernel_pages) == {}
    snap = b.walk(include_kernel=True)
    assert list(snap.kernel_pages) == [0x8004000000, 0xFFFFFFFF80000000]
    image = snap.kernel_pages[0xFFFFFFFF80000000]
    assert image.entry_addrs == (PML4 + 8 * 511, 0x104000 + 8 * 510)
    assert snap.lookup(0xFFFFFFFF80123456).translate(0xFFFFFFFF80123456) \
        == 0x123456
    assert snap.anomalies == ()


def test_user_page_in_upper_half_is_a_user_page():
    b = PageTableBuilder()
    b.map(0xFFFF800000001000, 0x500000)
    snap = b.walk()
    assert list(snap.user_pages) == [0xFFFF800000001000]
    assert snap.user_pages[0xFFFF800000001000].entry_addrs[0] == PML4 + 8 * 256


def test_recursive_slot_and_deeper_loop_are_reported_not_followed():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000)
    b.write(PML4 + 8 * 5, PML4 | URW)                  # recursive PML4 slot
    b.write(PD + 8 * 7, PDPT | URW)                    # PDE -> PDPT above it
    snap = b.walk()
    assert list(snap.user_pages) == [0x400000]
    assert snap.anomalies == (
        Anomaly("table_loop", 0xE00000, 2, PD + 56, PDPT | URW,
                f"PDE at {PD + 56:#x} for 0xe00000 points back to table "
                f"{PDPT:#x} above it on the same path"),
        Anomaly("table_loop", 5 << 39, 4, PML4 + 40, PML4 | URW,
                f"PML4E at {PML4 + 40:#x} for {5 << 39:#x} points back to "
                f"table {PML4:#x} above it on the same path"))


def test_shared_table_is_reported_and_its_aliases_mapped():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000)
    b.write(PDPT + 8 * 1, PD | URW)                    # 1 GiB..2 GiB reuses PD
    snap = b.walk()
    assert list(snap.user_pages) == [0x400000, 0x40400000]
    alias = snap.user_pages[0x40400000]
    assert (alias.phys, alias.entry_addrs) == (0x500000, (PML4, PDPT + 8, PD + 16, PT))
    assert kinds(snap) == ["shared_table"]  # not again for the PT below it
    assert snap.anomalies[0].entry_addr == PDPT + 8
    assert "already referenced by the entry at 0x101000" in snap.anomalies[0].message


def test_pointers_outside_ram():
    b = PageTableBuilder(ram_size=20 << 20)
    b.map(0x400000, 0x1400000)                         # frame just past RAM
    b.map(0x401000, 0x13FF000)                         # last frame of RAM
    b.write(PD + 8 * 5, 0x2000000 | URW)               # PT past RAM
    b.map(0xFFFFFFFF80000000, 0x80000000, PAGE_2M, flags=KRW, upper=KRW)
    snap = b.walk(include_kernel=True)
    assert list(snap.user_pages) == [0x400000, 0x401000]
    assert [(a.kind, a.va, a.level, a.entry_addr) for a in snap.anomalies] == [
        ("frame_outside_ram", 0x400000, 1, PT, ),
        ("table_outside_ram", 0xA00000, 2, PD + 40)]
    assert 0xFFFFFFFF80000000 in snap.kernel_pages     # devices: not reported


def test_reserved_bits_are_reported_and_not_followed():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000 | 1 << 45)                # above 40 phys bits
    b.map(0x600000, 0x800000 | 1 << 13, PAGE_2M)       # bit 13 of a 2M leaf
    b.map(0x401000, 0x501000, flags=URW | PTE_NX)
    b.write(PML4 + 8, 0x200000 | URW | PTE_PS)         # PS in a PML4E
    snap = b.walk(nx_enabled=False)
    assert list(snap.user_pages) == []
    assert [(a.kind, a.va, a.level) for a in snap.anomalies] == [
        ("reserved_bits", 0x400000, 1), ("reserved_bits", 0x401000, 1),
        ("reserved_bits", 0x600000, 2), ("reserved_bits", 1 << 39, 4)]
    assert "reserved bits 0x200000000000" in snap.anomalies[0].message
    wide = b.walk(phys_bits=46)
    assert list(wide.user_pages) == [0x400000, 0x401000]
    assert wide.user_pages[0x400000].phys == 0x500000 | 1 << 45


def test_bad_cr3():
    mem = SparsePhysicalMemory(1 << 20)
    outside = walk_page_tables(mem, 0x200000, user_top=LAYOUT.user_top)
    assert kinds(outside) == ["table_outside_ram"] and outside.anomalies[0].value \
        == 0x200000
    assert kinds(walk_page_tables(mem, 1 << 50, user_top=LAYOUT.user_top)) == ["reserved_bits"]
    assert walk_page_tables(mem, 0x1018, user_top=LAYOUT.user_top).anomalies == ()  # PCD/PWT bits ignored


def test_user_page_mapping_a_page_table():
    b = PageTableBuilder()
    b.map(0x400000, PT)                                # maps its own PT
    snap = b.walk()
    assert [(a.kind, a.va, a.level, a.entry_addr) for a in snap.anomalies] == [
        ("table_mapped_to_user", 0x400000, 1, PT)]


def test_walk_limit_stops_the_walk():
    b = PageTableBuilder()
    for i in range(5):
        b.map(0x400000 + i * PAGE_4K, 0x500000 + i * PAGE_4K)
    snap = b.walk(max_mappings=3)
    assert list(snap.user_pages) == [0x400000, 0x401000, 0x402000]
    assert kinds(snap) == ["walk_limit"]


class CountingMemory:
    def __init__(self, inner):
        self.inner, self.ram_size, self.reads = inner, inner.ram_size, []

    def read_phys(self, addr, length):
        self.reads.append((addr, length))
        return self.inner.read_phys(addr, length)


def test_each_table_read_once_in_bulk():
    b = PageTableBuilder()
    for i in range(600):                               # two PTs
        b.map(0x400000 + i * PAGE_4K, 0x500000 + i * PAGE_4K)
    b.write(PDPT + 8 * 1, PD | URW)                    # shared PD: walked twice
    mem = CountingMemory(b.mem)
    assert isinstance(mem, PhysicalMemory)
    snap = walk_page_tables(mem, b.cr3, user_top=LAYOUT.user_top)
    assert len(snap.user_pages) == 1200
    assert mem.reads == [(PML4, 4096), (PDPT, 4096), (PD, 4096), (PT, 4096),
                         (0x104000, 4096)]


def test_bytes_memory_from_dump_matches_sparse(tmp_path):
    b = PageTableBuilder(ram_size=2 << 20)
    b.map(0x400000, 0x1FF000, flags=URW | PTE_D)
    dump = tmp_path / "ram.bin"
    dump.write_bytes(b.mem.read_phys(0, 2 << 20))
    from_dump = walk_page_tables(BytesPhysicalMemory.from_file(dump), b.cr3,
                                 user_top=LAYOUT.user_top)
    assert from_dump == b.walk()
    with pytest.raises(PhysicalMemoryError, match="outside the 0x200000-byte"):
        BytesPhysicalMemory.from_file(dump).read_phys(0x1FFFF8, 16)


def test_translate_one_address():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000)
    b.map(0x600000, 0x800000, PAGE_2M)
    t = translate(b.mem, b.cr3, 0x600abc)
    assert t.phys == 0x800abc and t.mapping.va == 0x600000 and t.reason == ""
    assert t.steps == ((4, PML4, PDPT | URW), (3, PDPT, PD | URW),
                       (2, PD + 24, 0x800000 | URW | PTE_PS))
    missing = translate(b.mem, b.cr3, 0x401000)
    assert missing.mapping is None and missing.phys is None
    assert missing.reason == f"not present at PTE {PT + 8:#x}"
    bad = translate(b.mem, b.cr3, 0x0000800000000000)
    assert [a.kind for a in bad.anomalies] == ["non_canonical"]
    b.update(1, 0x400000, set_bits=1 << 50)
    assert translate(b.mem, b.cr3, 0x400000).reason == \
        f"PTE {PT:#x} sets reserved bits {1 << 50:#x}"


def two_snapshots():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000, flags=PTE_P | PTE_U)
    b.map(0x401000, 0x501000)
    b.map(0x402000, 0x502000)
    old = b.walk()
    b.update(1, 0x401000, clear_bits=PTE_P)                    # removed
    b.map(0x402000, 0x503000)                                  # phys changed
    b.update(1, 0x400000, set_bits=PTE_W | PTE_A | PTE_D)      # W + A/D
    b.map(0x403000, 0x504000)                                  # added
    return old, b.walk()


def test_diff_added_removed_changed_and_summary():
    old, new = two_snapshots()
    diff = diff_snapshots(old, new)
    assert [m.va for m in diff.added] == [0x403000]
    assert [m.va for m in diff.removed] == [0x401000]
    assert [(c.va, c.fields) for c in diff.changed] == [
        (0x400000, ("flags", "leaf_flags")), (0x402000, ("phys",))]
    assert diff.summary() == "\n".join([
        "page tables: 1 added, 1 removed, 2 changed, 0 new anomalies, "
        "0 anomalies gone (A/D ignored)",
        "  + 0x403000 4K -> 0x504000 P|W|U",
        "  - 0x401000 4K -> 0x501000 P|W|U",
        "  ~ 0x400000: flags P|U -> P|W|U; leaf flags P|U -> P|W|U",
        "  ~ 0x402000: phys 0x502000 -> 0x503000"])
    assert diff.summary(max_lines=1).splitlines()[-1] == "  ... 3 more"
    exact = diff_snapshots(old, new, ignore_ad=False)
    assert exact.changed[0].describe() == (
        "0x400000: flags P|U -> P|W|U|A|D; leaf flags P|U -> P|W|U|A|D")
    assert diff_snapshots(new, new).summary() == \
        "page tables: no differences (A/D ignored)"


def test_diff_sees_u_bit_change_and_new_anomaly():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000)
    old = b.walk()
    b.update(1, 0x400000, clear_bits=PTE_U)
    b.map(0x401000, PT)                                # maps its own PT
    diff = diff_snapshots(old, b.walk())
    assert [(c.va, c.fields) for c in diff.changed] == [
        (0x400000, ("flags", "leaf_flags"))]
    assert [a.kind for a in diff.anomalies_added] == ["table_mapped_to_user"]
    assert [m.va for m in diff.added] == [0x401000] and not diff.empty


def test_equals_ignores_accessed_dirty_only_when_asked():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000)
    before = b.walk()
    b.update(1, 0x400000, set_bits=PTE_A | PTE_D)
    b.update(4, 0x400000, set_bits=PTE_A)              # CPU sets upper A too
    after = b.walk()
    assert after.equals(before, ignore_ad=True)
    assert not after.equals(before, ignore_ad=False)
    assert diff_snapshots(before, after).empty
    assert not diff_snapshots(before, after, ignore_ad=False).empty
    b.update(1, 0x400000, clear_bits=PTE_W)
    assert not b.walk().equals(before, ignore_ad=True)


def test_json_round_trip():
    b = PageTableBuilder()
    b.map(0x400000, 0x500000, flags=URW | PTE_NX | PTE_A | 0x200)  # COW bit
    b.map(0x600000, 0x800000, PAGE_2M)
    b.write(PML4 + 8 * 5, PML4 | URW)
    snap = b.walk(include_kernel=True)
    data = json.loads(json.dumps(to_json(snap)))   # results.json's form (results/codec.py)
    assert data["user_pages"][0] == {
        "va": "0x400000", "size": 4096, "phys": "0x500000",
        "flags": "P|W|U|A|NX", "value": hex(0x500000 | URW | PTE_NX | PTE_A | 0x200),
        "entries": ["0x100000", "0x101000", "0x102010", "0x103000"]}
    back = from_json(PageTableSnapshot, data)
    assert back == snap and back.equals(snap, ignore_ad=False)
    assert back.user_pages[0x400000].software_bits == 0x200
    with pytest.raises(ValueError, match="not a page-table snapshot"):
        from_json(PageTableSnapshot, {"format": "other"})
    del data["user_pages"][0]["phys"]
    with pytest.raises(ValueError, match="missing key 'phys'"):
        from_json(PageTableSnapshot, data)


def test_flag_text_round_trip():
    assert parse_flags("P|W|U|A|D|G|NX") == 0x8000000000000167
    assert parse_flags("-") == 0 and format_flags(0) == "-"
    with pytest.raises(ValueError, match="unknown page flag 'X'"):
        parse_flags("P|X")
