"""`vmcheck replay`: run a schedule file again, and say whether the
verdict and the console came back.

    ./vmcheck replay SCHEDULE_FILE [--times N]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from harness import config, interrupt
from harness.cli.explore import scenario_and_options
from harness.cli.options import (add_common_options, add_report_option, add_strict_option,
                                 int_in_range)
from harness.cli.report import publish

EXIT_FAILED = 1


def register(subparsers) -> None:
    p = subparsers.add_parser("replay", help="run a schedule file again")
    p.add_argument("schedule", type=Path, metavar="SCHEDULE_FILE")
    p.add_argument("--times", type=int_in_range(1, 1000), default=1, metavar="N",
                   help="replay N times (default: 1)")
    p.add_argument("--suite", type=Path, default=None, metavar="DIR")
    add_report_option(p, config.REPLAY_REPORT, "report of the replays")
    add_common_options(p)
    add_strict_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from results.model import Verdict
    from harness.run.explore import replay
    from harness.run.schedule import load_schedule
    schedule = load_schedule(args.schedule)
    args.kernel = args.kernel if args.kernel != "reference" else schedule.get("kernel", "reference")
    report = args.report.resolve()
    adapter, sc, opts = scenario_and_options(args, schedule["scenario"], report,
                                             added=schedule["injections"],
                                             what=f"replay {args.schedule}")
    opts = dataclasses.replace(opts, schedules=report / config.SCHEDULE_FILES)
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


def _replay_report(adapter, results: list, out_dir: Path) -> Path:
    """The report (and results.json) of the replays, one page each."""
    import datetime
    from results.model import RunResult
    scenarios = []
    for i, (res, _, _) in enumerate(results, 1):
        res.name = f"{res.name} (replay {i})" if len(results) > 1 else res.name
        scenarios.append(res)
    stopped = interrupt.stop_signal()
    run = RunResult(kernel=adapter.name, jobs=1, scenarios=scenarios,
                    address_layout=adapter.address_layout,
                    duration_s=sum(r.duration_s for r in scenarios),
                    started=datetime.datetime.now().isoformat(timespec="seconds"),
                    interrupted=interrupt.signal_name(stopped) if stopped else None)
    return publish(run, out_dir)
