"""Systematic fault exploration and replay.

explore: run a scenario with "KIND at the n-th call of POINT" for
n = 1, 2, ... until the point is no longer reached that often (the way
syzkaller's fail-nth walks an error path), every run with a verdict;
failing runs write schedule files (the runner writes them).
replay: run a schedule file again, and say whether the verdict and the
console are the same as when it was recorded.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from harness import interrupt
from harness.run.injection import Injection
from results.model import Verdict
from harness.run.runner import RunnerOptions, not_run_result, run_scenario
from harness.run.schedule import added_injections, build_id, console_digest


@dataclasses.dataclass
class ExploreRun:
    n: int
    fired: bool
    result: object            # ScenarioResult (its schedule_file: a failing run's schedule)


def explore(adapter, sc, point: str, kind: str, opts: RunnerOptions, schedules: Path,
            max_n: int = 1000, jobs: int = 1,
            progress: Callable[[str], None] = print,
            stop_on_failure: bool = False, mode: str = "once") -> list[ExploreRun]:
    """Runs n = 1.. in batches of JOBS until an injection no longer fires
    (or MAX_N, or with STOP_ON_FAILURE the first failing run, whose batch
    is still finished); returns the runs whose injection fired, in order.
    MODE "once" injects at the n-th call only, "from" at the n-th and at
    every later call (n = 1: at every call)."""
    runs: list[ExploreRun] = []

    def one(n: int) -> ExploreRun:
        inj = Injection(point=point, kind=kind, nth=n, mode=mode)
        res = run_scenario(adapter, sc, dataclasses.replace(opts, inject=(*opts.inject, inj),
                                                            schedules=schedules))
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


def replay(adapter, sc, schedule: dict, opts: RunnerOptions, times: int = 1,
           progress: Callable[[str], None] = print) -> list:
    """Runs SCHEDULE TIMES times; returns (result, same_verdict, same_console)
    for each (NOT_RUN results for the replays a stop signal cut off)."""
    now = build_id(adapter.symbol_file)
    if now != schedule["kernel_build_id"]:
        progress(f"NOTE: the kernel build changed since this schedule was recorded "
                 f"(recorded {schedule['kernel_build_id']}, now {now}): the replay may diverge")
    clock = schedule.get("clock", {})
    machine = dataclasses.replace(opts.machine, accel=clock.get("accel", opts.machine.accel),
                                  icount=clock.get("icount", opts.machine.icount))
    opts = dataclasses.replace(opts, inject=added_injections(schedule, sc), machine=machine)
    out = []
    for i in range(times):
        t0 = time.monotonic()
        try:
            res = run_scenario(adapter, sc, opts)
        except KeyboardInterrupt:   # a stop signal: the replays left are not run
            out += [(not_run_result(adapter, sc), False, False) for _ in range(times - i)]
            progress(f"  replay {i + 1}/{times}: {interrupt.not_run_reason()}")
            break
        same_v = res.verdict.value == schedule["verdict"]
        same_c = console_digest(res.console) == schedule["console_sha256"]
        out.append((res, same_v, same_c))
        progress(f"  replay {i + 1}/{times}: {res.verdict.value} "
                 f"({'same' if same_v else 'DIFFERENT'} verdict, "
                 f"{'identical' if same_c else 'different'} console, {time.monotonic() - t0:.1f}s)")
    return out
