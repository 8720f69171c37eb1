"""`vmcheck boot` from the kernel's boot snapshot (harness/run/snapshot_boot.py):
the arguments written at `main` before the guest is resumed, one note for
each outcome, a cold boot where the snapshot cannot be had, and nothing
new for a kernel without one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.adapters.pintos_kaist import boot_snapshot as snap
from harness.cli.main import build_parser
from harness.machine.qemu import MachineOptions
from harness.run import snapshot_boot

MAIN = 0x8004_2060


class Machine:
    def __init__(self, log):
        self.log, self.options = log, SimpleNamespace(icount_clock=True)
        self.gdb_socket, self.incoming, self.incoming_failed = "gdb.sock", None, None

    def resume(self):
        self.log.append("resume")


class Attached:
    """Debugger.attach's stand-in: a CPU standing at PC (main)."""

    def __init__(self, log, pc):
        self.log, self.pc = log, pc

    def __enter__(self):
        self.log.append("attach")
        return self

    def __exit__(self, *exc):
        self.log.append("close")

    def write_phys(self, address, data):
        self.log.append(("write", address, data))

    def describe(self, address):
        return f"{address:#x}"


class Adapter:
    boot_shortcut_names = ("boot_snapshot", "calibration")
    long_mode_symbol, symbol_file = "main", None

    def __init__(self, offer):
        self.offer, self.asked = offer, None

    def boot_shortcuts(self, options, build, disks, args, names):
        self.asked = names
        return self.offer

    def kernel_symbols(self):
        return None


@pytest.fixture
def log(monkeypatch):
    log: list = []
    monkeypatch.setattr("harness.run.schedule.kernel_build_id", lambda adapter: "build")
    monkeypatch.setattr("harness.run.schedule.qemu_version", lambda: "QEMU")
    monkeypatch.setattr("harness.debug.debugger.Debugger.attach",
                        lambda socket, symbols, at: Attached(log, MAIN))
    return log


def booted(log, offer, failed=None):
    adapter, said = Adapter(offer), []
    hooks = snapshot_boot.SnapshotBootHooks(adapter, said.append)
    machine = Machine(log)
    hooks.before_start(machine, None, [])
    assert adapter.asked == ("boot_snapshot",)          # never the calibration
    machine.incoming_failed = failed
    assert hooks.started(machine, None) is False        # boot() then waits for the end
    return machine, said


def test_the_arguments_are_written_at_main_before_the_guest_runs(tmp_path, log):
    state = tmp_path / "s.state"
    state.write_bytes(b"state")
    args = snap.args_sector(snap_boot_disk(tmp_path))
    shortcut = snap.BootSnapshot(state, MAIN, args)
    machine, said = booted(log, ([shortcut], []))
    assert machine.incoming == state
    assert log == ["attach", ("write", snap.ARGS_AT, args), "close", "resume"]
    assert said == [shortcut.note] and "SeaBIOS and the loader not run" in said[0]


def test_a_state_qemu_could_not_load_boots_cold_without_a_debugger(tmp_path, log):
    state = tmp_path / "s.state"
    state.write_bytes(b"broken")
    machine, said = booted(log, ([snap.BootSnapshot(state, MAIN, bytes(132))], []),
                           failed="load of migration failed")
    assert log == ["resume"] and not state.exists()
    assert said == ["the boot snapshot was not restored (load of migration failed): "
                    "booted cold"]


def test_a_snapshot_not_offered_is_said_and_the_boot_is_cold(log):
    machine, said = booted(log, ([], ["boot_snapshot: the run is not under -icount"]))
    assert log == ["resume"] and machine.incoming is None
    assert said == ["boot shortcut not taken, boot_snapshot: the run is not under -icount"]


def test_a_kernel_without_a_snapshot_boots_as_before(monkeypatch):
    calls = []
    monkeypatch.setattr("harness.run.boot.boot",
                        lambda adapter, request, options, hooks=None: calls.append(
                            (options, hooks)))
    options = MachineOptions()
    snapshot_boot.boot_from_snapshot(SimpleNamespace(boot_shortcut_names=()), None, options,
                                     print)
    assert calls == [(options, None)]
    snapshot_boot.boot_from_snapshot(Adapter(([], [])), None, options, print)
    assert calls[1][0].paused and isinstance(calls[1][1], snapshot_boot.SnapshotBootHooks)


def test_cold_boot_is_asked_for_on_the_command_line():
    assert build_parser().parse_args(["boot", "--cold-boot", "--", "hello"]).cold_boot
    assert not build_parser().parse_args(["boot", "--", "hello"]).cold_boot


def snap_boot_disk(tmp_path):
    from tests.unit.test_pintos_boot_snapshot import boot_image
    return boot_image(tmp_path / "boot.img", ("-q", "run", "hello"))
