"""Stop signals (harness/interrupt.py) without QEMU: the handler, a suite run
stopped half way (run_scenario replaced by a fake), the partial result in
the text summary and every report format, merging, and the CLI's exit code."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from harness import interrupt
from results.codec import load_run
from harness.adapters.base import PINTOS_KAIST_LAYOUT
from results.model import RunResult, ScenarioResult, Verdict
from harness.run.runner import RunnerOptions
from reports.summary_table import summary_table


@pytest.fixture
def handler():
    previous = interrupt.install()
    yield
    interrupt.restore(previous)
    interrupt.reset()


def test_the_first_signal_stops_runs_the_actions_and_raises_once(handler):
    calls = []
    interrupt.on_stop(lambda: calls.append("killed"))
    try:
        with pytest.raises(interrupt.Interrupted) as caught:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert caught.value.signum == signal.SIGTERM
        assert isinstance(caught.value, KeyboardInterrupt)   # not swallowed by `except Exception`
        assert interrupt.stop_requested() and interrupt.exit_code() == 143
        os.kill(os.getpid(), signal.SIGINT)    # while stopping: kill again, no second raise
        time.sleep(0.1)
        assert calls == ["killed", "killed"] and interrupt.exit_code() == 143
    finally:
        interrupt._actions.pop()


def test_an_inherited_ignored_sigint_is_handled_and_restored_after():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(interrupt.Interrupted):
            with interrupt.handling():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert interrupt.exit_code() == 130
    finally:
        signal.signal(signal.SIGINT, before)
        interrupt.reset()


class Scenario:
    def __init__(self, name):
        self.name, self.area, self.exit_status, self.description = name, "core", 0, ""


def fake_run_scenario(stop_at: int, calls: list):
    """A run_scenario that passes, and sends SIGINT to this process while
    running its STOP_AT-th scenario (which then ends cut short, as a real
    one whose machine was killed does)."""
    from harness.run.runner import not_run_result

    def run(adapter, sc, opts):
        if interrupt.stop_requested():
            return not_run_result(adapter, sc)
        calls.append(sc.name)
        if len(calls) == stop_at:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)
            return not_run_result(adapter, sc, "cut short")
        return ScenarioResult(sc.name, sc.area, Verdict.PASS, 0.1)
    return run


class Adapter:
    name = "reference"
    address_layout = PINTOS_KAIST_LAYOUT


def test_a_stopped_suite_returns_a_partial_run(handler, monkeypatch):
    from harness.run import suite
    calls: list = []
    monkeypatch.setattr(suite, "run_scenario", fake_run_scenario(3, calls))
    monkeypatch.setattr(suite, "host_info", lambda opts: {})
    scenarios = [Scenario(f"s{i}") for i in range(8)]
    lines: list = []
    run = suite.run_suite(Adapter(), scenarios, RunnerOptions(), 1, progress=lines.append)
    verdicts = [sc.verdict for sc in run.scenarios]
    assert verdicts == [Verdict.PASS] * 2 + [Verdict.NOT_RUN] * 6
    assert run.interrupted == "SIGINT" and threading.main_thread().is_alive()
    assert run.scenarios[2].reason == "cut short"
    assert "not run: the run was interrupted by SIGINT" in run.scenarios[3].reason
    assert len([line for line in lines if line.startswith("[")]) == 2   # no line per NOT_RUN
    text = summary_table(run)
    assert "PARTIAL: interrupted by SIGINT; 6 scenario(s) not run" in text


def partial_run() -> RunResult:
    scenarios = [ScenarioResult("a", "core", Verdict.PASS, 1.0),
                 ScenarioResult("b", "core", Verdict.FAIL, 1.0, reason="wrong"),
                 ScenarioResult("c", "core", Verdict.NOT_RUN, 0.0,
                                reason="not run: the run was interrupted by SIGTERM")]
    return RunResult(kernel="reference", started="2024-01-01T00:00:00", duration_s=2.0,
                     jobs=2, scenarios=scenarios, interrupted="SIGTERM")


def test_every_report_format_says_partial_and_not_run_is_no_failure(tmp_path):
    from harness.cli.report import publish
    from reports.summary_view import banner
    run = partial_run()
    assert banner(run) == (False, "Partial: interrupted by SIGTERM; 1 of 3 scenarios not run, "
                                  "1 passed, 1 did not pass")
    index = publish(run, tmp_path).read_text()
    assert '<div class="big">PARTIAL</div>' in index
    failing = index.split("What did not pass", 1)[1].split("</section>", 1)[0]
    assert "scenarios/b.html" in failing and "scenarios/c.html" not in failing
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "junit.xml").iter("testcase")}
    assert cases["c"].find("skipped") is not None and cases["c"].find("failure") is None
    assert cases["b"].find("failure") is not None
    saved = load_run(tmp_path / "results.json")
    assert saved.interrupted == "SIGTERM" and saved.scenarios[2].verdict is Verdict.NOT_RUN
    grades = json.loads((tmp_path / "autograder.json").read_text())
    assert grades["output"].startswith("Partial: interrupted by SIGTERM")


def test_a_merge_with_an_interrupted_shard_is_partial():
    from results.merge import merge_runs
    done = RunResult(kernel="reference", started="2024-01-01T00:00:00", duration_s=1.0,
                     jobs=1, scenarios=[ScenarioResult("z", "core", Verdict.PASS, 1.0)])
    assert merge_runs([done, partial_run()]).interrupted == "SIGTERM"
    assert merge_runs([done]).interrupted is None


@pytest.mark.parametrize("catches", [True, False], ids=["writes-partial", "unwinds"])
def test_the_cli_exits_128_plus_the_signal(monkeypatch, capsys, catches):
    """Whether the command catches the stop to write what it has (and
    returns 0) or lets it unwind, the exit code is 128 + the signal."""
    import types
    from harness.cli import main as cli

    def command(args):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        except KeyboardInterrupt:
            if not catches:
                raise
        return 0
    monkeypatch.setattr(cli, "parse_args", lambda argv: types.SimpleNamespace(handler=command))
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["list"]) == 143
    assert "vmcheck: stopped: interrupted by SIGTERM" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before
    interrupt.reset()
