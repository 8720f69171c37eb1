"""Building one submission's kernel in the work folder: its adapter, or
the compiler's lines when it does not build.

    family pintos-kaist: `make -C TREE/vm CC=...` (the adapter's command)
    family reference:    `make -C TREE O=WORK/kernel` (a reference_kernel/ tree)

Builds run in a process group of their own and are killed at once by a
stop signal (harness/interrupt.py), like the machines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Callable

from harness import interrupt
from harness.adapters.pintos_kaist.adapter import (PintosKaistAdapter, compiler_errors, find_tree,
                                           load_layout_mapping)
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.errors import KernelNotBuiltError, UsageError
from harness.grade.roster import Submission

BUILD_TIMEOUT_S = 900

_running: set = set()
_running_lock = threading.Lock()


class BuildFailed(Exception):
    """The submission did not build; the message is the compiler's lines."""


class BuildStopped(Exception):
    """A stop signal killed the build: the submission is not finished."""


def _kill_running_builds() -> None:
    for pid in list(_running):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


interrupt.on_stop(_kill_running_builds)


def run_build(command: list, log: Path, timeout_s: float) -> None:
    """Runs COMMAND with its output in LOG; BuildFailed with the compiler's
    lines if it fails or runs out of time, BuildStopped after a stop signal.
    Paths under LOG's folder (the work folder) are told relative to it."""
    if interrupt.stop_requested():
        raise BuildStopped()
    with open(log, "w") as out:
        try:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except FileNotFoundError:
            raise BuildFailed(f"{command[0]} is not installed (`make deps`)") from None
        with _running_lock:
            _running.add(proc.pid)
        try:
            status = proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise BuildFailed(f"the build did not finish in {timeout_s:.0f} s") from None
        finally:
            with _running_lock:
                _running.discard(proc.pid)
    if interrupt.stop_requested():
        raise BuildStopped()
    if status != 0:
        text = f"`{' '.join(command)}` failed (exit status {status}):\n" + \
            compiler_errors(log.read_text(errors="replace"))
        raise BuildFailed(text.replace(f"{log.parent}/", ""))


def build_submission(sub: Submission, tree: Path, work: Path, timeout_scale: float,
                     log: Callable[[str], None]):
    """Builds the tree at TREE (SUB's checkout) and returns the adapter
    that boots it; the build's output is in WORK/build.log."""
    timeout = BUILD_TIMEOUT_S * timeout_scale
    if sub.family == "reference":
        out = work / "kernel"
        run_build(["make", "-C", str(tree), f"O={out}"], work / "build.log", timeout)
        adapter = ReferenceAdapter(kernel_dir=out)
    else:
        try:
            root = find_tree(tree)
            mapping = load_layout_mapping(str(sub.layout) if sub.layout else None)
        except UsageError as e:
            raise BuildFailed(str(e).replace(f"--kernel pintos-kaist:{tree}: ", "")) from None
        adapter = PintosKaistAdapter(root, mapping, log=log)
        run_build(adapter.build_command(), work / "build.log", timeout)
    try:
        adapter.check_built()
    except KernelNotBuiltError as e:   # make succeeded without making the kernel
        raise BuildFailed(str(e)) from None
    return adapter
