"""The class grading's job pool and resuming (harness/grade/scheduler.py,
grading.py, store.py), with the checkout, the build and the scenario run
replaced by recorders: no QEMU here (tests/integration/test_grade.py
grades real kernels)."""

from __future__ import annotations

import json
import signal
import threading
import types
from pathlib import Path

import pytest

from harness import interrupt
from harness.cli.report import publish
from harness.errors import UsageError
from harness.grade import scheduler
from harness.grade.build import BuildFailed
from harness.grade.grading import GradeRequest, grade
from harness.grade.roster import load_roster
from harness.grade.scheduler import GradePlan
from harness.grade.store import ClassFolder
from harness.run.runner import RunnerOptions
from results.model import ScenarioResult, Verdict

SCENARIOS = [types.SimpleNamespace(name=n, area=a, exit_status=0, description="")
             for n, a in (("s-lazy", "lazy"), ("s-mmap", "mmap"), ("s-swap", "swap"))]


class FakeClass:
    """Stands in for checkout, build and scenario runs. FAILS: {(sub,
    scenario): verdict}; BROKEN: subs that do not build; EXPLODES: (sub,
    scenario) whose run raises; STOP_AT: the run that gets a SIGINT."""

    def __init__(self, fails=None, broken=(), explodes=None, stop_at=None):
        self.fails, self.broken, self.explodes = fails or {}, set(broken), explodes
        self.stop_at = stop_at
        self.events: list = []
        self.lock = threading.Lock()

    def log(self, *event) -> None:
        with self.lock:
            self.events.append(event)

    def materialize(self, sub, tree: Path):
        tree.mkdir(parents=True)
        return None

    def build(self, sub, tree, work, scale, log):
        self.log("build", sub.name)
        if sub.name in self.broken:
            raise BuildFailed("`make` failed (exit status 2):\nvm.c:3: error: expected ';'")
        return types.SimpleNamespace(name="reference", sub=sub.name)

    def run(self, adapter, sc, opts):
        key = (adapter.sub, sc.name)
        if key == self.stop_at:   # what a SIGINT does: the flag, the machine killed
            interrupt._received.append(signal.SIGINT)
            interrupt._stop.set()
            return scheduler.not_run_result(adapter, sc)
        self.log("boot", *key)
        if key == self.explodes:
            raise RuntimeError("inspector confused")
        verdict = self.fails.get(key, Verdict.PASS)
        return ScenarioResult(sc.name, sc.area, verdict, 0.5, reason="" if verdict.passed
                              else f"{sc.name} went wrong", kernel="reference")

    def install(self, monkeypatch) -> "FakeClass":
        monkeypatch.setattr(scheduler, "materialize", self.materialize)
        monkeypatch.setattr(scheduler, "build_submission", self.build)
        monkeypatch.setattr(scheduler, "run_scenario", self.run)
        return self

    def boots(self) -> dict:
        out: dict = {}
        for event in self.events:
            if event[0] == "boot":
                out[event[1]] = out.get(event[1], 0) + 1
        return out


@pytest.fixture(autouse=True)
def no_stop_left():
    interrupt.reset()
    yield
    interrupt.reset()


def roster(tmp_path: Path, names=("ann", "bob", "cy", "dee"), moved=()):
    """A roster of NAMES (trees/NAME; trees/NAME-moved for those in MOVED)."""
    text = 'kernel = "reference"\n'
    for name in names:
        folder = f"trees/{name}" + ("-moved" if name in moved else "")
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        text += f'[[submission]]\nname = "{name}"\npath = "{folder}"\n'
    (tmp_path / "roster.toml").write_text(text)
    return load_roster(tmp_path / "roster.toml")


def run_grade(tmp_path, fake, jobs=1, rerun=(), scenarios=SCENARIOS,
              names=("ann", "bob", "cy", "dee"), moved=()):
    request = GradeRequest(roster=roster(tmp_path, names, moved), report=tmp_path / "class",
                           scenarios=list(scenarios), jobs=jobs, rerun=rerun)
    plan = GradePlan(scenarios=[], runner=RunnerOptions(), jobs=jobs)
    written = []
    state = grade(request, plan, publish, lambda st: written.append(dict(st.results)),
                  progress_stream=open("/dev/null", "w"), live=False)
    return state, written


def test_scenarios_of_a_submission_come_before_the_next_build(tmp_path, monkeypatch):
    fake = FakeClass().install(monkeypatch)
    state, written = run_grade(tmp_path, fake, jobs=1, names=("ann", "bob"))
    assert fake.events == [("build", "ann"), ("boot", "ann", "s-lazy"), ("boot", "ann", "s-mmap"),
                           ("boot", "ann", "s-swap"), ("build", "bob"), ("boot", "bob", "s-lazy"),
                           ("boot", "bob", "s-mmap"), ("boot", "bob", "s-swap")]
    assert set(state.results) == {"ann", "bob"} and not state.errors
    assert [sorted(w) for w in written] == [["ann"], ["ann", "bob"], ["ann", "bob"]]
    folder = ClassFolder(tmp_path / "class")
    for name in ("ann", "bob"):
        graded = json.loads((folder.submission_dir(name) / "autograder.json").read_text())
        assert graded["score"] == 3
        assert not folder.work_dir(name).exists()    # the checkout is removed once graded


def test_a_broken_build_and_a_harness_failure_do_not_stop_the_class(tmp_path, monkeypatch):
    fake = FakeClass(fails={("dee", "s-mmap"): Verdict.HANG}, broken={"bob"},
                     explodes=("cy", "s-swap")).install(monkeypatch)
    state, _ = run_grade(tmp_path, fake, jobs=2)
    assert set(state.results) == {"ann", "bob", "cy", "dee"} and not state.errors
    bob = state.results["bob"]
    assert not bob.built and "vm.c:3: error: expected ';'" in bob.build_error
    assert {c.verdict for c in bob.cells} == {"BUILD_FAILED"}
    assert "bob" not in fake.boots()
    cy = {c.name: c for c in state.results["cy"].cells}
    assert cy["s-swap"].verdict == "HARNESS_ERROR"
    assert "internal error: RuntimeError: inspector confused" in cy["s-swap"].reason
    assert state.results["dee"].signature() == (("s-mmap", "HANG: timeout"),)
    assert fake.boots() == {"ann": 3, "cy": 3, "dee": 3}


def test_a_stopped_grading_resumes_without_running_anything_twice(tmp_path, monkeypatch):
    fake = FakeClass(fails={("ann", "s-lazy"): Verdict.FAIL}, stop_at=("cy", "s-mmap"))
    fake.install(monkeypatch)
    first, _ = run_grade(tmp_path, fake, jobs=1)
    assert first.stopped and set(first.results) == {"ann", "bob"}
    assert first.pending == ["cy", "dee"]
    assert not (tmp_path / "class" / "submissions" / "cy" / "submission.json").exists()
    interrupt.reset()
    again = FakeClass(fails={("ann", "s-lazy"): Verdict.FAIL}).install(monkeypatch)
    second, _ = run_grade(tmp_path, again, jobs=2)
    assert not second.stopped and set(second.results) == {"ann", "bob", "cy", "dee"}
    assert again.boots() == {"cy": 3, "dee": 3}              # finished ones are not run again
    assert second.results["ann"].signature() == (("s-lazy", "FAIL: other"),)
    third = FakeClass().install(monkeypatch)
    run_grade(tmp_path, third, rerun=("bob",))
    assert third.boots() == {"bob": 3}                       # --rerun NAME


def test_a_damaged_result_or_a_changed_entry_is_graded_again(tmp_path, monkeypatch):
    run_grade(tmp_path, FakeClass().install(monkeypatch), names=("ann", "bob"))
    results = tmp_path / "class" / "submissions" / "ann" / "results.json"
    results.write_text(results.read_text().replace('"PASS"', '"FAIL"', 1))
    fake = FakeClass().install(monkeypatch)
    run_grade(tmp_path, fake, names=("ann", "bob"), moved=("bob",))
    assert fake.boots() == {"ann": 3, "bob": 3}


def test_other_settings_are_refused_unless_starting_over(tmp_path, monkeypatch):
    run_grade(tmp_path, FakeClass().install(monkeypatch), names=("ann",))
    with pytest.raises(UsageError,
                       match="holds a grading with other settings \\(scenarios differ\\)"):
        run_grade(tmp_path, FakeClass().install(monkeypatch), names=("ann",),
                  scenarios=SCENARIOS[:1])
    fake = FakeClass().install(monkeypatch)
    state, _ = run_grade(tmp_path, fake, names=("ann",), scenarios=SCENARIOS[:1], rerun=("all",))
    assert fake.boots() == {"ann": 1} and len(state.results["ann"].cells) == 1


def test_one_grading_at_a_time_in_a_class_folder(tmp_path):
    folder = ClassFolder(tmp_path / "class")
    with folder.locked():
        with pytest.raises(UsageError, match="is being graded by another `vmcheck grade`"):
            with ClassFolder(tmp_path / "class").locked():
                pass
    with folder.locked():     # free again
        pass


def test_rerun_of_a_name_not_in_the_roster_is_refused(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="no submission named 'zed' in the roster"):
        run_grade(tmp_path, FakeClass().install(monkeypatch), names=("ann",), rerun=("zed",))
