"""The text summary a command prints after a run: one row per scenario
(area, verdict, time, unknown checks), then the counts and the faults
caught in scenarios that did not pass."""

from __future__ import annotations

from results.model import RunResult, Verdict


def summary_table(run: RunResult) -> str:
    """Scenario, area, verdict, time and unknown checks: one row each,
    then the counts (unknown checks apart from the verdicts)."""
    rows = [("scenario", "area", "verdict", "time", "unknown")]
    rows += [(sc.name, sc.area, sc.verdict.value, f"{sc.duration_s:.1f}s",
              str(len(sc.unknowns)) if sc.unknowns else "") for sc in run.scenarios]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = ", ".join(f"{n} {v}" for v, n in sorted(run.counts().items()))
    passed = sum(sc.verdict is Verdict.PASS for sc in run.scenarios)
    not_judged = run.counts().get(Verdict.NOT_JUDGED.value, 0)
    judged = " judged" if not_judged else ""
    lines.append(f"\n{passed}/{len(run.scenarios) - not_judged}{judged} passed ({counts}) in "
                 f"{run.duration_s:.1f}s with {run.jobs} job(s) on the {run.kernel} kernel")
    lines.append(unknown_count_line(run))
    if not_judged:
        lines.append(f"{not_judged} scenario(s) NOT_JUDGED: this kernel cannot observe or carry "
                     "out what they inject; not failures (with --strict too), no points at stake")
    lines += fault_summary_lines(run)
    if run.interrupted:
        lines.append(f"PARTIAL: interrupted by {run.interrupted}; "
                     f"{run.counts().get(Verdict.NOT_RUN.value, 0)} scenario(s) not run")
    return "\n".join(lines)


def fault_summary_lines(run: RunResult) -> list:
    """One line per fault caught in a scenario that did not pass; the
    faults of passing scenarios (e.g. the kills the robustness scenarios
    expect) only counted."""
    lines = [f"fault in {sc.name}: {f.one_line()}" for sc in run.scenarios
             if not sc.verdict.passed for f in sc.faults]
    passing = sum(len(sc.faults) for sc in run.scenarios if sc.verdict.passed)
    if passing:
        lines.append(f"{passing} fault(s) caught in passing scenarios (see the report)")
    return lines


def unknown_count_line(run: RunResult) -> str:
    """How many checks were UNKNOWN (could not inspect), in how many
    scenarios, and what that means for the verdicts."""
    having = [sc for sc in run.scenarios if sc.unknowns]
    total = sum(len(sc.unknowns) for sc in having)
    if not total:
        return "0 unknown checks"
    strict = any(sc.strict for sc in having)
    effect = "they fail under --strict" if strict else "not failures; --strict fails them"
    return f"{total} unknown check(s) (could not inspect) in {len(having)} scenario(s): {effect}"
