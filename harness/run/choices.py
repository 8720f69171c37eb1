"""Design choices a kernel family leaves to the student.

Some scenarios test a choice the reference kernel makes but an assignment
may leave open: which page a full pool evicts, whether a forked child
keeps the parent's mmap mappings, whether user mode may use I/O ports. A
FAIL there would blame a student for a choice the assignment gives them,
so an adapter names the choices its kernel family leaves open
(KernelAdapter.open_choices), and a scenario says where it depends on one:

- `assumes = ["NAME", ...]`: the scenario tests the choice itself; on a
  kernel that leaves it open the scenario is NOT_JUDGED, without booting
  (harness/run/runner.py, as for an injection the kernel cannot observe).
- `premise = "NAME"` on a checkpoint expectation: the expectation only
  says that the run set up what the scenario goes on to test (page 0 was
  evicted before its swap-in is checked). Where the choice is open and the
  premise does not hold, that expectation and every later expectation of
  the run are not judged (a note each, never a FAIL), since they check
  the moment the premise was to set up; the output, the exit, the
  invariants and the checks after the run are judged as always
  (harness/run/checkpoints.py, Premises).
- `output_needs_premise = true`: the program's own checks rely on the
  premise too (evict-dirty reads page 0's write-back from the file): then
  its exit and output are not judged either, and a run with nothing else
  wrong is NOT_JUDGED (harness/run/verdict.py, judge).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from harness.run.injection import unobservable
from oracles.model.machine_state import FAIL, NOT_JUDGED

# name -> what the choice is about (said in every NOT_JUDGED reason)
CHOICES = {
    "eviction-policy": "which page a full pool evicts",
    "fork-mmap": "whether a forked child is left without the parent's mmap mappings",
    "user-port-io": "whether user mode may use I/O ports",
    "stack-growth-extent": "whether a stack fault also allocates the untouched pages between "
                           "the faulting address and the stack",
}


def choice_check(names) -> Optional[str]:
    """The schema check of a scenario's `assumes` list (None when valid)."""
    for name in names:
        problem = premise_check(name)
        if problem:
            return problem
    return None


def premise_check(name) -> Optional[str]:
    """The schema check of one choice NAME (None when it is known)."""
    if name in CHOICES:
        return None
    return f"unknown choice {name!r} (known: {', '.join(sorted(CHOICES))})"


def open_choices(adapter) -> dict:
    """ADAPTER's open choices (KernelAdapter.open_choices; none for an
    adapter without the method, as injection.unobservable allows)."""
    ask = getattr(adapter, "open_choices", None)
    return dict(ask()) if ask else {}


def left_open(adapter, names) -> list[str]:
    """"NAME (what it is): why" for each of NAMES that ADAPTER's kernel
    family leaves to the student (KernelAdapter.open_choices)."""
    open_ones = open_choices(adapter)
    return [f"{name} ({CHOICES[name]}): {open_ones[name]}" for name in names
            if name in open_ones]


def not_judged_reason(adapter, sc, added_injections=()) -> Optional[str]:
    """Why ADAPTER's kernel would not judge SC at all, decided without
    booting: SC injects a failure the kernel cannot observe or carry out
    (harness/run/injection.py: unobservable), or SC tests a choice the
    kernel family leaves to the student (harness/run/choices.py); None if
    it would judge it."""
    reasons = []
    unseen = unobservable(adapter, (*sc.inject, *added_injections))
    if unseen:
        reasons.append(f"it has no way to observe or carry out the injection "
                       f"({'; '.join(unseen)})")
    choices = left_open(adapter, sc.assumes)
    if choices:
        reasons.append(f"the scenario tests what it leaves to the student ({'; '.join(choices)})")
    return "; ".join(reasons) or None


class Premises:
    """The premises of one run (module docstring): once an expectation
    marked `premise` fails on a kernel that leaves its choice open, that
    failure and every later expectation failure become NOT_JUDGED notes
    that name the unmet premise."""

    def __init__(self, adapter):
        self.open_choices = open_choices(adapter)
        self.unmet: Optional[str] = None   # why, once a premise did not hold

    def judge(self, results: list) -> list:
        """The findings of RESULTS, (Expectation, findings) pairs of one
        checkpoint, with the failures not judged once a premise is unmet."""
        for exp, found in results:
            if self.unmet is None and exp.premise in self.open_choices:
                failed = [v for v in found if v.outcome == FAIL]
                if failed:
                    self.unmet = (f"the premise ({failed[0]}) did not hold, and "
                                  f"{exp.premise} ({CHOICES[exp.premise]}) is the "
                                  f"kernel's choice: {self.open_choices[exp.premise]}")
        findings = [v for _, found in results for v in found]
        if self.unmet is None:
            return findings
        return [as_not_judged(v, self.unmet) if v.outcome == FAIL else v for v in findings]


def as_not_judged(failure, why: str):
    """FAILURE (a FAIL Violation) as a NOT_JUDGED note saying WHY."""
    seen = f" [expected: {failure.expected}; actual: {failure.actual}]" \
        if failure.expected is not None or failure.actual is not None else ""
    return dataclasses.replace(failure, outcome=NOT_JUDGED, message=f"{failure.message}{seen}; {why}")
