"""Boot a kernel, run one or more programs, wait for the end: the one boot
path of vmcheck. `./vmcheck boot`, the runner (one scenario), tests and
benchmarks all boot through boot().

    result = boot(get_adapter("reference"),
                  BootRequest(runs=[["hello"]]), MachineOptions())
    result.outcome.status_of("hello")   # -> 0

boot() owns one machine's life: the disks and the kernel command line (from
the adapter), QEMU's start (always paused, resumed once QMP answers unless
the options ask for a paused start), the wait for the end under HangRules,
the ending read from the console and QEMU's exit status, and teardown. A
caller joins through BootHooks: the runner's checkpoint session drives the
guest from `started` and judges the run in `ended` (harness/run/runner.py).

A kernel panic, a triple fault or a missing exit line is a *result*
(result.outcome); errors of the harness or QEMU raise HarnessError (a QEMU
that aborted under -icount: IcountAbort), a timeout raises MachineTimeout,
bad input raises UsageError.

The timeout is in guest seconds under -icount (TCG's default), with a
wall-clock safety net, and a run with no console output for a long
stretch of guest time ends too (harness/run/hang_watch.py, without deadlock
looks: boot attaches no debugger); without -icount it is wall time.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from harness import config
from harness.adapters.base import BootOutcome, Disks, Ending, KernelAdapter
from harness.errors import (BootError, HarnessError, MachineError, MachineTimeout,
                            QemuDiedError, UsageError)
from harness.machine.guest_clock import GuestClock
from harness.machine.qemu import Machine, MachineOptions
from harness.run.hang_watch import GuestHang, HangRules, HangWatch

# QEMU 7.2 aborts (SIGABRT) under -icount when an I/O access needs a
# translation block it cannot find again; nothing the kernel did wrong.
ICOUNT_ABORT = "cpu_io_recompile: could not find TB"


class IcountAbort(HarnessError):
    """QEMU aborted with ICOUNT_ABORT: the run may be tried again without -icount."""


@dataclass
class BootRequest:
    """What to boot. RUNS are [program, args...] lists run one after another
    in the same boot; each program is looked up by adapter.find_program and
    put in the file system under its base name, as are EXTRA_PROGRAMS (e.g.
    exec targets). FILES are extra files (name -> contents)."""

    runs: list[list[str]]
    extra_programs: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    mem_mb: int = config.DEFAULT_MEM_MB
    swap_mb: int = 0
    user_page_limit: int | None = None
    timeout: float = config.DEFAULT_RUN_TIMEOUT_S  # to power-off: guest s under -icount
    wall_timeout: Optional[float] = None  # what the wall rules scale (None: timeout)
    read_back: list[str] = field(default_factory=list)  # fs files to return after the run


@dataclass
class BootResult:
    outcome: BootOutcome
    console: str
    run_dir: Path          # removed after the run unless kept
    kept: bool
    disks: Disks           # valid only if kept
    files: dict[str, bytes]  # request.read_back -> contents after the run
    seconds: float         # QEMU start to exit, wall clock

    @property
    def clean(self) -> bool:
        """The kernel powered off by itself (no panic, no reset)."""
        return self.outcome.ending is Ending.POWEROFF


def collect_programs(adapter: KernelAdapter, request: BootRequest) -> dict[str, Path]:
    """Image name -> host file for every program the request needs."""
    programs: dict[str, Path] = {}
    for name_or_path in [run[0] for run in request.runs] + request.extra_programs:
        path = adapter.find_program(name_or_path)
        if programs.get(path.name, path) != path:
            raise UsageError(f"two different programs are named {path.name!r}: "
                             f"{programs[path.name]} and {path}")
        programs[path.name] = path
    return programs


class BootHooks:
    """Where a caller joins one boot; the defaults add nothing."""

    def started(self, machine: Machine, rules: HangRules) -> bool:
        """QEMU answers; its CPU is still paused if the options asked for a
        paused start. True: the guest was run to its end here (under RULES),
        boot only waits for QEMU to exit. False (default): boot resumes
        nothing more and judges the run's time itself."""
        return False

    def before_start(self, machine: Machine, disks: Disks, args: list[str]) -> None:
        """The disks are made and the kernel's command line written; QEMU is
        not started yet, ARGS are its machine arguments (from the adapter)
        (a UsageError here refuses the boot)."""

    def wall_clock_start(self, machine: Machine) -> float:
        """After started() returned True: the moment (time.monotonic) the
        run's wall-clock limit counts from. Default: QEMU's start."""
        return machine.start_time

    def ended(self, machine: Machine, disks: Disks, outcome: BootOutcome) -> None:
        """The guest's run is over and QEMU has exited, but the machine is
        not closed: its disks can still be read, and machine.failed and
        machine.keep_files decide what its run folder keeps."""


class OnStarted(BootHooks):
    """A hook that calls FUNCTION(machine) once QEMU answers (e.g. to
    attach a debugger and resume a paused machine)."""

    def __init__(self, function: Callable[[Machine], None]):
        self.function = function

    def started(self, machine: Machine, rules: HangRules) -> bool:
        self.function(machine)
        return False


def boot(adapter: KernelAdapter, request: BootRequest, options: MachineOptions,
         hooks: BootHooks | None = None) -> BootResult:
    """Boots ADAPTER's kernel with REQUEST and waits for the end; HOOKS join
    it (BootHooks). The run directory is kept if options.keep, or if the
    run did not end well (a panic, a reset, an error; or as hooks.ended
    decides) and options.keep_on_error."""
    hooks = hooks or BootHooks()
    adapter.check_built()
    programs = collect_programs(adapter, request)
    runs = [[Path(run[0]).name, *run[1:]] for run in request.runs]
    cmdline = adapter.kernel_cmdline(runs, request.user_page_limit)
    rules = HangRules(request.timeout, options.timeouts.scale, guest_clock=options.icount_clock,
                      wall_timeout_s=request.wall_timeout)
    # Always start paused and resume once QMP answers: a fast program could
    # otherwise power off before the start-up handshake and look like a
    # QEMU that died at start.
    with Machine(dataclasses.replace(options, paused=True)) as machine:
        try:
            disks = adapter.make_disks(machine.run_dir, programs, request.files, request.swap_mb)
            args = adapter.qemu_args(disks, cmdline, request.mem_mb)
            hooks.before_start(machine, disks, args)
            machine.start(args)
            if not options.paused:
                machine.resume()
            status = _run_to_end(machine, adapter, rules, hooks, _awaited(runs))
            seconds = time.monotonic() - machine.start_time
            outcome = _ending(machine, adapter, status)
            hooks.ended(machine, disks, outcome)
            files = {name: adapter.read_fs_file(disks, name) for name in request.read_back}
        except HarnessError as error:
            _raise_if_icount_abort(machine, error)
            raise
    return BootResult(outcome=outcome, console=machine.console.text(), run_dir=machine.run_dir,
                      kept=machine.kept, disks=disks, files=files, seconds=seconds)


def _run_to_end(machine: Machine, adapter: KernelAdapter, rules: HangRules, hooks: BootHooks,
                awaited: str) -> int:
    """QEMU's exit status once the guest's run is over: driven by the hook,
    or judged here."""
    if hooks.started(machine, rules):
        left = rules.wall_s - (time.monotonic() - hooks.wall_clock_start(machine))
        return machine.wait_exit(max(left, 0.1) / machine.timeouts.scale, awaited)
    return _wait_power_off(machine, adapter, rules, awaited)


def _ending(machine: Machine, adapter: KernelAdapter, status: int) -> BootOutcome:
    """How the run ended, from the console and STATUS; QemuDiedError if
    QEMU itself failed. Marks the machine failed unless it powered off."""
    outcome = adapter.parse_exit(machine.console.text(), status)
    machine.failed = outcome.ending is not Ending.POWEROFF
    if outcome.ending is Ending.QEMU_ERROR:
        raise QemuDiedError(status, machine.stderr_text(), machine.console.tail(),
                            machine.console_log)
    return outcome


def _raise_if_icount_abort(machine: Machine, error: HarnessError) -> None:
    """IcountAbort (from ERROR) if QEMU aborted under -icount (ICOUNT_ABORT)."""
    if machine.options.icount_clock and ICOUNT_ABORT in machine.stderr_text():
        raise IcountAbort(f"QEMU aborted under -icount ({ICOUNT_ABORT}); "
                          f"first run's folder: {machine.run_dir}") from error


class BootHang(MachineTimeout):
    """The boot did not power off in time; the summary says which clock ran out."""

    def __init__(self, reason: str, console_tail, log_path):
        MachineError.__init__(self, f"timed out: {reason}", console_tail, log_path)
        self.awaited, self.seconds = reason, None


def _wait_power_off(machine: Machine, adapter: KernelAdapter, rules: HangRules,
                    awaited: str) -> int:
    """QEMU's exit status once the kernel powers off, judged by RULES
    (guest seconds under -icount); BootHang if the run hangs, MachineTimeout
    without a guest clock (no -icount, or no tick counter in the kernel)."""
    clock = GuestClock.for_kernel(machine.qmp, adapter.kernel_symbols(), machine.guest_ram) \
        if rules.guest_clock else None
    if clock is None:
        return machine.wait_exit(rules.timeout_s, awaited)
    watch = HangWatch(rules, clock, lambda: machine.console.length,
                      started=machine.start_time)
    while True:
        status = machine.exit_status(watch.interval)
        if status is not None:
            return status
        if watch.poll():
            machine.failed = True
            try:
                watch.inspect(None)
            except GuestHang as hang:
                raise BootHang(hang.reason, machine.console.tail(), machine.console_log) \
                    from None


def wait_booted(machine: Machine, adapter: KernelAdapter, timeout: float):
    """Waits (TIMEOUT, scaled) for the adapter's boot marker and returns its
    match. BootError if QEMU exited without printing it (the kernel died
    while booting), MachineTimeout if it did not come in time."""
    match = machine.wait_for_console(adapter.boot_marker, timeout,
                                     awaited=f"the {adapter.name} kernel to finish booting")
    if match is None:
        machine.failed = True
        status = machine.wait_exit(machine.timeouts.kill_wait, "QEMU to exit after its console closed")
        raise BootError(f"the {adapter.name} kernel did not boot: QEMU exited with status "
                        f"{status} before the console showed {adapter.boot_marker!r}",
                        machine.console.tail(), machine.console_log)
    return match


def _awaited(runs: list[list[str]]) -> str:
    shown = "; ".join(" ".join(run) for run in runs)
    return f"the kernel to power off after running `{shown}`"
