"""`vmcheck run`: run scenarios and write a report.

    ./vmcheck run [SCENARIO|GLOB|AREA]... [--jobs N] [--report DIR] [--shard K/N]
"""

from __future__ import annotations

import argparse
import sys

from harness import config
from harness.cli.options import (add_common_options, add_exact_disk_option, add_report_option,
                                 add_scenario_options, add_strict_option, int_in_range,
                                 load_scenarios, report_runner_options)
from harness.cli.report import publish
from harness.errors import EXIT_USAGE, KernelBuildError
from harness.run.exact_disk import RUN_DEFAULT as EXACT_DISK_RUN_DEFAULT

EXIT_FAILED = 1


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="run scenarios and write a report",
                              description="Run conformance scenarios (all by default).")
    add_scenario_options(p, "scenario names, globs (mmap-*) or areas (swap); default: all")
    p.add_argument("--jobs", "-j", type=int_in_range(1, 64), default=1, metavar="N",
                   help="machines at once (default: 1)")
    add_report_option(p, config.RUN_REPORT)
    p.add_argument("--shard", metavar="K/N", help="run only the K-th of N stable shards")
    p.add_argument("--inject", action="append", default=[], metavar="SPEC",
                   help="add an injection to every scenario: POINT:KIND[:key=value,...], "
                        "e.g. frame_alloc:fail:nth=3 (repeatable)")
    add_common_options(p)
    add_exact_disk_option(p, EXACT_DISK_RUN_DEFAULT)
    add_strict_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from harness.adapters import get_adapter
    from harness.run.disk_interrupt import disk_interrupt_hint
    from harness.run.injection import parse_cli, refuse_unobservable
    from harness.run.suite import run_suite, shard
    from reports.layout_view import layout_summary
    from reports.summary_table import summary_table
    adapter = get_adapter(args.kernel)
    injections = tuple(parse_cli(spec) for spec in args.inject)
    refuse_unobservable(adapter, injections, "--inject")   # every scenario would be NOT_JUDGED
    scenarios = shard(load_scenarios(args, getattr(adapter, "programs_dir", None)), args.shard)
    try:
        adapter.prepare()
    except KernelBuildError as e:
        return _report_build_failure(adapter, scenarios, e, args)
    if not scenarios:
        print("no scenarios in this shard")   # still write results, so merge sees the shard
    opts = report_runner_options(args, args.report, inject=injections)
    print(f"vmcheck: {len(scenarios)} scenario(s) on the {adapter.name} kernel, "
          f"{args.jobs} job(s)", flush=True)
    run = run_suite(adapter, scenarios, opts, args.jobs,
                    progress=lambda line: print(line, flush=True), shard_spec=args.shard)
    print(summary_table(run))
    for line in layout_summary(run):
        print(line)
    for hint in (disk_interrupt_hint(adapter, run.scenarios), debug_hint(run, args.kernel)):
        if hint:
            print(hint)
    index = publish(run, args.report)
    print(f"report: {index}")
    return 0 if run.passed else EXIT_FAILED


def debug_hint(run, kernel: str) -> str:
    """The command that opens gdb at the first failed scenario's failure
    (docs/debug.md), '' if none failed."""
    from results.model import Verdict
    failed = next((sc for sc in run.scenarios if sc.verdict in
                   (Verdict.FAIL, Verdict.KERNEL_PANIC, Verdict.HANG)), None)
    if failed is None:
        return ""
    command = f"./vmcheck debug {failed.name}"
    if failed.schedule_file:
        command += f" --schedule {failed.schedule_file}"
    elif kernel != "reference":
        command += f" --kernel {kernel}"
    return f"to stop at {failed.name}'s failure in gdb: {command}  (docs/debug.md)"


def _report_build_failure(adapter, scenarios, error: KernelBuildError, args) -> int:
    """Every scenario BUILD_FAILED with the compiler's message, in the
    report like any other result; exit 2 (the input does not build)."""
    import datetime
    from results.model import RunResult
    from harness.run.runner import build_failed_results
    from reports.summary_table import summary_table
    print(f"vmcheck: BUILD_FAILED: {error}", file=sys.stderr, flush=True)
    run = RunResult(kernel=adapter.name, jobs=args.jobs, duration_s=0.0, shard=args.shard,
                    address_layout=adapter.address_layout,
                    started=datetime.datetime.now().isoformat(timespec="seconds"),
                    scenarios=build_failed_results(adapter, scenarios, error))
    print(summary_table(run))
    index = publish(run, args.report)
    print(f"report: {index}")
    return EXIT_USAGE
