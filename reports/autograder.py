"""Gradescope's autograder results format (results/results.json there).

    {"score": total, "execution_time": seconds, "output": one line,
     "tests": [{"name", "score", "max_score", "status": "passed"|"failed",
                "output", "tags": [area], "visibility": "visible"}],
     "extra_data": {"max_score", "kernel", "verdicts", "unknown_checks"}}

A test's output lists its UNKNOWN checks ("could not inspect: ...") after
the verdict; they cost no points unless the run was --strict.

A scenario earns its points (ScenarioResult.points) when it passes, else 0.
A NOT_JUDGED scenario (the kernel cannot observe what it injects) is
listed with max_score 0 and status "passed": it is not at stake, and its
output says why; extra_data counts it under "verdicts".
"""

from __future__ import annotations

import json
from pathlib import Path

from reports.summary_view import banner, verdict_counts
from reports.text import failure_lines, printable, tail_lines, unknown_lines

CONSOLE_TAIL_LINES = 20


def _test_output(sc) -> str:
    head = f"{sc.verdict.value} in {sc.duration_s:.2f} s"
    unknown = unknown_lines(sc)
    if sc.verdict.passed:
        return "\n".join([head] + unknown)
    lines = [head] + failure_lines(sc) + unknown
    tail = tail_lines(sc.console, CONSOLE_TAIL_LINES)
    if tail:
        lines += ["", f"console (last {CONSOLE_TAIL_LINES} lines):", tail]
    return "\n".join(lines)


def autograder_results(run) -> dict:
    """RUN (a RunResult) in Gradescope's results format."""
    tests = [{"name": printable(sc.name),
              "score": sc.points_earned,
              "max_score": sc.points_possible,
              # NOT_RUN fails (the run is partial); NOT_JUDGED is not wrong
              "status": "passed" if sc.verdict.passed or sc.verdict.value == "NOT_JUDGED"
                        else "failed",
              "output": _test_output(sc),
              "tags": [sc.area],
              "visibility": "visible"} for sc in run.scenarios]
    return {"score": sum(t["score"] for t in tests),
            "execution_time": round(run.duration_s),
            "output": banner(run)[1],
            "tests": tests,
            "extra_data": {"max_score": sum(t["max_score"] for t in tests),
                           "kernel": run.kernel,
                           "verdicts": dict(verdict_counts(run.scenarios)),
                           "unknown_checks": sum(len(sc.unknowns) for sc in run.scenarios)}}


def write_autograder(run, path: Path) -> Path:
    """Writes RUN's Gradescope results to PATH and returns PATH."""
    path = Path(path)
    path.write_text(json.dumps(autograder_results(run), indent=1) + "\n")
    return path
