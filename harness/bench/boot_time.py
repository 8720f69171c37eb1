"""Boot-time benchmark (`make bench`): how fast the harness gets a program
running on a kernel (the reference kernel by default, or --kernel
pintos-kaist:TREE), and where the time goes.

How it is measured (time zero = just before QEMU is spawned, i.e. the
whole cost the harness pays, QEMU's own start-up included):

  * first user instruction: QEMU starts paused (-S); the harness connects
    to the GDB stub, sets a hardware breakpoint at the program's ELF entry
    point and continues. The stop arrives when the CPU is about to execute
    the program's first instruction; the benchmark checks that the CPU is
    then in ring 3 at that address. The debugger round trips are counted.
  * power-off (with debugger): the same run, breakpoint removed, continued
    until QEMU exits after the kernel's power-off.
  * power-off (no debugger): a separate run started without -S and without
    a debugger attached, to show what the debugger costs.
  * QMP ready: QEMU start to its first QMP answer (process start-up).

The breakdown is a run of its own, with hardware breakpoints at each
boundary (each stop costs a round trip, ~1 ms, so its stages add up to a
little more than the first-user figure above):
  disk set-up      the adapter makes the disk images (before QEMU starts)
  QEMU start       spawn -> QMP answers (QEMU's own start-up, machine init)
  harness attach   connecting to the GDB stub and its handshake
  firmware         resume -> the kernel's ELF entry (BIOS, boot loader)
  kernel early     ELF entry -> the adapter's long-mode symbol (kmain, main)
  kernel init      long-mode symbol -> the program's first instruction
                   (the kernel's set-up, the file system, loading the program)

A kernel with a boot snapshot (Pintos-KAIST: harness/adapters/pintos_kaist/
boot_snapshot.py) is also booted from it, as a scenario run boots: QEMU
restored at `main`, the kernel arguments written, the debugger attached
(-> main), then run to the program's first instruction. Its timer
calibration runs, as in the cold rows above, so the two differ by the
firmware and loader.

Each measure is the median over --runs runs (default 10) of `hello`.
Target: <= 100 ms to the first user instruction under TCG.

    /usr/bin/python3 -m harness.bench.boot_time [--kernel K] [--runs N] [--json FILE|-]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import struct
import sys
import time
from pathlib import Path
from typing import Iterator

from harness.adapters import get_adapter
from harness.bench.figures import Figure, write_json
from harness.run.boot import collect_programs, BootRequest
from harness.config import Timeouts
from harness.errors import HarnessError, VmcheckError
from harness.machine.qemu import Machine, MachineOptions
from harness.debug.rsp import RspClient

TARGET_FIRST_USER_MS = 100.0
RUN_TIMEOUT_S = 30.0
SIGTRAP = 5


def elf_entry(path: Path) -> int:
    """e_entry of an ELF64 file."""
    header = path.read_bytes()[:32]
    if header[:4] != b"\x7fELF" or header[4] != 2:
        raise HarnessError(f"{path} is not an ELF64 file")
    return struct.unpack_from("<Q", header, 24)[0]


class BootTimer:
    """Boots PROGRAM on ADAPTER's kernel and times the stages."""

    def __init__(self, program: str, options: MachineOptions, adapter):
        self.adapter = adapter
        self.adapter.check_built()
        self.request = BootRequest(runs=[[program]])
        self.programs = collect_programs(self.adapter, self.request)
        self.entry = elf_entry(self.programs[program])
        self.options = options
        self.cmdline = self.adapter.kernel_cmdline(self.request.runs)

    def _start(self, machine: Machine) -> None:
        t0 = time.monotonic()
        disks = self.adapter.make_disks(machine.run_dir, self.programs, {}, 0)
        self.disks_s = time.monotonic() - t0
        machine.start(self.adapter.qemu_args(disks, self.cmdline, self.request.mem_mb))

    @contextlib.contextmanager
    def _started(self, paused: bool) -> Iterator[Machine]:
        """A machine running the benchmark program (its CPU stopped if PAUSED)."""
        self.options.paused = paused
        with Machine(self.options) as machine:
            self._start(machine)
            yield machine

    def _power_off(self, machine: Machine) -> float:
        """When QEMU exited (time.monotonic()), the program having exited 0."""
        status = machine.wait_exit(RUN_TIMEOUT_S, "power-off after the program")
        poweroff = time.monotonic()
        self._check_exit(machine, status)
        return poweroff

    def _check_exit(self, machine: Machine, status: int) -> None:
        outcome = self.adapter.parse_exit(machine.console.text(), status)
        program = self.request.runs[0][0]
        if outcome.status_of(program) != 0:
            raise HarnessError(f"benchmark run of {program} did not exit 0 "
                               f"({outcome.ending.value}); see {machine.console_log}")

    def with_debugger(self) -> dict[str, float]:
        """Milliseconds to QMP ready, first user instruction, power-off."""
        with self._started(paused=True) as machine:
            qmp_ready = time.monotonic()
            gdb = RspClient.connect(str(machine.gdb_socket), machine.timeouts(5))
            try:
                gdb.insert_breakpoint(self.entry, hardware=True)
                gdb.resume()
                stop = gdb.wait_stop(machine.timeouts(RUN_TIMEOUT_S))
                first_user = time.monotonic()
                self._check_user_entry(stop, gdb)
                gdb.remove_breakpoint(self.entry, hardware=True)
                gdb.resume()
                poweroff = self._power_off(machine)
            finally:
                gdb.close()
            t0 = machine.start_time
        return {"qmp": qmp_ready - t0, "user": first_user - t0, "poweroff": poweroff - t0}

    def _check_user_entry(self, stop, gdb: RspClient) -> None:
        if stop is None or stop.kind != "signal" or stop.code != SIGTRAP:
            raise HarnessError(f"no breakpoint stop at the program entry {self.entry:#x} "
                               f"(got {stop})")
        pc, cs = gdb.pc(), gdb.read_register("cs")
        if pc != self.entry or cs & 3 != 3:
            raise HarnessError(f"stopped at pc={pc:#x} cs={cs:#x}, expected the user "
                               f"entry {self.entry:#x} in ring 3")

    def breakdown(self) -> dict[str, float]:
        """Seconds of each stage of the boot (the module's docstring)."""
        marks = [elf_entry(Path(self.adapter.symbol_file)),
                 self.adapter.kernel_symbols().address_of(self.adapter.long_mode_symbol),
                 self.entry]
        with self._started(paused=True) as machine:
            qmp_ready = time.monotonic()
            gdb = RspClient.connect(str(machine.gdb_socket), machine.timeouts(5))
            try:
                times = [machine.start_time, qmp_ready, time.monotonic()]
                for address in marks:
                    gdb.insert_breakpoint(address, hardware=True)
                for address in marks:
                    gdb.resume()
                    stop = gdb.wait_stop(machine.timeouts(RUN_TIMEOUT_S))
                    times.append(time.monotonic())
                    if stop is None or gdb.pc() != address:
                        raise HarnessError(f"boot breakdown: no stop at {address:#x} ({stop})")
                    gdb.remove_breakpoint(address, hardware=True)
            finally:
                gdb.close()
            machine.kill()
        stages = [later - earlier for earlier, later in zip(times, times[1:])]
        return {"disks": self.disks_s, **dict(zip(STAGES, stages))}

    def restored(self) -> dict[str, float]:
        """Seconds to `main` and to the first user instruction of a boot
        from the kernel's boot snapshot (harness/adapters/pintos_kaist/
        boot_snapshot.py: restored, arguments written, debugger attached
        as a scenario run does); {} for a kernel without one."""
        from harness.debug.debugger import Debugger
        from harness.run.schedule import boot_shortcuts_for
        if "boot_snapshot" not in self.adapter.boot_shortcut_names:
            return {}
        self.options.paused = True
        with Machine(self.options) as machine:
            disks = self.adapter.make_disks(machine.run_dir, self.programs, {}, 0)
            args = self.adapter.qemu_args(disks, self.cmdline, self.request.mem_mb)
            (snapshot, *_), why_not = boot_shortcuts_for(
                self.adapter, machine.options, disks, args, ("boot_snapshot",))
            snapshot.prepare(machine)
            machine.start(args)
            with Debugger.attach(machine.gdb_socket, self.adapter.kernel_symbols(),
                                 self.adapter.long_mode_symbol) as dbg:
                snapshot.arm(dbg)
                at_main = time.monotonic()
                if not snapshot.taken:
                    raise HarnessError(f"boot snapshot not taken: {snapshot.missed}")
                gdb = dbg.client
                gdb.insert_breakpoint(self.entry, hardware=True)
                gdb.resume()
                stop = gdb.wait_stop(machine.timeouts(RUN_TIMEOUT_S))
                first_user = time.monotonic()
                self._check_user_entry(stop, gdb)
            machine.kill()
        t0 = machine.start_time
        return {"restored_main": at_main - t0, "restored_user": first_user - t0}

    def without_debugger(self) -> dict[str, float]:
        """Milliseconds to power-off of a run started without -S or GDB."""
        with self._started(paused=False) as machine:
            poweroff = self._power_off(machine)
            t0 = machine.start_time
        return {"plain": poweroff - t0}


STAGES = ("qemu_start", "attach", "firmware", "kernel_early", "kernel_init")
ROWS = [  # key, label, target in ms (None: no target)
    ("qmp", "QEMU start -> QMP answers", None),
    ("user", "QEMU start -> first user instruction", TARGET_FIRST_USER_MS),
    ("poweroff", "QEMU start -> power-off (debugger attached)", None),
    ("plain", "QEMU start -> power-off (no debugger)", None),
    ("disks", "  breakdown: disk set-up (before QEMU starts)", None),
    ("qemu_start", "  breakdown: QEMU start (spawn -> QMP answers)", None),
    ("attach", "  breakdown: harness attach (GDB stub handshake)", None),
    ("firmware", "  breakdown: firmware and loader (-> ELF entry)", None),
    ("kernel_early", "  breakdown: kernel early boot (-> long-mode symbol)", None),
    ("kernel_init", "  breakdown: kernel init (-> first user instruction)", None),
    ("restored_main", "boot snapshot: QEMU start -> main, attached", None),
    ("restored_user", "boot snapshot: QEMU start -> first user instruction", None),
]


def format_table(samples: dict[str, list[float]], header: str) -> tuple[str, bool]:
    """The result table, and whether every target was met."""
    lines = [header, f"{'measure':52} {'median':>8} {'min':>8} {'max':>8} {'target':>8} ratio"]
    met = True
    for key, label, target in ROWS:
        if not samples[key]:
            continue        # a measure this kernel has not (the boot snapshot)
        ms = [s * 1000 for s in samples[key]]
        median = statistics.median(ms)
        cells = f"{label:52} {median:8.1f} {min(ms):8.1f} {max(ms):8.1f}"
        if target is None:
            lines.append(f"{cells} {'-':>8}")
            continue
        ratio = median / target
        met = met and ratio < 1
        verdict = "ok" if ratio < 1 else "OVER TARGET"
        lines.append(f"{cells} {'<' + format(target, 'g'):>8} {ratio:.2f} {verdict}")
    return "\n".join(lines), met


def boot_samples(timer: BootTimer, runs: int) -> dict[str, list[float]]:
    """Seconds per measure (ROWS' keys), RUNS samples each."""
    samples: dict[str, list[float]] = {key: [] for key, _, _ in ROWS}
    timer.without_debugger()  # warm the page cache; not counted
    for _ in range(runs):
        for key, value in {**timer.with_debugger(), **timer.without_debugger(),
                           **timer.breakdown(), **timer.restored()}.items():
            samples[key].append(value)
    return samples


def boot_figures(samples: dict[str, list[float]], kernel: str) -> list[Figure]:
    """The medians as benchmark figures (keys prefixed boot_)."""
    return [Figure(f"boot_{key}_ms", f"boot, {kernel}: {label.strip()}" if kernel != "reference"
                   else f"boot: {label.strip()}",
                   statistics.median(samples[key]) * 1e3, "ms", target)
            for key, label, target in ROWS if samples[key]]


def run_benchmark(program: str, runs: int, options: MachineOptions,
                  kernel: str = "reference") -> tuple[str, bool, list[Figure]]:
    timer = BootTimer(program, options, get_adapter(kernel))
    samples = boot_samples(timer, runs)
    clock = "-icount shift=0,sleep=off" if options.icount and options.accel == "tcg" \
        else "real-time clock"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    header = (f"vmcheck boot benchmark: `{program}` on {kernel}, {runs} runs, "
              f"{options.accel.upper()}, {clock}; milliseconds; host load {load}")
    return (*format_table(samples, header), boot_figures(samples, kernel))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m harness.bench.boot_time",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per measure (default: 10)")
    parser.add_argument("--program", default="hello", help="program to boot (default: hello)")
    parser.add_argument("--accel", choices=("tcg", "kvm"), default="tcg",
                        help="accelerator (default: tcg)")
    parser.add_argument("--no-icount", dest="icount", action="store_false",
                        help="without -icount (default: with, as the harness runs)")
    parser.add_argument("--kernel", default="reference",
                        help="reference (default) or pintos-kaist:PATH (a built tree)")
    parser.add_argument("--json", metavar="FILE",
                        help="also write the figures as JSON to FILE ('-': standard output)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if a target is missed (default: report only)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    options = MachineOptions(accel=args.accel, icount=args.icount, timeouts=Timeouts())
    try:
        table, met, figures = run_benchmark(args.program, args.runs, options, args.kernel)
    except VmcheckError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return e.exit_code
    print(table, file=sys.stderr if args.json == "-" else sys.stdout)
    if args.json:
        write_json(args.json, "boot_time", args.runs, figures)
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
