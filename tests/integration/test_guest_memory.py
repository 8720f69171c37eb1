"""Guest memory read from the mapped RAM file (harness/machine/guest_ram.py,
harness/debug/guest_memory.py) against the GDB stub's own reads, on the same
stop, over a whole state capture; and a machine without a memory file system
falls back to the stub and says so in the result."""

from __future__ import annotations

import os

import pytest

from harness.adapters import get_adapter
from harness.debug.debugger import Debugger
from harness.debug.guest_memory import LEGACY_HOLE, MappedMemory, StubMemory
from harness.debug.program_image import load_program
from harness.debug.rsp import RspMemoryError
from harness.machine.qemu import Machine, MachineOptions
from harness.run.capture import capture_state
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.run.suite import load_all, select

pytestmark = pytest.mark.integration

TOUCH_MB = 6          # bigtouch's heap: ~1,500 user pages and their SPT entries
RAM_MB = TOUCH_MB + 44


class RecordingMemory:
    """Passes reads to INNER and keeps (kind, address, size, bytes or the
    exception's type) for each."""

    def __init__(self, inner):
        self.inner = inner
        self.reads: list = []

    def read_phys(self, address, size):
        return self._record("phys", address, size)

    def read_virt(self, address, size):
        return self._record("virt", address, size)

    def local_page(self, address):
        return self.inner.local_page(address)

    def _record(self, kind, address, size):
        try:
            data = getattr(self.inner, "read_" + kind)(address, size)
        except RspMemoryError:
            self.reads.append((kind, address, size, RspMemoryError))
            raise
        self.reads.append((kind, address, size, data))
        return data


def physical_address(mapped: MappedMemory, kind: str, address: int):
    """Where ADDRESS is in physical memory (None: not mapped)."""
    if kind == "phys":
        return address
    frame = mapped.translate(address)
    return None if frame is None or frame < 0 else frame + address % 4096


def stub_read(stub: StubMemory, kind: str, address: int, size: int):
    try:
        return getattr(stub, "read_" + kind)(address, size)
    except RspMemoryError:
        return RspMemoryError


def mapped(dbg, address: int) -> bool:
    try:
        dbg.read_virt(address, 1)
    except RspMemoryError:
        return False
    return True


def kernel_adapter(kind: str):
    """The reference adapter, or the Pintos-KAIST tree VMCHECK_PINTOS_TREE
    names, built (skips without one)."""
    if kind == "reference":
        return get_adapter("reference")
    tree = os.environ.get("VMCHECK_PINTOS_TREE")
    if not tree:
        pytest.skip("set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")
    adapter = get_adapter(f"pintos-kaist:{tree}")
    adapter.build()
    return adapter


@pytest.fixture(params=["reference", "pintos-kaist"])
def at_bigtouch_checkpoint(request, built, run_root):
    """A debugger on the mapped RAM, stopped at bigtouch's checkpoint with
    its heap touched."""
    adapter = kernel_adapter(request.param)
    image = load_program(adapter.find_program("bigtouch"))
    with Machine(MachineOptions(paused=True, run_root=run_root)) as m:
        disks = adapter.make_disks(m.run_dir, {"bigtouch": image.path}, {}, 0)
        m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["bigtouch", str(TOUCH_MB)]]),
                                  RAM_MB))
        assert m.guest_ram is not None, m.guest_ram_note
        symbols = adapter.kernel_symbols()
        with Debugger.attach(m.gdb_socket, symbols, adapter.long_mode_symbol,
                             guest_ram=m.guest_ram) as dbg:
            bp = dbg.add_breakpoint(image.checkpoint)
            dbg.run_until(bp, 60)
            while not mapped(dbg, image.checkpoint):   # first stop: page not mapped yet
                dbg.run_until(bp, 60)
            yield adapter, image, dbg, symbols
        m.kill()


def test_mapped_reads_equal_the_stub_reads_over_a_capture(at_bigtouch_checkpoint):
    adapter, image, dbg, symbols = at_bigtouch_checkpoint
    assert isinstance(dbg.memory, MappedMemory)
    recorder = RecordingMemory(dbg.memory)
    dbg.memory = recorder
    mapped_state = capture_state(adapter.inspector(dbg, symbols), dbg, RAM_MB << 20, 1,
                                 {"bigtouch": image})
    user_pages = [va for va, _, _ in mapped_state.proc.pages.iter_user_4k()]
    for va in user_pages[::max(1, len(user_pages) // 64)]:    # what read_user serves
        mapped_state.read_user(va, 4096)
    stub = StubMemory(dbg.client, cache=False)
    differ = [(kind, hex(address), size) for kind, address, size, data in recorder.reads
              if stub_read(stub, kind, address, size) != data]
    assert not differ, f"{len(differ)} of {len(recorder.reads)} reads differ: {differ[:10]}"
    kinds = {kind for kind, *_ in recorder.reads}
    # the inspectors read kernel memory a whole page at a time (kept for the stop):
    # the SPT's 12,288 struct pages alone lie on some hundreds of pages
    assert kinds == {"phys", "virt"} and len(recorder.reads) > 300
    # From the mapping, all but what the CPU sees as devices or ROM (Pintos-KAIST's
    # allocator hands out pages in the legacy window [0xA0000, 0x100000)).
    outside = [physical_address(recorder.inner, kind, address)
               for kind, address, _, _ in recorder.reads
               if physical_address(recorder.inner, kind, address) is not None
               and not recorder.inner.in_ram(physical_address(recorder.inner, kind, address), 1)]
    assert all(LEGACY_HOLE[0] <= pa < LEGACY_HOLE[1] for pa in outside), outside[:10]
    assert bool(outside) == bool(recorder.inner.remote_reads)

    dbg.memory = StubMemory(dbg.client)              # the same capture over the stub
    stub_state = capture_state(adapter.inspector(dbg, symbols), dbg, RAM_MB << 20, 1,
                               {"bigtouch": image})
    assert stub_state.processes == mapped_state.processes
    assert stub_state.pools == mapped_state.pools
    assert len(list(mapped_state.proc.pages.iter_user_4k())) > TOUCH_MB * 256


def test_without_a_memory_file_system_reads_go_over_the_stub(built, run_root, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("VMCHECK_SHM_DIR", str(tmp_path / "no-shm"))
    adapter = get_adapter("reference")
    sc = select(load_all(adapter.programs_dir, DATA_DIR), ["lazy-anon"])[0]
    result = run_scenario(adapter, sc, RunnerOptions(machine=MachineOptions(run_root=run_root)))
    assert result.verdict.passed, result.reason
    assert any("guest memory read over the GDB stub" in note and "no-shm" in note
               for note in result.notes), result.notes
    assert result.checkpoints
