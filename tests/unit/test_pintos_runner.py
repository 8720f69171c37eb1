"""Runner behaviour added for student kernels (no QEMU): BUILD_FAILED
results, the one rerun without -icount after QEMU's icount abort, and the
`compare` table."""

from __future__ import annotations

from types import SimpleNamespace

from harness.run import runner
from harness.course.compare import MakeCheck, comparison_table, select_tests
from harness.errors import KernelBuildError, QemuDiedError
from results.model import ScenarioResult, Verdict
from oracles.model.machine_state import Violation


def _scenario(name="mmap-read", tags=("pintos", "tests/vm/mmap-read")):
    return SimpleNamespace(name=name, area="mmap", exit_status=0, description="", tags=tags,
                           inject=(), timeout=60)


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


def test_other_qemu_deaths_stay_harness_errors(monkeypatch):
    def fake_execute(adapter, sc, opts, result):
        raise QemuDiedError(-11, "segfault", [], None)

    monkeypatch.setattr(runner, "_execute", fake_execute)
    result = runner.run_scenario(_Adapter(), _scenario(), runner.RunnerOptions())
    assert result.verdict is Verdict.HARNESS_ERROR and not result.notes


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
