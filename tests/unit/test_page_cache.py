"""PageCache (harness/debug/page_cache.py): virtual memory read a page at a
time, kept for one stop, failing as the reader it wraps fails."""

import struct

import pytest

from harness.debug.page_cache import PAGE, PageCache, kernel_pages
from harness.debug.rsp import RspMemoryError

MAPPED = (0x1000, 0x2000, 0x5000)      # readable pages; the rest is not mapped


class Memory:
    """read(address, size) over MAPPED pages whose bytes are their offsets'
    low bytes plus GENERATION; counts the reads."""

    def __init__(self):
        self.reads = []
        self.generation = 0

    def read(self, address, size):
        self.reads.append((address, size))
        out = bytearray()
        for at in range(address, address + size):
            if at & ~(PAGE - 1) not in MAPPED:
                raise RspMemoryError(address, size, b"E14", False)
            out.append((at + self.generation) & 0xFF)
        return bytes(out)


class Client:
    epoch = 0


@pytest.fixture
def cache():
    memory, client = Memory(), Client()
    return PageCache(memory.read, client), memory, client


def test_reads_come_from_one_read_per_page_per_stop(cache):
    pages, memory, client = cache
    assert pages.read(0x1010, 4) == memory.read(0x1010, 4)
    assert pages.read(0x1ff0, 0x20) == memory.read(0x1ff0, 0x20)   # across two pages
    assert pages(0x2008, 8) == memory.read(0x2008, 8)                  # a read function too
    buf, at = pages.buffer(0x1040, 16)
    assert (at, bytes(buf[at:at + 16])) == (0x40, memory.read(0x1040, 16))
    assert [r for r in memory.reads if r[1] == PAGE] == [(0x1000, PAGE), (0x2000, PAGE)]
    assert pages.page_reads == 2
    client.epoch += 1                     # the guest ran: read again
    memory.generation = 1
    assert pages.read(0x1010, 1) == bytes([0x11])
    assert pages.page_reads == 3


def test_a_struct_across_pages_is_one_buffer(cache):
    pages, memory, _ = cache
    buf, at = pages.buffer(0x1ffc, 8)
    assert at == 0 and buf == memory.read(0x1ffc, 8)
    assert struct.unpack_from("<Q", buf, at)[0] == int.from_bytes(buf, "little")


def test_unmapped_pages_fail_with_the_address_asked_each_time(cache):
    pages, memory, _ = cache
    for _ in range(2):
        with pytest.raises(RspMemoryError) as e:
            pages.read(0x3010, 8)
        assert (e.value.address, e.value.size) == (0x3010, 8)
    assert memory.reads.count((0x3000, PAGE)) == 1          # the failure is kept too
    with pytest.raises(RspMemoryError):
        pages.read(0x2ff8, 16)                              # runs into an unmapped page
    assert pages.read(0x5000, 2) == bytes([0, 1])


def test_without_a_client_nothing_is_kept():
    memory = Memory()
    pages = PageCache(memory.read)
    assert pages.read(0x1010, 4) == memory.read(0x1010, 4)
    assert pages.buffer(0x1010, 4) == (memory.read(0x1010, 4), 0)
    assert all(size == 4 for _, size in memory.reads)


def test_pages_that_are_not_local_are_read_as_asked(cache):
    _, memory, client = cache
    pages = PageCache(memory.read, client, local=lambda page: page != 0x2000)
    assert pages.read(0x1ffc, 8) == memory.read(0x1ffc, 8)          # across: all as asked
    assert pages.buffer(0x2010, 4) == (memory.read(0x2010, 4), 0)
    assert pages.read(0x1010, 4) == memory.read(0x1010, 4)
    assert pages.page_reads == 1 and (0x2000, PAGE) not in memory.reads
    assert pages.kept()[0x2000] is False and pages.kept()[0x1000]


def test_kernel_pages_keeps_what_the_debuggers_memory_reads_locally():
    memory, client = Memory(), Client()

    class Reader:
        local_page = staticmethod(lambda address: address == 0x1000)

    class Debugger:
        read_virt = staticmethod(memory.read)

    dbg = Debugger()
    dbg.client, dbg.memory = client, Reader()
    pages = kernel_pages(dbg)
    pages.read(0x1008, 8), pages.read(0x2008, 8)
    assert pages.page_reads == 1
    dbg.memory = object()                # a reader that says nothing: read as asked
    client.epoch += 1
    pages.read(0x1008, 8)
    assert pages.page_reads == 1
    del dbg.client                       # inside GDB: nothing kept
    assert kernel_pages(dbg).kept() == {}
