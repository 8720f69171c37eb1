"""Kernel-core acceptance: the reference kernel boots programs and keeps
going when a process misbehaves. Programs: scenarios/programs/core/ (their
header comments give the expected output)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.adapters.reference import fsimage
from harness.adapters.base import Ending, ProcessExit
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.boot import BootRequest, BootResult, boot, wait_booted
from harness.errors import BootError, QemuDiedError
from harness.machine.qemu import Machine, MachineOptions

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
KERN_BASE = 0x8004000000
KEEP_TEXT = b"vmcheck fsround: this file was written by a user program.\n"
POWEROFF = re.compile(r"^vmcheck: poweroff user_frames_free=(\d+)/(\d+) ", re.MULTILINE)
LONG_SPIN = ["spin", "S", "2000000000"]  # runs for minutes under TCG


@pytest.fixture
def run_boot(built, run_root):
    """Boots the reference kernel through the library: run_boot(runs, ...)."""
    def run(runs, **request) -> BootResult:
        return boot(ReferenceAdapter(), BootRequest(runs=runs, **request),
                    MachineOptions(run_root=run_root))
    return run


@pytest.fixture
def vmcheck_cli(built, tmp_path):
    """Runs ./vmcheck (run directories under tmp_path)."""
    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(REPO_ROOT / "vmcheck"), *args], capture_output=True,
                              text=True, timeout=timeout,
                              env={**os.environ, "TMPDIR": str(tmp_path)})
    return run


def assert_clean_poweroff(result: BootResult) -> None:
    """Powered off by itself, no panic, and every user frame free again."""
    assert result.outcome.ending is Ending.POWEROFF, result.console
    assert result.outcome.panic_line is None, result.console
    frames = POWEROFF.search(result.console)
    assert frames, f"no power-off line:\n{result.console}"
    assert frames.group(1) == frames.group(2), f"user frames leaked: {frames.group(0)}"


# ---- through the command line ----

def test_hello_through_the_cli(vmcheck_cli):
    done = vmcheck_cli("boot", "--", "hello")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "Hello, world!" in lines and "hello: exit(0)" in lines
    assert "Traceback" not in done.stderr


def test_cli_exit_status_is_the_programs(vmcheck_cli):
    done = vmcheck_cli("boot", "--put", "child-exit", "--", "child-exit", "42")
    assert done.returncode == 42, done.stdout + done.stderr
    assert "child-exit: exit(42)" in done.stdout.splitlines()


def test_cli_keep_leaves_the_disk_for_the_host(vmcheck_cli):
    done = vmcheck_cli("boot", "--keep", "--", "fsround")
    assert done.returncode == 0, done.stdout + done.stderr
    kept = re.search(r"run directory kept: (\S+)", done.stderr)
    assert kept, done.stderr
    assert fsimage.read_file(Path(kept.group(1)) / "fs.img", "keep.txt") == KEEP_TEXT


# ---- through the library ----

def test_args_reach_main(run_boot):
    result = run_boot([["args", "a", "bc"]])
    assert_clean_poweroff(result)
    expected = ["(args) begin", "(args) argc = 3", "(args) argv[0] = 'args'",
                "(args) argv[1] = 'a'", "(args) argv[2] = 'bc'", "(args) argv[3] = null",
                "(args) end", "args: exit(0)"]
    lines = result.console.splitlines()
    assert lines[lines.index("(args) begin"):][:len(expected)] == expected


def test_fork_exec_wait_tree(run_boot):
    result = run_boot([["forktree"]], extra_programs=["child-exit"])
    assert_clean_poweroff(result)
    assert result.outcome.status_of("forktree") == 0, result.console
    child_statuses = [e.status for e in result.outcome.exits if e.name == "child-exit"]
    assert sorted(child_statuses) == [-3, 0, 5, 81]
    assert "(forktree) end" in result.console


def test_file_system_round_trip_is_on_the_disk_afterwards(run_boot):
    result = run_boot([["fsround"]], read_back=["keep.txt", "data.bin"])
    assert_clean_poweroff(result)
    assert result.outcome.status_of("fsround") == 0, result.console
    assert result.files["keep.txt"] == KEEP_TEXT
    assert len(result.files["data.bin"]) == 10000


@pytest.mark.parametrize("program, variants", [
    ("badptr-read", ["null", "unmapped", "kernel", "straddle", "code"]),
    ("badptr-write", ["null", "unmapped", "kernel", "straddle"]),
    ("badptr-open", ["null", "unmapped", "kernel", "straddle"]),
    ("badptr-exec", ["null", "unmapped", "kernel", "straddle"]),
])
def test_bad_pointers_kill_only_the_process(run_boot, program, variants):
    runs = [[program, v] for v in variants] + [["hello"]]
    result = run_boot(runs)
    assert_clean_poweroff(result)
    expected = [ProcessExit(program, -1)] * len(variants) + [ProcessExit("hello", 0)]
    assert result.outcome.exits == expected, result.console
    assert "FAIL" not in result.console


def test_user_faults_end_the_process_with_minus_one(run_boot):
    faults = [["fault-pf", v] for v in ["null-read", "null-write", "kernel-read",
                                        "kernel-write", "unmapped-read", "code-write"]]
    faults += [["fault-div", "zero"], ["fault-div", "overflow"]]
    faults += [["fault-priv", v] for v in ["hlt", "cli", "cr3", "in"]]
    result = run_boot(faults + [["hello"]])
    assert_clean_poweroff(result)
    expected = [ProcessExit(run[0], -1) for run in faults] + [ProcessExit("hello", 0)]
    assert result.outcome.exits == expected, result.console


def test_bad_file_descriptors(run_boot):
    result = run_boot([["badfd"]])
    assert_clean_poweroff(result)
    assert result.outcome.status_of("badfd") == 0, result.console
    assert "(badfd) end" in result.console


def test_two_cpu_bound_processes_both_make_progress(run_boot):
    result = run_boot([["preempt"]], extra_programs=["spin"])
    assert_clean_poweroff(result)
    assert result.outcome.status_of("preempt") == 0, result.console
    lines = result.console.splitlines()
    first_done = min(i for i, line in enumerate(lines) if line in ("A done", "B done"))
    before = lines[:first_done]
    assert any(re.fullmatch(r"A \d+", line) for line in before), result.console
    assert any(re.fullmatch(r"B \d+", line) for line in before), result.console


def test_get_phys_addr_gives_frames_inside_guest_ram(run_boot):
    mem_mb = 20
    result = run_boot([["physaddr"]], mem_mb=mem_mb)
    assert_clean_poweroff(result)
    assert result.outcome.status_of("physaddr") == 0, result.console
    frames = {m.group(1): int(m.group(2), 16) for m in
              re.finditer(r"^\(physaddr\) (\w+) \S+ -> frame (0x[0-9a-f]+)$", result.console,
                          re.MULTILINE)}
    assert set(frames) == {"data", "stack", "code"}, result.console
    for what, kva in frames.items():
        assert kva % 4096 == 0 and KERN_BASE <= kva < KERN_BASE + (mem_mb << 20), what


def test_wait_booted_returns_at_the_boot_marker(built, run_root):
    """Started paused: with nothing to run the kernel powers off within
    milliseconds, and on a quiet host a running start could exit before the
    QMP greeting was read (seen in a fresh-clone CI run)."""
    adapter = ReferenceAdapter()
    with Machine(MachineOptions(run_root=run_root, paused=True)) as machine:
        disks = adapter.make_disks(machine.run_dir, {}, {}, 0)
        machine.start(adapter.qemu_args(disks, "", 20))
        machine.resume()
        assert wait_booted(machine, adapter, 30).group(0) == "vmcheck: boot complete"
        assert machine.wait_exit(30) == 33  # nothing to run: power-off


def test_a_kernel_that_dies_while_booting_is_a_boot_error(built, run_root):
    """The kernel panics within milliseconds of starting: on a quiet host
    QEMU can exit (status 35, the kernel's panic exit) before the harness
    has connected to its QMP socket, and start() says so (QemuDiedError),
    else wait_booted does (BootError). Either way the error names the
    status and carries the panic (seen in a CI run on an idle host)."""
    adapter = ReferenceAdapter()
    with pytest.raises((BootError, QemuDiedError)) as info:
        with Machine(MachineOptions(run_root=run_root)) as machine:
            disks = adapter.make_disks(machine.run_dir, {}, {}, 0)
            machine.start(adapter.qemu_args(disks, "run 'unterminated", 20))
            wait_booted(machine, adapter, 30)
    said = str(info.value)
    assert ("did not boot: QEMU exited with status 35" in said
            if isinstance(info.value, BootError) else info.value.exit_status == 35), said
    assert any("Kernel PANIC" in line for line in info.value.console_tail), info.value


# ---- timeouts and interruptions leave nothing behind ----

def test_timeout_exits_3_naming_what_was_awaited(vmcheck_cli, our_processes):
    """Without -icount the timeout is wall time, as it always was."""
    started = time.monotonic()
    done = vmcheck_cli("boot", "--no-icount", "--timeout", "1", "--timeout-scale", "1", "--put",
                       "spin", "--", *LONG_SPIN)  # scale given: not a loaded host's VMCHECK_TIMEOUT_SCALE
    assert done.returncode == 3, done.stderr
    assert "timed out after 1.0 s waiting for the kernel to power off" in done.stderr
    log = re.search(r"full log: (\S+)", done.stderr)
    assert log and Path(log.group(1)).is_file()
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30
    assert our_processes() == []


def test_under_icount_the_timeout_is_guest_time(vmcheck_cli, our_processes):
    """0.5 guest seconds of a spin that needs about 1 and prints a line
    every ~0.1 s (so the "no progress" rule, at half the timeout, does not
    fire); the wall-clock net (3 x 0.5 s x scale 50 = 75 s) is far away,
    so the guest clock ends it."""
    done = vmcheck_cli("boot", "--timeout", "0.5", "--timeout-scale", "50", "--put", "spin",
                       "--", "spin", "S", "300000000")
    assert done.returncode == 3, done.stderr
    assert "timed out: no power-off within 0.5 s of guest time (the guest clock ran out" \
        in done.stderr
    assert "Traceback" not in done.stderr
    assert our_processes() == []


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_killing_the_cli_mid_run_leaves_no_qemu(built, tmp_path, our_processes, signum, status):
    cli = subprocess.Popen([str(REPO_ROOT / "vmcheck"), "boot", "--put", "spin", "--",
                            *LONG_SPIN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        assert wait_for_line(cli, "Executing", 30), "the kernel never started the program"
        assert our_processes(), "QEMU should be running now"
        cli.send_signal(signum)
        assert cli.wait(30) == status
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(10)
    deadline = time.monotonic() + 5
    while our_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert our_processes() == []
    assert list(tmp_path.glob("vmcheck-*")) == [], "the run directory was not removed"


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float) -> bool:
    """Reads PROC's stdout until a line starts with PREFIX (True) or the
    stream ends or TIMEOUT passes (False)."""
    os.set_blocking(proc.stdout.fileno(), False)
    deadline, buffer = time.monotonic() + timeout, b""
    while time.monotonic() < deadline:
        chunk = proc.stdout.read()
        if chunk:
            buffer += chunk
            if any(line.startswith(prefix.encode()) for line in buffer.splitlines()):
                return True
        elif proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False
