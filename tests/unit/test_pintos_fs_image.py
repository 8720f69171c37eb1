"""The Pintos file system written before boot (fs_image.py), the check that
a kernel's file system is the stock one (fs_format.py), and the adapter's
choice between the two paths. On data built here; no QEMU, no student
tree (tests/integration/test_pintos_kaist.py compares with what a real
kernel's `-f` and `put` leave, byte for byte)."""

from __future__ import annotations

import struct
from types import SimpleNamespace

import pytest

from harness.adapters.pintos_kaist import fs_format
from harness.adapters.pintos_kaist.adapter import FS_MIN_BYTES, PintosKaistAdapter
from harness.adapters.pintos_kaist.disks import (INODE_MAGIC, PintosDiskError, PintosFileSystem,
                                                 read_kernel_args, read_scratch)
from harness.adapters.pintos_kaist.fs_format import (NotStockFs, STOCK_CALLS, StockFs,
                                                     check_stock_calls, source_facts)
from harness.adapters.pintos_kaist.fs_image import formatted_sectors, write_formatted_disk
from harness.debug.dwarf_types import Member, TypeInfo
from harness.errors import UsageError
from tests.unit.fake_pintos_tree import fake_adapter

SECTOR = 512
DISK = 20160                     # sectors: the adapter's smallest file-system disk
STOCK = StockFs(free_map_sector=0, root_dir_sector=1, inode_magic=INODE_MAGIC, root_entries=16,
                inode_start=0, inode_length=4, inode_magic_at=8, entry_size=20,
                entry_sector_at=0, entry_name_at=4, name_max=14, entry_in_use_at=19,
                bitmap_elem_size=8)


def inode(start: int, length: int) -> bytes:
    return struct.pack("<IiI", start, length, INODE_MAGIC) + bytes(SECTOR - 12)


# ---- the image's bytes ----

def test_a_format_without_files_is_the_free_map_then_the_root_directory():
    sectors = formatted_sectors(DISK, [], STOCK)
    # the free map: 20160 bits in 315 8-byte elements = 2520 bytes = 5 sectors at 2..6
    assert sectors[0] == inode(2, 2520)
    assert sectors[1] == inode(7, 320)          # 16 entries of 20 bytes, in sector 7
    assert sectors[7] == bytes(SECTOR)          # no entry in use
    assert sectors[2] == b"\xff" + bytes(SECTOR - 1)   # sectors 0..7 used
    assert all(sectors[n] == bytes(SECTOR) for n in range(3, 7))
    assert sorted(sectors) == list(range(8))


def test_a_file_spanning_sectors_gets_an_inode_an_entry_and_contiguous_data():
    data = bytes(range(256)) * 5 + b"end"                  # 1283 bytes: 3 sectors
    sectors = formatted_sectors(DISK, [("data.bin", data)], STOCK)
    assert sectors[8] == inode(9, 1283)                      # its inode, then its data
    assert b"".join(sectors[n] for n in (9, 10, 11)) == data + bytes(3 * SECTOR - 1283)
    assert sectors[7][:20] == struct.pack("<I15s?", 8, b"data.bin", True)
    assert sectors[7][20:] == bytes(SECTOR - 20)
    assert sectors[2][:2] == b"\xff\x0f"                     # sectors 0..11 used


def test_files_follow_one_another_in_put_order_and_an_empty_file_starts_at_0():
    sectors = formatted_sectors(DISK, [("a", b"x"), ("empty", b""), ("b", b"y" * 513)], STOCK)
    assert sectors[8] == inode(9, 1)
    assert sectors[10] == inode(0, 0)          # bitmap_scan of 0 sectors answers sector 0
    assert sectors[11] == inode(12, 513)
    names = [sectors[7][i * 20 + 4:i * 20 + 19].rstrip(b"\0") for i in range(4)]
    assert names == [b"a", b"empty", b"b", b""]
    assert sectors[2][:2] == b"\xff\x3f"                     # 0..13


def test_the_free_map_is_whole_elements_of_the_disk_in_bits():
    sectors = formatted_sectors(100, [], STOCK)               # 100 bits: two 8-byte elements
    assert sectors[0] == inode(2, 16)
    assert formatted_sectors(64, [], STOCK)[0] == inode(2, 8)


def test_the_layout_comes_from_the_kernel_not_from_constants():
    other = StockFs(**{**STOCK.__dict__, "inode_magic": 0x12345678, "root_dir_sector": 5,
                       "root_entries": 32, "inode_length": 12, "inode_magic_at": 4})
    sectors = formatted_sectors(DISK, [("f", b"z")], other)
    # reserved 0 and 5; first fit: the free map's 5 sectors at 6..10, the
    # root directory's 640 bytes at 1..2, f's inode at 3, its byte at 4
    assert sectors[0] == struct.pack("<III", 6, 0x12345678, 0) + struct.pack("<I", 2520) + \
        bytes(SECTOR - 16)
    assert sectors[5][:16] == struct.pack("<IIII", 1, 0x12345678, 0, 640)
    assert sectors[1][:20] == struct.pack("<I15s?", 3, b"f", True)
    assert sectors[4] == b"z" + bytes(SECTOR - 1)
    assert sectors[6][:2] == b"\xff\x07"                    # 0..10 used


def test_what_the_stock_kernel_could_not_hold_is_refused():
    with pytest.raises(PintosDiskError, match="more than the 16 entries"):
        formatted_sectors(DISK, [(f"f{i}", b"") for i in range(17)], STOCK)
    with pytest.raises(PintosDiskError, match="no 12 free contiguous sectors"):
        formatted_sectors(16, [("big", bytes(12 * SECTOR))], STOCK)
    with pytest.raises(PintosDiskError, match="does not fit"):
        formatted_sectors(DISK, [("a" * 15, b"")], STOCK)


def test_the_reader_reads_back_what_is_written(tmp_path):
    files = [("hello", b"\x7fELF" + bytes(5000)), ("large.txt", bytes(range(251)) * 8355),
             ("empty", b""), ("fourteen-bytes", b"!")]
    image = write_formatted_disk(tmp_path / "fs.img", DISK * SECTOR, files, STOCK)
    assert image.stat().st_size == DISK * SECTOR
    fs = PintosFileSystem(image)
    assert list(fs.files()) == [name for name, _ in files]
    assert all(fs.read(name) == data for name, data in files)


# ---- is the kernel's file system the stock one ----

class FakeKernel:
    """Symbols whose functions call CALLS (name -> callees)."""

    def __init__(self, calls: dict):
        self.calls = calls

    def find(self, name):
        return SimpleNamespace(name=name, kind="func", size=1) if name in self.calls else None


@pytest.fixture
def kernel(monkeypatch):
    monkeypatch.setattr(fs_format, "called_functions",
                        lambda symbols, symbol: sorted(symbols.calls[symbol.name]))
    return FakeKernel({name: set(callees) | {"debug_panic"} for name, callees in
                       STOCK_CALLS.items()})


def test_the_stock_calls_pass_and_a_lock_around_the_file_system_is_allowed(kernel):
    check_stock_calls(kernel)
    kernel.calls["filesys_init"].add("lock_init")
    check_stock_calls(kernel)


def test_a_fat_kernel_or_a_changed_inode_create_keeps_put(kernel):
    kernel.calls["filesys_init"] -= {"free_map_init", "free_map_open"}
    kernel.calls["filesys_init"] |= {"fat_init", "fat_open"}
    with pytest.raises(NotStockFs, match="filesys_init .* also calls fat_init, fat_open; it "
                                         "does not call free_map_init, free_map_open .*FAT"):
        check_stock_calls(kernel)
    kernel.calls["filesys_init"] = set(STOCK_CALLS["filesys_init"])
    kernel.calls["inode_create"].add("page_cache_write")
    with pytest.raises(NotStockFs, match="inode_create is not the stock one: it also calls "
                                         "page_cache_write$"):
        check_stock_calls(kernel)
    kernel.calls["inode_create"].remove("page_cache_write")
    del kernel.calls["dir_add"]
    with pytest.raises(NotStockFs, match="no function"):
        check_stock_calls(kernel)


def source_tree(tmp_path, magic="0x494e4f44", entries="16"):
    (tmp_path / "include/filesys").mkdir(parents=True)
    (tmp_path / "filesys").mkdir()
    (tmp_path / "include/filesys/filesys.h").write_text(
        "#define FREE_MAP_SECTOR 0       /* x */\n#define ROOT_DIR_SECTOR 1\n")
    (tmp_path / "filesys/inode.c").write_text(f"#define INODE_MAGIC {magic}\n")
    (tmp_path / "filesys/filesys.c").write_text(
        f"\tif (!dir_create (ROOT_DIR_SECTOR, {entries}))\n")
    return tmp_path


def test_sector_numbers_magic_and_entries_come_from_the_tree(tmp_path):
    assert source_facts(source_tree(tmp_path)) == {
        "free_map_sector": 0, "root_dir_sector": 1, "inode_magic": INODE_MAGIC,
        "root_entries": 16}


def test_a_tree_without_a_fact_as_a_number_keeps_put(tmp_path):
    with pytest.raises(NotStockFs, match="filesys/filesys.c does not define root_entries"):
        source_facts(source_tree(tmp_path, entries="ENTRIES"))


def struct_type(name, size, fields):
    """A TypeInfo struct with FIELDS (name, offset, type)."""
    return TypeInfo("struct", name, size, members=[Member(n, o, t) for n, o, t in fields])


def stock_types(inode_size=512):
    u32 = TypeInfo("base", "unsigned int", 4)
    char, flag = TypeInfo("base", "char", 1), TypeInfo("base", "_Bool", 1)
    types = {
        "struct inode_disk": struct_type("struct inode_disk", inode_size,
                                         [("start", 0, u32), ("length", 4, u32),
                                          ("magic", 8, u32)]),
        "struct dir_entry": struct_type("struct dir_entry", 20, [
            ("inode_sector", 0, u32), ("name", 4, TypeInfo("array", "char[15]", 15, char, 15)),
            ("in_use", 19, flag)]),
        "elem_type": TypeInfo("base", "long unsigned int", 8)}
    return SimpleNamespace(get=types.__getitem__)


def test_struct_layouts_come_from_the_dwarf():
    facts = fs_format._dwarf_facts(stock_types())
    assert {name: facts[name] for name in ("entry_size", "entry_in_use_at", "name_max",
                                           "bitmap_elem_size", "inode_magic_at")} == {
        "entry_size": 20, "entry_in_use_at": 19, "name_max": 14, "bitmap_elem_size": 8,
        "inode_magic_at": 8}
    with pytest.raises(NotStockFs, match="struct inode_disk is 1024 bytes"):
        fs_format._dwarf_facts(stock_types(inode_size=1024))


# ---- the adapter's choice ----

@pytest.fixture
def adapter(tmp_path):
    """On a fake built tree whose kernel.o is no ELF: not known stock until a test says so."""
    return fake_adapter(tmp_path / "pintos")


def test_a_stock_kernel_boots_from_a_written_file_system_without_f_and_put(adapter, tmp_path):
    adapter._fs_format = STOCK
    disks = adapter.make_disks(tmp_path, {}, {"sample.txt": b"abc"}, swap_mb=0)
    assert disks.formatted and disks.puts == ()
    assert PintosFileSystem(disks.fs).read("sample.txt") == b"abc"
    assert disks.fs.stat().st_size == FS_MIN_BYTES
    assert read_scratch(disks.scratch.read_bytes()) == []
    adapter.qemu_args(disks, adapter.kernel_cmdline([["sample.txt"]], user_page_limit=8), 20)
    assert read_kernel_args(disks.boot.read_bytes()[:SECTOR]) == [
        "-q", "-ul=8", "run", "sample.txt"]


def test_a_kernel_not_known_stock_keeps_f_and_put_and_says_why(adapter, tmp_path):
    disks = adapter.make_disks(tmp_path, {}, {"sample.txt": b"abc"}, swap_mb=0)
    assert not disks.formatted and disks.puts == ("sample.txt",)
    assert disks.fs.read_bytes() == bytes(FS_MIN_BYTES)
    assert any("(-f, put): cannot read" in line for line in adapter.logged)
    adapter.qemu_args(disks, adapter.kernel_cmdline([["sample.txt"]]), 20)
    assert read_kernel_args(disks.boot.read_bytes()[:SECTOR])[:4] == [
        "-q", "-f", "put", "sample.txt"]


def test_files_the_stock_kernel_cannot_hold_are_left_to_its_put(adapter, tmp_path):
    adapter._fs_format = STOCK
    files = {f"f{i}": b"" for i in range(17)}
    disks = adapter.make_disks(tmp_path, {}, files, swap_mb=0)
    assert disks.puts == tuple(files) and not disks.formatted
    assert any("more than the 16 entries" in line for line in adapter.logged)


def test_the_put_mode_is_asked_for_by_name(adapter, monkeypatch):
    put = PintosKaistAdapter(adapter.tree, fs_mode="put", log=adapter.logged.append)
    assert put.stock_fs() == "VMCHECK_PINTOS_FS=put"
    monkeypatch.setenv("VMCHECK_PINTOS_FS", "put")
    assert PintosKaistAdapter(adapter.tree).fs_mode == "put"
    with pytest.raises(UsageError, match="VMCHECK_PINTOS_FS=format"):
        PintosKaistAdapter(adapter.tree, fs_mode="format")
