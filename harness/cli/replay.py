"""`vmcheck replay`: run a schedule file again, and say whether the
verdict came back and whether each run was the same run as the first and
as the recorded one (harness/run/run_identity.py).

    ./vmcheck replay SCHEDULE_FILE [--times N]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from harness import config, interrupt
from harness.cli.explore import scenario_and_options
from harness.cli.options import (add_common_options, add_exact_disk_option, add_report_option,
                                 add_strict_option, int_in_range)
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
    add_exact_disk_option(p, True)
    add_strict_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from results.model import Verdict
    from harness.run.explore import replay
    from harness.run.schedule import load_schedule, schedule_kernel
    schedule = load_schedule(args.schedule)
    args.kernel = schedule_kernel(schedule, args.kernel)
    report = args.report.resolve()
    adapter, sc, opts = scenario_and_options(args, schedule["scenario"], report,
                                             added=schedule["injections"],
                                             what=f"replay {args.schedule}")
    opts = dataclasses.replace(opts, schedules=report / config.SCHEDULE_FILES)
    print(f"vmcheck: replaying {args.schedule}: {sc.name}, recorded verdict "
          f"{schedule['verdict']} ({schedule['reason'] or 'passed'})", flush=True)
    results = replay(adapter, sc, schedule, opts, args.times,
                     progress=lambda line: print(line, flush=True))
    ran = [run for run in results if run.result.verdict is not Verdict.NOT_RUN]
    not_run = f"; {len(results) - len(ran)} not run (interrupted)" if len(ran) < len(results) else ""
    print(f"{sum(r.same_verdict for r in ran)}/{len(ran)} runs reproduced the verdict "
          f"{schedule['verdict']}; {sum(r.identical for r in ran)}/{len(ran)} were identical "
          f"to the first (console, guest clock at each checkpoint, page tables and SPT); "
          f"{sum(r.parts_from_recorded is None for r in ran)}/{len(ran)} to the recorded "
          f"run{not_run}")
    _say_exactness(ran)
    print(f"report: {_replay_report(adapter, results, args.report)}")
    return 0 if all(run.result.verdict.passed for run in results) else EXIT_FAILED


def _say_exactness(runs: list) -> None:
    """One line if the runs were not exact by construction (the exact disk
    not used, or requests left to the device), with the reason."""
    notes = {run.result.exact_disk["reason"] for run in runs
             if run.result.exact_disk and not run.result.exact_disk["exact"]}
    for reason in sorted(notes):
        print(f"NOTE: not exact: {reason}")


def _replay_report(adapter, results: list, out_dir: Path) -> Path:
    """The report (and results.json) of the replays, one page each."""
    import datetime
    from results.model import RunResult
    scenarios = []
    for i, res in enumerate((run.result for run in results), 1):
        res.name = f"{res.name} (replay {i})" if len(results) > 1 else res.name
        scenarios.append(res)
    stopped = interrupt.stop_signal()
    run = RunResult(kernel=adapter.name, jobs=1, scenarios=scenarios,
                    address_layout=adapter.address_layout,
                    duration_s=sum(r.duration_s for r in scenarios),
                    started=datetime.datetime.now().isoformat(timespec="seconds"),
                    interrupted=interrupt.signal_name(stopped) if stopped else None)
    return publish(run, out_dir)
