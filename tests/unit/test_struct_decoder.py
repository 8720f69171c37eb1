"""StructDecoder (harness/debug/struct_decoder.py) against StructValue, the
member-by-member decoding it replaces in captures, over the DWARF of a C
struct compiled at test time: every kind of scalar member, signed and
unsigned, bit-fields, union members that share bytes, nested structs; on
the compiled initial values and on random bytes."""

import random
import struct
import subprocess

import pytest

from harness.debug.struct_decoder import StructDecoder
from harness.debug.symbols import SymbolTable
from harness.debug.typed_memory import StructValue, read_struct
from tests.unit.test_symbols import elf_image_reader

SOURCE = r"""
#include <stdbool.h>
#include <stdint.h>

struct source { void *file; int64_t offset; uint32_t read_bytes; };
struct sample {
  const struct sample *self;
  int8_t i8; uint8_t u8; int16_t i16; uint16_t u16;
  int32_t i32; uint32_t u32; int64_t i64; uint64_t u64;
  bool flag;
  enum mood { SAD = -2, OK = 1 } mood;
  signed int small : 5;
  unsigned int wide : 20;
  unsigned long far : 40;
  bool bit : 1;
  union {
    struct { int kind; struct source source; } uninit;
    struct { uint64_t slot; } anon;
    struct source file;
  };
  char name[5];
};

struct sample sample = {
  .self = &sample, .i8 = -5, .u8 = 250, .i16 = -300, .u16 = 65000, .i32 = -70000,
  .u32 = 4000000000u, .i64 = -5000000000, .u64 = 18000000000000000000ull, .flag = true,
  .mood = SAD, .small = -9, .wide = 1000000, .far = 0x12345678ffull, .bit = 1,
  .uninit = { 7, { (void *) 0x8004000000, -4096, 512 } }, .name = "abcd",
};

void entry(void) { for (;;) ; }
"""

PATHS = ("self", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "flag", "mood", "small",
         "wide", "far", "bit", "uninit.kind", "uninit.source.file", "uninit.source.offset",
         "uninit.source.read_bytes", "anon.slot", "file.file", "file.read_bytes")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(struct sample TypeInfo, its address, read) from the compiled program."""
    out = tmp_path_factory.mktemp("decoder")
    (out / "sample.c").write_text(SOURCE)
    elf = out / "sample.elf"
    subprocess.run(["gcc", "-g", "-O0", "-Wall", "-Werror", "-nostdlib", "-static", "-no-pie",
                    "-fno-pic", "-ffreestanding", "-Wl,-e,entry", "-o", str(elf),
                    str(out / "sample.c")], check=True, capture_output=True, timeout=60)
    symbols = SymbolTable(elf)
    variable = symbols.types.variable("sample")
    yield variable.type, variable.address, elf_image_reader(elf)
    symbols.close()


def slow(t, data: bytes, paths) -> tuple:
    value = StructValue(t, 0, data)
    return tuple(value[p] for p in paths)


def test_values_equal_member_by_member_decoding(sample):
    t, address, read = sample
    value = read_struct(read, address, t)
    decoder = StructDecoder(t, PATHS)
    got = decoder.values(value.data)
    assert got == slow(t, value.data, PATHS)
    assert got[:3] == (address, -5, 250) and got[9] is True
    assert got[10:16] == (-2, -9, 1000000, 0x12345678FF, 1, 7)
    assert got[16:19] == (0x8004000000, -4096, 512)
    assert got[19] == got[20] == 7 and got[21] == 0xFFFFF000   # union members over kind, offset


@pytest.mark.parametrize("seed", range(20))
def test_values_on_random_bytes_in_any_order(sample, seed):
    t, _, _ = sample
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(t.size))
    paths = list(PATHS)
    rng.shuffle(paths)
    paths = paths[:rng.randrange(1, len(paths) + 1)]
    decoder = StructDecoder(t, paths)
    assert decoder.values(data) == slow(t, data, paths)
    framed = bytes(7) + data + bytes(3)                     # at an offset, in a memoryview
    assert decoder.values(memoryview(framed), 7) == slow(t, data, paths)


def test_one_format_without_unions(sample):
    t, address, read = sample
    decoder = StructDecoder(t, ("i8", "u64", "flag"))
    assert len(decoder._structs) == 1
    assert decoder.values(read(address, t.size)) == (-5, 18000000000000000000, True)
    union = StructDecoder(t, ("anon.slot", "uninit.kind", "file.file"))
    assert len(union._structs) == 3            # three members on the same bytes


def test_only_scalar_members(sample):
    t, _, _ = sample
    with pytest.raises(TypeError, match="name"):
        StructDecoder(t, ("name",))
    with pytest.raises(TypeError, match="uninit.source"):
        StructDecoder(t, ("uninit.source",))
    with pytest.raises(ValueError):
        StructDecoder(t, ())
    with pytest.raises(struct.error):
        StructDecoder(t, ("u64",)).values(b"\0" * 8)


@pytest.mark.parametrize("seed", range(10))
def test_iter_values_equals_values_record_by_record(sample, seed):
    """iter_values over records laid one after another (what the C walk
    gathers) gives values() of each: one format, one format out of order,
    unions, bit-fields."""
    t, _, _ = sample
    rng = random.Random(seed)
    step = t.size + rng.randrange(0, 9)
    data = bytes(rng.randrange(256) for _ in range(step * 5))
    for paths in (("i8", "u64", "flag"), ("u64", "i8"), ("anon.slot", "uninit.kind"),
                  ("small", "wide", "far", "bit"), tuple(rng.sample(PATHS, 4))):
        decoder = StructDecoder(t, paths)
        assert list(decoder.iter_values(data, step)) == \
            [decoder.values(data, at) for at in range(0, len(data), step)], paths
    assert list(StructDecoder(t, ("u64",)).iter_values(b"", step)) == []
