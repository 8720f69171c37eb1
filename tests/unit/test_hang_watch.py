"""The hang watch's rules (harness/run/hang_watch.py) on a fake guest clock and a
fake wall clock, and Debugger.run_until polling a watch against the fake
GDB stub (the real QEMU is in tests/integration/test_hangs.py)."""

import time

import pytest

from harness.run import hang_watch
from harness.debug.debugger import Debugger
from harness.machine.guest_clock import INSTRUCTIONS_PER_TICK, ClockSample
from harness.run.hang_watch import (DEADLOCK, GUEST_TIME, NO_PROGRESS, WALL_TIME, GuestHang,
                                HangRules, HangWatch)
from harness.debug.rsp import RspClient
from oracles.model.wait_graph import LOCK, ThreadNode, Wait, WaitGraph
from tests.unit.fake_gdb_stub import FakeStub


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


class FakeClock:
    """A guest whose clock the test moves: busy (BUSY instructions per tick) or idle."""

    def __init__(self, wall: FakeTime):
        self.wall, self.ticks, self.icount = wall, 0, 0

    def run(self, ticks: int, busy: float = 1.0) -> None:
        self.ticks += ticks
        self.icount += int(ticks * busy * INSTRUCTIONS_PER_TICK)

    def sample(self):
        return ClockSample(self.wall.now, self.ticks, self.icount)


class FakeInspector:
    def __init__(self, graph):
        self.graph, self.looks = graph, 0

    def wait_graph(self):
        self.looks += 1
        return self.graph

    def thread_report(self):
        return ["a (tid 5, blocked): sema_down < lock_acquire"]


class FakeDebugger:
    pc = 0x1234


DEADLOCKED = WaitGraph([ThreadNode(5, "a", "blocked", wait=Wait(LOCK, "`x`", 1, 6)),
                        ThreadNode(6, "b", "blocked", wait=Wait(LOCK, "`y`", 2, 5)),
                        ThreadNode(2, "idle", "running", idle=True)])
WAITING_FOR_DISK = WaitGraph([ThreadNode(5, "a", "blocked", wait=Wait("device", "the disk"))])
RUNNING = WaitGraph([ThreadNode(5, "a", "running", where="user mode at 0x401000")])


@pytest.fixture
def wall(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(hang_watch.time, "monotonic", fake.monotonic)
    return fake


def make_watch(wall, graph=DEADLOCKED, timeout=60.0, scale=1.0, guest_clock=True,
               progress=None):
    clock = FakeClock(wall)
    inspector = FakeInspector(graph)
    marker = progress if progress is not None else (lambda: clock.ticks)
    watch = HangWatch(HangRules(timeout, scale, guest_clock), clock, marker,
                      lambda: inspector, started=wall.now)
    return watch, clock, inspector


def step(watch, wall, clock, ticks, busy=1.0, seconds=0.1):
    """Moves both clocks and polls; the result of poll()."""
    wall.now += seconds
    clock.run(ticks, busy)
    return watch.poll()


def end(watch) -> GuestHang:
    with pytest.raises(GuestHang) as caught:
        watch.inspect(FakeDebugger())
    return caught.value


def test_the_guest_clock_ends_the_run_at_the_timeout_in_guest_seconds(wall):
    watch, clock, _ = make_watch(wall, timeout=2.0)
    assert not step(watch, wall, clock, 0)               # the first read: where counting starts
    assert not step(watch, wall, clock, 199)
    assert step(watch, wall, clock, 1)
    hang = end(watch)
    assert hang.kind == GUEST_TIME and hang.guest_s == 2.0
    assert "no power-off within 2 s of guest time" in hang.reason
    assert hang.threads == ["a (tid 5, blocked): sema_down < lock_acquire"]


def test_the_guest_limit_is_not_scaled_but_the_wall_net_is(wall):
    watch, clock, _ = make_watch(wall, timeout=10.0, scale=4.0)
    assert not step(watch, wall, clock, 0)
    assert not step(watch, wall, clock, 999, seconds=10 * 3 * 4 - 1)
    assert step(watch, wall, clock, 1, seconds=0.5) and end(watch).kind == GUEST_TIME


def test_the_wall_net_ends_a_guest_whose_clock_stands_still(wall):
    watch, clock, _ = make_watch(wall, timeout=10.0, scale=2.0)
    assert not step(watch, wall, clock, 0, seconds=59.9)
    assert step(watch, wall, clock, 0, seconds=0.2)
    hang = end(watch)
    assert hang.kind == WALL_TIME
    assert "within 60 s of wall time" in hang.reason and "3 x the 10 s timeout" in hang.reason


def test_time_the_harness_holds_the_guest_stopped_is_not_the_kernels(wall):
    """A checkpoint whose state took 100 s to read (a 39,000-entry SPT over
    GDB on a loaded host): neither the wall net nor no progress counts it."""
    cases = ((None, 60.0, WALL_TIME),           # progress at every poll: the 3 x 10 x 2 s net
             (lambda: 0, 20.0, NO_PROGRESS))     # no progress: 10 x 2 s of wall time
    for progress, limit, kind in cases:
        watch, clock, _ = make_watch(wall, graph=RUNNING, timeout=10.0, scale=2.0,
                                     progress=progress)
        assert not step(watch, wall, clock, 1)
        wall.now += 100.0                                 # the guest held at a checkpoint
        watch.exclude(100.0)
        assert not step(watch, wall, clock, 1, seconds=limit - 0.5)
        assert step(watch, wall, clock, 1, seconds=0.6)   # its own time still runs out
        hang = end(watch)
        assert hang.kind == kind
        assert kind != WALL_TIME or "not counting 100 s the harness held" in hang.reason


def test_without_icount_the_timeout_is_wall_time_and_threads_are_looked_at_now_and_then(wall):
    watch, clock, inspector = make_watch(wall, graph=WAITING_FOR_DISK, timeout=10.0, scale=2.0,
                                         guest_clock=False)
    assert step(watch, wall, clock, 5000, seconds=19.9)    # no idle signal: a look...
    watch.inspect(FakeDebugger())                          # ...but no limit on guest time
    assert inspector.looks == 1
    assert step(watch, wall, clock, 0, seconds=0.2)
    hang = end(watch)
    assert hang.kind == WALL_TIME and "without -icount the timeout is wall time" in hang.reason


def test_a_deadlock_is_ended_at_the_second_look_with_the_same_waits(wall):
    watch, clock, inspector = make_watch(wall)
    assert not step(watch, wall, clock, 10, busy=0.01)   # idle, but not for long yet
    assert step(watch, wall, clock, 30, busy=0.01)       # idle 40 ticks: look
    watch.inspect(FakeDebugger())                        # first look: a candidate
    assert inspector.looks == 1
    assert not step(watch, wall, clock, 50, busy=0.01)   # not 1 s of guest time yet
    assert step(watch, wall, clock, 60, busy=0.01)
    hang = end(watch)
    assert hang.kind == DEADLOCK and hang.graph is DEADLOCKED and hang.pc == 0x1234
    assert hang.reason.startswith("deadlock: tid 5 a waits for `x` held by tid 6 b, which waits")
    assert [t.tid for t in hang.graph.cycle()] == [5, 6]


def test_a_busy_guest_is_never_stopped_for_a_look(wall):
    watch, clock, inspector = make_watch(wall)
    for _ in range(50):
        assert not step(watch, wall, clock, 10, busy=0.9)
    assert inspector.looks == 0


def test_an_idle_guest_that_is_not_deadlocked_goes_on_and_is_looked_at_less_often(wall):
    watch, clock, inspector = make_watch(wall, graph=WAITING_FOR_DISK)
    assert not step(watch, wall, clock, 10)              # busy: the first sample
    assert step(watch, wall, clock, 40, busy=0.01)       # idle: a look at 50 ticks
    watch.inspect(FakeDebugger())                        # a device wait: no hang
    polls = [step(watch, wall, clock, 30, busy=0.01) for _ in range(4)]
    assert polls == [False, False, False, True]          # the next look after 100 ticks
    watch.inspect(FakeDebugger())                        # at 170 ticks
    polls = [step(watch, wall, clock, 30, busy=0.01) for _ in range(7)]
    assert polls == [False] * 6 + [True]                 # then after 200 ticks
    assert inspector.looks == 2


def test_changed_waits_at_the_second_look_start_over(wall):
    watch, clock, inspector = make_watch(wall)
    assert not step(watch, wall, clock, 10)
    assert step(watch, wall, clock, 40, busy=0.01)
    watch.inspect(FakeDebugger())
    inspector.graph = WaitGraph([ThreadNode(5, "a", "blocked", wait=Wait(LOCK, "`z`", 9, 6)),
                                 ThreadNode(6, "b", "blocked", wait=Wait(LOCK, "`y`", 2, 5))])
    assert step(watch, wall, clock, 120, busy=0.01)
    watch.inspect(FakeDebugger())                        # a new candidate, no hang yet
    assert step(watch, wall, clock, 120, busy=0.01)
    assert end(watch).kind == DEADLOCK


def test_no_progress_for_thirty_guest_seconds_is_a_hang(wall):
    marker = [0]
    watch, clock, _ = make_watch(wall, graph=RUNNING, timeout=600, progress=lambda: marker[0])
    assert not step(watch, wall, clock, 0)
    assert not step(watch, wall, clock, 2999)
    marker[0] = 1                                        # console output: progress at 30 s
    assert not step(watch, wall, clock, 1)
    assert not step(watch, wall, clock, 2999)
    assert step(watch, wall, clock, 1)
    hang = end(watch)
    assert hang.kind == NO_PROGRESS
    assert "no progress for 30 s of guest time" in hang.reason and "since 30.00 s" in hang.reason


def test_idle_ticks_do_not_count_as_guest_time(wall):
    """A Pintos kernel waiting for its disk idles while the clock jumps:
    only the ticks the CPU worked for count towards the timeout and "no
    progress" (no looks here: a watch without an inspector)."""
    clock = FakeClock(wall)
    watch = HangWatch(HangRules(2.0, scale=10), clock, lambda: clock.ticks, None,
                      started=wall.now)
    assert not step(watch, wall, clock, 0)
    for _ in range(100):
        assert not step(watch, wall, clock, 500, busy=0.001)    # 50,000 idle ticks
    assert watch.last.ticks == 50000 and watch.guest_s == pytest.approx(0.5)
    assert not step(watch, wall, clock, 140)
    assert step(watch, wall, clock, 10) and end(watch).kind == GUEST_TIME


def test_a_guest_whose_clock_crawls_is_no_progress_after_the_timeout_in_wall_time(wall):
    """A kernel looping through disk waits (idle: hardly any busy time) or
    a page-fault storm (slow under TCG): the scaled timeout in wall time
    without progress, the wall rule of old."""
    clock = FakeClock(wall)
    watch = HangWatch(HangRules(60.0, scale=2.0), clock, lambda: 0, None, started=wall.now)
    assert not step(watch, wall, clock, 0)
    assert not step(watch, wall, clock, 5000, busy=0.01, seconds=100)
    assert not step(watch, wall, clock, 5, seconds=19.8)        # 119.8 s of wall time
    assert step(watch, wall, clock, 1, seconds=0.3)
    hang = end(watch)
    assert hang.kind == NO_PROGRESS, hang
    assert hang.reason.startswith("no progress for 120 s of wall time, the scenario's 60 s "
                                  "timeout x scale 2, while the guest clock crawled"), hang.reason


def test_a_guest_time_bound_cut_from_the_timeout_leaves_the_wall_rules_the_whole_timeout(wall):
    """A generated mutant's run: 10 guest s instead of the scenario's 60,
    but a guest crawling through stops on a loaded host still has the
    scenario's 60 s of wall time (x scale) before "no progress", and the
    net is 3 x 60."""
    rules = HangRules(10.0, scale=1.0, wall_timeout_s=60.0)
    assert rules.wall_base_s == 60.0 and rules.wall_s == 180.0 and rules.quiet_s == 5.0
    clock = FakeClock(wall)
    watch = HangWatch(rules, clock, lambda: 0, None, started=wall.now)
    assert not step(watch, wall, clock, 0)
    assert not step(watch, wall, clock, 11, busy=0.01, seconds=30)     # 30 s: not yet
    assert not step(watch, wall, clock, 5, seconds=29.7)
    assert step(watch, wall, clock, 1, seconds=0.4)                   # 60.1 s of wall time
    assert end(watch).reason.startswith("no progress for 60 s of wall time")
    assert HangRules(10.0, wall_timeout_s=None).wall_base_s == 10.0


def test_no_progress_is_half_the_timeout_when_that_is_less(wall):
    watch, clock, _ = make_watch(wall, graph=RUNNING, timeout=10, progress=lambda: 0)
    assert not step(watch, wall, clock, 0)
    assert not step(watch, wall, clock, 499)
    assert step(watch, wall, clock, 1)
    assert end(watch).reason.startswith("no progress for 5 s of guest time")


def test_a_deadlock_seen_when_progress_stops_is_confirmed_as_a_deadlock(wall):
    watch, clock, inspector = make_watch(wall, timeout=600, progress=lambda: 0)
    assert not step(watch, wall, clock, 100)             # busy, so no deadlock look
    assert step(watch, wall, clock, 3000)                # 30 s without progress: a look...
    watch.inspect(FakeDebugger())                        # ...finds a deadlock: no hang yet
    assert not step(watch, wall, clock, 50)
    assert step(watch, wall, clock, 50)
    assert end(watch).kind == DEADLOCK and inspector.looks == 2


def test_polls_closer_than_the_interval_do_not_read_the_clock(wall):
    watch, clock, _ = make_watch(wall, timeout=10.0)
    assert not step(watch, wall, clock, 0, seconds=0.01)
    assert not step(watch, wall, clock, 500)
    clock.run(500)                     # at the limit, but the next read is not due
    wall.now += 0.05
    assert not watch.poll() and watch.last.ticks == 500
    wall.now += 0.06
    assert watch.poll() and watch.last.ticks == 1000


# ---- Debugger.run_until with a watch (fake stub: the guest runs until interrupted) ----

class ScriptedWatch:
    interval = 0.01

    def __init__(self, stop_after: int, raise_at_look: int):
        self.polls, self.looks = 0, 0
        self.stop_after, self.raise_at_look = stop_after, raise_at_look

    def poll(self):
        self.polls += 1
        return self.polls % self.stop_after == 0

    def inspect(self, debugger):
        self.looks += 1
        assert debugger.pc == 0x100    # the guest is stopped: registers answer
        if self.looks == self.raise_at_look:
            raise GuestHang(DEADLOCK, "deadlock: test")


@pytest.fixture
def stub(tmp_path):
    fake = FakeStub(tmp_path)
    yield fake
    fake.close()


def test_run_until_stops_for_each_look_resumes_and_ends_when_the_watch_raises(stub):
    with Debugger(RspClient.connect(stub.path, timeout=2), timeout_scale=1.0) as dbg:
        watch = ScriptedWatch(stop_after=3, raise_at_look=2)
        with pytest.raises(GuestHang, match="deadlock: test"):
            dbg.run_until(timeout=5, watch=watch)
        assert watch.looks == 2 and watch.polls == 6
        assert not stub.running                       # left stopped
        assert stub.log.count(b"vCont;c") + stub.log.count(b"c") == 2


def test_without_idle_looks_a_deadlock_is_found_only_once_progress_stops(wall):
    """A run that must replay exactly (injections) is never stopped at a
    moment the host's speed picks: no look while progress may still come;
    the deadlock is confirmed after the no-progress stretch."""
    clock = FakeClock(wall)
    inspector = FakeInspector(DEADLOCKED)
    watch = HangWatch(HangRules(2.0, 1.0, True, idle_looks=False), clock, lambda: "quiet",
                      lambda: inspector, started=wall.now)
    polls = 1
    while not step(watch, wall, clock, 30, busy=0.01):     # idle: no look
        polls += 1
        assert polls <= 30 and inspector.looks == 0
    assert polls >= 20                                      # 2 s of wall time, no progress
    watch.inspect(FakeDebugger())                           # the look: a candidate
    assert inspector.looks == 1
    polls = [step(watch, wall, clock, 30, busy=0.01) for _ in range(4)]
    assert polls == [False, False, False, True]             # 100 ticks later: confirm
    assert end(watch).kind == DEADLOCK


class ExitingWatch(ScriptedWatch):
    """The guest powers off (QEMU closes the stub) just as a look is due."""

    def __init__(self, stub):
        super().__init__(stop_after=2, raise_at_look=0)
        self.stub = stub

    def poll(self):
        due = super().poll()
        if due:
            self.stub.drop_connection()
            time.sleep(0.05)          # the close reaches the client first
        return due


def test_a_power_off_as_a_look_begins_is_the_guests_exit_not_a_harness_error(stub):
    """Measured once in 670 Pintos runs: the interrupt for a look met a
    closed connection and the run became HARNESS_ERROR "Broken pipe"."""
    with Debugger(RspClient.connect(stub.path, timeout=2), timeout_scale=1.0) as dbg:
        watch = ExitingWatch(stub)
        stop = dbg.run_until(timeout=5, watch=watch)
        assert stop.reason == "exited" and watch.looks == 0


def test_a_checkpoint_session_excludes_the_time_it_holds_the_guest(wall, monkeypatch):
    from harness import config
    from harness.run import checkpoints
    from harness.debug.debugger import Stop
    monkeypatch.setattr(checkpoints.time, "monotonic", wall.monotonic)
    stops = [Stop("breakpoint", 0x402000, (), None), Stop("exited", None, (), None)]
    dbg = type("Dbg", (), {"run_until": lambda self, *a, **kw: stops.pop(0)})()
    session = checkpoints.CheckpointSession(None, None, {}, {}, config.Timeouts())
    session.watch, _, _ = make_watch(wall)
    started = session.watch.started

    def read_state_slowly(dbg, stop, owners):
        wall.now += 50.0

    monkeypatch.setattr(session, "_on_stop", read_state_slowly)
    session._run_to_end(dbg, {})
    assert session.watch.held_s == 50.0 and session.watch.started == started + 50.0


def test_once_the_verdict_is_decided_two_guest_seconds_without_progress_end_the_run(wall):
    """A wrong exit decides the verdict (verdict.wrong_exit_before_hang):
    then 2 s of busy guest time without progress end the run, not 30."""
    decided = [False]
    clock = FakeClock(wall)
    inspector = FakeInspector(RUNNING)
    watch = HangWatch(HangRules(600.0), clock, lambda: 0, lambda: inspector, started=wall.now,
                      decided=lambda: decided[0])
    assert not step(watch, wall, clock, 0)
    assert not step(watch, wall, clock, 250)               # 2.5 s quiet, nothing decided yet
    decided[0] = True
    assert step(watch, wall, clock, 1)
    hang = end(watch)
    assert hang.kind == NO_PROGRESS and hang.reason.startswith("no progress for 2 s of guest time")


def test_once_the_verdict_is_decided_a_crawling_guest_ends_after_ten_wall_seconds_scaled(wall):
    """santaiscoming @939145d's dl-evict: the child died at guest second
    0.02, the parent polled through exact-disk stops, 0.08 guest s per wall
    second: ten wall seconds (x scale) end it, not the 60 s timeout."""
    clock = FakeClock(wall)
    watch = HangWatch(HangRules(60.0, scale=2.0), clock, lambda: 0, None, started=wall.now,
                      decided=lambda: True)
    assert not step(watch, wall, clock, 0)
    assert not step(watch, wall, clock, 10, busy=0.5, seconds=19.8)
    assert step(watch, wall, clock, 1, seconds=0.3)
    hang = end(watch)
    assert hang.reason.startswith("no progress for 20 s of wall time, the limit once the "
                                  "verdict is decided (10 s x scale 2), while the guest clock "
                                  "crawled"), hang.reason


def test_a_decided_run_whose_own_timeout_is_shorter_names_that_timeout(wall):
    clock = FakeClock(wall)
    watch = HangWatch(HangRules(4.0), clock, lambda: 0, None, started=wall.now,
                      decided=lambda: True)
    assert not step(watch, wall, clock, 0)
    assert not step(watch, wall, clock, 1, busy=0.5, seconds=3.8)
    assert step(watch, wall, clock, 1, seconds=0.3)
    assert end(watch).reason.startswith("no progress for 4 s of wall time, the scenario's 4 s "
                                        "timeout x scale 1, while the guest clock crawled")
