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
    # What the scenario injects is a failure this kernel family's ABI gives a
    # kernel no way to notice (KernelAdapter.injection_unobservable): neither
    # pass nor fail, the reason says why; decided before booting.
    NOT_JUDGED = "NOT_JUDGED"

    @property
    def passed(self) -> bool:
        return self is Verdict.PASS

    @property
    def judged(self) -> bool:
        """A verdict on the kernel: not NOT_RUN (no run came to an end)
        and not NOT_JUDGED (nothing any kernel of the family could get
        right or wrong)."""
        return self not in (Verdict.NOT_RUN, Verdict.NOT_JUDGED)

    @property
    def failed(self) -> bool:
        """Judged and not passed: a verdict against the kernel (or the
        harness: HARNESS_ERROR)."""
        return self.judged and not self.passed


@dataclasses.dataclass
class CheckpointRecord:
    """One stop at checkpoint(id). pages: the page tables of the current
    process; spt: its SPT, by VA (None: not inspectable, with spt_note
    saying why); violations: the checks (invariants and expectations) that
    FAILED; unknowns: those that could not inspect what they need (UNKNOWN:
    never a failure unless --strict); not_judged: invariants left out
    because a process was caught mid-flight (notes); icount: instruction
    count; ticks: the kernel's timer ticks (its clock), None if it has none."""
    id: int
    hit: int
    pid: int
    process: str
    icount: Optional[int] = None
    ticks: Optional[int] = None
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
class PagingEntry:
    """A faulting page's entry at one paging LEVEL ("PML4E" ... "PTE"):
    where it lies (physical), its value and its flags in words ("P|W|U",
    "not present")."""
    level: str
    entry: int
    value: int
    flags: str


@dataclasses.dataclass
class FaultPage:
    """The page holding a fault's CR2 at the fault, in the current address
    space (CR3): its entry at every paging level walked, "mapped" or why
    the walk stopped, the frame, the current process's SPT entry and every
    process mapping that frame ("name (pid N) at VA"); notes: what could
    not be read."""
    va: int
    cr3: int
    levels: list[PagingEntry] = dataclasses.field(default_factory=list)
    mapping: str = "mapped"
    frame: Optional[int] = None
    spt: Optional[SptPage] = None
    owners: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TrapFrameRef:
    """A trap frame (struct intr_frame) met on a kernel stack: its address,
    the vector, the interrupted rip and whether user code was interrupted."""
    address: int
    vector: int
    rip: int
    user: bool


@dataclasses.dataclass
class KernelFrame:
    """One frame of a kernel stack, innermost first: the address (where
    the CPU is, or a return address), its function and file:line. trap:
    the trap frame an entry stub's frame carries; interrupted: this is the
    instruction a trap interrupted; syscall: the system call an entry
    frame serves; fault: index of the FaultRecord recorded for its trap
    frame; trap_error: why its trap frame could not be read."""
    address: int
    function: str
    source: str = ""
    trap: Optional[TrapFrameRef] = None
    interrupted: bool = False
    syscall: Optional[str] = None
    fault: Optional[int] = None
    trap_error: Optional[str] = None


@dataclasses.dataclass
class FaultRecord:
    """A fault a correct kernel would not take or could not resolve, caught
    at the kernel's kill/panic/fix-up path (harness/run/fault_capture.py) and
    decoded (harness/run/fault_explain.py). reason: one line. access: "read",
    "write" or "instruction fetch"; mode: "user" or "kernel" (of the
    faulting code); operand: the access that touched CR2 (operand_index:
    its explicit operand, None for a stack or string access); page: the
    page's state (PTE flags at every level, SPT entry, frame, owners);
    stack: the interrupted kernel code's frames (kernel-mode faults)."""
    process: str
    reason: str
    rip: int
    cr2: Optional[int] = None
    error_code: Optional[int] = None
    disassembly: Optional[list[tuple[int, str, bool]]] = None   # (address, text, is RIP)
    analysis: Optional[str] = None
    vector: Optional[int] = None
    mode: str = ""
    access: str = ""
    present: Optional[bool] = None       # protection violation (else not present)
    outcome: str = ""                    # what the kernel did next
    instruction: str = ""
    operand: str = ""
    operand_index: Optional[int] = None
    operand_address: Optional[int] = None
    consistent: Optional[bool] = None    # error code and CR2 fit the instruction
    function: str = ""                   # "name+0xoff (kernel)" / "(program)"
    source: str = ""                     # file:line
    page: Optional[FaultPage] = None
    stack: list[KernelFrame] = dataclasses.field(default_factory=list)
    frame_address: Optional[int] = None  # the trap frame in guest memory

    def one_line(self) -> str:
        """The fault in one line, for summaries and thread lists."""
        where = self.function + (f" [{self.source}]" if self.source else "")
        insn = f" `{self.instruction}`" if self.instruction else ""
        return f"{self.process}: {self.reason} at {where or hex(self.rip)}{insn}; {self.outcome}"


@dataclasses.dataclass
class HangRecord:
    """How a HANG ended: KIND, the rule that fired (guest time, wall time,
    deadlock, no progress, fault storm; harness/run/hang_watch.py), both
    clocks, and the wait-for graph seen (None if it was not read)."""
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
    faults_beyond: int = 0               # faults caught after the first recorded ones
    panic_stack: list[KernelFrame] = dataclasses.field(default_factory=list)  # file:line
    panic_story: str = ""                # KERNEL_PANIC: the stack told at its fault
    exact_disk: Optional[dict] = None    # ExactDiskReport (harness/adapters/exact_disk.py)
    entry_icount: Optional[int] = None   # instructions executed when the kernel's entry ran
    disks_sha256: Optional[str] = None   # the disks' contents at boot (schedule runs)
    # The boot shortcuts the run took (names, e.g. "boot_snapshot", "calibration"):
    # those its options allowed less the ones that fell back (a schedule records these)
    boot_shortcuts: list[str] = dataclasses.field(default_factory=list)
    # Debugger stops by kind (harness/run/stop_count.py): all taken, and those
    # that served a check (a checkpoint or fault recorded, an injection made...)
    stops_taken: dict[str, int] = dataclasses.field(default_factory=dict)
    stops_needed: dict[str, int] = dataclasses.field(default_factory=dict)

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

    @property
    def points_possible(self) -> float:
        """The points this scenario counts for: none when NOT_JUDGED (no
        kernel of the family could earn them)."""
        return 0.0 if self.verdict is Verdict.NOT_JUDGED else self.points

    @property
    def points_earned(self) -> float:
        return self.points if self.verdict.passed else 0.0

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
        """Every scenario passed or was NOT_JUDGED (not judged on this
        kernel is not a failure, with --strict too: docs/pintos-kaist.md);
        a NOT_RUN scenario means the run is partial: not passed."""
        return all(sc.verdict.passed or sc.verdict is Verdict.NOT_JUDGED
                   for sc in self.scenarios)
