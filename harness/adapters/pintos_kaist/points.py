"""Fault-injection points of a Pintos-KAIST kernel: where each abstract
point of harness/run/injection.py is, which calls belong to it, what a forced
failure returns, and how a preemption is asked for, all from the kernel's
symbols and DWARF (no hooks in the student's code).

| point        | function (entry)               | calls that count            | failure returns |
|--------------|--------------------------------|-----------------------------|-----------------|
| frame_alloc  | palloc_get_page                | flags (rdi) has PAL_USER    | NULL            |
| page_alloc   | vm_alloc_page_with_initializer | every                       | false           |
| evict_choose | vm_get_victim                  | every                       | NULL            |
| page_fault   | vm_try_handle_fault            | every                       | false           |
| swap_in      | disk_read                      | disk (rdi) is the swap disk | (void): unobservable |
| swap_out     | disk_write                     | disk (rdi) is the swap disk | (void): unobservable |
| file_read    | file_read_at                   | not on the free map file    | 0 bytes         |
| file_write   | file_write_at                  | not on the free map file    | 0 bytes         |
| yield        | thread_yield                   | every                       | (void): unobservable |

Pintos's disk_read/disk_write return nothing (the driver panics on a real
I/O error), so a forced failure there skips the transfer: the sector is
neither read nor written, which the kernel cannot notice. The same holds
for "fail" at yield (thread_yield returns nothing: the yield is skipped).
These sites declare such kinds unobservable (UNOBSERVABLE below,
InjectionSite.unobservable): a scenario that asks for one, e.g.
evict-anon-werr (io_error at swap_out) or evict-anon-rerr (io_error at
swap_in), is NOT_JUDGED on a Pintos-KAIST kernel, decided before booting,
and `vmcheck explore`/`replay`/`run --inject` refuse it (docs/pintos-kaist.md).

The file system keeps its free map in a file too (filesys/free-map.c's
`free_map_file`): formatting at boot and every create() write it through
file_write_at. Those calls are the file system's own, not a file the
program or its mappings read or write (on the reference kernel the points
are the VM's reads and write-backs), so they do not count: an io_error at
the first file_write must not fail the format at boot.

Preemption ("preempt" at any point) is what a timer interrupt at that
instruction would do: the thread yields the CPU right there. The harness
makes the stopped thread call thread_yield() (Debugger.call_first): it
goes to the back of the ready list, the others run, and when it is
scheduled again it comes back to the function's first instruction with
its registers as they were, and the call goes on. Where a timer interrupt
could not preempt (interrupts off, or inside an external interrupt
handler: interrupt.c's `in_external_intr`), the harness instead ends the
thread's time slice (thread.c's `thread_ticks` set far past TIME_SLICE),
so it yields at the first tick after interrupts are on again. A yield at
a named instruction does not depend on when timer ticks come; the rest
of a student kernel's run still does (Pintos's IDE driver sleeps until
the disk interrupt, and QEMU completes disk requests on the host's time),
so a replayed schedule brings back the verdict, not an identical run
(docs/pintos-kaist.md). "delay" has no mechanism without kernel
cooperation and is refused; "steal" and "release" (frames taken out of the
user pool and given back, through the reference kernel's request block)
have none either, and a scenario with one is NOT_JUDGED (UNOBSERVABLE).
"""

from __future__ import annotations

from harness.adapters.base import PRESSURE_KINDS, InjectionSite
from harness.debug.dwarf_types import TypeLookupError
from harness.errors import UsageError

SWAP_CHANNEL, SWAP_DEVICE = 1, 1     # disk_get (1, 1): hd1:1, the swap disk (IDE index 3)
SLICE_OVER = 1 << 16                 # thread_ticks value that is >= any TIME_SLICE

_VOID_DISK = ("Pintos-KAIST's {f} returns nothing (its driver panics on a real I/O error): "
              "a forced failure only skips the sector transfer, and a kernel cannot notice "
              "a failed swap {what}")
_SWAP_OUT_WHY = _VOID_DISK.format(f="disk_write", what="write")
_SWAP_IN_WHY = _VOID_DISK.format(f="disk_read", what="read")
# (point, forced-failure kind) -> why a kernel cannot observe it.
UNOBSERVABLE = {
    ("swap_out", "io_error"): _SWAP_OUT_WHY, ("swap_out", "fail"): _SWAP_OUT_WHY,
    ("swap_in", "io_error"): _SWAP_IN_WHY, ("swap_in", "fail"): _SWAP_IN_WHY,
    ("yield", "fail"): ("Pintos-KAIST's thread_yield returns nothing: a forced failure only "
                        "skips one yield, which a kernel cannot notice"),
}

_NO_POOL_HOLD = ("Pintos-KAIST has no request block: the harness cannot take frames out of "
                 "its user pool or give them back at a chosen point")
_NO_DELAY = ("Pintos-KAIST has no request block: the harness cannot make the thread at the "
             "point sleep for some ticks (it can only end its time slice: preempt)")

# The register that holds, at entry, what an injection's `arg` matches (the
# page's user address: vm_alloc_page_with_initializer (type, upage, ...)).
AIMED_BY = {"page_alloc": "rsi"}
_GIVEN = {"frame_alloc": " (its one argument is the allocation's flags, not the page "
                         "the frame is for)",
          "yield": " (it takes no argument; the reference kernel's hook is told why it yields)"}

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
    elif point in ("file_read", "file_write"):
        accepts = _not_free_map_filter(symbols.types)
    return InjectionSite(function, accepts, failure, unobservable_kinds(point),
                         AIMED_BY.get(point))


def unaimed_reason(point: str):
    """Why an injection at POINT cannot be aimed by its argument (`arg`),
    None if it can (AIMED_BY)."""
    if point in AIMED_BY or point not in _FUNCTIONS:
        return None
    function = _FUNCTIONS[point][0]
    given = _GIVEN.get(point, "")
    return (f"Pintos-KAIST's {function} is given nothing an injection's arg could match"
            f"{given}, so the injection cannot be aimed at one call")


def unobservable_kinds(point: str) -> dict:
    """{kind: reason} of the forced failures at POINT a Pintos-KAIST kernel
    cannot observe, and of the memory pressure and delays it cannot be put
    under (known from the ABI alone: no symbols needed)."""
    kinds = {kind: why for (where, kind), why in UNOBSERVABLE.items() if where == point}
    return {**kinds, **{kind: _NO_POOL_HOLD for kind in PRESSURE_KINDS}, "delay": _NO_DELAY}


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


def _not_free_map_filter(types):
    """Accepts calls whose file (rdi) is not the file system's free map
    file (filesys/free-map.c's `free_map_file`, read at each call: it is
    opened at boot); every call if the kernel has no such variable."""
    try:
        where = types.variable("free_map_file").address
    except (TypeLookupError, AttributeError):
        return None
    return lambda dbg: dbg.register("rdi") != int.from_bytes(dbg.read_virt(where, 8), "little")


IF_FLAG = 1 << 9


def request(symbols, debugger, field: str, value: int) -> None:
    """Carries out a harness request on the kernel stopped at an injection
    point: "preempt" (see the module comment); others are refused with
    UsageError."""
    if field != "preempt":
        raise UsageError(f"the pintos-kaist kernel takes no {field} requests "
                         "(only preempt: it has no request block)")
    if symbols.find("thread_yield") is None:
        raise UsageError("preempt: the kernel has no function thread_yield")
    if debugger.register("eflags") & IF_FLAG and not _in_external_interrupt(symbols, debugger):
        debugger.call_first("thread_yield")
    else:
        _end_time_slice(symbols, debugger)


def _in_external_interrupt(symbols, debugger) -> bool:
    try:
        flag = symbols.types.variable("in_external_intr")
    except TypeLookupError:
        return False        # no such flag: points are never in interrupt handlers
    return debugger.read_virt(flag.address, 1) != b"\0"


def _end_time_slice(symbols, debugger) -> None:
    try:
        ticks = symbols.types.variable("thread_ticks")
    except TypeLookupError as e:
        raise UsageError(f"preempt: no thread_ticks in threads/thread.c ({e})") from None
    size = ticks.type.resolved().size
    debugger.write_virt(ticks.address, SLICE_OVER.to_bytes(size, "little"))
