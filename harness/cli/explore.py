"""`vmcheck explore` and `vmcheck replay`.

    ./vmcheck explore SCENARIO --point P [--kind fail|io_error|preempt|delay] [--max-n N]
    ./vmcheck replay SCHEDULE_FILE [--times N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness import config, interrupt
from harness.cli.main import add_common_options, add_strict_option, int_in_range
from harness.errors import UsageError
from harness.run.injection import KINDS, POINTS

EXIT_FAILED = 1


def register_explore(subparsers) -> None:
    p = subparsers.add_parser("explore", help="inject a fault at the 1st, 2nd, ... call of a point",
                              description="Run SCENARIO once per n = 1, 2, ... with KIND "
                                          "injected at the n-th call of POINT, until the point "
                                          "is not reached n times.")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--point", required=True, choices=POINTS, metavar="POINT",
                   help=f"injection point: {', '.join(POINTS)}")
    p.add_argument("--kind", choices=KINDS, default="fail", help="fault kind (default: fail)")
    p.add_argument("--mode", choices=("once", "from"), default="once",
                   help="once: at the n-th call only; from: at the n-th and every later "
                        "call (default: once)")
    p.add_argument("--max-n", type=int_in_range(1, 100000), default=1000, metavar="N",
                   help="stop after N runs (default: 1000)")
    p.add_argument("--jobs", "-j", type=int_in_range(1, 64), default=1, metavar="N")
    p.add_argument("--stop-on-failure", action="store_true",
                   help="stop after the first failing run (default: explore every n)")
    p.add_argument("--schedules", type=Path, default=config.REPO_ROOT / "reports" / "schedules",
                   metavar="DIR", help="where failing runs' schedule files go "
                                       "(default: reports/schedules)")
    p.add_argument("--suite", type=Path, default=None, metavar="DIR")
    add_common_options(p)
    add_strict_option(p)
    p.set_defaults(handler=run_explore)


def register_replay(subparsers) -> None:
    p = subparsers.add_parser("replay", help="run a schedule file again")
    p.add_argument("schedule", type=Path, metavar="SCHEDULE_FILE")
    p.add_argument("--times", type=int_in_range(1, 1000), default=1, metavar="N",
                   help="replay N times (default: 1)")
    p.add_argument("--suite", type=Path, default=None, metavar="DIR")
    p.add_argument("--report", type=Path, default=config.REPO_ROOT / "reports" / "replay", metavar="DIR",
                   help="HTML report of the replays (default: reports/replay)")
    add_common_options(p)
    add_strict_option(p)
    p.set_defaults(handler=run_replay)


def _setup(args, name: str):
    from harness.adapters import get_adapter
    from harness.run.runner import DATA_DIR, RunnerOptions
    from harness.run.suite import SUITE_DIR, load_all
    adapter = get_adapter(args.kernel)
    adapter.check_built()
    scenarios = {sc.name: sc for sc in load_all(adapter.programs_dir, DATA_DIR, args.suite or SUITE_DIR)}
    if name not in scenarios:
        raise UsageError(f"no scenario named {name!r} (see `./vmcheck list`)")
    scale = args.timeout_scale if args.timeout_scale is not None else config.env_timeout_scale()
    artifacts = Path(config.REPO_ROOT / "reports" / "out" / "artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    opts = RunnerOptions(accel=args.accel, icount=args.icount, artifacts=artifacts,
                         timeouts=config.Timeouts(scale=scale), keep=args.keep,
                         strict=args.strict)
    return adapter, scenarios[name], opts


def run_explore(args: argparse.Namespace) -> int:
    from harness.run.explore import explore
    adapter, sc, opts = _setup(args, args.scenario)
    every = " and every later call" if args.mode == "from" else ""
    print(f"vmcheck: exploring {args.kind} at the n-th{every} {args.point} in {sc.name}",
          flush=True)
    t0 = time.monotonic()
    runs = explore(adapter, sc, args.point, args.kind, opts, args.schedules, args.max_n,
                   args.jobs, progress=lambda line: print(line, flush=True),
                   stop_on_failure=args.stop_on_failure, mode=args.mode)
    failing = [r for r in runs if not r.result.verdict.passed]
    minutes = (time.monotonic() - t0) / 60
    print(f"\n{len(runs)} run(s) with an injection, {len(failing)} failing, "
          f"{len(runs) / minutes if minutes else 0:.0f} runs/minute")
    for r in failing:
        print(f"  ({args.point}, {r.n}): {r.result.verdict.value}: {r.result.reason}")
        print(f"    replay: ./vmcheck replay {r.schedule_file}")
    return EXIT_FAILED if failing else 0


def _replay_report(adapter, results: list, out_dir: Path) -> Path:
    """The HTML report (and results.json) of the replays, one page each."""
    import datetime
    from reports import write_report
    from harness.results.model import RunResult
    scenarios = []
    for i, (res, _, _) in enumerate(results, 1):
        res.name = f"{res.name} (replay {i})" if len(results) > 1 else res.name
        scenarios.append(res)
    stopped = interrupt.stop_signal()
    run = RunResult(kernel=adapter.name, jobs=1, scenarios=scenarios,
                    duration_s=sum(r.duration_s for r in scenarios),
                    started=datetime.datetime.now().isoformat(timespec="seconds"),
                    interrupted=interrupt.signal_name(stopped) if stopped else None)
    return write_report(run, out_dir)


def run_replay(args: argparse.Namespace) -> int:
    from harness.run.explore import replay
    from harness.results.model import Verdict
    from harness.run.schedule import load_schedule
    schedule = load_schedule(args.schedule)
    args.kernel = args.kernel if args.kernel != "reference" else schedule.get("kernel", "reference")
    adapter, sc, opts = _setup(args, schedule["scenario"])
    print(f"vmcheck: replaying {args.schedule}: {sc.name}, recorded verdict "
          f"{schedule['verdict']} ({schedule['reason'] or 'passed'})", flush=True)
    results = replay(adapter, sc, schedule, opts, args.times,
                     progress=lambda line: print(line, flush=True))
    ran = [(res, v, c) for res, v, c in results if res.verdict is not Verdict.NOT_RUN]
    same = sum(1 for _, v, _ in ran if v)
    identical = sum(1 for _, _, c in ran if c)
    not_run = f"; {len(results) - len(ran)} not run (interrupted)" if len(ran) < len(results) else ""
    print(f"{same}/{len(ran)} runs reproduced the verdict {schedule['verdict']}; "
          f"{identical}/{len(ran)} had an identical console{not_run}")
    print(f"report: {_replay_report(adapter, results, args.report)}")
    return 0 if all(res.verdict.passed for res, _, _ in results) else EXIT_FAILED
