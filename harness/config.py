"""Paths, defaults and timeouts shared by the harness; where every command
writes its output by default (OUT_DIR, git-ignored; set here only).

Each setting is, in order of precedence: a function/CLI parameter, then an
environment variable (named below), then the default here.
  VMCHECK_QEMU            QEMU binary (default qemu-system-x86_64 on PATH)
  VMCHECK_BUILD_DIR       build output of `make` (default REPO/build)
  VMCHECK_TIMEOUT_SCALE   multiplies every wall-clock timeout (default 1.0; not the
                          guest-time limits of harness/run/hang_watch.py)
  VMCHECK_SHM_DIR         where guest RAM files are made for the harness to map
                          (default /dev/shm; harness/machine/guest_ram.py)
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UsageError

REPO_ROOT = Path(__file__).resolve().parent.parent

# Run output: one folder per command under OUT_DIR, outside the source
# packages. Inside a report folder, run folders go to ARTIFACTS and the
# replay schedules of failed runs with injections to SCHEDULE_FILES.
OUT_DIR = REPO_ROOT / "out"
RUN_REPORT = OUT_DIR / "run"            # vmcheck run, report (make conformance, make report)
COMPARE_REPORT = OUT_DIR / "compare"    # vmcheck compare
EXPLORE_DIR = OUT_DIR / "explore"       # vmcheck explore: schedules/ and artifacts/
REPLAY_REPORT = OUT_DIR / "replay"      # vmcheck replay
COVERAGE_REPORT = OUT_DIR / "coverage"  # vmcheck coverage (make coverage)
MUTANTS_REPORT = OUT_DIR / "mutants"    # vmcheck mutants (make mutants)
GRADE_REPORT = OUT_DIR / "grade"        # vmcheck grade: the class folder
PYTEST_ARTIFACTS = OUT_DIR / "pytest"   # the pytest plugin's run folders
DEBUG_DIR = OUT_DIR / "debug"           # vmcheck debug: the run folders of its sessions
ARTIFACTS = "artifacts"
SCHEDULE_FILES = "schedule-files"

DEFAULT_QEMU = "qemu-system-x86_64"
DEFAULT_MEM_MB = 20          # Pintos-KAIST's test default
DEFAULT_RUN_TIMEOUT_S = 60.0  # Pintos-KAIST's test default


def qemu_binary() -> str:
    return os.environ.get("VMCHECK_QEMU", DEFAULT_QEMU)


def shm_dir() -> Path:
    """The memory file system guest RAM files go in (guest_ram.py)."""
    return Path(os.environ.get("VMCHECK_SHM_DIR", "/dev/shm"))


def build_dir() -> Path:
    return Path(os.environ.get("VMCHECK_BUILD_DIR", REPO_ROOT / "build"))


def shown(path: Path) -> str:
    """PATH relative to the repository if it is inside it (for help texts)."""
    try:
        return str(Path(path).relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def env_timeout_scale() -> float:
    """VMCHECK_TIMEOUT_SCALE as a float (1.0 if unset); UsageError if bad."""
    raw = os.environ.get("VMCHECK_TIMEOUT_SCALE")
    if raw is None:
        return 1.0
    return check_timeout_scale(raw, "VMCHECK_TIMEOUT_SCALE")


def check_timeout_scale(raw: str | float, what: str) -> float:
    try:
        scale = float(raw)
    except ValueError:
        raise UsageError(f"{what} must be a number, not {raw!r}") from None
    if not 0 < scale <= 1000:
        raise UsageError(f"{what} must be > 0 and <= 1000, not {raw}")
    return scale


@dataclass(frozen=True)
class Timeouts:
    """Every wait of the machine layer, in seconds *before* scaling. One
    scale factor (slow CI, coverage builds, KVM-in-KVM, a loaded host)
    multiplies all; by default VMCHECK_TIMEOUT_SCALE, as for the Debugger."""

    scale: float = field(default_factory=env_timeout_scale)
    qemu_start: float = 10.0     # QEMU process start to QMP greeting
    qmp_command: float = 10.0    # one QMP command (savevm of a big RAM may be slow)
    quit_grace: float = 3.0      # QMP quit to process exit, before SIGKILL
    kill_wait: float = 5.0       # SIGKILL to process reaped

    def __call__(self, seconds: float) -> float:
        """SECONDS scaled by the factor."""
        return seconds * self.scale


@contextlib.contextmanager
def private_build_dir(name: str):
    """A build folder of this process's own, build_dir()/NAME/run-PID,
    removed when the block ends: two mutant runs in one checkout each
    rebuild their base kernel, and sharing one folder let the second
    delete the first's objects under it (the first run then ended with
    FileNotFoundError and wrote no results). Folders left by runs that
    were killed are removed when their process is gone."""
    root = build_dir() / name
    for old in root.glob("run-*"):
        pid = old.name[4:]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)
    path = root / f"run-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
