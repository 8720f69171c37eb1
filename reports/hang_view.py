"""What a HANG's card shows: which rule ended the run (guest time, wall
time, deadlock, no progress, fault storm), both clocks, and the wait-for graph as a
table (oracles/model/wait_graph.py): each thread, what it waits on, who holds it
or is expected to signal it, and whether it is on the wait cycle."""

from __future__ import annotations

import dataclasses
from typing import Optional

from oracles.model.wait_graph import WaitGraph
from reports.text import printable

RULES = {"guest time": "the guest clock ran out (busy guest time, under -icount)",
         "wall time": "the wall clock ran out",
         "deadlock": "every thread blocked on another: a deadlock",
         "no progress": "no console output, checkpoint or exit for a long stretch of guest time",
         "fault storm": "the same fault again and again (user or kernel mode), the kernel "
                        "never making the page usable: a page-fault storm (its fault is "
                        "decoded among the faults)"}


@dataclasses.dataclass
class WaitRow:
    thread: str
    status: str
    waits_for: str
    holder: str
    on_cycle: bool
    where: str


@dataclasses.dataclass
class HangView:
    rule: str
    guest_s: Optional[float]
    wall_s: Optional[float]
    description: str
    rows: list


def hang_view(sc) -> Optional[HangView]:
    """The card of a HANG result that recorded how it ended, else None."""
    hang = sc.hang
    if hang is None:
        return None
    rows, description = [], ""
    graph = hang.graph
    if graph is not None:
        cycle = {t.tid for t in graph.cycle()}
        description = printable(graph.describe())
        rows = [_row(graph, t, t.tid in cycle) for t in graph.threads]
    return HangView(RULES.get(hang.kind, hang.kind), hang.guest_s, hang.wall_s, description,
                    rows)


def _row(graph: WaitGraph, t, on_cycle: bool) -> WaitRow:
    status = t.status + (" (idle)" if t.idle else "")
    waits_for, holder = "", []
    if t.wait is not None:
        waits_for = f"{t.wait.target} ({t.wait.kind})"
        if t.wait.holder is not None:
            other = graph.node(t.wait.holder)
            holder.append(f"{t.wait.relation()} tid {t.wait.holder}"
                          + (f" {other.name}" if other else ""))
        if t.wait.holder_note:
            holder.append(f"({t.wait.holder_note})")
    return WaitRow(printable(f"tid {t.tid} {t.name}"), status, printable(waits_for),
                   printable(" ".join(holder)), on_cycle, printable(t.where))
