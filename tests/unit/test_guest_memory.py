"""The debugger's memory readers (harness/debug/guest_memory.py) and the
guest RAM file plan (harness/machine/guest_ram.py), on synthetic page tables
(tests/unit/pt_builder.py) and a fake stub."""

from __future__ import annotations

import os
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from harness.debug.guest_memory import MappedMemory, StubMemory
from harness.debug.rsp import READ_CHUNK, RspError, RspMemoryError
from harness.machine.guest_ram import GuestRam, SharedRamPlan, plan_shared_ram, ram_bytes
from harness.x86.pagewalk import translate
from oracles.model.page_tables import PAGE_1G, PAGE_2M, PTE_P, PTE_W
from tests.unit.pt_builder import PageTableBuilder

LONG_MODE = {"cr0": 1 << 31 | 1, "cr4": 1 << 5, "efer": 1 << 10 | 1 << 8}


class FakeStub:
    """RspClient's memory and register surface over a SparsePhysicalMemory
    (virtual reads through the page tables at CR3, as the stub's would)."""

    def __init__(self, builder: PageTableBuilder, registers=None):
        self.mem = builder.mem
        self.builder = builder
        self.registers = {**LONG_MODE, "cr3": builder.cr3, **(registers or {})}
        self.epoch = 0
        self.running = False
        self.physical_mode = False
        self.requests: list = []

    def read_register(self, name):
        return self.registers[name]

    def read_registers(self):
        return dict(self.registers)

    @contextmanager
    def physical_memory(self):
        self.physical_mode = True
        try:
            yield
        finally:
            self.physical_mode = False

    def read_memory(self, address, size):
        self.requests.append((self.physical_mode, address, size))
        if self.physical_mode:
            return self.mem.read_phys(address, size)
        out = b""
        for page in range(address & ~0xfff, address + size, 4096):
            phys = translate(self.mem, self.registers["cr3"], page).phys
            if phys is None:
                raise RspMemoryError(page, size, b"E14", False)
            out += self.mem.read_phys(phys, 4096)
        return out[address & 0xfff:(address & 0xfff) + size]


class FakeRam:
    def __init__(self, mem):
        self.mem, self.size = mem, mem.ram_size

    def read(self, address, length):
        return self.mem.read_phys(address, length)

    def u64(self, address):
        return int.from_bytes(self.mem.read_phys(address, 8), "little")


@pytest.fixture
def space():
    """Pages of every size, each frame filled with a byte pattern of its own."""
    b = PageTableBuilder(ram_size=8 << 20)
    b.map(0x400000, 0x300000)                               # 4 KiB, user
    b.map(0x401000, 0x305000)
    b.map(0x8004000000, 0x200000, PAGE_2M, PTE_P | PTE_W)   # 2 MiB, kernel
    b.map(0xFFFFFFFF80000000, 0, PAGE_1G, PTE_P | PTE_W)    # 1 GiB
    for frame in (0x300000, 0x305000) + tuple(range(0x200000, 0x400000, 0x1000)):
        b.mem.write_phys(frame, bytes((frame >> 12) + i & 0xff for i in range(4096)))
    stub = FakeStub(b)
    return b, stub, MappedMemory(stub, FakeRam(b.mem), StubMemory(stub, cache=False))


@pytest.mark.parametrize("va, size", [(0x400010, 16), (0x400ff8, 32),   # across two 4 KiB
                                      (0x8004000123, 64), (0x80041fffe0, 32), (0x8004000ff0, 32),
                                      (0xFFFFFFFF80300040, 8)])
def test_virtual_reads_follow_the_tables_like_the_stub(space, va, size):
    _, stub, mapped = space
    assert mapped.read_virt(va, size) == stub.read_memory(va, size)
    assert mapped.remote_reads == 0


def test_unmapped_and_non_canonical_addresses_fail_as_the_stub_does(space):
    _, _, mapped = space
    for va in (0x402000, 0x800000000000, 0x8004200000):
        with pytest.raises(RspMemoryError):
            mapped.read_virt(va, 8)
    with pytest.raises(RspMemoryError):
        mapped.read_virt(0x401ff8, 16)        # the second page is not mapped


def test_devices_and_the_legacy_window_are_read_from_the_stub(space):
    _, stub, mapped = space
    assert mapped.read_phys(0x9fff8, 16) == stub.mem.read_phys(0x9fff8, 16)
    assert mapped.remote_reads == 1           # 0xa0000.. piece only
    assert stub.requests == [(True, 0xa0000, 8)]


def test_local_pages_are_mapped_onto_ram_the_cpu_sees(space):
    b, stub, mapped = space
    b.map(0x403000, 0xa0000)                  # onto the legacy window: the stub's
    assert [mapped.local_page(va) for va in (0x400000, 0x401ff8, 0x8004100000)] == [True] * 3
    assert [mapped.local_page(va) for va in (0x402000, 0x403000, 0x800000000000)] == [False] * 3
    stub.registers["cr0"] = 1                 # not paging: the stub translates
    stub.epoch += 1
    assert not mapped.local_page(0x400000)


def test_translations_are_kept_for_one_stop_only(space):
    b, stub, mapped = space
    assert mapped.read_virt(0x400000, 4)[0] == 0x300 & 0xff
    b.map(0x400000, 0x305000)                 # the kernel remaps the page...
    assert mapped.read_virt(0x400000, 4)[0] == 0x300 & 0xff   # ...unseen in this stop
    stub.epoch += 1                           # the guest ran
    assert mapped.read_virt(0x400000, 4)[0] == 0x305 & 0xff


def test_without_long_mode_paging_the_stub_translates(space):
    _, stub, mapped = space
    stub.registers["cr0"] = 1
    assert mapped.read_virt(0x400000, 8) == stub.read_memory(0x400000, 8)
    assert mapped.remote_reads == 1


def test_reads_are_refused_while_the_guest_runs(space):
    _, stub, mapped = space
    stub.running = True
    with pytest.raises(RspError, match="running"):
        mapped.read_phys(0x1000, 8)


def test_the_stub_cache_reads_each_block_once_per_stop(space):
    _, stub, _ = space
    cached = StubMemory(stub)
    first = cached.read_virt(0x400010, 8)
    assert cached.read_virt(0x400100, 8) == stub.read_memory(0x400100, 8)
    assert first == stub.read_memory(0x400010, 8)
    assert cached.requests == 1 and stub.requests[0] == (False, 0x400000, READ_CHUNK)
    cached.read_phys(0x300010, 8)
    assert cached.requests == 2 and stub.requests[-1][0] is True     # physical: own blocks
    stub.epoch += 1
    cached.read_virt(0x400010, 8)
    assert cached.requests == 3


def test_the_stub_cache_reports_failures_for_the_bytes_asked(space):
    _, stub, _ = space
    with pytest.raises(RspMemoryError) as caught:
        StubMemory(stub).read_virt(0x402010, 8)
    assert (caught.value.address, caught.value.size) == (0x402010, 8)


@pytest.mark.parametrize("args, size", [(["-m", "20"], 20 << 20), (["-m", "1G"], 1 << 30),
                                        (["-m", "size=64M,maxmem=1G"], 64 << 20),
                                        (["-M", "pc"], None), (["-m", "lots"], None)])
def test_ram_size_from_the_arguments(args, size):
    assert ram_bytes(args) == size


def test_the_plan_says_why_there_is_no_file(tmp_path, monkeypatch):
    assert "no writable" in plan_shared_ram(["-m", "20"], "x", tmp_path / "none").note
    assert "no -m" in plan_shared_ram([], "x", tmp_path).note
    assert "PCI hole" in plan_shared_ram(["-m", "4G"], "x", tmp_path).note
    monkeypatch.setattr(os, "statvfs", lambda _: SimpleNamespace(f_bavail=10, f_frsize=4096))
    assert "the guest needs 20 MB" in plan_shared_ram(["-m", "20"], "x", tmp_path).note


def test_a_planned_file_is_mapped_then_unlinked(tmp_path):
    plan = plan_shared_ram(["-m", "1"], "run", tmp_path)
    assert plan.note is None and plan.path.parent == tmp_path
    assert f"size={1 << 20},mem-path={plan.path},share=on" in " ".join(plan.qemu_args())
    with open(plan.path, "r+b") as qemu_side:          # what QEMU does with it
        qemu_side.truncate(1 << 20)
        qemu_side.seek(0x1234)
        qemu_side.write(b"guest")
    ram = GuestRam.open(plan)
    assert not plan.path.exists() and ram.read(0x1234, 5) == b"guest"
    with pytest.raises(IndexError):
        ram.read((1 << 20) - 4, 8)
    import ctypes
    assert ctypes.string_at(ram.address() + 0x1234, 5) == b"guest"    # what the C walk reads
    ram.close()
    with pytest.raises(ValueError, match="closed"):
        ram.address()


def test_a_file_of_the_wrong_size_is_not_mapped(tmp_path):
    plan = SharedRamPlan(tmp_path / "ram", 1 << 20)
    plan.path.write_bytes(b"short")
    with pytest.raises(ValueError, match="not the guest's"):
        GuestRam.open(plan)
