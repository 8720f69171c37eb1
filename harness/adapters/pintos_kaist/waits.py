"""A Pintos-KAIST kernel's wait-for graph (oracles/model/wait_graph.py), read from a
stopped guest through the kernel's DWARF, with no help from its code.

Threads are the thread pages PintosInspector finds (struct thread at the
start of a 4 KiB page, the kernel stack above it). A blocked thread's
`elem` is linked into the waiters list of the semaphore it sleeps on; the
list leads to the semaphore, maybe inside a struct lock, named by the
global that covers it (`filesys_lock`, `frame_table.lock`), by the struct
thread it is in ("`wait_sema` in the struct thread of tid 6": that thread
is the one expected to signal it), or by its address and the waiter's
call chain (through the saved frame pointers: lock_acquire above
sema_down means a lock). A thread in timer_sleep, or in disk_read /
disk_write (the IDE driver sleeps on `completion_wait` until the disk's
interrupt), is not waiting for another thread.
"""

from __future__ import annotations

from harness.adapters.wait_objects import ThreadSpan, WaitResolver, wait_graph_of
from harness.debug.dwarf_types import TypeLookupError
from harness.debug.typed_memory import read_struct, read_value
from oracles.model.wait_graph import WaitGraph

PAGE = 4096


def pintos_wait_graph(inspector) -> WaitGraph:
    """Every live thread with what it waits on; INSPECTOR is a
    PintosInspector on a stopped guest."""
    current = inspector.current_thread()
    structs = [read_struct(inspector.read, page, inspector.thread_type)
               for page in inspector.thread_pages(current)]
    size = inspector.thread_type.resolved().size
    spans = [ThreadSpan(t["tid"], t.string("name"), t.address, size, t.address + size,
                        t.address + PAGE) for t in structs]
    resolver = WaitResolver(inspector.read, inspector.types, spans)
    return wait_graph_of(structs, resolver, _idle_thread(inspector),
                         lambda t: inspector.thread_chain(t.address, t.address == current),
                         inspector.describe_chain, inspector.symbols.function_at)


def _idle_thread(inspector) -> int:
    """Address of the idle thread (`idle_thread` in threads/thread.c), 0 if unknown."""
    try:
        variable = inspector.types.variable("idle_thread")
        return read_value(inspector.read, variable.address, variable.type) or 0
    except (TypeLookupError, LookupError):
        return 0
