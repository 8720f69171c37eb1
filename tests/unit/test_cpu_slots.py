"""harness/machine/cpu_slots.py: a CPU per machine, held across processes
by flock, the thread that starts the machine pinned to it until close."""
import os
import subprocess
import sys
import threading

import pytest

import harness.machine.cpu_slots as cpu_slots
from harness.machine.cpu_slots import OPT_OUT_VARIABLE, CpuSlot, own_affinity

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
    off.pin_thread()                             # nothing to pin: no change
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
def test_the_thread_and_what_it_forks_run_on_the_cpu_until_close(tmp_path):
    def body(out):
        own = os.sched_getaffinity(0)
        slot = CpuSlot.reserve({ALLOWED[1]}, tmp_path)
        slot.pin_thread()
        out["pinned"] = os.sched_getaffinity(0)
        child = subprocess.Popen(["sleep", "5"])
        out["child"] = child_cpus(child.pid)
        child.kill()
        child.wait()
        slot.close()
        out["after"], out["own"] = os.sched_getaffinity(0), own
    out = run_in_thread(body)
    assert out["pinned"] == {ALLOWED[1]}
    assert out["child"] == str(ALLOWED[1])
    assert out["after"] == out["own"]


@two_cpus
def test_nested_slots_choose_from_the_threads_own_cpus_and_restore_them(tmp_path):
    def body(out):
        own = os.sched_getaffinity(0)
        first = CpuSlot.reserve(None, tmp_path)
        first.pin_thread()
        assert own_affinity() == own             # not just the pinned CPU
        second = CpuSlot.reserve(None, tmp_path)
        assert second.cpu is not None and second.cpu != first.cpu
        second.pin_thread()
        first.close()                            # out of order: the thread stays pinned
        out["while_second"] = os.sched_getaffinity(0)
        second.close()
        out["after"], out["own"] = os.sched_getaffinity(0), own
    out = run_in_thread(body)
    assert len(out["while_second"]) == 1
    assert out["after"] == out["own"]


@two_cpus
def test_closed_from_another_thread_the_pinned_thread_is_put_back(tmp_path):
    pinned, release, done = threading.Event(), threading.Event(), {}
    slot = CpuSlot.reserve({ALLOWED[0]}, tmp_path)

    def worker():
        done["own"] = os.sched_getaffinity(0)
        slot.pin_thread()
        pinned.set()
        release.wait(30)
        done["after"] = os.sched_getaffinity(0)
    thread = threading.Thread(target=worker)
    thread.start()
    assert pinned.wait(30)
    slot.close()                                 # from the test's thread
    release.set()
    thread.join(30)
    assert done["after"] == done["own"]


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
