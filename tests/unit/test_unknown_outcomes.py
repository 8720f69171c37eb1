"""UNKNOWN is "could not inspect", never "wrong": every check and invariant
reports UNKNOWN (with the reason) where a value it needs is not readable,
and still FAILS on a value it can see is wrong."""

import dataclasses

import pytest

from oracles.expectations import CHECKS, CheckContext, run_check
from oracles.invariants import INVARIANTS, check_invariants
from oracles.model.machine_state import (ANON, FAIL, NOT_JUDGED, UNKNOWN, PoolState, SptPage, Violation,
                           by_outcome)
from tests.unit.oracle_states import (CODE, DATA, RO, RW, STACK, good_process, mapping,
                                      replace_spt, state, with_maps)

SYMBOLS = {"data": DATA, "lazy": DATA + 0x1000, "swapped": DATA + 0x2000, "code": CODE}


def check(st, name, **params):
    ctx = CheckContext(state=st, symbols=SYMBOLS, address_layout=st.address_layout,
                       frames_at=lambda cp: {})
    full = {k: f.default for k, f in CHECKS[name].params.items() if not f.required}
    full.update(params)
    return run_check(ctx, name, full)


def outcomes(findings) -> list:
    return [v.outcome for v in findings]


def no_spt(proc):
    return dataclasses.replace(proc, spt=None, spt_unreadable="struct page not recognised")


# ---- expectations ------------------------------------------------------------

def test_page_writable_unknown_when_the_spt_has_no_writable_flag_but_fails_on_a_wrong_one():
    p = replace_spt(good_process(), DATA, writable=None)
    [v] = check(state(p), "page", addr="data", writable=False)
    assert v.outcome == UNKNOWN and "writable" in v.message and "could not inspect" in str(v)
    p = replace_spt(good_process(), DATA, writable=True)
    [v] = check(state(p), "page", addr="data", writable=False)
    assert (v.outcome, v.expected, v.actual) == (FAIL, "False", "True")


def test_page_swapped_unknown_when_the_slot_member_is_unread():
    p = replace_spt(good_process(), DATA + 0x2000, swap_slot=None, swap_slot_known=False)
    [v] = check(state(p), "page", addr="swapped", swapped=True, type="anon")
    assert v.outcome == UNKNOWN and "swap_slot" in v.message   # type still judged: it is right
    p = replace_spt(good_process(), DATA + 0x2000, swap_slot=None)   # read, and not in swap
    [v] = check(state(p), "page", addr="swapped", swapped=True)
    assert (v.outcome, v.expected, v.actual) == (FAIL, "True", "False")


def test_page_spt_not_inspectable_is_unknown_while_hardware_fields_still_fail():
    p = no_spt(good_process())
    found = check(state(p), "page", addr="data", type="anon", present=False)
    assert outcomes(found) == [FAIL, UNKNOWN]
    assert "struct page not recognised" in found[1].message


def test_pages_states_needing_the_spt_are_unknown_without_it():
    p = no_spt(good_process())
    [v] = check(state(p), "pages", at="lazy", state="lazy")
    assert v.outcome == UNKNOWN
    assert check(state(p), "pages", at="lazy", state="not_present") == []
    found = by_outcome(check(state(p), "pages", at="data", state="lazy"))
    assert len(found[FAIL]) == 1 and len(found[UNKNOWN]) == 1


def test_pages_lazy_with_an_unread_swap_slot_is_unknown_and_a_seen_slot_fails():
    p = replace_spt(good_process(), DATA + 0x2000, swap_slot=None, swap_slot_known=False)
    [v] = check(state(p), "pages", at="swapped", state="lazy")
    assert v.outcome == UNKNOWN and "swap slot" in v.message
    [v] = check(state(good_process()), "pages", at="swapped", state="lazy")
    assert v.outcome == FAIL and "slot 3" in v.actual


def test_pages_writable_of_a_lazy_page_without_flag_is_unknown():
    p = replace_spt(good_process(), DATA + 0x1000, writable=None)
    [v] = check(state(p), "pages", at="lazy", state="lazy", writable=True)
    assert v.outcome == UNKNOWN
    p = replace_spt(good_process(), DATA + 0x1000, writable=False)
    [v] = check(state(p), "pages", at="lazy", state="lazy", writable=True)
    assert v.outcome == FAIL


def test_swap_used_unknown_when_not_reported_and_fails_when_too_low():
    st = state(good_process(), pools=PoolState(swap_slots_used=None))
    [v] = check(st, "swap_used", min=1)
    assert v.outcome == UNKNOWN and "does not report swap usage" in v.message
    st = state(good_process(), pools=PoolState(swap_slots_used=0))
    [v] = check(st, "swap_used", min=1)
    assert (v.outcome, v.expected, v.actual) == (FAIL, ">= 1 slots in use", "0")


def test_unmapped_and_stack_say_unknown_for_their_spt_half():
    p = no_spt(good_process())
    found = check(state(p), "unmapped", addr="data", pages=1)
    assert outcomes(found) == [FAIL, UNKNOWN]      # the PTE is there: seen, wrong
    [v] = check(state(p), "stack", contiguous=True)
    assert v.outcome == UNKNOWN


def test_contents_unreadable_is_unknown():
    [v] = check(state(good_process()), "contents", addr="data", length=4, source="zero")
    assert v.outcome == UNKNOWN and "no access" in v.message


def test_an_address_that_cannot_be_evaluated_is_unknown():
    [v] = check(state(good_process()), "page", addr="nowhere", present=True)
    assert v.outcome == UNKNOWN and "nowhere" in v.message


def test_frame_compare_without_an_earlier_frame_is_unknown():
    [v] = check(state(good_process()), "pages", at="data", state="present", frame="same_as:1")
    assert v.outcome == UNKNOWN and "checkpoint 1" in v.message


# ---- invariants --------------------------------------------------------------

def test_writable_flag_unknown_on_writable_pages_is_one_unknown_per_process():
    p = replace_spt(replace_spt(good_process(), DATA, writable=None), STACK, writable=None)
    [v] = INVARIANTS["writable_only_if_spt_writable"](state(p))
    assert v.outcome == UNKNOWN and "1 more page" in v.message


def test_code_ranges_unknown_is_unknown_and_a_writable_code_page_fails():
    p = dataclasses.replace(good_process(), code_ranges=None)
    [v] = INVARIANTS["code_not_writable"](state(p))
    assert v.outcome == UNKNOWN
    p = with_maps(good_process(), [mapping(CODE, 0x100000, RW)])
    [v] = INVARIANTS["code_not_writable"](state(p))
    assert v.outcome == FAIL


def test_pool_and_swap_counts_not_reported_are_unknown():
    st = state(good_process(), pools=PoolState())
    assert outcomes(INVARIANTS["resident_within_pool"](st)) == [UNKNOWN]
    assert outcomes(INVARIANTS["swap_accounting"](st)) == [UNKNOWN]
    p = replace_spt(good_process(), DATA + 0x2000, swap_slot=None, swap_slot_known=False)
    st = state(p, pools=PoolState(swap_slots_used=1))
    assert outcomes(INVARIANTS["swap_accounting"](st)) == [UNKNOWN]


def _shared(a_cow, b_writable_pte=False):
    a = good_process(1, 0x100000)
    b = good_process(2, 0x200000)
    flags = RW if b_writable_pte else RO
    a = with_maps(a, [mapping(CODE, 0x100000, RO), mapping(DATA, 0x101000, RO),
                      mapping(STACK, 0x102000, RW)])
    b = with_maps(b, [mapping(CODE, 0x200000, RO), mapping(DATA, 0x101000, flags),
                      mapping(STACK, 0x202000, RW)])
    a = replace_spt(a, DATA, cow=a_cow)
    b = replace_spt(replace_spt(b, DATA, frame_pa=0x101000), DATA, cow=a_cow)
    return a, b


def test_read_only_sharing_without_a_cow_flag_is_unknown_and_writable_sharing_fails():
    a, b = _shared(a_cow=None)
    assert set(outcomes(INVARIANTS["no_shared_frames"](state(a, b)))) == {UNKNOWN}
    a, b = _shared(a_cow=None, b_writable_pte=True)
    found = by_outcome(INVARIANTS["no_shared_frames"](state(a, b)))
    assert [v.pid for v in found[FAIL]] == [2]


@pytest.mark.parametrize("name", sorted(INVARIANTS))
def test_an_unknown_is_never_a_failure_on_a_sound_state_with_nothing_readable(name):
    """A correct state whose SPT and pools cannot be read: nothing fails."""
    p = no_spt(dataclasses.replace(good_process(), code_ranges=None))
    found = INVARIANTS[name](state(p, pools=PoolState()))
    assert all(v.outcome != FAIL for v in found), found


# ---- moments: only the process at its checkpoint is judged on its own records --

def _pre_exec_child():
    """pid 2 forked from pid 1 and not yet exec'd: named after a program
    whose code covers DATA, it still runs the parent's image (DATA W)."""
    child = dataclasses.replace(good_process(2, 0x200000), name="child-prog",
                                code_ranges=((CODE, DATA + 0x3000),), settled=False)
    return child


def test_a_process_caught_mid_flight_is_not_judged_on_its_own_records():
    parent = good_process(1, 0x100000)
    found = by_outcome(check_invariants(state(parent, _pre_exec_child())))
    assert found[FAIL] == [] and found[UNKNOWN] == []
    [note] = found[NOT_JUDGED]
    assert note.pid == 2 and "code_not_writable" in note.oracle and "mid-flight" in note.message


def test_the_same_process_at_its_own_checkpoint_is_judged():
    child = dataclasses.replace(_pre_exec_child(), settled=True)
    found = by_outcome(check_invariants(state(good_process(1, 0x100000), child)))
    assert {v.oracle for v in found[FAIL]} == {"code_not_writable"}
    assert found[NOT_JUDGED] == []


def test_instant_safe_invariants_still_judge_a_process_caught_mid_flight():
    a, b = _shared(a_cow=True, b_writable_pte=True)
    b = dataclasses.replace(b, settled=False)
    found = by_outcome(check_invariants(state(a, b)))
    assert [(v.oracle, v.pid) for v in found[FAIL]] == [("no_shared_frames", 2)]
    b = with_maps(b, list(b.pages.iter_user_pages()) + [
        mapping(0x8004000000, 0x300000, RW)])          # a user-accessible kernel page
    found = by_outcome(check_invariants(state(a, b)))
    assert ("user_bit", 2) in [(v.oracle, v.pid) for v in found[FAIL]]


def test_frames_shared_only_among_processes_mid_flight_are_not_judged():
    a, b = _shared(a_cow=True, b_writable_pte=True)
    a, b = (dataclasses.replace(p, settled=False) for p in (a, b))
    current = good_process(3, 0x300000)
    assert INVARIANTS["no_shared_frames"](state(current, a, b)) == []


def test_global_counts_wait_while_a_process_mid_flight_has_no_spt():
    moving = dataclasses.replace(good_process(2, 0x200000), spt=None, settled=False,
                                 spt_unreadable="exit in progress")
    st = state(good_process(1, 0x100000), moving,
               pools=PoolState(user_frames_total=100, user_frames_free=90, swap_slots_used=1))
    for name in ("resident_within_pool", "swap_accounting"):
        [note] = INVARIANTS[name](st)
        assert note.outcome == NOT_JUDGED and "exit in progress" in note.message


def test_violation_text_says_which_outcome():
    assert "could not inspect: x" in str(Violation("o", "x", outcome=UNKNOWN))
    assert "not judged: x" in str(Violation("o", "x", outcome=NOT_JUDGED))
    assert "[expected: a; actual: b]" in str(Violation("o", "x", expected="a", actual="b"))


class _Image:
    """A program image: CODE bytes at 0x400000 and its code ranges."""

    def __init__(self, code: bytes):
        self.code = code
        self.code_ranges = ((0x400000, 0x400000 + len(code)),)

    def elf_bytes(self, va, n):
        off = va - 0x400000
        return self.code[off:off + n] if 0 <= off and off + n <= len(self.code) else None


class _Stopped:
    """A debugger stopped at RIP in a process whose code page is PAGE."""

    def __init__(self, rip, page):
        self.rip, self.page = rip, page

    def register(self, name):
        return self.rip

    def read_virt(self, va, n):
        return self.page[:n]


def test_a_forked_child_before_its_exec_is_judged_as_running_its_parents_program():
    """Both programs have checkpoint() at the same address with the same
    bytes; the child is named after the program it will exec, but its code
    page is the parent's, so the parent's code ranges apply to it."""
    from harness.run.checkpoints import CheckpointSession

    class Scenario:
        program = "parent"

    parent = _Image(b"\x90" * 4096 + b"P" * 4096)
    child = _Image(b"\x90" * 4096 + b"C" * 8192)
    session = CheckpointSession(None, Scenario, {"parent": parent, "child": child}, {}, None)
    proc = dataclasses.replace(good_process(), name="child")
    stopped_in_parent_image = _Stopped(0x401010, b"P" * 4096)
    assert session._program_of(stopped_in_parent_image, proc, ["parent", "child"]) == "parent"
    stopped_in_child_image = _Stopped(0x401010, b"C" * 4096)
    assert session._program_of(stopped_in_child_image, proc, ["parent", "child"]) == "child"
    same_page = _Stopped(0x400010, b"\x90" * 4096)      # no difference: by name
    assert session._program_of(same_page, proc, ["parent", "child"]) == "child"
