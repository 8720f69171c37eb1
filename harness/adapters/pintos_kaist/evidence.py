"""Choosing which member of a student's struct plays a role (the writable
flag, the swap slot...) by what the running kernel does with it, not by
what the member is called.

A Narrowing holds the candidates for one role. Each sample of the running
kernel (one process at one checkpoint) gives a Trial per candidate: the
pages it was tried on, its value there and whether that value fits the
role (harness/adapters/pintos_kaist/roles.py says what fits). Then:

  * a candidate that does not fit a sample is dropped, unless no
    candidate fits it: then the kernel itself is inconsistent there (a
    bug the oracles will report), and the sample is set aside and counted;
  * the role is decided when every candidate left has fitted at least one
    sample, all of them gave the same values on every page (they are one
    value: union members that alias, or copies), and those values were
    not all equal (a member that is always 0 fits everything and tells
    nothing apart). The name hints only order equal candidates;
  * otherwise the role is unknown, and `note()` says why: no evidence yet
    (e.g. no page was swapped out so far), or which members are still
    ambiguous, or that no member fits.

Decisions are re-checked at every sample, so one taken on little evidence
is refined as more arrives. A course's layout mapping fixes a role
(`fixed`), and then no evidence is needed.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Optional

Trial = list            # [(page key, value, fits)], or None: nothing to try on


@dataclasses.dataclass(eq=False)
class Candidate:
    """One member (or member pair) that could play the role. PAYLOAD is
    what the role's rule needs; PLACE the bytes it reads (candidates with
    one place are one value: union members that alias); HINTED whether
    its name says it plays the role; PREFERENCE orders equal candidates
    (lower first)."""
    label: str
    payload: object
    place: object = None
    hinted: bool = False
    preference: tuple = ()
    fitted: int = 0          # samples it fitted
    matched: int = 0         # pages it fitted, over every informative sample
    tried: int = 0           # pages it was tried on
    trace: int = 0           # hash of every (page, value) it fitted with, sample by sample
    values: frozenset = frozenset()   # up to two distinct values seen


_UNKNOWN = object()
_KEY_VALUE = operator.itemgetter(0, 1)     # (page key, value) of a trial's entry
_FITS = operator.itemgetter(2)             # and whether it fits


class Narrowing:
    """The candidates for ROLE and what the samples so far say of them.
    EVIDENCE describes a match for the note, with {matched} and {tried}
    ("matched the ELF flags on {matched}/{tried} pages"); NEEDS says what
    a deciding sample must contain ("an anonymous page swapped out")."""

    def __init__(self, role: str, candidates: list, evidence: str, needs: str,
                 fixed: Optional[Candidate] = None, fixed_by: str = "named in the layout mapping",
                 empty_why: str = "no member of a suitable type"):
        self.role, self.evidence, self.needs = role, evidence, needs
        self.alive = list(candidates)
        self.fixed, self.fixed_by = fixed, fixed_by
        self.empty, self.empty_why = not candidates, empty_why
        self.set_aside = 0
        self.best_misfit = ""        # when no candidate fits: the closest one
        self.decided_at: Optional[str] = None
        self._last: Optional[Candidate] = None
        self._decided: object = _UNKNOWN   # `decided`, until the next observe()

    def observe(self, trials: dict, where: str) -> None:
        """One sample: candidate -> Trial (None: the sample says nothing
        about it). WHERE names the sample for the note."""
        if self.fixed is not None:
            return
        self._decided = _UNKNOWN
        tried = {c: t for c, t in trials.items() if c in self.alive and t}
        if not tried:
            return
        fitting = [c for c, t in tried.items() if all(map(_FITS, t))]
        if not fitting:
            self.set_aside += 1
            best = max(tried, key=lambda c: sum(f for _, _, f in tried[c]) / len(tried[c]))
            self.best_misfit = (f"{best.label} fits {sum(f for _, _, f in tried[best])}/"
                                f"{len(tried[best])} pages at {where}")
            return
        for c, trial in tried.items():
            c.tried += len(trial)
            c.matched += sum(map(bool, map(_FITS, trial)))
        self.alive = [c for c in self.alive if c not in tried or c in fitting]
        for c in fitting:
            c.fitted += 1
            c.trace = hash((c.trace, tuple(map(_KEY_VALUE, tried[c]))))
            for _, value, _ in tried[c] if len(c.values) < 2 else ():
                c.values = c.values | {value}
                if len(c.values) == 2:
                    break
        chosen = self.decided
        if chosen is not self._last:
            self._last, self.decided_at = chosen, (where if chosen is not None else None)

    @property
    def decided(self) -> Optional[Candidate]:
        """The candidate that plays the role, None while undecided. Among
        candidates that fitted with the same values everywhere, members at
        one place are one value; members at several places (copies) are
        told apart only by a name hint on exactly one of those places.
        Worked out once per sample: a capture asks it for every page."""
        if self._decided is _UNKNOWN:
            self._decided = self._decide()
        return self._decided

    def _decide(self) -> Optional[Candidate]:
        if self.fixed is not None:
            return self.fixed
        alive = self.alive
        if not alive or any(c.fitted == 0 for c in alive):
            return None
        if len({c.trace for c in alive}) > 1 or len(alive[0].values) < 2:
            return None
        if len({c.place for c in alive}) > 1:
            alive = [c for c in alive if c.hinted]
            if len({c.place for c in alive}) != 1:
                return None
        return min(alive, key=lambda c: c.preference)

    def note(self) -> str:
        """One line: which member plays the role and how that was found,
        or why the role is unknown."""
        chosen = self.decided
        if self.fixed is not None:
            return f"{self.role} = {self.fixed.label} ({self.fixed_by})"
        if chosen is not None:
            how = self.evidence.format(matched=chosen.matched, tried=chosen.tried)
            same = [c.label for c in self.alive if c is not chosen]
            also = f"; {', '.join(same)} held the same values" if same else ""
            return f"{self.role} = {chosen.label} ({how}, decided at {self.decided_at}{also})"
        return f"{self.role}: unknown ({self.why_unknown()})"

    def why_unknown(self) -> str:
        aside = (f"; {self.set_aside} sample(s) fit no member, e.g. {self.best_misfit}"
                 if self.set_aside else "")
        if self.empty:
            return self.empty_why
        if all(c.fitted == 0 for c in self.alive):
            if self.set_aside:
                return f"no member fits: {self.best_misfit}"
            return f"not seen yet: {self.needs}"
        if len(self.alive[0].values) < 2 and len({c.trace for c in self.alive}) == 1:
            return f"not decided yet: the values seen so far are all equal ({self.needs})" + aside
        same = " held the same values" if len({c.trace for c in self.alive}) == 1 else " fit"
        return "ambiguous: " + ", ".join(c.label for c in self.alive) + same + " so far" + aside
