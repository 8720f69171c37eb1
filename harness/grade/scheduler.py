"""Grading many submissions with JOBS workers that all of them share.

A worker runs one task at a time: the checkout and build of a submission,
or one scenario on a built submission. Tasks are taken in roster order,
scenarios of an earlier submission before the build of a later one, so
submissions finish one after another (and are saved as each finishes)
while the next one builds on a worker that would otherwise wait.

Nothing of one submission stops the class: a tree that does not check out
or build is BUILD_FAILED with the compiler's lines; a kernel that hangs is
a HANG within its scenario's timeout; an unexpected error in the harness
while running a scenario is that scenario's HARNESS_ERROR (with the
traceback in its notes). A stop signal (harness/interrupt.py) kills the
machines and builds at once; submissions not finished are left unsaved
and are graded from the start by the next run.
"""

from __future__ import annotations

import dataclasses
import datetime
import heapq
import itertools
import shutil
import threading
import time
import traceback
from typing import Callable, Optional

from harness import config, interrupt
from harness.course.points import apply_points
from harness.grade.build import BuildFailed, BuildStopped, build_submission
from harness.grade.checkout import CheckoutError, materialize
from harness.grade.progress import Progress
from harness.grade.roster import Submission
from harness.grade.store import ClassFolder
from harness.run.runner import RunnerOptions, build_failed_results, not_run_result, run_scenario
from results.grade import SubmissionResult, cell_of
from results.model import RunResult, Verdict

BUILD, SCENARIO = 0, 1
JOIN_POLL_S = 0.5


@dataclasses.dataclass
class GradePlan:
    scenarios: list                 # Scenario objects, run on every submission
    runner: RunnerOptions           # its run and schedule folders are set per submission
    jobs: int
    points: tuple = ((), 1.0)       # (rules, default) of harness.points
    scenario_shard: Optional[str] = None
    keep_work: bool = False
    timeout_scale: float = 1.0
    host: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Family:
    """Stands for the adapter of a tree that never built (results name it)."""
    name: str


class _Submission:
    """One submission while it is graded."""

    def __init__(self, order: int, sub: Submission, count: int):
        self.order, self.sub = order, sub
        self.adapter = None
        self.commit: Optional[str] = None
        self.results: list = [None] * count
        self.remaining = count
        self.started = time.monotonic()
        self.started_at = datetime.datetime.now().isoformat(timespec="seconds")


@dataclasses.dataclass(order=True)
class _Task:
    key: tuple
    run: Callable = dataclasses.field(compare=False)


class ClassGrader:
    """Grades submissions into FOLDER. WRITE_REPORT(run, folder) writes one
    submission's report; ON_FINISHED(result) is called (one at a time) as
    each submission is saved, e.g. to redraw the class report."""

    def __init__(self, folder: ClassFolder, plan: GradePlan, write_report: Callable,
                 on_finished: Callable, progress: Progress):
        self.folder, self.plan, self.progress = folder, plan, progress
        self.write_report, self.on_finished = write_report, on_finished
        self.finished: list = []
        self.errors: list = []
        self._tasks: list = []
        self._seq = itertools.count()
        self._active = 0
        self._cond = threading.Condition()
        self._finish_lock = threading.Lock()

    def grade(self, submissions: list) -> list:
        """Grades SUBMISSIONS ([(roster order, Submission)]); returns the
        SubmissionResults saved. After a stop signal it returns once every
        worker has ended (the signal's Interrupted is not re-raised)."""
        for order, sub in submissions:
            state = _Submission(order, sub, len(self.plan.scenarios))
            self._push((order, BUILD, 0), lambda s=state: self._build(s))
        workers = [threading.Thread(target=self._worker, name=f"vmcheck-grade-{i}", daemon=True)
                   for i in range(max(1, self.plan.jobs))]
        for worker in workers:
            worker.start()
        try:
            self._join(workers)
        except KeyboardInterrupt:   # machines and builds are dead; let the workers end
            self._join(workers)
        return self.finished

    def _join(self, workers: list) -> None:
        for worker in workers:
            while worker.is_alive():
                worker.join(JOIN_POLL_S)
                self.progress.tick()

    # ---- the task queue ----

    def _push(self, key: tuple, run: Callable) -> None:
        with self._cond:
            heapq.heappush(self._tasks, _Task(key + (next(self._seq),), run))
            self._cond.notify()

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._tasks and self._active and not interrupt.stop_requested():
                    self._cond.wait(JOIN_POLL_S)
                if interrupt.stop_requested() or not self._tasks:
                    self._cond.notify_all()
                    return
                task = heapq.heappop(self._tasks)
                self._active += 1
            try:
                task.run()
            except Exception as e:   # a bug must not end the class: say it, go on
                self._error(f"internal error: {type(e).__name__}: {e}", traceback.format_exc())
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    def _error(self, message: str, detail: str = "") -> None:
        self.errors.append(message + ("\n" + detail if detail else ""))
        self.progress.say(f"vmcheck: error: {message}")

    # ---- one submission ----

    def _build(self, state: _Submission) -> None:
        name = state.sub.name
        self.folder.discard(name)
        work = self.folder.work_dir(name)
        work.mkdir(parents=True)
        self.folder.submission_dir(name).mkdir(parents=True)
        self.progress.build_started(name)
        left_out = 0
        try:
            state.commit = materialize(state.sub, work / "tree")
            state.adapter = build_submission(state.sub, work / "tree", work,
                                             self.plan.timeout_scale, self.progress.say)
        except (CheckoutError, BuildFailed) as e:
            left_out = len(self.plan.scenarios)
            self._finish_unbuilt(state, str(e))
            return
        except BuildStopped:
            return
        finally:
            self.progress.build_ended(name, left_out)
        if not self.plan.scenarios:
            self._finish(state)
        for i in range(len(self.plan.scenarios)):
            self._push((state.order, SCENARIO, i), lambda s=state, i=i: self._scenario(s, i))

    def _scenario(self, state: _Submission, i: int) -> None:
        sc = self.plan.scenarios[i]
        folder = self.folder.submission_dir(state.sub.name)
        runs = folder / config.ARTIFACTS
        runs.mkdir(parents=True, exist_ok=True)
        opts = dataclasses.replace(
            self.plan.runner, machine=dataclasses.replace(self.plan.runner.machine, run_root=runs),
            schedules=folder / config.SCHEDULE_FILES)
        try:
            result = run_scenario(state.adapter, sc, opts)
        except Exception as e:   # the harness failed on this tree: this scenario's result
            result = not_run_result(state.adapter, sc)
            result.verdict = Verdict.HARNESS_ERROR
            result.reason = f"internal error: {type(e).__name__}: {e}"
            result.notes = traceback.format_exc().splitlines()
        if result.verdict is Verdict.NOT_RUN:
            return                   # stopped: the submission stays unfinished
        self.progress.scenario_done()
        with self._cond:
            state.results[i] = result
            state.remaining -= 1
            last = state.remaining == 0
        if last:
            self._finish(state)

    def _finish_unbuilt(self, state: _Submission, error: str) -> None:
        family = _Family(state.adapter.name if state.adapter else state.sub.family)
        state.results = build_failed_results(family, self.plan.scenarios, error)
        self._finish(state, build_error=error)

    def _finish(self, state: _Submission, build_error: str = "") -> None:
        """Writes the submission's report, then its marker; cleans its work."""
        name = state.sub.name
        folder = self.folder.submission_dir(name)
        run = RunResult(kernel=state.results[0].kernel if state.results else state.sub.family,
                        started=state.started_at, duration_s=round(time.monotonic()
                                                                   - state.started, 2),
                        jobs=self.plan.jobs, scenarios=state.results,
                        shard=self.plan.scenario_shard, host=self.plan.host,
                        address_layout=getattr(state.adapter, "address_layout", None))
        apply_points(run, *self.plan.points)
        with self._finish_lock:
            work = self.folder.work_dir(name)
            if (work / "build.log").is_file():
                shutil.copyfile(work / "build.log", folder / "build.log")
            self.write_report(run, folder)
            result = SubmissionResult(
                name=name, identity=state.sub.identity(), kernel=run.kernel,
                built=not build_error, seconds=run.duration_s,
                finished=datetime.datetime.now().isoformat(timespec="seconds"),
                cells=[cell_of(sc) for sc in run.scenarios], commit=state.commit,
                build_error=build_error, scenario_shard=self.plan.scenario_shard)
            self.folder.mark_finished(result)
            if not self.plan.keep_work:
                shutil.rmtree(work, ignore_errors=True)
            self.finished.append(result)
            self.on_finished(result)
        self.progress.submission_done(summary_line(result))


def summary_line(result: SubmissionResult) -> str:
    """One line for a finished submission."""
    if not result.built:
        first = result.build_error.splitlines()[1:2] or result.build_error.splitlines()[:1]
        return f"{result.name}: BUILD_FAILED ({result.seconds:.0f} s): {first[0] if first else ''}"
    passed = sum(c.passed for c in result.cells)
    not_judged = sum(c.not_judged for c in result.cells)
    line = (f"{result.name}: {passed}/{len(result.cells) - not_judged} passed"
            + (f" ({not_judged} not judged)" if not_judged else "")
            + f", {result.earned:g}/{result.max_points:g} points ({result.seconds:.0f} s)")
    bad = [f"{c.name} {c.verdict}" for c in result.cells if c.failed]
    if bad:
        line += "; " + ", ".join(bad[:4]) + (f" +{len(bad) - 4}" if len(bad) > 4 else "")
    return line
