"""`vmcheck debug`: run a scenario to a chosen moment and hand the stopped
machine to gdb, in this terminal (docs/debug.md).

    ./vmcheck debug SCENARIO [--kernel K] [--schedule FILE] [--at WHERE]

WHERE (harness/run/stop_point.py): failure (default), start, fault, panic,
checkpoint:N[:HIT], break:SYMBOL. The run is the one `run` (or, with a
schedule, `replay`) makes, under -icount: the same moment every time.
Everything is checked before QEMU starts: a bad scenario, WHERE,
checkpoint, symbol or schedule is one line and exit 2; no gdb is exit 3.
When gdb ends, QEMU is ended and the run folder kept (its path printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

from harness import config
from harness.cli.options import add_common_options
from harness.errors import HarnessError, UsageError

EXIT_FAILED = 1


def register(subparsers) -> None:
    p = subparsers.add_parser("debug", help="stop a scenario at its failure and open gdb there",
                              description="Run SCENARIO to WHERE, then hand the stopped "
                                          "machine to gdb with the kernel's and programs' "
                                          "symbols and the vm-* commands.")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--at", default="failure", metavar="WHERE",
                   help="where to stop: failure, start, fault, panic, checkpoint:N[:HIT], "
                        "break:SYMBOL (default: failure)")
    p.add_argument("--schedule", type=Path, default=None, metavar="FILE",
                   help="replay this schedule file's injections (default: the scenario's own)")
    p.add_argument("--gdb", default="gdb", metavar="PROGRAM", help="the gdb to run (default: gdb)")
    p.add_argument("--suite", type=Path, default=None, metavar="DIR")
    add_common_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from harness.cli.gdb_launch import GdbHandOver
    from harness.cli.options import runner_options
    from harness.run.stop_point import HandedOver, StopRequest, parse_where
    where = parse_where(args.at)
    gdb = shutil.which(args.gdb)
    if gdb is None:
        raise HarnessError(f"no {args.gdb!r} on PATH: install Debian's gdb (make deps)")
    schedule = _schedule(args)
    adapter, sc = _adapter_and_scenario(args)
    opts = runner_options(args, config.DEBUG_DIR / config.ARTIFACTS)
    if schedule is not None:
        from harness.run.explore import replay_options
        opts = replay_options(adapter, sc, schedule, opts)
    _check_where(where, adapter, sc)
    hand_over = GdbHandOver(gdb, args.kernel, adapter, sc, where)
    opts = dataclasses.replace(opts, stop=StopRequest(where, hand_over))
    from harness.run.runner import run_scenario
    print(f"vmcheck: running {sc.name} on {adapter.spec} to {where}", flush=True)
    try:
        result = run_scenario(adapter, sc, opts)
    except HandedOver as done:
        print(f"vmcheck: gdb ended (status {done.result}); QEMU ended; run folder kept: "
              f"{hand_over.run_dir}")
        return 0
    from results.model import Verdict
    if result.verdict is Verdict.HARNESS_ERROR:
        raise HarnessError(result.reason)
    if result.verdict is Verdict.NOT_JUDGED:     # decided before booting: nothing to debug
        raise UsageError(f"{sc.name}: {result.reason}")
    said = f"{result.verdict.value}" + (f": {result.reason}" if result.reason else "")
    print(f"vmcheck: the run ended without reaching {where}: {said}")
    if result.artifacts:
        print(f"vmcheck: run folder: {result.artifacts}")
    return 0 if result.verdict.passed else EXIT_FAILED


def _adapter_and_scenario(args: argparse.Namespace) -> tuple:
    """The adapter of --kernel, its kernel made ready (a student's tree is
    built), and the scenario; UsageError for an unknown one, found before
    anything is built."""
    from harness.adapters import get_adapter
    from harness.run.runner import DATA_DIR
    from harness.run.suite import SUITE_DIR, load_all
    adapter = get_adapter(args.kernel)
    scenarios = {sc.name: sc for sc in load_all(adapter.programs_dir, DATA_DIR,
                                                args.suite or SUITE_DIR)}
    if args.scenario not in scenarios:
        raise UsageError(f"no scenario named {args.scenario!r} (see `./vmcheck list`)")
    adapter.prepare()
    return adapter, scenarios[args.scenario]


def _schedule(args: argparse.Namespace):
    """The schedule file's contents (None without --schedule), checked
    against SCENARIO and --kernel; its kernel becomes the default."""
    if args.schedule is None:
        return None
    from harness.run.schedule import load_schedule, schedule_kernel
    schedule = load_schedule(args.schedule)
    if schedule["scenario"] != args.scenario:
        raise UsageError(f"{args.schedule} is a schedule of {schedule['scenario']!r}, "
                         f"not of {args.scenario!r}")
    args.kernel = schedule_kernel(schedule, args.kernel)
    return schedule


def _check_where(where, adapter, sc) -> None:
    """UsageError for a checkpoint SC does not declare or a symbol that is
    neither the kernel's nor one of SC's programs'."""
    from harness.debug.program_image import load_program
    from harness.debug.symbols import SymbolError
    from harness.run.stop_point import BREAK, CHECKPOINT
    if where.kind == CHECKPOINT:
        declared = sorted({c.id for c in sc.checkpoints})
        if where.id not in declared:
            raise UsageError(f"--at {where}: {sc.name} declares no checkpoint {where.id} "
                             f"(declared: {', '.join(map(str, declared)) or 'none'})")
    if where.kind == BREAK:
        if any(where.symbol in load_program(adapter.find_program(name)).symbols
               for name in sc.programs):
            return
        try:
            adapter.kernel_symbols().address_of(where.symbol)
        except SymbolError:
            raise UsageError(f"--at {where}: no symbol {where.symbol!r} in the kernel or in "
                             f"{', '.join(sc.programs)}") from None
