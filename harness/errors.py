"""Typed errors of the harness, each with the process exit code it maps to.

Exit codes (docs/architecture.md): 0 passed, 1 a scenario/program
failed (a *result*, never an exception here), 2 usage or input error, 3
harness or infrastructure error. A kernel that panics or hangs is a result; these
exceptions are for the cases where the harness could not do its job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

EXIT_USAGE = 2
EXIT_HARNESS = 3


class VmcheckError(Exception):
    """Root of every error the CLI turns into a one-line message."""

    exit_code = EXIT_HARNESS


class HarnessError(VmcheckError):
    """The harness or its infrastructure failed (QEMU, GDB, files): exit 3."""

    exit_code = EXIT_HARNESS


class FileNotOnDiskError(HarnessError):
    """The file-system disk was read and the file asked for is not on it
    (a result about the kernel, unlike a disk the harness cannot read)."""


class StartupTimeout(HarnessError):
    """The guest did not reach the kernel's entry in time after QEMU
    started (a loaded host, not the kernel under test: code before the
    entry is the loader's): run again, not a HANG."""


class UsageError(VmcheckError):
    """Bad command-line arguments or bad input files: exit 2."""

    exit_code = EXIT_USAGE


class KernelBuildError(UsageError):
    """A kernel tree (or its user programs) does not build: input error."""


class QemuNotFoundError(HarnessError):
    """The QEMU binary is not installed (or not executable)."""


class KernelNotBuiltError(HarnessError):
    """The kernel image the adapter needs does not exist; run `make`."""


class QMPError(HarnessError):
    """A QMP command failed or the QMP connection broke."""


def format_console_tail(lines: Sequence[str], log_path: Path | str | None) -> str:
    """The indented 'last console lines' + 'full log' block that error
    messages about a running machine end with."""
    parts = []
    if lines:
        parts.append("  last console lines:")
        parts.extend(f"    | {line}" for line in lines)
    else:
        parts.append("  (no console output)")
    if log_path is not None:
        parts.append(f"  full log: {log_path}")
    return "\n".join(parts)


class MachineError(HarnessError):
    """An error about one running machine: carries the console tail and the
    path of the full console log, and prints both."""

    def __init__(self, summary: str, console_tail: Sequence[str] = (),
                 log_path: Path | str | None = None):
        self.summary = summary
        self.console_tail = list(console_tail)
        self.log_path = log_path
        super().__init__(f"{summary}\n{format_console_tail(self.console_tail, log_path)}")


class QemuDiedError(MachineError):
    """QEMU exited when it should still be running (bad option, bad kernel
    image, crash). The summary includes QEMU's own stderr."""

    def __init__(self, exit_status: int | None, stderr: str,
                 console_tail: Sequence[str] = (), log_path: Path | str | None = None):
        self.exit_status = exit_status
        self.stderr = stderr.strip()
        said = self.stderr or "(QEMU printed nothing on stderr)"
        super().__init__(f"QEMU exited unexpectedly with status {exit_status}: {said}",
                         console_tail, log_path)


class MachineTimeout(MachineError):
    """A wait on the machine ran out of time. AWAITED says what was awaited."""

    def __init__(self, awaited: str, seconds: float, console_tail: Sequence[str] = (),
                 log_path: Path | str | None = None):
        self.awaited = awaited
        self.seconds = seconds
        super().__init__(f"timed out after {seconds:.1f} s waiting for {awaited}",
                         console_tail, log_path)


class BootError(MachineError):
    """QEMU ran but the kernel never reached the point where it runs
    programs (it printed nothing recognisable, or not what the adapter
    expects at boot)."""
