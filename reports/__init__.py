"""Reports of a suite run: HTML, JUnit XML, Gradescope JSON, merged shards.

    render_report(run, out_dir) -> Path   the HTML folder; returns index.html
    write_junit(run, path)                JUnit XML for CI systems
    write_autograder(run, path)           Gradescope's results format
    write_report(run, out_dir) -> Path    all of them plus results.json
    merge_runs(runs) / merge_files(paths) shards -> one RunResult

`/usr/bin/python3 -m reports RESULTS_JSON... OUT_DIR` regenerates a report
from saved results (merging shards when given several).
"""

from __future__ import annotations

from pathlib import Path

from reports.autograder import write_autograder
from reports.html import render_report
from reports.junit import write_junit
from harness.results.merge import MergeError, merge_files, merge_runs

__all__ = ["render_report", "write_junit", "write_autograder", "write_report",
           "merge_runs", "merge_files", "MergeError"]


def write_report(run, out_dir: Path) -> Path:
    """results.json, junit.xml, autograder.json and the HTML report of RUN
    in OUT_DIR, and the replay schedule of each failing run with injections
    (OUT/schedule-files); returns the path of index.html."""
    from harness.run.schedule import write_schedule
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for sc in run.scenarios:      # outside OUT/schedules, which render_report rebuilds
        if sc.schedule and not sc.verdict.passed and not sc.schedule_file:
            sc.schedule_file = str(write_schedule(sc.schedule, out_dir / "schedule-files"))
    run.save(out_dir / "results.json")
    write_junit(run, out_dir / "junit.xml")
    write_autograder(run, out_dir / "autograder.json")
    return render_report(run, out_dir)
