"""The debugger against QEMU's real GDB stub: first on the probe guest (a
tiny long-mode loop built at test time, harness/bench/probe_guest.py), then on
the reference kernel."""

import pytest

from harness.adapters.base import Ending
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.boot import BootRequest, OnStarted, boot
from harness.debug.debugger import Debugger, DebuggerTimeout
from harness.machine.qemu import Machine, MachineOptions
from harness.bench.probe_guest import build_probe_guest, probe_qemu_args
from harness.debug.symbols import SymbolTable
from harness.debug.typed_memory import iter_list

EFER_LMA = 1 << 10
CR0_PG = 1 << 31
KERN_BASE = 0x8004000000
THREAD_MAGIC = 0xCD6ABF4B  # reference_kernel/kernel/thread.c


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    guest = build_probe_guest(tmp_path_factory.mktemp("probe"))
    symbols = SymbolTable(guest.elf64)
    yield guest, symbols
    symbols.close()


@pytest.fixture
def probe_dbg(probe, run_root):
    """A Debugger attached (in long mode) to a fresh probe guest."""
    guest, symbols = probe
    with Machine(MachineOptions(paused=True, run_root=run_root)) as machine:
        machine.start(probe_qemu_args(guest))
        with Debugger.attach(machine.gdb_socket, symbols, long_mode_at="long_mode_entry") as dbg:
            yield dbg


# --- probe guest ----------------------------------------------------------------

def test_attach_stops_at_the_long_mode_entry(probe_dbg):
    regs = probe_dbg.read_registers()
    assert regs["rip"] == probe_dbg.symbols.address_of("long_mode_entry")
    assert regs["efer"] & EFER_LMA and regs["cr0"] & CR0_PG
    assert regs["cr3"] == probe_dbg.symbols.address_of("pml4")
    assert {"cr2", "cr4", "fs_base", "gs_base"} <= regs.keys()


def test_attach_by_polling_for_long_mode(probe, run_root):
    guest, symbols = probe
    with Machine(MachineOptions(paused=True, run_root=run_root)) as machine:
        machine.start(probe_qemu_args(guest))
        with Debugger.attach(machine.gdb_socket, symbols) as dbg:
            assert dbg.in_long_mode() and dbg.register("cs") == 0x08


def test_breakpoint_hits_callbacks_and_arguments(probe_dbg):
    args = []
    tick = probe_dbg.add_breakpoint(
        "probe_tick", callback=lambda d, bp: args.append(d.register("rdi")) or bp.hits == 10)
    stop = probe_dbg.run_until(timeout=20)
    assert stop.reason == "breakpoint" and stop.breakpoints == (tick,)
    assert probe_dbg.describe(stop.pc) == "probe_tick"
    assert args == list(range(10))  # probe_tick(i) for i = 0, 1, ...
    assert probe_dbg.read_variable("probe_hits") == 9  # the 10th call has not run yet


def test_typed_reads_of_guest_structures(probe_dbg):
    probe_dbg.run_until(probe_dbg.add_breakpoint("probe_tick"), timeout=20)
    state = probe_dbg.read_variable("probe_state")
    assert state["magic"] == 0x50524F42 and state.string("name") == "probe"
    assert (state["small"], state["flag"], state["level"]) == ([1, 2, 0xFFFF], 1, 5)
    assert state["mode"] == state.type.member("mode").type.enumerators["PROBE_BUSY"]
    first = probe_dbg.read_struct(state["first"], "struct probe_record")
    assert (first["id"], first.string("label")) == (10, "ten")
    types = probe_dbg.symbols.types
    records = iter_list(probe_dbg.read_virt, state.address_of("records"),
                        types.get("struct probe_list"), types.get("struct probe_record"), "link")
    assert [r.string("label") for r in records] == ["ten", "twenty", "thirty"]


def test_physical_reads_and_writes(probe_dbg):
    address = probe_dbg.symbols.address_of("probe_state")  # identity-mapped
    assert probe_dbg.read_phys(address, 64) == probe_dbg.read_virt(address, 64)
    pml4e = int.from_bytes(probe_dbg.read_phys(probe_dbg.register("cr3"), 8), "little")
    assert pml4e & ~0xFFF == probe_dbg.symbols.address_of("pdpt") and pml4e & 1
    probe_dbg.write_phys(address + 4, b"PHYS\0")
    assert probe_dbg.read_variable("probe_state").string("name") == "PHYS"
    big = bytes(range(256)) * 24  # several packets each way
    stack = probe_dbg.symbols.address_of("stack")
    probe_dbg.write_virt(stack, big)
    assert probe_dbg.read_virt(stack, len(big)) == big


def test_force_return_skips_the_function(probe_dbg):
    tick = probe_dbg.add_breakpoint("probe_tick")
    probe_dbg.run_until(tick, timeout=20)
    probe_dbg.run_until(tick, timeout=20)  # second call: probe_tick(1)
    probe_dbg.force_return(0x5A5A)
    probe_dbg.run_until(tick, timeout=20)
    state = probe_dbg.read_variable("probe_state")
    assert state["last_result"] == 0x5A5A
    assert probe_dbg.read_variable("probe_hits") == 1  # the forced call did not count
    assert probe_dbg.register("rdi") == 2


def test_call_first_runs_a_function_then_the_call_as_if_untouched(probe_dbg):
    tick = probe_dbg.add_breakpoint("probe_tick")
    probe_dbg.run_until(tick, timeout=20)
    probe_dbg.run_until(tick, timeout=20)  # second call: probe_tick(1)
    before = probe_dbg.read_registers()
    probe_dbg.call_first("probe_detour")
    assert probe_dbg.pc == probe_dbg.symbols.address_of("probe_detour")
    probe_dbg.run_until(tick, timeout=20)  # the detour's return is not a stop
    assert probe_dbg.register("rdi") == 2 and tick.hits == 3
    assert probe_dbg.read_variable("probe_detours") == 1
    assert probe_dbg.read_variable("probe_hits") == 2
    assert probe_dbg.read_variable("probe_state")["last_result"] == 2  # probe_tick(1) saw rdi 1
    assert probe_dbg.register("rsp") == before["rsp"]
    assert probe_dbg.breakpoints() == [tick]


def test_finish_returns_the_return_value(probe_dbg):
    tick = probe_dbg.add_breakpoint("probe_tick")
    for i in range(3):
        probe_dbg.run_until(tick, timeout=20)
        assert probe_dbg.finish(timeout=20) == i + 1
        assert probe_dbg.describe(probe_dbg.pc).startswith("guest_main+")
    assert tick.hits == 3 and probe_dbg.breakpoints() == [tick]


def test_a_run_that_reaches_nothing_times_out_stopped(probe_dbg):
    with pytest.raises(DebuggerTimeout, match="waiting for a breakpoint") as err:
        probe_dbg.run_until(timeout=0.3)
    assert err.value.stop.reason == "signal"
    assert probe_dbg.describe(probe_dbg.pc).split("+")[0] in ("guest_main", "probe_tick")


# --- reference kernel ----------------------------------------------------------------

@pytest.fixture
def kernel_boot(built, run_root):
    """Boots the reference kernel paused with RUNS and calls DRIVE(dbg)
    attached in long mode (at kmain); returns (BootResult, DRIVE's value)."""
    adapter = ReferenceAdapter(built)
    symbols = SymbolTable(adapter.symbol_file)

    def run(runs, drive):
        driven = []

        def on_started(machine):
            with Debugger.attach(machine.gdb_socket, symbols, long_mode_at="kmain") as dbg:
                driven.append(drive(dbg))
        result = boot(adapter, BootRequest(runs=runs, timeout=60),
                      MachineOptions(paused=True, run_root=run_root), OnStarted(on_started))
        return result, driven[0]
    yield run
    symbols.close()


@pytest.mark.integration
def test_kernel_registers_globals_and_breakpoints(kernel_boot):
    def drive(dbg):
        regs = dbg.read_registers()
        assert regs["efer"] & EFER_LMA and regs["cr0"] & CR0_PG and regs["cr3"] & 0xFFF == 0
        stop = dbg.run_until(dbg.add_breakpoint("syscall_handler"), timeout=30)
        assert dbg.describe(stop.pc) == "syscall_handler"
        current = dbg.read_variable("vmcheck_current_thread")
        thread = dbg.read_struct(current, "struct thread")
        seen = (thread["magic"], thread.string("name"))
        for bp in dbg.breakpoints():
            dbg.remove_breakpoint(bp)
        return seen, dbg.run_until(timeout=60).reason
    result, (seen, last_stop) = kernel_boot([["hello"]], drive)
    assert seen == (THREAD_MAGIC, "hello")
    assert last_stop == "exited"
    assert result.outcome.ending is Ending.POWEROFF, result.console
    assert result.outcome.status_of("hello") == 0


@pytest.mark.integration
def test_kernel_finish_and_forced_return_value(kernel_boot):
    def drive(dbg):
        opened = dbg.add_breakpoint("filesys_open")
        dbg.run_until(opened, timeout=30)  # first run's program load
        file = dbg.finish(timeout=30)
        dbg.run_until(opened, timeout=30)  # second run's program load
        dbg.force_return(0)  # "no such file"
        dbg.remove_breakpoint(opened)
        return file, dbg.run_until(timeout=60).reason
    result, (file, last_stop) = kernel_boot([["hello"], ["hello"]], drive)
    assert file >= KERN_BASE, f"filesys_open returned {file:#x}"
    assert last_stop == "exited"
    assert "load: hello: open failed" in result.console
    assert [e.status for e in result.outcome.exits] == [0, -1], result.console
