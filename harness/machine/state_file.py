"""A stopped machine's whole state in a file, and a new QEMU started from it.

QEMU's migration writes the machine's RAM and device state to a stream;
pointed at a file (`exec:cat > FILE`) it is a snapshot that needs no qcow2
drive (savevm does). A QEMU started with `-incoming defer` takes it back
with `migrate-incoming exec:cat FILE`: it then stands paused where the
saved one stood, in the saved RAM (a memory-backend-file included: the
harness's mapping of it shows the restored bytes), with its own drives.

    save_state(machine.qmp, path, timeout)          # the machine is stopped
    Machine.incoming = path; machine.start(args)    # harness/machine/qemu.py

Measured on QEMU 7.2 (docs/pintos-kaist.md, "Boot snapshot"): a 20 MB
Pintos-KAIST guest stopped at `main` saves to ~1 MB in ~50 ms and is
loaded in ~30-60 ms; under `-icount shift=0,sleep=off` the restored
instruction counter is the saved one.

What QEMU restores that a caller must know: the runstate the source was
in when saved (a source stopped by a GDB breakpoint is in "debug", which
a destination cannot enter from "inmigrate" and aborts: stop the source
with a GDB interrupt or QMP `stop` instead), and the devices' own state,
e.g. an IDE disk's cached IDENTIFY answer with the size of the source's
disk (so the destination's drives must be the same sizes).
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from harness.errors import HarnessError, QMPError

POLL_S = 0.002


class StateTransferError(HarnessError):
    """A machine state could not be saved or restored (why)."""


def save_state(qmp, path: Path, timeout: float) -> None:
    """Writes the stopped machine's state (QMP client QMP) to PATH, whole
    or not at all (a partial file is removed). StateTransferError."""
    partial = path.with_name(path.name + ".partial")
    try:
        qmp.execute("migrate", {"uri": f"exec:cat > {shlex.quote(str(partial))}"})
        wait_migration(qmp, timeout, "saving the machine state")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def incoming_args() -> list[str]:
    """QEMU options for a machine that waits for restore_state()."""
    return ["-incoming", "defer"]


def restore_state(qmp, path: Path, timeout: float) -> None:
    """Loads PATH into a QEMU started with incoming_args(); it is then
    paused where the saved machine stood. StateTransferError (QEMU may
    have exited: a state that does not fit its devices ends it)."""
    if not path.is_file():
        raise StateTransferError(f"no saved state at {path}")
    try:
        qmp.execute("migrate-incoming", {"uri": f"exec:cat {shlex.quote(str(path))}"})
        wait_migration(qmp, timeout, "restoring the machine state")
        status = qmp.execute("query-status")["status"]
    except QMPError as e:
        raise StateTransferError(f"QEMU stopped answering while restoring {path.name}: "
                                 f"{e}") from None
    if status != "paused":
        raise StateTransferError(f"the restored machine is {status!r}, not paused")


def wait_migration(qmp, timeout: float, what: str) -> None:
    """Waits (TIMEOUT s) until this QEMU's migration completed."""
    deadline = time.monotonic() + timeout
    while True:
        info = qmp.execute("query-migrate")
        status = info.get("status")
        if status == "completed":
            return
        if status in ("failed", "cancelled"):
            raise StateTransferError(f"{what}: migration {status}"
                                     f"{': ' + info['error-desc'] if 'error-desc' in info else ''}")
        if time.monotonic() > deadline:
            raise StateTransferError(f"{what}: not done within {timeout:g} s "
                                     f"(migration {status or 'not started'})")
        time.sleep(POLL_S)
