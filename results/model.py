"""Results of a suite run: what the runner writes and the reports read.

One RunResult per `vmcheck run`, one ScenarioResult per scenario, one
CheckpointRecord per checkpoint stop. Every value is typed: a failed check
is a Violation, a page table a PageTableSnapshot, an SPT a list of
SptPage, a hang a HangRecord (the machine-state model of oracles/model/).
They round-trip through JSON in one place, results/codec.py
(results.json in the report folder), so reports can be regenerated
(`make report`) and shards merged (`vmcheck merge`).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Optional

from oracles.model.address_layout import AddressLayout
from oracles.model.machine_state import PoolState, SptPage, Violation
from oracles.model.page_tables import PageTableSnapshot
from oracles.model.wait_graph import WaitGraph

RESULTS_FILE = "results.json"   # in a report folder, beside the pages that link it


def parse_shard(spec: str) -> tuple[int, int]:
    """(K, N) of a shard spec "K/N" (1 <= K <= N); ValueError saying why not."""
    try:
        k, n = (int(part) for part in spec.split("/"))
    except ValueError:
        raise ValueError(f"{spec!r} is not K/N (e.g. 2/4)") from None
    if not 1 <= k <= n:
        raise ValueError(f"{spec!r} is not K/N with 1 <= K <= N")
    return k, n


class Verdict(str, enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"                    # an oracle or expectation failed
    KERNEL_PANIC = "KERNEL_PANIC"
    TRIPLE_FAULT = "TRIPLE_FAULT"
    HANG = "HANG"                    # timeout
    BUILD_FAILED = "BUILD_FAILED"
    HARNESS_ERROR = "HARNESS_ERROR"
    NOT_RUN = "NOT_RUN"              # a stop signal came first (the run is partial)

    @property
    def passed(self) -> bool:
        return self is Verdict.PASS


@dataclasses.dataclass
class CheckpointRecord:
    """One stop at checkpoint(id). pages: the page tables of the current
    process; spt: its SPT, by VA (None: not inspectable, with spt_note
    saying why); violations: the checks (invariants and expectations) that
    FAILED; unknowns: those that could not inspect what they need (UNKNOWN:
    never a failure unless --strict); not_judged: invariants left out
    because a process was caught mid-flight (notes); icount: instruction
    count."""
    id: int
    hit: int
    pid: int
    process: str
    icount: Optional[int] = None
    pages: Optional[PageTableSnapshot] = None
    spt: Optional[list[SptPage]] = None
    spt_note: Optional[str] = None
    pools: Optional[PoolState] = None
    violations: list[Violation] = dataclasses.field(default_factory=list)
    expectations: list = dataclasses.field(default_factory=list)  # checks run here
    unknowns: list[Violation] = dataclasses.field(default_factory=list)
    not_judged: list[Violation] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class InjectionRecord:
    """One injected fault (issue 6): point, hit count, thread, icount."""
    point: str
    hit: int
    kind: str
    thread: Optional[str] = None
    icount: Optional[int] = None


@dataclasses.dataclass
class FaultRecord:
    """A user or kernel fault seen on the console, decoded at RIP."""
    process: str
    reason: str
    rip: int
    cr2: Optional[int] = None
    error_code: Optional[int] = None
    disassembly: Optional[list[tuple[int, str, bool]]] = None   # (address, text, is RIP)
    analysis: Optional[str] = None


@dataclasses.dataclass
class HangRecord:
    """How a HANG ended: KIND, the rule that fired (guest time, wall time,
    deadlock, no progress; harness/run/hang_watch.py), both clocks, and the
    wait-for graph seen (None if it was not read)."""
    kind: str
    guest_s: Optional[float] = None
    wall_s: float = 0.0
    graph: Optional[WaitGraph] = None


@dataclasses.dataclass
class ScenarioResult:
    name: str
    area: str
    verdict: Verdict
    duration_s: float
    reason: str = ""                     # one line: why it did not pass
    kernel: str = "reference"
    exit_status: Optional[int] = None
    expected_exit_status: Optional[int] = None
    console: str = ""
    missing_output: list[str] = dataclasses.field(default_factory=list)
    output_mismatch: str = ""            # exact / main-ordered: the first difference
    unreached: list[str] = dataclasses.field(default_factory=list)      # checkpoints missed
    checkpoints: list[CheckpointRecord] = dataclasses.field(default_factory=list)
    after_violations: list[Violation] = dataclasses.field(default_factory=list)
    run_violations: list[Violation] = dataclasses.field(default_factory=list)  # while it ran
    injections: list[InjectionRecord] = dataclasses.field(default_factory=list)
    faults: list[FaultRecord] = dataclasses.field(default_factory=list)
    artifacts: Optional[str] = None      # folder with logs for this scenario
    schedule_file: Optional[str] = None  # replay schedule (issue 6)
    description: str = ""
    points: float = 1.0
    notes: list[str] = dataclasses.field(default_factory=list)  # allowed under injection
    schedule: Optional[dict] = None      # the schedule file's contents (harness/run/schedule.py)
    failure_threads: list[str] = dataclasses.field(default_factory=list)  # at fail()
    after_unknowns: list[Violation] = dataclasses.field(default_factory=list)  # after the run
    strict: bool = False                 # judged with --strict (an unknown check fails)
    spt_layout: list[str] = dataclasses.field(default_factory=list)  # which member is what
    guest_s: Optional[float] = None      # guest time at the end (timer ticks / 100), if read
    hang: Optional[HangRecord] = None    # HANG: rule that fired, both clocks, the wait graph

    @property
    def violations(self) -> list[Violation]:
        """Every FAILED check, in the order they were met."""
        out = list(self.run_violations)
        out += [v for cp in self.checkpoints for v in cp.violations]
        return out + list(self.after_violations)

    @property
    def unknowns(self) -> list[tuple[str, Violation]]:
        """Every UNKNOWN check as (where, Violation): "checkpoint ID" or
        "after the run"."""
        out = [(f"checkpoint {cp.id}", v) for cp in self.checkpoints for v in cp.unknowns]
        return out + [("after the run", v) for v in self.after_unknowns]

    def unknown_groups(self) -> list:
        """The UNKNOWN checks with the same oracle and reason together:
        [(oracle, reason, [where, ...])] in the order first met."""
        groups: dict = {}
        for where, v in self.unknowns:
            wheres = groups.setdefault((v.oracle, v.message), [])
            if where not in wheres:
                wheres.append(where)
        return [(oracle, reason, wheres) for (oracle, reason), wheres in groups.items()]

    def unknown_note(self) -> str:
        """One line naming the UNKNOWN checks, '' if there are none."""
        parts = [f"{oracle} ({', '.join(wheres)}): {reason}"
                 for oracle, reason, wheres in self.unknown_groups()]
        if not parts:
            return ""
        return f"{len(self.unknowns)} check(s) unknown, could not inspect: " + "; ".join(parts)


@dataclasses.dataclass
class RunResult:
    kernel: str
    started: str                          # ISO time
    duration_s: float
    jobs: int
    scenarios: list[ScenarioResult] = dataclasses.field(default_factory=list)
    shard: Optional[str] = None           # "K/N"
    host: dict = dataclasses.field(default_factory=dict)         # qemu version, accel
    interrupted: Optional[str] = None     # "SIGINT"...: stopped early, a partial run
    address_layout: Optional[AddressLayout] = None   # the kernel's (None: not recorded)

    def counts(self) -> dict:
        out: dict = {}
        for sc in self.scenarios:
            out[sc.verdict.value] = out.get(sc.verdict.value, 0) + 1
        return out

    @property
    def passed(self) -> bool:
        return all(sc.verdict.passed for sc in self.scenarios)
