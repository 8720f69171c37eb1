"""Benchmarks of hang judging (harness/run/hang_watch.py, docs/pintos-kaist.md,
"Hangs").

    /usr/bin/python3 -m harness.bench.hangs clock       # cost of one guest-clock read
    /usr/bin/python3 -m harness.bench.hangs deadlocks [--times 10] [--burners 2]

`clock`: the reference kernel runs `spin`; times HMP `x` of `ticks` and
QMP `query-replay` while it runs, and, for comparison, a GDB interrupt +
read + resume (which the watch does not use: a stop warps the clock).

`deadlocks`: builds the deadlock mutants and runs each one's scenario
TIMES times (optionally with BURNERS busy shell loops running, killed by
PID afterwards); prints verdict, reason and wall time per run (the whole
scenario; the first run of each mutant also reads the kernel's DWARF, as
the first scenario of a suite run does) and from QEMU's start to the
verdict, and whether every run had the same verdict and reason.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from harness import config
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.debug.debugger import Debugger
from harness.machine.guest_clock import GuestClock
from harness.machine.qemu import Machine, MachineOptions
from harness.course.mutants import build_mutant, load_catalogue
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.run.suite import load_all

DEADLOCK_MUTANTS = {"wait-holds-fs-lock": "dl-wait", "lock-order-read-munmap": "dl-abba",
                    "lock-order-read-evict": "dl-evict"}


def _timed_ms(action, count: int) -> tuple:
    """(median, 95th percentile) in ms of COUNT calls of ACTION, 5 ms apart."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1e3)
        time.sleep(0.005)
    times.sort()
    return statistics.median(times), times[int(count * 0.95)]


def bench_clock(count: int) -> None:
    adapter = ReferenceAdapter()
    symbols = adapter.kernel_symbols()
    ticks = symbols.address_of("ticks")
    with Machine(MachineOptions(paused=True)) as machine:
        disks = adapter.make_disks(machine.run_dir, {"spin": adapter.find_program("spin")}, {}, 0)
        machine.start(adapter.qemu_args(
            disks, adapter.kernel_cmdline([["spin", "S", "2000000000"]], None), 20))
        with Debugger.attach(machine.gdb_socket, symbols, adapter.long_mode_symbol) as dbg:
            dbg.client.resume()
            time.sleep(1.0)
            rows = [("HMP x (ticks)", lambda: machine.qmp.human_monitor_command(
                        f"x /1gx {ticks:#x}")),
                    ("QMP query-replay (icount)", lambda: machine.qmp.execute("query-replay")),
                    ("GDB interrupt + read + resume", lambda: (
                        dbg.client.halt(5), dbg.read_virt(ticks, 8), dbg.client.resume()))]
            clock = GuestClock.for_kernel(machine.qmp, symbols, machine.guest_ram)
            clock.sample()                      # finds where `ticks` is in the mapped RAM
            if clock.tick_phys is not None:
                rows += [("mapped RAM (ticks)",
                          lambda: clock.guest_ram.running_u64(clock.tick_phys)),
                         ("a clock sample (mapped ticks + icount)", clock.sample)]
            else:
                print(f"(guest RAM not mapped: {machine.guest_ram_note}; "
                      "clock samples use HMP x)")
            for label, action in rows:
                median, p95 = _timed_ms(action, count)
                print(f"{label:<40} median {median:7.3f} ms   p95 {p95:7.3f} ms")
            dbg.client.halt(5)


def bench_deadlocks(times: int, burners: int) -> int:
    suite = {sc.name: sc for sc in load_all(config.build_dir() / "programs", DATA_DIR)}
    mutants = {m.name: m for m in load_catalogue()}
    hogs = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(burners)]
    same = True
    try:
        for name, scenario in DEADLOCK_MUTANTS.items():
            out = config.build_dir() / "mutants" / name
            build_mutant(mutants[name], out)
            adapter = ReferenceAdapter(kernel_dir=out)   # one per mutant, as in a suite run
            seen = set()
            for i in range(times):
                res = run_scenario(adapter, suite[scenario], RunnerOptions())
                seen.add((res.verdict.value, res.reason))
                since_start = res.hang.wall_s if res.hang else float("nan")
                print(f"{name:<24} {scenario:<9} run {i + 1:2}: {res.verdict.value} "
                      f"{res.duration_s:6.2f} s ({since_start:5.2f} s from QEMU's start)  "
                      f"{res.reason[:90]}", flush=True)
            print(f"{name}: {'the same verdict and reason' if len(seen) == 1 else 'DIFFERENT'}"
                  f" in {times} runs", flush=True)
            same = same and len(seen) == 1
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    return 0 if same else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_hangs", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    clock = sub.add_parser("clock")
    clock.add_argument("--count", type=int, default=200)
    deadlocks = sub.add_parser("deadlocks")
    deadlocks.add_argument("--times", type=int, default=10)
    deadlocks.add_argument("--burners", type=int, default=0)
    args = parser.parse_args(argv)
    if args.what == "clock":
        bench_clock(args.count)
        return 0
    return bench_deadlocks(args.times, args.burners)


if __name__ == "__main__":
    sys.exit(main())
