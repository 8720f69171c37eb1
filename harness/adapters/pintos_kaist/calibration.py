"""The timer calibration of a Pintos-KAIST boot, done once per kernel build.

Every Pintos boot runs `timer_calibrate()` (devices/timer.c), which busy-
waits to find `loops_per_tick`, the loop count of one timer tick used by
its short delays. Under `-icount shift=0,sleep=off` the guest's clock is
its instruction count, so the answer is a pure function of the kernel's
code: the same number every boot (measured: 147 of 147 boots of team8's
suite printed 209,510,400 loops/s; the one other was a run without
-icount). It is also the most expensive part of the boot: 317 ms of the
~730 ms from QEMU's start to the first user instruction on team8 (idle
host, median of 5; docs/pintos-kaist.md "Timer calibration").

So the harness measures it once per kernel build and QEMU (a probe boot,
stopped when `timer_calibrate` returns, ~0.7 s; the value kept in
build/pintos-calibration.json), and at every later boot stands in for the
function: at its entry it stores the value in `loops_per_tick` and
returns to the caller as `ret` would. What the kernel loses is the
guest time the loop took (~30 timer ticks, which no correct kernel can
depend on) and its console line "Calibrating timer...  N loops/s."; the
run's notes say so. Every run of a build takes the shortcut, the first
one too (the probe is a boot of its own), so runs stay the same run as
each other; a schedule records it ("boot_shortcuts") and a replay of
a schedule recorded with the loop runs the loop.

Only a stock function is stood in for: `timer_calibrate` calls exactly
what the course's does (STOCK_CALLS, from the kernel's code, as the file
system's check in fs_format.py), and `loops_per_tick` is a 4-byte object.
Without -icount (KVM, --no-icount) the loop measures the host, and is run.
`VMCHECK_PINTOS_CALIBRATE=run` runs it in every boot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from harness.adapters.pintos_kaist.driver import DriverNotServable, called_functions
from harness.adapters.pintos_kaist.exact_disk import return_to_caller
from harness.adapters.pintos_kaist.probe import ProbeCache, build_path, probe_machine, run_to

CALIBRATE, LOOPS = "timer_calibrate", "loops_per_tick"
STOCK_CALLS = {
    "timer_calibrate": {"debug_panic", "intr_get_level", "printf", "too_many_loops"},
    "too_many_loops": {"busy_wait"},
    "busy_wait": set(),
}
ENV = "VMCHECK_PINTOS_CALIBRATE"
CACHE_NAME = "pintos-calibration.json"


class NotStockCalibration(Exception):
    """The kernel's timer calibration cannot be stood in for (why)."""


def check_stock(symbols) -> int:
    """The address of `loops_per_tick`; NotStockCalibration unless the
    calibration functions call exactly STOCK_CALLS and the variable is a
    4-byte object."""
    for name, expected in STOCK_CALLS.items():
        symbol = symbols.find(name)
        if symbol is None or symbol.kind != "func" or not symbol.size:
            raise NotStockCalibration(f"the kernel has no function {name}")
        try:
            called = set(called_functions(symbols, symbol))
        except DriverNotServable as e:
            raise NotStockCalibration(str(e)) from None
        if called != expected:
            raise NotStockCalibration(f"{name} is not the stock one: it calls "
                                      f"{', '.join(sorted(called)) or 'nothing'}")
    loops = symbols.find(LOOPS)
    if loops is None or loops.kind != "object" or loops.size != 4:
        raise NotStockCalibration(f"the kernel has no 4-byte object {LOOPS}")
    return loops.address


def stock_or_why(symbols) -> tuple[Optional[int], Optional[str]]:
    """(the address of `loops_per_tick`, None) for a stock calibration,
    (None, why not) for another (check_stock)."""
    try:
        return check_stock(symbols), None
    except NotStockCalibration as e:
        return None, str(e)


class CalibrationShortcut:
    """Stands in for one boot's timer_calibrate(): arm() on a debugger
    stopped before it runs."""

    name = "calibration"
    missed = None

    def __init__(self, entry: int, loops_address: int, loops: int):
        self.entry, self.loops_address, self.loops = entry, loops_address, loops
        self.taken = False

    def prepare(self, machine) -> None:
        """Nothing to do before QEMU starts."""

    @property
    def note(self) -> str:
        return (f"timer_calibrate() not run: loops_per_tick set to {self.loops}, what this "
                f"kernel build computes under -icount, measured once (docs/pintos-kaist.md, "
                f"\"Timer calibration\")")

    def arm(self, dbg) -> None:
        bp = dbg.add_breakpoint(self.entry, self._take)
        bp.replaces_code = True

    def _take(self, dbg, bp) -> bool:
        if dbg.pc == bp.address and not self.taken:
            dbg.write_virt(self.loops_address, self.loops.to_bytes(4, "little"))
            return_to_caller(dbg)
            self.taken = True
        return False


class CalibrationCache(ProbeCache):
    """loops_per_tick by (kernel build id, QEMU version), in one JSON file
    (PATH, default build/pintos-calibration.json) shared under a lock."""

    def __init__(self, path: Optional[Path] = None):
        super().__init__(path or build_path(CACHE_NAME))


def wanted() -> bool:
    """False when VMCHECK_PINTOS_CALIBRATE=run asks every boot to calibrate."""
    return os.environ.get(ENV, "").strip().lower() != "run"


def probe_loops(adapter, options) -> int:
    """loops_per_tick as ADAPTER's kernel computes it in a boot of its own
    under OPTIONS (MachineOptions with -icount), read where timer_calibrate
    returns. HarnessError if the boot does not get there."""
    symbols = adapter.kernel_symbols()
    entry, loops_address = symbols.address_of(CALIBRATE), check_stock(symbols)

    def start(machine):
        disks = adapter.make_disks(machine.run_dir, {}, {}, 0)
        machine.start(adapter.qemu_args(disks, "-q -f", 64))     # no action: stopped before

    with probe_machine(options, start) as (machine, gdb):
        run_to(machine, gdb, entry, "timer calibration")
        back = int.from_bytes(gdb.read_memory(gdb.read_register("rsp"), 8), "little")
        run_to(machine, gdb, back, "timer calibration")
        return int.from_bytes(gdb.read_memory(loops_address, 4), "little")


def calibration_shortcut(adapter, options, build: str,
                         cache: Optional[CalibrationCache] = None, stock: Optional[tuple] = None):
    """(CalibrationShortcut, None) for a boot of ADAPTER's kernel under
    OPTIONS (MachineOptions), probing once per BUILD (kernel build id and
    QEMU version); STOCK: stock_or_why of the kernel, if known already;
    (None, why) when the loop must run: no -icount, a kernel whose
    calibration is not the stock one, VMCHECK_PINTOS_CALIBRATE=run, a
    probe that failed."""
    if not wanted():
        return None, f"{ENV}=run"
    if not options.icount_clock:
        return None, "the run is not under -icount (the loop measures the host)"
    symbols = adapter.kernel_symbols()
    loops_address, not_stock = stock or stock_or_why(symbols)
    if not_stock:
        return None, not_stock
    with (cache or CalibrationCache()).locked() as entries:
        if build not in entries:
            try:
                entries[build] = probe_loops(adapter, options)
            except Exception as e:  # noqa: BLE001 - the boot then calibrates, as it always did
                return None, f"the calibration probe failed: {e}"
        loops = entries[build]
    return CalibrationShortcut(symbols.address_of(CALIBRATE), loops_address, loops), None
