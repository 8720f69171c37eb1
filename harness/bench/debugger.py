"""Benchmark: breakpoint round trips per second, direct remote protocol
(harness/debug/rsp.py, harness/debug/debugger.py) versus GDB's embedded Python.

Every method boots the probe guest (harness/bench/probe_guest.py) in a fresh,
paused QEMU, attaches in long mode, breaks at probe_tick (called in a tight
loop), takes one warm-up hit and then times HITS more. A hit is a full round
trip: the guest stops, the client learns it, steps over the breakpoint and
resumes.

    /usr/bin/python3 -m harness.bench.debugger [--hits 999] [--repeat 3] [--no-icount]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.debug.debugger import Debugger
from harness.machine.qemu import Machine, MachineOptions
from harness.bench.probe_guest import build_probe_guest, probe_qemu_args
from harness.debug.symbols import SymbolTable

GDB_TIMEOUT_S = 120

GDB_SCRIPT = r"""
import gdb, json, time
ELF, SOCKET, HITS, MODE = {elf!r}, {socket!r}, {hits}, {mode!r}
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set architecture i386:x86-64")
gdb.execute("file " + ELF)
gdb.execute("target remote " + SOCKET)
gdb.execute("hbreak long_mode_entry")
gdb.execute("continue")
gdb.execute("delete")

if MODE == "continue-loop":
    hits = 0
    def on_stop(event):
        global hits
        if isinstance(event, gdb.BreakpointEvent):
            hits += 1
    gdb.events.stop.connect(on_stop)
    gdb.execute("break probe_tick")
    gdb.execute("continue")  # warm-up hit
    start, first = time.monotonic(), hits
    while hits < first + HITS:
        gdb.execute("continue")
    counted = hits - first
else:  # "stop-method": GDB resumes by itself while Breakpoint.stop() is false
    class Counter(gdb.Breakpoint):
        hits = 0
        def stop(self):
            self.hits += 1
            return self.hits in (1, HITS + 1)
    bp = Counter("probe_tick")
    gdb.execute("continue")  # warm-up hit
    start = time.monotonic()
    gdb.execute("continue")
    counted = bp.hits - 1
print("BENCH " + json.dumps({{"hits": counted, "seconds": time.monotonic() - start}}))
gdb.execute("kill")
"""


def bench_gdb(guest, options: MachineOptions, hits: int, mode: str, work: Path) -> tuple:
    """(hits, seconds) for GDB's Python API in MODE."""
    with Machine(options) as machine:
        machine.start(probe_qemu_args(guest))
        script = work / f"bench-{mode}.py"
        script.write_text(GDB_SCRIPT.format(elf=str(guest.elf64), socket=str(machine.gdb_socket),
                                            hits=hits, mode=mode))
        proc = subprocess.Popen(["gdb", "-batch", "-nx", "-x", str(script)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=GDB_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
    lines = [line for line in out.splitlines() if line.startswith("BENCH ")]
    if not lines:
        raise RuntimeError(f"GDB ({mode}) printed no result:\n{out[-2000:]}")
    result = json.loads(lines[-1][6:])
    return result["hits"], result["seconds"]


def bench_rsp(guest, options: MachineOptions, hits: int, mode: str, work: Path) -> tuple:
    """(hits, seconds) for the direct client: raw RspClient packets, or the
    Debugger's run_until with a counting callback."""
    symbols = SymbolTable(guest.elf64)
    with Machine(options) as machine:
        machine.start(probe_qemu_args(guest))
        with Debugger.attach(machine.gdb_socket, symbols, long_mode_at="long_mode_entry") as dbg:
            if mode == "raw-packets":
                return _raw_loop(dbg, symbols.address_of("probe_tick"), hits)
            bp = dbg.add_breakpoint("probe_tick")
            dbg.run_until(bp, timeout=30)  # warm-up hit
            bp.callback = lambda d, b: b.hits > hits
            start = time.monotonic()
            dbg.run_until(timeout=60)
            return bp.hits - 1, time.monotonic() - start


def _raw_loop(dbg: Debugger, address: int, hits: int) -> tuple:
    client = dbg.client
    client.insert_breakpoint(address)
    client.resume()
    client.wait_stop(30)  # warm-up hit
    start = time.monotonic()
    for _ in range(hits):
        client.resume()
        if client.wait_stop(30) is None or client.pc() != address:
            raise RuntimeError("raw loop: the guest did not stop at the breakpoint")
    return hits, time.monotonic() - start


def bench_packet_round_trip(guest, options: MachineOptions, count: int = 2000) -> float:
    """Seconds per trivial request (`p` of rip, uncached) while stopped."""
    with Machine(options) as machine:
        machine.start(probe_qemu_args(guest))
        with Debugger.attach(machine.gdb_socket, SymbolTable(guest.elf64),
                             long_mode_at="long_mode_entry") as dbg:
            start = time.monotonic()
            for _ in range(count):
                dbg.client.request(b"p10")
            return (time.monotonic() - start) / count


METHODS = [  # (row name, function, mode)
    ("rsp.py raw packets (c, p, z0/s/Z0)", bench_rsp, "raw-packets"),
    ("debugger.py run_until + callback", bench_rsp, "run-until"),
    ("GDB Python: continue loop + stop event", bench_gdb, "continue-loop"),
    ("GDB Python: Breakpoint.stop() auto-resume", bench_gdb, "stop-method"),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=999, help="timed hits per run (default 999)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per method; the best is shown (default 3)")
    parser.add_argument("--no-icount", action="store_true",
                        help="run QEMU without -icount (default: with, as scenarios do)")
    args = parser.parse_args(argv)
    options = MachineOptions(paused=True, icount=not args.no_icount)
    with tempfile.TemporaryDirectory(prefix="vmcheck-bench-dbg-") as tmp:
        work = Path(tmp)
        guest = build_probe_guest(work / "guest")
        rows = []
        for name, bench, mode in METHODS:
            runs = [bench(guest, options, args.hits, mode, work) for _ in range(args.repeat)]
            hits, seconds = min(runs, key=lambda r: r[1] / r[0])
            rows.append((name, hits, seconds, hits / seconds))
        packet = bench_packet_round_trip(guest, options)
    _print_table(rows, packet, args)
    return 0


def _print_table(rows: list, packet_seconds: float, args) -> None:
    reference = next(r[3] for r in rows if r[0].startswith("GDB Python: continue"))
    clock = "no -icount" if args.no_icount else "-icount shift=0,sleep=off"
    print(f"Breakpoint round trips, probe guest under TCG ({clock}), best of {args.repeat}:")
    print(f"{'method':<44} {'hits':>6} {'seconds':>8} {'hits/s':>8} {'us/hit':>8} {'vs GDB':>7}")
    for name, hits, seconds, rate in rows:
        print(f"{name:<44} {hits:>6} {seconds:>8.3f} {rate:>8.0f} {1e6 / rate:>8.0f} "
              f"{rate / reference:>6.2f}x")
    print(f"trivial packet round trip (p rip): {packet_seconds * 1e6:.1f} us")


if __name__ == "__main__":
    sys.exit(main())
