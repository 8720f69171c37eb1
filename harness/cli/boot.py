"""`vmcheck boot`: boot one program and stream the console.

    ./vmcheck boot [--kernel K] [--mem MB] [--swap-mb N] [--put FILE]... -- PROGRAM [ARGS]

Exit status: the program's (1 if the kernel panicked or reset, 2 on bad
arguments, 3 on a harness error or a timeout). A Pintos-KAIST kernel
starts from its boot snapshot where it can (harness/run/snapshot_boot.py;
`--cold-boot` not to).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import config
from harness.cli.options import add_common_options, int_in_range, machine_options, positive_float
from harness.errors import UsageError


def register(subparsers) -> None:
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
    p.add_argument("--cold-boot", action="store_true",
                   help="boot through the firmware and the kernel's loader even where the "
                        "machine state saved at the kernel's main can be restored "
                        "(Pintos-KAIST's boot snapshot; default: restore it when possible)")
    p.add_argument("program", nargs="*", metavar="-- PROGRAM [ARGS]",
                   help="the program (a file, or a name in build/programs/) and its arguments")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from harness.adapters import get_adapter
    from harness.adapters.base import Ending
    from harness.run.boot import BootRequest, boot
    from harness.run.snapshot_boot import boot_from_snapshot

    if not args.program:
        raise UsageError("boot: no PROGRAM given (usage: vmcheck boot [options] -- PROGRAM [ARGS])")
    adapter = get_adapter(args.kernel)
    options = machine_options(args, console_sink=_write_stdout)
    options.check()
    adapter.prepare()
    files, extra_programs = _split_puts(args.put)
    request = BootRequest(runs=[args.program], extra_programs=extra_programs, files=files,
                          mem_mb=args.mem, swap_mb=args.swap_mb, timeout=args.timeout)
    if args.cold_boot:
        result = boot(adapter, request, options)
    else:
        result = boot_from_snapshot(adapter, request, options, say=_say)
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
