"""Whether a Pintos-KAIST disk driver can be served by the exact disk
(harness/adapters/pintos_kaist/driver.py), on drivers-in-miniature compiled
here with gcc -g: the base driver's shape is accepted and laid out from
its DWARF; a changed driver is refused with the reason."""

import subprocess

import pytest

from harness.adapters.pintos_kaist.driver import (DriverNotServable, called_functions,
                                                 driver_layout, reset_write_sites)
from harness.x86.disasm import x86_64_decoder
from harness.debug.symbols import SymbolTable

SOURCE = r"""
PREFIX
#include <stdbool.h>
#include <stdint.h>
typedef uint32_t disk_sector_t;
struct thread;
struct list_elem { struct list_elem *prev, *next; };
struct list { struct list_elem head, tail; };
struct semaphore { unsigned value; struct list waiters; };
struct lock { struct thread *holder; struct semaphore semaphore; };
struct channel;
struct disk { char name[8]; struct channel *channel; int dev_no; bool is_ata;
              disk_sector_t capacity; DISK_COUNTERS };
struct channel { char name[8]; uint16_t reg_base; uint8_t irq; struct lock lock;
                 bool expecting_interrupt; struct semaphore completion_wait;
                 struct disk devices[2]; };
struct channel channels[2];
void lock_acquire (struct lock *l) { l->holder = 0; }
void lock_release (struct lock *l) { l->holder = 0; }
void sema_down (struct semaphore *s) { s->value--; }
void debug_panic (const char *m) { (void) m; for (;;); }
void cache_lookup (disk_sector_t s, void *b) { (void) s; (void) b; }
static void select_sector (struct disk *d, disk_sector_t s)
{ if (s >= d->capacity) debug_panic ("x"); }
static void issue_pio_command (struct channel *c, int cmd) { c->irq = cmd; }
static bool wait_while_busy (const struct disk *d) { return d != 0; }
static void input_sector (struct channel *c, void *b) { (void) c; (void) b; }
static void output_sector (struct channel *c, const void *b) { (void) c; (void) b; }
static inline void outb (uint16_t port, uint8_t data) {
  asm volatile ("outb %b0, %w1" : : "a" (data), "Nd" (port));
}
void timer_usleep (long us) { (void) us; }
void reset_channel (struct channel *c) {
  outb (c->reg_base + 0x206, 0);
  timer_usleep (10);
  outb (c->reg_base + 0x206, 0x04);
  timer_usleep (10);
  outb (c->reg_base + 0x206, 0);
}
void disk_read (struct disk *d, disk_sector_t sec_no, void *buffer READ_EXTRA) {
  struct channel *c = d->channel;
  lock_acquire (&c->lock);
  select_sector (d, sec_no);
  issue_pio_command (c, 0x20);
  sema_down (&c->completion_wait);
  if (!wait_while_busy (d)) debug_panic ("read failed");
  READ_BODY
  lock_release (&c->lock);
}
void disk_write (struct disk *d, disk_sector_t sec_no, const void *buffer) {
  struct channel *c = d->channel;
  lock_acquire (&c->lock);
  select_sector (d, sec_no);
  issue_pio_command (c, 0x30);
  if (!wait_while_busy (d)) debug_panic ("write failed");
  output_sector (c, buffer);
  sema_down (&c->completion_wait);
  WRITE_COUNT
  lock_release (&c->lock);
}
"""
BASE = {"PREFIX": "", "DISK_COUNTERS": "long long read_cnt; long long write_cnt;", "READ_EXTRA": "",
        "READ_BODY": "input_sector (c, buffer); d->read_cnt++;", "WRITE_COUNT": "d->write_cnt++;"}
VARIANTS = {
    "base": {},
    "cache": {"READ_BODY": "cache_lookup (sec_no, buffer); d->read_cnt++;"},
    "signature": {"READ_EXTRA": ", int flags", "READ_BODY": "input_sector (c, buffer); "
                                                           "d->read_cnt += flags;"},
    "missing": {"PREFIX": "#define disk_read ide_read_sector"},
    "no-counter": {"DISK_COUNTERS": "long long write_cnt;",
                   "READ_BODY": "input_sector (c, buffer);"},
}


def build(tmp_path, name: str, large: bool = True):
    source = SOURCE
    for key, value in {**BASE, **VARIANTS[name]}.items():
        source = source.replace(key, value)
    folder = tmp_path / name / "devices"
    folder.mkdir(parents=True)
    (folder / "disk.c").write_text(source)
    elf = tmp_path / name / "kernel.o"
    model = ["-mcmodel=large"] if large else []
    subprocess.run(["gcc", "-g", "-O0", *model, "-fno-pic", "-no-pie", "-nostdlib", "-static",
                    "-Wl,-e,disk_write", "-o", str(elf), "devices/disk.c"],
                   cwd=tmp_path / name, check=True, capture_output=True)
    return SymbolTable(elf)


@pytest.mark.parametrize("large", [True, False], ids=["movabs-call", "direct-call"])
def test_the_base_driver_is_laid_out_from_its_dwarf(tmp_path, large):
    symbols = build(tmp_path, "base", large)
    layout = driver_layout(symbols)
    assert layout.read_entry == symbols.address_of("disk_read")
    assert layout.write_entry == symbols.address_of("disk_write")
    channels = symbols.address_of("channels")
    assert (layout.channels, layout.channel_count, layout.disk_size) == (channels, 2, 48)
    assert (layout.capacity.offset, layout.capacity.size) == (24, 4)
    assert (layout.read_cnt.offset, layout.write_cnt.offset) == (32, 40)
    assert layout.lock_holder.offset == symbols.types.get("struct channel").member("lock").offset
    device = symbols.types.get("struct channel").member("devices").offset
    for index in range(4):
        at = channels + (index // 2) * layout.channel_size + device + (index % 2) * 48
        assert layout.disk_index(at) == index
        assert layout.disk_index(at + 8) is None
    assert layout.disk_index(channels) is None and layout.disk_index(channels - 48) is None
    assert "input_sector" in called_functions(symbols, symbols.find("disk_read"))
    outb = symbols.find("outb")
    writes = [a for a, _, m, o in x86_64_decoder().disasm_lite(
        symbols.code(outb.address, outb.size), outb.address) if m == "out"]
    assert layout.reset_writes == reset_write_sites(symbols) == tuple(writes) and writes


@pytest.mark.parametrize("variant, reason", [
    ("cache", "disk_read calls cache_lookup, which the base driver's disk_read does not"),
    ("signature", r"disk_read takes \(struct disk \*, disk_sector_t, void \*, int\)"),
    ("no-counter", "not the base driver's shape: .*read_cnt"),
    ("missing", r"the kernel has no function disk_read \(devices/disk.c\)"),
])
def test_a_changed_driver_is_refused_with_the_reason(tmp_path, variant, reason):
    with pytest.raises(DriverNotServable, match=reason):
        driver_layout(build(tmp_path, variant))
