"""Deadlock looks where the guest switches its idle thread in
(harness/run/idle_stops.py): what the stops watch on a real kernel build,
the idle stretch counted from the guest's own clock and instruction count,
the hang watch's looks there, and write watchpoints in the debugger (the
real QEMU: tests/integration/test_hangs.py)."""

import pytest

from harness import config
from harness.debug.debugger import Debugger
from harness.debug.rsp import RspClient
from harness.debug.rsp_codec import parse_stop_reply
from harness.debug.symbols import SymbolTable
from harness.debug.watchpoints import Watchpoints
from harness.machine.guest_clock import INSTRUCTIONS_PER_TICK
from harness.run import explore, hang_watch
from harness.run.hang_watch import (DEADLOCK, DEADLOCK_STRETCH_TICKS, IDLE_STRETCH_TICKS,
                                    GuestHang, HangRules, HangWatch)
from harness.run.idle_stops import IdleStops
from harness.run.runner import RunnerOptions
from harness.run.schedule import make_schedule
from results.model import ScenarioResult, Verdict
from tests.unit.fake_gdb_stub import FakeStub
from tests.unit.test_hang_watch import (DEADLOCKED, RUNNING, FakeClock,
                                        FakeInspector, FakeTime)

KERNEL = config.build_dir() / "kernel" / "kernel.elf"
POINTER, TICKS, IDLE, STATUS_OFFSET, RUNNING_VALUE = 0x9000, 0x9008, 0x20000, 0x18, 1


@pytest.fixture
def wall(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(hang_watch.time, "monotonic", fake.monotonic)
    return fake


def test_on_the_reference_kernel_the_stops_watch_idle_thread_and_its_status():
    if not KERNEL.exists():
        pytest.skip(f"{KERNEL} is not built (make kernel)")
    symbols = SymbolTable(KERNEL)
    stops = IdleStops.for_kernel(None, symbols, lambda: 0)
    assert stops is not None
    assert stops.pointer == symbols.address_of("idle_thread")
    assert stops.ticks_address == symbols.address_of("ticks")
    thread = symbols.types.get("struct thread")
    assert stops.status_offset == thread.offset_of("status") and stops.status_size == 4
    assert stops.running == symbols.types.get("enum thread_status").enumerators[
        "THREAD_RUNNING"]


class NoSymbols:
    def find(self, name):
        return None


def test_a_kernel_without_an_idle_thread_pointer_gets_no_idle_stops():
    assert IdleStops.for_kernel(None, NoSymbols(), lambda: 0) is None


class FakeClient:
    def __init__(self):
        self.inserted = set()

    def insert_watchpoint(self, address, length):
        self.inserted.add((address, length))

    def remove_watchpoint(self, address, length):
        self.inserted.discard((address, length))


def test_a_stop_reply_names_the_watchpoint_hit_by_any_byte_it_watches():
    points = Watchpoints(FakeClient())
    wp = points.add(0x1000, 4, lambda dbg, wp: False)
    reply = parse_stop_reply(b"T05watch:1002;thread:p01.01;")
    assert points.hit_by(reply.info) is wp
    assert points.hit_by(parse_stop_reply(b"T05watch:1004;").info) is None
    assert points.hit_by(parse_stop_reply(b"T05thread:p01.01;").info) is None
    points.remove(wp)
    assert points.client.inserted == set() and points.hit_by(reply.info) is None


def test_the_debugger_runs_a_watchpoints_callback_and_stops_when_it_asks(tmp_path):
    stub = FakeStub(tmp_path)
    try:
        with Debugger(RspClient.connect(stub.path, timeout=2), timeout_scale=1.0) as dbg:
            seen = []
            dbg.watchpoints.add(0x2000, 4, lambda d, wp: seen.append(wp.hits) or len(seen) == 2)
            dbg.add_breakpoint(0x300)
            assert (2, 0x2000) in stub.breakpoints
            stub.writes = [0x2100, 0x2000, 0x2000]   # an unwatched write, then two watched
            stop = dbg.run_until(timeout=5)
            assert stop.reason == "watchpoint" and seen == [1, 2]
            assert dbg.stops["watch"] == 2
            assert dbg.run_until(timeout=5).pc == 0x300     # then the breakpoint
            dbg.watchpoints.clear()
            assert (2, 0x2000) not in stub.breakpoints
    finally:
        stub.close()


class IdleGuest:
    """The guest seen at its watchpoint stops: memory (the idle_thread
    pointer, ticks, the idle thread's status); ticks and instructions move
    as the test says."""

    def __init__(self):
        self.ticks, self.icount, self.pc = 0, 0, 0x1234
        self.idle, self.status = 0, 0
        self.client = FakeClient()
        self.watchpoints = Watchpoints(self.client)

    def read_u64(self, address):
        return {POINTER: self.idle, TICKS: self.ticks}[address]

    def read_virt(self, address, size):
        assert address == IDLE + STATUS_OFFSET and size == 4
        return self.status.to_bytes(4, "little")

    def hit(self, address, status=None):
        """The guest wrote at ADDRESS: the watchpoint's callback there."""
        if status is not None:
            self.status = status
        wp = self.watchpoints.hit_by({"watch": f"{address:x}"})
        assert wp is not None, f"nothing watches {address:#x}"
        assert wp.callback(self, wp) is False       # never ends run_until by itself

    def switch_idle_in(self, ticks=1, busy=0.0):
        self.ticks += ticks
        self.icount += int(ticks * busy * INSTRUCTIONS_PER_TICK) + 3000   # the handler
        self.hit(IDLE + STATUS_OFFSET, RUNNING_VALUE)
        self.hit(IDLE + STATUS_OFFSET, 3)                                # blocks again


def idle_run(wall, graph):
    inspector = FakeInspector(graph)
    watch = HangWatch(HangRules(60.0, 1.0, True, idle_looks=False), FakeClock(wall),
                      lambda: "quiet", lambda: inspector, started=wall.now)
    guest = IdleGuest()
    stops = IdleStops(watch, POINTER, STATUS_OFFSET, 4, RUNNING_VALUE, TICKS,
                      lambda: guest.icount)
    watch.idle_stops = stops
    guest.idle = IDLE
    stops.arm(guest)
    return watch, stops, guest, inspector


def test_the_pointer_is_watched_until_the_idle_thread_exists_then_its_status():
    guest = IdleGuest()
    stops = IdleStops(None, POINTER, STATUS_OFFSET, 4, RUNNING_VALUE, TICKS, lambda: 0)
    stops.arm(guest)
    assert guest.client.inserted == {(POINTER, 8)}
    guest.hit(POINTER)                              # written, still NULL
    assert guest.client.inserted == {(POINTER, 8)}
    guest.idle = IDLE
    guest.hit(POINTER)
    assert guest.client.inserted == {(IDLE + STATUS_OFFSET, 4)}


def test_a_deadlock_is_confirmed_at_idle_stops_one_guest_second_apart(wall):
    watch, stops, guest, inspector = idle_run(wall, DEADLOCKED)
    guest.switch_idle_in(0)
    for _ in range(IDLE_STRETCH_TICKS - 1):
        guest.switch_idle_in()
    assert inspector.looks == 0                      # not idle long enough yet
    guest.switch_idle_in()
    assert inspector.looks == 1                      # the first look: a candidate
    for _ in range(DEADLOCK_STRETCH_TICKS - 1):
        guest.switch_idle_in()
    assert inspector.looks == 1
    with pytest.raises(GuestHang) as caught:
        guest.switch_idle_in()
    assert caught.value.kind == DEADLOCK and inspector.looks == 2
    assert caught.value.reason.startswith("deadlock: ")


def test_work_between_idle_stops_starts_the_stretch_again(wall):
    watch, stops, guest, inspector = idle_run(wall, DEADLOCKED)
    for n in range(3 * IDLE_STRETCH_TICKS):
        guest.switch_idle_in(1, busy=0.9 if n % 10 == 9 else 0.0)   # a thread works now and then
    assert inspector.looks == 0


def test_a_guest_that_only_sleeps_is_looked_at_less_and_less(wall):
    watch, stops, guest, inspector = idle_run(wall, RUNNING)
    for _ in range(3000):
        guest.switch_idle_in()
    assert 3 <= inspector.looks <= 8                 # back-off 100, 200, ... 1000 ticks


def test_without_idle_stops_the_poll_still_looks_at_an_idle_guest_when_allowed(wall):
    """Idle stops replace the poll's looks only where they are armed."""
    watch, _, _, _ = idle_run(wall, DEADLOCKED)
    assert watch._look_due(watch.clock.sample()) is False


def test_a_schedule_records_its_replay_safe_looks_and_a_replay_takes_what_it_recorded(monkeypatch):
    from harness.run import schedule as schedule_module
    monkeypatch.setattr(schedule_module, "build_id", lambda path: "build")
    monkeypatch.setattr(schedule_module, "qemu_version", lambda: "QEMU")
    monkeypatch.setattr(explore, "check_travels", lambda schedule, adapter: None)
    sc = type("Scenario", (), {"name": "s", "source": "s.toml", "inject": ()})
    adapter = type("Adapter", (), {"spec": "reference", "symbol_file": None})
    result = ScenarioResult(name="s", area="a", verdict=Verdict.FAIL, duration_s=1.0)
    for recorded in (True, False):
        schedule = make_schedule(sc, adapter, RunnerOptions(replay_safe_looks=recorded), result)
        assert schedule["replay_safe_looks"] is recorded
        asked = RunnerOptions(replay_safe_looks=not recorded)
        assert explore.replay_options(adapter, sc, schedule, asked).replay_safe_looks is recorded
    del schedule["replay_safe_looks"]                  # recorded before idle stops existed
    assert explore.replay_options(adapter, sc, schedule, RunnerOptions()).replay_safe_looks is False
