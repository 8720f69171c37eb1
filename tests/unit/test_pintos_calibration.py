"""The timer calibration stood in for (harness/adapters/pintos_kaist/calibration.py):
when it may be, what the stand-in does to the guest, the cache shared by
processes, and the schedule's record of it."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import pytest

from harness.adapters.pintos_kaist import calibration
from harness.adapters.pintos_kaist.calibration import (CalibrationCache, CalibrationShortcut,
                                                       NotStockCalibration, STOCK_CALLS,
                                                       calibration_shortcut, check_stock)
from harness.run.explore import replay_options
from harness.run.runner import RunnerOptions

LOOPS_AT, ENTRY = 0x8004_0000, 0x8000_1000


class FakeKernel:
    """Symbols whose functions call CALLS (name -> callees), with a 4-byte
    loops_per_tick unless LOOPS_SIZE says otherwise."""

    def __init__(self, loops_size: int = 4):
        self.calls = {name: set(callees) for name, callees in STOCK_CALLS.items()}
        self.loops_size = loops_size

    def find(self, name):
        if name == "loops_per_tick":
            return SimpleNamespace(name=name, kind="object", size=self.loops_size,
                                   address=LOOPS_AT)
        return SimpleNamespace(name=name, kind="func", size=1) if name in self.calls else None

    def address_of(self, name):
        return {"timer_calibrate": ENTRY, "loops_per_tick": LOOPS_AT}[name]


@pytest.fixture
def kernel(monkeypatch):
    monkeypatch.setattr(calibration, "called_functions",
                        lambda symbols, symbol: sorted(symbols.calls[symbol.name]))
    return FakeKernel()


def test_the_stock_calibration_gives_the_variable_and_a_changed_one_is_refused(kernel):
    assert check_stock(kernel) == LOOPS_AT
    kernel.calls["too_many_loops"].add("timer_ticks")
    with pytest.raises(NotStockCalibration, match="too_many_loops is not the stock one: it "
                                                  "calls busy_wait, timer_ticks"):
        check_stock(kernel)
    kernel.calls["too_many_loops"] = {"busy_wait"}
    del kernel.calls["busy_wait"]
    with pytest.raises(NotStockCalibration, match="no function busy_wait"):
        check_stock(kernel)
    kernel.calls["busy_wait"] = set()
    kernel.loops_size = 8
    with pytest.raises(NotStockCalibration, match="no 4-byte object loops_per_tick"):
        check_stock(kernel)


class FakeDebugger:
    """Stopped at PC with a return address on the stack at RSP."""

    def __init__(self, pc: int, rsp: int = 0x8000_F000, ret: int = 0x8000_2345):
        self.pc, self.regs = pc, {"rsp": rsp, "rip": pc}
        self.memory = {rsp: ret}
        self.writes: list = []
        self.breakpoints: list = []

    def add_breakpoint(self, address, callback):
        bp = SimpleNamespace(address=address, callback=callback, replaces_code=False)
        self.breakpoints.append(bp)
        return bp

    def register(self, name):
        return self.regs[name]

    def write_register(self, name, value):
        self.regs[name] = value

    def write_registers(self, values):
        self.regs.update(values)

    def read_u64(self, address):
        return self.memory[address]

    def write_virt(self, address, data):
        self.writes.append((address, data))


def test_the_stand_in_sets_the_variable_and_returns_as_ret_would():
    shortcut = CalibrationShortcut(ENTRY, LOOPS_AT, 2_095_104)
    dbg = FakeDebugger(ENTRY)
    shortcut.arm(dbg)
    (bp,) = dbg.breakpoints
    assert bp.address == ENTRY and bp.replaces_code
    assert bp.callback(dbg, bp) is False
    assert dbg.writes == [(LOOPS_AT, (2_095_104).to_bytes(4, "little"))]
    assert dbg.regs == {"rip": 0x8000_2345, "rsp": 0x8000_F008}
    assert shortcut.taken and "loops_per_tick set to 2095104" in shortcut.note


def test_a_hit_after_the_first_or_off_the_entry_changes_nothing():
    shortcut = CalibrationShortcut(ENTRY, LOOPS_AT, 7)
    dbg = FakeDebugger(ENTRY + 1)          # a detour came back elsewhere
    shortcut.arm(dbg)
    dbg.breakpoints[0].callback(dbg, dbg.breakpoints[0])
    assert not dbg.writes and not shortcut.taken
    dbg.pc = ENTRY
    dbg.breakpoints[0].callback(dbg, dbg.breakpoints[0])
    dbg.regs["rsp"] -= 8
    dbg.memory[dbg.regs["rsp"]] = 1
    dbg.breakpoints[0].callback(dbg, dbg.breakpoints[0])
    assert len(dbg.writes) == 1


def _adapter(kernel):
    return SimpleNamespace(kernel_symbols=lambda: kernel)


ICOUNT = SimpleNamespace(icount_clock=True)


def test_the_probe_runs_once_per_build_and_its_value_is_kept(kernel, tmp_path, monkeypatch):
    probes = []
    monkeypatch.setattr(calibration, "probe_loops",
                        lambda adapter, options: probes.append(1) or 1234)
    cache = CalibrationCache(tmp_path / "cal.json")
    for _ in range(3):
        shortcut, why = calibration_shortcut(_adapter(kernel), ICOUNT, "b1 qemu", cache)
        assert why is None and shortcut.loops == 1234 and shortcut.entry == ENTRY
    assert len(probes) == 1
    assert json.loads((tmp_path / "cal.json").read_text()) == {"b1 qemu": 1234}
    calibration_shortcut(_adapter(kernel), ICOUNT, "b2 qemu", cache)
    assert len(probes) == 2


def test_two_threads_asking_at_once_probe_once(kernel, tmp_path, monkeypatch):
    started = threading.Event()

    def slow_probe(adapter, options):
        started.set()
        threading.Event().wait(0.2)
        return 99
    probes = []
    monkeypatch.setattr(calibration, "probe_loops",
                        lambda a, o: probes.append(1) or slow_probe(a, o))
    results = []
    threads = [threading.Thread(target=lambda: results.append(calibration_shortcut(
        _adapter(kernel), ICOUNT, "b", CalibrationCache(tmp_path / "c.json"))))
        for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(probes) == 1 and [r[0].loops for r in results] == [99, 99]


def test_the_loop_runs_without_icount_when_asked_not_stock_or_when_the_probe_fails(
        kernel, tmp_path, monkeypatch):
    cache = CalibrationCache(tmp_path / "c.json")
    assert calibration_shortcut(_adapter(kernel), SimpleNamespace(icount_clock=False), "b",
                                cache) == (None, "the run is not under -icount (the loop "
                                                 "measures the host)")
    monkeypatch.setenv("VMCHECK_PINTOS_CALIBRATE", "run")
    assert calibration_shortcut(_adapter(kernel), ICOUNT, "b", cache) == \
        (None, "VMCHECK_PINTOS_CALIBRATE=run")
    monkeypatch.delenv("VMCHECK_PINTOS_CALIBRATE")
    kernel.calls["timer_calibrate"].add("thread_yield")
    shortcut, why = calibration_shortcut(_adapter(kernel), ICOUNT, "b", cache)
    assert shortcut is None and "timer_calibrate is not the stock one" in why
    kernel.calls["timer_calibrate"].remove("thread_yield")

    def broken(adapter, options):
        raise RuntimeError("QEMU would not start")
    monkeypatch.setattr(calibration, "probe_loops", broken)
    shortcut, why = calibration_shortcut(_adapter(kernel), ICOUNT, "b", cache)
    assert shortcut is None and why == "the calibration probe failed: QEMU would not start"
    assert not (tmp_path / "c.json").exists()       # nothing kept: the next run tries again


def test_a_replay_takes_the_shortcut_only_if_its_schedule_did(monkeypatch):
    monkeypatch.setattr("harness.run.explore.check_travels", lambda schedule, adapter: None)
    sc = SimpleNamespace(inject=())
    opts = RunnerOptions()
    assert opts.boot_shortcuts
    old = {"injections": []}                    # recorded before there were shortcuts
    assert not replay_options(None, sc, old, opts).boot_shortcuts
    assert replay_options(None, sc, {**old, "boot_shortcuts": True}, opts).boot_shortcuts
    assert not replay_options(None, sc, {**old, "boot_shortcuts": False}, opts).boot_shortcuts
