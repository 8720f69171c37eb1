"""Debugger logic (breakpoints, run_until, force_return) against the fake
stub of fake_gdb_stub.py; the real QEMU is in tests/integration."""

import pytest

from harness.debug.debugger import Debugger, DebuggerError, DebuggerTimeout
from harness.debug.rsp import EXIT_STATUS_UNKNOWN, RspClient
from tests.unit.fake_gdb_stub import STUB_WAIT, FakeStub


@pytest.fixture
def stub(tmp_path):
    fake = FakeStub(tmp_path)
    yield fake
    fake.close()


@pytest.fixture
def dbg(stub):
    d = Debugger(RspClient.connect(stub.path, timeout=STUB_WAIT), timeout_scale=1.0)
    yield d
    d.close()


def test_attach_returns_at_once_when_already_in_long_mode(stub):
    with Debugger.attach(stub.path, timeout=STUB_WAIT, timeout_scale=1.0) as d:
        assert d.in_long_mode()
        assert not [p for p in stub.log if p.startswith((b"vCont;c", b"Z"))]


def test_attach_waits_at_a_hardware_breakpoint_for_long_mode(stub):
    stub.regs["efer"], stub.long_mode_at = 0, 0x400
    with Debugger.attach(stub.path, long_mode_at=0x400, timeout=STUB_WAIT, timeout_scale=1.0) as d:
        assert d.pc == 0x400 and d.in_long_mode()
        assert stub.breakpoints == set() and d.breakpoints() == []
        assert b"Z1,400,1" in stub.log


def test_attach_fails_clearly_when_the_guest_ends_first(stub):
    stub.regs["efer"], stub.close_on_continue = 0, True
    with pytest.raises(DebuggerError, match="guest ended before reaching 0x400"):
        Debugger.attach(stub.path, long_mode_at=0x400, timeout=STUB_WAIT, timeout_scale=1.0)


def test_attach_by_polling_times_out_if_long_mode_never_comes(stub):
    stub.regs["efer"] = 0
    with pytest.raises(DebuggerTimeout, match="the CPU to enter long mode"):
        Debugger.attach(stub.path, timeout=0.2, timeout_scale=1.0)


def test_a_breakpoint_without_callback_stops_the_run(dbg):
    bp = dbg.add_breakpoint(0x400)
    stop = dbg.run_until(timeout=STUB_WAIT)
    assert (stop.reason, stop.pc, stop.breakpoints) == ("breakpoint", 0x400, (bp,))
    assert bp.hits == 1


def test_callbacks_count_hits_and_decide_when_to_stop(dbg):
    seen = []
    bp = dbg.add_breakpoint(0x400, callback=lambda d, b: seen.append(d.pc) or b.hits == 5)
    stop = dbg.run_until(timeout=STUB_WAIT)
    assert stop.reason == "breakpoint" and bp.hits == 5 and seen == [0x400] * 5


def test_until_a_given_breakpoint_passes_others(dbg, stub):
    counted = dbg.add_breakpoint(0x300, callback=lambda d, b: None)
    target = dbg.add_breakpoint(0x400)

    def leave_counted(d, b):  # model a guest that moves on from 0x300
        if b.hits == 3:
            d.write_register("rip", 0x350)
            d.remove_breakpoint(counted)
    counted.callback = leave_counted
    stop = dbg.run_until(target, timeout=STUB_WAIT)
    assert stop.breakpoints == (target,) and counted.hits == 3 and target.hits == 1


def test_until_a_predicate(dbg):
    bp = dbg.add_breakpoint(0x400, callback=lambda d, b: None)
    stop = dbg.run_until(lambda d: bp.hits == 7, timeout=STUB_WAIT)
    assert stop.reason == "predicate" and bp.hits == 7


def test_a_run_that_never_stops_times_out_and_leaves_the_guest_stopped(dbg):
    with pytest.raises(DebuggerTimeout, match="timed out after 0.1 s waiting for "
                                              "a breakpoint without a callback") as err:
        dbg.run_until(timeout=0.1)
    assert err.value.stop.reply.code == 2
    assert dbg.register("rip") == 0x100  # the stub answers: stopped


def test_timeouts_are_scaled(stub):
    with Debugger(RspClient.connect(stub.path, timeout=STUB_WAIT), timeout_scale=3.0) as d:
        with pytest.raises(DebuggerTimeout, match="after 0.3 s"):
            d.run_until(timeout=0.1)


def test_guest_exit_ends_the_run(dbg, stub):
    dbg.add_breakpoint(0x400)
    stub.exit_on_continue = True
    stop = dbg.run_until(timeout=STUB_WAIT)
    assert stop.reason == "exited" and stop.reply.code == 0x21


def test_a_closed_connection_while_running_is_an_exit(dbg, stub):
    dbg.add_breakpoint(0x400)
    stub.close_on_continue = True
    stop = dbg.run_until(timeout=STUB_WAIT)
    assert stop.reason == "exited" and stop.reply.code == EXIT_STATUS_UNKNOWN


def test_hardware_breakpoints_by_default(dbg, stub):
    dbg.hardware_breakpoints = True
    dbg.add_breakpoint(0x400)
    dbg.add_breakpoint(0x500, hardware=False)
    assert stub.breakpoints == {(1, 0x400), (0, 0x500)}


def test_breakpoints_sharing_an_address_are_removed_from_the_stub_with_the_last(dbg, stub):
    first = dbg.add_breakpoint(0x400)
    second = dbg.add_breakpoint(0x400, callback=lambda d, b: None)
    dbg.remove_breakpoint(first)
    assert stub.breakpoints == {(0, 0x400)}
    stop = dbg.run_until(lambda d: second.hits == 2, timeout=STUB_WAIT)
    assert stop.reason == "predicate" and first.hits == 0
    dbg.remove_breakpoint(second)
    assert stub.breakpoints == set() and dbg.breakpoints() == []


def test_force_return_pops_the_return_address(dbg, stub):
    stub.regs.update(rsp=0x2000, rip=0x400, rax=7)
    stub.virt[0x2000:0x2008] = (0x1234).to_bytes(8, "little")
    dbg.force_return(-12)
    assert stub.regs["rax"] == (-12) & (2**64 - 1)
    assert stub.regs["rip"] == 0x1234 and stub.regs["rsp"] == 0x2008


def test_physical_and_virtual_reads(dbg, stub):
    stub.phys[0x40:0x48] = b"PHYSICAL"
    stub.virt[0x40:0x48] = b"VIRTUAL!"
    assert dbg.read_phys(0x40, 8) == b"PHYSICAL"
    assert dbg.read_virt(0x40, 8) == b"VIRTUAL!"
    dbg.write_phys(0x40, b"written!")
    assert stub.phys[0x40:0x48] == b"written!" and stub.virt[0x40:0x48] == b"VIRTUAL!"


def test_a_physical_memory_block_switches_modes_once(dbg, stub):
    with dbg.physical_memory():
        for address in range(0, 0x4000, 0x1000):
            dbg.read_phys(address, 8)
        with pytest.raises(DebuggerError, match="virtual memory access inside"):
            dbg.read_virt(0, 8)
    modes = [p for p in stub.log if p.startswith(b"Qqemu.PhyMemMode")]
    assert modes == [b"Qqemu.PhyMemMode:1", b"Qqemu.PhyMemMode:0"]


def test_symbol_names_need_a_symbol_file(dbg):
    with pytest.raises(DebuggerError, match="no symbol file"):
        dbg.add_breakpoint("thread_yield")


class _LookThatMeetsShutdown:
    """A hang watch whose first look finds QEMU shutting down: the stub
    answers the look's first register read with W00 (the guest powered off
    just before the halt)."""
    interval = 0.01

    def __init__(self, stub):
        self.stub, self.looks = stub, 0

    def poll(self):
        return self.stub.running     # look once the stub runs (its \x03 is heard then)

    def inspect(self, dbg):
        self.looks += 1
        self.stub.exit_before_reply = True
        dbg.client.read_register("rax")     # not cached: a `p` packet


def test_a_look_that_meets_the_guests_power_off_ends_the_run_as_an_exit(dbg, stub):
    watch = _LookThatMeetsShutdown(stub)
    stop = dbg.run_until(timeout=STUB_WAIT, watch=watch)    # no breakpoint: runs until halted
    assert watch.looks == 1
    assert stop.reason == "exited" and stop.reply.code == EXIT_STATUS_UNKNOWN
