"""`vmcheck` command line.

    ./vmcheck boot [options] -- PROGRAM [ARGS]   boot one program, stream the console
    ./vmcheck run [SCENARIO|GLOB|AREA]...        run scenarios, write a report
    ./vmcheck list [SCENARIO|GLOB|AREA]...       list scenarios
    ./vmcheck report RESULTS_JSON                regenerate a report
    ./vmcheck merge RESULTS_JSON... --report DIR merge shards' results into one report
    ./vmcheck explore SCENARIO --point P         fail the 1st, 2nd, ... call of P
    ./vmcheck replay SCHEDULE_FILE               reproduce a recorded run
    ./vmcheck debug SCENARIO [--at WHERE]        stop at the failure, open gdb there
    ./vmcheck coverage [SCENARIO]...             kernel coverage of the suite (gcovr HTML)
    ./vmcheck compare --kernel pintos-kaist:PATH a tree's `make check` next to our scenarios
    ./vmcheck grade ROSTER                       grade a class of submissions, one class report

Exit codes (docs/architecture.md): 0 passed / the program's status for `boot`, 1 a
failure result (kernel panic, triple fault), 2 usage or input error, 3
harness or infrastructure error. Every error is one message, no traceback.

Adding a subcommand: a module harness/cli/NAME.py with `register(subparsers)`
that adds a parser and sets `handler=` (a function taking the parsed args
and returning the exit code), using the option groups and builders of
harness/cli/options.py; list it in SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from harness import interrupt
from harness.cli import (boot, compare, coverage, debug, explore, grade, listing, merge, mutants,
                         replay, report, run)
from harness.cli.options import OneLineParser
from harness.errors import UsageError, VmcheckError


SUBCOMMANDS: list[Callable] = [boot.register, run.register, listing.register, report.register,
                               merge.register, explore.register, replay.register,
                               debug.register, coverage.register, mutants.register,
                               compare.register, grade.register]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="vmcheck",
                           description="Fault-injection and conformance harness for paging "
                                       "implementations in teaching kernels.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                       parser_class=OneLineParser)
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parses ARGV; words after the first `--` are the program command line
    (so program arguments may start with '-')."""
    tail: list[str] | None = None
    if "--" in argv:
        cut = argv.index("--")
        argv, tail = argv[:cut], argv[cut + 1:]
    args = build_parser().parse_args(argv)
    if tail is not None:
        if not hasattr(args, "program"):
            raise UsageError(f"{args.command}: takes no `-- PROGRAM` part")
        if args.program:
            raise UsageError(f"{args.command}: give the program either before or after `--`, "
                             "not both")
        args.program = tail
    return args


def main(argv: list[str] | None = None) -> int:
    """Runs one command. SIGINT, SIGTERM and SIGHUP stop every command the
    same way (harness/interrupt.py): machines killed at once, what the
    command has written out (a partial report), exit 128 + the signal."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        with interrupt.handling():
            args = parse_args(argv)
            code = args.handler(args)
    except VmcheckError as e:
        sys.stdout.flush()
        print(f"vmcheck: error: {e}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        code = 130
    stopped = interrupt.exit_code()
    if stopped is not None:
        sys.stdout.flush()
        print(f"vmcheck: stopped: interrupted by {interrupt.signal_name(stopped - 128)}",
              file=sys.stderr)
        return stopped
    return code
