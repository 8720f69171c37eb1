"""Harness core on the reference kernel: a breakpoint on a user checkpoint()
stops the CPU before the page was ever mapped, and the SPT read through the
adapter agrees with the hardware page tables."""

import pytest

from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from harness.adapters import get_adapter
from harness.debug.debugger import Debugger
from harness.errors import HarnessError
from harness.machine.qemu import Machine, MachineOptions
from harness.x86.pagewalk import walk_page_tables
from harness.debug.program_image import load_program
from harness.run.capture import DebuggerMemory, capture_state

pytestmark = pytest.mark.integration


@pytest.fixture
def stopped_at_first_checkpoint(built, run_root):
    adapter = get_adapter("reference")
    image = load_program(adapter.find_program("checkpoints"))
    with Machine(MachineOptions(paused=True, run_root=run_root)) as m:
        disks = adapter.make_disks(m.run_dir, {"checkpoints": image.path}, {}, 0)
        m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["checkpoints"]]), 20))
        symbols = adapter.kernel_symbols()
        with Debugger.attach(m.gdb_socket, symbols, adapter.long_mode_symbol) as dbg:
            bp = dbg.add_breakpoint(image.checkpoint)
            dbg.run_until(bp, 30)
            yield adapter, image, dbg, symbols
        m.kill()


def test_stop_at_checkpoint_before_its_page_was_mapped(stopped_at_first_checkpoint):
    adapter, image, dbg, _ = stopped_at_first_checkpoint
    assert dbg.pc == image.checkpoint and dbg.register("cs") & 3 == 3
    snap = walk_page_tables(DebuggerMemory(dbg, 20 << 20), dbg.register("cr3"),
                            user_top=LAYOUT.user_top)
    assert snap.lookup(image.checkpoint) is None          # lazy: never mapped yet
    with pytest.raises(HarnessError):
        dbg.read_virt(image.checkpoint, 1)
    bp = dbg.breakpoints()[0]
    dbg.run_until(bp, 30)                                 # the fetch faulted it in
    assert dbg.pc == image.checkpoint and dbg.register("rdi") == 1
    snap = walk_page_tables(DebuggerMemory(dbg, 20 << 20), dbg.register("cr3"),
                            user_top=LAYOUT.user_top)
    assert snap.lookup(image.checkpoint) is not None


def test_spt_through_the_adapter_matches_the_page_tables(stopped_at_first_checkpoint):
    adapter, image, dbg, symbols = stopped_at_first_checkpoint
    dbg.run_until(dbg.breakpoints()[0], 30)
    state = capture_state(adapter.inspector(dbg, symbols), dbg, 20 << 20, 1,
                          {"checkpoints": image})
    proc = state.proc
    assert proc.name == "checkpoints" and proc.spt is not None
    present = list(proc.pages.iter_user_4k())
    assert len(present) >= 3
    for va, phys, _ in present:
        page = proc.spt_page(va)
        assert page is not None and page.frame_pa == phys, hex(va)
    code = proc.spt_page(image.checkpoint)
    assert (code.type, code.writable) == ("file", False)
    lazy = proc.spt_page(image.symbols["cp_buf"])        # .bss, not touched yet
    assert lazy is not None and lazy.frame_pa is None and lazy.type == "uninit"
    assert state.pools.user_frames_total > state.pools.user_frames_free
