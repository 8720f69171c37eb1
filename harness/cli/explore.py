"""`vmcheck explore`: inject a fault at the 1st, 2nd, ... call of a point.

    ./vmcheck explore SCENARIO --point P [--kind fail|io_error|preempt|delay] [--max-n N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness import config
from harness.cli.options import (add_common_options, add_exact_disk_option, add_strict_option,
                                 int_in_range, runner_options)
from harness.errors import UsageError
from harness.run.injection import KINDS, POINTS

EXIT_FAILED = 1


def register(subparsers) -> None:
    p = subparsers.add_parser("explore", help="inject a fault at the 1st, 2nd, ... call of a point",
                              description="Run SCENARIO once per n = 1, 2, ... with KIND "
                                          "injected at the n-th call of POINT, until the point "
                                          "is not reached n times.")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--point", required=True, choices=POINTS, metavar="POINT",
                   help=f"injection point: {', '.join(POINTS)}")
    p.add_argument("--kind", choices=[k for k in KINDS if k != "unreachable"], default="fail",
                   help="fault kind (default: fail)")
    p.add_argument("--mode", choices=("once", "from"), default="once",
                   help="once: at the n-th call only; from: at the n-th and every later "
                        "call (default: once)")
    p.add_argument("--max-n", type=int_in_range(1, 100000), default=1000, metavar="N",
                   help="stop after N runs (default: 1000)")
    p.add_argument("--jobs", "-j", type=int_in_range(1, 64), default=1, metavar="N")
    p.add_argument("--stop-on-failure", action="store_true",
                   help="stop after the first failing run (default: explore every n)")
    schedules = config.EXPLORE_DIR / "schedules"
    p.add_argument("--schedules", type=Path, default=schedules, metavar="DIR",
                   help=f"where failing runs' schedule files go (default: "
                        f"{config.shown(schedules)})")
    p.add_argument("--all-schedules", action="store_true",
                   help="write the schedule of every run, passing ones too (default: failing)")
    p.add_argument("--suite", type=Path, default=None, metavar="DIR")
    add_common_options(p)
    add_exact_disk_option(p, True)
    add_strict_option(p)
    p.set_defaults(handler=handle)


def scenario_and_options(args, name: str, folder: Path, added=(), what: str = ""):
    """(adapter, the scenario NAME, RunnerOptions) for explore and replay,
    whose run folders go to FOLDER/artifacts. UsageError (WHAT: the
    command) if the scenario's injections with ADDED ask for a failure the
    kernel cannot observe: no run could give a verdict."""
    from harness.adapters import get_adapter
    from harness.run.injection import refuse_unobservable
    from harness.run.runner import DATA_DIR
    from harness.run.suite import SUITE_DIR, load_all
    adapter = get_adapter(args.kernel)
    adapter.check_built()
    scenarios = {sc.name: sc for sc in load_all(adapter.programs_dir, DATA_DIR, args.suite or SUITE_DIR)}
    if name not in scenarios:
        raise UsageError(f"no scenario named {name!r} (see `./vmcheck list`)")
    refuse_unobservable(adapter, (*scenarios[name].inject, *added), what or name)
    opts = runner_options(args, folder / config.ARTIFACTS)
    return adapter, scenarios[name], opts


def handle(args: argparse.Namespace) -> int:
    from harness.run.explore import explore
    from harness.run.injection import Injection
    adapter, sc, opts = scenario_and_options(
        args, args.scenario, config.EXPLORE_DIR, added=[Injection(args.point, args.kind)],
        what=f"explore {args.scenario} --point {args.point} --kind {args.kind}")
    every = " and every later call" if args.mode == "from" else ""
    print(f"vmcheck: exploring {args.kind} at the n-th{every} {args.point} in {sc.name}",
          flush=True)
    t0 = time.monotonic()
    runs = explore(adapter, sc, args.point, args.kind, opts, args.schedules, args.max_n,
                   args.jobs, progress=lambda line: print(line, flush=True),
                   stop_on_failure=args.stop_on_failure, mode=args.mode,
                   all_schedules=args.all_schedules)
    failing = [r for r in runs if r.result.verdict.failed]
    minutes = (time.monotonic() - t0) / 60
    print(f"\n{len(runs)} run(s) with an injection, {len(failing)} failing, "
          f"{len(runs) / minutes if minutes else 0:.0f} runs/minute")
    for r in failing:
        print(f"  ({args.point}, {r.n}): {r.result.verdict.value}: {r.result.reason}")
        print(f"    replay: ./vmcheck replay {r.result.schedule_file}")
    for r in runs:
        if r.result.verdict.passed and r.result.schedule_file:
            print(f"  ({args.point}, {r.n}): PASS: ./vmcheck replay {r.result.schedule_file}")
    return EXIT_FAILED if failing else 0
