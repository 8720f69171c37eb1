"""Every expectation check fails, naming the page and expected vs actual,
on a hand-built state that violates it, and passes on one that does not."""

import dataclasses

import pytest

from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from oracles.cksum import cksum
from oracles.expectations import CHECKS, CheckContext, DiskUnreadable, run_check
from oracles.model.machine_state import FAIL, UNKNOWN, PoolState
from tests.unit.oracle_states import (CODE, DATA, STACK, good_process, mapping, replace_spt,
                                      state, with_maps, RW)

SYMS = {"code": CODE, "data": DATA, "lazy": DATA + 0x1000, "swapped": DATA + 0x2000}


def ctx(st=None, **kw):
    st = st or state(good_process())
    memory = {DATA: b"hello", CODE: b"\x55\x48"}
    st = dataclasses.replace(st, read_user=lambda va, n: memory.get(va, bytes(n))[:n])
    return CheckContext(state=st, symbols=SYMS, address_layout=st.address_layout, **kw)


def check(name, c=None, **params):
    full = {k: f.default for k, f in CHECKS[name].params.items() if not f.required}
    full.update(params)
    return run_check(c or ctx(), name, full)


def test_present():
    assert check("present", start="data", pages=3, present=[0]) == []
    [v] = check("present", start="data", pages=3, present=[0, 1])
    assert (v.va, v.expected, v.actual) == (DATA + 0x1000, "present [0, 1]", "present [0]")


def test_page():
    assert check("page", addr="data", type="anon", writable=True, resident=True) == []
    [v] = check("page", addr="lazy", resident=True)
    assert (v.va, v.expected, v.actual) == (DATA + 0x1000, "True", "False")
    [v] = check("page", addr="code", pte_writable=True)
    assert "hardware W bit" in v.message and v.actual == "False"


def test_page_file_offset():
    file_page = replace_spt(good_process(), DATA + 0x1000, type="file", file_offset=8192)
    c = ctx(state(file_page))
    assert check("page", c, addr="lazy", file_offset=8192) == []
    [v] = check("page", c, addr="lazy", file_offset=4096)
    assert v.outcome == FAIL and "SPT file offset" in v.message
    assert (v.expected, v.actual) == ("4096", "8192")
    [v] = check("page", addr="lazy", file_offset=0)   # the SPT records no offset there
    assert v.outcome == UNKNOWN and "file_offset" in v.message


def test_contents():
    assert check("contents", addr="data", length=5, source="text", text="hello") == []
    [v] = check("contents", addr="data", length=5, source="text", text="help!")
    assert (v.va, v.expected, v.actual) == (DATA + 3, "7021", "6c6f")
    [v] = check("contents", addr="lazy", length=4, source="zero")   # cannot be read: unknown
    assert v.outcome == "unknown" and "not present" in v.message and v.va == DATA + 0x1000
    elf = ctx(elf_bytes=lambda va, n: b"\x55\x49"[:n])
    [v] = run_check(elf, "contents", {"addr": "code", "length": 2, "source": "elf",
                                      "file": None, "offset": 0, "text": None})
    assert (v.expected, v.actual) == ("49", "48")


def test_unmapped():
    assert check("unmapped", addr=0x600000, pages=2) == []
    out = check("unmapped", addr="data", pages=2)
    assert [(v.va, v.expected) for v in out] == [(DATA, "no PTE"), (DATA, "no SPT entry"),
                                                  (DATA + 0x1000, "no SPT entry")]


def test_stack_limit_and_holes():
    assert check("stack") == []
    far = STACK - (1 << 20) - 0x1000
    p = with_maps(good_process(), [*good_process().pages.iter_user_pages(), mapping(far, 0x300000, RW)])
    out = check("stack", ctx(state(p)), contiguous=False)
    assert [v.va for v in out] == [far] and "more than 1 MB" in out[0].message
    p = good_process()
    spt = dict(p.spt)
    spt[STACK - 0x2000] = dataclasses.replace(spt[STACK], va=STACK - 0x2000, frame_pa=None)
    [v] = check("stack", ctx(state(dataclasses.replace(p, spt=spt))))
    assert v.va == STACK - 0x1000 and "hole" in v.actual


def test_the_stack_check_reads_the_stack_limit_from_the_layout():
    """The same page, 1.5 MiB below the stack top, is a violation with the
    Pintos-KAIST layout (1 MiB) and fine with a 2 MiB one."""
    below = STACK - (3 << 19)
    p = with_maps(good_process(), [*good_process().pages.iter_user_pages(),
                                   mapping(below, 0x300000, RW)])
    [v] = check("stack", ctx(state(p)), contiguous=False)
    assert v.va == below and v.expected == f">= 0x{STACK + 0x1000 - (1 << 20):x}"
    roomy = dataclasses.replace(state(p), address_layout=dataclasses.replace(
        LAYOUT, stack_limit=2 << 20))
    assert check("stack", ctx(roomy), contiguous=False) == []


def test_frame_of_and_address_constants_read_the_layout():
    """frame_of compares direct-map addresses through the layout's
    KERN_BASE; USER_STACK in an address expression is the layout's."""
    moved = dataclasses.replace(LAYOUT, kern_base=0x100000000, user_stack=STACK + 0x1000)
    st = dataclasses.replace(state(good_process()), address_layout=moved)
    assert check("frame_of", ctx(st), addr="data", equals=0x100101000) == []
    [v] = check("frame_of", ctx(st), addr="data", equals=0x8004101000)
    assert v.actual == "0x100101000"
    assert ctx(st).addr("USER_STACK - PGSIZE") == STACK


@pytest.mark.parametrize("at,state_,problem", [
    ("data", "lazy", "present in hardware"),
    ("lazy", "present", "not present in hardware"),
    ("swapped", "lazy", "in swap (slot 3)"),
    ("data", "unmapped", "present in hardware"),
    (0x600000, "valid", "no SPT entry"),
])
def test_pages_states(at, state_, problem):
    [v] = check("pages", at=at, state=state_)
    assert v.expected == state_ and v.actual == problem


def test_pages_flags_and_frames():
    assert check("pages", at="data", state="present", writable=True, dirty=False) == []
    [v] = check("pages", at="code", state="present", writable=True)
    assert "PTE W bit" in v.message and (v.expected, v.actual) == ("True", "False")
    same = ctx(frames_at=lambda cp: {DATA: 0x101000})
    assert run_check(same, "pages", {"at": "data", "state": "present", "count": 1, "to": None,
                                     "writable": None, "dirty": None, "frame": "same_as:1"}) == []
    [v] = run_check(same, "pages", {"at": "data", "state": "present", "count": 1, "to": None,
                                    "writable": None, "dirty": None, "frame": "differs_from:1"})
    assert v.actual == "0x101000" and "other than 0x101000" in v.expected


def test_swap_used():
    st = state(good_process(), pools=PoolState(swap_slots_used=5))
    assert check("swap_used", ctx(st), min=2, max=5) == []
    [v] = check("swap_used", ctx(st), min=6)
    assert (v.expected, v.actual) == (">= 6 slots in use", "5")
    [v] = check("swap_used", ctx(st), max=4)
    assert (v.expected, v.actual) == ("<= 4 slots in use", "5")


def test_frame_of():
    assert check("frame_of", addr="data", equals=0x8004101000) == []
    [v] = check("frame_of", addr="data", equals=0x8004555000)
    assert (v.expected, v.actual) == ("frame at kernel address 0x8004555000", "0x8004101000")


def test_file_bytes_and_cksum():
    disk = {"f": b"abcdef"}
    c = ctx(disk_file=disk.get, data_file=lambda n: b"abcxef")
    assert check("file_bytes", c, file="f", text="abc") == []
    [v] = check("file_bytes", c, file="f")
    assert "file offset 3" in v.message and (v.expected, v.actual) == ("786566", "646566")
    [v] = check("file_bytes", c, file="missing")
    assert "not on the disk" in v.message
    assert check("file_cksum", c, file="f", cksum=cksum(b"abcdef"), size=6) == []
    out = check("file_cksum", c, file="f", cksum=1, size=7)
    assert [(v.expected, v.actual) for v in out] == [("7", "6"), ("1", str(cksum(b"abcdef")))]


def test_file_checks_are_unknown_when_the_disk_cannot_be_read():
    def unreadable(name):
        raise DiskUnreadable("the disk holds a FAT file system")
    c = ctx(disk_file=unreadable)
    for name, params in (("file_bytes", {"file": "f", "text": "abc"}),
                         ("file_cksum", {"file": "f", "cksum": 1})):
        [v] = check(name, c, **params)
        assert v.outcome == UNKNOWN and "FAT file system" in v.message and "'f'" in v.message
    [v] = check("file_cksum", ctx(disk_file=lambda name: None), file="f", cksum=1)
    assert v.outcome == FAIL and v.actual == "no such file"       # read, and not there


def test_every_check_is_tested():
    tested = {"present", "page", "contents", "unmapped", "stack", "pages", "swap_used",
              "frame_of", "file_bytes", "file_cksum"}
    assert set(CHECKS) == tested
