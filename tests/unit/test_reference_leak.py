"""The reference kernel's power-off check (ReferenceAdapter.leak_problem):
every user frame and swap slot free again, every file handle closed and
no more kernel heap blocks in use than at boot once every process ended;
the message names only what leaked."""

from __future__ import annotations

from harness.adapters.base import BootOutcome, Ending
from harness.adapters.reference.adapter import ReferenceAdapter


def leak(line):
    outcome = BootOutcome(ending=Ending.POWEROFF, qemu_status=0, exits={},
                          poweroff_line=line)
    return ReferenceAdapter().leak_problem(outcome)


def test_nothing_left_is_no_leak_with_or_without_the_file_count():
    assert leak("vmcheck: poweroff user_frames_free=40/40 swap_slots_free=1024/1024 "
                "open_files=0") is None
    assert leak("vmcheck: poweroff user_frames_free=40/40 swap_slots_free=0/0") is None


def test_an_open_file_handle_is_a_leak_and_only_it_is_named():
    said = leak("vmcheck: poweroff user_frames_free=40/40 swap_slots_free=8/8 open_files=3")
    assert said.startswith("leak after every process ended: 3 open file handles never "
                           "closed (a correct kernel")
    assert "frame" not in said.split("(")[0] and "slot" not in said.split("(")[0]


def test_frames_slots_and_files_are_all_named():
    said = leak("vmcheck: poweroff user_frames_free=38/40 swap_slots_free=7/8 open_files=1")
    assert said.startswith("leak after every process ended: 2 user frames still in use, "
                           "1 swap slots still in use, 1 open file handles never closed")


def test_an_unreadable_line_is_said_and_no_line_is_no_verdict():
    assert leak("vmcheck: poweroff nonsense").startswith("unreadable power-off line")
    assert leak(None) is None


def test_a_lock_not_free_at_power_off_is_named():
    """vm-frame-248 / -311 (generated, a `vm_lock()` dropped before its
    `vm_unlock()`): each pass releases the VM lock once more than it takes
    it, so its semaphore counts above 1 and it admits several threads."""
    free = "vmcheck: poweroff user_frames_free=40/40 swap_slots_free=8/8 open_files=0"
    assert leak(f"{free} vm_lock=1 vmfs_lock=1") is None
    said = leak(f"{free} vm_lock=5 vmfs_lock=1")
    assert said.startswith("leak after every process ended: the VM lock released 4 more "
                           "time(s) than taken (its semaphore counts 5: it admits 5 threads")
    assert "vmfs_lock" not in said
    assert "vmfs_lock still held" in leak(f"{free} vm_lock=1 vmfs_lock=0")


def test_the_swap_map_s_lock_released_without_being_taken_is_named():
    """vm-swap-42 / -56 (generated, swap_alloc's or swap_free's
    `lock_acquire` dropped): without assertions every slot taken or given
    back releases the swap map's lock once more than it is taken."""
    free = ("vmcheck: poweroff user_frames_free=40/40 swap_slots_free=8/8 open_files=0 "
            "vm_lock=1 vmfs_lock=1 heap_blocks=5/5")
    assert leak(f"{free} swap_lock=1") is None
    said = leak(f"{free} swap_lock=9")
    assert "the swap map's lock released 8 more time(s) than taken" in said
    assert "the swap map's lock still held" in leak(f"{free} swap_lock=0")


def test_heap_blocks_above_the_boot_count_are_a_leak():
    """vm-file_page-50 / vm-mmap-64 (generated, a `free()` dropped): a
    mapping's records stay allocated; nothing else the harness reads shows it."""
    free = ("vmcheck: poweroff user_frames_free=40/40 swap_slots_free=8/8 open_files=0 "
            "vm_lock=1 vmfs_lock=1")
    assert leak(f"{free} heap_blocks=12/12") is None
    assert leak(f"{free} heap_blocks=11/12") is None   # a boot-time block freed: no leak
    said = leak(f"{free} heap_blocks=14/12")
    assert said.startswith("leak after every process ended: 2 kernel heap blocks never freed "
                           "(a correct kernel")
    assert leak(free) is None                           # an older kernel: no heap count
