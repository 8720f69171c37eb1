"""Pintos-KAIST injection points and preemption requests,
on a kernel-in-miniature compiled here with gcc -g (its DWARF places the
swap disk, PAL_USER and thread_ticks) and a fake debugger."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from harness.adapters.pintos_kaist.points import SLICE_OVER, injection_site, request, swap_disk_address
from harness.errors import UsageError
from harness.run.injection import Injection, Injector
from harness.debug.symbols import SymbolTable

MINI_KERNEL_C = r"""
#include <stdint.h>
enum palloc_flags { PAL_ASSERT = 001, PAL_ZERO = 002, PAL_USER = 004 };
struct disk { char name[8]; void *channel; int dev_no; int is_ata; uint32_t capacity; };
struct channel { char name[8]; uint16_t reg_base; uint8_t irq; int expecting; struct disk devices[2]; };
static struct channel channels[2];
static unsigned thread_ticks;
static _Bool in_external_intr;
void *palloc_get_page(enum palloc_flags flags) { return flags ? (void *) channels : 0; }
void disk_read(struct disk *d, uint32_t sec, void *buf) { (void) d; (void) sec; (void) buf; }
void disk_write(struct disk *d, uint32_t sec, const void *buf) { (void) d; (void) sec; (void) buf; }
void *vm_get_victim(void) { return 0; }
int vm_try_handle_fault(void *f) { return f != 0; }
void thread_yield(void) { thread_ticks = 0; }
struct file { int pos; };
static struct file *free_map_file;
int file_write_at(struct file *f, const void *b, int n, int o) { (void) b; (void) o; return f == free_map_file ? n : 0; }
void _start(void) { for (;;) { thread_yield(); in_external_intr = !in_external_intr; } }
"""


@pytest.fixture(scope="module")
def symbols(tmp_path_factory):
    work = tmp_path_factory.mktemp("pintos-points")
    (work / "k.c").write_text(MINI_KERNEL_C)
    subprocess.run(["gcc", "-g", "-O0", "-nostdlib", "-static", "-o", str(work / "k.elf"),
                    str(work / "k.c")], check=True, capture_output=True, timeout=60)
    table = SymbolTable(work / "k.elf")
    yield table
    table.close()


class FakeDebugger:
    def __init__(self, **registers):
        self.registers = registers
        self.memory: dict = {}
        self.forced: list = []
        self.called: list = []

    def register(self, name):
        return self.registers.get(name, 0)

    def write_virt(self, address, data):
        self.memory[address] = data

    def read_virt(self, address, size):
        return self.memory.get(address, bytes(size))

    def call_first(self, function):
        self.called.append(function)

    def add_breakpoint(self, where, callback=None, hardware=False):
        self.callback = callback
        return SimpleNamespace(address=0, label=where)   # what a Breakpoint has

    def force_return(self, value):
        self.forced.append(value)


def test_frame_alloc_counts_only_user_pool_allocations(symbols):
    site = injection_site(symbols, "frame_alloc")
    assert (site.symbol, site.failure_value) == ("palloc_get_page", 0)
    assert site.accepts(FakeDebugger(rdi=4 | 2)) and not site.accepts(FakeDebugger(rdi=2))


def test_swap_points_filter_on_the_swap_disk(symbols):
    types = symbols.types
    channels = types.variable("channels")
    channel_size = types.get("struct channel").size
    expected = (channels.address + channel_size + types.get("struct channel").offset_of("devices")
                + types.get("struct disk").size)
    assert swap_disk_address(types) == expected
    site = injection_site(symbols, "swap_out")
    assert site.symbol == "disk_write"
    assert site.accepts(FakeDebugger(rdi=expected))
    assert not site.accepts(FakeDebugger(rdi=expected - types.get("struct disk").size))


def test_void_sites_declare_forced_failures_unobservable(symbols):
    """disk_read/disk_write and thread_yield return nothing: a forced
    failure there only skips the work, which no kernel can notice. No
    point can take frames out of the pool or make the thread sleep
    (steal/release/delay: no request block)."""
    pressure = {"steal", "release", "delay"}
    assert "disk_write returns nothing" in injection_site(symbols, "swap_out").unobservable["io_error"]
    assert set(injection_site(symbols, "swap_in").unobservable) == {"fail", "io_error"} | pressure
    assert set(injection_site(symbols, "frame_alloc").unobservable) == pressure
    assert set(injection_site(symbols, "file_write").unobservable) == pressure


def test_file_points_leave_out_the_file_systems_free_map(symbols):
    """Formatting at boot and create() write the free map through
    file_write_at: not a file of the program's, so not the point's call."""
    site = injection_site(symbols, "file_write")
    assert site.symbol == "file_write_at"
    dbg = FakeDebugger(rdi=0x5000)
    where = symbols.types.variable("free_map_file").address
    dbg.memory[where] = (0x5000).to_bytes(8, "little")          # free_map_file == rdi
    assert not site.accepts(dbg)
    dbg.registers["rdi"] = 0x6000                                # another file
    assert site.accepts(dbg)


def test_other_points_and_missing_functions(symbols):
    assert injection_site(symbols, "evict_choose").symbol == "vm_get_victim"
    assert injection_site(symbols, "page_fault").accepts is None
    with pytest.raises(UsageError, match="no function file_read_at"):
        injection_site(symbols, "file_read")
    with pytest.raises(UsageError, match="no injection point 'teleport'"):
        injection_site(symbols, "teleport")


def test_injector_uses_the_site_filter_and_failure_value(symbols):
    class Adapter:
        def injection_site(self, point):
            return injection_site(symbols, point)

    class Inspector:
        def current_thread_name(self):
            return "main"

    dbg = FakeDebugger()
    injector = Injector(Adapter(), [Injection("frame_alloc", "fail", nth=2)])
    injector.arm(dbg, Inspector())
    for flags in (4, 0, 2, 4 | 2):          # user, kernel, kernel, user: the 2nd user call
        dbg.registers["rdi"] = flags
        dbg.callback(dbg, None)
    assert dbg.forced == [0] and injector.records[0].hit == 2


def test_preempt_yields_right_there_when_a_timer_interrupt_could(symbols):
    dbg = FakeDebugger(eflags=0x202)                 # IF set, not in an interrupt handler
    request(symbols, dbg, "preempt", 1)
    assert dbg.called == ["thread_yield"] and dbg.memory == {}


@pytest.mark.parametrize("eflags, in_handler", [(0x002, False), (0x202, True)])
def test_preempt_ends_the_time_slice_where_no_interrupt_could_come(symbols, eflags, in_handler):
    dbg = FakeDebugger(eflags=eflags)
    flag = symbols.types.variable("in_external_intr").address
    if in_handler:
        dbg.memory[flag] = b"\1"
    request(symbols, dbg, "preempt", 1)
    ticks = symbols.types.variable("thread_ticks")
    assert dbg.called == []
    assert dbg.memory[ticks.address] == SLICE_OVER.to_bytes(4, "little")


def test_delay_is_refused(symbols):
    with pytest.raises(UsageError, match="no delay_ticks requests"):
        request(symbols, FakeDebugger(), "delay_ticks", 5)
