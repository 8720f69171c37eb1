"""QEMU's environment and command prefix (harness/machine/qemu_launch.py)."""

from pathlib import Path

from harness.machine.qemu_launch import (qemu_environment, with_heap_tunable,
                                         with_parent_death_signal)


def test_the_heap_tunable_is_added_to_an_empty_environment():
    env = qemu_environment(Path("/tmp/run-x"), base={"PATH": "/usr/bin"})
    assert env == {"PATH": "/usr/bin", "VMCHECK_RUN_DIR": "/tmp/run-x",
                   "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}


def test_a_users_other_tunables_are_kept_beside_it():
    assert with_heap_tunable("glibc.malloc.arena_max=2") == \
        "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    assert with_heap_tunable("a=1::b=2") == "a=1:b=2:glibc.malloc.hugetlb=1"


def test_a_users_own_hugetlb_setting_wins():
    assert with_heap_tunable("glibc.malloc.hugetlb=0") == "glibc.malloc.hugetlb=0"
    assert with_heap_tunable("x=1:glibc.malloc.hugetlb=2") == "x=1:glibc.malloc.hugetlb=2"


def test_the_opt_out_leaves_the_tunables_alone():
    env = qemu_environment(Path("/r"), base={"VMCHECK_QEMU_HEAP_THP": "0",
                                             "GLIBC_TUNABLES": "a=1"})
    assert env["GLIBC_TUNABLES"] == "a=1"
    assert "GLIBC_TUNABLES" not in qemu_environment(Path("/r"), base={"VMCHECK_QEMU_HEAP_THP": "0"})


def test_the_parent_death_prefix_names_setpriv_when_it_exists(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/setpriv")
    assert with_parent_death_signal(["qemu", "-S"]) == \
        ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "qemu", "-S"]
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert with_parent_death_signal(["qemu"]) == ["qemu"]
