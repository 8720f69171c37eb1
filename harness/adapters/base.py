"""What the harness needs to know about one kernel family (KernelAdapter),
and the kernel-independent shapes it answers with (Disks, BootOutcome).

The machine layer (harness/machine/qemu.py) knows QEMU; an adapter knows how a
kernel is built, how it boots a program (disks, command line, QEMU
arguments) and how to read the end of a run from its console and QEMU's
exit status. Debugger-side knowledge (symbols, SPT layout, injection
points) is added to adapters by the modules that need it.
"""

from __future__ import annotations

import enum
import threading
import re
import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from harness.errors import HarnessError, UsageError
from oracles.model.address_layout import AddressLayout

# "NAME: exit(STATUS)": printed by the kernel when a process ends
# (Pintos-KAIST's format; the reference kernel prints the same).
EXIT_LINE = re.compile(r"^([^\s:]+): exit\((-?\d+)\)\s*$", re.MULTILINE)
PANIC_LINE = re.compile(r"^.*Kernel PANIC.*$", re.MULTILINE)
# What both kernels print after the panic line: return addresses, innermost first.
CALL_STACK = re.compile(r"^Call stack:((?:\s+0x[0-9a-fA-F]+)+)", re.MULTILINE)


class Ending(enum.Enum):
    """How the machine stopped."""

    POWEROFF = "power-off"          # the kernel shut the machine down itself
    PANIC = "kernel panic"
    TRIPLE_FAULT = "triple fault"   # CPU reset; QEMU exits under -no-reboot
    QEMU_ERROR = "QEMU error"       # QEMU failed: an infrastructure problem


@dataclass(frozen=True)
class ProcessExit:
    name: str
    status: int


@dataclass
class BootOutcome:
    """The end of one boot as read from the console and QEMU's exit status."""

    ending: Ending
    qemu_status: int
    exits: list[ProcessExit] = field(default_factory=list)
    panic_line: str | None = None
    poweroff_line: str | None = None

    def status_of(self, program: str) -> int | None:
        """Exit status of the last process named PROGRAM, else of the last
        process that exited at all (a program that exec'd has a new name),
        None if no process exited."""
        named = [e for e in self.exits if e.name == program]
        chosen = named or self.exits
        return chosen[-1].status if chosen else None


def find_exits(console: str) -> list[ProcessExit]:
    return [ProcessExit(m.group(1), int(m.group(2))) for m in EXIT_LINE.finditer(console)]


def find_panic(console: str) -> str | None:
    match = PANIC_LINE.search(console)
    return match.group(0).strip() if match else None


@dataclass
class Disks:
    """Disk images of one run, all inside its run directory. FORMAT is
    "raw", or "qcow2" for snapshot-capable overlays over the raw files."""

    fs: Path
    swap: Path | None = None
    format: str = "raw"
    raw_fs: Path | None = None   # the raw file under a qcow2 overlay


def qemu_img(*args: str) -> None:
    """Runs qemu-img; HarnessError with its stderr on failure."""
    try:
        done = subprocess.run(["qemu-img", *args], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise HarnessError("qemu-img not found (install qemu-utils, e.g. `make deps`)") from None
    except subprocess.TimeoutExpired:
        raise HarnessError(f"qemu-img {' '.join(args)} did not finish in 60 s") from None
    if done.returncode != 0:
        raise HarnessError(f"qemu-img {' '.join(args)} failed: {done.stderr.strip()}")


def raw_fs_image(disks) -> Path:
    """The file-system disk of DISKS as a raw image (a qcow2 overlay, as
    snapshot runs use, is exported next to it first)."""
    if disks.format == "raw":
        return disks.fs
    image = disks.fs.with_name(disks.fs.stem + "-export.img")
    qemu_img("convert", "-O", "raw", str(disks.fs), str(image))
    return image


def make_qcow2_overlay(raw: Path) -> Path:
    """A qcow2 file next to RAW that reads RAW and keeps all writes (and
    savevm snapshots) to itself."""
    overlay = raw.with_suffix(".qcow2")
    qemu_img("create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(raw), str(overlay))
    return overlay


def drive_arg(path: Path, fmt: str, index: int) -> list[str]:
    """`-drive` for an IDE disk at INDEX; commas in the path are escaped."""
    escaped = str(path).replace(",", ",,")
    return ["-drive", f"file={escaped},format={fmt},if=ide,index={index}"]


# The Pintos-KAIST user ABI's address space (include/threads/vaddr.h,
# include/threads/loader.h, userprog/process.c): programs linked at 0x400000,
# the first stack page ending at USER_STACK, a stack of up to 1 MiB, user
# space below 512 GiB, all of RAM mapped at KERN_BASE. The reference kernel
# speaks the same ABI (docs/vm.md), so both adapters supply this layout.
PINTOS_KAIST_LAYOUT = AddressLayout(code_base=0x400000, user_stack=0x47480000,
                                    stack_limit=1 << 20, user_top=0x8000000000,
                                    kern_base=0x8004000000)


@dataclass(frozen=True)
class InjectionSite:
    """Where an abstract injection point is in one kernel: the function
    SYMBOL whose entry the harness breaks on; ACCEPTS(debugger), if given,
    tells from the registers at entry whether this call is one of the
    point's (e.g. an allocation from the user pool); FAILURE_VALUE is what
    the function returns to its caller when a failure is forced;
    UNOBSERVABLE: the forced-failure kinds ("fail", "io_error") the kernel
    has no way to notice here, each with the reason (a function that
    returns nothing: the forced return only skips its work), and the
    PRESSURE_KINDS it cannot be put under here. A scenario that asks for
    one is NOT_JUDGED on this kernel (harness/run/injection.py).
    ARG_REGISTER holds, at entry, the argument an injection's `arg`
    matches (the page the call is for); None where the function is given
    no such thing (then KernelAdapter.injection_unaimed says why).
    """

    symbol: str
    accepts: Optional[Callable] = None
    failure_value: int = 1
    unobservable: Mapping[str, str] = field(default_factory=dict)
    arg_register: Optional[str] = "rdi"


# Injection kinds that put the kernel under memory pressure at a point
# (frames taken out of the user pool, or given back) through its request block.
PRESSURE_KINDS = ("steal", "release")


class KernelAdapter(ABC):
    """One kernel family. Instances are cheap; nothing runs at __init__."""

    name: str = "?"
    # Regex (MULTILINE) of the console line the kernel prints once it is
    # ready to run programs; see harness.run.boot.wait_booted.
    boot_marker: str = ""
    # Where the kernel puts the stack, user space and its direct map: the
    # one copy the oracles, the capture and the reports read.
    address_layout: AddressLayout
    # The interrupt vectors of the kernel's disks, for a kernel that waits
    # for them (harness/run/disk_interrupt.py); () for one that polls.
    disk_irq_vectors: tuple = ()

    @classmethod
    def from_spec(cls, argument: str | None) -> "KernelAdapter":
        """The adapter for `--kernel NAME[:ARGUMENT]`; families that take an
        argument (a source tree) override this."""
        if argument is not None:
            raise UsageError(f"--kernel {cls.name} takes no argument (got {cls.name}:{argument})")
        return cls()

    @abstractmethod
    def build(self) -> None:
        """Builds the kernel and the user programs; KernelBuildError (exit 2)
        with the compiler's last lines if that fails."""

    @abstractmethod
    def check_built(self) -> None:
        """KernelNotBuiltError (exit 3) if a file the boot needs is missing."""

    def prepare(self) -> None:
        """Makes the kernel ready to boot before a run. By default only
        checks that it is built (`make` builds the reference kernel);
        families built from a tree at run time (a student's) build here.
        KernelBuildError (exit 2) or KernelNotBuiltError (exit 3)."""
        self.check_built()

    @property
    @abstractmethod
    def symbol_file(self) -> Path:
        """The kernel ELF with debug info that GDB loads."""

    @property
    def source_root(self) -> Path | None:
        """The folder of the kernel's sources, for a debugger's source path
        (the debug info's own paths are tried first). Default: not known."""
        return None

    @abstractmethod
    def find_program(self, name_or_path: str) -> Path:
        """The host file of a user program given by path or by name;
        UsageError if there is none."""

    @abstractmethod
    def make_disks(self, run_dir: Path, programs: dict[str, Path], files: dict[str, bytes],
                   swap_mb: int, snapshots: bool = False) -> Disks:
        """Creates the disks in RUN_DIR: a file system holding PROGRAMS
        (name in the image -> host file) and FILES (name -> contents), and
        a swap disk of SWAP_MB MiB if > 0. SNAPSHOTS: make every writable
        drive qcow2 so Machine.savevm works."""

    @abstractmethod
    def kernel_cmdline(self, runs: Sequence[Sequence[str]],
                       user_page_limit: int | None = None) -> str:
        """The kernel arguments that run each of RUNS ([program, args...])
        in turn and then power off. UsageError on an argument the kernel
        cannot carry (a quote, whitespace inside one argument)."""

    @abstractmethod
    def qemu_args(self, disks: Disks, cmdline: str, mem_mb: int) -> list[str]:
        """QEMU arguments for the guest (machine, memory, kernel, disks,
        devices); the machine layer adds sockets, serial and accelerator."""

    @abstractmethod
    def parse_exit(self, console: str, qemu_status: int) -> BootOutcome:
        """How the run ended, from the whole console and QEMU's status."""

    @abstractmethod
    def read_fs_file(self, disks: Disks, name: str) -> bytes:
        """Contents of file NAME in the file-system disk after (or during a
        pause of) a run; FileNotOnDiskError if the disk was read and NAME is
        not on it, HarnessError if the disk cannot be read."""

    @property
    def spec(self) -> str:
        """The `--kernel` value that selects this kernel again."""
        return self.name

    # ---- debugger side (scenario runs) ----

    # A symbol reached only in long mode: the debugger attaches there.
    long_mode_symbol: str | None = None

    @property
    def file_memo(self):
        """Values computed from this kernel's files (its build id, its boot
        image's digest), kept while each file stays the same
        (harness/adapters/file_memo.py)."""
        from harness.adapters.file_memo import FileMemo
        return self.__dict__.setdefault("_file_memo", FileMemo())

    def kernel_symbols(self):
        """The kernel's SymbolTable (ELF symbols + DWARF), loaded once per
        thread: pyelftools parses lazily from one file handle and is not
        thread-safe, and `run --jobs` runs scenarios in threads."""
        local = self.__dict__.setdefault("_symbols_local", threading.local())
        if getattr(local, "table", None) is None:
            from harness.debug.symbols import SymbolTable
            local.table = SymbolTable(self.symbol_file)
        return local.table

    @abstractmethod
    def inspector(self, debugger, symbols):
        """A harness.run.capture.KernelInspector for a stopped guest."""

    def injection_symbol(self, point: str) -> str:
        """The kernel symbol for abstract injection POINT (harness/run/injection.py):
        a function whose entry the harness breaks on and whose return value
        it may force. UsageError if the kernel has no such point."""
        raise UsageError(f"the {self.name} kernel has no injection point {point!r}")

    def injection_site(self, point: str) -> InjectionSite:
        """The InjectionSite of POINT: by default injection_symbol(POINT),
        every call, failure value 1 (the reference kernel's hooks)."""
        return InjectionSite(self.injection_symbol(point))

    def injection_unobservable(self, point: str, kind: str) -> str | None:
        """Why a forced KIND at POINT is a failure this kernel cannot
        observe (InjectionSite.unobservable), None if it can or KIND is
        not a failure. Answered without booting or building: by default
        from injection_site(POINT); an adapter whose sites need the
        kernel's symbols overrides it with what it knows statically."""
        return self.injection_site(point).unobservable.get(kind)

    def injection_unaimed(self, point: str) -> str | None:
        """Why an injection at POINT cannot be aimed at one argument (`arg`:
        the kernel's function there is given no such thing), None if it
        can. Known without booting; a scenario that asks for it is
        NOT_JUDGED on this kernel. By default from injection_site(POINT)'s
        arg_register (the reference kernel's hooks all take the page or the
        reason as their argument); an adapter whose sites need the kernel's
        symbols overrides it with what it knows statically."""
        site = self.injection_site(point)
        if site.arg_register is not None:
            return None
        return f"the {self.name} kernel's {site.symbol} is given nothing an injection's arg could match"

    def open_choices(self) -> Mapping[str, str]:
        """The design choices (harness/run/choices.py CHOICES) this kernel
        family leaves to the student, each with where that is said: a
        scenario that assumes one is NOT_JUDGED here, a premise on one is
        not judged when it does not hold. The reference kernel's own
        choices are the suite's: none by default."""
        return {}

    def request(self, debugger, field: str, value: int) -> None:
        """Asks the stopped kernel for a preemption or a delay of the thread
        stopped at the injection point (that thread only), or for memory
        pressure (FIELD: preempt, delay_ticks, steal_frames, release_frames)."""
        raise UsageError(f"the {self.name} kernel takes no {field} requests")

    def with_call_stack(self, panic_line: str | None, console: str) -> str | None:
        """PANIC_LINE followed by the "Call stack:" printed after it in
        CONSOLE, symbolised and checked like every call chain
        (harness.debug.symbols.format_call_chain); raw addresses when the kernel's
        symbols cannot be read."""
        match = CALL_STACK.search(console, console.find(panic_line)) if panic_line else None
        if match is None:
            return panic_line
        addresses = [int(word, 16) for word in match.group(1).split()]
        try:
            from harness.debug.symbols import checked_chain, format_call_chain
            symbols = self.kernel_symbols()
            frames = format_call_chain(symbols, checked_chain(symbols, None, addresses))
        except Exception:  # noqa: BLE001 - no symbols: the raw addresses still help
            frames = " < ".join(hex(a) for a in addresses)
        return f"{panic_line} [call stack: {frames}]"

    def exact_disk(self, disks: Disks, ram_size: int):
        """The service that answers this kernel's disk requests in guest
        time for a run on DISKS (harness/run/exact_disk.py), or None when the
        kernel needs none: its disk waits take no guest time of their own
        (the reference kernel polls its disk with the timer frozen).
        ExactDiskUnavailable if the kernel needs one and cannot have it."""
        return None

    boot_shortcut_names: tuple = ()   # the boot shortcuts this kernel family has

    def boot_shortcuts(self, options, build: str, disks: Disks, guest_args: list[str],
                       names) -> tuple[list, list[str]]:
        """The deterministic stretches of this kernel's boot that a run on
        DISKS with GUEST_ARGS (QEMU's) under OPTIONS (MachineOptions) skips,
        of those NAMES allows, BUILD naming the kernel build and QEMU (the key
        of what was measured): (shortcuts, why each other one is not taken).
        A shortcut has a `name`; prepare(machine) is called before QEMU
        starts, arm(debugger) at the kernel's entry; `entry` is the address
        of its breakpoint (or None); once the run is over, `note` goes in
        its notes if `taken`, else `missed` if not None. Default: none."""
        return [], []

    def fault_sites(self, symbols) -> list:
        """Where this kernel goes with a fault it does not take routinely
        (kill, panic, fix-up paths): harness.adapters.fault_sites.FaultSite list,
        read from SYMBOLS. Default: none (faults are not caught)."""
        return []

    def fault_entry(self, symbols):
        """The entry of this kernel's page-fault handler, whose first
        argument is the trap frame (a FRAME_ARG FaultSite), for the hang
        watch's fault-storm rule; None (the default): no such rule."""
        return None

    def leak_problem(self, outcome: BootOutcome) -> str | None:
        """A one-line description of frames or swap slots still in use
        after every process ended, or None (also when the kernel cannot
        tell)."""
        return None

    def swap_disk_bytes(self, swap_mb: int) -> int | None:
        """The size of the swap disk make_disks gives the kernel for
        SWAP_MB (0 without one); None where not known."""
        return None


def check_run_words(runs: Sequence[Sequence[str]]) -> None:
    """UsageError unless each run is a non-empty list of non-empty words
    without whitespace or quotes (what a kernel command line can carry)."""
    if not runs:
        raise UsageError("nothing to run: give at least one program")
    for run in runs:
        if not run:
            raise UsageError("empty program command line")
        for word in run:
            if not word or any(c.isspace() or c in "'\"" for c in word):
                raise UsageError(f"argument {word!r} cannot be passed to the kernel: "
                                 "it must be non-empty, without spaces or quotes")
