"""The fault-storm rule (harness/run/fault_storm.py) inside the hang watch,
on fake clocks and a fake debugger whose breakpoint the test fires with
fault samples (the real QEMU: a 2wheeh stk-evict run, docs/pintos-kaist.md
"Hangs")."""

import pytest

from harness.adapters.fault_sites import FRAME_ARG, handler_entry
from harness.debug.debugger import Debugger
from harness.debug.rsp import RspClient
from harness.machine.guest_clock import INSTRUCTIONS_PER_TICK, ClockSample
from harness.run import fault_storm
from harness.run.fault_storm import (STORM, STORM_FAULTS, VARIETY, VARIETY_SEEN, FaultSample,
                                     FaultStreak)
from harness.run.hang_watch import FAULT_STORM, GuestHang, HangRules, HangWatch
from tests.unit.fake_gdb_stub import STUB_WAIT, FakeStub
from tests.unit.test_hang_watch import RUNNING, FakeClock, FakeInspector, wall  # noqa: F401

ENTRY = 0xFFFF800000123000
USER_FAULT = FaultSample(space=0x5000, user=True, rip=0x401234, cr2=0x4747F010,
                         error_code=0x6)
KERNEL_RIP = 0xFFFF800000200000
KERNEL_FAULT = FaultSample(0x5000, False, KERNEL_RIP, 0x4747E000, 0x2)   # a copy to the stack


class FakeBreakpoint:
    def __init__(self, address, callback):
        self.address, self.callback = address, callback


class FaultingDebugger:
    """Holds the rule's breakpoint; fault() fires it with a sample, as the
    guest's page-fault entry would."""
    pc = ENTRY

    def __init__(self):
        self.armed: list = []
        self.sample = USER_FAULT

    def add_breakpoint(self, address, callback=None):
        bp = FakeBreakpoint(address, callback)
        self.armed.append(bp)
        return bp

    def remove_breakpoint(self, bp):
        self.armed.remove(bp)

    def fault(self, sample=None, times=1):
        for _ in range(times):
            if not self.armed:
                return
            self.sample = sample or self.sample
            bp = self.armed[0]
            assert bp.callback(self, bp) is False     # the guest goes on


def storm_watch(wall, marker, scale=1.0, idle_looks=True, faults=None):  # noqa: F811
    clock = FakeClock(wall)
    watch = HangWatch(HangRules(600, scale, idle_looks=idle_looks), clock,
                      lambda: marker[0], lambda: FakeInspector(RUNNING), started=wall.now,
                      fault_entry=ENTRY, faults=faults)
    if watch.storm is not None:
        watch.storm.read = lambda dbg: dbg.sample
    return watch, clock


def run_for(watch, wall, clock, seconds, dbg):  # noqa: F811
    """Polls for SECONDS of wall time, 0.1 s apart, doing what run_until
    does when a poll asks for a stop; how many stops were asked."""
    stops = 0
    for _ in range(round(seconds * 10)):
        wall.now += 0.1
        clock.run(1)
        if watch.poll():
            stops += 1
            watch.inspect(dbg)
    return stops


def test_the_same_user_fault_a_hundred_times_without_progress_is_a_storm(wall):  # noqa: F811
    watch, clock = storm_watch(wall, [0])
    dbg = FaultingDebugger()
    assert run_for(watch, wall, clock, 2.9, dbg) == 0 and not dbg.armed
    assert run_for(watch, wall, clock, 0.2, dbg) == 1 and dbg.armed[0].address == ENTRY
    dbg.fault(times=STORM_FAULTS - 1)
    with pytest.raises(GuestHang) as caught:
        dbg.fault()
    hang = caught.value
    assert hang.kind == FAULT_STORM and hang.pc == ENTRY
    assert hang.reason.startswith("fault storm: user instruction at 0x401234")
    assert "faults on 0x4747f010 again and again (100 times in a row" in hang.reason
    assert "without making the page present" in hang.reason


def test_a_protection_fault_storm_says_the_page_is_present(wall):  # noqa: F811
    watch, clock = storm_watch(wall, [0])
    dbg = FaultingDebugger()
    run_for(watch, wall, clock, 3.1, dbg)
    with pytest.raises(GuestHang) as caught:
        dbg.fault(FaultSample(0x5000, True, 0x401234, 0x4747F010, 0x7), times=STORM_FAULTS)
    assert "it is present: a protection fault" in caught.value.reason


def test_faults_on_page_after_page_are_variety_and_back_off(wall):  # noqa: F811
    watch, clock = storm_watch(wall, [0])
    dbg = FaultingDebugger()
    run_for(watch, wall, clock, 3.1, dbg)
    for page in range(VARIETY + 1):
        dbg.fault(FaultSample(0x5000, True, 0x401234, 0x10000000 + page * 4096, 0x6), times=3)
    assert not dbg.armed                                # disarmed, no hang
    assert run_for(watch, wall, clock, 2.9, dbg) == 0   # the back-off: 3 s, then 6 s
    assert run_for(watch, wall, clock, 0.2, dbg) == 1 and dbg.armed
    for page in range(VARIETY + 1):                     # kernel mode, page after page
        dbg.fault(FaultSample(0x5000, False, KERNEL_RIP, 0x10000000 + page * 4096, 0x2))
    assert not dbg.armed
    assert run_for(watch, wall, clock, 5.9, dbg) == 0
    assert run_for(watch, wall, clock, 0.2, dbg) == 1


def test_progress_between_faults_ends_the_sampling_and_resets_the_back_off(wall):  # noqa: F811
    marker = [0]
    watch, clock = storm_watch(wall, marker)
    dbg = FaultingDebugger()
    run_for(watch, wall, clock, 3.1, dbg)
    dbg.fault(times=STORM_FAULTS - 1)
    marker[0] += 1                                      # console output, say
    dbg.fault(times=1)
    assert not dbg.armed                                # no storm: the streak is gone
    assert run_for(watch, wall, clock, 2.9, dbg) == 0   # 3 s of quiet again, not a back-off
    assert run_for(watch, wall, clock, 0.2, dbg) == 1 and dbg.armed
    dbg.fault(times=STORM_FAULTS - 1)
    marker[0] += 1
    assert run_for(watch, wall, clock, 0.1, dbg) == 1   # seen by a poll: disarmed
    assert not dbg.armed


def test_a_run_with_progress_never_arms_it(wall):  # noqa: F811
    marker = [0]
    watch, clock = storm_watch(wall, marker, scale=2.0)
    dbg = FaultingDebugger()
    for _ in range(20):
        assert run_for(watch, wall, clock, 5.9, dbg) == 0   # under 3 s x scale 2
        marker[0] += 1
    assert not dbg.armed and watch.storm.armings == 0


def test_a_sample_without_a_storm_ends_after_its_wall_time(wall):  # noqa: F811
    watch, clock = storm_watch(wall, [0])
    dbg = FaultingDebugger()
    run_for(watch, wall, clock, 3.1, dbg)
    dbg.fault(times=10)
    assert run_for(watch, wall, clock, fault_storm.SAMPLE_S + 0.1, dbg) == 1
    assert not dbg.armed


def test_runs_that_must_replay_exactly_have_no_storm_rule(wall):  # noqa: F811
    watch, clock = storm_watch(wall, [0], idle_looks=False)
    assert watch.storm is None
    assert run_for(watch, wall, clock, 10, FaultingDebugger()) == 0


def test_the_streak_counts_equal_faults_in_a_row_only():
    streak = FaultStreak(storm_faults=3, variety=2)
    other = FaultSample(0x5000, True, 0x401234, 0x4747E010, 0x6)   # another page
    assert [streak.add(s) for s in (USER_FAULT, USER_FAULT, other)] == [None, None, None]
    assert streak.add(USER_FAULT) is None and streak.run == 1
    assert streak.add(FaultSample(0x5000, True, 0x401234, 0x4747F999, 0x6)) is None  # same page
    assert streak.add(USER_FAULT) == STORM
    third = FaultSample(0x6000, True, 0x401234, 0x4747F010, 0x6)   # another process
    assert FaultStreak(variety=2).add(third) is None
    many = FaultStreak(variety=2)
    assert [many.add(s) for s in (USER_FAULT, other, third)] == [None, None, VARIETY_SEEN]


def test_the_page_fault_entry_is_found_by_symbol():
    class Symbols:
        def find(self, name):
            return type("S", (), {"address": 0x8000})() if name == "page_fault" else None
    site = handler_entry(Symbols())
    assert site.address == 0x8000 and site.kind == FRAME_ARG
    assert handler_entry(Symbols(), "no_such_handler") is None


def test_progress_seen_by_a_poll_resets_a_grown_back_off(wall):  # noqa: F811
    marker = [0]
    watch, clock = storm_watch(wall, marker)
    dbg = FaultingDebugger()
    pages = [FaultSample(0x5000, True, 0x401234, 0x10000000 + p * 4096, 0x6)
             for p in range(VARIETY + 1)]
    run_for(watch, wall, clock, 3.1, dbg)
    for back_off in (3.0, 6.0):                         # variety twice: the back-off doubles
        for sample in pages:
            dbg.fault(sample)
        assert not dbg.armed
        assert run_for(watch, wall, clock, back_off - 0.1, dbg) == 0
        assert run_for(watch, wall, clock, 0.2, dbg) == 1 and dbg.armed
    marker[0] += 1                                      # progress while armed, no fault
    assert run_for(watch, wall, clock, 0.1, dbg) == 1 and not dbg.armed
    assert run_for(watch, wall, clock, 2.9, dbg) == 0
    assert run_for(watch, wall, clock, 0.2, dbg) == 1 and dbg.armed   # not 12 s later


class TickingClock:
    """A guest clock that runs one busy tick a read (real wall time)."""
    ticks = 0

    def sample(self):
        self.ticks += 1
        return ClockSample(0.0, self.ticks, self.ticks * INSTRUCTIONS_PER_TICK)


def test_run_until_arms_the_entry_and_a_storm_ends_the_run_stopped_there(tmp_path, monkeypatch):
    """Through the real Debugger and the fake GDB stub, whose CPU stops at
    the (only) breakpoint again at every continue: a fault storm."""
    monkeypatch.setattr(fault_storm, "QUIET_S", 0.05)
    monkeypatch.setattr(fault_storm, "SAMPLE_S", 600.0)
    stub = FakeStub(tmp_path)
    try:
        with Debugger(RspClient.connect(stub.path, timeout=STUB_WAIT),
                      timeout_scale=1.0) as dbg:
            watch = HangWatch(HangRules(600), TickingClock(), lambda: "quiet",
                              fault_entry=0x2000)
            watch.storm.read = lambda debugger: USER_FAULT
            with pytest.raises(GuestHang) as caught:
                dbg.run_until(timeout=STUB_WAIT, watch=watch)
            assert caught.value.kind == FAULT_STORM and caught.value.pc == 0x2000
            assert dbg.stops[0x2000] == STORM_FAULTS and not stub.running
    finally:
        stub.close()
