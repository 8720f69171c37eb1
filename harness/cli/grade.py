"""`vmcheck grade`: grade a class of submissions listed in a roster.

    ./vmcheck grade ROSTER [--jobs N] [--report DIR] [--scenarios PATTERN...]
                    [--points FILE] [--rerun NAME|all]... [--shard K/N]
                    [--shard-scenarios J/M] [--keep-work]
    ./vmcheck grade ROSTER --merge DIR... --report OUT [--allow-partial]

The work is in harness/grade/ (roster, checkout, build, the shared job
pool, the class folder, shard merging); the class report in
reports/class_view.py. Exit status: 0 every submission passed every
scenario, 1 some did not (a grade, BUILD_FAILED included), 2 bad input
(the roster, options, shards that do not merge), 3 a submission could not
be graded (a harness error), 128 + the signal when stopped (run it again
to go on).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import config
from harness.cli.options import (add_common_options, add_exact_disk_option, add_report_option,
                                 add_strict_option, int_in_range, runner_options, timeout_scale)
from harness.cli.report import publish
from harness.errors import EXIT_HARNESS

EXIT_FAILED = 1


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "grade", help="grade a class: every submission of a roster, one class report",
        description="Build and run the suite on every submission listed in ROSTER (TOML), "
                    "with --jobs machines shared by all of them; a finished submission is "
                    "saved at once, and an interrupted grading goes on where it stopped "
                    "when run again. Writes DIR/index.html (the class report), "
                    "DIR/grades.csv and each submission's report in DIR/submissions/NAME/.")
    p.add_argument("roster", type=Path, metavar="ROSTER", help="the roster (TOML; docs/grading.md)")
    p.add_argument("--jobs", "-j", type=int_in_range(1, 64), default=1, metavar="N",
                   help="builds and machines at once, shared by all submissions (default: 1)")
    add_report_option(p, config.GRADE_REPORT, "class folder")
    p.add_argument("--scenarios", nargs="+", default=None, metavar="PATTERN",
                   help="scenario names, globs or areas (default: the roster's `scenarios`, "
                        "else all)")
    p.add_argument("--points", type=Path, default=None, metavar="FILE",
                   help="points per scenario, TOML (default: the roster's `points`, else 1 each)")
    p.add_argument("--rerun", action="append", default=[], metavar="NAME|all",
                   help="grade NAME again although it is finished (repeatable); `all` starts "
                        "the class folder over")
    p.add_argument("--shard", metavar="K/N", help="grade only the K-th of N stable shards of "
                                                  "the submissions (CI matrices)")
    p.add_argument("--shard-scenarios", metavar="J/M",
                   help="run only the J-th of M stable shards of the scenarios on each")
    p.add_argument("--merge", nargs="+", type=Path, default=None, metavar="DIR",
                   help="merge the class folders of shard jobs into --report instead of grading")
    p.add_argument("--allow-partial", action="store_true",
                   help="with --merge: merge even if shards or submissions are missing")
    p.add_argument("--keep-work", action="store_true",
                   help="keep each submission's checkout and build in DIR/work/ (default: "
                        "removed when it is graded)")
    add_common_options(p, kernel=False)   # each submission's family is in the roster
    add_strict_option(p)
    add_exact_disk_option(p, True)        # a grade is the same grade every run
    p.set_defaults(handler=handle)


def _scenarios(args, roster) -> list:
    """The selection (--scenarios, else the roster's, else all), checked
    against the built programs (both families boot the same ones)."""
    from harness.adapters.reference.adapter import ReferenceAdapter
    from harness.cli.options import load_scenarios
    patterns = args.scenarios if args.scenarios is not None else list(roster.scenarios or ())
    return load_scenarios(argparse.Namespace(suite=None, patterns=patterns),
                          ReferenceAdapter().programs_dir)


def _class_writer(roster, scenarios: list, shard: str | None):
    """WRITE_CLASS(state) for harness.grade.grading.grade: the class report."""
    from reports.class_view import ClassInput, render_class
    title = roster.path.name + (f" · shard {shard}" if shard else "")

    def write(state) -> Path:
        graded = set(state.settings.scenarios)
        columns = [(sc.name, sc.area) for sc in scenarios if sc.name in graded]
        data = ClassInput(names=[s.name for s in state.submissions], results=state.results,
                          scenarios=columns, title=title, stopped=state.stopped)
        return render_class(data, state.folder.root)
    return write


def handle(args: argparse.Namespace) -> int:
    from harness.grade.roster import load_roster
    from harness.run.suite import shard
    roster = load_roster(args.roster, check_sources=args.merge is None)
    scenarios = _scenarios(args, roster)
    for spec in (args.shard, args.shard_scenarios):
        shard([], spec)                                   # a bad K/N is said before any work
    if args.merge is not None:
        return _merge(args, roster)
    from harness.grade.grading import GradeRequest, grade
    from harness.grade.scheduler import GradePlan
    from harness.run.suite import host_info
    runner = runner_options(args, args.report.resolve() / config.ARTIFACTS)   # set per submission
    request = GradeRequest(roster=roster, report=args.report, scenarios=scenarios, jobs=args.jobs,
                           shard=args.shard, scenario_shard=args.shard_scenarios,
                           points_file=args.points or roster.points, rerun=tuple(args.rerun),
                           keep_work=args.keep_work, strict=args.strict)
    plan = GradePlan(scenarios=[], runner=runner, jobs=args.jobs, keep_work=args.keep_work,
                     timeout_scale=timeout_scale(args), host=host_info(runner))
    mine = len(roster.shard(args.shard))
    print(f"vmcheck: grading {mine} submission(s) of {roster.path.name}"
          f"{f' (shard {args.shard} of {len(roster.submissions)})' if args.shard else ''}, "
          f"{len(shard(scenarios, args.shard_scenarios))} scenario(s) each, {args.jobs} job(s)",
          flush=True)
    state = grade(request, plan, publish, _class_writer(roster, scenarios, args.shard))
    return _outcome(state)


def _outcome(state) -> int:
    index = state.folder.root / "index.html"
    graded = len(state.results)
    print(f"graded {graded} of {len(state.submissions)} submission(s); "
          f"class report: {index}; grades: {state.folder.root / 'grades.csv'}", flush=True)
    if state.errors or (state.pending and not state.stopped):
        return EXIT_HARNESS
    perfect = all(not r.signature() for r in state.results.values())
    return 0 if perfect else EXIT_FAILED


def _merge(args, roster) -> int:
    from harness.grade.merge import merge_class
    from harness.run.suite import load_all
    everything = load_all(None, None)
    state = merge_class(roster, args.merge, args.report, args.allow_partial, publish,
                        [sc.name for sc in everything])
    _class_writer(roster, everything, None)(state)
    return _outcome(state)
