"""ELF symbols, DWARF types and typed memory reads over a small C program
compiled with gcc at test time. Expected layouts are not written down here:
the program stores offsetof()/sizeof() values, which the test reads back
from the ELF image and compares with what the DWARF lookups say."""

import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from harness.debug.dwarf_types import TypeLookupError
from harness.debug.symbols import SymbolError, SymbolTable
from harness.debug.page_cache import PageCache
from harness.debug.typed_memory import (StructureError, container_of, decode_hash,
                                        hash_entries, hash_rows, iter_list, read_struct,
                                        read_value)

MAIN_C = r"""
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node { struct node *prev, *next; };
struct list { struct node head, tail; };
struct item { int key; char name[6]; struct node link; };
struct hash_elem { struct node list_elem; };
struct hash { uint64_t elem_cnt; uint64_t bucket_cnt; struct list *buckets; void *aux; };
struct page { uint64_t va; struct hash_elem spt_elem; };
typedef int tid_t;

struct thread {
  tid_t tid;
  enum status { READY, RUNNING = 3, DYING = -1 } status;
  char name[16];
  bool alive;
  signed char delta : 4;
  unsigned level : 3;
  union { uint32_t word; uint8_t bytes[4]; };
  int grid[2][3];
  struct thread *parent;
  const volatile uint64_t *counter;
  void (*fn)(void);
  struct item items[2];
};

struct thread main_thread = {
  .tid = 7, .status = DYING, .name = "main", .alive = true, .delta = -3, .level = 5,
  .word = 0xa1b2c3d4, .grid = { { 1, 2, 3 }, { 4, 5, 6 } }, .parent = &main_thread,
  .items = { { 11, "eleven", { 0, 0 } }, { 12, "twelve", { 0, 0 } } },
};

const unsigned long layout[] = {
  sizeof(struct thread), offsetof(struct thread, name), offsetof(struct thread, word),
  offsetof(struct thread, grid), offsetof(struct thread, parent),
  offsetof(struct thread, items), offsetof(struct thread, items[1].link.next),
};

extern struct item on_list[2];
struct list item_list = { { 0, &on_list[0].link }, { &on_list[1].link, 0 } };
struct item on_list[2] = {
  { 1, "one", { &item_list.head, &on_list[1].link } },
  { 2, "two", { &on_list[0].link, &item_list.tail } },
};
struct list broken_list = { { 0, &on_list[0].link }, { 0, 0 } };  /* never reaches its tail */

extern struct page pages[3];
struct list buckets[2] = {
  { { 0, &pages[0].spt_elem.list_elem }, { &pages[2].spt_elem.list_elem, 0 } },
  { { 0, &pages[1].spt_elem.list_elem }, { &pages[1].spt_elem.list_elem, 0 } },
};
struct page pages[3] = {
  { 0x1000, { { &buckets[0].head, &pages[2].spt_elem.list_elem } } },
  { 0x2000, { { &buckets[1].head, &buckets[1].tail } } },
  { 0x3000, { { &pages[0].spt_elem.list_elem, &buckets[0].tail } } },
};
struct hash spt = { 3, 2, buckets, 0 };

/* The reference kernel's layout: chain heads, NULL-terminated chains. */
struct chain_elem { struct chain_elem *next; };
struct chain_hash { uint64_t elem_cnt; uint64_t bucket_cnt; struct chain_elem **buckets; };
struct frame { int id; struct chain_elem elem; };
struct frame frames[3] = { { 1, { &frames[2].elem } }, { 2, { 0 } }, { 3, { 0 } } };
struct chain_elem *heads[4] = { &frames[0].elem, 0, 0, &frames[1].elem };
struct chain_hash frame_table = { 3, 4, heads };
struct frame ring[2] = { { 4, { &ring[1].elem } }, { 5, { &ring[0].elem } } };
struct chain_elem *looped[1] = { &ring[0].elem };
struct chain_hash looped_table = { 2, 1, looped };

static int same_name = 1;
struct counters { int hits; } shared_counters;  /* as if from a header: common with -fcommon */
int helper(int x) { return x * 2 + same_name; }
static int twin(int x) { return x + 1; }
int other_file(int);
void entry(void) { for (;;) main_thread.tid = helper(twin(other_file(1))); }
"""

OTHER_C = r"""
static int same_name = 2;
struct counters { int hits; } shared_counters;
static int twin(int x) { return x - 1; }
int other_file(int x) { return twin(x) + same_name; }
"""


@pytest.fixture(scope="module", params=["-gdwarf-5", "-gdwarf-4"])
def program(request, tmp_path_factory):
    """The test program built with one DWARF version: (SymbolTable, read)."""
    out = tmp_path_factory.mktemp("symbols")
    (out / "main.c").write_text(MAIN_C)
    (out / "other.c").write_text(OTHER_C)
    elf = out / "program.elf"
    subprocess.run(["gcc", request.param, "-O0", "-Wall", "-Werror", "-nostdlib", "-static", "-no-pie",
                    "-fno-pic", "-ffreestanding", "-fcommon", "-Wl,-e,entry", "-o", str(elf),
                    str(out / "main.c"), str(out / "other.c")],
                   check=True, capture_output=True, timeout=60)
    symbols = SymbolTable(elf)
    yield symbols, elf_image_reader(elf)
    symbols.close()


def elf_image_reader(path):
    """read(address, size) over the ELF's loadable segments (bss is zeros)."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        segments = [(seg["p_vaddr"], seg.data() + bytes(seg["p_memsz"] - seg["p_filesz"]))
                    for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]

    def read(address, size):
        for start, data in segments:
            if start <= address and address + size <= start + len(data):
                return data[address - start:address - start + size]
        raise AssertionError(f"address {address:#x} is not in the image")
    return read


def c_layout(program):
    symbols, read = program
    raw = read(symbols.address_of("layout"), 7 * 8)
    return [int.from_bytes(raw[i:i + 8], "little") for i in range(0, len(raw), 8)]


# --- ELF symbols -----------------------------------------------------------------

def test_symbol_lookup_by_name(program):
    symbols, _ = program
    helper = symbols.lookup("helper")
    assert (helper.kind, helper.binding, helper.section) == ("func", "global", ".text")
    assert helper.size > 0 and symbols.address_of("helper") == helper.address
    assert symbols.section_of("main_thread") == ".data"
    assert symbols.section_of("layout") == ".rodata"


def test_address_to_function_and_offset(program):
    symbols, _ = program
    helper = symbols.address_of("helper")
    assert symbols.describe(helper) == "helper"
    assert symbols.describe(helper + 4) == "helper+0x4"
    sym, offset = symbols.function_at(helper + 1)
    assert (sym.name, offset) == ("helper", 1)
    assert symbols.describe(symbols.address_of("main_thread")) == hex(symbols.address_of("main_thread"))


def test_missing_and_ambiguous_symbols(program):
    symbols, _ = program
    with pytest.raises(SymbolError, match="no symbol 'helpr'.*similar: helper"):
        symbols.lookup("helpr")
    assert symbols.find("nothing_here") is None
    with pytest.raises(SymbolError, match="'twin' is ambiguous: 2 local"):
        symbols.lookup("twin")


def test_unreadable_elf_is_a_symbol_error(tmp_path):
    (tmp_path / "bad.elf").write_bytes(b"not an elf")
    with pytest.raises(SymbolError, match="cannot read ELF file"):
        SymbolTable(tmp_path / "bad.elf")


# --- DWARF types ------------------------------------------------------------------

def test_struct_layout_matches_the_compiler(program):
    size, name, word, grid, parent, items, items1_next = c_layout(program)
    thread = program[0].types.get("struct thread")
    assert thread.kind == "struct" and thread.size == size
    assert thread.offset_of("name") == name
    assert thread.offset_of("word") == word  # inside an anonymous union
    assert thread.offset_of("grid") == grid
    assert thread.offset_of("parent") == parent
    assert thread.offset_of("items") == items
    items_type = thread.member("items").type
    assert items_type.name == "struct item[2]" and items_type.count == 2
    element = items_type.target
    assert items + element.size + element.offset_of("link.next") == items1_next


def test_typedefs_pointers_arrays_and_enums(program):
    types = program[0].types
    tid = types.get("tid_t")
    assert tid.kind == "typedef" and tid.resolved().name == "int" and tid.signed
    thread = types.get("thread")  # a bare tag name finds the struct
    assert thread is types.get("struct thread")
    parent = thread.member("parent").type
    assert parent.kind == "pointer" and parent.target is thread and parent.size == 8
    counter = thread.member("counter").type  # const volatile qualifiers looked through
    assert counter.name == "uint64_t *" and counter.target.resolved().size == 8
    assert thread.member("fn").type.name == "function *"
    grid = thread.member("grid").type
    assert (grid.name, grid.size, grid.target.name) == ("int[2][3]", 24, "int[3]")
    status = thread.member("status").type
    assert status.enumerators == {"READY": 0, "RUNNING": 3, "DYING": -1} and status.signed
    assert types.get("struct thread *").target is thread


def test_unknown_types_members_and_variables(program):
    types = program[0].types
    with pytest.raises(TypeLookupError, match="no type 'struct nothing'"):
        types.get("struct nothing")
    with pytest.raises(TypeLookupError, match="has no member 'nope'"):
        types.get("struct thread").offset_of("items.nope")
    with pytest.raises(TypeLookupError, match="'same_name': 2 definitions"):
        types.variable("same_name")


def test_common_symbol_defined_in_several_files_is_one_variable(program):
    symbols, _ = program
    var = symbols.types.variable("shared_counters")
    assert var.address == symbols.address_of("shared_counters")
    assert var.type.resolved().name == "struct counters"


def test_global_variable_address_and_type(program):
    symbols, _ = program
    var = symbols.types.variable("main_thread")
    assert var.address == symbols.address_of("main_thread")
    assert var.type is symbols.types.get("struct thread")
    assert var.compile_unit.endswith("main.c")


# --- typed memory -------------------------------------------------------------------

def test_read_struct_decodes_every_kind_of_member(program):
    symbols, read = program
    var = symbols.types.variable("main_thread")
    thread = read_struct(read, var.address, var.type)
    assert thread["tid"] == 7 and thread.tid == 7
    assert thread["status"] == -1
    assert thread.string("name") == "main"
    assert thread["alive"] is True
    assert (thread["delta"], thread["level"]) == (-3, 5)  # bit-fields, one signed
    assert thread["word"] == 0xA1B2C3D4 and thread["bytes"] == b"\xd4\xc3\xb2\xa1"
    assert thread["grid"] == [[1, 2, 3], [4, 5, 6]]
    assert thread["parent"] == var.address
    assert thread["items"][1]["key"] == 12 and thread["items"][1].string("name") == "twelve"
    assert thread.address_of("items") == var.address + var.type.offset_of("items")
    assert "tid" in list(thread) and "tid=0x7" in repr(thread)


def test_read_value_of_a_scalar_and_container_of(program):
    symbols, read = program
    layout = symbols.types.variable("layout")
    assert read_value(read, layout.address, layout.type)[0] == c_layout(program)[0]
    item = symbols.types.get("struct item")
    on_list = symbols.address_of("on_list")
    assert container_of(on_list + item.offset_of("link"), item, "link") == on_list


def test_list_iteration(program):
    symbols, read = program
    types = symbols.types
    entries = list(iter_list(read, symbols.address_of("item_list"), types.get("struct list"),
                             types.get("struct item"), "link"))
    assert [e["key"] for e in entries] == [1, 2]
    assert [e.string("name") for e in entries] == ["one", "two"]


def test_broken_lists_raise_structure_errors(program):
    symbols, read = program
    types = symbols.types
    args = (types.get("struct list"), types.get("struct item"), "link")
    with pytest.raises(StructureError, match="no tail after 1 elements"):
        list(iter_list(read, symbols.address_of("item_list"), *args, max_items=1))
    with pytest.raises(StructureError):  # runs off into item_list's tail, then NULL
        list(iter_list(read, symbols.address_of("broken_list"), *args))


def test_hash_iteration(program):
    symbols, read = program
    types = symbols.types
    pages = [read_struct(read, address, types.get("struct page")) for address in
             hash_entries(read, symbols.address_of("spt"), types.get("struct hash"),
                          types.get("struct page"), "spt_elem")]
    assert sorted(p["va"] for p in pages) == [0x1000, 0x2000, 0x3000]


def test_chained_hash_iteration(program):
    symbols, read = program
    types = symbols.types
    args = (types.get("struct chain_hash"), types.get("struct frame"), "elem")
    frames = [read_struct(read, address, types.get("struct frame"))
              for address in hash_entries(read, symbols.address_of("frame_table"), *args)]
    assert [f["id"] for f in frames] == [1, 3, 2]
    with pytest.raises(StructureError, match="bucket 0: no end after 100 elements"):
        list(hash_entries(read, symbols.address_of("looped_table"), *args, max_items=100))


@pytest.mark.parametrize("table, entry, member, paths", [
    ("spt", "struct page", "spt_elem", ("va",)),                    # Pintos lists as buckets
    ("frame_table", "struct frame", "elem", ("id", "elem.next")),   # chains
])
def test_decode_hash_decodes_each_entry_once_in_table_order(program, table, entry, member,
                                                             paths):
    symbols, read = program
    types = symbols.types
    hash_type = types.get("struct hash" if table == "spt" else "struct chain_hash")
    args = (symbols.address_of(table), hash_type, types.get(entry), member)
    addresses = list(hash_entries(read, *args))
    decoded = list(decode_hash(PageCache(read), *args, paths))
    assert [address for address, *_ in decoded] == addresses and len(addresses) == 3
    for address, data, at, values in decoded:
        value = read_struct(read, address, types.get(entry))
        assert data[at:at + types.get(entry).size] == value.data
        assert values[:len(paths)] == tuple(value[p] for p in paths)   # then the link, if not asked
    args = (symbols.address_of("looped_table"), types.get("struct chain_hash"),
            types.get("struct frame"), "elem")
    with pytest.raises(StructureError, match="bucket 0: no end after 10 elements"):
        list(decode_hash(PageCache(read), *args, ("id",), max_items=10))


@pytest.mark.parametrize("table, entry, member", [
    ("spt", "struct page", "spt_elem"), ("frame_table", "struct frame", "elem")])
def test_hash_rows_gathers_decode_hashs_entries_in_one_buffer(program, table, entry, member):
    """hash_rows (walked in Python here: no mapped RAM): the entries'
    addresses in table order, and entry I's bytes at I * size."""
    symbols, read = program
    types = symbols.types
    hash_type = types.get("struct hash" if table == "spt" else "struct chain_hash")
    args = (symbols.address_of(table), hash_type, types.get(entry), member)
    addresses, data = hash_rows(PageCache(read), *args)
    size = types.get(entry).size
    assert addresses.tolist() == list(hash_entries(read, *args)) and len(addresses) == 3
    assert len(data) == 3 * size
    for i, address in enumerate(addresses):
        assert data[i * size:(i + 1) * size] == read_struct(read, address, types.get(entry)).data
    looped = (symbols.address_of("looped_table"), types.get("struct chain_hash"),
              types.get("struct frame"), "elem")
    with pytest.raises(StructureError, match="bucket 0: no end after 10 elements"):
        hash_rows(PageCache(read), *looped, max_items=10)


@pytest.mark.parametrize("step, offset", [(8, 0), (32, 8), (24, 16), (12, 4)])
def test_bucket_pointers_equal_an_unpack_of_each_record(step, offset):
    """_pointers (a hash's bucket heads): the aligned case is read as one
    cast of the bytes, the others record by record; both give the same."""
    import random
    import struct
    from harness.debug.typed_memory import _pointers
    data = random.Random(step).randbytes(step * 50)
    record = struct.Struct(f"<{offset}xQ{step - offset - 8}x")
    assert _pointers(data, step, offset) == [p for (p,) in record.iter_unpack(data)]
    assert _pointers(b"", step, offset) == []
