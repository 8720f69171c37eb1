"""Points per scenario for grading (`vmcheck merge --points FILE`).

A course gives scenarios different weights in a TOML file:

    default = 1            # every scenario no rule matches (default: 1)

    [points]               # rules, first match wins
    "page-merge-par" = 5   # a scenario name
    "mmap-*" = 2           # a glob over names
    swap = 3               # an area

A scenario that passes earns its points, else 0 (autograder.json, the
summary). Rules that match no scenario of the run are reported, so a typo
does not silently give 1 point.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from harness.errors import UsageError
from harness.run.toml_lines import read_toml


def load_points(path: Path) -> tuple:
    """(rules [(pattern, points)], default) from PATH; UsageError with the
    file and key when the file is not valid."""
    table, _ = read_toml(path, "the points file")
    unknown = set(table) - {"default", "points"}
    if unknown:
        raise UsageError(f"{path}: unknown key {sorted(unknown)[0]!r} "
                         "(expected `default` and a [points] table)")
    default = _number(table.get("default", 1), path, "default")
    rules = table.get("points", {})
    if not isinstance(rules, dict):
        raise UsageError(f"{path}: `points` must be a table of pattern = number")
    return [(pattern, _number(value, path, f"points.{pattern}"))
            for pattern, value in rules.items()], default


def _number(value, path, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"{path}: {key} must be a number >= 0, not {value!r}")
    return float(value)


def matches(pattern: str, sc) -> bool:
    return sc.name == pattern or sc.area == pattern or fnmatch.fnmatchcase(sc.name, pattern)


def apply_points(run, rules: list, default: float) -> list:
    """Sets every scenario's points in RUN (a RunResult); returns the
    patterns that matched none of its scenarios."""
    used = set()
    for sc in run.scenarios:
        for pattern, points in rules:
            if matches(pattern, sc):
                sc.points = points
                used.add(pattern)
                break
        else:
            sc.points = default
    return [pattern for pattern, _ in rules if pattern not in used]
