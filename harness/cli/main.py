"""`vmcheck` command line.

    ./vmcheck boot [options] -- PROGRAM [ARGS]   boot one program, stream the console
    ./vmcheck run [SCENARIO|GLOB|AREA]...        run scenarios, write a report
    ./vmcheck list [SCENARIO|GLOB|AREA]...       list scenarios
    ./vmcheck report RESULTS_JSON                regenerate a report
    ./vmcheck merge RESULTS_JSON... --report DIR merge shards' results into one report
    ./vmcheck explore SCENARIO --point P         fail the 1st, 2nd, ... call of P
    ./vmcheck replay SCHEDULE_FILE               reproduce a recorded run
    ./vmcheck coverage [SCENARIO]...             kernel coverage of the suite (gcovr HTML)
    ./vmcheck compare --kernel pintos-kaist:PATH a tree's `make check` next to our scenarios

Exit codes (DESIGN.md): 0 passed / the program's status for `boot`, 1 a
failure result (kernel panic, triple fault), 2 usage or input error, 3
harness or infrastructure error. Every error is one message, no traceback.

Adding a subcommand: write `register(subparsers)` that adds a parser and
sets `handler=` (a function taking the parsed args and returning the exit
code), optionally using add_common_options()/machine_options(), and list
it in SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from harness import config, interrupt
from harness.errors import UsageError, VmcheckError


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def int_in_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value
    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that boots a kernel shares."""
    group = parser.add_argument_group("machine")
    group.add_argument("--kernel", default="reference", metavar="K",
                       help="kernel: `reference` or `pintos-kaist:PATH` (default: reference)")
    group.add_argument("--accel", choices=("tcg", "kvm"), default="tcg",
                       help="QEMU accelerator (default: tcg; kvm allows hardware breakpoints only)")
    group.add_argument("--no-icount", dest="icount", action="store_false",
                       help="do not use the deterministic instruction-count clock "
                            "(default: -icount shift=0,sleep=off under tcg)")
    group.add_argument("--timeout-scale", type=positive_float, default=None, metavar="X",
                       help="multiply every wall-clock timeout by X; guest-time limits "
                            "(-icount) are not scaled (default: $VMCHECK_TIMEOUT_SCALE or 1)")
    group.add_argument("--keep", action="store_true",
                       help="keep every run directory whole, disk images included (sparse), "
                            "and print its path (default: a failed run keeps console.log and "
                            "qemu-stderr.log only, plus the file-system image, gzipped, when "
                            "a file-system check failed)")


def add_strict_option(parser: argparse.ArgumentParser) -> None:
    """--strict, for commands that judge scenarios."""
    parser.add_argument("--strict", action="store_true",
                        help="an UNKNOWN check (the harness could not inspect what it needs) "
                             "fails the scenario (default: it passes, with a note naming it)")


def machine_options(args: argparse.Namespace, **overrides):
    """MachineOptions from the common options (imports the machine layer
    only for commands that boot)."""
    from harness.machine.qemu import MachineOptions
    scale = args.timeout_scale if args.timeout_scale is not None else config.env_timeout_scale()
    return MachineOptions(accel=args.accel, icount=args.icount, keep=args.keep,
                          timeouts=config.Timeouts(scale=scale), **overrides)


# ---- boot ----

def register_boot(subparsers) -> None:
    p = subparsers.add_parser(
        "boot", help="boot one program and stream the console",
        description="Boot the kernel, run PROGRAM with ARGS, stream the console to stdout, and "
                    "exit with the program's exit status (1 if the kernel panicked or reset, "
                    "2 on bad arguments, 3 on a harness error or a timeout).")
    add_common_options(p)
    p.add_argument("--mem", type=int_in_range(2, 4096), default=config.DEFAULT_MEM_MB,
                   metavar="MB", help=f"guest RAM in MiB (default: {config.DEFAULT_MEM_MB})")
    p.add_argument("--swap-mb", type=int_in_range(0, 4096), default=0, metavar="N",
                   help="swap disk size in MiB, 0 for none (default: 0)")
    p.add_argument("--put", action="append", default=[], metavar="FILE",
                   help="also put FILE (a host file, or the name of a built program) in the "
                        "file system; repeatable")
    p.add_argument("--timeout", type=positive_float, default=config.DEFAULT_RUN_TIMEOUT_S,
                   metavar="S", help="seconds until power-off: guest seconds under -icount "
                                     "(the default; a wall-clock net of 3 x S x scale), "
                                     "wall-clock seconds x scale with --no-icount or kvm "
                                     f"(default: {config.DEFAULT_RUN_TIMEOUT_S:g})")
    p.add_argument("program", nargs="*", metavar="-- PROGRAM [ARGS]",
                   help="the program (a file, or a name in build/programs/) and its arguments")
    p.set_defaults(handler=run_boot)


def run_boot(args: argparse.Namespace) -> int:
    from harness.adapters import get_adapter
    from harness.adapters.base import Ending
    from harness.run.boot import BootRequest, boot

    if not args.program:
        raise UsageError("boot: no PROGRAM given (usage: vmcheck boot [options] -- PROGRAM [ARGS])")
    adapter = get_adapter(args.kernel)
    options = machine_options(args, console_sink=_write_stdout)
    options.check()
    adapter.prepare()
    files, extra_programs = _split_puts(args.put)
    request = BootRequest(runs=[args.program], extra_programs=extra_programs, files=files,
                          mem_mb=args.mem, swap_mb=args.swap_mb, timeout=args.timeout)
    result = boot(adapter, request, options)
    program = Path(args.program[0]).name
    status = result.outcome.status_of(program)
    if result.kept:
        _say(f"run directory kept: {result.run_dir}")
    if result.outcome.ending is Ending.PANIC:
        _say(f"KERNEL_PANIC: {result.outcome.panic_line or '(no panic line on the console)'}")
        return 1
    if result.outcome.ending is Ending.TRIPLE_FAULT:
        _say("TRIPLE_FAULT: the CPU reset (QEMU exit status 0 under -no-reboot)")
        return 1
    if status is None:
        _say(f"FAIL: the kernel powered off without an exit line for {program!r}")
        return 1
    _say(f"{program} exited with status {status}; the kernel powered off cleanly")
    return status & 0xFF


def _split_puts(puts: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """--put arguments: host files are read here (UsageError if unreadable);
    anything else is left to the adapter as the name of a built program."""
    files: dict[str, bytes] = {}
    programs: list[str] = []
    for put in puts:
        path = Path(put)
        if path.is_file():
            try:
                files[path.name] = path.read_bytes()
            except OSError as e:
                raise UsageError(f"--put {put}: cannot read: {e.strerror}") from None
        elif "/" in put or path.exists():
            raise UsageError(f"--put {put}: no such file")
        else:
            programs.append(put)
    return files, programs


def _write_stdout(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def _say(message: str) -> None:
    sys.stdout.flush()
    print(f"vmcheck: {message}", file=sys.stderr, flush=True)


# ---- main ----

def _run_commands() -> list[Callable]:
    from harness.course.compare import register_compare
    from harness.cli.coverage import register_coverage
    from harness.cli.explore import register_explore, register_replay
    from harness.cli.merge import register_merge
    from harness.cli.mutants import register_mutants
    from harness.cli.run import register_list, register_report, register_run
    return [register_run, register_list, register_report, register_merge, register_explore,
            register_replay, register_coverage, register_mutants, register_compare]


SUBCOMMANDS: list[Callable] = [register_boot, *_run_commands()]


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
