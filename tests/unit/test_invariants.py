"""Each invariant passes on a sound state and fails, naming the page and
the expected vs actual state, on a state that violates it."""

import dataclasses

import pytest

from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from oracles.model.page_tables import make_snapshot
from oracles.invariants import INVARIANTS, check_invariants
from oracles.model.machine_state import ANON, FAIL, NOT_JUDGED, UNKNOWN, PoolState, SptPage, by_outcome
from tests.unit.oracle_states import (CODE, DATA, RO, RW, STACK, good_process,
                                      mapping, process, replace_spt, state, with_maps)


def only(name, st):
    return INVARIANTS[name](st)


def test_sound_states_pass_every_invariant():
    st = state(good_process(1, 0x100000), good_process(2, 0x200000))
    assert check_invariants(st) == []


def test_present_pte_without_spt_entry():
    p = good_process()
    p = with_maps(p, list(p.pages.iter_user_pages()) + [mapping(0x600000, 0x900000, RW)])
    [v] = only("present_pte_has_spt_frame", state(p))
    assert (v.va, v.expected, v.actual) == (0x600000, "an SPT entry", "none")
    assert "0x600000" in str(v)


def test_present_pte_maps_other_frame_than_spt():
    p = replace_spt(good_process(), DATA, frame_pa=0x777000)
    [v] = only("present_pte_has_spt_frame", state(p))
    assert v.va == DATA and v.expected == "frame 0x777000" and v.actual == "PTE -> 0x101000"


def test_present_pte_but_spt_not_resident():
    p = replace_spt(good_process(), STACK, frame_pa=None)
    assert [v.va for v in only("present_pte_has_spt_frame", state(p))] == [STACK]
    [v] = only("nonresident_not_present", state(p))
    assert v.va == STACK and v.expected == "no present PTE"


def test_supervisor_page_in_user_space():
    p = good_process()
    snap = make_snapshot(p.pages.cr3, list(p.pages.iter_user_pages()),
                         [mapping(0x500000, 0x300000, 0x3)], [], user_top=LAYOUT.user_top)
    [v] = only("user_bit", state(dataclasses.replace(p, pages=snap)))
    assert v.va == 0x500000 and v.expected == "U set"


def test_user_accessible_kernel_page():
    p = good_process()
    p = with_maps(p, list(p.pages.iter_user_pages()) + [mapping(0x8004000000, 0x1000, RW)])
    [v] = only("user_bit", state(p))
    assert v.va == 0x8004000000 and v.expected == "U clear"


def test_read_only_page_writable_in_hardware():
    p = replace_spt(good_process(), DATA, writable=False)
    [v] = only("writable_only_if_spt_writable", state(p))
    assert (v.va, v.expected, v.actual) == (DATA, "W clear", "W set")


def test_read_only_hardware_mapping_of_writable_page_is_allowed():
    p = good_process()
    p = with_maps(p, [mapping(CODE, 0x100000, RO), mapping(DATA, 0x101000, RO),
                      mapping(STACK, 0x102000, RW)])
    assert only("writable_only_if_spt_writable", state(p)) == []


def test_writable_code_page():
    p = good_process()
    p = with_maps(p, [mapping(CODE, 0x100000, RW), mapping(DATA, 0x101000, RW),
                      mapping(STACK, 0x102000, RW)])
    [v] = only("code_not_writable", state(p))
    assert v.va == CODE and v.actual == "W set"


def test_frame_shared_writable_between_processes():
    a, b = good_process(1, 0x100000), good_process(2, 0x200000)
    b = with_maps(b, [mapping(CODE, 0x200000, RO), mapping(DATA, 0x101000, RW),
                      mapping(STACK, 0x202000, RW)])
    b = replace_spt(b, DATA, frame_pa=0x101000)
    violations = only("no_shared_frames", state(a, b))
    assert {(v.pid, v.va) for v in violations} == {(1, DATA), (2, DATA)}
    assert "0x101000" in violations[0].message


def test_read_only_cow_sharing_is_allowed_but_not_without_cow():
    a, b = good_process(1, 0x100000), good_process(2, 0x200000)
    shared = [mapping(CODE, 0x200000, RO), mapping(DATA, 0x101000, RO), mapping(STACK, 0x202000, RW)]
    a = with_maps(a, [mapping(CODE, 0x100000, RO), mapping(DATA, 0x101000, RO),
                      mapping(STACK, 0x102000, RW)])
    b = replace_spt(with_maps(b, shared), DATA, frame_pa=0x101000)
    a, b = replace_spt(a, DATA, cow=True), replace_spt(b, DATA, cow=True)
    assert only("no_shared_frames", state(a, b)) == []
    b = replace_spt(b, DATA, cow=False)
    [v] = only("no_shared_frames", state(a, b))
    assert v.pid == 2 and v.actual == "writable page not marked copy-on-write"


def test_more_mapped_frames_than_allocated():
    st = state(good_process(), pools=PoolState(user_frames_total=10, user_frames_free=8))
    [v] = only("resident_within_pool", st)
    assert (v.expected, v.actual) == ("<= 2", "3")


def test_swap_slots_used_differ_from_spt():
    st = state(good_process(), pools=PoolState(swap_slots_total=64, swap_slots_used=2))
    [v] = only("swap_accounting", st)
    assert "1 slots" in v.expected and "2 used" in v.actual


def test_leaked_swap_slot_is_seen_across_processes():
    a = good_process(1, 0x100000)
    b = replace_spt(good_process(2, 0x200000), DATA + 0x2000, swap_slot=4)
    st = state(a, b)
    assert only("swap_accounting", st) == []
    st = dataclasses.replace(st, pools=PoolState(swap_slots_used=3))
    assert len(only("swap_accounting", st)) == 1


def test_unreadable_spt_makes_spt_invariants_unknown_never_failed():
    p = dataclasses.replace(replace_spt(good_process(), DATA, writable=False),
                            spt=None, spt_unreadable="no SPT member found")
    p = with_maps(p, [mapping(CODE, 0x100000, RW)])
    found = by_outcome(check_invariants(state(p, pools=PoolState())))
    assert {v.oracle for v in found[FAIL]} == {"code_not_writable"}   # hardware: still judged
    assert {v.oracle for v in found[UNKNOWN]} == {
        "present_pte_has_spt_frame", "nonresident_not_present", "writable_only_if_spt_writable",
        "resident_within_pool", "swap_accounting", "unshared_frame_writable",
        "swap_slots_match_disk", "swap_slot_owners"}
    assert all("could not inspect" in str(v) for v in found[UNKNOWN])
    spt_based = [v for v in found[UNKNOWN] if v.pid == p.pid]
    assert spt_based and all("no SPT member found" in v.message for v in spt_based)


@pytest.mark.parametrize("name", sorted(INVARIANTS))
def test_invariant_can_be_disabled(name):
    p = replace_spt(good_process(), DATA, writable=False, frame_pa=0x777000)
    p = with_maps(p, list(p.pages.iter_user_pages()) + [mapping(CODE + 0x800, 0x100000, RW)])
    all_names = {v.oracle for v in check_invariants(state(p))}
    assert name not in {v.oracle for v in check_invariants(state(p), disabled={name})}
    assert all_names - {name} <= {v.oracle for v in check_invariants(state(p), disabled={name})}


def test_busy_page_is_not_judged_until_its_operation_ends():
    p = replace_spt(good_process(), STACK, frame_pa=None, busy=True)
    assert only("present_pte_has_spt_frame", state(p)) == []
    assert only("nonresident_not_present", state(p)) == []
    p = replace_spt(p, STACK, busy=False)
    assert len(only("nonresident_not_present", state(p))) == 1


def test_counts_are_not_judged_while_the_vm_lock_is_held():
    busy = PoolState(user_frames_total=10, user_frames_free=9, swap_slots_used=5, vm_busy=True)
    for name in ("resident_within_pool", "swap_accounting"):
        [note] = only(name, state(good_process(), pools=busy))
        assert note.outcome == NOT_JUDGED and "inside the VM" in note.message
    quiet = dataclasses.replace(busy, vm_busy=False)
    assert len(only("resident_within_pool", state(good_process(), pools=quiet))) == 1
    assert len(only("swap_accounting", state(good_process(), pools=quiet))) == 1


# A kernel-pool page mapped P|U read-only at 0x4000 in every process (the
# KAIST CS330 statistics page): no SPT entry, frame outside the user pool.
STAT_VA, KERNEL_FRAME = 0x4000, 0x20000
POOL = (0x100000, 0x300000)


def _with_page(proc, va, phys, flags=RO):
    return with_maps(proc, list(proc.pages.iter_user_pages()) + [mapping(va, phys, flags)])


def test_kernel_page_mapped_into_user_space_is_a_note_not_a_failure():
    p = _with_page(good_process(), STAT_VA, KERNEL_FRAME)
    pools = PoolState(user_frames_total=3, user_frames_free=0, user_pool=POOL)
    [note] = only("present_pte_has_spt_frame", state(p, pools=pools))
    assert note.outcome == NOT_JUDGED
    assert "kernel page mapped into user space at 0x4000" in note.message
    assert "0x20000 outside the user pool, read-only" in note.message
    assert only("resident_within_pool", state(p, pools=pools)) == []   # 3 user frames, 3 in use
    assert by_outcome(check_invariants(state(p, pools=pools)))[FAIL] == []


def test_user_pool_frame_without_spt_entry_still_fails():
    p = _with_page(good_process(), 0x600000, 0x200000, RW)       # inside the user pool
    pools = PoolState(user_frames_total=3, user_frames_free=0, user_pool=POOL)
    [v] = only("present_pte_has_spt_frame", state(p, pools=pools))
    assert (v.outcome, v.va, v.actual) == (FAIL, 0x600000, "none")
    [v] = only("resident_within_pool", state(p, pools=pools))
    assert (v.outcome, v.expected, v.actual) == (FAIL, "<= 3", "4")


def test_frame_outside_the_pool_is_judged_when_the_pool_is_unknown_or_spt_claims_it():
    p = _with_page(good_process(), STAT_VA, KERNEL_FRAME)
    [v] = only("present_pte_has_spt_frame", state(p))               # pool range unknown
    assert (v.outcome, v.va) == (FAIL, STAT_VA)
    claimed = dataclasses.replace(p, spt={**p.spt, STAT_VA: SptPage(STAT_VA, ANON, frame_pa=0x777000)})
    pools = PoolState(user_frames_total=3, user_frames_free=0, user_pool=POOL)
    [v] = only("present_pte_has_spt_frame", state(claimed, pools=pools))
    assert v.outcome == FAIL and v.actual == "PTE -> 0x20000"
    assert len(only("resident_within_pool", state(claimed, pools=pools))) == 1
