"""Deadlock looks at the idle thread's halt (harness/run/idle_stops.py): where
the stop goes on a real kernel build, the idle stretch counted from the
guest's own clock and instruction count, and the hang watch's looks there
(the real QEMU: tests/integration/test_hangs.py)."""

import pytest

from harness import config
from harness.debug.symbols import Symbol, SymbolTable
from harness.machine.guest_clock import INSTRUCTIONS_PER_TICK
from harness.run import hang_watch
from harness.run.hang_watch import (DEADLOCK, DEADLOCK_STRETCH_TICKS, IDLE_STRETCH_TICKS,
                                    GuestHang, HangRules, HangWatch)
from harness.run.idle_stops import IdleStops, idle_halt_address
from harness.run import explore
from harness.run.runner import RunnerOptions
from harness.run.schedule import make_schedule
from results.model import ScenarioResult, Verdict
from tests.unit.test_hang_watch import (DEADLOCKED, RUNNING, FakeClock,
                                        FakeInspector, FakeTime)

KERNEL = config.build_dir() / "kernel" / "kernel.elf"


@pytest.fixture
def wall(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(hang_watch.time, "monotonic", fake.monotonic)
    return fake


class FakeSymbols:
    """A kernel whose idle function is CODE at 0x1000."""

    neighbour = False

    def __init__(self, code: bytes, kind: str = "func"):
        self.code_bytes, self.kind = code, kind

    def find(self, name):
        if name == "idle":
            return Symbol("idle", 0x1000, len(self.code_bytes), self.kind, "local", ".text")
        if name == "ticks":
            return Symbol("ticks", 0x9000, 8, "object", "local", ".bss")
        return None

    def code(self, address, size):
        return self.code_bytes[address - 0x1000:address - 0x1000 + size]

    def function_at(self, address):
        return (self.find("idle"), address - 0x1000) if 0x1000 <= address < 0x1010 else None

    def functions_starting_in(self, low, high):
        return [self.find("idle")] + [Symbol("thread_yield", 0x1800, 64, "func", "global",
                                             ".text")] * self.neighbour


class SharedPage(FakeSymbols):
    neighbour = True


def test_the_stop_is_the_sti_of_the_reference_kernels_idle_loop():
    if not KERNEL.exists():
        pytest.skip(f"{KERNEL} is not built (make kernel)")
    symbols = SymbolTable(KERNEL)
    address = idle_halt_address(symbols)
    idle = symbols.find("idle")
    assert address is not None and idle.address <= address < idle.address + idle.size
    assert symbols.code(address, 2) == b"\xfb\xf4"       # sti; hlt


def test_the_bytes_of_sti_hlt_inside_another_instruction_are_not_the_loop():
    # movabs rax, 0xf4fb...: the pair sits in an immediate; then a real sti; hlt
    code = bytes.fromhex("48b8fbf40000000000") + bytes.fromhex("90fbf4eb00")
    assert idle_halt_address(FakeSymbols(code)) == 0x1000 + 9 + 1


def test_an_idle_loop_sharing_its_page_with_other_code_gets_no_stop():
    """A breakpoint makes QEMU run its whole page one instruction per block."""
    assert idle_halt_address(FakeSymbols(bytes.fromhex("fbf4"))) == 0x1000
    assert idle_halt_address(SharedPage(bytes.fromhex("fbf4"))) is None


def test_no_idle_loop_of_that_shape_means_no_idle_stops():
    assert idle_halt_address(FakeSymbols(bytes.fromhex("fb90f4c3"))) is None   # sti; nop; hlt
    assert idle_halt_address(FakeSymbols(bytes.fromhex("fbf4"), kind="object")) is None
    assert IdleStops.for_kernel(None, FakeSymbols(bytes.fromhex("c3")), lambda: 0) is None


class IdleGuest:
    """The guest seen at its idle stops: ticks and instructions move as the
    test says; the debugger reads `ticks` from it."""

    def __init__(self):
        self.ticks, self.icount, self.pc = 0, 0, 0x1234

    def read_u64(self, address):
        assert address == 0x9000
        return self.ticks

    def advance(self, ticks, busy=0.0):
        self.ticks += ticks
        self.icount += int(ticks * busy * INSTRUCTIONS_PER_TICK) + 3000   # the handler


def idle_run(wall, graph):
    inspector = FakeInspector(graph)
    watch = HangWatch(HangRules(60.0, 1.0, True, idle_looks=False), FakeClock(wall),
                      lambda: "quiet", lambda: inspector, started=wall.now)
    guest = IdleGuest()
    stops = IdleStops.for_kernel(watch, FakeSymbols(bytes.fromhex("fbf4")), lambda: guest.icount)
    watch.idle_stops = stops
    return watch, stops, guest, inspector


def test_a_deadlock_is_confirmed_at_idle_stops_one_guest_second_apart(wall):
    watch, stops, guest, inspector = idle_run(wall, DEADLOCKED)
    for _ in range(IDLE_STRETCH_TICKS):
        stops._on_stop(guest, None)
        guest.advance(1)
    assert inspector.looks == 0                      # not idle long enough yet
    stops._on_stop(guest, None)
    assert inspector.looks == 1                      # the first look: a candidate
    for _ in range(DEADLOCK_STRETCH_TICKS - 1):
        guest.advance(1)
        stops._on_stop(guest, None)
    assert inspector.looks == 1
    guest.advance(1)
    with pytest.raises(GuestHang) as caught:
        stops._on_stop(guest, None)
    assert caught.value.kind == DEADLOCK and inspector.looks == 2
    assert caught.value.reason.startswith("deadlock: ")


def test_work_between_idle_stops_starts_the_stretch_again(wall):
    watch, stops, guest, inspector = idle_run(wall, DEADLOCKED)
    for n in range(3 * IDLE_STRETCH_TICKS):
        stops._on_stop(guest, None)
        guest.advance(1, busy=0.9 if n % 10 == 9 else 0.0)   # a thread works every 10 ticks
    assert inspector.looks == 0


def test_a_guest_that_only_sleeps_is_looked_at_less_and_less(wall):
    watch, stops, guest, inspector = idle_run(wall, RUNNING)
    for _ in range(3000):
        stops._on_stop(guest, None)
        guest.advance(1)
    assert 3 <= inspector.looks <= 8                 # back-off 100, 200, ... 1000 ticks


def test_without_idle_stops_the_poll_still_looks_at_an_idle_guest_when_allowed(wall):
    """Idle stops replace the poll's looks only where they are armed."""
    watch, _, _, _ = idle_run(wall, DEADLOCKED)
    assert watch._look_due(watch.clock.sample()) is False


def test_a_schedule_records_its_idle_stops_and_a_replay_takes_what_it_recorded(monkeypatch):
    from harness.run import schedule as schedule_module
    monkeypatch.setattr(schedule_module, "build_id", lambda path: "build")
    monkeypatch.setattr(schedule_module, "qemu_version", lambda: "QEMU")
    monkeypatch.setattr(explore, "check_travels", lambda schedule, adapter: None)
    sc = type("Scenario", (), {"name": "s", "source": "s.toml", "inject": ()})
    adapter = type("Adapter", (), {"spec": "reference", "symbol_file": None})
    result = ScenarioResult(name="s", area="a", verdict=Verdict.FAIL, duration_s=1.0)
    for recorded in (True, False):
        schedule = make_schedule(sc, adapter, RunnerOptions(idle_stops=recorded), result)
        assert schedule["idle_stops"] is recorded
        asked = RunnerOptions(idle_stops=not recorded)
        assert explore.replay_options(adapter, sc, schedule, asked).idle_stops is recorded
    del schedule["idle_stops"]                  # recorded before idle stops existed
    assert explore.replay_options(adapter, sc, schedule, RunnerOptions()).idle_stops is False
