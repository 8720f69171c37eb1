"""Pintos-KAIST disks and the adapter's host side: kernel arguments in the
boot sector, the PUT scratch disk, reading the Pintos file system back,
the command line, QEMU arguments, build errors and reading how a run ended.
Everything on data built here; no QEMU, no student tree."""

from __future__ import annotations

import struct
import textwrap

import pytest

from harness.adapters import get_adapter
from harness.adapters.base import Disks, Ending, ProcessExit
from harness.adapters.pintos_kaist.disks import (ARGS_SIZE, FAT_MAGIC, INODE_MAGIC, PintosDiskError,
                                                 PintosFileMissingError, PintosFileSystem,
                                                 blank_disk, check_file_name,
                                                 encode_kernel_args, read_kernel_args,
                                                 read_scratch, scratch_image, write_kernel_args)
from harness.adapters.pintos_kaist.adapter import (BUILD_CC, DEFAULT_SWAP_BYTES, FS_MIN_BYTES,
                                           PintosKaistAdapter, compiler_errors, find_tree,
                                           kernel_words, load_layout_mapping)
from harness.errors import (FileNotOnDiskError, HarnessError, KernelBuildError,
                            KernelNotBuiltError, UsageError)
from tests.unit.fake_pintos_tree import boot_sector, fake_adapter, fake_pintos_tree

SECTOR = 512


# ---- kernel arguments ----

def test_kernel_args_sit_at_0x17a_as_count_then_nul_separated_words():
    block = encode_kernel_args(["-q", "-f", "run", "args a b"])
    assert len(block) == 4 + ARGS_SIZE
    assert struct.unpack_from("<I", block)[0] == 4
    assert block[4:].rstrip(b"\0") == b"-q\0-f\0run\0args a b"


def test_kernel_args_fill_exactly_128_bytes_and_no_more():
    fits = ["x" * 127]                       # 127 bytes + NUL
    assert read_kernel_args(bytes(0x17A) + encode_kernel_args(fits)) == fits
    with pytest.raises(PintosDiskError, match="128"):
        encode_kernel_args(["x" * 128])


@pytest.mark.parametrize("word", ["", "a\0b"])
def test_kernel_args_reject_empty_words_and_nul(word):
    with pytest.raises(PintosDiskError):
        encode_kernel_args(["-q", word])


def test_write_kernel_args_changes_only_the_argument_bytes(tmp_path):
    original = boot_sector()
    image = tmp_path / "os.dsk"
    image.write_bytes(original)
    write_kernel_args(image, ["-q", "put", "hello", "run", "hello"])
    data = image.read_bytes()
    assert data[:0x17A] == original[:0x17A]
    assert data[0x1FE:] == original[0x1FE:]          # signature and kernel untouched
    assert read_kernel_args(data[:SECTOR]) == ["-q", "put", "hello", "run", "hello"]


def test_write_kernel_args_refuses_a_file_without_boot_signature(tmp_path):
    image = tmp_path / "kernel.o"
    image.write_bytes(bytes(4096))
    with pytest.raises(PintosDiskError, match="not a Pintos os.dsk"):
        write_kernel_args(image, ["-q"])


# ---- scratch disk ----

def test_scratch_disk_has_put_header_sector_then_padded_contents():
    image = scratch_image([b"A" * 600, b""])
    assert image[:8] == b"PUT\0" + struct.pack("<I", 600)
    assert image[8:SECTOR] == bytes(SECTOR - 8)
    assert image[SECTOR:SECTOR + 600] == b"A" * 600
    assert image[SECTOR + 600:3 * SECTOR] == bytes(2 * SECTOR - 600)
    assert image[3 * SECTOR:3 * SECTOR + 8] == b"PUT\0" + bytes(4)
    assert len(image) == 4 * SECTOR


def test_scratch_disk_round_trips_files_in_order():
    files = [b"\x7fELF" + bytes(5000), b"sample text\n", bytes(SECTOR)]
    assert read_scratch(scratch_image(files)) == files


def test_scratch_reader_rejects_a_size_past_the_end():
    bad = b"PUT\0" + struct.pack("<I", 10_000) + bytes(SECTOR - 8)
    with pytest.raises(PintosDiskError, match="past the end"):
        read_scratch(bad)


@pytest.mark.parametrize("name,ok", [("a" * 14, True), ("a" * 15, False), ("", False),
                                     ("dir/file", False), ("page-merge-stk", True)])
def test_file_names_fit_the_pintos_directory(name, ok):
    if ok:
        check_file_name(name)
    else:
        with pytest.raises(PintosDiskError):
            check_file_name(name)


def test_blank_disk_is_rounded_up_to_sectors(tmp_path):
    assert blank_disk(tmp_path / "d", 1000).stat().st_size == 1024


# ---- the Pintos file system, read back ----

def pintos_fs(files: dict[str, bytes], deleted: tuple = (), sectors: int = 256) -> bytes:
    """A Pintos base file system as the kernel's -f and put leave it: inode
    sectors {start, length, magic}, contiguous data, a root directory of
    20-byte entries (deleted names have in_use false)."""
    disk = bytearray(sectors * SECTOR)
    next_free = 2

    def add_inode(sector: int, data: bytes) -> None:
        nonlocal next_free
        start = next_free
        next_free += max(1, -(-len(data) // SECTOR))
        struct.pack_into("<IiI", disk, sector * SECTOR, start, len(data), INODE_MAGIC)
        disk[start * SECTOR:start * SECTOR + len(data)] = data

    add_inode(0, bytes(8))                           # free map
    entries, inode_sector = b"", 200
    for name, data in list(files.items()) + [(n, b"gone") for n in deleted]:
        add_inode(inode_sector, data)
        entries += struct.pack("<I15s?", inode_sector, name.encode(), name not in deleted)
        inode_sector += 1
    add_inode(1, entries + bytes(20 * 16 - len(entries)))
    return bytes(disk)


def test_file_system_reader_finds_files_by_name(tmp_path):
    image = tmp_path / "fs.img"
    image.write_bytes(pintos_fs({"hello": b"\x7fELF" * 300, "sample.txt": b"text\n"},
                                deleted=("old",)))
    fs = PintosFileSystem(image)
    assert set(fs.files()) == {"hello", "sample.txt"}
    assert fs.read("hello") == b"\x7fELF" * 300
    assert fs.read("sample.txt") == b"text\n"
    with pytest.raises(PintosDiskError, match="holds: hello, sample.txt"):
        fs.read("old")


def test_file_system_reader_rejects_an_unformatted_disk(tmp_path):
    image = tmp_path / "fs.img"
    image.write_bytes(bytes(64 * SECTOR))
    with pytest.raises(PintosDiskError, match="not a formatted Pintos file system"):
        PintosFileSystem(image).files()


def fat_disk(sectors: int = 256) -> bytes:
    """A disk as a -DEFILESYS kernel's format leaves it: the FAT boot
    sector {magic, sectors per cluster, total sectors, fat_start,
    fat_sectors, root cluster}, FAT chain ends (0x0fffffff) after it."""
    disk = bytearray(sectors * SECTOR)
    struct.pack_into("<6I", disk, 0, FAT_MAGIC, 1, sectors, 1, 2, 1)
    struct.pack_into("<2I", disk, SECTOR, 0x0FFFFFFF, 0x0FFFFFFF)
    return bytes(disk)


def test_a_fat_file_system_is_named_as_unreadable_not_as_a_missing_file(tmp_path):
    image = tmp_path / "fs.img"
    image.write_bytes(fat_disk())
    with pytest.raises(PintosDiskError, match="FAT file system .*-DEFILESYS") as raised:
        PintosFileSystem(image).read("sample.txt")
    assert not isinstance(raised.value, PintosFileMissingError)


def test_a_missing_file_on_a_readable_disk_is_missing(tmp_path):
    image = tmp_path / "fs.img"
    image.write_bytes(pintos_fs({"hello": b"x"}))
    with pytest.raises(PintosFileMissingError, match="no file 'sample.txt'"):
        PintosFileSystem(image).read("sample.txt")


def test_adapter_tells_a_missing_file_from_an_unreadable_disk(adapter, tmp_path):
    disks = Disks(fs=tmp_path / "fs.img")
    disks.fs.write_bytes(pintos_fs({"hello": b"x"}))
    with pytest.raises(FileNotOnDiskError, match="sample.txt"):
        adapter.read_fs_file(disks, "sample.txt")
    disks.fs.write_bytes(fat_disk())
    with pytest.raises(HarnessError, match="FAT file system") as raised:
        adapter.read_fs_file(disks, "sample.txt")
    assert not isinstance(raised.value, FileNotOnDiskError)


def test_file_system_reader_rejects_a_file_outside_the_disk(tmp_path):
    data = bytearray(pintos_fs({"f": b"abc"}))
    struct.pack_into("<i", data, 200 * SECTOR + 4, 10 ** 6)   # f's length
    image = tmp_path / "fs.img"
    image.write_bytes(bytes(data))
    with pytest.raises(PintosDiskError, match="outside the disk"):
        PintosFileSystem(image).read("f")


# ---- the adapter: tree, command line, disks, QEMU arguments ----

@pytest.fixture
def tree(tmp_path):
    """A fake built Pintos-KAIST tree (a boot_sector() os.dsk, a kernel.o that is no ELF)."""
    return fake_pintos_tree(tmp_path / "pintos", built=True)


@pytest.fixture
def adapter(tmp_path):
    return fake_adapter(tmp_path / "pintos")


def test_spec_resolves_to_the_tree_root_also_from_its_vm_dir(tree):
    assert get_adapter(f"pintos-kaist:{tree}").tree == tree
    assert find_tree(tree / "vm") == tree
    # what a schedule records: `replay` and `debug --schedule` find the tree again
    assert get_adapter(f"pintos-kaist:{tree}/vm").spec == f"pintos-kaist:{tree}"
    with pytest.raises(UsageError, match="not a Pintos-KAIST tree"):
        find_tree(tree / "threads")
    with pytest.raises(UsageError, match="pintos-kaist:PATH"):
        get_adapter("pintos-kaist")


def test_cmdline_formats_and_runs_each_program(adapter):
    line = adapter.kernel_cmdline([["hello"], ["args", "a", "bc"]], user_page_limit=64)
    assert line == "-q -f -ul=64 run hello run 'args a bc'"


def test_kernel_words_put_files_between_options_and_actions():
    words = kernel_words("-q -f run 'args a b'", ("args", "sample.txt"))
    assert words == ["-q", "-f", "put", "args", "put", "sample.txt", "run", "args a b"]


def test_make_disks_and_qemu_args_boot_as_the_pintos_script_does(adapter, tmp_path):
    program = tmp_path / "hello"
    program.write_bytes(b"\x7fELF" + bytes(5000))
    disks = adapter.make_disks(tmp_path, {"hello": program}, {"sample.txt": b"abc"}, swap_mb=0)
    assert disks.puts == ("hello", "sample.txt")
    assert read_scratch(disks.scratch.read_bytes()) == [program.read_bytes(), b"abc"]
    assert disks.fs.stat().st_size == FS_MIN_BYTES
    assert disks.swap.stat().st_size == DEFAULT_SWAP_BYTES
    args = adapter.qemu_args(disks, adapter.kernel_cmdline([["hello", "x"]]), 24)
    assert args[:8] == ["-M", "pc", "-cpu", "qemu64", "-m", "24", "-nic", "none"]
    drives = [args[i + 1] for i, a in enumerate(args) if a == "-drive"]
    assert drives == [f"file={p},format=raw,if=ide,index={i}" for i, p in
                      enumerate((disks.boot, disks.fs, disks.scratch, disks.swap))]
    assert read_kernel_args(disks.boot.read_bytes()[:SECTOR]) == [
        "-q", "-f", "put", "hello", "put", "sample.txt", "run", "hello x"]
    assert (adapter.tree / "vm/build/os.dsk").read_bytes() == boot_sector()  # copy changed


def test_swap_disk_has_the_scenario_size(adapter, tmp_path):
    assert adapter.make_disks(tmp_path, {}, {"f": b""}, swap_mb=3).swap.stat().st_size == 3 << 20


def test_names_pintos_cannot_hold_are_usage_errors(adapter, tmp_path):
    with pytest.raises(UsageError, match="1..14 bytes"):
        adapter.make_disks(tmp_path, {}, {"a-very-long-file-name": b""}, swap_mb=0)


def test_too_long_kernel_arguments_are_a_usage_error(adapter, tmp_path):
    files = {f"file-number-{i:02}": b"" for i in range(8)}
    disks = adapter.make_disks(tmp_path, {}, files, swap_mb=0)
    with pytest.raises(UsageError, match="128 bytes"):
        adapter.qemu_args(disks, adapter.kernel_cmdline([["file-number-00"]]), 20)


def test_snapshot_disks_are_qcow2_overlays(adapter, tmp_path):
    disks = adapter.make_disks(tmp_path, {}, {"f": b"xyz"}, swap_mb=1, snapshots=True)
    assert disks.format == "qcow2" and disks.raw_fs == tmp_path / "fs.img"
    assert {p.suffix for p in (disks.boot, disks.fs, disks.scratch, disks.swap)} == {".qcow2"}
    adapter.qemu_args(disks, "-q -f run f", 20)
    assert read_kernel_args(disks.raw_boot.read_bytes()[:SECTOR])[-2:] == ["run", "f"]


def test_not_built_tree_is_reported_with_the_build_command(adapter):
    (adapter.tree / "vm/build/os.dsk").unlink()
    with pytest.raises(KernelNotBuiltError, match="noseparate-code"):
        adapter.check_built()


# ---- building ----

def test_build_failure_carries_the_compiler_error_and_the_flags(tree):
    (tree / "vm" / "Makefile").write_text(textwrap.dedent("""\
        all:
        \t@echo "CC is $(CC)"
        \t@echo "gcc -c ../../vm/vm.c"
        \t@echo "../../vm/vm.c:12:5: error: expected ';' before 'return'" >&2
        \t@false
        """))
    with pytest.raises(KernelBuildError) as caught:
        PintosKaistAdapter(tree, log=lambda m: None).build()
    message = str(caught.value)
    assert "vm/vm.c:12:5: error: expected ';'" in message
    assert BUILD_CC in message


def test_build_logs_the_flags_it_passes(tree):
    said = []
    PintosKaistAdapter(tree, log=said.append).build()
    assert BUILD_CC in said[0] and "-fcommon" in said[0]


def test_compiler_errors_keep_error_lines_else_the_tail():
    out = "gcc a.c\na.c:1: error: x\nld: undefined reference to `f'\nmake: *** [x] Error 1\n"
    assert compiler_errors(out).splitlines() == out.splitlines()[1:]
    assert compiler_errors("\n".join(f"line {i}" for i in range(40)), limit=3) == \
        "line 37\nline 38\nline 39"


def test_layout_mapping_file(tmp_path):
    good = tmp_path / "layout.toml"
    good.write_text('[spt]\ntable = "spt.pages"\nlink = "elem_spt"\n')
    assert load_layout_mapping(str(good)) == {"table": "spt.pages", "link": "elem_spt"}
    bad = tmp_path / "bad.toml"
    bad.write_text("table = 3\n")
    with pytest.raises(UsageError, match=r"\[spt\] table"):
        load_layout_mapping(str(bad))
    with pytest.raises(UsageError, match="cannot read"):
        load_layout_mapping(str(tmp_path / "missing.toml"))
    assert load_layout_mapping(None) is None


# ---- how a run ended ----

BOOT = "Pintos booting with:\nBoot complete.\nExecuting 'hello':\nhello: exit(0)\n"


def test_power_off_after_the_program(adapter):
    outcome = adapter.parse_exit(BOOT + "Timer: 54 ticks\nPowering off...\n", 0)
    assert outcome.ending is Ending.POWEROFF
    assert outcome.exits == [ProcessExit("hello", 0)]
    assert outcome.poweroff_line == "Powering off..."


def test_a_decorated_power_off_line_still_counts(adapter):
    outcome = adapter.parse_exit(BOOT + "This is Gabe! Powering off...\n", 0)
    assert outcome.ending is Ending.POWEROFF


def test_no_power_off_line_with_status_0_is_a_triple_fault(adapter):
    outcome = adapter.parse_exit(BOOT, 0)
    assert outcome.ending is Ending.TRIPLE_FAULT
    assert outcome.exits == [ProcessExit("hello", 0)]


def test_panic_wins_over_power_off_and_keeps_its_call_stack(adapter):
    console = (BOOT + "Kernel PANIC at ../../vm/vm.c:80 in vm_get_frame(): todo\n"
               "Call stack: 0x800421a1b2 0x8004207f3c.\nPowering off...\n")
    outcome = adapter.parse_exit(console, 0)
    assert outcome.ending is Ending.PANIC
    # kernel.o of the fake tree is no ELF: raw addresses, innermost first
    assert outcome.panic_line == ("Kernel PANIC at ../../vm/vm.c:80 in vm_get_frame(): todo "
                                  "[call stack: 0x800421a1b2 < 0x8004207f3c]")


def test_other_qemu_status_is_a_qemu_error(adapter):
    assert adapter.parse_exit(BOOT + "Powering off...\n", 1).ending is Ending.QEMU_ERROR
