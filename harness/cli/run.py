"""`vmcheck run`, `vmcheck list` and `vmcheck report`.

    ./vmcheck run [SCENARIO|GLOB|AREA]... [--jobs N] [--report DIR] [--shard K/N]
    ./vmcheck list [SCENARIO|GLOB|AREA]...
    ./vmcheck report RESULTS_JSON [--report DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import config
from harness.cli.main import add_common_options, add_strict_option, int_in_range
from harness.errors import EXIT_USAGE, KernelBuildError, UsageError

EXIT_FAILED = 1
DEFAULT_REPORT = config.REPO_ROOT / "reports" / "out"


def register_run(subparsers) -> None:
    p = subparsers.add_parser("run", help="run scenarios and write a report",
                              description="Run conformance scenarios (all by default).")
    p.add_argument("patterns", nargs="*", metavar="SCENARIO",
                   help="scenario names, globs (mmap-*) or areas (swap); default: all")
    p.add_argument("--jobs", "-j", type=int_in_range(1, 64), default=1, metavar="N",
                   help="machines at once (default: 1)")
    p.add_argument("--report", type=Path, default=DEFAULT_REPORT, metavar="DIR",
                   help=f"report folder (default: {DEFAULT_REPORT.relative_to(config.REPO_ROOT)})")
    p.add_argument("--shard", metavar="K/N", help="run only the K-th of N stable shards")
    p.add_argument("--suite", type=Path, default=None, metavar="DIR",
                   help="scenario folder (default: scenarios/suite)")
    p.add_argument("--inject", action="append", default=[], metavar="SPEC",
                   help="add an injection to every scenario: POINT:KIND[:key=value,...], "
                        "e.g. frame_alloc:fail:nth=3 (repeatable)")
    add_common_options(p)
    add_strict_option(p)
    p.set_defaults(handler=run_run)


def register_list(subparsers) -> None:
    p = subparsers.add_parser("list", help="list scenarios")
    p.add_argument("patterns", nargs="*", metavar="SCENARIO")
    p.add_argument("--suite", type=Path, default=None, metavar="DIR")
    p.set_defaults(handler=run_list)


def register_report(subparsers) -> None:
    p = subparsers.add_parser("report", help="regenerate a report from saved results")
    p.add_argument("results", type=Path, metavar="RESULTS_JSON")
    p.add_argument("--report", type=Path, default=DEFAULT_REPORT, metavar="DIR")
    p.set_defaults(handler=run_report)


def _load(args, programs_dir=None):
    from harness.run.suite import SUITE_DIR, load_all, select
    from harness.run.runner import DATA_DIR
    scenarios = load_all(programs_dir, DATA_DIR if programs_dir else None, args.suite or SUITE_DIR)
    return select(scenarios, args.patterns)


def run_list(args: argparse.Namespace) -> int:
    for sc in _load(args):
        print(f"{sc.name:<24} {sc.area:<11} {sc.description}")
    return 0


def run_run(args: argparse.Namespace) -> int:
    from harness.adapters import get_adapter
    from harness.run.runner import RunnerOptions
    from harness.run.suite import run_suite, shard, summary_table
    from reports import write_report
    from reports.layout_view import layout_summary
    adapter = get_adapter(args.kernel)
    scenarios = shard(_load(args, getattr(adapter, "programs_dir", None)), args.shard)
    try:
        adapter.prepare()
    except KernelBuildError as e:
        return _report_build_failure(adapter, scenarios, e, args)
    if not scenarios:
        print("no scenarios in this shard")   # still write results, so merge sees the shard
    scale = args.timeout_scale if args.timeout_scale is not None else config.env_timeout_scale()
    artifacts = args.report.resolve() / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    from harness.run.injection import parse_cli
    opts = RunnerOptions(accel=args.accel, icount=args.icount,
                         timeouts=config.Timeouts(scale=scale), artifacts=artifacts, keep=args.keep,
                         inject=tuple(parse_cli(spec) for spec in args.inject),
                         strict=args.strict)
    print(f"vmcheck: {len(scenarios)} scenario(s) on the {adapter.name} kernel, "
          f"{args.jobs} job(s)", flush=True)
    run = run_suite(adapter, scenarios, opts, args.jobs,
                    progress=lambda line: print(line, flush=True), shard_spec=args.shard)
    print(summary_table(run))
    for line in layout_summary(run):
        print(line)
    index = write_report(run, args.report)
    print(f"report: {index}")
    return 0 if run.passed else EXIT_FAILED


def _report_build_failure(adapter, scenarios, error: KernelBuildError, args) -> int:
    """Every scenario BUILD_FAILED with the compiler's message, in the
    report like any other result; exit 2 (the input does not build)."""
    import datetime
    from harness.results.model import RunResult
    from harness.run.runner import build_failed_results
    from harness.run.suite import summary_table
    from reports import write_report
    print(f"vmcheck: BUILD_FAILED: {error}", file=sys.stderr, flush=True)
    run = RunResult(kernel=adapter.name, jobs=args.jobs, duration_s=0.0, shard=args.shard,
                    started=datetime.datetime.now().isoformat(timespec="seconds"),
                    scenarios=build_failed_results(adapter, scenarios, error))
    print(summary_table(run))
    print(f"report: {write_report(run, args.report)}")
    return EXIT_USAGE


def run_report(args: argparse.Namespace) -> int:
    from harness.results.model import RunResult
    from reports import write_report
    try:
        run = RunResult.load(args.results)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{args.results}: not a vmcheck results file ({e})") from None
    print(f"report: {write_report(run, args.report)}")
    return 0
