"""Whether two runs of one scenario were the same run, and where they part.

A run's fingerprint is what `replay --times N` compares, in the order the
run met it: at each checkpoint stop, the guest's clock (the kernel's timer
ticks, and the instructions executed since the kernel's entry: what the
BIOS and the boot loader took before that depends on how fast QEMU's disk
answered them, which the kernel does not see) and digests of the running
process's page-table snapshot and SPT; at the end, the verdict and the
console's bytes. Fingerprints are plain data: a schedule file carries the
recorded run's, so a replay on another machine is compared with the run
that was recorded, not only with its own first run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Optional

from results.codec import to_json

END = "the end of the run"


def _digest(value) -> str:
    """sha256 (16 hex digits) of VALUE of the results model, as results.json
    would hold it."""
    text = value if isinstance(value, str) else json.dumps(to_json(value), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(result) -> list:
    """The fingerprint of RESULT (a ScenarioResult): one dict per
    checkpoint stop, then one for the end."""
    entry = result.entry_icount
    out = []
    for cp in result.checkpoints:
        out.append({
            "at": f"checkpoint {cp.id} (hit {cp.hit}, {cp.process})",
            "ticks": cp.ticks,
            "instructions": None if cp.icount is None or entry is None else cp.icount - entry,
            "page tables": _digest(cp.pages),
            "SPT": _digest(cp.spt if cp.spt is not None else cp.spt_note),
        })
    out.append({"at": END, "verdict": result.verdict.value, "console": _digest(result.console),
                "console bytes": len(result.console)})
    return out


def first_parting(first: list, other: list, consoles: Optional[tuple] = None) -> Optional[str]:
    """None if fingerprints FIRST and OTHER are the same; else where they
    first differ, in one line. CONSOLES: the two runs' console texts, if
    known, to name the first line that differs."""
    for a, b in zip(first, other):
        if a["at"] != b["at"]:
            return f"one run reached {a['at']} where the other reached {b['at']}"
        for key in a:
            if a[key] != b.get(key):
                return f"at {a['at']}: {key} {_shown(key, a[key], b.get(key), consoles)}"
    if len(first) != len(other):   # unreachable: both end with END
        return f"{len(first)} vs {len(other)} points"
    return None


def _shown(key: str, a, b, consoles: Optional[tuple]) -> str:
    if key == "console" and consoles is not None:
        return first_console_difference(*consoles)
    if key in ("page tables", "SPT", "console"):
        return "differ"
    return f"{a} vs {b}"


def first_console_difference(a: str, b: str) -> str:
    """Where consoles A and B first differ: line number and both lines."""
    lines_a, lines_b = a.splitlines(), b.splitlines()
    for number, (x, y) in enumerate(zip(lines_a, lines_b), 1):
        if x != y:
            return f"differs from line {number}: {x!r} vs {y!r}"
    shorter = min(len(lines_a), len(lines_b))
    return (f"differs after line {shorter}: one run has {len(lines_a)} lines, the other "
            f"{len(lines_b)}")
