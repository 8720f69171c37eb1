"""Stop signals (harness/interrupt.py) on real runs: `vmcheck run --jobs 2`
started in a process group of its own, SIGINT or SIGTERM sent to the group
once the first scenario has finished; the command exits 130 / 143, writes a
partial report that says so (scenarios not run are NOT_RUN, not failures),
and leaves no QEMU behind. SIGINT is also sent to a run that inherited it
as ignored (a background job of a non-interactive shell)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

QUICK = ["hello", "args", "forktree", "fsround", "preempt", "physaddr", "badfd",
         "checkpoint-stops"]
LINE_TIMEOUT_S = 120


def read_until(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    """PROC's stdout until a line contains MARKER; what was read."""
    os.set_blocking(proc.stdout.fileno(), False)
    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        chunk = proc.stdout.read()
        if chunk:
            text += chunk.decode(errors="replace")
            if marker in text:
                return text
        elif proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no {marker!r} in the output within {timeout} s:\n{text}")


def start(command: list[str], ignore_sigint: bool = False) -> subprocess.Popen:
    def child_setup():
        if ignore_sigint:   # what `cmd &` in a non-interactive shell does
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=child_setup, cwd=REPO_ROOT)


def stop_after_first(proc: subprocess.Popen, signum: int, marker: str) -> tuple[int, str]:
    """Sends SIGNUM to PROC's process group once MARKER is printed; (exit
    status, stdout + stderr)."""
    try:
        out = read_until(proc, marker, LINE_TIMEOUT_S)
        os.killpg(proc.pid, signum)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode, out + rest.decode(errors="replace") + err.decode(errors="replace")


def assert_none_left(our_processes) -> None:
    deadline = time.monotonic() + 5
    while our_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert our_processes() == [], "a QEMU of the stopped run survived"


@pytest.mark.parametrize("signum, status, ignored", [
    (signal.SIGINT, 130, False), (signal.SIGTERM, 143, False), (signal.SIGINT, 130, True)],
    ids=["SIGINT", "SIGTERM", "SIGINT-inherited-as-ignored"])
def test_a_stopped_run_writes_a_partial_report_and_exits_128_plus_the_signal(
        built, tmp_path, our_processes, signum, status, ignored):
    report = tmp_path / "report"
    proc = start([str(REPO_ROOT / "vmcheck"), "run", "--jobs", "2", "--report", str(report),
                  *QUICK], ignore_sigint=ignored)
    code, output = stop_after_first(proc, signum, f"[1/{len(QUICK)}]")
    name = signal.Signals(signum).name
    assert code == status, output
    assert f"PARTIAL: interrupted by {name}" in output and "Traceback" not in output, output
    assert_none_left(our_processes)
    run = json.loads((report / "results.json").read_text())
    verdicts = {sc["name"]: sc["verdict"] for sc in run["scenarios"]}
    assert run["interrupted"] == name and list(verdicts) == QUICK
    finished = [n for n, v in verdicts.items() if v != "NOT_RUN"]
    assert finished and all(verdicts[n] == "PASS" for n in finished), verdicts
    assert len(finished) < len(QUICK), verdicts
    not_run = [sc for sc in run["scenarios"] if sc["verdict"] == "NOT_RUN"]
    assert all(name in sc["reason"] for sc in not_run)
    index = (report / "index.html").read_text()
    assert "PARTIAL" in index and f"interrupted by {name}" in index
    skipped = [c for c in ET.parse(report / "junit.xml").iter("testcase")
               if c.find("skipped") is not None]
    assert len(skipped) == len(not_run) and not any(
        c.find("failure") is not None for c in ET.parse(report / "junit.xml").iter("testcase"))


def test_the_pytest_plugin_stops_on_sigterm_with_143(built, tmp_path, our_processes):
    env_path = f"{REPO_ROOT}:{os.environ.get('PYTHONPATH', '')}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "harness.pytest_plugin", "-p", "no:cacheprovider",
         str(REPO_ROOT / "scenarios" / "suite" / "core.toml"), "-v",
         f"--vmcheck-artifacts={tmp_path}", "-k", " or ".join(QUICK[:6])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        env={**os.environ, "PYTHONPATH": env_path}, cwd=tmp_path)
    code, output = stop_after_first(proc, signal.SIGTERM, "PASSED")
    assert code == 143, output
    assert "KeyboardInterrupt" in output or "Interrupted" in output, output
    assert_none_left(our_processes)
    assert list(tmp_path.glob("vmcheck-*")) == [], "the cut-short run kept its folder"
