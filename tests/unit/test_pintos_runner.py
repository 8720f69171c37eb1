"""Runner behaviour added for student kernels (no QEMU): BUILD_FAILED
results, the one rerun without -icount after QEMU's icount abort, and the
`compare` table."""

from __future__ import annotations

from types import SimpleNamespace

from harness import config
from harness.adapters.base import PINTOS_KAIST_LAYOUT
from harness.run import checkpoints, runner
from harness.course.compare import MakeCheck, comparison_table, select_tests
from harness.debug.debugger import DebuggerTimeout, Stop
from harness.errors import (FileNotOnDiskError, HarnessError, KernelBuildError, QemuDiedError,
                            StartupTimeout)
from results.model import KernelFrame, ScenarioResult, TrapFrameRef, Verdict
from oracles.model.machine_state import Violation


def _scenario(name="mmap-read", tags=("pintos", "tests/vm/mmap-read")):
    return SimpleNamespace(name=name, area="mmap", exit_status=0, description="", tags=tags,
                           inject=(), assumes=(), timeout=60)


class _Adapter:
    name = "pintos-kaist"


def test_build_failure_gives_every_scenario_the_compilers_message():
    error = KernelBuildError("tree does not build:\nvm/vm.c:12: error: expected ';'")
    results = runner.build_failed_results(_Adapter(), [_scenario("a"), _scenario("b")], error)
    assert [(r.name, r.verdict) for r in results] == [("a", Verdict.BUILD_FAILED),
                                                      ("b", Verdict.BUILD_FAILED)]
    assert "vm/vm.c:12: error: expected ';'" in results[0].reason


def test_icount_abort_reruns_once_without_icount_and_says_so(monkeypatch):
    calls = []

    def fake_execute(adapter, sc, opts, result):
        calls.append(opts.machine.icount)
        if opts.machine.icount:
            raise runner.IcountAbort("QEMU aborted under -icount")
        result.exit_status = 0

    monkeypatch.setattr(runner, "_execute", fake_execute)
    result = runner.run_scenario(_Adapter(), _scenario(), runner.RunnerOptions())
    assert calls == [True, False]
    assert result.verdict is Verdict.PASS
    assert result.notes and "without -icount" in result.notes[0]


def test_a_panic_on_the_skeletons_syscall_return_race_reruns_once_without_icount(monkeypatch):
    """An interrupt between syscall_entry's `popq %rsp` and `sysretq`
    (harness/run/entry_race.py) says nothing of the student's code."""
    calls = []
    entry = SimpleNamespace(address=0x8004210000)
    adapter = SimpleNamespace(name="pintos-kaist",
                              kernel_symbols=lambda: SimpleNamespace(find=lambda name: entry))

    def fake_execute(adapter, sc, opts, result):
        calls.append(opts.machine.icount)
        if opts.machine.icount:
            result.verdict, result.reason = Verdict.KERNEL_PANIC, "assertion `is_thread (t)'"
            trap = TrapFrameRef(0x4747F5D0, 0x2E, entry.address + 0x6B, False)
            result.panic_stack = [KernelFrame(0x8004209000, "intr_entry+0x6e", trap=trap),
                                  KernelFrame(entry.address + 0x6B, "no_sti+0x30",
                                              interrupted=True)]
            return
        result.exit_status = 0

    monkeypatch.setattr(runner, "_execute", fake_execute)
    result = runner.run_scenario(adapter, _scenario(), runner.RunnerOptions())
    assert calls == [True, False]
    assert result.verdict is Verdict.PASS
    assert "no_sti+0x30" in result.notes[0] and "syscall-entry.S" in result.notes[0]


def test_a_panic_on_the_kernels_own_stack_is_not_run_again(monkeypatch):
    calls = []
    adapter = SimpleNamespace(name="pintos-kaist", kernel_symbols=lambda: SimpleNamespace(
        find=lambda name: SimpleNamespace(address=0x8004210000)))

    def fake_execute(adapter, sc, opts, result):
        calls.append(opts.machine.icount)
        result.verdict, result.reason = Verdict.KERNEL_PANIC, "assertion"
        trap = TrapFrameRef(0x8004250F00, 0x2E, 0x800421006B, False)
        result.panic_stack = [KernelFrame(0x8004209000, "intr_entry+0x6e", trap=trap)]

    monkeypatch.setattr(runner, "_execute", fake_execute)
    result = runner.run_scenario(adapter, _scenario(), runner.RunnerOptions())
    assert calls == [True] and result.verdict is Verdict.KERNEL_PANIC


def test_a_start_up_wait_that_ran_out_is_not_a_hang_of_the_kernel(monkeypatch):
    def attach_times_out(*args, **kw):
        raise DebuggerTimeout("a breakpoint at main", 10.0, Stop("signal", 0x7C00, (), None), "0x7c00")

    monkeypatch.setattr(checkpoints.Debugger, "attach", attach_times_out)
    adapter = SimpleNamespace(kernel_symbols=lambda: None, long_mode_symbol="main")
    session = checkpoints.CheckpointSession(adapter, _scenario(), {}, {}, config.Timeouts())
    try:
        session.run(SimpleNamespace(gdb_socket="/nonexistent", guest_ram=None), None)
    except StartupTimeout as e:
        assert "entry (main) within 10 s of wall time" in str(e)
    else:
        raise AssertionError("no StartupTimeout")


def _starts(monkeypatch, timeouts):
    """run_scenario where the first TIMEOUTS starts time out (then PASS)."""
    calls = []

    def fake_execute(adapter, sc, opts, result):
        calls.append(opts.machine.icount)
        if len(calls) <= timeouts:
            raise StartupTimeout("start-up wait ran out: the guest did not reach main")
        result.exit_status = 0

    monkeypatch.setattr(runner, "_execute", fake_execute)
    return runner.run_scenario(_Adapter(), _scenario(), runner.RunnerOptions()), calls


def test_start_up_timeout_starts_once_more_then_is_a_harness_error(monkeypatch):
    result, calls = _starts(monkeypatch, 1)
    assert calls == [True, True] and result.verdict is Verdict.PASS
    assert "started again after the first start-up wait ran out" in result.notes[0]
    result, calls = _starts(monkeypatch, 2)
    assert len(calls) == 2 and result.verdict is Verdict.HARNESS_ERROR
    assert "did not reach main" in result.reason and "no power-off" not in result.reason


def test_other_qemu_deaths_stay_harness_errors(monkeypatch):
    def fake_execute(adapter, sc, opts, result):
        raise QemuDiedError(-11, "segfault", [], None)

    monkeypatch.setattr(runner, "_execute", fake_execute)
    result = runner.run_scenario(_Adapter(), _scenario(), runner.RunnerOptions())
    assert result.verdict is Verdict.HARNESS_ERROR
    assert result.notes[0] == "harness traceback:"      # no retry note: only where it ended
    assert not any("again" in note for note in result.notes)


class _DiskAdapter:
    """read_fs_file as an adapter answers for a disk with FILES, or one it cannot read."""

    address_layout = PINTOS_KAIST_LAYOUT

    def __init__(self, files=None):
        self.files = files

    def read_fs_file(self, disks, name):
        if self.files is None:
            raise HarnessError("cannot read 'sample.txt' back: the disk holds a FAT file system")
        if name not in self.files:
            raise FileNotOnDiskError(f"no file {name!r}")
        return self.files[name]


def _after_run(adapter, premise=None, unmet=None):
    check = SimpleNamespace(check="file_cksum", params={"file": "sample.txt", "cksum": 1,
                                                        "size": None}, premise=premise)
    sc = SimpleNamespace(program="p", after=[check, check])
    images = {"p": SimpleNamespace(symbols={})}
    result = ScenarioResult(name="s", area="mmap", verdict=Verdict.PASS, duration_s=0)
    runner._after_run_checks(adapter, None, sc, {}, images, result, unmet)
    return result


def test_an_after_run_check_that_relies_on_an_unmet_premise_is_a_note():
    wrong = _DiskAdapter({"sample.txt": b"x"})
    assert len(_after_run(wrong, premise="eviction-policy").after_violations) == 2
    voided = _after_run(wrong, premise="eviction-policy", unmet="page 0 was not evicted")
    assert voided.after_violations == []
    assert [n.split(":")[0] for n in voided.notes] == ["not judged (page 0 was not evicted)"] * 2
    assert len(_after_run(wrong, unmet="page 0 was not evicted").after_violations) == 2


def test_after_run_checks_on_an_unreadable_disk_are_unknown_not_failed():
    result = _after_run(_DiskAdapter(None))
    assert result.after_violations == []
    assert [u.outcome for u in result.after_unknowns] == ["unknown", "unknown"]
    assert "FAT file system" in result.after_unknowns[0].message
    missing = _after_run(_DiskAdapter({"other": b""}))
    assert [v.actual for v in missing.after_violations] == ["no such file"] * 2
    assert missing.after_unknowns == []


def test_compare_selects_pintos_tagged_scenarios_by_glob():
    scenarios = [_scenario("mmap-read"), _scenario("page-linear", ("pintos", "tests/vm/page-linear")),
                 _scenario("extra", ("extra",))]
    assert list(select_tests(scenarios, "mmap-*")) == ["tests/vm/mmap-read"]
    assert sorted(select_tests(scenarios, "*")) == ["tests/vm/mmap-read", "tests/vm/page-linear"]


def test_compare_table_explains_differences_by_the_first_violation():
    failed = ScenarioResult("mmap-read", "mmap", Verdict.FAIL, 1.0, reason="1 oracle violation")
    failed.after_violations = [Violation("pages", "page of 0x10000000 is not unmapped",
                                         0x10000000)]
    passed = ScenarioResult("page-linear", "swap", Verdict.PASS, 1.0)
    tests = {"tests/vm/mmap-read": None, "tests/vm/page-linear": None}
    make = MakeCheck({"tests/vm/mmap-read": "pass", "tests/vm/page-linear": "pass"}, 1.0, None)
    table = comparison_table(tests, make, {"tests/vm/mmap-read": failed,
                                           "tests/vm/page-linear": passed})
    rows = table.splitlines()
    assert "state check pages at 0x10000000: page of 0x10000000 is not unmapped" in rows[2]
    assert rows[3].split() == ["tests/vm/page-linear", "pass", "PASS"]
