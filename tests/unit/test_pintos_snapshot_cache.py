"""The boot snapshots' folder is capped (harness/adapters/pintos_kaist/
snapshot_cache.py): the least recently used states go after a probe, never
one a run is loading; a failed restore removes its state only if no other
run holds it."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import SimpleNamespace

from harness.adapters.pintos_kaist import boot_snapshot as snap
from harness.adapters.pintos_kaist import snapshot_cache
from harness.adapters.pintos_kaist.probe import ProbeCache
from tests.unit.test_pintos_boot_snapshot import ADAPTER, ICOUNT, run_files

STATE_BYTES = 8192   # whole blocks: the cap counts the blocks a file takes


def state_files(folder: Path, ages: dict) -> dict:
    """State files NAME.state of STATE_BYTES, used AGES[NAME] seconds ago;
    the index entries for them."""
    folder.mkdir(parents=True, exist_ok=True)
    now = 1_700_000_000
    for name, age in ages.items():
        path = folder / f"{name}.state"
        path.write_bytes(b"\x01" * STATE_BYTES)
        os.utime(path, (now - age, now - age))
    return {name: {"build": "b", "state": f"{name}.state"} for name in ages}


def test_the_least_recently_used_go_until_the_folder_fits(tmp_path):
    folder = tmp_path / "snaps"
    entries = state_files(folder, {"old": 30, "new": 10, "mid": 20, "made": 40})
    removed = snapshot_cache.evict(entries, folder, 2 * STATE_BYTES, keep="made")
    assert [p.name for p in removed] == ["old.state", "mid.state"]
    assert sorted(p.name for p in folder.iterdir()) == ["made.state", "new.state"]
    assert sorted(entries) == ["made", "new"]
    assert snapshot_cache.evict(entries, folder, 2 * STATE_BYTES, keep="made") == []


def test_a_state_a_run_is_loading_is_never_removed(tmp_path):
    folder = tmp_path / "snaps"
    entries = state_files(folder, {"loading": 30, "old": 20, "made": 0})
    held = snapshot_cache.hold(folder / "loading.state")
    os.utime(folder / "loading.state", (1, 1))          # still the oldest
    removed = snapshot_cache.evict(entries, folder, STATE_BYTES, keep="made")
    assert [p.name for p in removed] == ["old.state"]
    assert (folder / "loading.state").read_bytes() == b"\x01" * STATE_BYTES
    assert sorted(entries) == ["loading", "made"]       # over the cap while it is held
    answers = []                                        # another worker: a thread
    worker = threading.Thread(target=lambda: answers.append(
        snapshot_cache.remove_unused(folder / "loading.state")))
    worker.start()
    worker.join()
    assert answers == [False] and (folder / "loading.state").exists()
    held.close()                                        # QEMU has read it
    assert [p.name for p in snapshot_cache.evict(entries, folder, STATE_BYTES, keep="made")] \
        == ["loading.state"]
    assert sorted(entries) == ["made"]


def test_the_cap_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(snapshot_cache.CAP_ENV, raising=False)
    assert snapshot_cache.cap_bytes() == 64 << 20
    monkeypatch.setenv(snapshot_cache.CAP_ENV, "0.5")
    assert snapshot_cache.cap_bytes() == 512 << 10
    monkeypatch.setenv(snapshot_cache.CAP_ENV, "lots")
    assert snapshot_cache.cap_bytes() == 64 << 20


def probe_writing(calls):
    def probe(adapter, options, guest_args, path):
        calls.append(path.name)
        path.write_bytes(b"\x01" * STATE_BYTES)
    return probe


def test_runs_probe_use_and_evict_in_lru_order_keeping_what_is_held(tmp_path, monkeypatch):
    monkeypatch.setenv(snapshot_cache.CAP_ENV, str(2 * STATE_BYTES / (1 << 20)))
    cache, calls = ProbeCache(tmp_path / "build/snaps.json"), []
    keys = {swap: run_files(tmp_path / f"r{swap}", swap=swap) for swap in (1024, 2048, 3072)}

    def run(swap):
        shortcut, why = snap.boot_snapshot(ADAPTER, ICOUNT, "b", *keys[swap], cache,
                                           probe_writing(calls))
        assert why is None
        return shortcut

    def files():
        return {p.name for p in (cache.path.parent / snap.STATE_DIR).glob("*.state")}

    a = run(1024)
    a.release()                        # QEMU has read it
    b = run(2048)                      # a run still loading it
    os.utime(b.state, (1, 1))          # the least recently used, but held
    c = run(3072)                      # over the cap of two: A goes, not B
    assert len(calls) == 3 and files() == {b.state.name, c.state.name}
    b.arm(SimpleNamespace(pc=snap_main(), write_phys=lambda address, data: None))
    assert b.taken and b.held is None
    c.release()
    run(1024).release()                # probed again: now B, the oldest, goes
    assert len(calls) == 4 and files() == {a.state.name, c.state.name}
    os.utime(a.state, (2, 2))
    os.utime(c.state, (1, 1))
    run(3072).release()                # C used (no probe): A is now the least recent
    run(2048).release()                # probed again: A goes
    assert len(calls) == 5 and files() == {b.state.name, c.state.name}
    assert sorted(entry["state"] for entry in cache_entries(cache).values()) == \
        sorted(files())


def cache_entries(cache):
    with cache.locked() as entries:
        return dict(entries)


def snap_main():
    return ADAPTER.kernel_symbols().address_of("main")


def test_a_failed_restore_leaves_a_state_another_run_is_loading(tmp_path):
    cache, calls = ProbeCache(tmp_path / "build/snaps.json"), []
    files = run_files(tmp_path / "r")
    mine = snap.boot_snapshot(ADAPTER, ICOUNT, "b", *files, cache, probe_writing(calls))[0]
    other = snap.boot_snapshot(ADAPTER, ICOUNT, "b", *files, cache, probe_writing(calls))[0]
    assert len(calls) == 1 and mine.state == other.state
    mine.prepare(SimpleNamespace(incoming=None, incoming_failed="load of migration failed"))
    mine.machine.incoming_failed = "load of migration failed"
    mine.arm(SimpleNamespace(pc=0xFFF0))
    assert mine.state.exists() and cache_entries(cache)      # the other run is loading it
    other.prepare(SimpleNamespace(incoming=None, incoming_failed=None))
    other.machine.incoming_failed = "load of migration failed"
    other.arm(SimpleNamespace(pc=0xFFF0))
    assert not mine.state.exists() and cache_entries(cache) == {}
