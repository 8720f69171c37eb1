"""The machine layer without a kernel: a paused QEMU (-S) is enough to test
start, QMP, fail-fast, timeouts, teardown, snapshots and the safety nets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from harness.config import Timeouts
from harness.errors import (EXIT_HARNESS, HarnessError, MachineTimeout, QemuDiedError,
                            QemuNotFoundError, UsageError)
from harness.machine.qemu import Machine, MachineOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
NO_KERNEL = ["-M", "pc", "-bios", "/usr/share/qemu/qboot.rom", "-m", "20", "-nic", "none"]


def paused(run_root, **kw) -> MachineOptions:
    return MachineOptions(paused=True, run_root=run_root, **kw)


def gone(pid: int, within: float = 3.0) -> bool:
    """True once PID no longer exists (or is a zombie) within WITHIN s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def test_paused_machine_answers_qmp_and_close_removes_everything(run_root):
    with Machine(paused(run_root)) as m:
        m.start(NO_KERNEL)
        assert m.status() == "prelaunch"
        assert m.qmp_socket.exists() and m.gdb_socket.exists()
        pid, run_dir = m.pid, m.run_dir
        assert psutil.Process(pid).name().startswith("qemu-system")
    assert m.process.returncode is not None
    assert gone(pid)
    assert not run_dir.exists()


def test_keep_leaves_the_run_directory(run_root):
    with Machine(paused(run_root, keep=True)) as m:
        m.start(NO_KERNEL)
    assert m.kept and (m.run_dir / "console.log").is_file()


def test_qemu_is_in_its_own_process_group(run_root):
    with Machine(paused(run_root)) as m:
        m.start(NO_KERNEL)
        assert os.getpgid(m.pid) == m.pid != os.getpgid(0)


def test_bad_option_fails_fast_with_qemu_stderr(run_root):
    started = time.monotonic()
    with pytest.raises(QemuDiedError) as info:
        with Machine(MachineOptions(run_root=run_root)) as m:
            m.start(["-no-such-option"])
    assert time.monotonic() - started < 5
    assert "invalid option" in str(info.value) and "-no-such-option" in str(info.value)
    assert info.value.exit_code == EXIT_HARNESS
    assert m.process.returncode == 1


def test_missing_kernel_file_is_reported_with_qemu_stderr(run_root):
    with pytest.raises(QemuDiedError, match="could not open kernel file"):
        with Machine(MachineOptions(run_root=run_root)) as m:
            m.start(NO_KERNEL + ["-kernel", str(run_root / "no-such-kernel.elf")])


def test_missing_qemu_binary_is_a_harness_error(run_root):
    with pytest.raises(QemuNotFoundError, match="not found") as info:
        with Machine(MachineOptions(run_root=run_root, qemu="/nonexistent/qemu")) as m:
            m.start(NO_KERNEL)
    assert info.value.exit_code == EXIT_HARNESS


def test_bad_accelerator_is_a_usage_error(run_root):
    with pytest.raises(UsageError, match="--accel"):
        Machine(MachineOptions(run_root=run_root, accel="hvf"))


def test_timeout_names_what_was_awaited_and_keeps_the_log(run_root):
    with pytest.raises(MachineTimeout) as info:
        with Machine(paused(run_root)) as m:
            m.start(NO_KERNEL)
            m.wait_exit(0.2, "the kernel to power off")
    message = str(info.value)
    assert "waiting for the kernel to power off" in message
    assert f"full log: {m.console_log}" in message
    assert m.kept and m.console_log.exists()
    assert gone(m.pid)


def test_timeout_scale_multiplies_every_wait(run_root):
    options = paused(run_root, keep_on_error=False, timeouts=Timeouts(scale=4))
    with Machine(options) as m:
        m.start(NO_KERNEL)
        started = time.monotonic()
        with pytest.raises(MachineTimeout, match=r"after 0\.4 s"):
            m.wait_exit(0.1)
        assert time.monotonic() - started >= 0.4


def test_console_wait_times_out_with_a_clear_message(run_root):
    with Machine(paused(run_root, keep_on_error=False)) as m:
        m.start(NO_KERNEL)
        with pytest.raises(MachineTimeout, match="waiting for the boot banner"):
            m.wait_for_console("never printed", 0.2, awaited="the boot banner")


def test_close_kills_a_qemu_that_does_not_answer_quit(run_root):
    timeouts = Timeouts(quit_grace=0.3, kill_wait=3)
    with Machine(paused(run_root, timeouts=timeouts)) as m:
        m.start(NO_KERNEL)
        os.kill(m.pid, signal.SIGSTOP)  # QMP quit now gets no answer
        started = time.monotonic()
    assert time.monotonic() - started < 3
    assert m.process.returncode == -signal.SIGKILL


def test_close_is_idempotent_and_survives_a_dead_qemu(run_root):
    m = Machine(paused(run_root))
    m.start(NO_KERNEL)
    os.kill(m.pid, signal.SIGKILL)
    m.close()
    m.close()
    assert not m.run_dir.exists()


def test_long_run_root_puts_sockets_in_a_short_directory(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    with Machine(paused(deep)) as m:
        m.start(NO_KERNEL)
        assert len(str(m.qmp_socket)) <= 107 and m.qmp_socket.parent != m.run_dir
        assert m.status() == "prelaunch"
        socket_dir = m.qmp_socket.parent
    assert not socket_dir.exists()


def test_command_line_has_icount_only_under_tcg(run_root):
    m = Machine(MachineOptions(run_root=run_root))
    line = m.command_line(["-guest"])
    assert line[line.index("-icount") + 1] == "shift=0,sleep=off"
    assert "-no-reboot" in line and line[-1] == "-guest" and "-S" not in line
    m.options.icount = False
    assert "-icount" not in m.command_line([])
    m.close()


def test_savevm_and_loadvm_on_a_qcow2_drive(run_root):
    disk = run_root / "state.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1M"], check=True)
    drive = ["-drive", f"file={disk},format=qcow2,if=ide,index=0"]
    with Machine(paused(run_root, keep_on_error=False)) as m:
        m.start(NO_KERNEL + drive)
        m.savevm("ready")
        assert m.snapshots() == ["ready"]
        m.loadvm("ready")
        with pytest.raises(HarnessError, match="loadvm failed.*missing"):
            m.loadvm("missing")
        with pytest.raises(UsageError, match="snapshot tag"):
            m.savevm("bad tag;quit")
        m.delvm("ready")
        assert m.snapshots() == []


def test_savevm_without_a_qcow2_drive_is_a_clear_error(run_root):
    with Machine(paused(run_root, keep_on_error=False)) as m:
        m.start(NO_KERNEL)
        with pytest.raises(HarnessError, match="savevm failed"):
            m.savevm("ready")


# ---- safety nets, in a separate harness process ----

HARNESS_SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from harness import interrupt
    from harness.machine.qemu import Machine, MachineOptions
    with interrupt.handling(), Machine(MachineOptions(paused=True, run_root={root!r})) as m:
        m.start({args!r})
        print(m.pid, m.run_dir, flush=True)
        time.sleep(60)
""")


def start_harness(run_root) -> tuple[subprocess.Popen, int, Path]:
    script = HARNESS_SCRIPT.format(repo=str(REPO_ROOT), root=str(run_root), args=NO_KERNEL)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid, run_dir = proc.stdout.readline().split()
    return proc, int(pid), Path(run_dir)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_to_the_harness_kills_qemu_and_cleans_up(run_root, signum):
    proc, qemu_pid, run_dir = start_harness(run_root)
    proc.send_signal(signum)
    status = proc.wait(10)
    assert status != 0
    assert gone(qemu_pid)
    assert not run_dir.exists()


def test_sigkill_of_the_harness_still_kills_qemu(run_root):
    proc, qemu_pid, _ = start_harness(run_root)
    proc.kill()
    proc.wait(10)
    assert gone(qemu_pid), "parent-death signal did not stop QEMU"


def test_kvm_served_by_pvm_is_refused_with_the_reason(tmp_path):
    """PVM's /dev/kvm cannot run our guests (the first syscall faults);
    hardware KVM, or no module information at all, is not refused."""
    from harness.machine.qemu import kvm_refusal
    (tmp_path / "kvm").mkdir()
    assert kvm_refusal(tmp_path) is None
    (tmp_path / "kvm_pvm").mkdir()
    assert "PVM" in kvm_refusal(tmp_path) and "--accel tcg" in kvm_refusal(tmp_path)
    (tmp_path / "kvm_amd").mkdir()
    assert kvm_refusal(tmp_path) is None


def test_guest_ram_is_mapped_and_its_file_unlinked(run_root, tmp_path, monkeypatch):
    monkeypatch.setenv("VMCHECK_SHM_DIR", str(tmp_path))
    with Machine(paused(run_root)) as m:
        m.start(NO_KERNEL)
        line = m.command_line(NO_KERNEL)
        assert "memory-backend=vmcheck-ram" in line and m.guest_ram_note is None
        assert m.guest_ram.size == 20 << 20
        assert len(m.guest_ram.read((20 << 20) - 16, 16)) == 16
        assert list(tmp_path.iterdir()) == []     # unlinked once both sides had it


@pytest.mark.parametrize("options, note", [({"shared_ram": False}, "shared guest RAM is off"),
                                           ({}, "no writable memory file system")])
def test_without_shared_ram_the_machine_says_why(run_root, tmp_path, monkeypatch, options,
                                                 note):
    monkeypatch.setenv("VMCHECK_SHM_DIR", str(tmp_path / "missing"))
    with Machine(paused(run_root, **options)) as m:
        m.start(NO_KERNEL)
        assert m.guest_ram is None and note in m.guest_ram_note
        assert not any("memory-backend" in arg for arg in m.command_line(NO_KERNEL))
