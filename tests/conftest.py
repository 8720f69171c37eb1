"""Shared fixtures of the project's own tests.

  repo_root, build_dir      paths
  built                     runs `make all` once per session (serialised across
                            pytest-xdist workers); a failing build errors the tests
  run_root                  a short per-test directory for machine run dirs
  no_leftover_processes     (autouse) fails a test that leaves a QEMU or GDB behind
  our_processes             lists the QEMU/GDB processes the current test started

VMCHECK_TIMEOUT_SCALE (set on a loaded host) multiplies every harness
timeout (harness.config.Timeouts, the Debugger) and, here, every test's
pytest-timeout limit as well. hang_guard_timeouts() is for runs whose
wall-clock limit only guards against a hang.

Processes are attributed to the test that started them by an environment
variable (VMCHECK_TEST_TOKEN) that QEMU and GDB inherit, also through a
`./vmcheck` subprocess: a process re-parented to init after its parent
was killed is still found.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build"
TOKEN_VAR = "VMCHECK_TEST_TOKEN"
WATCHED_NAMES = ("qemu-system", "gdb")
MAKE_TIMEOUT_S = 900
LEFTOVER_GRACE_S = 3.0


def pytest_collection_modifyitems(config, items):
    """Each test's pytest-timeout limit (its mark, else the ini value)
    multiplied by VMCHECK_TIMEOUT_SCALE, like the harness's own waits."""
    scale = float(os.environ.get("VMCHECK_TIMEOUT_SCALE") or 1)
    if scale == 1:
        return
    default = float(config.getini("timeout") or 0)
    for item in items:
        marker = item.get_closest_marker("timeout")
        limit = float(marker.args[0]) if marker and marker.args else default
        if limit > 0:
            item.add_marker(pytest.mark.timeout(limit * scale), append=False)


# A run whose wall-clock limit only guards against a hang (the test judges
# what the kernel does, not how fast) allows a host this many times slower
# than an idle one: two CPU burners on two cores halve the speed, and a
# shared machine is often busier (measured: a debugger-driven page-parallel
# took 129 s at load 14 on 2 cores against its 60 s limit).
HANG_GUARD_MARGIN = 4


def hang_guard_timeouts():
    """Timeouts for such runs: HANG_GUARD_MARGIN x VMCHECK_TIMEOUT_SCALE."""
    from harness.config import Timeouts, env_timeout_scale
    return Timeouts(scale=HANG_GUARD_MARGIN * env_timeout_scale())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def build_dir() -> Path:
    return BUILD_DIR


@pytest.fixture(scope="session")
def built() -> Path:
    """Builds the kernel and user programs (`make all`) once per session and
    returns the build directory. Several xdist workers take turns on a lock
    file; a build failure is a test error with make's last lines."""
    BUILD_DIR.mkdir(exist_ok=True)
    with open(BUILD_DIR / ".pytest-make.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(["make", "-C", str(REPO_ROOT), "all"], capture_output=True,
                              text=True, timeout=MAKE_TIMEOUT_S)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise RuntimeError(f"`make all` failed (status {done.returncode}):\n{tail}")
    return BUILD_DIR


@pytest.fixture
def run_root():
    """A directory for machine run directories, short enough for Unix
    socket paths, removed after the test."""
    path = Path(tempfile.mkdtemp(prefix="vmt-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _processes_with_token(token: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name"]):
        name = proc.info["name"] or ""
        if not name.startswith(WATCHED_NAMES):
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(TOKEN_VAR) == token:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture
def our_processes():
    """A function listing the live QEMU/GDB processes the current test
    started (also through a `./vmcheck` subprocess)."""
    return lambda: _processes_with_token(os.environ[TOKEN_VAR])


def _describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {' '.join(proc.cmdline()[:3])}"
    except psutil.Error:
        return str(proc.pid)


@pytest.fixture(autouse=True)
def no_leftover_processes(monkeypatch):
    """Tags the test's child processes and, after the test, fails it if a
    QEMU or GDB it started is still alive (after killing those, by pid)."""
    token = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv(TOKEN_VAR, token)
    yield
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    left = _processes_with_token(token)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = _processes_with_token(token)
    if left:
        described = [_describe(p) for p in left]
        for proc in left:
            proc.kill()
        pytest.fail(f"processes left behind by the test (now killed): {described}")
