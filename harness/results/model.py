"""Results of a suite run: what the runner writes and the reports read.

One RunResult per `vmcheck run`, one ScenarioResult per scenario, one
CheckpointRecord per checkpoint stop. Everything is plain data that
round-trips through JSON (results.json in the report folder), so reports
can be regenerated (`make report`) and shards merged (`vmcheck merge`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path
from typing import Optional

from oracles.model.address_layout import AddressLayout

SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"   # in a report folder, beside the pages that link it


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
    """One stop at checkpoint(id). pages: PageTableSnapshot.to_dict() of the
    current process; spt: list of SptPage dicts (None: not inspectable,
    with spt_note saying why); violations: Violation dicts of the checks
    (invariants and expectations) that FAILED; unknowns: those that could
    not inspect what they need (UNKNOWN: never a failure unless --strict);
    not_judged: invariants left out because a process was caught
    mid-flight (notes); pools: PoolState dict; icount: instruction count."""
    id: int
    hit: int
    pid: int
    process: str
    icount: Optional[int] = None
    pages: Optional[dict] = None
    spt: Optional[list] = None
    spt_note: Optional[str] = None
    pools: Optional[dict] = None
    violations: list = dataclasses.field(default_factory=list)
    expectations: list = dataclasses.field(default_factory=list)  # checks run here
    unknowns: list = dataclasses.field(default_factory=list)
    not_judged: list = dataclasses.field(default_factory=list)


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
    disassembly: Optional[list] = None   # [(addr, text, is_rip)]
    analysis: Optional[str] = None


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
    missing_output: list = dataclasses.field(default_factory=list)
    output_mismatch: str = ""            # exact / main-ordered: the first difference
    unreached: list = dataclasses.field(default_factory=list)      # checkpoints missed
    checkpoints: list = dataclasses.field(default_factory=list)   # CheckpointRecord
    after_violations: list = dataclasses.field(default_factory=list)
    run_violations: list = dataclasses.field(default_factory=list)  # found while it ran
    injections: list = dataclasses.field(default_factory=list)    # InjectionRecord
    faults: list = dataclasses.field(default_factory=list)        # FaultRecord
    artifacts: Optional[str] = None      # folder with logs for this scenario
    schedule_file: Optional[str] = None  # replay schedule (issue 6)
    description: str = ""
    points: float = 1.0
    notes: list = dataclasses.field(default_factory=list)  # differences allowed under injection
    schedule: Optional[dict] = None      # the injections, as a replayable schedule
    failure_threads: list = dataclasses.field(default_factory=list)  # at the program's fail()
    after_unknowns: list = dataclasses.field(default_factory=list)  # after-run checks: UNKNOWN
    strict: bool = False                 # judged with --strict (an unknown check fails)
    spt_layout: list = dataclasses.field(default_factory=list)  # which member is what, and why
    guest_s: Optional[float] = None      # guest time at the end (timer ticks / 100), if read
    hang: Optional[dict] = None          # HANG: rule that fired, both clocks, the wait graph

    @property
    def violations(self) -> list:
        """Every FAILED check (Violation dicts), in the order they were met."""
        out = list(self.run_violations)
        out += [v for cp in self.checkpoints for v in cp.violations]
        return out + list(self.after_violations)

    @property
    def unknowns(self) -> list:
        """Every UNKNOWN check as (where, Violation dict): "checkpoint ID"
        or "after the run"."""
        out = [(f"checkpoint {cp.id}", v) for cp in self.checkpoints for v in cp.unknowns]
        return out + [("after the run", v) for v in self.after_unknowns]

    def unknown_groups(self) -> list:
        """The UNKNOWN checks with the same oracle and reason together:
        [(oracle, reason, [where, ...])] in the order first met."""
        groups: dict = {}
        for where, d in self.unknowns:
            wheres = groups.setdefault((d.get("oracle", "?"), d.get("message", "")), [])
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
    scenarios: list = dataclasses.field(default_factory=list)     # ScenarioResult
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

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["schema"] = SCHEMA_VERSION
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunResult":
        if d.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"results schema {d.get('schema')!r}, expected {SCHEMA_VERSION}")
        scenarios = []
        for s in d["scenarios"]:
            s = dict(s)
            s["verdict"] = Verdict(s["verdict"])
            s["checkpoints"] = [CheckpointRecord(**c) for c in s["checkpoints"]]
            s["injections"] = [InjectionRecord(**i) for i in s["injections"]]
            s["faults"] = [FaultRecord(**f) for f in s["faults"]]
            scenarios.append(ScenarioResult(**s))
        fields = {k: v for k, v in d.items() if k not in ("schema", "scenarios")}
        if fields.get("address_layout") is not None:
            fields["address_layout"] = AddressLayout(**fields["address_layout"])
        return cls(scenarios=scenarios, **fields)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1, default=str))

    @classmethod
    def load(cls, path: Path) -> "RunResult":
        return cls.from_dict(json.loads(path.read_text()))
