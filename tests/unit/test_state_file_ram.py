"""A machine with a shared RAM file is saved with its RAM ahead of the
migration stream, sparse, and restored by copying that RAM into the new
machine's RAM file and giving QEMU only the stream under x-ignore-shared
(harness/machine/state_file.py). The QMP side is a fake that runs the
`exec:` commands QEMU would run, so the shell pipelines are the real ones."""

from __future__ import annotations

import os
import subprocess

import pytest

from harness.adapters.pintos_kaist import snapshot_cache
from harness.machine import state_file

PAGE = state_file.PAGE
STREAM = b"QEVM device state, RAM left out"


class ExecQmp:
    """Runs a migration's exec: command: `migrate` feeds it STREAM (what
    QEMU writes), `migrate-incoming` keeps what it prints (what QEMU reads)."""

    def __init__(self):
        self.commands, self.read = [], None

    def execute(self, command, arguments=None):
        self.commands.append((command, arguments))
        if command == "migrate":
            subprocess.run(arguments["uri"].removeprefix("exec:"), shell=True, input=STREAM,
                           check=True)
        if command == "migrate-incoming":
            self.read = subprocess.run(arguments["uri"].removeprefix("exec:"), shell=True,
                                       capture_output=True, check=True).stdout
        if command == "query-migrate":
            return {"status": "completed"}
        if command == "query-status":
            return {"status": "paused"}
        return {}


class Ram:
    def __init__(self, data: bytes):
        self.data, self.size = data, len(data)

    def read(self, address, length):
        return self.data[address:address + length]


def guest_ram(pages: int = 64) -> bytes:
    ram = bytearray(pages * PAGE)
    ram[PAGE + 7] = 0x5A                         # page 1: one byte
    ram[5 * PAGE:6 * PAGE] = b"\xc3" * PAGE       # page 5: full
    ram[-1] = 1                                  # the last page
    return bytes(ram)


IGNORE_SHARED = ("migrate-set-capabilities",
                 {"capabilities": [{"capability": "x-ignore-shared", "state": True}]})


def test_the_ram_goes_ahead_of_the_stream_sparse_and_comes_back_byte_for_byte(tmp_path):
    ram = guest_ram()
    path = tmp_path / "a b.state"
    qmp = ExecQmp()
    state_file.save_state(qmp, path, 5, ram=Ram(ram))
    assert qmp.commands[0] == IGNORE_SHARED and qmp.commands[1][0] == "migrate"
    assert state_file.saved_ram_size(path) == len(ram)
    assert path.read_bytes() == (state_file.RAM_MAGIC + len(ram).to_bytes(8, "little")).ljust(
        state_file.RAM_HEADER, b"\0") + ram + STREAM
    st = path.stat()
    assert st.st_blocks * 512 < st.st_size // 4      # 3 pages of data of 64: the rest are holes

    target = tmp_path / "guest.ram"
    target.touch()                                   # as plan_shared_ram leaves it: empty
    assert state_file.load_ram(path, target, len(ram)) == len(ram)
    assert target.read_bytes() == ram
    qmp = ExecQmp()
    state_file.restore_state(qmp, path, 5, ram_size=len(ram))
    assert qmp.commands[0] == IGNORE_SHARED and qmp.read == STREAM


def test_a_state_whose_stream_holds_the_ram_is_read_whole_as_before(tmp_path):
    path = tmp_path / "s.state"
    qmp = ExecQmp()
    state_file.save_state(qmp, path, 5)
    assert [c for c, _ in qmp.commands] == ["migrate", "query-migrate"]
    assert path.read_bytes() == STREAM and state_file.saved_ram_size(path) is None
    target = tmp_path / "guest.ram"
    target.touch()
    assert not state_file.load_ram(path, target, 4 * PAGE) and target.read_bytes() == b""
    qmp = ExecQmp()
    state_file.restore_state(qmp, path, 5)
    assert qmp.commands[0][0] == "migrate-incoming" and qmp.read == STREAM


def test_saved_ram_needs_a_ram_file_of_its_size(tmp_path):
    path = tmp_path / "s.state"
    state_file.save_state(ExecQmp(), path, 5, ram=Ram(guest_ram(8)))
    with pytest.raises(state_file.StateTransferError, match="this machine has none"):
        state_file.load_ram(path, None, 8 * PAGE)
    target = tmp_path / "guest.ram"
    target.touch()
    with pytest.raises(state_file.StateTransferError, match=f"holds {8 * PAGE} bytes of RAM, "
                                                            f"the machine has {16 * PAGE}"):
        state_file.load_ram(path, target, 16 * PAGE)


def test_the_cap_counts_the_blocks_a_sparse_state_takes(tmp_path):
    folder = tmp_path / "snaps"
    folder.mkdir()
    sparse = folder / "sparse.state"
    with open(sparse, "wb") as file:
        file.write(b"\x01" * 8192)
        file.truncate(20 << 20)                      # 20 MB of RAM, all holes but the start
    os.utime(sparse, (1, 1))
    (folder / "made.state").write_bytes(b"\x01" * 8192)
    entries = {"sparse": {"state": "sparse.state"}, "made": {"state": "made.state"}}
    assert snapshot_cache.evict(entries, folder, 64 << 10, keep="made") == []
    assert sparse.exists()


def test_a_ram_file_that_cannot_take_the_ram_is_a_failed_restore_not_a_crash(tmp_path):
    """A restore that fails boots cold (Machine.start catches
    StateTransferError); an OSError would have ended the run as a
    HARNESS_ERROR."""
    path = tmp_path / "s.state"
    state_file.save_state(ExecQmp(), path, 5, ram=Ram(guest_ram(8)))
    with pytest.raises(state_file.StateTransferError, match="cannot copy the RAM of s.state"):
        state_file.load_ram(path, tmp_path / "no such folder" / "guest.ram", 8 * PAGE)
