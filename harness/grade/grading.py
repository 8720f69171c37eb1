"""One `vmcheck grade ROSTER`: what to grade, what is already graded, and
the grading itself (harness/grade/scheduler.py).

Which submissions: the roster's, or with `--shard K/N` every N-th of them
in roster order from the K-th (shards differ by one submission at most). Which
scenarios: `--scenarios`, else the roster's `scenarios`, else the whole
suite; with `--shard-scenarios J/M` a stable J-th of M of those. Points:
`--points`, else the roster's `points` file, else 1 each.

Resuming: a submission finished in the class folder by an earlier run
with the same roster entry is not graded again (`--rerun NAME` or
`--rerun all` asks for it); one whose roster entry changed is.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Callable, Optional

from harness import interrupt
from harness.course.points import load_points, matches
from harness.grade.progress import Progress
from harness.grade.roster import Roster
from harness.grade.scheduler import ClassGrader, GradePlan
from harness.grade.store import ClassFolder, ClassSettings
from harness.run.suite import shard
from results.grade import SubmissionResult

ALL = "all"


@dataclasses.dataclass
class GradeRequest:
    roster: Roster
    report: Path
    scenarios: list                 # loaded Scenario objects of the selection (not sharded)
    jobs: int = 1
    shard: Optional[str] = None     # of the submissions
    scenario_shard: Optional[str] = None
    points_file: Optional[Path] = None
    rerun: tuple = ()               # names, or ("all",)
    keep_work: bool = False
    strict: bool = False


@dataclasses.dataclass
class ClassState:
    """The class folder's submissions after a grading: RESULTS by name
    (finished, this run or earlier), PENDING: roster names not finished."""
    folder: ClassFolder
    settings: ClassSettings
    submissions: list               # the roster's Submissions of this shard
    results: dict
    errors: list = dataclasses.field(default_factory=list)
    stopped: bool = False

    @property
    def pending(self) -> list:
        return [s.name for s in self.submissions if s.name not in self.results]


def class_settings(request: GradeRequest, scenarios: list) -> ClassSettings:
    rules, default = load_points(request.points_file) if request.points_file else ([], 1.0)
    return ClassSettings(scenarios=[sc.name for sc in scenarios],
                         points=[[pattern, value] for pattern, value in rules],
                         default_points=default, shard=request.shard,
                         scenario_shard=request.scenario_shard, strict=request.strict,
                         roster_digest=request.roster.digest())


def unused_point_rules(settings: ClassSettings, scenarios: list) -> list:
    return [pattern for pattern, _ in settings.points
            if not any(matches(pattern, sc) for sc in scenarios)]


def prepare(request: GradeRequest, say: Callable[[str], None]) -> tuple:
    """(ClassState with the finished submissions, the submissions to grade
    [(order, Submission)], the scenarios to run)."""
    scenarios = shard(request.scenarios, request.scenario_shard)
    subs = request.roster.shard(request.shard)
    settings = class_settings(request, scenarios)
    folder = ClassFolder(request.report)
    start_over = ALL in request.rerun
    folder.adopt_settings(settings, start_over)
    again = {s.name for s in subs} if start_over else \
        {s.name for s in request.roster.named([n for n in request.rerun])}
    state = ClassState(folder, settings, subs, {})
    todo = []
    for order, sub in enumerate(subs):
        done = None if sub.name in again else folder.finished(sub.name)
        if done is not None and done.identity != sub.identity():
            say(f"vmcheck: {sub.name}: its roster entry changed since it was graded; "
                "grading it again")
            done = None
        if done is None:
            todo.append((order, sub))
        else:
            state.results[sub.name] = done
    folder.clear_work()
    return state, todo, scenarios


def grade(request: GradeRequest, plan: GradePlan, write_report: Callable,
          write_class: Callable[[ClassState], Path], progress_stream=None,
          live: Optional[bool] = None) -> ClassState:
    """Grades what REQUEST asks for into its class folder (held for this
    process alone). WRITE_REPORT(run, folder) writes one submission's
    report; WRITE_CLASS(state) the class report, after each submission
    and at the end."""
    stream = progress_stream or sys.stdout
    with ClassFolder(request.report).locked():
        state, todo, scenarios = prepare(request, lambda line: print(line, file=stream,
                                                                     flush=True))
        plan = dataclasses.replace(plan, scenarios=scenarios,
                                   scenario_shard=request.scenario_shard,
                                   points=(state.settings.points, state.settings.default_points))
        for pattern in unused_point_rules(state.settings, scenarios):
            print(f"vmcheck: warning: points rule {pattern!r} matches no scenario graded",
                  file=stream, flush=True)
        progress = Progress(len(todo), len(scenarios), already=len(state.results),
                            stream=stream, live=live)
        if state.results:
            progress.say(f"vmcheck: {len(state.results)} submission(s) already graded in "
                         f"{state.folder.root}; {len(todo)} to grade")

        def finished(result: SubmissionResult) -> None:
            state.results[result.name] = result
            write_class(state)

        grader = ClassGrader(state.folder, plan, write_report, finished, progress)
        grader.grade(todo)
        progress.close()
        state.errors = grader.errors
        state.stopped = interrupt.stop_requested()
        write_class(state)
    return state
