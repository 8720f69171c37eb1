"""What the page of one scenario shows, computed from a ScenarioResult.

The template only lays out what this module prepares: failed checks with
expected vs actual, the timeline, each checkpoint's pages (table and
picture, changes since the previous checkpoint of the same process),
faults with the disassembly around RIP and the faulting operand marked,
the console log.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Optional

from oracles.model.machine_state import Violation, number_ranges
from oracles.model.page_fault import PageFaultErrorCode
from reports.addrspace import regions
from reports.pages_view import page_rows, state_counts
from reports.text import printable

MAX_CONSOLE_LINES = 4000
# A memory operand in Capstone/Intel syntax: "qword ptr fs:[rax + 8]" or "[rip + 0x10]".
_MEM_OPERAND = re.compile(r"(?:(?:byte|word|dword|qword|tbyte|xmmword|ymmword|"
                          r"zmmword) ptr )?(?:[a-z]s:)?\[[^\]]*\]")
_CONSOLE_CLASSES = (("panic", re.compile(r"panic|PANIC|Kernel PANIC|triple fault", re.I)),
                    ("exit", re.compile(r"^\S+: exit\(-?\d+\)$")),
                    ("harness", re.compile(r"^vmcheck: ")))


@dataclasses.dataclass
class Failure:
    """One failed check, shown with expected vs actual: CHECK (its text
    made printable), WHERE the run met it and the in-page ANCHOR."""
    where: str           # "checkpoint 2", "after the run", "while running", "console", ...
    anchor: str          # in-page link target
    check: Violation


@dataclasses.dataclass
class CheckpointView:
    cp: object
    anchor: str
    rows: list
    regions: list
    counts: dict
    previous: object
    truncated: bool
    changes: int
    pool_counts: list    # (what, value) of the pools the kernel reported


@dataclasses.dataclass
class Event:
    kind: str            # checkpoint, injection, fault, end
    label: str
    detail: str
    icount: Optional[int]
    anchor: str
    bad: bool = False


@dataclasses.dataclass
class DisasmLine:
    address: int
    before: str
    operand: str
    after: str
    at_rip: bool


def checkpoint_anchor(index: int) -> str:
    """In-page id of the INDEX-th checkpoint record of a scenario."""
    return f"cp-{index}"


def _failure(where: str, anchor: str, v: Violation) -> Failure:
    return Failure(where, anchor, dataclasses.replace(
        v, message=printable(v.message),
        expected=None if v.expected is None else printable(str(v.expected)),
        actual=None if v.actual is None else printable(str(v.actual))))


def failures(sc) -> list:
    """Every failed check of SC, in the order the run met them."""
    out = [_failure("while running", "console", v) for v in sc.run_violations]
    for index, cp in enumerate(sc.checkpoints):
        out += [_failure(f"checkpoint {cp.id}", checkpoint_anchor(index), v)
                for v in cp.violations]
    out += [_failure("after the run", "after", v) for v in sc.after_violations]
    for line in sc.missing_output:
        out.append(_failure("console", "console", Violation(
            "console output", "expected console line not seen", expected=str(line),
            actual="(not printed)")))
    if sc.output_mismatch:
        out.append(_failure("console", "console", Violation("console output",
                                                            sc.output_mismatch)))
    out += [_failure("checkpoints", "timeline", Violation("checkpoint count", line))
            for line in sc.unreached]
    if (sc.expected_exit_status is not None
            and sc.exit_status != sc.expected_exit_status):
        exited = sc.exit_status is not None
        out.append(_failure("exit status", "console", Violation(
            "exit status", "the program exited with another status" if exited
            else "the program did not exit", expected=str(sc.expected_exit_status),
            actual=str(sc.exit_status) if exited else "no exit (the program did not finish)")))
    return out


def checkpoint_views(sc, layout) -> list:
    """One CheckpointView per checkpoint; changes are against the previous
    checkpoint of the same pid. LAYOUT: the kernel's AddressLayout (None:
    not recorded), which names the regions of the picture."""
    last_of_pid: dict = {}
    out = []
    for index, cp in enumerate(sc.checkpoints):
        previous = last_of_pid.get(cp.pid)
        rows, truncated = page_rows(cp, previous)
        out.append(CheckpointView(cp, checkpoint_anchor(index), rows, regions(rows, layout),
                                  state_counts(rows), previous, truncated,
                                  sum(1 for r in rows if r.change), _pool_counts(cp.pools)))
        last_of_pid[cp.pid] = cp
    return out


def _pool_counts(pools) -> list:
    """(field, value) of POOLS (a PoolState) the kernel reported; the user
    pool's physical range in hex, the swap slots in use as ranges."""
    if pools is None:
        return []
    out = [(f.name, getattr(pools, f.name)) for f in dataclasses.fields(pools)
           if getattr(pools, f.name) is not None]
    shown = {"user_pool": lambda v: f"{v[0]:#x}-{v[1]:#x}", "swap_slots_in_use": number_ranges}
    return [(name, shown.get(name, lambda v: v)(value)) for name, value in out]


def timeline(sc) -> tuple:
    """(events, ordered_by_icount). Events are sorted by instruction count
    when every checkpoint and injection has one; otherwise checkpoints in
    order, then injections in order."""
    events = [Event("checkpoint", f"cp {cp.id}",
                    f"checkpoint {cp.id} in {cp.process} (pid {cp.pid}), hit {cp.hit}",
                    cp.icount, checkpoint_anchor(index), bool(cp.violations))
              for index, cp in enumerate(sc.checkpoints)]
    events += [Event("injection", inj.kind,
                     f"{inj.kind} at {inj.point} (hit {inj.hit}"
                     + (f", thread {inj.thread})" if inj.thread else ")"),
                     inj.icount, "injections") for inj in sc.injections]
    ordered = all(e.icount is not None for e in events)
    if ordered:
        events.sort(key=lambda e: e.icount)
    events += [Event("fault", "fault", f"{f.process}: {f.reason}", None,
                     f"fault-{i}", True) for i, f in enumerate(sc.faults)]
    reason = sc.reason.split(" [")[0]    # without a panic's stack or story (shown below)
    events.append(Event("end", sc.verdict.value, printable(reason) or "end of run",
                        None, "verdict", not sc.verdict.passed))
    return events, ordered


def _split_operand(text: str) -> tuple:
    """(before, memory operand, after) of an instruction's text; the whole
    text is the operand when it has no explicit memory operand."""
    match = _MEM_OPERAND.search(text)
    if not match:
        return "", text, ""
    return text[:match.start()], match.group(), text[match.end():]


def disassembly(fault) -> list:
    """DisasmLines from a FaultRecord's [(addr, text, is_rip)] list; the
    faulting instruction's memory operand is split out to be marked (not
    when the access that faulted is implicit: a push, a fetch)."""
    out = []
    implicit = bool(fault.operand) and fault.operand_index is None
    for addr, text, at_rip in fault.disassembly or []:
        text = printable(str(text))
        if at_rip and not implicit:
            before, operand, after = _split_operand(text)
        else:
            before, operand, after = text, "", ""
        out.append(DisasmLine(addr, before, operand, after, at_rip))
    return out


def fault_spt_fields(fault) -> list:
    """(field, value) of the SPT entry a fault's page had (a FaultPage's
    SptPage), the fields the kernel recorded, without its VA; [] if none."""
    spt = fault.page.spt if fault.page is not None else None
    if spt is None:
        return []
    return [(f.name, getattr(spt, f.name)) for f in dataclasses.fields(spt)
            if f.name != "va" and getattr(spt, f.name) is not None]


def error_code_text(fault) -> str:
    if fault.error_code is None:
        return ""
    return PageFaultErrorCode(fault.error_code).describe()


def console_lines(console: str) -> tuple:
    """([(css class, line)], lines omitted at the start)."""
    lines = printable(console).rstrip("\n").split("\n") if console else []
    omitted = max(0, len(lines) - MAX_CONSOLE_LINES)
    out = []
    for line in lines[omitted:]:
        css = next((name for name, rx in _CONSOLE_CLASSES if rx.search(line)), "")
        out.append((css, line))
    return out, omitted
