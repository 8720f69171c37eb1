"""`vmcheck mutants`: build every seeded-bug mutant and run the suite on it;
with --generate, mutants made mechanically from the code
(harness/cli/generated_mutants.py).

    ./vmcheck mutants [NAME...] [--scenarios PATTERN...] [--jobs N] [--report DIR]
    ./vmcheck mutants --generate [--files F...] [--operators OP...] [--sample N]
    ./vmcheck mutants --generate ID...
"""

from __future__ import annotations

import argparse
import datetime

from harness import config
from harness.cli.options import (add_common_options, add_report_option, add_strict_option,
                                 int_in_range, runner_options)


def register(subparsers) -> None:
    p = subparsers.add_parser("mutants", help="run the suite on every seeded-bug mutant",
                              description="Build each mutant of reference_kernel/mutants.toml "
                                          "and run the suite on it; print which are killed.")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="mutants to run (default: all); with --generate, generated mutant ids "
                        "or their FILE-LINE part, e.g. vm-frame-67")
    p.add_argument("--scenarios", nargs="+", default=[], metavar="PATTERN",
                   help="scenario names/globs/areas to run on each mutant (default: all)")
    p.add_argument("--jobs", "-j", type=int_in_range(1, 64), default=2, metavar="N")
    add_report_option(p, config.MUTANTS_REPORT, "folder for mutants.html and mutants.json "
                      "(--generate: generated.json and survivors.diff)")
    add_common_options(p)
    add_strict_option(p)
    from harness.cli.generated_mutants import add_generate_options
    add_generate_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.generate:
        from harness.cli.generated_mutants import handle_generate
        return handle_generate(args)
    from harness.errors import UsageError
    from harness.course.mutants import (check_switches, failed, load_catalogue,
                                        run_all_mutants, save_results, summary)
    from harness.run.runner import DATA_DIR
    from harness.run.suite import load_all, select
    from reports.mutants_view import render_mutants
    mutants = load_catalogue()
    if args.names:
        known = {m.name: m for m in mutants}
        unknown = [n for n in args.names if n not in known]
        if unknown:
            raise UsageError(f"no mutant named {', '.join(map(repr, unknown))} "
                             f"(see reference_kernel/mutants.toml)")
        mutants = [known[n] for n in args.names]
    check_switches(mutants)
    scenarios = select(load_all(config.build_dir() / "programs", DATA_DIR), args.scenarios)
    opts = runner_options(args, args.report.resolve() / "mutant-artifacts")
    print(f"vmcheck: {len(mutants)} mutant(s) x {len(scenarios)} scenario(s), "
          f"{args.jobs} job(s)", flush=True)
    started = datetime.datetime.now().isoformat(timespec="seconds")
    with config.private_build_dir("mutants") as build_root:
        results = run_all_mutants(mutants, scenarios, opts, args.jobs, build_root,
                                  progress=lambda line: print(line, flush=True))
    print(summary(results))
    rows = save_results(results, args.report)
    print(f"report: {render_mutants(rows, args.report, started=started)}")
    return 1 if failed(results) else 0
