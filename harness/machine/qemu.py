"""One QEMU process: start (paused or running), talk to it over QMP, read its
serial console, wait for it, and always tear it down.

Per run, a fresh directory holds:
  console.log      the serial console (COM1), streamed as it arrives
  qemu-stderr.log  what QEMU printed on stderr
  qmp.sock         QMP (Unix socket)           -> Machine.qmp
  gdb.sock         GDB remote stub (Unix socket) -> Machine.gdb_socket
plus whatever the kernel adapter puts there (disk images). Guest RAM is a
file in /dev/shm that the harness maps read-only (Machine.guest_ram,
harness/machine/guest_ram.py), or, where none can be made,
Machine.guest_ram_note says why and memory is read over the GDB stub.

Teardown (close(), also on `with` exit and on every error path): QMP
`quit` -> timed wait -> SIGKILL to QEMU's process group -> reap -> remove
the run directory, unless keep=True (then kept whole, raw disk images made
sparse) or it failed and keep_on_error=True (then only the logs are kept,
plus the files in keep_files: harness/machine/artifacts.py).
QEMU runs in its own session (process group). Three safety nets make sure
no QEMU outlives the harness:
  * an atexit hook that kills every machine still open;
  * a stop signal (SIGINT/SIGTERM/SIGHUP, harness/interrupt.py) kills
    every machine at once, and a machine started after it is killed at
    once (HarnessError), so no worker thread boots another;
  * QEMU is exec'd through `setpriv --pdeathsig KILL`, so the kernel kills
    it if the harness itself is SIGKILLed (harness/machine/qemu_launch.py,
    which also gives QEMU's heap huge pages: a faster start). Linux sends
    that signal when the *thread* that started QEMU exits: start machines
    from a thread that outlives them (the main thread, or a pool joined
    after close()).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import config, interrupt
from harness.machine import artifacts
from harness.machine.console import Console, OutputSink
from harness.machine.cpu_slots import CpuSlot
from harness.machine.guest_ram import GuestRam, SharedRamPlan, plan_shared_ram
from harness.errors import (HarnessError, MachineTimeout, QemuDiedError,
                            QemuNotFoundError, QMPError, UsageError)
from harness.machine.qmp import QMPClient
from harness.machine.qemu_launch import qemu_environment, with_parent_death_signal
from harness.machine.state_file import StateTransferError, incoming_args, load_ram, restore_state
from harness.machine.vm_snapshots import SnapshotCommands
from harness.machine.triple_fault import int_log_args

ACCELERATORS = ("tcg", "kvm")
UNIX_PATH_MAX = 107  # sun_path is 108 bytes including the NUL


@dataclass
class MachineOptions:
    """How to run QEMU, independent of the kernel being booted."""

    accel: str = "tcg"            # "tcg" (default, always works) or "kvm"
    icount: bool = True           # -icount shift=0,sleep=off (TCG only: deterministic)
    paused: bool = False          # -S: CPU stopped until resume()
    timeouts: config.Timeouts = field(default_factory=config.Timeouts)
    keep: bool = False            # keep the run directory after close(), disks too
    keep_on_error: bool = True    # keep its logs when the run failed (for the report)
    run_root: Path | None = None  # parent of the run directory (default $TMPDIR)
    qemu: str = field(default_factory=config.qemu_binary)
    console_sink: OutputSink | None = None  # gets serial output live (e.g. stdout)
    int_log: bool = False         # QEMU's interrupt log in the run folder (triple_fault.py)
    shared_ram: bool = True       # guest RAM in a file the harness maps (guest_ram.py)

    @property
    def icount_clock(self) -> bool:
        """QEMU runs with -icount (TCG only): the guest's clock counts
        instructions, runs are deterministic and timeouts are guest time."""
        return self.icount and self.accel == "tcg"

    def check(self) -> None:
        if self.accel not in ACCELERATORS:
            raise UsageError(f"--accel must be one of {', '.join(ACCELERATORS)}, not {self.accel!r}")
        if self.accel == "kvm":
            refusal = kvm_refusal()   # first: true with or without the device node
            if refusal:
                raise HarnessError(refusal)
            if not os.access(KVM_DEVICE, os.R_OK | os.W_OK):
                raise HarnessError(f"--accel kvm: {KVM_DEVICE} is missing or not accessible; "
                                   "use --accel tcg")


# What the KVM checks probe (module-level so tests can simulate other hosts).
KVM_DEVICE = Path("/dev/kvm")
SYS_MODULE = Path("/sys/module")


def kvm_refusal(sys_module: Path | None = None) -> str | None:
    """Why this host's /dev/kvm cannot run our guests, or None. A /dev/kvm
    served by PVM (module kvm_pvm, with neither kvm_intel nor kvm_amd: the
    software nested virtualization of some cloud sandboxes, made for
    PVM-aware Linux guests) boots the reference kernel but faults on its
    first `syscall` (a user-mode fetch at LSTAR), and GDB's hardware
    breakpoints stop at once with a signal: every run would end as a
    harness error, so say so before starting. Said also where kvm_pvm is
    loaded but /dev/kvm is absent (it would not help to create it)."""
    sys_module = SYS_MODULE if sys_module is None else sys_module
    loaded = {name for name in ("kvm_pvm", "kvm_intel", "kvm_amd")
              if (sys_module / name).is_dir()}
    if loaded == {"kvm_pvm"}:
        return ("--accel kvm: this host's KVM is PVM (module kvm_pvm, no kvm_intel or "
                "kvm_amd), which runs only PVM-aware Linux guests: the kernel's first system "
                "call faults and hardware breakpoints do not work; use --accel tcg")
    return None


class Machine(SnapshotCommands):
    """A QEMU process and its run directory. Use as a context manager:

        with Machine(options) as m:
            disks = adapter.make_disks(m.run_dir, ...)   # files go in run_dir
            m.start(adapter.qemu_args(...))
            status = m.wait_exit(60, "power-off")
    """

    def __init__(self, options: MachineOptions | None = None):
        self.options = options or MachineOptions()
        self.options.check()
        self.timeouts = self.options.timeouts
        self.run_dir = Path(tempfile.mkdtemp(prefix="vmcheck-", dir=self.options.run_root))
        self._socket_dir = self._choose_socket_dir()
        self.qmp_socket = self._socket_dir / "qmp.sock"
        self.gdb_socket = self._socket_dir / "gdb.sock"
        self.console_log = self.run_dir / "console.log"
        self.stderr_log = self.run_dir / "qemu-stderr.log"
        self.process: subprocess.Popen | None = None
        self.console: Console | None = None
        self.qmp: QMPClient | None = None
        self.start_time: float | None = None   # time.monotonic() just before spawn
        self.failed = False
        self.closed = False
        self.keep_files: list[Path] = []   # kept besides the logs when only those are
        self._ram_plan = SharedRamPlan(None, note="QEMU not started yet")
        self.guest_ram: GuestRam | None = None   # the mapped RAM once QEMU answers
        self.cpu_slot: CpuSlot | None = None     # the CPU QEMU is pinned to (cpu_slots.py)
        self.incoming: Path | None = None        # set before start(): a saved state to start
        self.incoming_failed: str | None = None  # from (state_file.py); why it was not

    def _choose_socket_dir(self) -> Path:
        """The run directory, unless socket paths there would exceed the
        Unix-socket path limit: then a short private directory in /tmp."""
        if len(str(self.run_dir / "qmp.sock")) <= UNIX_PATH_MAX:
            return self.run_dir
        return Path(tempfile.mkdtemp(prefix="vmq-", dir="/tmp"))

    # ---- start ----

    def command_line(self, guest_args: list[str]) -> list[str]:
        """The full QEMU command: management options (sockets, serial,
        accelerator, clock) followed by GUEST_ARGS from the kernel adapter."""
        opts = self.options
        cmd = [opts.qemu, "-display", "none", "-monitor", "none", "-serial", "stdio",
               "-no-reboot", "-accel", opts.accel,
               "-qmp", f"unix:{self.qmp_socket},server=on,wait=off",
               "-gdb", f"unix:{self.gdb_socket},server=on,wait=off"]
        if opts.icount_clock:
            cmd += ["-icount", "shift=0,sleep=off"]
        if opts.paused:
            cmd.append("-S")
        if opts.int_log:
            cmd += int_log_args(self.run_dir)
        return cmd + guest_args + self._ram_plan.qemu_args()

    def start(self, guest_args: list[str]) -> None:
        """Starts QEMU and connects QMP. Returns once QEMU has initialised the
        machine (loaded the kernel) and answers QMP. With `incoming` set, the
        machine is restored from that saved state (state_file.py) and stands
        paused there; if that fails, QEMU is started afresh on the same
        disks and `incoming_failed` says why. Raises QemuNotFoundError,
        QemuDiedError (with QEMU's stderr) if it exits during start, or
        MachineTimeout if it does not answer in time."""
        if self.process is not None:
            raise HarnessError("Machine.start() called twice")
        binary = shutil.which(self.options.qemu)
        if binary is None:
            raise QemuNotFoundError(f"QEMU not found: {self.options.qemu!r} is not an executable "
                                    "on PATH (install qemu-system-x86, e.g. `make deps`)")
        if self.incoming is not None:
            try:
                return self._launch(binary, guest_args, self.incoming)
            except (StateTransferError, QemuDiedError, MachineTimeout) as e:
                self._discard()
                said = self.stderr_text().strip().splitlines()[-1:]
                self.incoming_failed = "; ".join([str(e).splitlines()[0], *said])
        self._launch(binary, guest_args, None)

    def _launch(self, binary: str, guest_args: list[str], incoming: Path | None) -> None:
        """One QEMU process, answering QMP (restored from INCOMING if given)."""
        self._ram_plan = plan_shared_ram(guest_args, self.run_dir.name) \
            if self.options.shared_ram else SharedRamPlan(None, note="shared guest RAM is off")
        # a state saved with its RAM ahead of the stream: that RAM into the file now
        ram_size = load_ram(incoming, self._ram_plan.path, self._ram_plan.size) \
            if incoming is not None else None
        cmd = self.command_line(guest_args + (incoming_args() if incoming else []))
        cmd[0] = binary
        self._spawn(with_parent_death_signal(cmd))
        timeout = self.timeouts(self.timeouts.qemu_start)
        try:
            self.qmp = QMPClient.connect(str(self.qmp_socket), time.monotonic() + timeout,
                                         self.timeouts(self.timeouts.qmp_command),
                                         lambda: self.process.poll() is None)
        except QMPError as e:
            self.failed = True
            self._raise_if_died(grace=0.5)
            raise MachineTimeout(f"QEMU to answer on QMP ({e})", timeout,
                                 self._tail(), self.console_log) from None
        if incoming is not None:
            restore_state(self.qmp, incoming, timeout, ram_size)
        self._map_guest_ram()

    def _discard(self) -> None:
        """Ends a QEMU whose start failed, so that start can try again."""
        self.kill()
        if self.qmp is not None:
            self.qmp.close()
        if self.console is not None:
            self.console.wait_ended(self.timeouts(self.timeouts.kill_wait))
        self._ram_plan.remove_file()
        self._release_cpu()
        _LIVE.discard(self)
        self.process = self.qmp = self.console = None
        self.failed = False

    def _release_cpu(self) -> None:
        if self.cpu_slot is not None:
            self.cpu_slot.close()

    def _map_guest_ram(self) -> None:
        """Maps the RAM file QEMU now has open (see guest_ram.py)."""
        if self._ram_plan.path is None:
            return
        try:
            self.guest_ram = GuestRam.open(self._ram_plan)
        except (OSError, ValueError) as e:
            self._ram_plan.note = f"cannot map the guest RAM file: {e}"
            self._ram_plan.remove_file()

    @property
    def guest_ram_note(self) -> str | None:
        """Why guest RAM is not mapped (memory is then read over the GDB
        stub); None when it is."""
        return None if self.guest_ram is not None else self._ram_plan.note

    def _spawn(self, cmd: list[str]) -> None:
        read_fd, write_fd = os.pipe()
        self.cpu_slot = CpuSlot.reserve()
        try:
            with open(self.stderr_log, "wb") as stderr, self.cpu_slot.pinned_here():
                self.start_time = time.monotonic()
                self.process = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=write_fd, stderr=stderr,
                    start_new_session=True, cwd=self.run_dir,
                    env=qemu_environment(self.run_dir))
        except OSError as e:
            os.close(read_fd)
            self._release_cpu()
            raise HarnessError(f"cannot start QEMU ({cmd[0]}): {e.strerror}") from None
        finally:
            os.close(write_fd)
        _LIVE.add(self)
        self.console = Console(read_fd, self.console_log, self.options.console_sink)
        if interrupt.stop_requested():   # after _LIVE.add: the signal handler or we kill it
            self.kill()
            raise HarnessError(interrupt.not_run_reason())

    def _raise_if_died(self, grace: float = 0.0) -> None:
        """Raises QemuDiedError if QEMU exited (waiting up to GRACE seconds)."""
        try:
            status = self.process.wait(grace)
        except subprocess.TimeoutExpired:
            return
        self.failed = True
        raise QemuDiedError(status, self.stderr_text(), self._tail(), self.console_log)

    # ---- while running ----

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_text(self) -> str:
        try:
            return self.stderr_log.read_text(errors="replace")
        except OSError:
            return ""

    def _tail(self, count: int = 15) -> list[str]:
        return self.console.tail(count) if self.console else []

    def _require_qmp(self) -> QMPClient:
        if self.qmp is None:
            raise HarnessError("the machine is not started (no QMP connection)")
        return self.qmp

    def resume(self) -> None:
        """Starts or continues the CPUs (after -S or pause())."""
        self._require_qmp().execute("cont")

    def pause(self) -> None:
        self._require_qmp().execute("stop")

    def status(self) -> str:
        """QEMU's run state: "prelaunch", "running", "paused", ..."""
        return self._require_qmp().execute("query-status")["status"]

    def wait_for_console(self, pattern: str, timeout: float, awaited: str | None = None,
                         start: int = 0):
        """The match of regex PATTERN in the console (at or after offset
        START), or None if QEMU exited without printing it. TIMEOUT is
        scaled; MachineTimeout names AWAITED (default: the pattern)."""
        scaled = self.timeouts(timeout)
        match = self.console.wait_for(pattern, scaled, start)
        if match is None and not self.console.ended and self.is_running():
            raise MachineTimeout(awaited or f"console output matching {pattern!r}", scaled,
                                 self._tail(), self.console_log)
        return match

    def exit_status(self, seconds: float) -> int | None:
        """QEMU's exit status if it exits within SECONDS (not scaled), all
        console output read; None if it still runs."""
        try:
            status = self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return None
        self.console.wait_ended(self.timeouts(self.timeouts.kill_wait))
        return status

    def wait_exit(self, timeout: float, awaited: str = "QEMU to exit") -> int:
        """Waits until QEMU exits and all console output is read; returns its
        exit status. TIMEOUT is scaled; MachineTimeout names AWAITED."""
        scaled = self.timeouts(timeout)
        try:
            status = self.process.wait(scaled)
        except subprocess.TimeoutExpired:
            self.failed = True
            raise MachineTimeout(awaited, scaled, self._tail(), self.console_log) from None
        self.console.wait_ended(self.timeouts(self.timeouts.kill_wait))
        return status

    # ---- teardown ----

    def close(self, failed: bool = False) -> None:
        """Stops QEMU if it still runs, reaps it, closes QMP and the console,
        and removes the run directory unless it is to be kept. Idempotent;
        never raises for a QEMU that is already gone."""
        if self.closed:
            return
        self.closed = True
        self.failed = self.failed or failed
        try:
            self._stop_process()
        finally:
            _LIVE.discard(self)
            self._release_cpu()
            if self.guest_ram is not None:
                self.guest_ram.close()
            self._ram_plan.remove_file()
            if self.qmp is not None:
                self.qmp.close()
            if self.console is not None:
                self.console.wait_ended(self.timeouts(self.timeouts.kill_wait))
            if self._socket_dir != self.run_dir:
                shutil.rmtree(self._socket_dir, ignore_errors=True)
            if not self.kept:
                shutil.rmtree(self.run_dir, ignore_errors=True)
            elif self.options.keep:
                for image in artifacts.disk_images(self.run_dir):
                    artifacts.make_sparse(image)
            else:
                artifacts.keep_only_readable(self.run_dir, self.keep_files)

    @property
    def kept(self) -> bool:
        """Whether close() leaves the run directory in place."""
        return self.options.keep or (self.failed and self.options.keep_on_error)

    def _stop_process(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if self.qmp is not None:
            try:
                self.qmp.execute("quit", timeout=self.timeouts(self.timeouts.quit_grace))
            except QMPError:
                pass  # it may close the socket before replying; SIGKILL follows anyway
            try:
                self.process.wait(self.timeouts(self.timeouts.quit_grace))
                return
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self) -> None:
        """SIGKILL to QEMU's process group, then reap. Safe from a signal
        handler (no QMP, no locks)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(self.timeouts(self.timeouts.kill_wait))
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self) -> "Machine":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # An error keeps the logs (keep_on_error); an interrupt does not.
        self.close(failed=exc_type is not None and issubclass(exc_type, Exception))


@functools.lru_cache(maxsize=None)
def qemu_version(binary: str | None = None) -> str:
    """The first line of `QEMU --version` (default: the configured QEMU),
    "unknown" if it cannot be run."""
    try:
        return subprocess.run([binary or config.qemu_binary(), "--version"], capture_output=True,
                              text=True, timeout=10).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


# ---- safety nets: no QEMU outlives the harness ----

_LIVE: set[Machine] = set()


def kill_all_machines() -> None:
    """SIGKILLs every machine this process still has open."""
    for machine in list(_LIVE):
        machine.kill()


atexit.register(kill_all_machines)
interrupt.on_stop(kill_all_machines)
