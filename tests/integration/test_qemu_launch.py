"""QEMU runs with its heap on huge pages (harness/machine/qemu_launch.py):
the started process's environment carries the glibc tunable and glibc
honoured it (the heap mapping is madvise'd MADV_HUGEPAGE: VmFlags `hg`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.adapters import get_adapter
from harness.machine.qemu import Machine, MachineOptions

pytestmark = pytest.mark.integration


def _glibc_has_the_tunable() -> bool:
    major, minor = (int(x) for x in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2])
    return (major, minor) >= (2, 35)


def _thp_mode() -> str | None:
    """The host's transparent-huge-page mode (the bracketed word), None
    without THP."""
    try:
        text = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return None
    return text.split("[", 1)[1].split("]", 1)[0] if "[" in text else None


def _heap_flags(pid: int) -> str | None:
    in_heap = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if line.endswith("[heap]"):
            in_heap = True
        elif in_heap and line.startswith("VmFlags:"):
            return line
    return None


def test_qemu_starts_with_its_heap_on_huge_pages(built, run_root, monkeypatch):
    monkeypatch.delenv("VMCHECK_QEMU_HEAP_THP", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    adapter = get_adapter("reference")
    with Machine(MachineOptions(paused=True, run_root=run_root)) as m:
        disks = adapter.make_disks(m.run_dir, {"hello": adapter.find_program("hello")}, {}, 0)
        m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["hello"]]), 20))
        environ = Path(f"/proc/{m.pid}/environ").read_bytes().split(b"\0")
        flags = _heap_flags(m.pid)
        m.kill()
    assert b"GLIBC_TUNABLES=glibc.malloc.hugetlb=1" in environ
    assert f"VMCHECK_RUN_DIR={m.run_dir}".encode() in environ
    if not _glibc_has_the_tunable():
        pytest.skip("glibc before 2.35 has no glibc.malloc.hugetlb tunable")
    if _thp_mode() != "madvise":   # glibc madvises only then ("always" needs no madvise)
        pytest.skip(f"transparent huge pages are {_thp_mode() or 'absent'} on this host, "
                    "not madvise: glibc leaves the heap as it is")
    assert flags is not None and " hg" in flags, flags


def _cpu_list(text: str) -> frozenset:
    """/proc's Cpus_allowed_list ("0-3,6") as a set of CPUs."""
    cpus = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return frozenset(cpus)


def _threads_cpus(pid: int) -> set:
    """The distinct sets of allowed CPUs of QEMU's threads."""
    sets = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                sets.add(_cpu_list(line.split(":", 1)[1].strip()))
    return sets


ALLOWED = frozenset(os.sched_getaffinity(0))      # the process's CPUs before any machine


@pytest.mark.skipif(len(ALLOWED) < 2, reason="this process may use only one CPU: nothing to pin to")
@pytest.mark.parametrize("pin", ["1", "0"])
def test_every_qemu_thread_runs_on_the_machines_cpu(built, run_root, monkeypatch, tmp_path, pin):
    """harness/machine/cpu_slots.py: QEMU's threads (vCPU, main loop, RCU,
    monitor) on one CPU, the harness's thread left on its own CPUs; all
    CPUs with VMCHECK_CPU_PIN=0."""
    import threading
    import harness.machine.cpu_slots as cpu_slots
    monkeypatch.setattr(cpu_slots, "slots_folder", lambda: tmp_path)
    monkeypatch.setenv("VMCHECK_CPU_PIN", pin)
    adapter = get_adapter("reference")
    seen, errors = {}, []

    def start_one():
        try:
            seen["own"] = os.sched_getaffinity(0)
            with Machine(MachineOptions(paused=True, run_root=run_root)) as m:
                disks = adapter.make_disks(m.run_dir, {"hello": adapter.find_program("hello")},
                                           {}, 0)
                m.start(adapter.qemu_args(disks, adapter.kernel_cmdline([["hello"]]), 20))
                m.resume()
                seen["cpu"], seen["qemu"] = m.cpu_slot.cpu, _threads_cpus(m.pid)
                seen["harness"] = os.sched_getaffinity(0)
                m.kill()
            seen["after"] = os.sched_getaffinity(0)
        except BaseException as e:      # noqa: BLE001 - raised in the test's thread
            errors.append(e)
    thread = threading.Thread(target=start_one)
    thread.start()
    thread.join(120)
    assert not errors, errors
    assert seen["own"] == ALLOWED, "a machine started earlier left its thread pinned"
    assert seen["after"] == seen["own"]
    if pin == "0":
        assert seen["cpu"] is None and seen["harness"] == seen["own"]
        assert seen["qemu"] == {frozenset(seen["own"])}
    else:
        assert seen["cpu"] in seen["own"] and seen["harness"] == seen["own"]
        assert seen["qemu"] == {frozenset({seen["cpu"]})}
