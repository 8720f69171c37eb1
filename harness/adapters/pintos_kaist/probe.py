"""What the boot shortcuts of a Pintos-KAIST kernel share: a probe boot of
their own, once per kernel build, and a cache of what it found.

The timer calibration (calibration.py) and the boot snapshot
(boot_snapshot.py) each measure something that is the same in every run of
one kernel build under -icount, once, in a quiet paused machine stopped
with hardware breakpoints (probe_machine, run_to), and keep it in a JSON
file under build/ that several workers share under a lock (ProbeCache):
the first of two workers probes, the second waits for its answer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
from pathlib import Path

from harness import config
from harness.errors import HarnessError

PROBE_TIMEOUT_S = 60.0


class ProbeCache:
    """Entries by key (a kernel build, a QEMU, a machine), in one JSON file
    (PATH) that several processes share under a lock."""

    def __init__(self, path: Path):
        self.path = path

    @contextlib.contextmanager
    def locked(self):
        """The cache's contents (a dict), held under an exclusive lock; a
        change to the dict is written back."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                entries = json.loads(self.path.read_text())
            except (OSError, ValueError):
                entries = {}
            before = dict(entries)
            yield entries
            if entries != before:
                tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(entries, indent=1, sort_keys=True))
                tmp.replace(self.path)


def build_path(name: str) -> Path:
    """NAME under the project's build folder (where the probes keep what they found)."""
    return config.build_dir() / name


@contextlib.contextmanager
def probe_machine(options, start):
    """A quiet machine under OPTIONS (MachineOptions: its clock and QEMU,
    started paused, nothing kept, no console sink) and a raw GDB client on
    it: START(machine) starts QEMU (it makes the disks in machine.run_dir).
    Yields (machine, gdb); QEMU is killed after."""
    from harness.debug.rsp import RspClient
    from harness.machine.qemu import Machine
    quiet = dataclasses.replace(options, paused=True, keep=False, keep_on_error=False,
                                console_sink=None, int_log=False)
    with Machine(quiet) as machine:
        start(machine)
        gdb = RspClient.connect(str(machine.gdb_socket), machine.timeouts(10))
        try:
            yield machine, gdb
        finally:
            gdb.close()
            machine.kill()


def run_to(machine, gdb, address: int, what: str) -> None:
    """Runs the probe machine to ADDRESS (a hardware breakpoint, removed
    after); HarnessError naming WHAT if it stops anywhere else."""
    gdb.insert_breakpoint(address, hardware=True)
    gdb.resume()
    stop = gdb.wait_stop(machine.timeouts(PROBE_TIMEOUT_S))
    if stop is None or gdb.pc() != address:
        raise HarnessError(f"{what} probe: no stop at {address:#x} ({stop}); "
                           f"see {machine.console_log}")
    gdb.remove_breakpoint(address, hardware=True)
