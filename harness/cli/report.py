"""`vmcheck report`: regenerate a report from saved results; and where
every command's report goes (publish).

    ./vmcheck report RESULTS_JSON [--report DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import config
from harness.errors import UsageError

DEFAULT_REPORT = config.REPO_ROOT / "reports" / "out"


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="regenerate a report from saved results")
    p.add_argument("results", type=Path, metavar="RESULTS_JSON")
    p.add_argument("--report", type=Path, default=DEFAULT_REPORT, metavar="DIR")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from harness.results.codec import load_run
    try:
        run = load_run(args.results)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{args.results}: not a vmcheck results file ({e})") from None
    print(f"report: {publish(run, args.report)}")
    return 0


def publish(run, folder: Path) -> Path:
    """RUN's results (results.json) and report (junit.xml, autograder.json,
    the HTML) in FOLDER; returns the path of its index.html."""
    from harness.results.codec import save_run
    from harness.results.model import RESULTS_FILE
    from reports import write_report
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_run(run, folder / RESULTS_FILE)
    return write_report(run, folder)
