"""Fault-injection points of a Pintos-KAIST kernel: where each abstract
point of harness/injection.py is, which calls belong to it, what a forced
failure returns, and how a preemption is asked for, all from the kernel's
symbols and DWARF (no hooks in the student's code).

| point        | function (entry)                | calls that count        | failure returns |
|--------------|---------------------------------|-------------------------|-----------------|
| frame_alloc  | palloc_get_page                 | flags (rdi) has PAL_USER | NULL           |
| page_alloc   | vm_alloc_page_with_initializer  | every                   | false           |
| evict_choose | vm_get_victim                   | every                   | NULL            |
| page_fault   | vm_try_handle_fault             | every                   | false           |
| swap_in      | disk_read                       | disk (rdi) is the swap disk | (void)      |
| swap_out     | disk_write                      | disk (rdi) is the swap disk | (void)      |
| file_read    | file_read_at                    | every                   | 0 bytes         |
| file_write   | file_write_at                   | every                   | 0 bytes         |
| yield        | thread_yield                    | every                   | (void)          |

Pintos's disk_read/disk_write return nothing (the driver panics on a real
I/O error), so a forced failure there skips the transfer: the sector is
neither read nor written, which the kernel cannot notice.

Preemption ("preempt" at any point): the harness ends the running
thread's time slice by setting thread.c's `thread_ticks` far past
TIME_SLICE; the next timer tick (at most 1/TIMER_FREQ s of guest time
later, 10 ms by default; later if interrupts are off) sees
`++thread_ticks >= TIME_SLICE` and yields the CPU on interrupt return.
The thread may block or yield before that tick, and then the next thread
just gets a short slice. Under -icount the tick comes at the same
instruction every run, so the preemption is replayable. "delay" has no
mechanism without kernel cooperation and is refused.
"""

from __future__ import annotations

from harness.adapters.base import InjectionSite
from harness.dwarf_types import TypeLookupError
from harness.errors import UsageError

SWAP_CHANNEL, SWAP_DEVICE = 1, 1     # disk_get (1, 1): hd1:1, the swap disk (IDE index 3)
SLICE_OVER = 1 << 16                 # thread_ticks value that is >= any TIME_SLICE

_FUNCTIONS = {
    "frame_alloc": ("palloc_get_page", 0), "page_alloc": ("vm_alloc_page_with_initializer", 0),
    "evict_choose": ("vm_get_victim", 0), "page_fault": ("vm_try_handle_fault", 0),
    "swap_in": ("disk_read", 0), "swap_out": ("disk_write", 0),
    "file_read": ("file_read_at", 0), "file_write": ("file_write_at", 0),
    "yield": ("thread_yield", 0),
}


def injection_site(symbols, point: str) -> InjectionSite:
    """The InjectionSite of POINT in the kernel of SYMBOLS; UsageError if
    the point or its function is not there."""
    if point not in _FUNCTIONS:
        raise UsageError(f"the pintos-kaist kernel has no injection point {point!r}")
    function, failure = _FUNCTIONS[point]
    if symbols.find(function) is None:
        raise UsageError(f"injection point {point}: the kernel has no function {function}")
    accepts = None
    if point == "frame_alloc":
        accepts = _flag_filter(symbols.types, "PAL_USER")
    elif point in ("swap_in", "swap_out"):
        accepts = _disk_filter(symbols.types)
    return InjectionSite(function, accepts, failure)


def _flag_filter(types, flag: str):
    """Accepts calls whose first argument has FLAG of enum palloc_flags."""
    try:
        bit = types.get("enum palloc_flags").enumerators[flag]
    except (TypeLookupError, KeyError):
        raise UsageError(f"injection point frame_alloc: no {flag} in enum palloc_flags") from None
    return lambda dbg: bool(dbg.register("rdi") & bit)


def swap_disk_address(types) -> int:
    """Address of the swap disk's struct disk: &channels[1].devices[1] in
    devices/disk.c (what disk_get (1, 1) returns)."""
    try:
        channels = types.variable("channels")
        channel = channels.type.resolved().target.resolved()
        devices = channel.member("devices")
        disk_size = devices.type.resolved().target.resolved().size
    except (TypeLookupError, AttributeError) as e:
        raise UsageError(f"injection points swap_in/swap_out: cannot place the swap disk "
                         f"(devices/disk.c `channels`): {e}") from None
    return (channels.address + SWAP_CHANNEL * channel.size + devices.offset
            + SWAP_DEVICE * disk_size)


def _disk_filter(types):
    swap_disk = swap_disk_address(types)
    return lambda dbg: dbg.register("rdi") == swap_disk


def request(symbols, debugger, field: str, value: int) -> None:
    """Carries out a harness request on the stopped kernel: "preempt" ends
    the running thread's time slice (see the module comment); others are
    refused with UsageError."""
    if field != "preempt":
        raise UsageError(f"the pintos-kaist kernel takes no {field} requests "
                         "(only preempt: it has no request block)")
    try:
        ticks = symbols.types.variable("thread_ticks")
    except TypeLookupError as e:
        raise UsageError(f"preempt: no thread_ticks in threads/thread.c ({e})") from None
    size = ticks.type.resolved().size
    debugger.write_virt(ticks.address, SLICE_OVER.to_bytes(size, "little"))
