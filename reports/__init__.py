"""Reports of a suite run, rendered from its results (results/):
HTML, JUnit XML, Gradescope JSON. Reports only render: results.json and
the replay schedules are written by the harness (harness/cli/report.py,
harness/run/runner.py).

    render_report(run, out_dir) -> Path   the HTML folder; returns index.html
    write_junit(run, path)                JUnit XML for CI systems
    write_autograder(run, path)           Gradescope's results format
    write_report(run, out_dir) -> Path    all three; returns index.html

`/usr/bin/python3 -m reports RESULTS_JSON... OUT_DIR` regenerates a report
from saved results (merging shards when given several).
"""

from __future__ import annotations

from pathlib import Path

from reports.autograder import write_autograder
from reports.html import render_report
from reports.junit import write_junit

__all__ = ["render_report", "write_junit", "write_autograder", "write_report"]


def write_report(run, out_dir: Path) -> Path:
    """junit.xml, autograder.json and the HTML report of RUN in OUT_DIR
    (which links the results.json already there); returns the path of
    index.html."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_junit(run, out_dir / "junit.xml")
    write_autograder(run, out_dir / "autograder.json")
    return render_report(run, out_dir)
