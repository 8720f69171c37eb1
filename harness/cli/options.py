"""What the commands share: argument types, the option groups, and turning
parsed arguments into the library's inputs once (MachineOptions,
RunnerOptions, the selected scenarios).

The machine layer is imported only inside the functions that build its
options, so `vmcheck list` and `vmcheck report` never load it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from harness import config


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


def add_common_options(parser: argparse.ArgumentParser, kernel: bool = True) -> None:
    """Options every command that boots a kernel shares (KERNEL: with
    --kernel, for the commands that boot one kernel)."""
    group = parser.add_argument_group("machine")
    if kernel:
        group.add_argument("--kernel", default="reference", metavar="K",
                           help="kernel: `reference` or `pintos-kaist:PATH` (default: reference)")
    group.add_argument("--accel", choices=("tcg", "kvm"), default="tcg",
                       help="QEMU accelerator (default: tcg; kvm allows hardware breakpoints only)")
    group.add_argument("--no-icount", dest="icount", action="store_false",
                       help="do not use the deterministic instruction-count clock "
                            "(default: -icount shift=0,sleep=off under tcg)")
    add_timeout_scale_option(group)
    add_keep_option(group, "keep every run directory whole, disk images included (sparse), "
                           "and print its path (default: a failed run keeps console.log and "
                           "qemu-stderr.log only, plus the file-system image, gzipped, when "
                           "a file-system check failed)")


def add_timeout_scale_option(parser) -> None:
    parser.add_argument("--timeout-scale", type=positive_float, default=None, metavar="X",
                        help="multiply every wall-clock timeout by X; guest-time limits "
                             "(-icount) are not scaled (default: $VMCHECK_TIMEOUT_SCALE or 1)")


def add_keep_option(parser, text: str) -> None:
    parser.add_argument("--keep", action="store_true", help=text)


def add_exact_disk_option(parser: argparse.ArgumentParser, default) -> None:
    """--exact-disk / --device-disk (harness/run/exact_disk.py); DEFAULT is
    the command's: True, False, or None (exact for the runs with
    injections). Sets args.exact_disk to the choice or DEFAULT."""
    said = {True: (" (default)", ""), False: ("", " (default)"),
            None: (" (default for the scenarios with injections)", " (default otherwise)")}
    exact_said, device_said = said[default]
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--exact-disk", dest="exact_disk", action="store_true", default=default,
                       help="answer a Pintos-KAIST kernel's disk requests in guest time, so "
                            "a run is the same each time (docs/exact-disk.md)" + exact_said)
    group.add_argument("--device-disk", dest="exact_disk", action="store_false",
                       help="let QEMU's IDE device serve them, on the host's time" + device_said)


def add_strict_option(parser: argparse.ArgumentParser) -> None:
    """--strict, for commands that judge scenarios."""
    parser.add_argument("--strict", action="store_true",
                        help="an UNKNOWN check (the harness could not inspect what it needs) "
                             "fails the scenario (default: it passes, with a note naming it)")


def add_report_option(parser: argparse.ArgumentParser, default: Path,
                      what: str = "report folder") -> None:
    """--report DIR, the command's output folder (DEFAULT: one of config.py's)."""
    parser.add_argument("--report", type=Path, default=default, metavar="DIR",
                        help=f"{what} (default: {config.shown(default)})")


def add_scenario_options(parser: argparse.ArgumentParser, patterns_help: str) -> None:
    """SCENARIO patterns and --suite, for commands that select scenarios."""
    parser.add_argument("patterns", nargs="*", metavar="SCENARIO", help=patterns_help)
    parser.add_argument("--suite", type=Path, default=None, metavar="DIR",
                        help="scenario folder (default: scenarios/suite)")


def timeout_scale(args: argparse.Namespace) -> float:
    """--timeout-scale, else $VMCHECK_TIMEOUT_SCALE, else 1."""
    given = getattr(args, "timeout_scale", None)
    return given if given is not None else config.env_timeout_scale()


def machine_options(args: argparse.Namespace, **overrides):
    """MachineOptions from the machine options the command has (--accel,
    --no-icount, --keep, --timeout-scale); OVERRIDES set other fields."""
    from harness.machine.qemu import MachineOptions
    given = {name: getattr(args, name) for name in ("accel", "icount", "keep")
             if hasattr(args, name)}
    return MachineOptions(timeouts=config.Timeouts(scale=timeout_scale(args)),
                          **given, **overrides)


def runner_options(args: argparse.Namespace, artifacts: Path, **fields):
    """RunnerOptions of a command that judges scenarios: its machine
    options, run folders under ARTIFACTS (made here), --strict, and
    FIELDS (schedules, inject, coverage...), --exact-disk/--device-disk
    where the command has them. The accelerator is checked here, once."""
    from harness.run.runner import RunnerOptions
    artifacts.mkdir(parents=True, exist_ok=True)
    if hasattr(args, "exact_disk"):
        fields.setdefault("exact_disk", args.exact_disk)
    return RunnerOptions(machine=machine_options(args, run_root=artifacts),
                         strict=getattr(args, "strict", False), **fields)


def report_runner_options(args: argparse.Namespace, report: Path, **fields):
    """RunnerOptions of a run whose report goes to REPORT: run folders in
    REPORT/artifacts, the replay schedules of failed runs with injections
    in REPORT/schedule-files (config.ARTIFACTS, config.SCHEDULE_FILES)."""
    report = report.resolve()
    return runner_options(args, report / config.ARTIFACTS,
                          schedules=report / config.SCHEDULE_FILES, **fields)


def load_scenarios(args: argparse.Namespace, programs_dir=None) -> list:
    """The suite's scenarios (args.suite, else scenarios/suite) that match
    args.patterns; checked against the programs in PROGRAMS_DIR if given."""
    from harness.run.runner import DATA_DIR
    from harness.run.suite import SUITE_DIR, load_all, select
    scenarios = load_all(programs_dir, DATA_DIR if programs_dir else None,
                         args.suite or SUITE_DIR)
    return select(scenarios, args.patterns)
