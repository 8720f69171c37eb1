"""The harness benchmark (`make bench`), printed side by side:

  1. one scenario (lazy-anon: 4 checkpoints with page-table and SPT
     capture) run bare (QEMU alone, no debugger) vs under the harness;
     target ratio <= 1.3
  2. time to snapshot the user page table of a 20 MB process (bigtouch 20,
     5,120 pages) at a checkpoint, through the GDB stub; target <= 20 ms
  3. breakpoint round trips per second (the debugger's run_until loop)
  4. ready-to-run state: cold boot vs loadvm of a snapshot taken there

    /usr/bin/python3 -m harness.bench.overhead [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from harness.adapters import get_adapter
from harness.run.boot import BootRequest, boot, wait_booted
from harness.debug.debugger import Debugger
from harness.errors import HarnessError
from harness.machine.qemu import Machine, MachineOptions
from harness.x86.pagewalk import walk_page_tables
from harness.debug.program_image import load_program
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.run.capture import DebuggerMemory, capture_state
from harness.run.suite import load_all, select

SCENARIO = "lazy-anon"


def bench_scenario(adapter, runs: int) -> tuple:
    """(median bare seconds, median harness seconds) for SCENARIO."""
    sc = select(load_all(adapter.programs_dir, DATA_DIR), [SCENARIO])[0]
    bare, full = [], []
    for _ in range(runs):
        t0 = time.monotonic()
        boot(adapter, BootRequest(runs=[[sc.program]], mem_mb=sc.mem_mb, swap_mb=sc.swap_mb),
             MachineOptions())
        bare.append(time.monotonic() - t0)
        t0 = time.monotonic()
        res = run_scenario(adapter, sc, RunnerOptions())
        full.append(time.monotonic() - t0)
        assert res.verdict.passed, res.reason
    return statistics.median(bare), statistics.median(full)


def bench_snapshot(adapter, runs: int, mb: int = 20) -> tuple:
    """(median walk ms, pages, median full capture ms) at bigtouch's checkpoint."""
    image = load_program(adapter.find_program("bigtouch"))
    with Machine(MachineOptions(paused=True)) as m:
        disks = adapter.make_disks(m.run_dir, {"bigtouch": image.path}, {}, 0)
        m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["bigtouch", str(mb)]]), mb + 44))
        symbols = adapter.kernel_symbols()
        with Debugger.attach(m.gdb_socket, symbols, adapter.long_mode_symbol) as dbg:
            bp = dbg.add_breakpoint(image.checkpoint)
            while True:   # the first stop may come before the page is mapped
                dbg.run_until(bp, 60)
                try:
                    dbg.read_virt(image.checkpoint, 1)
                    break
                except HarnessError:
                    continue
            inspector = adapter.inspector(dbg, symbols)
            cr3 = dbg.register("cr3")
            mem = DebuggerMemory(dbg, (mb + 44) << 20)
            walks, captures, pages = [], [], 0
            for _ in range(runs):
                t0 = time.monotonic()
                with dbg.physical_memory():
                    snap = walk_page_tables(mem, cr3, user_top=adapter.address_layout.user_top)
                walks.append(time.monotonic() - t0)
                pages = len(list(snap.iter_user_4k()))
                t0 = time.monotonic()
                capture_state(inspector, dbg, (mb + 44) << 20, 1, {"bigtouch": image})
                captures.append(time.monotonic() - t0)
        m.kill()
    return statistics.median(walks) * 1e3, pages, statistics.median(captures) * 1e3


def bench_breakpoints() -> float:
    from harness.bench.debugger import bench_rsp
    from harness.bench.probe_guest import build_probe_guest
    with tempfile.TemporaryDirectory(prefix="vmcheck-bench-") as tmp:
        guest = build_probe_guest(Path(tmp) / "guest")
        hits, seconds = bench_rsp(guest, MachineOptions(paused=True), 999, "run-until", Path(tmp))
    return hits / seconds


def bench_snapshot_boot(adapter, runs: int) -> tuple:
    """(median cold boot ms, median loadvm ms) to the kernel's boot marker."""
    program = {"hello": adapter.find_program("hello")}
    cold = []
    for _ in range(runs):
        with Machine(MachineOptions()) as m:
            disks = adapter.make_disks(m.run_dir, program, {}, 0)
            m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["hello"]]), 20))
            wait_booted(m, adapter, 10)
            cold.append(time.monotonic() - m.start_time)
            m.kill()
    loads = []
    with Machine(MachineOptions()) as m:
        disks = adapter.make_disks(m.run_dir, program, {}, 0, snapshots=True)
        m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["hello"]]), 20))
        wait_booted(m, adapter, 10)
        m.pause()
        m.savevm("booted")
        for _ in range(runs):
            t0 = time.monotonic()
            m.loadvm("booted")
            loads.append(time.monotonic() - t0)
        m.kill()
    return statistics.median(cold) * 1e3, statistics.median(loads) * 1e3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="vmcheck harness benchmark")
    parser.add_argument("--runs", type=int, default=5, help="repetitions, median shown (default 5)")
    args = parser.parse_args(argv)
    adapter = get_adapter("reference")
    adapter.check_built()
    bare, full = bench_scenario(adapter, args.runs)
    walk_ms, pages, capture_ms = bench_snapshot(adapter, args.runs)
    rate = bench_breakpoints()
    cold_ms, load_ms = bench_snapshot_boot(adapter, args.runs)
    rows = [
        (f"{SCENARIO}: bare QEMU run", f"{bare * 1e3:.0f} ms", "", ""),
        (f"{SCENARIO}: under the harness (4 checkpoints)", f"{full * 1e3:.0f} ms",
         f"ratio {full / bare:.2f}", "<= 1.3 " + ("ok" if full / bare <= 1.3 else "MISSED")),
        (f"page-table snapshot, 20 MB process ({pages} pages)", f"{walk_ms:.1f} ms", "",
         "<= 20 ms " + ("ok" if walk_ms <= 20 else "MISSED")),
        ("full state capture (PTEs + SPT + pools)", f"{capture_ms:.0f} ms", "", ""),
        ("breakpoint round trips (run_until + callback)", f"{rate:.0f} /s", "", ""),
        ("ready state: cold boot", f"{cold_ms:.0f} ms", "", ""),
        ("ready state: loadvm of a snapshot", f"{load_ms:.0f} ms", f"ratio {load_ms / cold_ms:.2f}", ""),
    ]
    print(f"vmcheck harness benchmark (TCG, -icount), median of {args.runs}:")
    for name, value, ratio, target in rows:
        print(f"  {name:<50} {value:>10}  {ratio:<12} {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
