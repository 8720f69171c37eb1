"""The harness benchmark (`make bench`), printed side by side with targets:

  0. boot: QEMU start to the first user instruction (target <= 100 ms) and
     where the time goes (harness/bench/boot_time.py, which also shows
     min and max, and boots a Pintos-KAIST tree with --kernel)
  1. one scenario (lazy-anon: 4 checkpoints with page-table and SPT
     capture) run bare (QEMU alone, no debugger) vs under the harness, with
     guest RAM mapped (the default) and with memory read over the GDB stub;
     target ratio <= 1.15
  2. a full state capture (PTEs + SPT + frames + swap) of a 20 MB process
     (bigtouch 20, 5,120 pages) at its checkpoint, three ways: over the stub
     without its block cache (every read a round trip), over the stub with
     the per-stop block cache (the fallback),
     from the mapped RAM (now; also its CPU time, which other jobs on a
     shared host inflate less than wall time); target <= 20 ms (<= 50 ms on
     a Pintos-KAIST tree); and the page-table walk alone
  3. breakpoint round trips per second (the debugger's run_until loop)
  4. ready-to-run state: cold boot vs loadvm of a snapshot taken there

    /usr/bin/python3 -m harness.bench.overhead [--runs N] [--json FILE|-]
        [--parts boot,scenario,capture,breakpoints,loadvm] [--kernel K]

--kernel (default reference; or pintos-kaist:TREE) is the kernel of the
boot and capture parts; the scenario and loadvm parts run on the reference
kernel, the breakpoint part on a probe guest of its own.

--json writes the figures (harness.bench.figures) for tools; the host's
load average goes with them, since the machines this runs on are shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness.adapters import get_adapter
from harness.bench.boot_time import BootTimer, boot_figures, boot_samples
from harness.bench.figures import Figure, print_figures, write_json
from harness.debug.debugger import Debugger
from harness.debug.guest_memory import StubMemory
from harness.debug.program_image import load_program
from harness.errors import HarnessError, VmcheckError
from harness.machine.qemu import Machine, MachineOptions
from harness.run.boot import BootRequest, boot, wait_booted
from harness.run.capture import DebuggerMemory, capture_state
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.run.suite import load_all, select
from harness.x86.pagewalk import walk_page_tables

SCENARIO = "lazy-anon"
SPIN = ["spin", "S", "300000000"]   # about a second of output under TCG
TOUCH_MB = 20
TARGET_SCENARIO_RATIO = 1.15
TARGET_CAPTURE_MS = {"reference": 20.0, "pintos-kaist": 50.0}   # by adapter (issue 17)


def median_ms(samples: list) -> float:
    return statistics.median(samples) * 1e3


def bench_scenario(adapter, runs: int) -> list[Figure]:
    """SCENARIO bare, under the harness with mapped RAM, and over the stub."""
    sc = select(load_all(adapter.programs_dir, DATA_DIR), [SCENARIO])[0]
    times: dict = {"bare": [], "mapped": [], "stub": []}
    for _ in range(runs):
        t0 = time.monotonic()
        boot(adapter, BootRequest(runs=[[sc.program]], mem_mb=sc.mem_mb, swap_mb=sc.swap_mb),
             MachineOptions())
        times["bare"].append(time.monotonic() - t0)
        for key, shared in (("mapped", True), ("stub", False)):
            t0 = time.monotonic()
            res = run_scenario(adapter, sc, RunnerOptions(MachineOptions(shared_ram=shared)))
            times[key].append(time.monotonic() - t0)
            if not res.verdict.passed:
                raise HarnessError(f"benchmark run of {SCENARIO} failed: {res.reason}")
    bare, mapped, stub = (median_ms(times[k]) for k in ("bare", "mapped", "stub"))
    return [Figure("scenario_bare_ms", f"{SCENARIO}: bare QEMU run", bare, "ms"),
            Figure("scenario_harness_ms", f"{SCENARIO}: under the harness (4 checkpoints)",
                   mapped, "ms"),
            Figure("scenario_ratio", f"{SCENARIO}: harness / bare", mapped / bare, "x",
                   TARGET_SCENARIO_RATIO),
            Figure("scenario_stub_ratio", f"{SCENARIO}: harness / bare, memory over the stub",
                   stub / bare, "x")]


def stopped_at_checkpoint(dbg: Debugger, checkpoint: int) -> None:
    """Runs to bigtouch's checkpoint (the first stop may come before its
    page is mapped: then once more)."""
    bp = dbg.add_breakpoint(checkpoint)
    while True:
        dbg.run_until(bp, 60)
        try:
            dbg.read_virt(checkpoint, 1)
            return
        except HarnessError:
            continue


def bench_capture(adapter, runs: int) -> list[Figure]:
    """The page-table walk and the full capture at bigtouch's checkpoint."""
    image = load_program(adapter.find_program("bigtouch"))
    ram = (TOUCH_MB + 44) << 20
    with Machine(MachineOptions(paused=True)) as m:
        disks = adapter.make_disks(m.run_dir, {"bigtouch": image.path}, {}, 0)
        m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["bigtouch", str(TOUCH_MB)]]),
                                  ram >> 20))
        if m.guest_ram is None:
            raise HarnessError(f"guest RAM is not mapped: {m.guest_ram_note}")
        symbols = adapter.kernel_symbols()
        with Debugger.attach(m.gdb_socket, symbols, adapter.long_mode_symbol,
                             guest_ram=m.guest_ram) as dbg:
            stopped_at_checkpoint(dbg, image.checkpoint)
            inspector = adapter.inspector(dbg, symbols)
            mapped = dbg.memory
            readers = {"stub": StubMemory(dbg.client, cache=False),
                       "cached": StubMemory(dbg.client), "mapped": mapped}
            times: dict = {key: [] for key in ("walk", "cpu", *readers)}
            for _ in range(runs):
                for key, reader in readers.items():
                    dbg.memory = reader
                    dbg.client.epoch += 1      # a fresh stop for each capture: no warm cache
                    t0, cpu = time.monotonic(), time.process_time()
                    state = capture_state(inspector, dbg, ram, 1, {"bigtouch": image})
                    times[key].append(time.monotonic() - t0)
                times["cpu"].append(time.process_time() - cpu)   # the mapped capture's
                times["walk"].append(_walk_seconds(dbg, adapter, ram))
            pages = len(list(state.proc.pages.iter_user_4k()))
        m.kill()
    return _capture_figures({key: median_ms(v) for key, v in times.items()}, pages,
                            TARGET_CAPTURE_MS.get(adapter.name))


def _walk_seconds(dbg: Debugger, adapter, ram: int) -> float:
    """One page-table walk of the current process, from the mapped RAM."""
    dbg.client.epoch += 1
    t0 = time.monotonic()
    with dbg.physical_memory():
        walk_page_tables(DebuggerMemory(dbg, ram), dbg.register("cr3"),
                         user_top=adapter.address_layout.user_top)
    return time.monotonic() - t0


def _capture_figures(ms: dict, pages: int, target: float) -> list[Figure]:
    what = f"{TOUCH_MB} MB process ({pages} pages)"
    return [Figure("walk_ms", f"page-table walk, {what}", ms["walk"], "ms"),
            Figure("capture_stub_ms", "full capture over the stub, no block cache",
                   ms["stub"], "ms"),
            Figure("capture_cached_ms", "full capture over the stub, per-stop cache (fallback)",
                   ms["cached"], "ms"),
            Figure("capture_ms", f"full capture from mapped RAM, {what}", ms["mapped"], "ms",
                   target),
            Figure("capture_cpu_ms", "the same, the harness's CPU time (other jobs' share "
                   "left out)", ms["cpu"], "ms"),
            Figure("capture_speedup", "full capture: stub without cache / mapped RAM",
                   ms["stub"] / ms["mapped"], "x")]


def bench_breakpoints() -> list[Figure]:
    from harness.bench.debugger import bench_rsp
    from harness.bench.probe_guest import build_probe_guest
    with tempfile.TemporaryDirectory(prefix="vmcheck-bench-") as tmp:
        guest = build_probe_guest(Path(tmp) / "guest")
        hits, seconds = bench_rsp(guest, MachineOptions(paused=True), 999, "run-until", Path(tmp))
    return [Figure("breakpoints_per_s", "breakpoint round trips (run_until + callback)",
                   hits / seconds, "/s")]


def bench_snapshot_boot(adapter, runs: int) -> list[Figure]:
    """Cold boot vs loadvm of a snapshot, to the kernel's boot marker."""
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
    with Machine(MachineOptions()) as m:   # spin: still running when paused (hello may be done)
        disks = adapter.make_disks(m.run_dir, {"spin": adapter.find_program("spin")}, {}, 0,
                                   snapshots=True)
        m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([SPIN]), 20))
        wait_booted(m, adapter, 10)
        m.pause()
        m.savevm("booted")
        for _ in range(runs):
            t0 = time.monotonic()
            m.loadvm("booted")
            loads.append(time.monotonic() - t0)
        m.kill()
    cold_ms, load_ms = median_ms(cold), median_ms(loads)
    return [Figure("cold_boot_ms", "ready state: cold boot", cold_ms, "ms"),
            Figure("loadvm_ms", "ready state: loadvm of a snapshot (RAM mapped)", load_ms, "ms")]


PARTS = ("boot", "scenario", "capture", "breakpoints", "loadvm")


def measure(runs: int, parts=PARTS, kernel: str = "reference") -> list[Figure]:
    reference = get_adapter("reference")
    reference.check_built()
    chosen = get_adapter(kernel) if kernel != "reference" else reference
    chosen.check_built()
    measures = {
        "boot": lambda: boot_figures(boot_samples(BootTimer("hello", MachineOptions(), chosen),
                                                  runs), kernel),
        "scenario": lambda: bench_scenario(reference, runs),
        "capture": lambda: bench_capture(chosen, runs),
        "breakpoints": bench_breakpoints,
        "loadvm": lambda: bench_snapshot_boot(reference, runs)}
    return [figure for part in parts for figure in measures[part]()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m harness.bench.overhead",
                                     description="vmcheck harness benchmark")
    parser.add_argument("--runs", type=int, default=5, help="repetitions, median shown (default 5)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE "
                                                       "('-': standard output; default: none)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"which parts, comma-separated (default: {','.join(PARTS)})")
    parser.add_argument("--kernel", default="reference",
                        help="kernel of the boot and capture parts: reference (default) or "
                             "pintos-kaist:PATH (a built tree)")
    args = parser.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not parts or set(parts) - set(PARTS):
        parser.error(f"--parts: choose from {', '.join(PARTS)}")
    try:
        figures = measure(args.runs, parts, args.kernel)
    except VmcheckError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return e.exit_code
    title = f"vmcheck harness benchmark (TCG, -icount), median of {args.runs}"
    print_figures(title, figures, sys.stderr if args.json == "-" else sys.stdout)
    if args.json:
        write_json(args.json, "overhead", args.runs, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
