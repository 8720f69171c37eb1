"""Running many scenarios: selection, sharding, parallel jobs, progress
lines; the RunResult of the whole run (its text summary:
reports/summary_table.py)."""

from __future__ import annotations

import datetime
import fnmatch
import platform
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional

from harness import config, interrupt
from harness.errors import UsageError
from harness.machine.qemu import qemu_version
from results.model import RunResult, Verdict, parse_shard
from harness.run.runner import RunnerOptions, not_run_result, run_scenario
from harness.run.scenario import load_suite

SUITE_DIR = config.REPO_ROOT / "scenarios" / "suite"


def suite_files(directory: Path = SUITE_DIR) -> list[Path]:
    return sorted(directory.glob("*.toml"))


def select(scenarios: list, patterns: list[str]) -> list:
    """Scenarios whose name or area matches any PATTERN (globs); all if
    none. UsageError for a pattern that matches nothing."""
    if not patterns:
        return scenarios
    chosen, names = [], set()
    for pattern in patterns:
        hits = [sc for sc in scenarios if fnmatch.fnmatchcase(sc.name, pattern)
                or sc.area == pattern]
        if not hits:
            raise UsageError(f"no scenario matches {pattern!r} (see `./vmcheck list`)")
        for sc in hits:
            if sc.name not in names:
                names.add(sc.name)
                chosen.append(sc)
    return chosen


def shard(scenarios: list, spec: Optional[str]) -> list:
    """The K-th of N stable shards ("K/N", 1-based): by a hash of the name,
    so adding a scenario moves only that one."""
    if spec is None:
        return scenarios
    try:
        k, n = parse_shard(spec)
    except ValueError as e:
        raise UsageError(f"--shard: {e}") from None
    return [sc for sc in scenarios if zlib.crc32(sc.name.encode()) % n == k - 1]


def run_suite(adapter, scenarios: list, opts: RunnerOptions, jobs: int,
              progress: Callable[[str], None] = print, shard_spec: Optional[str] = None) -> RunResult:
    """Runs SCENARIOS with JOBS machines at once; results in suite order.
    A stop signal (harness/interrupt.py) ends the run early: the result
    is then partial (`interrupted` names the signal) and every scenario
    that did not finish is NOT_RUN."""
    started = datetime.datetime.now().isoformat(timespec="seconds")
    t0 = time.monotonic()
    results: list = [None] * len(scenarios)
    done = [0]
    lock = threading.Lock()

    def one(i: int) -> None:
        res = run_scenario(adapter, scenarios[i], opts)
        results[i] = res
        if res.verdict is Verdict.NOT_RUN:
            return
        with lock:
            done[0] += 1
            width = len(str(len(scenarios)))
            line = (f"[{done[0]:{width}}/{len(scenarios)}] {res.verdict.value:<13} "
                    f"{res.name} ({res.duration_s:.1f}s)")
            if res.unknowns:
                line += f" [{len(res.unknowns)} unknown]"
            if not res.verdict.passed:
                line += f"\n      {res.reason}"
                if res.artifacts:
                    line += f"\n      artifacts: {res.artifacts}"
            progress(line)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="vmcheck-job") as pool:
            list(pool.map(one, range(len(scenarios))))
    except KeyboardInterrupt:   # the pool has let its workers end (their machines are dead)
        progress(f"vmcheck: {interrupt.not_run_reason().removeprefix('not run: ')}; "
                 "writing a partial report")
    results = [res or not_run_result(adapter, sc) for res, sc in zip(results, scenarios)]
    stopped = interrupt.stop_signal()
    return RunResult(kernel=adapter.name, started=started,
                     duration_s=round(time.monotonic() - t0, 2), jobs=jobs,
                     scenarios=results, shard=shard_spec, host=host_info(opts),
                     address_layout=adapter.address_layout,
                     interrupted=interrupt.signal_name(stopped) if stopped else None)


def host_info(opts: RunnerOptions) -> dict:
    return {"qemu": qemu_version(), "accel": opts.machine.accel, "icount": opts.machine.icount,
            "python": sys.version.split()[0], "machine": platform.machine()}


def load_all(programs_dir: Optional[Path], data_dir: Optional[Path], directory: Path = SUITE_DIR):
    files = suite_files(directory)
    if not files:
        raise UsageError(f"no scenario files (*.toml) in {directory}")
    return load_suite(files, programs_dir, data_dir)
