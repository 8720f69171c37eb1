"""How the harness read a kernel's SPT, summed up over a run.

Each scenario on a Pintos-KAIST kernel carries notes such as
"writable = page.writable: _Bool (followed the ELF segment flags on 14/14
pages, ...)" or "swap slot: unknown (not seen yet: ...)" (ScenarioResult.
spt_layout). The scenario page shows them as they are; the text summary
after a run gives one line per distinct outcome of a role, with how many
scenarios reached it, so a member that was read differently somewhere (or
not identified) stands out.
"""

from __future__ import annotations

import re
from collections import Counter

# "writable = page.writable: _Bool (how...)" -> "writable = page.writable: _Bool";
# "swap slot: unknown (why)" -> "swap slot: unknown"
_OUTCOME = re.compile(r"^(.*?)(?: \(|$)")


def outcome(note: str) -> str:
    """A note without its evidence: the role and what plays it (or unknown)."""
    return _OUTCOME.match(note).group(1)


def layout_summary(run) -> list[str]:
    """Lines for the text summary: each role outcome and the number of
    scenarios with it, the first reason given for an unknown one. Empty
    when no scenario has notes (the reference kernel)."""
    counts: Counter = Counter()
    example: dict = {}
    for sc in run.scenarios:
        for note in sc.spt_layout:
            key = outcome(note)
            counts[key] += 1
            example.setdefault(key, (sc.name, note))
    if not counts:
        return []
    lines = ["SPT read as (scenarios that reached a checkpoint):"]
    for key, n in counts.items():
        line = f"  {key}  [{n}]"
        if ": unknown" in key or "SPT: " in key:
            name, note = example[key]
            line += f"  e.g. {name}: {note[len(key):].strip(' ()')}"
        lines.append(line)
    return lines
