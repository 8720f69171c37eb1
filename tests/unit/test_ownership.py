"""The copy-on-write and swap-slot ownership invariants (oracles/ownership.py):
each passes on a sound state, FAILs naming what a correct kernel would
have on a state that breaks it, and is UNKNOWN (never FAIL) where the
field it needs is not read."""

import dataclasses

from oracles.invariants import INVARIANTS, check_invariants
from oracles.model.machine_state import FAIL, NOT_JUDGED, UNKNOWN, PoolState, by_outcome
from tests.unit.oracle_states import (CODE, DATA, RO, RW, STACK, good_process, mapping,
                                      replace_spt, state, with_maps)

SWAPPED = DATA + 0x2000   # good_process's page in swap slot 3


def only(name, st):
    return INVARIANTS[name](st)


def data_read_only(pid=1, base=0x100000, **spt):
    """good_process with its writable data page mapped read-only."""
    p = with_maps(good_process(pid, base), [mapping(CODE, base, RO), mapping(DATA, base + 0x1000, RO),
                                           mapping(STACK, base + 0x2000, RW)])
    return replace_spt(p, DATA, **spt)


def pools(st, **changes):
    return dataclasses.replace(st, pools=dataclasses.replace(st.pools, **changes))


# ---- unshared_frame_writable ----

def test_last_sharer_left_read_only_fails_naming_the_w_bit():
    [v] = only("unshared_frame_writable", state(data_read_only(cow=False)))
    assert v.outcome == FAIL and v.va == DATA and v.pid == 1
    assert v.expected.startswith("W set") and "gives this one its write access back" in v.expected
    assert v.actual.startswith("W clear")


def test_read_only_page_still_shared_passes():
    assert only("unshared_frame_writable", state(data_read_only(cow=True))) == []


def test_frame_another_pte_maps_is_shared_whatever_the_count_says():
    a = data_read_only(1, 0x100000, cow=False)
    b = with_maps(good_process(2, 0x200000), [mapping(CODE, 0x200000, RO),
                                              mapping(DATA, 0x101000, RO),
                                              mapping(STACK, 0x202000, RW)])
    b = replace_spt(b, DATA, frame_pa=0x101000, cow=False)
    assert only("unshared_frame_writable", state(a, b)) == []


def test_read_only_page_of_a_read_only_spt_entry_passes():
    assert only("unshared_frame_writable", state(data_read_only(writable=False, cow=False))) == []


def test_unknown_sharer_count_is_unknown_never_failed():
    [v] = only("unshared_frame_writable", state(data_read_only(cow=None)))
    assert v.outcome == UNKNOWN and "sharer count" in v.message and v.va == DATA


def test_unknown_writable_flag_is_unknown():
    found = only("unshared_frame_writable", state(data_read_only(writable=None, cow=False)))
    assert [v.outcome for v in found] == [UNKNOWN] and "writable flag" in found[0].message


def test_busy_page_and_unsettled_process_are_not_judged():
    assert only("unshared_frame_writable", state(data_read_only(cow=False, busy=True))) == []
    other = dataclasses.replace(data_read_only(2, 0x200000, cow=False), settled=False)
    assert only("unshared_frame_writable", state(good_process(1, 0x100000), other)) == []


def test_vm_busy_waits():
    st = pools(state(data_read_only(cow=False)), vm_busy=True)
    [v] = only("unshared_frame_writable", st)
    assert v.outcome == NOT_JUDGED


# ---- swap_slots_match_disk ----

def test_swap_total_equal_to_the_disk_passes():
    assert only("swap_slots_match_disk", state(good_process())) == []


def test_sectors_counted_as_slots_fail():
    st = pools(state(good_process()), swap_slots_total=512)
    [v] = only("swap_slots_match_disk", st)
    assert v.outcome == FAIL and v.expected.startswith("64 slots (the disk's 512 sectors")
    assert v.actual == "512 slots"


def test_no_swap_disk_means_no_slots():
    st = pools(state(good_process()), swap_disk_slots=0, swap_slots_total=0)
    assert only("swap_slots_match_disk", st) == []


def test_unknown_disk_or_total_is_unknown():
    for change in ({"swap_disk_slots": None}, {"swap_slots_total": None}):
        [v] = only("swap_slots_match_disk", pools(state(good_process()), **change))
        assert v.outcome == UNKNOWN


# ---- swap_slot_owners ----

def test_used_slots_held_by_pages_pass():
    assert only("swap_slot_owners", state(good_process(1, 0x100000), good_process(2, 0x200000))) \
        == []   # slot 3 held by the same address in two processes: one copy-on-write group


def test_leaked_slot_fails_naming_it():
    st = pools(state(good_process()), swap_slots_in_use=frozenset({3, 9, 10}), swap_slots_used=3)
    [v] = only("swap_slot_owners", st)
    assert v.outcome == FAIL and v.actual == "slots 9-10 held by none"


def test_leak_while_a_page_is_busy_is_not_judged():
    p = replace_spt(good_process(), STACK, busy=True)
    st = pools(state(p), swap_slots_in_use=frozenset({3, 9}))
    [v] = only("swap_slot_owners", st)
    assert v.outcome == NOT_JUDGED and "9" in v.message


def test_slot_free_on_the_map_but_held_fails():
    st = pools(state(good_process()), swap_slots_in_use=frozenset())
    [v] = only("swap_slot_owners", st)
    assert v.outcome == FAIL and v.va == SWAPPED and (v.expected, v.actual) == \
        ("slot 3 marked used", "free")


def test_one_slot_held_by_two_pages_fails():
    p = replace_spt(good_process(), DATA + 0x1000, swap_slot=3, type="anon")
    [v] = only("swap_slot_owners", state(p))
    assert v.outcome == FAIL and "swap slot 3 held by pid 1" in v.message
    assert v.actual == "2 pages"
    b = replace_spt(good_process(2, 0x200000), SWAPPED, swap_slot=None)
    b = replace_spt(b, DATA + 0x1000, swap_slot=3, type="anon")
    [v] = only("swap_slot_owners", state(good_process(1, 0x100000), b))   # other process, other VA
    assert v.outcome == FAIL


def test_unread_swap_map_or_slot_is_unknown():
    [v] = only("swap_slot_owners", pools(state(good_process()), swap_slots_in_use=None))
    assert v.outcome == UNKNOWN
    p = replace_spt(good_process(), SWAPPED, swap_slot=None, swap_slot_known=False)
    [v] = only("swap_slot_owners", state(p))
    assert v.outcome == UNKNOWN


def test_student_kernel_reading_nothing_gets_unknowns_never_fails():
    """An adapter that reads no sharer count, no swap map and no disk size:
    the new invariants are UNKNOWN (or silent), never FAIL."""
    a = data_read_only(1, 0x100000, cow=None)
    st = state(a, pools=PoolState(user_frames_total=100, user_frames_free=90))
    found = by_outcome(check_invariants(st))
    new = {"unshared_frame_writable", "swap_slots_match_disk", "swap_slot_owners"}
    assert not [v for v in found[FAIL] if v.oracle in new]
    assert new <= {v.oracle for v in found[UNKNOWN]}
