"""The adapter for Pintos-KAIST kernels: `--kernel pintos-kaist:PATH`, where
PATH is a student's source tree (its root, with threads/, userprog/, vm/).

Build: `make` in PATH/vm with CC="gcc -fcommon -Wl,-z,noseparate-code"
(BUILD_CC; trees written for gcc 7 define globals in headers, and ld 2.40
otherwise adds a read-only segment on the text page of user programs).
Products: vm/build/os.dsk (loader sector + kernel) and vm/build/kernel.o
(the kernel ELF with debug info, for GDB).

Boot, as Pintos-KAIST's own `pintos` script does it: `-M pc` with its
default BIOS (the loader is a boot sector read by the BIOS), `-cpu qemu64`,
four IDE disks (harness/adapters/pintos_kaist/disks.py): boot disk with the
kernel arguments written in, file-system disk, scratch disk, swap disk.
The file-system disk is written here already formatted with the programs
and data files in it (fs_image.py) when the kernel's file system is the
stock one (fs_format.py); the kernel arguments are then `-q [-ul=N] run
'PROG ARGS'...`. Otherwise (or with VMCHECK_PINTOS_FS=put) as the
`pintos` script does it: a blank disk formatted by `-f`, a scratch disk
with the files that `put` actions copy in, `-q -f [-ul=N] put NAME...
run 'PROG ARGS'...`. 128 bytes of arguments at most.

End of a run: the kernel powers off through the ACPI port (QEMU exits 0)
after printing "Powering off..." (in a line of its own, which some trees
decorate), also after a panic (-q). QEMU also exits 0 after a triple fault
under -no-reboot, so the console decides: a "Kernel PANIC" line is a
panic, "Powering off..." a power-off, neither a triple fault.
"""

from __future__ import annotations

import fcntl
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from harness.adapters.base import (PINTOS_KAIST_LAYOUT, BootOutcome, Disks, Ending, KernelAdapter,
                                   check_run_words, drive_arg, find_exits, find_panic,
                                   make_qcow2_overlay, raw_fs_image)
from harness.adapters.pintos_kaist.fs_format import NotStockFs, StockFs, stock_fs
from harness.adapters.pintos_kaist.fs_image import write_formatted_disk
from harness.adapters.pintos_kaist.disks import (DISK_UNIT_BYTES, PintosDiskError,
                                                 PintosFileMissingError, PintosFileSystem,
                                                 blank_disk, check_file_name, scratch_image,
                                                 write_kernel_args)
from harness.errors import (FileNotOnDiskError, HarnessError, KernelBuildError,
                            KernelNotBuiltError, UsageError)

BUILD_CC = "gcc -fcommon -Wl,-z,noseparate-code"
BUILD_TIMEOUT_S = 900
FS_MIN_BYTES = 10 * DISK_UNIT_BYTES     # Pintos-KAIST tests: --fs-disk=10
FS_SLACK_BYTES = 2 << 20
DEFAULT_SWAP_BYTES = 4 * DISK_UNIT_BYTES  # Pintos-KAIST tests: SWAP_DISK = 4
# power_off() prints this before the ACPI write (some trees decorate the line).
POWEROFF_TEXT = re.compile(r"^.*Powering off\.\.\..*$", re.MULTILINE)
LAYOUT_ENV = "VMCHECK_PINTOS_LAYOUT"
FS_ENV = "VMCHECK_PINTOS_FS"            # prebuilt (the default) or put
FS_MODES = ("prebuilt", "put")


@dataclass
class PintosDisks(Disks):
    """Disks of one Pintos-KAIST run. fs and swap as in Disks (IDE 1 and 3
    here); boot (IDE 0) and scratch (IDE 2); PUTS are the file names the
    scratch disk holds, in order; RAW_BOOT is the raw boot image the
    kernel arguments are written into (under a qcow2 overlay if any);
    FORMATTED: the file-system disk was written formatted (no `-f`)."""

    boot: Optional[Path] = None
    scratch: Optional[Path] = None
    puts: tuple = ()
    raw_boot: Optional[Path] = None
    formatted: bool = False


def _say(message: str) -> None:
    print(f"vmcheck: pintos-kaist: {message}", file=sys.stderr, flush=True)


class PintosKaistAdapter(KernelAdapter):
    name = "pintos-kaist"
    boot_marker = r"Boot complete\."   # some trees decorate the line
    address_layout = PINTOS_KAIST_LAYOUT
    long_mode_symbol = "main"
    # devices/disk.c: the two IDE channels raise IRQ 14 and 15, at 0x20 + IRQ
    disk_irq_vectors = (0x2E, 0x2F)

    def __init__(self, tree: Path, layout_mapping: Optional[dict] = None,
                 log: Callable[[str], None] = _say, fs_mode: Optional[str] = None):
        self.tree = tree
        self.build_dir = tree / "vm" / "build"
        self.boot_image = self.build_dir / "os.dsk"
        self.layout_mapping = layout_mapping
        self.log = log
        fs_mode = fs_mode or os.environ.get(FS_ENV) or "prebuilt"
        if fs_mode not in FS_MODES:
            raise UsageError(f"{FS_ENV}={fs_mode}: expected one of {', '.join(FS_MODES)}")
        self.fs_mode = fs_mode
        self._fs_format: Optional[StockFs | str] = None

    @classmethod
    def from_spec(cls, argument: str | None) -> "PintosKaistAdapter":
        if not argument:
            raise UsageError("--kernel pintos-kaist needs the tree: pintos-kaist:PATH")
        return cls(find_tree(Path(argument)), load_layout_mapping(os.environ.get(LAYOUT_ENV)))

    @property
    def spec(self) -> str:
        """`pintos-kaist:TREE` (the tree's resolved path): what a schedule
        records, so that `replay` and `debug --schedule` find the tree."""
        return f"{self.name}:{self.tree}"

    @property
    def symbol_file(self) -> Path:
        return self.build_dir / "kernel.o"

    @property
    def source_root(self) -> Path:
        return self.tree

    @property
    def programs_dir(self) -> Path:
        """Where our user programs are (the reference build's; see find_program)."""
        from harness.adapters.reference.adapter import ReferenceAdapter
        return ReferenceAdapter().programs_dir

    # ---- build ----

    def build_command(self) -> list:
        """The command that builds the tree (in any working directory)."""
        return ["make", "-C", str(self.tree / "vm"), f"CC={BUILD_CC}"]

    def build(self) -> None:
        """`make` in TREE/vm; KernelBuildError with the compiler's errors.
        Builds of one tree are serialised (a lock on vm/Makefile), so
        pytest workers or parallel commands never run make there at once."""
        command = self.build_command()
        self.log(f"building {self.tree / 'vm'}: make CC='{BUILD_CC}' (-fcommon: gcc-7-era "
                 "globals in headers; -z noseparate-code: one text segment in user programs)")
        try:
            with open(self.tree / "vm" / "Makefile", "rb") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                done = subprocess.run(command, capture_output=True, text=True,
                                      timeout=BUILD_TIMEOUT_S)
        except FileNotFoundError:
            raise HarnessError("make not found (install make and gcc, e.g. `make deps`)") from None
        except subprocess.TimeoutExpired:
            raise KernelBuildError(f"building {self.tree} did not finish in "
                                   f"{BUILD_TIMEOUT_S} s") from None
        if done.returncode != 0:
            raise KernelBuildError(f"the Pintos-KAIST tree {self.tree} does not build "
                                   f"(`{shlex.join(command)}`):\n"
                                   + compiler_errors(done.stdout + done.stderr))

    def prepare(self) -> None:
        """Builds the tree (a no-op when it is up to date), then checks it."""
        self.build()
        self.check_built()

    def check_built(self) -> None:
        for path in (self.boot_image, self.symbol_file):
            if not path.is_file():
                raise KernelNotBuiltError(f"Pintos-KAIST tree not built: {path} is missing "
                                          f"(run `make CC='{BUILD_CC}'` in {self.tree / 'vm'})")

    def find_program(self, name_or_path: str) -> Path:
        """Our user programs (build/programs/NAME) follow the Pintos-KAIST
        ABI: the same lookup as the reference kernel's."""
        from harness.adapters.reference.adapter import ReferenceAdapter
        return ReferenceAdapter().find_program(name_or_path)

    # ---- disks and command line ----

    def swap_disk_bytes(self, swap_mb: int) -> int:
        return swap_mb << 20 if swap_mb else DEFAULT_SWAP_BYTES

    def make_disks(self, run_dir: Path, programs: dict[str, Path], files: dict[str, bytes],
                   swap_mb: int, snapshots: bool = False) -> PintosDisks:
        """Boot disk (a copy of os.dsk), file-system disk holding PROGRAMS
        then FILES (_fs_disk), swap disk of SWAP_MB MiB (0: the 4 MB the
        Pintos-KAIST tests use, as these kernels expect a swap disk)."""
        contents = _disk_contents(programs, files)
        if swap_mb < 0:
            raise UsageError(f"swap size must be >= 0 MB, not {swap_mb}")
        self.check_built()
        boot = run_dir / "boot.img"
        shutil.copyfile(self.boot_image, boot)
        fs, formatted = self._fs_disk(run_dir / "fs.img", contents)
        scratch = run_dir / "scratch.img"
        scratch.write_bytes(scratch_image([] if formatted else contents.values()))
        swap = blank_disk(run_dir / "swap.img", self.swap_disk_bytes(swap_mb))
        disks = PintosDisks(fs=fs, swap=swap, boot=boot, scratch=scratch, raw_boot=boot,
                            puts=() if formatted else tuple(contents), formatted=formatted)
        if snapshots:
            disks.format, disks.raw_fs = "qcow2", fs
            disks.boot, disks.fs, disks.scratch, disks.swap = (
                make_qcow2_overlay(p) for p in (boot, fs, scratch, swap))
        return disks

    def _fs_disk(self, path: Path, contents: dict[str, bytes]) -> tuple[Path, bool]:
        """The file-system disk at PATH and whether it is formatted: the
        stock file system holding CONTENTS (fs_image.py), else blank for
        `-f` and `put` (VMCHECK_PINTOS_FS=put, a kernel whose file system
        is not the stock one, files the stock one could not hold)."""
        needed = sum(len(data) for data in contents.values()) + FS_SLACK_BYTES
        size = max(FS_MIN_BYTES, needed)
        fs = self.stock_fs()
        if isinstance(fs, StockFs):
            try:
                return write_formatted_disk(path, size, list(contents.items()), fs), True
            except PintosDiskError as e:
                self.log(f"the files are put by the kernel (-f, put): {e}")
        return blank_disk(path, size), False

    def stock_fs(self) -> StockFs | str:
        """The kernel's StockFs, or why the disk is formatted by `-f`
        (said once in the log). Decided once per adapter."""
        if self._fs_format is None:
            if self.fs_mode == "put":
                self._fs_format = f"{FS_ENV}=put"
            else:
                try:
                    self._fs_format = stock_fs(self.kernel_symbols(), self.tree)
                except NotStockFs as e:
                    self._fs_format = str(e)
                except Exception as e:  # noqa: BLE001 - an unreadable kernel.o: the kernel formats
                    self._fs_format = f"cannot read {self.symbol_file}: {e}"
            if isinstance(self._fs_format, str):
                self.log(f"the kernel formats its file-system disk and puts the files "
                         f"(-f, put): {self._fs_format}")
        return self._fs_format

    def kernel_cmdline(self, runs: Sequence[Sequence[str]],
                       user_page_limit: int | None = None) -> str:
        """`-q -f [-ul=N] run 'PROG ARGS'...` in the `pintos` script's
        syntax; qemu_args adds the put actions (or drops `-f` for a disk
        written formatted) and writes it to the boot disk."""
        check_run_words(runs)
        words = ["-q", "-f"]
        if user_page_limit is not None:
            if user_page_limit < 0:
                raise UsageError(f"user page limit must be >= 0, not {user_page_limit}")
            words.append(f"-ul={user_page_limit}")
        words += [f"run {shlex.quote(' '.join(run))}" for run in runs]
        return " ".join(words)

    def qemu_args(self, disks: Disks, cmdline: str, mem_mb: int) -> list[str]:
        if not isinstance(disks, PintosDisks):
            raise HarnessError("pintos-kaist: qemu_args needs the disks from its make_disks")
        words = kernel_words(cmdline, disks.puts, disks.formatted)
        try:
            write_kernel_args(disks.raw_boot, words)
        except PintosDiskError as e:
            raise UsageError(f"pintos-kaist: {e}") from None
        args = ["-M", "pc", "-cpu", "qemu64", "-m", str(mem_mb), "-nic", "none"]
        for index, path in enumerate((disks.boot, disks.fs, disks.scratch, disks.swap)):
            args += drive_arg(path, disks.format, index)
        return args

    # ---- end of a run ----

    def parse_exit(self, console: str, qemu_status: int) -> BootOutcome:
        panic = find_panic(console)
        powered_off = POWEROFF_TEXT.search(console)
        if qemu_status != 0:
            ending = Ending.QEMU_ERROR
        elif panic is not None:
            ending = Ending.PANIC
            panic = self.with_call_stack(panic, console)
        elif powered_off:
            ending = Ending.POWEROFF
        else:
            ending = Ending.TRIPLE_FAULT
        return BootOutcome(ending=ending, qemu_status=qemu_status, exits=find_exits(console),
                           panic_line=panic,
                           poweroff_line=powered_off.group(0).strip() if powered_off else None)

    def read_fs_file(self, disks: Disks, name: str) -> bytes:
        image = raw_fs_image(disks)
        try:
            return PintosFileSystem(image).read(name)
        except PintosFileMissingError as e:
            raise FileNotOnDiskError(str(e)) from None
        except PintosDiskError as e:
            raise HarnessError(f"cannot read {name!r} back from the file-system disk: {e}") from None

    # ---- debugger side ----

    def exact_disk(self, disks: Disks, ram_size: int):
        """A PintosExactDisk serving the four disks of DISKS; ExactDiskUnavailable
        saying why the device must serve them (a driver the exact disk
        cannot stand in for, images that are not raw)."""
        from harness.adapters.exact_disk import ExactDiskUnavailable
        from harness.adapters.pintos_kaist.driver import DriverNotServable, driver_layout
        from harness.adapters.pintos_kaist.exact_disk import PintosExactDisk
        from harness.machine.sector_disks import DiskRequestError, SectorDisks
        if not isinstance(disks, PintosDisks):
            raise HarnessError("pintos-kaist: exact_disk needs the disks from its make_disks")
        try:
            layout = driver_layout(self.kernel_symbols())
            images = SectorDisks.open(dict(enumerate(
                (disks.boot, disks.fs, disks.scratch, disks.swap))), disks.format)
        except (DriverNotServable, DiskRequestError) as e:
            raise ExactDiskUnavailable(str(e)) from None
        return PintosExactDisk(layout, images, ram_size, self.address_layout.kern_base)

    boot_shortcut_names = ("boot_snapshot", "calibration")

    def boot_shortcuts(self, options, build: str, disks: Disks, guest_args: list[str],
                       names) -> tuple[list, list[str]]:
        """The boot from a snapshot at main (boot_snapshot.py), then
        timer_calibrate() stood in for (calibration.py); each decided per
        run, its probe run once per kernel build and machine. What they
        read from the build is read once per version of its files
        (file_memo): the boot disk's digest is os.dsk's (make_disks copies
        it and writes only the arguments, which the digest leaves out)."""
        from harness.adapters.pintos_kaist.boot_snapshot import boot_image_digest, boot_snapshot
        from harness.adapters.pintos_kaist.calibration import calibration_shortcut, stock_or_why
        memo = self.file_memo
        offers = {
            "boot_snapshot": lambda: boot_snapshot(
                self, options, build, disks, guest_args,
                boot_digest=memo.get("boot_image_digest", self.boot_image, boot_image_digest)),
            "calibration": lambda: calibration_shortcut(
                self, options, build, stock=memo.get(
                    "stock_calibration", self.symbol_file,
                    lambda _: stock_or_why(self.kernel_symbols())))}
        shortcuts, why_not = [], []
        for name in self.boot_shortcut_names:
            if name in names:
                shortcut, why = offers[name]()
                if shortcut is not None:
                    shortcuts.append(shortcut)
                elif why:
                    why_not.append(f"{name}: {why}")
        return shortcuts, why_not

    def inspector(self, debugger, symbols):
        from harness.adapters.pintos_kaist.inspector import PintosInspector
        return PintosInspector(debugger, symbols, self.address_layout, self.layout_mapping)

    def fault_sites(self, symbols) -> list:
        from harness.adapters.pintos_kaist.fault_sites import pintos_fault_sites
        return pintos_fault_sites(symbols)

    def fault_entry(self, symbols):
        """page_fault() in userprog/exception.c (the handler fault_sites decodes)."""
        from harness.adapters.fault_sites import handler_entry
        from harness.adapters.pintos_kaist.fault_sites import HANDLER
        return handler_entry(symbols, HANDLER)

    def injection_site(self, point: str):
        """Pintos-KAIST functions for the abstract points (pintos_points.py)."""
        from harness.adapters.pintos_kaist.points import injection_site
        return injection_site(self.kernel_symbols(), point)

    def injection_symbol(self, point: str) -> str:
        return self.injection_site(point).symbol

    def injection_unobservable(self, point: str, kind: str) -> str | None:
        """From the ABI (points.UNOBSERVABLE), without the kernel's symbols:
        decided before the tree is built or booted."""
        from harness.adapters.pintos_kaist.points import unobservable_kinds
        return unobservable_kinds(point).get(kind)

    def injection_unaimed(self, point: str) -> str | None:
        """From the functions' parameters (points.AIMED_BY), without symbols."""
        from harness.adapters.pintos_kaist.points import unaimed_reason
        return unaimed_reason(point)

    def open_choices(self) -> dict:
        """What the assignment leaves to the student (assignment.py)."""
        from harness.adapters.pintos_kaist.assignment import OPEN_CHOICES
        return OPEN_CHOICES

    def request(self, debugger, field: str, value: int) -> None:
        """Only "preempt": ends the running thread's time slice (pintos_points.py)."""
        from harness.adapters.pintos_kaist.points import request
        request(self.kernel_symbols(), debugger, field, value)


def find_tree(path: Path) -> Path:
    """The root of the Pintos-KAIST tree at PATH (PATH itself, or the parent
    of a vm/ directory given instead); UsageError if it is not one."""
    path = path.expanduser().resolve()
    root = path.parent if path.name == "vm" else path
    if (root / "vm" / "Makefile").is_file() and (root / "threads").is_dir():
        return root
    raise UsageError(f"--kernel pintos-kaist:{path}: not a Pintos-KAIST tree "
                     "(expected vm/Makefile and threads/ under it)")


def load_layout_mapping(path: Optional[str]) -> Optional[dict]:
    """The [spt] table of the TOML file at PATH (see pintos_spt), or None."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise UsageError(f"{LAYOUT_ENV}={path}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{LAYOUT_ENV}={path}: not valid TOML: {e}") from None
    table = data.get("spt")
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise UsageError(f"{LAYOUT_ENV}={path}: expected an [spt] table of strings")
    return table


def kernel_words(cmdline: str, puts: Sequence[str], formatted: bool = False) -> list[str]:
    """The kernel's argument words: the options of CMDLINE (without `-f`
    if the disk is FORMATTED), a `put NAME` action per scratch file, then
    CMDLINE's actions."""
    try:
        words = shlex.split(cmdline)
    except ValueError as e:
        raise UsageError(f"pintos-kaist: bad kernel command line {cmdline!r}: {e}") from None
    options = 0
    while options < len(words) and words[options].startswith("-"):
        options += 1
    put_words = [word for name in puts for word in ("put", name)]
    kept = [word for word in words[:options] if not (formatted and word == "-f")]
    return kept + put_words + words[options:]


def _disk_contents(programs: dict[str, Path], files: dict[str, bytes]) -> dict[str, bytes]:
    """Name on the Pintos disk -> contents; UsageError for names Pintos
    cannot hold, duplicates, unreadable programs."""
    contents: dict[str, bytes] = {}
    for name, host_path in programs.items():
        try:
            contents[name] = host_path.read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {host_path}: {e.strerror}") from None
    for name, data in files.items():
        if name in contents:
            raise UsageError(f"file name {name!r} is given twice")
        contents[name] = data
    for name in contents:
        try:
            check_file_name(name)
        except PintosDiskError as e:
            raise UsageError(f"pintos-kaist: {e}") from None
    return contents


def compiler_errors(output: str, limit: int = 25) -> str:
    """The lines of a failed build that say why: compiler/linker errors
    with a line of context, else the last lines."""
    lines = output.rstrip().splitlines()
    wanted = re.compile(r"error|undefined reference|multiple definition|\*\*\*", re.IGNORECASE)
    picked = [line for line in lines if wanted.search(line)]
    return "\n".join((picked or lines)[-limit:])
