"""Schedule files: everything needed to reproduce one run.

A run is a pure function of (kernel build, scenario, schedule): under
`-icount shift=0,sleep=off` the same inputs give the same instruction
counts, console output and snapshots (tests/integration/test_determinism.py).
The schedule names the scenario, the kernel build (sha256 of its ELF), the
injections with their hit counts, and the clock settings. Every failing run
under injection writes one; `vmcheck replay FILE` runs it again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from harness.errors import UsageError
from harness.run.injection import Injection

SCHEDULE_VERSION = 1


def build_id(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def console_digest(console: str) -> str:
    return hashlib.sha256(console.encode()).hexdigest()[:16]


def make_schedule(sc, adapter, opts, result) -> dict:
    return {
        "vmcheck_schedule": SCHEDULE_VERSION,
        "scenario": sc.name,
        "scenario_source": sc.source,
        "kernel": adapter.spec,
        "kernel_build_id": build_id(adapter.symbol_file),
        "injections": [i.to_dict() for i in (*sc.inject, *opts.inject)],
        "fired": [r.__dict__ for r in result.injections],
        "clock": {"accel": opts.machine.accel, "icount": opts.machine.icount},
        "verdict": result.verdict.value,
        "reason": result.reason,
        "console_sha256": console_digest(result.console),
    }


def write_schedule(schedule: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{schedule['scenario']}.schedule.json"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{schedule['scenario']}.{n}.schedule.json"
    path.write_text(json.dumps(schedule, indent=1))
    return path


def load_schedule(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: not a readable schedule file ({e})") from None
    if data.get("vmcheck_schedule") != SCHEDULE_VERSION:
        raise UsageError(f"{path}: not a vmcheck schedule (version {data.get('vmcheck_schedule')!r})")
    try:
        data["injections"] = [Injection(**i) for i in data["injections"]]
    except (KeyError, TypeError) as e:
        raise UsageError(f"{path}: malformed injections ({e})") from None
    return data


def added_injections(schedule: dict, sc) -> tuple:
    """The injections SCHEDULE adds to scenario SC's own: a schedule lists
    SC's `inject` first (make_schedule), and the runner applies SC's own
    anyway, so giving the whole list would apply those twice."""
    own, listed = list(sc.inject), list(schedule["injections"])
    return tuple(listed[len(own):] if listed[:len(own)] == own else listed)
