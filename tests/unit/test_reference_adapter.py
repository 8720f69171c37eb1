"""The reference-kernel adapter: command line, QEMU arguments, disks, and
reading how a run ended. No QEMU needed (qemu-img for the qcow2 case)."""

from __future__ import annotations

import pytest

from harness.adapters.reference import fsimage
from harness.adapters import get_adapter
from harness.adapters.base import Disks, Ending
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.errors import KernelNotBuiltError, UsageError


@pytest.fixture
def adapter(tmp_path):
    return ReferenceAdapter(build_dir=tmp_path / "build")


def test_cmdline_runs_each_program_in_order(adapter):
    line = adapter.kernel_cmdline([["hello"], ["args", "a", "bc"]], user_page_limit=64)
    assert line == "-ul=64 run 'hello' run 'args a bc'"


@pytest.mark.parametrize("runs", [[], [[]], [["args", "two words"]], [["args", "it's"]],
                                  [["args", ""]]])
def test_cmdline_rejects_what_the_kernel_cannot_carry(adapter, runs):
    with pytest.raises(UsageError):
        adapter.kernel_cmdline(runs)


def test_qemu_args_boot_the_multiboot_image_with_the_disks(adapter, tmp_path):
    disks = Disks(fs=tmp_path / "a,b" / "fs.img", swap=tmp_path / "swap.img")
    args = adapter.qemu_args(disks, "run 'hello'", 24)
    assert args[args.index("-kernel") + 1] == str(adapter.kernel_image)
    assert args[args.index("-append") + 1] == "run 'hello'"
    assert args[args.index("-m") + 1] == "24"
    assert args[args.index("-bios") + 1] == "/usr/share/qemu/qboot.rom"
    drives = [args[i + 1] for i, a in enumerate(args) if a == "-drive"]
    assert drives == [f"file={tmp_path}/a,,b/fs.img,format=raw,if=ide,index=0",
                      f"file={tmp_path}/swap.img,format=raw,if=ide,index=1"]
    assert "isa-debug-exit,iobase=0xf4,iosize=0x04" in args


def test_no_swap_disk_without_swap(adapter, tmp_path):
    args = adapter.qemu_args(Disks(fs=tmp_path / "fs.img"), "", 20)
    assert sum(a == "-drive" for a in args) == 1


def test_make_disks_puts_programs_and_files_and_sizes_swap(adapter, tmp_path):
    program = tmp_path / "hello"
    program.write_bytes(b"\x7fELF" + bytes(5000))
    disks = adapter.make_disks(tmp_path, {"hello": program}, {"data.txt": b"abc"}, swap_mb=3)
    assert fsimage.list_files(disks.fs) == {"hello": 5004, "data.txt": 3}
    assert disks.swap.stat().st_size == 3 << 20
    assert adapter.read_fs_file(disks, "data.txt") == b"abc"


def test_snapshot_disks_are_qcow2_overlays_that_read_back(adapter, tmp_path):
    disks = adapter.make_disks(tmp_path, {}, {"f": b"xyz"}, swap_mb=1, snapshots=True)
    assert disks.format == "qcow2" and disks.fs.suffix == ".qcow2"
    assert disks.swap.suffix == ".qcow2"
    assert adapter.read_fs_file(disks, "f") == b"xyz"


def test_make_disks_rejects_a_bad_file_name(adapter, tmp_path):
    with pytest.raises(UsageError, match="file-system disk"):
        adapter.make_disks(tmp_path, {}, {"a-name-longer-than-14": b""}, swap_mb=0)


def test_parse_clean_power_off(adapter):
    console = ("hello, world\nhello: exit(0)\n"
               "vmcheck: poweroff user_frames_free=10/10 swap_slots_free=0/0\n")
    outcome = adapter.parse_exit(console, 33)
    assert outcome.ending is Ending.POWEROFF
    assert outcome.status_of("hello") == 0
    assert outcome.poweroff_line.endswith("swap_slots_free=0/0")
    assert outcome.panic_line is None


def test_parse_panic_triple_fault_and_qemu_error(adapter):
    panic = adapter.parse_exit("boot\nKernel PANIC at vm/vm.c:10 in f(): boom\n", 35)
    assert panic.ending is Ending.PANIC
    assert panic.panic_line == "Kernel PANIC at vm/vm.c:10 in f(): boom"
    assert adapter.parse_exit("", 0).ending is Ending.TRIPLE_FAULT
    assert adapter.parse_exit("", 1).ending is Ending.QEMU_ERROR


def test_status_of_prefers_the_program_name_then_the_last_exit(adapter):
    outcome = adapter.parse_exit("child: exit(3)\nforktree: exit(-1)\nother: exit(7)\n", 33)
    assert outcome.status_of("forktree") == -1
    assert outcome.status_of("renamed") == 7
    assert adapter.parse_exit("no exits\n", 33).status_of("x") is None


def test_find_program_by_path_or_built_name(adapter, tmp_path):
    (adapter.programs_dir).mkdir(parents=True)
    (adapter.programs_dir / "hello").write_bytes(b"x")
    own = tmp_path / "mine"
    own.write_bytes(b"y")
    assert adapter.find_program("hello") == adapter.programs_dir / "hello"
    assert adapter.find_program(str(own)) == own
    with pytest.raises(UsageError, match="no program 'nope'"):
        adapter.find_program("nope")


def test_check_built_names_the_missing_kernel(adapter):
    with pytest.raises(KernelNotBuiltError, match="kernel32.elf is missing") as info:
        adapter.check_built()
    assert info.value.exit_code == 3


@pytest.mark.parametrize("spec", ["no-such-kernel", "reference:extra"])
def test_get_adapter_rejects_bad_specs(spec):
    with pytest.raises(UsageError):
        get_adapter(spec)


def test_get_adapter_reference():
    assert isinstance(get_adapter("reference"), ReferenceAdapter)
