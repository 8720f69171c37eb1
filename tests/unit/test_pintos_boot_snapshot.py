"""The boot snapshot of a Pintos-KAIST kernel (harness/adapters/pintos_kaist/
boot_snapshot.py): what its key holds, the cache shared by workers, the
fall-backs to a cold boot, the kernel arguments written into the restored
machine, the saved-state transfer's answers (harness/machine/state_file.py),
and a schedule's record of the shortcuts it took."""

from __future__ import annotations

import shlex
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.adapters.base import drive_arg
from harness.adapters.pintos_kaist import boot_snapshot as snap
from harness.adapters.pintos_kaist.disks import write_kernel_args
from harness.adapters.pintos_kaist.probe import ProbeCache
from harness.errors import HarnessError
from harness.machine import state_file
from harness.run.explore import replay_options
from harness.run.runner import RunnerOptions
from harness.run.schedule import recorded_shortcuts, shortcut_names

MAIN = 0x8004_2060
ICOUNT = SimpleNamespace(icount_clock=True, accel="tcg", shared_ram=True)


def boot_image(path, words=("-q",), code=b"\x90"):
    """A boot disk: a boot sector (CODE first) and 3 more sectors."""
    sector = bytearray(512)
    sector[:len(code)] = code
    sector[510:] = b"\x55\xaa"
    path.write_bytes(bytes(sector) + bytes(3 * 512))
    write_kernel_args(path, list(words))
    return path


def run_files(folder, words=("-q",), swap=4096, code=b"\x90"):
    """One run's disks (raw) and its QEMU machine arguments."""
    folder.mkdir()
    boot = boot_image(folder / "boot.img", words, code)
    images = [boot]
    for name, size in (("fs", 2048), ("scratch", 512), ("swap", swap)):
        (folder / f"{name}.img").write_bytes(bytes(size))
        images.append(folder / f"{name}.img")
    args = ["-M", "pc", "-cpu", "qemu64", "-m", "20", "-nic", "none"]
    for index, image in enumerate(images):
        args += drive_arg(image, "raw", index)
    return SimpleNamespace(format="raw", raw_boot=boot), args


def key_of(files, options=ICOUNT, build="b"):
    disks, args = files
    return snap.key(build, options, args, snap.boot_image_digest(disks.raw_boot))


def test_the_key_names_disks_by_size_and_ignores_their_paths_contents_and_arguments(tmp_path):
    first = key_of(run_files(tmp_path / "a", ("-q", "run", "hello")))
    assert key_of(run_files(tmp_path / "b", ("-q", "-f", "run", "args x y"))) == first
    assert key_of(run_files(tmp_path / "c", swap=8192)) != first
    assert key_of(run_files(tmp_path / "d", code=b"\xf4")) != first     # another boot disk
    assert key_of(run_files(tmp_path / "a2"), build="other build") != first
    no_icount = SimpleNamespace(icount_clock=False, accel="tcg", shared_ram=True)
    assert key_of(run_files(tmp_path / "e"), options=no_icount) != first
    disks, args = run_files(tmp_path / "f")
    assert snap.key("b", ICOUNT, [*args[:5], "64", *args[6:]],
                    snap.boot_image_digest(disks.raw_boot)) != first


def test_a_drive_path_with_commas_is_read_as_one_file(tmp_path):
    image = tmp_path / "a,b.img"
    image.write_bytes(bytes(1024))
    assert snap.machine_words(["-m", "20", *drive_arg(image, "raw", 3)]) == \
        ["-m", "20", "-drive", "size=1024,format=raw,if=ide,index=3"]


def fake_probe(calls, fail=False):
    def probe(adapter, options, guest_args, path):
        calls.append(path)
        time.sleep(0.05)            # long enough for a second worker to come
        if fail:
            raise HarnessError("QEMU would not start\nmore")
        path.write_bytes(b"state")
    return probe


ADAPTER = SimpleNamespace(long_mode_symbol="main",
                          kernel_symbols=lambda: SimpleNamespace(address_of=lambda name: MAIN))


def test_one_probe_per_key_even_for_two_workers_at_once(tmp_path):
    cache, calls, got = ProbeCache(tmp_path / "build/snaps.json"), [], []
    files = [run_files(tmp_path / name) for name in ("w1", "w2")]

    def worker(disks, args):
        got.append(snap.boot_snapshot(ADAPTER, ICOUNT, "b", disks, args, cache,
                                      fake_probe(calls)))
    threads = [threading.Thread(target=worker, args=pair) for pair in files]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(calls) == 1 and [why for _, why in got] == [None, None]
    assert {shortcut.state for shortcut, _ in got} == {calls[0]}
    assert calls[0].read_bytes() == b"state"
    snap.boot_snapshot(ADAPTER, ICOUNT, "b", *run_files(tmp_path / "w4", swap=8192), cache,
                       fake_probe(calls))
    assert len(calls) == 2 and calls[1] != calls[0]       # another disk size: another state


def test_a_failed_probe_boots_cold_and_the_next_run_probes_again(tmp_path):
    cache, calls = ProbeCache(tmp_path / "snaps.json"), []
    disks, args = run_files(tmp_path / "r")
    assert snap.boot_snapshot(ADAPTER, ICOUNT, "b", disks, args, cache,
                              fake_probe(calls, fail=True)) == \
        (None, "the boot snapshot probe failed: QEMU would not start")
    shortcut, why = snap.boot_snapshot(ADAPTER, ICOUNT, "b", disks, args, cache,
                                       fake_probe(calls))
    assert why is None and len(calls) == 2
    calls[1].unlink()                                   # the state file went: probe again
    snap.boot_snapshot(ADAPTER, ICOUNT, "b", disks, args, cache, fake_probe(calls))
    assert len(calls) == 3


def test_runs_that_boot_cold(tmp_path, monkeypatch):
    cache, calls = ProbeCache(tmp_path / "snaps.json"), []
    disks, args = run_files(tmp_path / "r")
    no_icount = SimpleNamespace(icount_clock=False, accel="tcg", shared_ram=True)
    assert snap.boot_snapshot(ADAPTER, no_icount, "b", disks, args, cache,
                              fake_probe(calls)) == (None, "the run is not under -icount")
    qcow2 = SimpleNamespace(format="qcow2", raw_boot=disks.raw_boot)
    assert snap.boot_snapshot(ADAPTER, ICOUNT, "b", qcow2, args, cache,
                              fake_probe(calls)) == (None, "its disks are qcow2, not raw")
    monkeypatch.setenv("VMCHECK_PINTOS_BOOT", "cold")
    assert snap.boot_snapshot(ADAPTER, ICOUNT, "b", disks, args, cache,
                              fake_probe(calls)) == (None, "VMCHECK_PINTOS_BOOT=cold")
    assert calls == []


class FakeDebugger:
    def __init__(self, pc):
        self.pc, self.writes = pc, []

    def write_phys(self, address, data):
        self.writes.append((address, data))

    def describe(self, address):
        return f"{address:#x}"


def test_the_restored_machine_gets_the_runs_own_kernel_arguments(tmp_path):
    disks, _ = run_files(tmp_path / "r", ("-q", "-ul=5", "run", "hello"))
    state = tmp_path / "s.state"
    shortcut = snap.BootSnapshot(state, MAIN, snap.args_sector(disks.raw_boot))
    machine = SimpleNamespace(incoming=None, incoming_failed=None)
    shortcut.prepare(machine)
    assert machine.incoming == state
    dbg = FakeDebugger(MAIN)
    shortcut.arm(dbg)
    ((address, data),) = dbg.writes
    assert address == 0x7C00 + 0x17A and len(data) == 0x1FE - 0x17A
    assert data[:4] == (4).to_bytes(4, "little")
    assert data[4:].rstrip(b"\0") == b"-q\0-ul=5\0run\0hello"
    assert shortcut.taken and shortcut.missed is None
    with pytest.raises(HarnessError, match="not at main"):
        snap.BootSnapshot(state, MAIN, data).arm(FakeDebugger(MAIN + 1))


def test_a_failed_restore_is_said_and_its_state_removed(tmp_path):
    state = tmp_path / "s.state"
    state.write_bytes(b"broken")
    shortcut = snap.BootSnapshot(state, MAIN, bytes(132))
    machine = SimpleNamespace(incoming=None, incoming_failed=None)
    shortcut.prepare(machine)
    machine.incoming_failed = "load of migration failed"
    dbg = FakeDebugger(0xFFF0)
    shortcut.arm(dbg)
    assert dbg.writes == [] and not shortcut.taken and not state.exists()
    assert shortcut.missed == ("the boot snapshot was not restored (load of migration "
                               "failed): booted cold")


class FakeQmp:
    def __init__(self, statuses, status="paused"):
        self.statuses, self.status, self.commands = list(statuses), status, []

    def execute(self, command, arguments=None):
        self.commands.append((command, arguments))
        if command == "migrate":             # exec:cat > FILE: QEMU's cat makes FILE
            Path(shlex.split(arguments["uri"])[-1]).write_bytes(b"part of a state")
        if command == "query-migrate":
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if command == "query-status":
            return {"status": self.status}
        return {}


def test_a_restore_waits_for_the_migration_and_says_why_it_failed(tmp_path):
    path = tmp_path / "a b.state"
    path.write_bytes(b"x")
    qmp = FakeQmp([{"status": "active"}, {"status": "completed"}])
    state_file.restore_state(qmp, path, 5)
    assert qmp.commands[0] == ("migrate-incoming", {"uri": f"exec:cat '{path}'"})
    with pytest.raises(state_file.StateTransferError, match="migration failed: bad section"):
        state_file.restore_state(FakeQmp([{"status": "failed", "error-desc": "bad section"}]),
                                 path, 5)
    with pytest.raises(state_file.StateTransferError, match="not paused"):
        state_file.restore_state(FakeQmp([{"status": "completed"}], "running"), path, 5)
    with pytest.raises(state_file.StateTransferError, match="not done within"):
        state_file.restore_state(FakeQmp([{"status": "active"}]), path, 0.01)
    with pytest.raises(state_file.StateTransferError, match="no saved state"):
        state_file.restore_state(FakeQmp([]), tmp_path / "none", 5)


def test_a_save_is_whole_or_leaves_no_file(tmp_path):
    path = tmp_path / "s.state"
    with pytest.raises(state_file.StateTransferError):
        state_file.save_state(FakeQmp([{"status": "failed"}]), path, 5)
    assert list(tmp_path.iterdir()) == []
    state_file.save_state(FakeQmp([{"status": "completed"}]), path, 5)
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes() == b"part of a state"


def test_a_replay_takes_the_shortcuts_its_schedule_recorded(monkeypatch):
    monkeypatch.setattr("harness.run.explore.check_travels", lambda schedule, adapter: None)
    pintos = SimpleNamespace(boot_shortcut_names=("boot_snapshot", "calibration"))
    assert shortcut_names(pintos, True) == ("boot_snapshot", "calibration")
    assert shortcut_names(pintos, False) == ()
    assert shortcut_names(SimpleNamespace(), True) == ()
    assert recorded_shortcuts({}) == ()
    assert recorded_shortcuts({"boot_shortcuts": True}) == ("calibration",)   # before snapshots
    assert recorded_shortcuts({"boot_shortcuts": ["boot_snapshot", "calibration"]}) == \
        ("boot_snapshot", "calibration")
    sc = SimpleNamespace(inject=())
    old = {"injections": [], "boot_shortcuts": True}
    replayed = replay_options(None, sc, old, RunnerOptions())
    assert shortcut_names(pintos, replayed.boot_shortcuts) == ("calibration",)
