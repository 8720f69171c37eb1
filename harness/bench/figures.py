"""One benchmark figure, printed beside its target, and the JSON file the
benchmarks write with --json:

    {"benchmark": "overhead", "runs": 5,
     "host": {"cpus": 2, "load": [1.2, 0.9, 0.7]},
     "figures": [{"key": "capture_ms", "label": "...", "value": 12.3, "unit": "ms",
                  "target": 20.0, "met": true}, ...]}

A target is an upper bound; a figure without one has "target": null and
"met": null. The host's load average (1, 5, 15 minutes, os.getloadavg) is
taken when the file is written: the figures of a loaded host are slower.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Optional, TextIO


@dataclass(frozen=True)
class Figure:
    key: str                 # stable name for tools
    label: str               # what it measures, for people
    value: float
    unit: str                # "ms", "x" (a ratio), "/s"
    target: Optional[float] = None   # upper bound, None: none

    @property
    def met(self) -> Optional[bool]:
        return None if self.target is None else self.value <= self.target

    def shown(self) -> str:
        digits = 0 if self.unit == "/s" or self.value >= 100 else (2 if self.unit == "x" else 1)
        return f"{self.value:.{digits}f} {self.unit}"

    def as_json(self) -> dict:
        return {"key": self.key, "label": self.label, "value": round(self.value, 3),
                "unit": self.unit, "target": self.target, "met": self.met}


def host() -> dict:
    return {"cpus": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()]}


def print_figures(title: str, figures: list[Figure], out: Optional[TextIO] = None) -> None:
    out = out or sys.stdout
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{title}; host load average {load} on {os.cpu_count()} CPUs:", file=out)
    for f in figures:
        target = "" if f.target is None else \
            f"<= {f.target:g} {f.unit} " + ("ok" if f.met else "MISSED")
        print(f"  {f.label:<62} {f.shown():>12}  {target}", file=out)


def figures_json(benchmark: str, runs: int, figures: list[Figure]) -> dict:
    return {"benchmark": benchmark, "runs": runs, "host": host(),
            "figures": [f.as_json() for f in figures]}


def write_json(path: str, benchmark: str, runs: int, figures: list[Figure]) -> None:
    """The figures as JSON to PATH ('-': standard output)."""
    text = json.dumps(figures_json(benchmark, runs, figures), indent=2) + "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        with open(path, "w") as out:
            out.write(text)
