"""The parts of `vmcheck debug` that need no machine: WHERE
(harness/run/stop_point.py), GDB-backed reads (harness/debug/gdb_inferior.py,
on a stand-in for the `gdb` module) and the vm-* commands' text
(harness/cli/gdb_text.py, on hand-built states)."""

from __future__ import annotations

import pytest

from harness.cli import gdb_text
from harness.debug.debugger import DebuggerError
from harness.debug.gdb_inferior import PHYS_OFF, PHYS_ON, GdbInferior
from harness.errors import UsageError
from harness.run.stop_point import (CHECKPOINT, FAULT, START, HandedOver, Moment, StopAt,
                                    StopRequest, parse_where)
from oracles.model.machine_state import ANON, FILE, SptPage, Violation
from results.model import CheckpointRecord, FaultPage, PagingEntry
from tests.unit.oracle_states import DATA, LAYOUT, STACK, good_process, state


# --- WHERE ------------------------------------------------------------------

@pytest.mark.parametrize("text, where", [
    ("failure", StopAt("failure")), ("start", StopAt("start")), ("fault", StopAt("fault")),
    ("checkpoint:2", StopAt("checkpoint", id=2, hit=1)),
    ("checkpoint:0x3:4", StopAt("checkpoint", id=3, hit=4)),
    ("break:vm_try_handle_fault", StopAt("break", symbol="vm_try_handle_fault")),
])
def test_where_parses(text, where):
    assert parse_where(text) == where


@pytest.mark.parametrize("text", ["", "fail", "failure:1", "checkpoint", "checkpoint:1:2:3",
                                  "checkpoint:1:0", "break:", "panic:now"])
def test_bad_where_is_a_usage_error(text):
    with pytest.raises(UsageError, match="expected failure, start"):
        parse_where(text)


def test_failure_wants_the_first_failed_moment_and_checkpoint_its_hit():
    passed = Moment(CHECKPOINT, "cp", checkpoint=(1, 1))
    failed = Moment(CHECKPOINT, "cp", failed=True, checkpoint=(1, 2))
    assert not StopAt("failure").wants(passed) and StopAt("failure").wants(failed)
    assert StopAt(CHECKPOINT, id=1, hit=2).wants(failed)
    assert not StopAt(CHECKPOINT, id=1, hit=2).wants(passed)
    assert not StopAt(FAULT).wants(Moment(START, "entry"))


def test_a_wanted_moment_is_handed_over_and_ends_the_run():
    seen = []
    request = StopRequest(StopAt(START), lambda machine, dbg, m: seen.append(m) or 7)
    request.meet("machine", "dbg", Moment(FAULT, "not this one"))
    with pytest.raises(HandedOver) as ended:
        request.meet("machine", "dbg", Moment(START, "entry"))
    assert [m.kind for m in seen] == [START] and ended.value.result == 7


# --- reads through gdb ------------------------------------------------------

class FakeGdb:
    """The few parts of the `gdb` module GdbInferior uses: memory is a
    dict per mode, switched by the maintenance packets."""

    class error(Exception):
        pass

    class MemoryError(error):
        pass

    def __init__(self):
        self.memory = {False: {0x1000: b"virt"}, True: {0x1000: b"phys"}}
        self.physical = False
        self.log = []
        gdb = self

        class Frame:
            def read_register(self, name):
                if name == "nope":
                    raise ValueError("Bad register")
                return {"cr3": 0x174000, "rip": -2}[name]

        class Inferior:
            def read_memory(self, address, size):
                data = gdb.memory[gdb.physical].get(address)
                if data is None:
                    raise gdb.MemoryError(f"Cannot access memory at address {address:#x}")
                return memoryview(data[:size])

        self.frame, self.inferior = Frame(), Inferior()

    def newest_frame(self):
        return self.frame

    def selected_inferior(self):
        return self.inferior

    def execute(self, command, to_string=False):
        self.log.append(command)
        if command.startswith("maintenance packet Qqemu.PhyMemMode:"):
            self.physical = command.endswith("1")
            return 'sending: "..."\nreceived: "OK"\n'
        return ""


def test_reads_go_through_gdb_in_the_right_address_space():
    gdb = FakeGdb()
    reader = GdbInferior(gdb)
    assert reader.read_virt(0x1000, 4) == b"virt"
    assert reader.read_phys(0x1000, 4) == b"phys"
    assert not gdb.physical
    with reader.physical_memory():
        assert reader.read_phys(0x1000, 2) == b"ph"
        with pytest.raises(DebuggerError, match="virtual memory access"):
            reader.read_virt(0x1000, 4)
    packets = [c for c in gdb.log if "PhyMemMode" in c]
    assert packets == [PHYS_ON, PHYS_OFF, PHYS_ON, PHYS_OFF]
    assert gdb.log.count("maintenance flush dcache") == 4   # no stale bytes either side


def test_registers_are_unsigned_and_errors_are_debugger_errors():
    reader = GdbInferior(FakeGdb())
    assert reader.register("cr3") == 0x174000
    assert reader.pc == (1 << 64) - 2
    with pytest.raises(DebuggerError, match="register nope"):
        reader.register("nope")
    with pytest.raises(DebuggerError, match="virtual 0x2000"):
        reader.read_virt(0x2000, 8)


# --- the commands' text -----------------------------------------------------

def _record(proc, violations=()) -> CheckpointRecord:
    st = state(proc)
    return CheckpointRecord(id=1, hit=0, pid=proc.pid, process=proc.name, pages=proc.pages,
                            spt=list(proc.spt.values()), pools=st.pools,
                            violations=list(violations))


def test_spt_and_maps_use_the_reports_words():
    record = _record(good_process())
    lines = gdb_text.spt_lines(record)
    assert lines[0] == "p1 (pid 1): 5 SPT entries"
    assert f"  {DATA + 0x2000:#014x}  anon writable not resident swap_slot=3  [swapped out]" \
        in lines
    assert gdb_text.spt_lines(record, DATA + 0x234)[1:] == [
        f"  {DATA:#014x}  anon writable frame=0x101000  [present, writable]"]
    assert gdb_text.spt_lines(record, 0x7000)[0].startswith("0x7000: no SPT entry")
    maps = gdb_text.maps_lines(record, LAYOUT)
    assert any("program image" in line and "1 present, read-only" in line
               and "1 swapped out" in line for line in maps), maps
    assert any(line.strip().startswith(f"{STACK:#014x}") and "stack" in line for line in maps)


def test_page_walk_and_check_text():
    page = FaultPage(0x4747e000, 0x174000,
                     [PagingEntry("PML4E", 0x174000, 0x175027, "P|W|U|A"),
                      PagingEntry("PTE", 0x1773f0, 0, "not present")],
                     "not present at PTE 0x1773f0",
                     spt=SptPage(0x4747e000, FILE, writable=False, file_offset=0x2000))
    lines = gdb_text.page_lines(page)
    assert lines[0] == "0x4747e000 in cr3 0x174000: not present at PTE 0x1773f0"
    assert lines[2] == "  PTE    @0x0000001773f0 = 0x0000000000000000  not present"
    assert "  SPT: file read-only not resident file_offset=0x2000" in lines
    bad = Violation("code_not_writable", "code page is writable", va=0x400000, pid=1)
    check = gdb_text.check_lines(_record(good_process(), [bad]), at_checkpoint=False)
    assert check[:2] == ["p1 (pid 1): 1 invariant violation(s)", f"  FAIL {bad}"]
    assert "not at a checkpoint" in check[-1]
    assert gdb_text.threads_lines([], None) == ["the kernel family does not tell its threads"]
    assert gdb_text.spt_text(SptPage(0, ANON, swap_slot_known=False, busy=True)) == \
        "anon not resident swap_slot=? busy"
