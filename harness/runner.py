"""Running one scenario: boot, checkpoints, post-run checks, verdict.

A kernel that panics, resets or hangs is a verdict, not an exception; only
what keeps the harness from judging (QEMU failing, a broken debugger
link) becomes HARNESS_ERROR. Every scenario gets a result.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Optional

from harness import config
from harness.adapters.base import Ending
from harness.checkpoints import CheckpointSession
from harness.debugger import DebuggerTimeout
from harness.errors import HarnessError, MachineTimeout, QemuDiedError
from harness.machine import Machine, MachineOptions
from harness.program_image import load_program
from harness.results import ScenarioResult, Verdict
from oracles.expectations import CheckContext, run_check

DATA_DIR = config.REPO_ROOT / "scenarios" / "data"


@dataclasses.dataclass
class RunnerOptions:
    accel: str = "tcg"
    icount: bool = True
    timeouts: config.Timeouts = dataclasses.field(default_factory=config.Timeouts)
    artifacts: Optional[Path] = None   # parent of per-scenario run folders
    keep: bool = False                 # keep every run folder, not just failures
    data_dir: Path = DATA_DIR


def run_scenario(adapter, sc, opts: RunnerOptions) -> ScenarioResult:
    """Runs scenario SC on ADAPTER's kernel; never raises for a kernel's
    behaviour."""
    start = time.monotonic()
    result = ScenarioResult(sc.name, sc.area, Verdict.PASS, 0.0, kernel=adapter.name,
                            expected_exit_status=sc.exit_status, description=sc.description)
    try:
        _execute(adapter, sc, opts, result)
    except DebuggerTimeout as e:
        result.verdict = Verdict.HANG
        result.reason = (f"no power-off within {opts.timeouts(sc.timeout):g} s; "
                         f"the CPU was at {_where(e.stop.pc, adapter, sc)} when stopped")
    except MachineTimeout as e:
        result.verdict, result.reason = Verdict.HANG, _first_line(e)
    except HarnessError as e:
        result.verdict, result.reason = Verdict.HARNESS_ERROR, _first_line(e)
    result.duration_s = round(time.monotonic() - start, 3)
    return result


def _where(pc, adapter, sc) -> str:
    """A code address as `function+off (program)` or `function+off (kernel)`."""
    if pc is None:
        return "an unknown address"
    if pc >= 0x8000000000:
        return f"{adapter.kernel_symbols().describe(pc)} (kernel)"
    image = load_program(adapter.find_program(sc.program))
    funcs = [(a, n) for n, a in image.symbols.items() if a <= pc]
    name, base = (max(funcs)[1], max(funcs)[0]) if funcs else ("?", pc)
    return f"{name}+{pc - base:#x} in {sc.program} (user)"


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def _execute(adapter, sc, opts: RunnerOptions, result: ScenarioResult) -> None:
    programs = {name: adapter.find_program(name) for name in sc.programs}
    images = {name: load_program(path) for name, path in programs.items()}
    files = {name: (opts.data_dir / name).read_bytes() for name in sc.files}
    cmdline = adapter.kernel_cmdline([[sc.program, *sc.args]], sc.user_pages or None)
    options = MachineOptions(accel=opts.accel, icount=opts.icount, paused=True,
                             timeouts=opts.timeouts, keep=opts.keep, keep_on_error=True,
                             run_root=opts.artifacts)
    deadline = time.monotonic() + opts.timeouts(sc.timeout)
    session = CheckpointSession(adapter, sc, images, files, opts.timeouts)
    machine = Machine(options)
    try:
        _boot_and_judge(machine, adapter, sc, programs, images, files, cmdline, session,
                        deadline, opts, result)
    finally:
        result.artifacts = str(machine.run_dir) if machine.kept else None


def _boot_and_judge(machine, adapter, sc, programs, images, files, cmdline, session,
                    deadline, opts, result) -> None:
    with machine:
        disks = adapter.make_disks(machine.run_dir, programs, files, sc.swap_mb)
        machine.start(adapter.qemu_args(disks, cmdline, sc.mem_mb))
        try:
            session.run(machine, deadline)
            status = machine.wait_exit(max(deadline - time.monotonic(), 0.1) / opts.timeouts.scale,
                                       f"the kernel to power off after `{sc.program}`")
        finally:
            result.checkpoints = session.records
            result.console = machine.console.text()
        outcome = adapter.parse_exit(result.console, status)
        if outcome.ending is Ending.QEMU_ERROR:
            raise QemuDiedError(status, machine.stderr_text(), machine.console.tail(),
                                machine.console_log)
        if outcome.ending is Ending.POWEROFF and sc.after:
            _after_run_checks(adapter, disks, sc, files, images, result)
        _judge(adapter, sc, outcome, session, result)
        machine.failed = not result.verdict.passed


def _after_run_checks(adapter, disks, sc, files, images, result) -> None:
    cache: dict = {}

    def disk_file(name):
        if name not in cache:
            try:
                cache[name] = adapter.read_fs_file(disks, name)
            except HarnessError:
                cache[name] = None
        return cache[name]

    ctx = CheckContext(state=None, symbols=images[sc.program].symbols,
                       data_file=lambda name: files.get(name, b""), disk_file=disk_file)
    for exp in sc.after:
        result.after_violations += [v.to_dict() for v in run_check(ctx, exp.check, exp.params)]


def missing_lines(console: str, expected) -> list[str]:
    """Expected lines not found, in order, among the console's lines."""
    lines = [line.rstrip("\r") for line in console.splitlines()]
    missing, i = [], 0
    for want in expected:
        j = next((k for k in range(i, len(lines)) if lines[k] == want), None)
        if j is None:
            missing.append(want)
        else:
            i = j + 1
    return missing


def _judge(adapter, sc, outcome, session, result: ScenarioResult) -> None:
    """Sets the verdict and a one-line reason."""
    if outcome.ending is Ending.PANIC:
        result.verdict, result.reason = Verdict.KERNEL_PANIC, outcome.panic_line or "kernel panic"
        return
    if outcome.ending is Ending.TRIPLE_FAULT:
        result.verdict, result.reason = Verdict.TRIPLE_FAULT, "the CPU reset (triple fault)"
        return
    problems = []
    result.exit_status = outcome.status_of(sc.program)
    if result.exit_status is None:
        problems.append(f"{sc.program} printed no exit line")
    elif result.exit_status != sc.exit_status:
        problems.append(f"exit status {result.exit_status}, expected {sc.exit_status}")
    result.missing_output = missing_lines(result.console, sc.output)
    if result.missing_output:
        problems.append(f"missing output line: {result.missing_output[0]!r}")
    problems += [f"output contains {bad!r}" for bad in sc.output_absent if bad in result.console]
    problems += session.unreached()
    violations = result.violations
    if violations:
        first = violations[0]
        problems.append(f"{len(violations)} oracle violation(s), first: {first['oracle']}: "
                        f"{first['message']}")
    leak = adapter.leak_problem(outcome)
    if leak:
        problems.append(leak)
    if problems:
        result.verdict, result.reason = Verdict.FAIL, "; ".join(problems)
