"""Matching a run's console against a scenario's expected output.

Test lines are the lines programs and the kernel print for tests:
"(NAME) text" (msg/CHECK in user programs) and "NAME: exit(STATUS)"
(process exit). Modes:
  lines         the expected lines appear in this order (other lines may
                come between them)
  exact         the console's test lines are exactly the expected lines
  main-ordered  the test lines of the scenario's program ("(PROG) ..." and
                "PROG: exit(...)") are exactly the expected lines, in
                order, and all other test lines are exactly OTHER_LINES in
                any order (children running at once)
"""

from __future__ import annotations

import re
from collections import Counter

TEST_LINE = re.compile(r"^(\([^)\s]+\) .*|\([^)\s]+\)|[^\s:]+: exit\(-?\d+\))$")


def test_lines(console: str) -> list[str]:
    lines = (line.rstrip("\r") for line in console.splitlines())
    return [line for line in lines if TEST_LINE.match(line)]


def missing_in_order(console: str, expected) -> list[str]:
    """Expected lines not found, in order, among the console's lines."""
    lines = [line.rstrip("\r") for line in console.splitlines()]
    missing, i = [], 0
    for want in expected:
        j = next((k for k in range(i, len(lines)) if lines[k] == want), None)
        if j is None:
            missing.append(want)
        else:
            i = j + 1
    return missing


def _first_difference(want: list, got: list) -> str:
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            return f"test line {i + 1}: expected {w!r}, got {g!r}"
    if len(want) > len(got):
        return f"missing test line {len(got) + 1}: {want[len(got)]!r}"
    return f"unexpected extra test line: {got[len(want)]!r}"


def output_problem(console: str, mode: str, expected, other_lines=(), program: str = "") -> str | None:
    """None if the console matches, else a one-line description."""
    expected = list(expected)
    if mode == "lines":
        missing = missing_in_order(console, expected)
        return f"missing output line: {missing[0]!r}" if missing else None
    got = test_lines(console)
    if mode == "exact":
        return None if got == expected else _first_difference(expected, got)
    mine = [line for line in got if line.startswith(f"({program})") or
            line.startswith(f"{program}: exit(")]
    if mine != expected:
        return _first_difference(expected, mine)
    others = Counter(line for line in got if line not in set(mine))
    want = Counter(other_lines)
    if others != want:
        extra, lacking = others - want, want - others
        if lacking:
            return f"missing concurrent line: {next(iter(lacking))!r}"
        return f"unexpected concurrent line: {next(iter(extra))!r}"
    return None
