"""Merge the results of several shards (or runs) into one RunResult.

`./vmcheck run --shard K/N` writes one results.json per shard; the CI's
final job merges them (`./vmcheck merge`, `python3 -m reports`) into one
report. Merging refuses what would give a wrong report: results of
different kernels, a scenario that appears twice, shards of different
splits, and (unless allow_partial) a missing shard.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Optional

from results.codec import load_run
from results.model import RunResult, parse_shard


class MergeError(ValueError):
    """The results cannot be merged; the message says which file and why."""


def _parse_shard(text: str, source: str) -> tuple:
    try:
        return parse_shard(text)
    except ValueError as e:
        raise MergeError(f"{source}: shard {e}") from None


def check_shard_set(shards: list, sources: list, allow_partial: bool) -> None:
    """Refuses shard specs SHARDS ("K/N", or None for a whole run; SOURCES
    names each) that do not make one whole: some sharded and some not,
    shards of different splits, a shard twice and (unless ALLOW_PARTIAL)
    a missing shard. MergeError says which."""
    sharded = [spec is not None for spec in shards]
    if not any(sharded):
        return
    if not all(sharded):
        plain = sources[sharded.index(False)]
        raise MergeError(f"{plain} is not a shard, but other results are")
    seen: dict = {}
    total: Optional[int] = None
    for spec, source in zip(shards, sources):
        k, n = _parse_shard(spec, source)
        if total is not None and n != total:
            raise MergeError(f"{source}: shard {spec} is of another split "
                             f"than {seen[next(iter(seen))]} (N={total})")
        total = n
        if k in seen:
            raise MergeError(f"shard {spec} appears twice: {seen[k]} and {source}")
        seen[k] = source
    missing = sorted(set(range(1, total + 1)) - set(seen))
    if missing and not allow_partial:
        names = ", ".join(f"{k}/{total}" for k in missing)
        raise MergeError(f"missing shard{'s' if len(missing) > 1 else ''} {names}")


def _moment(text: str) -> Optional[datetime.datetime]:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _time_span(runs: list) -> tuple:
    """(earliest start text, wall seconds from the first start to the last end)."""
    moments = [_moment(run.started) for run in runs]
    if any(m is None for m in moments):
        return runs[0].started, max(run.duration_s for run in runs)
    first = min(range(len(runs)), key=lambda i: moments[i])
    end = max(m + datetime.timedelta(seconds=run.duration_s)
              for m, run in zip(moments, runs))
    return runs[first].started, (end - moments[first]).total_seconds()


def merge_runs(runs: list, sources: Optional[list] = None, *,
               allow_partial: bool = False) -> RunResult:
    """One RunResult with every scenario of RUNS (shards in K order).
    SOURCES names each run in error messages (default 'results #i')."""
    if not runs:
        raise MergeError("no results to merge")
    sources = sources or [f"results #{i + 1}" for i in range(len(runs))]
    kernels = {run.kernel for run in runs}
    if len(kernels) > 1:
        raise MergeError(f"results are of different kernels: {', '.join(sorted(kernels))}")
    check_shard_set([run.shard for run in runs], sources, allow_partial)
    order = sorted(range(len(runs)), key=lambda i: (
        _parse_shard(runs[i].shard, sources[i])[0] if runs[i].shard else i))
    scenarios, origin = [], {}
    for i in order:
        for sc in runs[i].scenarios:
            if sc.name in origin:
                raise MergeError(f"scenario {sc.name!r} is in both {origin[sc.name]} "
                                 f"and {sources[i]}")
            origin[sc.name] = sources[i]
            scenarios.append(sc)
    started, duration = _time_span(runs)
    host = dict(runs[order[0]].host)
    if len(runs) > 1:
        host["merged"] = f"{len(runs)} results"
    stopped = [run.interrupted for run in runs if run.interrupted]
    layouts = [run.address_layout for run in runs if run.address_layout is not None]
    return RunResult(kernel=runs[0].kernel, started=started, duration_s=duration,
                     jobs=sum(run.jobs for run in runs), scenarios=scenarios,
                     shard=None, host=host, interrupted=stopped[0] if stopped else None,
                     address_layout=layouts[0] if layouts else None)


def load_results(path: Path) -> RunResult:
    """load_run with one-line MergeErrors naming PATH."""
    path = Path(path)
    try:
        return load_run(path)
    except FileNotFoundError:
        raise MergeError(f"{path}: no such file") from None
    except json.JSONDecodeError as bad:
        raise MergeError(f"{path}: not JSON ({bad})") from None
    except (KeyError, TypeError, ValueError) as bad:
        raise MergeError(f"{path}: not a vmcheck results file ({bad})") from None


def merge_files(paths: list, *, allow_partial: bool = False) -> RunResult:
    """Loads every results.json in PATHS and merges them (one file: as is)."""
    runs = [load_results(Path(p)) for p in paths]
    if len(runs) == 1:
        return runs[0]
    return merge_runs(runs, [str(p) for p in paths], allow_partial=allow_partial)
