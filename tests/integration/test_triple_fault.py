"""The last exceptions before a triple fault, from QEMU's interrupt log
(harness/machine/triple_fault.py): the reference kernel is stopped once it is in
long mode and sent to an unmapped address with an unmapped stack, so no
exception can be delivered; and the runner's second run with the log on,
which adds them to a TRIPLE_FAULT verdict's reason."""

from __future__ import annotations

import pytest

from harness.run import runner
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.debug.debugger import Debugger
from harness.machine.qemu import Machine, MachineOptions
from results.model import Verdict
from harness.machine.triple_fault import INT_LOG, TAIL_BYTES, keep_tail, last_exceptions

pytestmark = pytest.mark.integration
NOWHERE = 0x1000000000      # 64 GiB: mapped by no kernel here


def triple_fault_log(run_root) -> str:
    adapter = ReferenceAdapter()
    with Machine(MachineOptions(run_root=run_root, paused=True, int_log=True)) as machine:
        programs = {"hello": adapter.find_program("hello")}
        disks = adapter.make_disks(machine.run_dir, programs, {}, 0)
        machine.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["hello"]]), 64))
        with Debugger.attach(machine.gdb_socket, adapter.kernel_symbols(),
                             adapter.long_mode_symbol, timeout=30) as dbg:
            dbg.write_register("rsp", NOWHERE)
            dbg.write_register("rip", NOWHERE)
            assert dbg.run_until(None, timeout=30).reason == "exited"
        machine.wait_exit(30)
        return (machine.run_dir / INT_LOG).read_text(errors="replace")


@pytest.mark.timeout(120)
def test_the_log_names_the_fault_that_could_not_be_delivered(built, run_root):
    told = last_exceptions(triple_fault_log(run_root))
    assert told is not None
    first, *rest = told.split(" → ")
    assert first.startswith("#PF (error ") and f"at rip {NOWHERE:#x}" in first
    assert f"cr2 {NOWHERE:#x}" in first
    assert rest[-1] == "triple fault", told


def test_no_exception_in_the_log_is_said_as_none():
    assert last_exceptions("Triple fault\n") is None


def test_the_kept_log_is_its_tail(tmp_path):
    log = tmp_path / INT_LOG
    log.write_text("".join(f"line {i}\n" for i in range(50_000)))
    keep_tail(log)
    text = log.read_text()
    assert len(text.encode()) <= TAIL_BYTES + 32 and text.endswith("line 49999\n")
    assert text.startswith("(earlier lines cut)\nline ")


def test_a_triple_fault_is_run_again_with_the_log(tmp_path, monkeypatch):
    """The runner's second run: its log's last exceptions join the reason;
    a second run that ends otherwise is said in the notes."""
    log_text = ("check_exception old: 0xffffffff new 0xe\n"
                "     0: v=0e e=0010 i=0 cpl=0 IP=0008:0000001000000000 pc=0000001000000000 "
                "SP=0010:0000001000000000 CR2=0000001000000000\n"
                "check_exception old: 0xe new 0xe\nTriple fault\n")
    calls = []

    def fake_execute(adapter, sc, opts, result):
        calls.append(opts.machine.int_log)
        result.verdict = Verdict.PASS if len(calls) == 4 else Verdict.TRIPLE_FAULT
        result.artifacts = str(tmp_path)
        if opts.machine.int_log:
            (tmp_path / INT_LOG).write_text(log_text)

    monkeypatch.setattr(runner, "_execute", fake_execute)

    class Scenario:
        name, area, exit_status, description, inject, assumes = "s", "core", 0, "", (), ()

    adapter = ReferenceAdapter()
    result = runner.run_scenario(adapter, Scenario(), runner.RunnerOptions())
    assert calls == [False, True]
    assert result.reason.endswith("; last exceptions: #PF (error 0x10) at rip 0x1000000000, "
                                  "cpl 0, rsp 0x1000000000, cr2 0x1000000000 → #PF while "
                                  "delivering #PF → triple fault")
    again = runner.run_scenario(adapter, Scenario(), runner.RunnerOptions())
    assert calls == [False, True, False, True]
    assert "did not triple-fault" in again.notes[-1]
