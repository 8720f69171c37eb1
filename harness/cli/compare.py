"""`vmcheck compare --kernel pintos-kaist:PATH`: the tree's own `make check`
for tests/vm next to our Pintos scenarios, in one table (the comparison
itself: harness/course/compare.py).

    ./vmcheck compare --kernel pintos-kaist:PATH [--tests GLOB] [--report DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from harness import config
from harness.cli.options import (add_common_options, add_report_option, add_strict_option,
                                 int_in_range, load_scenarios, report_runner_options)
from harness.cli.report import publish
from harness.course.compare import comparison_table, run_make_check, select_tests
from harness.errors import UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="a Pintos-KAIST tree's `make check` (tests/vm) next to our scenarios",
        description="Run the tree's own tests/vm `make check` and our Pintos scenarios; print "
                    "one table with both results and, for differences, the state check "
                    "that explains them.")
    p.add_argument("--tests", metavar="GLOB", default="*",
                   help="only these Pintos tests (glob over name or path; default: all)")
    p.add_argument("--jobs", "-j", type=int_in_range(1, 64), default=1, metavar="N",
                   help="machines at once for our scenarios (default: 1)")
    add_report_option(p, config.COMPARE_REPORT)
    add_common_options(p)
    add_strict_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from harness.adapters import get_adapter
    from harness.run.suite import run_suite
    adapter = get_adapter(args.kernel)
    if adapter.name != "pintos-kaist":
        raise UsageError("compare needs --kernel pintos-kaist:PATH (it runs the tree's make check)")
    args.patterns, args.suite = [], None
    tests = select_tests(load_scenarios(args), args.tests)
    if not tests:
        raise UsageError(f"--tests {args.tests}: no Pintos-tagged scenario matches")
    adapter.prepare()
    with tempfile.TemporaryDirectory(prefix="vmcheck-compare-") as work:
        print(f"vmcheck: make check of {len(tests)} Pintos test(s) in a copy of {adapter.tree}",
              flush=True)
        make = run_make_check(adapter, sorted(tests), Path(work))
        args.report.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(make.log, args.report / "make-check.log")
    opts = report_runner_options(args, args.report)
    ordered = sorted(tests)
    run = run_suite(adapter, [tests[t] for t in ordered], opts, args.jobs,
                    progress=lambda line: print(line, flush=True))
    ours = dict(zip(ordered, run.scenarios))
    table = comparison_table(tests, make, ours)
    times = (f"wall time: make check {make.seconds:.1f} s, vmcheck {run.duration_s:.1f} s "
             f"({len(tests)} tests, {args.jobs} job(s))")
    print(table + "\n\n" + times)
    (args.report / "compare.txt").write_text(table + "\n\n" + times + "\n")
    index = publish(run, args.report)
    print(f"table: {args.report / 'compare.txt'}\nreport: {index}")
    return 0
