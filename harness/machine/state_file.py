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

A machine whose RAM is a shared file (guest_ram.py) is saved with QEMU's
`x-ignore-shared` migration capability: the stream then leaves that RAM
out, and the harness writes it into the state file itself, ahead of the
stream (RAM_HEADER: magic and size, then the RAM, sparse: its zero pages
are holes). A restore copies that RAM into the new machine's RAM file
before QEMU starts (load_ram) and gives QEMU only the stream, with the
same capability. QEMU then neither writes the RAM nor, for each of its
zero pages, reads the page to see whether it must clear it: on team8's
20 MB machine that reading faulted in every page of the new RAM file,
~60 ms of QEMU's ~320 ms per `hello` run (318 -> 258 ms wall, median of
5, A/B; docs/pintos-kaist.md, "Boot snapshot"). A machine without a
shared RAM file (and a state saved from one) keeps the RAM in the stream.

What QEMU restores that a caller must know: the runstate the source was
in when saved (a source stopped by a GDB breakpoint is in "debug", which
a destination cannot enter from "inmigrate" and aborts: stop the source
with a GDB interrupt or QMP `stop` instead), and the devices' own state,
e.g. an IDE disk's cached IDENTIFY answer with the size of the source's
disk (so the destination's drives must be the same sizes).
"""

from __future__ import annotations

import os
import shlex
import struct
import time
from pathlib import Path

from harness.errors import HarnessError, QMPError

POLL_S = 0.002
RAM_MAGIC = b"VMCKRAM1"
RAM_HEADER = 4096           # magic, RAM size (little-endian u64), zeros: a page
PAGE = 4096
IGNORE_SHARED = "x-ignore-shared"


class StateTransferError(HarnessError):
    """A machine state could not be saved or restored (why)."""


def save_state(qmp, path: Path, timeout: float, ram=None) -> None:
    """Writes the stopped machine's state (QMP client QMP) to PATH, whole
    or not at all (a partial file is removed). RAM: the machine's shared
    RAM file as mapped (a GuestRam), written ahead of the stream, which
    then leaves it out; None: the stream holds the RAM. StateTransferError."""
    partial = path.with_name(path.name + ".partial")
    try:
        redirect = ">"
        if ram is not None:
            _set_ignore_shared(qmp)
            _write_ram(partial, ram.read(0, ram.size))
            redirect = ">>"
        qmp.execute("migrate", {"uri": f"exec:cat {redirect} {shlex.quote(str(partial))}"})
        wait_migration(qmp, timeout, "saving the machine state")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _set_ignore_shared(qmp) -> None:
    qmp.execute("migrate-set-capabilities",
                {"capabilities": [{"capability": IGNORE_SHARED, "state": True}]})


def _write_ram(path: Path, ram: bytes) -> None:
    """RAM_HEADER, then RAM with its zero pages left as holes."""
    zero = bytes(PAGE)
    view = memoryview(ram)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        header = RAM_MAGIC + struct.pack("<Q", len(ram))
        os.write(fd, header + bytes(RAM_HEADER - len(header)))
        start = None                       # where the current run of data pages began
        for at in range(0, len(ram) + PAGE, PAGE):
            data = at < len(ram) and view[at:at + PAGE] != zero
            if data and start is None:
                start = at
            elif not data and start is not None:
                os.pwrite(fd, view[start:at], RAM_HEADER + start)
                start = None
        os.ftruncate(fd, RAM_HEADER + len(ram))   # trailing zero pages: a hole too
    finally:
        os.close(fd)


def saved_ram_size(path: Path) -> int | None:
    """The size of the RAM written ahead of PATH's stream, None if the
    stream holds the RAM."""
    try:
        with open(path, "rb") as file:
            header = file.read(len(RAM_MAGIC) + 8)
    except OSError:
        return None
    if len(header) < len(RAM_MAGIC) + 8 or not header.startswith(RAM_MAGIC):
        return None
    return struct.unpack("<Q", header[len(RAM_MAGIC):])[0]


def load_ram(path: Path, ram_file: Path | None, ram_size: int) -> int | None:
    """Copies the RAM saved ahead of PATH's stream into RAM_FILE (the new
    machine's RAM file of RAM_SIZE bytes, before QEMU starts: holes stay
    holes) and returns its size, for restore_state; None if PATH's stream
    holds the RAM. StateTransferError if PATH holds RAM and the machine
    has no RAM file, or one of another size."""
    size = saved_ram_size(path)
    if size is None:
        return None
    if ram_file is None:
        raise StateTransferError(f"{path.name} holds the guest's RAM for a shared RAM file, "
                                 "and this machine has none")
    if size != ram_size:
        raise StateTransferError(f"{path.name} holds {size} bytes of RAM, the machine has "
                                 f"{ram_size}")
    try:
        _copy_ram(path, ram_file, size)
    except OSError as e:     # e.g. the memory file system filled up: boot cold
        raise StateTransferError(f"cannot copy the RAM of {path.name} into {ram_file}: "
                                 f"{e.strerror or e}") from None
    return size


def _copy_ram(path: Path, ram_file: Path, size: int) -> None:
    source = os.open(path, os.O_RDONLY)
    try:
        target = os.open(ram_file, os.O_WRONLY)
        try:
            os.ftruncate(target, size)
            for start, end in _data_extents(source, RAM_HEADER, RAM_HEADER + size):
                while start < end:
                    chunk = os.pread(source, min(end - start, 1 << 20), start)
                    if not chunk:
                        raise StateTransferError(f"{path.name} ends inside its RAM")
                    os.pwrite(target, chunk, start - RAM_HEADER)
                    start += len(chunk)
        finally:
            os.close(target)
    finally:
        os.close(source)


def _data_extents(fd: int, start: int, end: int):
    """(start, end) of the parts of [START, END) of FD that hold data (not
    holes); the whole range where the file system cannot tell."""
    at = start
    while at < end:
        try:
            data = os.lseek(fd, at, os.SEEK_DATA)
        except OSError:          # ENXIO: only a hole from here on
            return
        if data >= end:
            return
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), end)
        yield data, hole
        at = hole


def incoming_args() -> list[str]:
    """QEMU options for a machine that waits for restore_state()."""
    return ["-incoming", "defer"]


def restore_state(qmp, path: Path, timeout: float, ram_size: int | None = None) -> None:
    """Loads PATH into a QEMU started with incoming_args(); it is then
    paused where the saved machine stood. RAM_SIZE: what load_ram()
    returned, the RAM saved ahead of the stream now in the machine's RAM
    file, so QEMU reads only the stream after it. StateTransferError (QEMU
    may have exited: a state that does not fit its devices ends it)."""
    if not path.is_file():
        raise StateTransferError(f"no saved state at {path}")
    source = f"cat {shlex.quote(str(path))}"
    try:
        if ram_size is not None:
            _set_ignore_shared(qmp)
            source = f"tail -c +{RAM_HEADER + ram_size + 1} {shlex.quote(str(path))}"
        qmp.execute("migrate-incoming", {"uri": f"exec:{source}"})
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
