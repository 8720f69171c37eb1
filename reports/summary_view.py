"""What the summary page shows: the overall verdict and verdicts by area."""

from __future__ import annotations

import dataclasses

# The suite's areas in report order, with their titles (scenarios/ uses these names).
AREAS = (("lazy", "Lazy loading"), ("stack", "Stack growth"), ("mmap", "mmap"),
         ("swap", "Swap"), ("fork", "Fork"), ("cow", "Copy-on-write"),
         ("robustness", "Robustness"), ("injection", "Fault injection"),
         ("core", "Kernel core"))
VERDICT_ORDER = ("PASS", "FAIL", "KERNEL_PANIC", "TRIPLE_FAULT", "HANG",
                 "BUILD_FAILED", "HARNESS_ERROR", "NOT_JUDGED", "NOT_RUN")


@dataclasses.dataclass
class AreaSummary:
    area: str
    title: str
    scenarios: list = dataclasses.field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.scenarios)

    @property
    def passed(self) -> int:
        return sum(1 for sc in self.scenarios if sc.verdict.passed)

    @property
    def not_judged(self) -> int:
        """NOT_JUDGED scenarios: neither passed nor failed."""
        return sum(1 for sc in self.scenarios if sc.verdict.value == "NOT_JUDGED")

    @property
    def not_passed(self) -> int:
        return self.total - self.passed - self.not_judged

    @property
    def counts(self) -> list:
        """[(verdict, count)] in VERDICT_ORDER, only verdicts that occur."""
        return verdict_counts(self.scenarios)

    @property
    def unknown_checks(self) -> int:
        """UNKNOWN checks (could not inspect) over the area's scenarios."""
        return sum(len(sc.unknowns) for sc in self.scenarios)

    @property
    def seconds(self) -> float:
        return sum(sc.duration_s for sc in self.scenarios)

    @property
    def slowest(self) -> float:
        return max((sc.duration_s for sc in self.scenarios), default=0.0)

    @property
    def points(self) -> float:
        return sum(sc.points_earned for sc in self.scenarios)

    @property
    def max_points(self) -> float:
        """The points at stake: NOT_JUDGED scenarios count for none."""
        return sum(sc.points_possible for sc in self.scenarios)

    @property
    def pass_percent(self) -> float:
        """Passed among the judged scenarios."""
        judged = self.total - self.not_judged
        return 100.0 * self.passed / judged if judged else 0.0


def verdict_counts(scenarios) -> list:
    counts: dict = {}
    for sc in scenarios:
        counts[sc.verdict.value] = counts.get(sc.verdict.value, 0) + 1
    known = [(v, counts.pop(v)) for v in VERDICT_ORDER if v in counts]
    return known + sorted(counts.items())


def area_summaries(run) -> list:
    """One AreaSummary per known area (empty ones too, so a missing area
    shows), then any other area the run used, alphabetically."""
    by_area = {area: AreaSummary(area, title) for area, title in AREAS}
    for sc in run.scenarios:
        if sc.area not in by_area:
            by_area[sc.area] = AreaSummary(sc.area, sc.area)
        by_area[sc.area].scenarios.append(sc)
    known = [by_area.pop(area) for area, _ in AREAS]
    return known + [by_area[a] for a in sorted(by_area)]


def banner(run) -> tuple:
    """(passed, one-line headline) of the whole run; a run stopped by a
    signal says so first and never passes."""
    total = len(run.scenarios)
    if total == 0:
        return False, "No scenarios were run"
    if run.interrupted:
        not_run = sum(sc.verdict.value == "NOT_RUN" for sc in run.scenarios)
        done = [sc for sc in run.scenarios if sc.verdict.value != "NOT_RUN"]
        bad = sum(sc.verdict.failed for sc in done)
        passed = sum(sc.verdict.passed for sc in done)
        return False, (f"Partial: interrupted by {run.interrupted}; {not_run} of {total} "
                       f"scenarios not run, {passed} passed, {bad} did not pass"
                       + _not_judged_text(run))
    bad = [sc for sc in run.scenarios if not sc.verdict.passed
           and sc.verdict.value != "NOT_JUDGED"]
    unsure = sum(1 for sc in run.scenarios if sc.unknowns and sc.verdict.passed)
    unsure_text = (f"; {unsure} passed with unknown checks (could not inspect)"
                   if unsure else "") + _not_judged_text(run)
    if not bad:
        judged = sum(sc.verdict.passed for sc in run.scenarios)
        if judged == total:
            return True, f"All {total} scenarios passed{unsure_text}"
        if judged == 0:
            return True, f"No scenario could be judged on this kernel{unsure_text}"
        return True, f"All {judged} judged scenarios passed{unsure_text}"
    kinds = ", ".join(f"{n} {v}" for v, n in verdict_counts(bad))
    return False, f"{len(bad)} of {total} scenarios did not pass ({kinds}){unsure_text}"


def _not_judged_text(run) -> str:
    """'; N not judged on this kernel (...)' or ''."""
    n = sum(1 for sc in run.scenarios if sc.verdict.value == "NOT_JUDGED")
    return (f"; {n} not judged on this kernel (it cannot observe the injected failure)"
            if n else "")
