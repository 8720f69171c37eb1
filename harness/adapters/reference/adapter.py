"""The adapter for vmcheck's own reference kernel (reference_kernel/).

Boot: QEMU's multiboot loader with `-kernel build/kernel/kernel32.elf`
(GDB gets kernel.elf), `-M pc -bios qboot.rom`, IDE disk 0 = VMFS file
system (harness/adapters/reference/fsimage.py), IDE disk 1 = raw swap. QEMU's exit status
says how it ended (isa-debug-exit, include/kernel/power.h): 33 power-off,
35 kernel panic, 0 triple fault (a reset under -no-reboot).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Sequence

from harness import config
from harness.adapters.reference import fsimage
from harness.adapters.base import (PINTOS_KAIST_LAYOUT, BootOutcome, Disks, Ending, InjectionSite,
                                   KernelAdapter, check_run_words, drive_arg, find_exits, find_panic,
                                   make_qcow2_overlay, raw_fs_image)
from harness.errors import (FileNotOnDiskError, HarnessError, KernelBuildError,
                            KernelNotBuiltError, UsageError)

QBOOT = Path("/usr/share/qemu/qboot.rom")
QEMU_STATUS_POWEROFF = 33   # (POWER_EXIT_OK 0x10 << 1) | 1
QEMU_STATUS_PANIC = 35      # (POWER_EXIT_PANIC 0x11 << 1) | 1
QEMU_STATUS_TRIPLE_FAULT = 0
POWEROFF_PREFIX = "vmcheck: poweroff "
FS_SLACK_BYTES = 2 << 20    # free space for files the programs create
MIN_FS_BYTES = fsimage.DEFAULT_SIZE_BYTES
BUILD_TIMEOUT_S = 600


# Every hook's caller fails the operation on a nonzero return
# (include/kernel/hooks.h), except the page-fault hook, which only observes.
_PAGE_FAULT_WHY = ("the reference kernel's page_fault hook only observes (vm/vm.c ignores its "
                   "return value): a forced failure there changes nothing")
UNOBSERVABLE = {"page_fault": {"fail": _PAGE_FAULT_WHY}}

# requests for the running thread only (struct vmcheck_thread_requests);
# the others are for the pool (struct vmcheck_requests)
THREAD_REQUESTS = ("preempt", "delay_ticks")

POWEROFF_COUNTS = re.compile(r"user_frames_free=(\d+)/(\d+) swap_slots_free=(\d+)/(\d+)"
                             r"(?: open_files=(\d+))?(?: vm_lock=(\d+) vmfs_lock=(\d+))?"
                             r"(?: heap_blocks=(\d+)/(\d+))?(?: swap_lock=(\d+))?")


def _lock_left(name: str, value: int) -> str:
    """What a lock whose semaphore counts VALUE (not 1) at power-off says."""
    if value == 0:
        return f"{name} still held"
    return (f"{name} released {value - 1} more time(s) than taken (its semaphore counts "
            f"{value}: it admits {value} threads at once)")


class ReferenceAdapter(KernelAdapter):
    name = "reference"
    boot_marker = r"^vmcheck: boot complete$"
    address_layout = PINTOS_KAIST_LAYOUT
    long_mode_symbol = "kmain"

    def inspector(self, debugger, symbols):
        from harness.adapters.reference.inspector import ReferenceInspector
        return ReferenceInspector(debugger, symbols, self.address_layout)

    def injection_symbol(self, point: str) -> str:
        return f"vmcheck_hook_{point}"   # kernel/hooks.h

    def injection_site(self, point: str) -> InjectionSite:
        """Every call of the hook; a forced return of 1 fails the operation
        (page_fault: nothing, see UNOBSERVABLE)."""
        return InjectionSite(self.injection_symbol(point),
                             unobservable=UNOBSERVABLE.get(point, {}))

    def request(self, debugger, field: str, value: int) -> None:
        """preempt / delay_ticks: into the running thread's own requests
        (struct thread's vmcheck_requests), which only that thread serves,
        at the hook it is stopped in; steal_frames / release_frames: into
        the pool-wide block `vmcheck_requests` (include/kernel/hooks.h)."""
        types = self.kernel_symbols().types
        if field in THREAD_REQUESTS:
            current = types.variable("vmcheck_current_thread")
            base = int.from_bytes(debugger.read_virt(current.address, 8), "little")
            struct, field = types.get("struct thread"), f"vmcheck_requests.{field}"
        else:
            var = types.variable("vmcheck_requests")
            base, struct = var.address, var.type
        size = struct.member(field).type.resolved().size
        debugger.write_virt(base + struct.offset_of(field),
                            value.to_bytes(size, "little", signed=True))

    def fault_sites(self, symbols) -> list:
        """The fault hook (every kill, panic and fix-up of a fault, and
        kernel-mode faults outside the user copies) and the panic hook, both
        on a page no routine code runs on."""
        from harness.adapters.fault_sites import HOOK, PANIC, FaultSite
        return [FaultSite(symbols.address_of("vmcheck_hook_fault"), HOOK),
                FaultSite(symbols.address_of("vmcheck_hook_panic"), PANIC,
                          "the kernel panicked")]

    def fault_entry(self, symbols):
        """page_fault() in arch/x86_64/exception.c."""
        from harness.adapters.fault_sites import handler_entry
        return handler_entry(symbols)

    def leak_problem(self, outcome: BootOutcome) -> str | None:
        if outcome.poweroff_line is None:
            return None
        m = POWEROFF_COUNTS.search(outcome.poweroff_line)
        if m is None:
            return f"unreadable power-off line: {outcome.poweroff_line!r}"
        frames_free, frames, slots_free, slots = map(int, m.groups()[:4])
        files = int(m.group(5) or 0)
        # heap blocks in use at power-off / at "boot complete"
        heap_left = int(m.group(8)) - int(m.group(9)) if m.group(8) is not None else 0
        left = [f"{count} {what}" for count, what in (
            (frames - frames_free, "user frames still in use"),
            (slots - slots_free, "swap slots still in use"),
            (files, "open file handles never closed"),
            (max(heap_left, 0), "kernel heap blocks never freed")) if count]
        left += [_lock_left(name, int(value)) for name, value in
                 (("the VM lock", m.group(6)), ("vmfs_lock", m.group(7)),
                  ("the swap map's lock", m.group(10)))
                 if value is not None and int(value) != 1]
        if not left:
            return None
        return (f"leak after every process ended: {', '.join(left)} (a correct kernel frees "
                f"every frame, slot and heap block it took for a process, closes every file "
                f"a process or its mappings held and leaves every lock free)")

    def __init__(self, build_dir: Path | None = None, kernel_dir: Path | None = None):
        """BUILD_DIR: the output of `make` (programs/, kernel/); KERNEL_DIR:
        another kernel build to boot instead of BUILD_DIR/kernel, e.g. the
        coverage build (`--kernel reference:build/kernel-cov`)."""
        self.build_dir = build_dir or config.build_dir()
        self.kernel_dir = kernel_dir or self.build_dir / "kernel"
        self.kernel_image = self.kernel_dir / "kernel32.elf"
        self.programs_dir = self.build_dir / "programs"

    @classmethod
    def from_spec(cls, argument: str | None) -> "ReferenceAdapter":
        """`reference` or `reference:KERNEL_BUILD_DIR` (a folder with
        kernel.elf and kernel32.elf, e.g. from `make -C reference_kernel
        O=DIR COVERAGE=1`)."""
        if argument is None:
            return cls()
        kernel_dir = Path(argument).resolve()
        if not kernel_dir.is_dir():
            raise UsageError(f"--kernel reference:{argument}: no such kernel build folder")
        return cls(kernel_dir=kernel_dir)

    @property
    def spec(self) -> str:
        default = self.build_dir / "kernel"
        return "reference" if self.kernel_dir == default else f"reference:{self.kernel_dir}"

    @property
    def symbol_file(self) -> Path:
        return self.kernel_dir / "kernel.elf"

    @property
    def source_root(self) -> Path:
        return config.REPO_ROOT / "reference_kernel"

    def build(self) -> None:
        try:
            done = subprocess.run(["make", "-C", str(config.REPO_ROOT), "all"],
                                  capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"`make all` did not finish in {BUILD_TIMEOUT_S} s") from None
        if done.returncode != 0:
            last = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise KernelBuildError(f"the reference kernel does not build (`make all`):\n{last}")

    def check_built(self) -> None:
        for path in (self.kernel_image, self.symbol_file):
            if not path.is_file():
                raise KernelNotBuiltError(f"reference kernel not built: {path} is missing (run `make`)")
        if not QBOOT.is_file():
            raise HarnessError(f"{QBOOT} is missing (install qemu-system-x86, e.g. `make deps`)")

    def find_program(self, name_or_path: str) -> Path:
        """NAME_OR_PATH as a host file if it is one, else build/programs/NAME."""
        given = Path(name_or_path)
        if given.is_file():
            return given
        built = self.programs_dir / name_or_path
        if "/" not in name_or_path and built.is_file():
            return built
        raise UsageError(f"no program {name_or_path!r}: not a file, and not in {self.programs_dir} "
                         "(run `make programs`)")

    def swap_disk_bytes(self, swap_mb: int) -> int:
        return max(swap_mb, 0) << 20

    def make_disks(self, run_dir: Path, programs: dict[str, Path], files: dict[str, bytes],
                   swap_mb: int, snapshots: bool = False) -> Disks:
        contents = dict(files)
        for name, host_path in programs.items():
            if name in contents:
                raise UsageError(f"file name {name!r} is given twice")
            try:
                contents[name] = host_path.read_bytes()
            except OSError as e:
                raise UsageError(f"cannot read {host_path}: {e.strerror}") from None
        fs_path = run_dir / "fs.img"
        try:
            fsimage.create_image(fs_path, contents, _fs_size(contents))
        except fsimage.FsImageError as e:
            raise UsageError(f"cannot make the file-system disk: {e}") from None
        swap_path = _make_swap(run_dir, swap_mb)
        if not snapshots:
            return Disks(fs=fs_path, swap=swap_path)
        swap_overlay = make_qcow2_overlay(swap_path) if swap_path else None
        return Disks(fs=make_qcow2_overlay(fs_path), swap=swap_overlay, format="qcow2",
                     raw_fs=fs_path)

    def kernel_cmdline(self, runs: Sequence[Sequence[str]],
                       user_page_limit: int | None = None) -> str:
        check_run_words(runs)
        words = []
        if user_page_limit is not None:
            if user_page_limit < 0:
                raise UsageError(f"user page limit must be >= 0, not {user_page_limit}")
            words.append(f"-ul={user_page_limit}")
        for run in runs:
            words.append(f"run '{' '.join(run)}'")
        return " ".join(words)

    def qemu_args(self, disks: Disks, cmdline: str, mem_mb: int) -> list[str]:
        """The machine: a PC without ACPI (the kernel powers off through
        isa-debug-exit and reads no ACPI table; without them QEMU builds
        none and qboot loads none: 12.6 -> 7.8 ms from reset to the
        kernel's entry, `make bench` boot breakdown), qboot, the kernel
        by multiboot, the file-system disk and the swap disk."""
        args = ["-M", "pc,acpi=off", "-bios", str(QBOOT), "-m", str(mem_mb),
                "-kernel", str(self.kernel_image), "-append", cmdline,
                "-nic", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        args += drive_arg(disks.fs, disks.format, 0)
        if disks.swap is not None:
            args += drive_arg(disks.swap, disks.format, 1)
        return args

    def parse_exit(self, console: str, qemu_status: int) -> BootOutcome:
        endings = {QEMU_STATUS_POWEROFF: Ending.POWEROFF, QEMU_STATUS_PANIC: Ending.PANIC,
                   QEMU_STATUS_TRIPLE_FAULT: Ending.TRIPLE_FAULT}
        poweroff = [line for line in console.splitlines() if line.startswith(POWEROFF_PREFIX)]
        return BootOutcome(ending=endings.get(qemu_status, Ending.QEMU_ERROR),
                           qemu_status=qemu_status, exits=find_exits(console),
                           panic_line=self.with_call_stack(find_panic(console), console),
                           poweroff_line=poweroff[-1] if poweroff else None)

    def read_fs_file(self, disks: Disks, name: str) -> bytes:
        image = raw_fs_image(disks)
        try:
            return fsimage.read_file(image, name)
        except fsimage.FileNotInImageError as e:
            raise FileNotOnDiskError(f"{name!r} is not on the file-system disk: {e}") from None
        except fsimage.FsImageError as e:
            raise HarnessError(f"cannot read {name!r} back from the file-system disk: {e}") from None


def _fs_size(contents: dict[str, bytes]) -> int:
    """Image size: the files plus FS_SLACK_BYTES, rounded up to 1 MiB."""
    mib = 1 << 20
    needed = sum(len(data) for data in contents.values()) + FS_SLACK_BYTES
    return max(MIN_FS_BYTES, -(-needed // mib) * mib)


def _make_swap(run_dir: Path, swap_mb: int) -> Path | None:
    """A zero-filled (sparse) raw swap disk of SWAP_MB MiB, None if 0."""
    if swap_mb < 0:
        raise UsageError(f"swap size must be >= 0 MB, not {swap_mb}")
    if swap_mb == 0:
        return None
    path = run_dir / "swap.img"
    with open(path, "wb") as f:
        f.truncate(swap_mb << 20)
    return path
