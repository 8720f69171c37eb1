"""`vmcheck report`: regenerate a report from saved results; and where
every command's report goes (publish).

    ./vmcheck report [RESULTS_JSON] [--report DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import config
from harness.cli.options import add_report_option
from harness.errors import UsageError

def register(subparsers) -> None:
    from results.model import RESULTS_FILE
    p = subparsers.add_parser("report", help="regenerate a report from saved results")
    default = config.RUN_REPORT / RESULTS_FILE
    p.add_argument("results", type=Path, nargs="?", default=default, metavar="RESULTS_JSON",
                   help=f"the results to report (default: {config.shown(default)})")
    add_report_option(p, config.RUN_REPORT)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from results.codec import load_run
    try:
        run = load_run(args.results)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{args.results}: not a vmcheck results file ({e})") from None
    index = publish(run, args.report)
    print(f"report: {index}")
    return 0


def publish(run, folder: Path) -> Path:
    """RUN's results (results.json) and report (junit.xml, autograder.json,
    the HTML) in FOLDER; returns the path of its index.html."""
    from results.codec import save_run
    from results.model import RESULTS_FILE
    from reports import write_report
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_run(run, folder / RESULTS_FILE)
    return write_report(run, folder)
