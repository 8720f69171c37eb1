"""When a run uses the exact disk (harness/run/exact_disk.py,
docs/exact-disk.md): `replay` and `explore` always, `run` for the
scenarios with injections unless told, and a schedule says which."""

import pytest

from harness.cli.main import build_parser
from harness.run.exact_disk import exact_disk_wanted


@pytest.mark.parametrize("choice, injected, wanted", [
    (None, True, True), (None, False, False),
    (True, False, True), (False, True, False),
])
def test_the_choice_or_else_whether_the_run_injects(choice, injected, wanted):
    assert exact_disk_wanted(choice, injected) is wanted


@pytest.mark.parametrize("argv, exact", [
    (["run"], None), (["run", "--exact-disk"], True), (["run", "--device-disk"], False),
    (["replay", "x.json"], True), (["replay", "x.json", "--device-disk"], False),
    (["explore", "hello", "--point", "yield"], True),
    (["grade", "roster.toml"], True), (["grade", "roster.toml", "--device-disk"], False),
])
def test_each_command_has_its_default(argv, exact):
    assert build_parser().parse_args(argv).exact_disk is exact


def test_a_schedule_records_the_disk_its_run_used(monkeypatch):
    from harness.run import schedule as schedule_module
    from harness.run.runner import RunnerOptions
    from results.model import ScenarioResult, Verdict
    monkeypatch.setattr(schedule_module, "build_id", lambda path: "build")
    monkeypatch.setattr(schedule_module, "qemu_version", lambda: "QEMU")

    class Scenario:
        name, source, inject = "s", "s.toml", ()

    class Adapter:
        spec, symbol_file = "pintos-kaist:T", None

    result = ScenarioResult(name="s", area="a", verdict=Verdict.PASS, duration_s=1.0)
    made = [schedule_module.make_schedule(Scenario, Adapter, RunnerOptions(exact_disk=choice),
                                          result)["exact_disk"] for choice in (None, False)]
    assert made == [True, False]

