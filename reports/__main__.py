"""Regenerate a report from saved results:

    /usr/bin/python3 -m reports RESULTS_JSON [RESULTS_JSON...] OUT_DIR

Several results files (shards) are merged first. Writes OUT_DIR/index.html
with the scenario pages, junit.xml, autograder.json and results.json.
Exit status: 0 written, 2 bad input (one-line message on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from results.codec import save_run
from results.merge import MergeError, merge_files
from results.model import RESULTS_FILE
from reports import write_report


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv=None) -> int:
    parser = _Parser(prog="python3 -m reports",
                     description="Write the HTML/JUnit/Gradescope report of saved results.")
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS_JSON",
                        help="results.json of a run; several are merged (shards)")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR",
                        help="folder to write the report into")
    parser.add_argument("--allow-partial", action="store_true",
                        help="merge even if some shards are missing (default: refuse)")
    args = parser.parse_args(argv)
    try:
        run = merge_files(args.results, allow_partial=args.allow_partial)
        if args.out_dir.exists() and not args.out_dir.is_dir():
            raise MergeError(f"{args.out_dir}: exists and is not a folder")
        args.out_dir.mkdir(parents=True, exist_ok=True)
        save_run(run, args.out_dir / RESULTS_FILE)
        index = write_report(run, args.out_dir)
    except MergeError as bad:
        print(f"reports: error: {bad}", file=sys.stderr)
        return 2
    except OSError as bad:
        print(f"reports: error: cannot write the report: {bad}", file=sys.stderr)
        return 2
    passed = sum(1 for sc in run.scenarios if sc.verdict.passed)
    print(f"report: {index} ({passed}/{len(run.scenarios)} scenarios passed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
