"""The boot snapshot on a real Pintos-KAIST tree (harness/adapters/pintos_kaist/
boot_snapshot.py): scenarios booted cold and from the snapshot print the
same console from the kernel's command line on and get the same verdicts;
the restored machine stands at main with the run's own arguments in its
mapped RAM; a state QEMU cannot load boots cold; `vmcheck boot` takes it
too (harness/run/snapshot_boot.py).

Skipped unless VMCHECK_PINTOS_TREE names a tree (built in place, as
`vmcheck run` does)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
TREE = os.environ.get("VMCHECK_PINTOS_TREE")
needs_tree = pytest.mark.skipif(not TREE, reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")
# Different machines (RAM, swap disk) and outcomes on the development trees.
SCENARIOS = ["hello", "args", "pt-bad-addr", "fill-race", "mmap-twice"]
RESTORED = "booted from the machine state saved at main()"


def run(report: Path, **env) -> dict:
    """Name -> result of SCENARIOS, each disk request served in guest time
    (--exact-disk), so that two runs can print the same console."""
    done = subprocess.run(["./vmcheck", "run", *SCENARIOS, "--exact-disk",
                           "--kernel", f"pintos-kaist:{TREE}", "--report", str(report)],
                          capture_output=True, text=True, timeout=900, env={**os.environ, **env})
    assert done.returncode in (0, 1), done.stdout + done.stderr
    results = json.loads((report / "results.json").read_text())["scenarios"]
    return {result["name"]: result for result in results}


def from_command_line(console: str) -> str:
    return console[console.index("Kernel command line"):]


@needs_tree
def test_cold_and_restored_boots_print_the_same_and_get_the_same_verdicts(tmp_path):
    cold = run(tmp_path / "cold", VMCHECK_PINTOS_BOOT="cold")
    restored = run(tmp_path / "restored")
    for name in SCENARIOS:
        assert not any(RESTORED in note for note in cold[name]["notes"])
        assert any(RESTORED in note for note in restored[name]["notes"]), restored[name]["notes"]
        assert "boot_snapshot" not in cold[name]["boot_shortcuts"]           # what was taken
        assert "boot_snapshot" in restored[name]["boot_shortcuts"]
        assert (restored[name]["verdict"], restored[name]["reason"]) == \
            (cold[name]["verdict"], cold[name]["reason"]), name
        assert from_command_line(restored[name]["console"]) == \
            from_command_line(cold[name]["console"]), name


def booted(*options: str) -> tuple[str, str]:
    """(console from the command line on, stderr) of `vmcheck boot ... -- hello`;
    the timer's tick counts and the console's size, which the device disk's
    host-timed interrupts vary from boot to boot, left out."""
    done = subprocess.run(["./vmcheck", "boot", *options, "--kernel", f"pintos-kaist:{TREE}",
                           "--", "hello"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    varying = ("Timer: ", "Thread: ", "Console: ")
    return "\n".join(line for line in from_command_line(done.stdout).splitlines()
                     if not line.startswith(varying)), done.stderr


@needs_tree
def test_vmcheck_boot_starts_from_the_snapshot_unless_asked_not_to():
    cold, cold_said = booted("--cold-boot")
    restored, restored_said = booted()
    assert RESTORED in restored_said and RESTORED not in cold_said
    assert "hello: exit(0)" in restored and restored == cold


def started(adapter, machine, state: Path):
    """MACHINE started from STATE (a hello run's disks), attached at main."""
    from harness.debug.debugger import Debugger
    disks = adapter.make_disks(machine.run_dir, {"hello": adapter.find_program("hello")}, {}, 0)
    args = adapter.qemu_args(disks, adapter.kernel_cmdline([["hello", "x"]]), 20)
    machine.incoming = state
    machine.start(args)
    return disks, args, Debugger.attach(machine.gdb_socket, adapter.kernel_symbols(), "main",
                                        guest_ram=machine.guest_ram)


@needs_tree
def test_the_restored_machine_stands_at_main_with_its_own_arguments(tmp_path):
    from harness.adapters import get_adapter
    from harness.adapters.pintos_kaist.boot_snapshot import (ARGS_AT, BootSnapshot, args_sector,
                                                             boot_snapshot)
    from harness.adapters.pintos_kaist.probe import ProbeCache
    from harness.machine.qemu import Machine, MachineOptions
    adapter = get_adapter(f"pintos-kaist:{TREE}")
    options = MachineOptions(paused=True)
    with Machine(options) as first:
        disks = adapter.make_disks(first.run_dir, {}, {}, 0)
        args = adapter.qemu_args(disks, "-q", 20)
        snapshot, why = boot_snapshot(adapter, options, "test build", disks, args,
                                      ProbeCache(tmp_path / "snaps.json"))
    assert why is None
    with Machine(options) as machine:
        disks, args, dbg = started(adapter, machine, snapshot.state)
        own = BootSnapshot(snapshot.state, snapshot.main, args_sector(disks.raw_boot))
        with dbg:
            assert machine.incoming_failed is None and machine.guest_ram is not None
            assert dbg.pc == snapshot.main
            assert machine.guest_ram.read(ARGS_AT, len(own.args)) != own.args   # the probe's
            own.arm(dbg)
            assert machine.guest_ram.read(ARGS_AT, len(own.args)) == own.args
        machine.resume()
        assert machine.wait_exit(60) == 0
    console = machine.console.text()
    assert console.startswith("Kernel command line: -q run") and "hello x" in console.split("\n")[0]
    assert "hello: exit(0)" in console


@needs_tree
def test_a_state_qemu_cannot_load_boots_cold(tmp_path):
    from harness.adapters import get_adapter
    from harness.machine.qemu import Machine, MachineOptions
    adapter = get_adapter(f"pintos-kaist:{TREE}")
    broken = tmp_path / "broken.state"
    broken.write_bytes(b"QEVM" + bytes(4096))
    with Machine(MachineOptions(paused=True)) as machine:
        _, _, dbg = started(adapter, machine, broken)
        with dbg:
            assert "load of migration failed" in machine.incoming_failed
            assert dbg.pc == adapter.kernel_symbols().address_of("main")
        machine.resume()
        assert machine.wait_exit(60) == 0
    assert "hello: exit(0)" in machine.console.text()
