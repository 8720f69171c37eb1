"""The C walk of a hash table (harness/native/hash_walk.c through
harness/debug/native_walk.py), compiled at test time, over RAM made here:
page tables with 4 KiB and 2 MiB pages, chains whose entries cross pages,
and every case it must hand back to Python (None): a page in the legacy
window, not mapped, not canonical, outside RAM; a NULL link; too many
entries."""

import subprocess
import struct

import pytest

from harness.debug import native_walk
from harness.debug.native_walk import RamView, buffer_address, walk_hash

RAM = 2 << 20
PML4, PDPT, PD, PT = 0x1000, 0x2000, 0x3000, 0x4000
HEAP_VA, HEAP_PHYS, HEAP_PAGES = 0x400000, 0x10000, 16
HOLE_VA = HEAP_VA + HEAP_PAGES * 0x1000          # mapped onto 0xA0000: the legacy window
UNMAPPED_VA = HOLE_VA + 0x1000
BIG_VA = 0x600000                                 # a 2 MiB page onto physical 0
ENTRY, ELEM = 32, 8        # struct entry { u64 id; u64 next; u64 a, b; }: the link at 8


@pytest.fixture(scope="module", autouse=True)
def library(tmp_path_factory):
    """The library built from the source as `make native` builds it, in a
    build directory of its own."""
    build = tmp_path_factory.mktemp("build")
    (build / "native").mkdir()
    subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o",
                    str(build / native_walk.LIBRARY), "harness/native/hash_walk.c"],
                   check=True, capture_output=True, timeout=60)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VMCHECK_BUILD_DIR", str(build))
        native_walk._walk_function.cache_clear()
        yield
    native_walk._walk_function.cache_clear()


def make_ram() -> bytearray:
    ram = bytearray(RAM)
    put = lambda at, value: struct.pack_into("<Q", ram, at, value)   # noqa: E731
    put(PML4, PDPT | 3)
    put(PDPT, PD | 3)
    put(PD + 8 * (HEAP_VA >> 21), PT | 3)
    put(PD + 8 * (BIG_VA >> 21), 0 | 0x83)                            # PS: 2 MiB
    for i in range(HEAP_PAGES):
        put(PT + 8 * i, HEAP_PHYS + i * 0x1000 | 3)
    put(PT + 8 * HEAP_PAGES, 0xA0000 | 3)
    return ram


def write_entry(ram, view_va: int, ident: int, next_entry: int) -> None:
    """The entry at VIEW_VA (in the heap or the 2 MiB page), linking to
    NEXT_ENTRY's element (0: the end of the chain)."""
    phys = view_va - HEAP_VA + HEAP_PHYS if view_va < BIG_VA else view_va - BIG_VA
    data = struct.pack("<QQQQ", ident, next_entry + ELEM if next_entry else 0, ident * 3,
                       ~ident & 0xFFFF)
    ram[phys:phys + ENTRY] = data


def walk(ram, heads, ends=None, max_items=100):
    view = RamView(buffer_address(ram), len(ram), PML4)
    return walk_hash(view, [h + ELEM if h else 0 for h in heads],
                     ends or [0] * len(heads), ELEM, ELEM, ENTRY, max_items)


def chains(ram, buckets: list) -> list:
    """Writes each bucket's chain of entry addresses; the heads."""
    ident = 1
    for chain in buckets:
        for here, following in zip(chain, chain[1:] + [0]):
            write_entry(ram, here, ident, following)
            ident += 1
    return [chain[0] if chain else 0 for chain in buckets]


def test_entries_in_chain_order_with_their_bytes():
    ram = make_ram()
    buckets = [[HEAP_VA + 0x40, HEAP_VA + 0x1FF0, BIG_VA + 0x123450], [],   # one across pages
               [HEAP_VA + 0x5000, HEAP_VA + 0x80]]
    addresses, data = walk(ram, chains(ram, buckets))
    assert addresses.tolist() == [a for chain in buckets for a in chain]
    assert [struct.unpack_from("<Q", data, i * ENTRY)[0] for i in range(5)] == [1, 2, 3, 4, 5]
    assert data[ENTRY:2 * ENTRY] == struct.pack("<QQQQ", 2, BIG_VA + 0x123450 + ELEM, 6,
                                                ~2 & 0xFFFF)


def test_a_buffer_too_small_grows(monkeypatch):
    monkeypatch.setattr(native_walk._SCRATCH, "capacity", 2)
    monkeypatch.setattr(native_walk._SCRATCH, "_out", bytearray())
    ram = make_ram()
    buckets = [[HEAP_VA + i * 0x100 for i in range(9)]]
    addresses, data = walk(ram, chains(ram, buckets))
    assert addresses.tolist() == buckets[0] and len(data) == 9 * ENTRY
    assert native_walk._SCRATCH.capacity == 32             # 2, then 8, then 32 entries


def test_pintos_list_buckets_end_at_their_tail():
    ram = make_ram()
    tail = HEAP_VA + 0x3000
    write_entry(ram, HEAP_VA + 0x100, 1, HEAP_VA + 0x200)
    write_entry(ram, HEAP_VA + 0x200, 2, 0)
    struct.pack_into("<Q", ram, HEAP_PHYS + 0x200 + ELEM, tail)        # the last links to the tail
    assert walk(ram, [HEAP_VA + 0x100], [tail])[0].tolist() == [HEAP_VA + 0x100, HEAP_VA + 0x200]


@pytest.mark.parametrize("where", [HOLE_VA + 0x10, UNMAPPED_VA + 0x10, 1 << 47, HOLE_VA - 0x10])
def test_what_python_must_read_is_handed_back(where):
    ram = make_ram()
    heads = chains(ram, [[HEAP_VA + 0x40]])
    struct.pack_into("<Q", ram, HEAP_PHYS + 0x40 + ELEM, where + ELEM)   # link to WHERE
    assert walk(ram, heads) is None


def test_outside_ram_and_broken_chains_are_handed_back():
    ram = make_ram()
    heads = chains(ram, [[HEAP_VA + 0x40, HEAP_VA + 0x80]])
    assert walk(ram[:HEAP_PHYS + 0x60], heads) is None              # the entry past RAM's end
    assert walk(ram, heads, max_items=1) is None                    # too many
    assert walk(ram, heads, max_items=2) is not None
    assert walk(ram, heads, ends=[HEAP_VA]) is None                 # NULL before the tail


def test_turned_off_or_not_built(monkeypatch, tmp_path):
    ram = make_ram()
    heads = chains(ram, [[HEAP_VA + 0x40]])
    monkeypatch.setenv("VMCHECK_NATIVE", "0")
    native_walk._walk_function.cache_clear()
    assert walk(ram, heads) is None and not native_walk.available()
    monkeypatch.delenv("VMCHECK_NATIVE")
    monkeypatch.setenv("VMCHECK_BUILD_DIR", str(tmp_path))
    native_walk._walk_function.cache_clear()
    assert walk(ram, heads) is None
    monkeypatch.undo()
    native_walk._walk_function.cache_clear()
