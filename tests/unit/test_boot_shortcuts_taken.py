"""A run records the boot shortcuts it *took* (ScenarioResult.boot_shortcuts,
filled by the runner), not the ones its options allowed: a boot snapshot
that QEMU could not load boots cold, and its schedule, and so its replay,
must say so (harness/run/runner.py, schedule.py, explore.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.adapters.pintos_kaist import boot_snapshot as snap
from harness.run import explore
from harness.run import schedule as schedule_module
from harness.run.runner import RunnerOptions, ScenarioHooks
from harness.run.schedule import shortcut_names
from results.codec import from_json, to_json
from results.model import ScenarioResult, Verdict

MAIN = 0x8004_2060
NAMES = ("boot_snapshot", "calibration")


class Calibration:
    """A shortcut taken when armed (the calibration's breakpoint hit)."""

    name, missed, entry, note = "calibration", None, None, "timer_calibrate() not run"

    def __init__(self):
        self.taken = False

    def prepare(self, machine):
        pass

    def arm(self, dbg):
        self.taken = True


class Adapter:
    """A kernel offering both shortcuts; boot_shortcuts hands out SHORTCUTS."""

    name, spec, symbol_file, boot_shortcut_names = "pintos-kaist", "pintos-kaist:T", None, NAMES

    def __init__(self, shortcuts):
        self.shortcuts, self.asked = shortcuts, None

    def boot_shortcuts(self, options, build, disks, args, names):
        self.asked = names
        return self.shortcuts, []


class Debugger:
    def __init__(self, pc):
        self.pc = pc

    def write_phys(self, address, data):
        pass

    def describe(self, address):
        return f"{address:#x}"


@pytest.fixture
def no_build(monkeypatch):
    monkeypatch.setattr(schedule_module, "build_id", lambda path: "build")
    monkeypatch.setattr(schedule_module, "qemu_version", lambda: "QEMU")   # the run's key too


def scenario():
    return SimpleNamespace(name="s", source="s.toml", inject=(), programs=[], area="a",
                           exit_status=0, description="", mem_mb=20)


def run_with(tmp_path, restore_failed: str | None):
    """RESULT of a run whose options allow every shortcut and whose boot
    snapshot was restored (or not: RESTORE_FAILED says why), as the runner
    records it once the shortcuts were armed at the kernel's entry."""
    state = tmp_path / "main.state"
    state.write_bytes(b"state")
    shortcuts = [snap.BootSnapshot(state, MAIN, bytes(132)), Calibration()]
    adapter = Adapter(shortcuts)
    result = ScenarioResult("s", "a", Verdict.FAIL, 1.0, kernel="pintos-kaist")
    hooks = ScenarioHooks(adapter, scenario(), {}, RunnerOptions(exact_disk=False), result)
    machine = SimpleNamespace(options=SimpleNamespace(icount_clock=True), run_dir=tmp_path,
                              incoming=None, incoming_failed=None)
    hooks.before_start(machine, SimpleNamespace(format="raw"), [])
    assert adapter.asked == NAMES and machine.incoming == state
    machine.incoming_failed = restore_failed
    for shortcut in hooks.session.boot_shortcuts:       # what the session does at the entry
        shortcut.arm(Debugger(0xFFF0 if restore_failed else MAIN))
    hooks._record_session()
    return adapter, result


def test_a_restored_run_records_both_shortcuts(tmp_path, no_build):
    adapter, result = run_with(tmp_path, None)
    assert result.boot_shortcuts == ["boot_snapshot", "calibration"]
    made = schedule_module.make_schedule(scenario(), adapter, RunnerOptions(), result)
    assert made["boot_shortcuts"] == ["boot_snapshot", "calibration"]


def test_a_snapshot_that_did_not_load_is_not_recorded_as_taken(tmp_path, no_build):
    adapter, result = run_with(tmp_path, "load of migration failed")
    assert result.boot_shortcuts == ["calibration"]
    assert any("booted cold" in note for note in result.notes)
    made = schedule_module.make_schedule(scenario(), adapter, RunnerOptions(), result)
    assert made["boot_shortcuts"] == ["calibration"]          # not the allowed two
    replayed = explore.replay_options(adapter, scenario(), made, RunnerOptions())
    assert shortcut_names(adapter, replayed.boot_shortcuts) == ("calibration",)


def test_a_schedule_records_what_was_taken_whatever_the_options_allowed(no_build):
    adapter = Adapter([])
    result = ScenarioResult("s", "a", Verdict.FAIL, 1.0)
    for allowed in (True, NAMES, ("calibration",)):
        assert schedule_module.make_schedule(scenario(), adapter, RunnerOptions(
            boot_shortcuts=allowed), result)["boot_shortcuts"] == []
    result.boot_shortcuts = ["calibration"]
    assert schedule_module.make_schedule(scenario(), adapter, RunnerOptions(boot_shortcuts=True),
                                         result)["boot_shortcuts"] == ["calibration"]


def test_the_taken_shortcuts_survive_results_json():
    result = ScenarioResult("s", "a", Verdict.PASS, 1.0, boot_shortcuts=["calibration"])
    data = to_json(result)
    assert data["boot_shortcuts"] == ["calibration"]
    assert from_json(ScenarioResult, data).boot_shortcuts == ["calibration"]
    del data["boot_shortcuts"]                                 # a file written before
    assert from_json(ScenarioResult, data).boot_shortcuts == []


def test_a_replay_that_could_not_take_the_recorded_shortcuts_says_so(monkeypatch):
    monkeypatch.setattr(explore, "check_travels", lambda schedule, adapter: None)
    taken = {"now": ["calibration"]}

    def run(adapter, sc, opts):
        assert shortcut_names(Adapter([]), opts.boot_shortcuts) == NAMES
        return ScenarioResult("s", "a", Verdict.FAIL, 1.0, boot_shortcuts=taken["now"])

    monkeypatch.setattr(explore, "run_scenario", run)
    recorded = {"injections": [], "boot_shortcuts": list(NAMES), "verdict": "FAIL",
                "console_sha256": schedule_module.console_digest("")}
    said: list[str] = []
    explore.replay(Adapter([]), scenario(), recorded, RunnerOptions(), progress=said.append)
    assert any("took the boot shortcuts [calibration], the recorded run "
               "[boot_snapshot, calibration]" in line for line in said)
    said.clear()
    taken["now"] = list(NAMES)
    explore.replay(Adapter([]), scenario(), recorded, RunnerOptions(), progress=said.append)
    assert not any("boot shortcuts" in line for line in said)
