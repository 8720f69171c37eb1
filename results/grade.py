"""The results of a class grading (`vmcheck grade`): one SubmissionResult
per submission, saved as its submission.json (harness/grade/store.py).

A SubmissionResult is what the class report, grades.csv and a resumed
run need of a graded submission: its identity (the roster entry it was
graded from), whether it built (and the compiler's lines if not), and
one ScenarioCell per scenario (verdict, points, the cause of a failure).
The full results of its scenarios stay in its own folder's
results.json (submissions/NAME/), which its report is made from.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Optional

from results.codec import versioned_from_json, versioned_to_json
from results.model import ScenarioResult, Verdict

SCHEMA_VERSION = 1
REASON_CHARS = 300
PANIC_FUNCTION = re.compile(r"\bin (\w+)\(\)")


@dataclasses.dataclass
class ScenarioCell:
    """One scenario of one submission, as the class report shows it.
    CAUSE: what went wrong in a few words (the failing state check, the
    hang rule...), '' when it passed; it makes the failure signature."""
    name: str
    area: str
    verdict: str
    points: float
    cause: str = ""
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASS.value

    @property
    def not_judged(self) -> bool:
        """NOT_JUDGED: the kernel cannot observe what the scenario injects;
        neither passed nor failed, its points not at stake."""
        return self.verdict == Verdict.NOT_JUDGED.value

    @property
    def failed(self) -> bool:
        """Not passed and not NOT_JUDGED (a cell of a finished submission
        is never NOT_RUN)."""
        return not self.passed and not self.not_judged

    @property
    def earned(self) -> float:
        return self.points if self.passed else 0.0

    @property
    def possible(self) -> float:
        return 0.0 if self.not_judged else self.points


@dataclasses.dataclass
class SubmissionResult:
    name: str
    identity: dict[str, Optional[str]]   # Submission.identity() of the roster entry graded
    kernel: str                     # the adapter's family name
    built: bool
    seconds: float                  # wall time: checkout, build and scenarios
    finished: str                   # ISO time
    cells: list[ScenarioCell] = dataclasses.field(default_factory=list)   # suite order
    commit: Optional[str] = None    # the commit checked out (git sources)
    build_error: str = ""           # the compiler's lines when it did not build
    scenario_shard: Optional[str] = None   # "J/M": graded with a part of the scenarios
    results_sha256: str = ""        # of its results.json: a damaged folder is graded again

    @property
    def earned(self) -> float:
        return sum(c.earned for c in self.cells)

    @property
    def max_points(self) -> float:
        """The points at stake: NOT_JUDGED scenarios count for none."""
        return sum(c.possible for c in self.cells)

    def signature(self) -> tuple:
        """The failing scenarios with their causes: two submissions with the
        same signature fail the same way (often the same misconception)."""
        if not self.built:
            return (("(build)", Verdict.BUILD_FAILED.value),)
        return tuple((c.name, c.cause) for c in self.cells if c.failed)

def failure_cause(sc: ScenarioResult) -> str:
    """SC's failure in a few words ('' if it passed or was NOT_JUDGED): the verdict and, for
    a FAIL, the first failing state check (or what else failed), for a
    HANG the rule that fired, for a KERNEL_PANIC the function it named."""
    verdict = sc.verdict
    if verdict in (Verdict.PASS, Verdict.NOT_JUDGED):
        return ""
    if verdict is Verdict.FAIL:
        return f"FAIL: {_fail_cause(sc)}"
    if verdict is Verdict.HANG:
        kind = sc.hang.kind if sc.hang is not None else "timeout"
        return f"HANG: {kind}"
    if verdict is Verdict.KERNEL_PANIC:
        found = PANIC_FUNCTION.search(sc.reason or "")
        return f"KERNEL_PANIC in {found.group(1)}" if found else "KERNEL_PANIC"
    return verdict.value


def _fail_cause(sc: ScenarioResult) -> str:
    if sc.violations:
        return sc.violations[0].oracle
    if sc.unreached:
        return "checkpoint not reached"
    if sc.missing_output or sc.output_mismatch:
        return "output"
    if sc.exit_status != sc.expected_exit_status:
        return "exit status"
    if "leak" in (sc.reason or ""):
        return "leak"
    return "other"


def cell_of(sc: ScenarioResult) -> ScenarioCell:
    reason = " ".join((sc.reason or "").split())
    if len(reason) > REASON_CHARS:
        reason = reason[:REASON_CHARS - 1] + "…"
    return ScenarioCell(sc.name, sc.area, sc.verdict.value, sc.points,
                        failure_cause(sc), reason)


def submission_to_json(result: SubmissionResult) -> dict:
    return versioned_to_json(result, SCHEMA_VERSION)


def submission_from_json(data: dict) -> SubmissionResult:
    """The SubmissionResult of submission.json data; ValueError if it is not one."""
    return versioned_from_json(SubmissionResult, data, SCHEMA_VERSION, "submission")
