"""harness/machine/cpu_slots.py: a CPU per machine, held across processes
by flock; what the starting thread forks runs there, the thread does not."""
import os
import subprocess
import sys
import threading

import pytest

import harness.machine.cpu_slots as cpu_slots
from harness.machine.cpu_slots import OPT_OUT_VARIABLE, CpuSlot

ALLOWED = sorted(os.sched_getaffinity(0))
two_cpus = pytest.mark.skipif(len(ALLOWED) < 2, reason="this process may use only one CPU, "
                              "so pinning cannot move a thread")


def child_cpus(pid: int) -> str:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no Cpus_allowed_list")


def test_each_slot_takes_a_cpu_no_other_holds(tmp_path):
    with CpuSlot.reserve({3, 5}, tmp_path) as a, CpuSlot.reserve({3, 5}, tmp_path) as b:
        assert {a.cpu, b.cpu} == {3, 5}
        with CpuSlot.reserve({3, 5}, tmp_path) as c:
            assert c.cpu is None and c.note == "not pinned (all 2 allowed CPUs taken)"
        freed = a.cpu
        a.close()
        with CpuSlot.reserve({3, 5}, tmp_path) as d:
            assert d.cpu == freed


def test_a_cpu_held_by_another_process_is_skipped(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | "
         "os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
         str(tmp_path / "cpu7")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        for _ in range(4):                      # whatever CPU each try starts from
            with CpuSlot.reserve({7, 8}, tmp_path) as slot:
                assert slot.cpu == 8
    finally:
        holder.stdin.close()
        holder.wait(10)
    with CpuSlot.reserve({7}, tmp_path) as slot:  # its lock went with the process
        assert slot.cpu == 7


def test_off_by_environment_and_without_a_lock_folder(tmp_path):
    off = CpuSlot.reserve({0}, tmp_path / "slots", environ={OPT_OUT_VARIABLE: "0"})
    assert off.cpu is None and OPT_OUT_VARIABLE in off.note
    assert not (tmp_path / "slots").exists()
    (tmp_path / "file").write_text("")
    nowhere = CpuSlot.reserve({0}, tmp_path / "file" / "slots", environ={})
    assert nowhere.cpu is None and "no lock folder" in nowhere.note
    with off.pinned_here():                      # nothing to pin: no change
        assert os.sched_getaffinity(0) == set(ALLOWED)


def run_in_thread(body):
    """BODY run in a fresh thread (whose affinity the test may change)."""
    out, errors = {}, []

    def target():
        try:
            body(out)
        except BaseException as e:      # noqa: BLE001 - reported to the test
            errors.append(e)
    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]
    return out


@two_cpus
def test_what_is_forked_in_the_block_keeps_the_cpu_the_thread_does_not(tmp_path):
    def body(out):
        out["own"] = os.sched_getaffinity(0)
        with CpuSlot.reserve({ALLOWED[1]}, tmp_path) as slot:
            with slot.pinned_here():
                out["inside"] = os.sched_getaffinity(0)
                child = subprocess.Popen(["sleep", "5"])
            out["after"] = os.sched_getaffinity(0)
            out["child"] = child_cpus(child.pid)
            child.kill()
            child.wait()
    out = run_in_thread(body)
    assert out["inside"] == {ALLOWED[1]}
    assert out["child"] == str(ALLOWED[1])
    assert out["after"] == out["own"]


@two_cpus
def test_a_failed_fork_leaves_the_thread_on_its_own_cpus(tmp_path):
    def body(out):
        out["own"] = os.sched_getaffinity(0)
        with CpuSlot.reserve({ALLOWED[0]}, tmp_path) as slot:
            try:
                with slot.pinned_here():
                    subprocess.Popen([str(tmp_path / "no-such-program")])
            except OSError:
                pass
        out["after"] = os.sched_getaffinity(0)
    out = run_in_thread(body)
    assert out["after"] == out["own"]


def test_the_lock_folder_does_not_follow_tmpdir(tmp_path, monkeypatch):
    """Runs with their own TMPDIR share the CPUs all the same; the temporary
    folder only where /dev/shm cannot be written."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    folder = cpu_slots.slots_folder()
    assert folder.name == f"vmcheck-cpu-slots-{os.getuid()}"
    if os.access("/dev/shm", os.W_OK | os.X_OK):
        assert folder.parent == cpu_slots.SHARED_MEMORY
    monkeypatch.setattr(cpu_slots, "SHARED_MEMORY", tmp_path / "no-shm")
    assert cpu_slots.slots_folder().parent == tmp_path
