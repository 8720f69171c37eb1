"""Systematic fault exploration and replay.

explore: run a scenario with "KIND at the n-th call of POINT" for
n = 1, 2, ... until the point is no longer reached that often (the way
syzkaller's fail-nth walks an error path), every run with a verdict;
failing runs write schedule files (the runner writes them).
replay: run a schedule file again, and say whether the verdict is the one
recorded and whether each run was the same run as the recorded one and
as the first replay (harness/run/run_identity.py: the guest clock, page
tables and SPT at each checkpoint, the console).
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional

from harness import interrupt
from harness.run.injection import Injection
from results.model import Verdict
from harness.run.exact_disk import exact_disk_wanted
from harness.run.runner import RunnerOptions, not_run_result, run_scenario
from harness.run.run_identity import first_parting, fingerprint
from harness.run.schedule import (added_injections, check_travels, console_digest,
                                  recorded_shortcuts, write_schedule)


@dataclasses.dataclass
class ExploreRun:
    n: int
    fired: bool
    result: object            # ScenarioResult (its schedule_file: a failing run's schedule)


def explore(adapter, sc, point: str, kind: str, opts: RunnerOptions, schedules: Path,
            max_n: int = 1000, jobs: int = 1,
            progress: Callable[[str], None] = print,
            stop_on_failure: bool = False, mode: str = "once",
            all_schedules: bool = False) -> list[ExploreRun]:
    """Runs n = 1.. in batches of JOBS until an injection no longer fires
    (or MAX_N, or with STOP_ON_FAILURE the first failing run, whose batch
    is still finished); returns the runs whose injection fired, in order.
    MODE "once" injects at the n-th call only, "from" at the n-th and at
    every later call (n = 1: at every call). Failing runs write their
    schedule files to SCHEDULES; with ALL_SCHEDULES passing runs too."""
    runs: list[ExploreRun] = []

    def one(n: int) -> ExploreRun:
        inj = Injection(point=point, kind=kind, nth=n, mode=mode)
        res = run_scenario(adapter, sc, dataclasses.replace(opts, inject=(*opts.inject, inj),
                                                            schedules=schedules))
        if all_schedules and res.schedule and not res.schedule_file \
                and res.verdict is not Verdict.NOT_RUN:
            res.schedule_file = str(write_schedule(res.schedule, schedules))
        return ExploreRun(n, any(r.point == point for r in res.injections), res)

    n = 1
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="vmcheck-explore") as pool:
        while n <= max_n:
            try:
                batch = list(pool.map(one, range(n, min(n + jobs, max_n + 1))))
            except KeyboardInterrupt:   # a stop signal: the runs so far are the answer
                progress(f"  {point} #{n}..: {interrupt.not_run_reason()}")
                return runs
            for run in batch:
                if run.result.verdict is Verdict.NOT_RUN:
                    progress(f"  {point} #{run.n}: {run.result.reason}")
                    return runs
                if not run.fired:
                    progress(f"  {point} #{run.n}: not reached ({_calls(run)} calls): done")
                    return runs
                runs.append(run)
                progress(f"  {point} #{run.n}: {run.result.verdict.value} "
                         f"({run.result.duration_s:.1f}s)"
                         + (f" {run.result.reason}" if not run.result.verdict.passed else ""))
            if stop_on_failure and any(not r.result.verdict.passed for r in batch):
                return runs
            n += jobs
    return runs


def _calls(run: ExploreRun) -> str:
    return "fewer than " + str(run.n)


@dataclasses.dataclass
class ReplayRun:
    """One replay: its result, whether it brought back the recorded verdict,
    and where it parted from the recorded run and from the first replay
    (None: the same run; harness/run/run_identity.py)."""
    result: object            # ScenarioResult
    same_verdict: bool
    parts_from_recorded: Optional[str]
    parts_from_first: Optional[str]

    @property
    def identical(self) -> bool:
        """The same run as the first replay (and the first as the recorded one)."""
        return self.parts_from_first is None


def replay_options(adapter, sc, schedule: dict, opts: RunnerOptions) -> RunnerOptions:
    """OPTS for a run of SC as SCHEDULE recorded it: its injections beyond
    SC's own, its clock, the disks it booted with, its boot shortcuts and
    replay-safe looks (an older schedule's run had none of these). ScheduleMismatch (a
    UsageError) if it was recorded with another kernel build or QEMU
    (schedule.check_travels; the disks are checked once made)."""
    check_travels(schedule, adapter)
    clock = schedule.get("clock", {})
    machine = dataclasses.replace(opts.machine, accel=clock.get("accel", opts.machine.accel),
                                  icount=clock.get("icount", opts.machine.icount))
    return dataclasses.replace(opts, inject=added_injections(schedule, sc), machine=machine,
                               expect_disks=schedule.get("disks_sha256"),
                               boot_shortcuts=recorded_shortcuts(schedule),
                               replay_safe_looks=schedule.get("replay_safe_looks", False))


def replay(adapter, sc, schedule: dict, opts: RunnerOptions, times: int = 1,
           progress: Callable[[str], None] = print) -> list:
    """Runs SCHEDULE TIMES times; returns a ReplayRun for each (NOT_RUN
    results for the replays a stop signal cut off). ScheduleMismatch
    (a UsageError) if the schedule was recorded with another kernel build,
    QEMU or disks (schedule.check_travels, check_disks)."""
    exact = exact_disk_wanted(opts.exact_disk, True)     # a replay has injections
    if schedule.get("exact_disk", exact) != exact:
        progress(f"NOTE: recorded with the {'exact' if schedule['exact_disk'] else 'device'} "
                 f"disk, replayed with the {'exact' if exact else 'device'} disk: "
                 "the runs cannot be the recorded one")
    opts = replay_options(adapter, sc, schedule, opts)
    recorded = schedule.get("fingerprint")
    out: list[ReplayRun] = []
    for i in range(times):
        t0 = time.monotonic()
        try:
            res = run_scenario(adapter, sc, opts)
        except KeyboardInterrupt:   # a stop signal: the replays left are not run
            out += [ReplayRun(not_run_result(adapter, sc), False, "not run", "not run")
                    for _ in range(times - i)]
            progress(f"  replay {i + 1}/{times}: {interrupt.not_run_reason()}")
            break
        out.append(_compared(res, schedule, recorded, out[0].result if out else None))
        if sorted(res.boot_shortcuts) != sorted(recorded_shortcuts(schedule)):
            progress(f"NOTE: replay {i + 1} took the boot shortcuts "
                     f"[{', '.join(res.boot_shortcuts)}], the recorded run "
                     f"[{', '.join(recorded_shortcuts(schedule))}] (the replay's notes say "
                     "why); the fingerprint below compares from the kernel's entry on")
        progress(f"  replay {i + 1}/{times}: {res.verdict.value} ({_said(out[-1], i)}, "
                 f"{time.monotonic() - t0:.1f}s)")
    return out


def _compared(res, schedule: dict, recorded: Optional[list], first) -> ReplayRun:
    """RES as a ReplayRun: against the recorded fingerprint (a schedule
    without one: its console digest) and the first replay's result."""
    mine = fingerprint(res)
    if recorded is not None:
        from_recorded = first_parting(recorded, mine)
    elif console_digest(res.console) == schedule["console_sha256"]:
        from_recorded = None
    else:
        from_recorded = "the console differs"
    from_first = None if first is None else first_parting(
        fingerprint(first), mine, (first.console, res.console))
    return ReplayRun(res, res.verdict.value == schedule["verdict"], from_recorded, from_first)


def _said(run: ReplayRun, index: int) -> str:
    verdict = "same" if run.same_verdict else "DIFFERENT"
    recorded = ("identical to the recorded run" if run.parts_from_recorded is None
                else f"parts from the recorded run {run.parts_from_recorded}")
    if index == 0:
        return f"{verdict} verdict, {recorded}"
    first = ("identical to replay 1" if run.parts_from_first is None
             else f"parts from replay 1 {run.parts_from_first}")
    return f"{verdict} verdict, {first}"
