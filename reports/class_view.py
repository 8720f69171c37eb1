"""The class report of `vmcheck grade`: one page over every submission.

    DIR/index.html    heat map (submissions x scenarios, verdict colours,
                      sortable, filterable by area), the scenarios most
                      often not passed, submissions grouped by failure
                      signature; each cell links to the submission's own
                      scenario page (DIR/submissions/NAME/scenarios/...)
    DIR/grades.csv    one row per submission: build status, points per
                      area, total
    DIR/junit.xml     every submission's testsuites (NAME/AREA), for CI
    DIR/static/       the report's stylesheet and script

It opens from disk and loads nothing from the network. Its input is the
SubmissionResults of results/grade.py (names, cells, signature).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
from pathlib import Path
from typing import Optional

from reports.html import STATIC, environment
from reports.junit import write_class_junit
from reports.summary_view import AREAS, VERDICT_ORDER
from reports.text import unique_slugs

# One letter per verdict in a heat-map cell (the colour says it too).
CODES = {"PASS": "✓", "FAIL": "F", "KERNEL_PANIC": "P", "TRIPLE_FAULT": "T", "HANG": "H",
         "BUILD_FAILED": "B", "HARNESS_ERROR": "E", "NOT_JUDGED": "·", "NOT_RUN": "–"}
GRADES_CSV = "grades.csv"


@dataclasses.dataclass
class ClassInput:
    """What the class report is made of. NAMES: every submission of the
    roster (or shard), in roster order; RESULTS: the finished ones by name;
    SCENARIOS: [(name, area)] graded, suite order."""
    names: list
    results: dict
    scenarios: list
    title: str = "class"
    notes: list = dataclasses.field(default_factory=list)
    stopped: bool = False


@dataclasses.dataclass
class Column:
    name: str
    area: str
    not_passed: int
    graded: int
    causes: list            # [(cause, count)] most common first


@dataclasses.dataclass
class Cell:
    verdict: str
    code: str
    rank: int               # for sorting a column: PASS first
    title: str
    href: Optional[str]


def _rank(verdict: str) -> int:
    return VERDICT_ORDER.index(verdict) if verdict in VERDICT_ORDER else len(VERDICT_ORDER)


def columns(data: ClassInput) -> list:
    """The scenarios as columns, the most often not passed first (then in
    suite order), each with its most common causes."""
    out = []
    for name, area in data.scenarios:
        cells = [cell for r in data.results.values() for cell in r.cells if cell.name == name]
        causes: dict = {}
        for cell in cells:
            if cell.failed:
                causes[cell.cause] = causes.get(cell.cause, 0) + 1
        ranked = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(Column(name, area, sum(causes.values()), len(cells), ranked))
    order = {name: i for i, (name, _) in enumerate(data.scenarios)}
    return sorted(out, key=lambda c: (-c.not_passed, order[c.name]))


def _cells(result, cols: list) -> list:
    """RESULT's cells in the order of COLS, linked to its scenario pages."""
    slugs = dict(zip([c.name for c in result.cells],
                     unique_slugs(c.name for c in result.cells)))
    by_name = {c.name: c for c in result.cells}
    out = []
    for col in cols:
        cell = by_name.get(col.name)
        if cell is None:
            out.append(Cell("", "", len(VERDICT_ORDER) + 1, f"{col.name}: not graded", None))
            continue
        title = f"{result.name} · {col.name}: {cell.verdict}"
        if cell.reason and not cell.passed:
            title += f" — {cell.reason}"
        href = f"submissions/{result.name}/scenarios/{slugs[col.name]}.html"
        out.append(Cell(cell.verdict, CODES.get(cell.verdict, "?"), _rank(cell.verdict),
                        title, href))
    return out


def signature_groups(results: dict) -> list:
    """[(signature, [names])] of the submissions that did not pass
    everything, largest group first; a signature is the failing scenarios
    with their causes (SubmissionResult.signature())."""
    groups: dict = {}
    for name, result in results.items():
        signature = result.signature()
        if signature:
            groups.setdefault(signature, []).append(name)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))


def area_points(result) -> dict:
    """{area: (earned, max)} over RESULT's cells."""
    out: dict = {}
    for cell in result.cells:
        earned, most = out.get(cell.area, (0.0, 0.0))
        out[cell.area] = (earned + cell.earned, most + cell.possible)
    return out


def grades_csv(data: ClassInput) -> str:
    """One row per submission: name, source, commit, build, passed,
    scenarios judged (NOT_JUDGED ones left out), points per area, total
    and maximum (at stake); '' for one not graded yet."""
    areas = [a for a, _ in AREAS if any(area == a for _, area in data.scenarios)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "source", "commit", "build", "passed", "scenarios",
                     *areas, "total", "max"])
    for name in data.names:
        result = data.results.get(name)
        if result is None:
            writer.writerow([name, "", "", "not graded", *[""] * (len(areas) + 4)])
            continue
        identity = result.identity
        source = identity.get("path") or f"{identity.get('repo')}@{identity.get('commit')}"
        points = area_points(result)
        writer.writerow([name, source, result.commit or "",
                         "ok" if result.built else "BUILD_FAILED",
                         sum(c.passed for c in result.cells),
                         sum(not c.not_judged for c in result.cells),   # judged ones
                         *[f"{points.get(a, (0.0, 0.0))[0]:g}" for a in areas],
                         f"{result.earned:g}", f"{result.max_points:g}"])
    return out.getvalue()


def _rows(data: ClassInput, cols: list) -> list:
    rows = []
    for name in data.names:
        result = data.results.get(name)
        cells = _cells(result, cols) if result else []
        rows.append({"name": name, "result": result, "cells": cells,
                     "passed": sum(c.passed for c in result.cells) if result else 0,
                     "status": ("not graded" if result is None else
                                "ok" if result.built else "BUILD_FAILED")})
    return rows


def render_class(data: ClassInput, out_dir: Path) -> Path:
    """Writes index.html, grades.csv and static/ into OUT_DIR (the class
    folder); returns the path of index.html."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_dir / "static", ignore_errors=True)
    shutil.copytree(STATIC, out_dir / "static")
    cols = columns(data)
    graded = [data.results[n] for n in data.names if n in data.results]
    page = environment().get_template("class.html.j2").render(
        root="", data=data, columns=cols, rows=_rows(data, cols),
        groups=signature_groups({r.name: r for r in graded}),
        areas=[(a, t) for a, t in AREAS if any(c.area == a for c in cols)],
        graded=len(graded), built=sum(r.built for r in graded),
        all_passed=sum(1 for r in graded if not r.signature()),
        codes=[(v, CODES[v]) for v in VERDICT_ORDER])
    (out_dir / GRADES_CSV).write_text(grades_csv(data), encoding="utf-8")
    write_class_junit([(r.name, out_dir / "submissions" / r.name / "junit.xml") for r in graded],
                      out_dir / "junit.xml")
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
