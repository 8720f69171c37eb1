"""The HTML report: a self-contained folder that opens from disk.

    OUT/index.html                 summary: verdicts by area, scenario table
    OUT/scenarios/<name>.html      one page per scenario
    OUT/static/report.css, .js     styles and the table sorting/filtering
    OUT/schedules/<name>-<file>    copies of replay schedules

No page loads anything from the network. Every value goes through
jinja2's autoescaping.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import jinja2

from results.model import RESULTS_FILE
from reports import scenario_view, summary_view
from reports.hang_view import hang_view
from reports.pages_view import STATES
from reports.text import hex_or_dash, printable, unique_slugs

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
# What render_report writes into OUT (and removes first, so no stale page stays).
OWNED = ("index.html", "scenarios", "static", "schedules")
DATA_FILES = (RESULTS_FILE, "junit.xml", "autograder.json")


def _number(value: float) -> str:
    return f"{value:g}"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(hex=hex_or_dash, seconds=lambda s: f"{s:.2f}",
                       num=_number, printable=printable, outcome=outcome_class)
    env.globals.update(STATES=STATES)
    return env


def outcome_class(verdict) -> str:
    """The CSS class of a Verdict's banner and table row: pass, fail,
    partial (NOT_RUN: no verdict yet) or not-judged (NOT_JUDGED: neither)."""
    return {"PASS": "pass", "NOT_RUN": "partial", "NOT_JUDGED": "not-judged"}.get(
        verdict.value, "fail")


def _clear(out_dir: Path) -> None:
    for name in OWNED:
        path = out_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _schedule_source(sc) -> Optional[Path]:
    """The scenario's schedule file on disk (relative paths are tried
    against its artifacts folder, then the working directory)."""
    if not sc.schedule_file:
        return None
    path = Path(sc.schedule_file)
    candidates = [path] if path.is_absolute() else (
        ([Path(sc.artifacts) / path] if sc.artifacts else []) + [path])
    return next((p for p in candidates if p.is_file()), None)


def _copy_schedule(sc, out_dir: Path, slug: str) -> Optional[str]:
    """Copies the schedule into OUT/schedules; its link from a scenario page."""
    source = _schedule_source(sc)
    if source is None:
        return None
    target = out_dir / "schedules" / f"{slug}-{source.name}"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, target)
    return f"../schedules/{target.name}"


def _scenario_page(env, run, sc, slug: str, out_dir: Path) -> str:
    events, ordered = scenario_view.timeline(sc)
    console, omitted = scenario_view.console_lines(sc.console)
    return env.get_template("scenario.html.j2").render(
        root="../", run=run, sc=sc, failures=scenario_view.failures(sc),
        unknown_groups=sc.unknown_groups(),
        checkpoints=scenario_view.checkpoint_views(sc, run.address_layout), events=events,
        events_ordered=ordered, faults=[
            (f, scenario_view.disassembly(f), scenario_view.error_code_text(f),
             scenario_view.fault_spt_fields(f)) for f in sc.faults],
        console=console, console_omitted=omitted, hang=hang_view(sc),
        schedule_link=_copy_schedule(sc, out_dir, slug))


def _summary_page(env, run, pages: list, out_dir: Path) -> str:
    passed, headline = summary_view.banner(run)
    rows = [(sc, page, len(scenario_view.failures(sc)))
            for sc, page in zip(run.scenarios, pages)]
    return env.get_template("summary.html.j2").render(
        root="", run=run, passed=passed, headline=headline, rows=rows,
        areas=summary_view.area_summaries(run),
        verdicts=summary_view.verdict_counts(run.scenarios),
        verdict_order=summary_view.VERDICT_ORDER,
        points=sum(sc.points_earned for sc in run.scenarios),
        not_judged=[row for row in rows if row[0].verdict.value == "NOT_JUDGED"],
        unknown_total=sum(len(sc.unknowns) for sc in run.scenarios),
        unknown_scenarios=sum(1 for sc in run.scenarios if sc.unknowns),
        max_points=sum(sc.points_possible for sc in run.scenarios),
        data_files=[name for name in DATA_FILES if (out_dir / name).is_file()])


def render_report(run, out_dir: Path) -> Path:
    """Writes the HTML report of RUN (a RunResult) into OUT_DIR and returns
    the path of its index.html. Files render_report owns in OUT_DIR are
    replaced; results.json / junit.xml / autograder.json already there are
    linked from the summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear(out_dir)
    shutil.copytree(STATIC, out_dir / "static")
    (out_dir / "scenarios").mkdir()
    env = environment()
    slugs = unique_slugs(sc.name for sc in run.scenarios)
    pages = [f"scenarios/{slug}.html" for slug in slugs]
    for sc, slug, page in zip(run.scenarios, slugs, pages):
        (out_dir / page).write_text(_scenario_page(env, run, sc, slug, out_dir),
                                    encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(_summary_page(env, run, pages, out_dir), encoding="utf-8")
    return index
