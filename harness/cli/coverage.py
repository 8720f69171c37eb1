"""`vmcheck coverage`: the suite on a coverage-built reference kernel,
merged gcov data, gcovr HTML (docs/coverage.md; `make coverage` runs it).

    ./vmcheck coverage [SCENARIO|GLOB|AREA]... [--kernel-build DIR] [--jobs N]
                       [--report DIR] [--data DIR]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from harness import config
from harness.cli.options import (add_keep_option, add_report_option, add_scenario_options,
                                 add_timeout_scale_option, int_in_range, load_scenarios,
                                 report_runner_options)
from harness.errors import UsageError

EXIT_FAILED = 1
DEFAULT_KERNEL_BUILD = config.build_dir() / "kernel-cov"
DEFAULT_DATA = config.build_dir() / "coverage-data"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "coverage", help="kernel coverage of the suite (gcov build of the reference kernel)",
        description="Run scenarios (all by default) on a coverage build of the reference kernel "
                    "(make -C reference_kernel COVERAGE=1 O=DIR), merge the gcov data every run "
                    "streams out at power-off, and write gcovr's HTML (line and branch coverage "
                    "per file). Exit status 1 if a scenario failed (the report is still written).")
    add_scenario_options(p, "scenario names, globs or areas (default: all)")
    p.add_argument("--kernel-build", type=Path, default=DEFAULT_KERNEL_BUILD, metavar="DIR",
                   help=f"the coverage kernel build (default: {config.shown(DEFAULT_KERNEL_BUILD)})")
    p.add_argument("--jobs", "-j", type=int_in_range(1, 64), default=1, metavar="N",
                   help="machines at once (default: 1)")
    add_report_option(p, config.COVERAGE_REPORT,
                      "HTML coverage report folder; the scenario report goes to DIR/suite")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, metavar="DIR",
                   help=f"merged .gcda files, emptied first (default: {config.shown(DEFAULT_DATA)})")
    add_timeout_scale_option(p)
    add_keep_option(p, "keep every run folder whole, disks included (default: failed runs' logs)")
    p.set_defaults(handler=handle)


def _coverage_adapter(kernel_build: Path):
    from harness.adapters.reference.adapter import ReferenceAdapter
    from harness.course.coverage import is_coverage_build
    if not kernel_build.is_dir():
        raise UsageError(f"no coverage kernel build in {kernel_build} (run `make coverage`, or "
                         f"make -C reference_kernel COVERAGE=1 O={kernel_build})")
    adapter = ReferenceAdapter.from_spec(str(kernel_build))
    adapter.check_built()
    if not is_coverage_build(adapter.kernel_symbols()):
        raise UsageError(f"{adapter.symbol_file} is not a coverage build (no gcov hooks); "
                         f"rebuild with make -C reference_kernel COVERAGE=1 O={kernel_build}")
    return adapter


def handle(args: argparse.Namespace) -> int:
    from harness.cli.report import publish
    from harness.course.coverage import CoverageCollector, summary_lines, write_html
    from harness.run.suite import run_suite
    from reports.summary_table import summary_table
    adapter = _coverage_adapter(args.kernel_build.resolve())
    scenarios = load_scenarios(args, adapter.programs_dir)
    data = args.data.resolve()
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    collector = CoverageCollector(data, adapter.kernel_dir)
    report = args.report.resolve()
    opts = report_runner_options(args, report / "suite", coverage=collector)
    print(f"vmcheck: coverage of {len(scenarios)} scenario(s) on {adapter.symbol_file}, "
          f"{args.jobs} job(s)", flush=True)
    run = run_suite(adapter, scenarios, opts, args.jobs,
                    progress=lambda line: print(line, flush=True))
    print(summary_table(run))
    index = publish(run, report / "suite")
    print(f"scenario report: {index}")
    if collector.runs == 0:
        print("vmcheck: no run reached power-off: no coverage data")
        return EXIT_FAILED
    files = write_html(data, adapter.kernel_dir, report)
    partial = " (PARTIAL: the scenarios that finished before the stop)" if run.interrupted else ""
    print(f"\nkernel coverage, {collector.runs} run(s) merged{partial}:")
    print("\n".join(summary_lines(files)))
    print(f"coverage report: {report / 'index.html'}")
    return 0 if run.passed else EXIT_FAILED
