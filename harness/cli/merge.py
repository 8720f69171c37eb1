"""`vmcheck merge`: one report from the results of several shards.

    ./vmcheck merge out-*/results.json --report merged [--points FILE]
                    [--markdown FILE] [--allow-partial]

Each CI matrix job runs `./vmcheck run --shard K/N --report out-K`; the
final job merges their results.json files (results/merge.py refuses
results of different kernels, a shard given twice, shards of different
splits and, unless --allow-partial, a missing shard) and writes the HTML,
JUnit and JSON report of the whole suite. --points weighs scenarios
(harness/course/points.py); --markdown appends a summary table to FILE (GitHub's
$GITHUB_STEP_SUMMARY). Exit status: 0 if every scenario passed, 1 if one
failed, 2 if the results cannot be merged.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import UsageError

EXIT_FAILED = 1
REASON_CHARS = 160


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "merge", help="merge shards' results into one report",
        description="Merge the results.json files of `vmcheck run --shard K/N` jobs (or of "
                    "separate runs of one kernel) into one report. Exit status 1 if any "
                    "scenario failed, 2 if the results cannot be merged.")
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS_JSON",
                   help="results.json files, e.g. out-*/results.json")
    p.add_argument("--report", type=Path, required=True, metavar="DIR",
                   help="folder for the merged report (HTML, junit.xml, results.json, "
                        "autograder.json)")
    p.add_argument("--points", type=Path, default=None, metavar="FILE",
                   help="points per scenario, TOML (see ci/README.md; default: 1 each)")
    p.add_argument("--markdown", type=Path, default=None, metavar="FILE",
                   help="append a Markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY)")
    p.add_argument("--allow-partial", action="store_true",
                   help="merge even if some shards are missing (default: refuse)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from harness.cli.report import publish
    from results.merge import MergeError, load_results, merge_runs
    from reports.summary_table import summary_table
    try:
        # merge_runs even for one file: a lone shard of several is refused
        runs = [load_results(path) for path in args.results]
        run = merge_runs(runs, [str(path) for path in args.results],
                         allow_partial=args.allow_partial)
    except MergeError as e:
        raise UsageError(f"merge: {e}") from None
    if args.points is not None:
        from harness.course.points import apply_points, load_points
        unused = apply_points(run, *load_points(args.points))
        for pattern in unused:
            print(f"vmcheck: warning: {args.points}: {pattern!r} matches no scenario of this run")
    print(summary_table(run))
    index = publish(run, args.report)
    print(f"report: {index}")
    if args.markdown is not None:
        with open(args.markdown, "a", encoding="utf-8") as out:
            out.write(markdown_summary(run))
    return 0 if run.passed else EXIT_FAILED


def _cell(text: str) -> str:
    """TEXT as one Markdown table cell: one line, no pipe, bounded."""
    one_line = " ".join(str(text).split()).replace("|", "\\|")
    return one_line if len(one_line) <= REASON_CHARS else one_line[:REASON_CHARS - 1] + "…"


def _bold_if(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text


def markdown_summary(run) -> str:
    """The headline, a table by area, the scenarios that did not pass and,
    folded, every scenario."""
    from reports.summary_view import area_summaries, banner
    _, headline = banner(run)
    earned = sum(sc.points_earned for sc in run.scenarios)
    total = sum(sc.points_possible for sc in run.scenarios)
    lines = [f"## vmcheck: {headline}", "",
             f"Kernel `{run.kernel}`, {len(run.scenarios)} scenarios, points "
             f"**{earned:g} / {total:g}**, {run.duration_s:.0f} s.", "",
             "| area | passed | not passed | unknown checks | points |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {a.title} | {a.passed} | {a.not_passed} | {a.unknown_checks} | "
              f"{a.points:g} / {a.max_points:g} |" for a in area_summaries(run) if a.total]
    bad = [sc for sc in run.scenarios if not sc.verdict.passed]
    if bad:   # NOT_JUDGED ones too, not in bold: not failures
        lines += ["", "| scenario | area | verdict | reason |", "|---|---|---|---|"]
        lines += [f"| {_cell(sc.name)} | {sc.area} | {_bold_if(sc.verdict.value, sc.verdict.judged)} "
                  f"| {_cell(sc.reason)} |" for sc in bad]
    lines += ["", "<details><summary>All scenarios</summary>", "",
              "| scenario | area | verdict | points | time |", "|---|---|---|---:|---:|"]
    lines += [f"| {_cell(sc.name)} | {sc.area} | {sc.verdict.value} | "
              f"{sc.points_earned:g} / {sc.points_possible:g} | {sc.duration_s:.1f} s |"
              for sc in run.scenarios]
    lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"
