"""The reference kernel's wait-for graph (oracles/model/wait_graph.py), read from a
stopped guest through DWARF.

Threads come from `vmcheck_all_threads`; each struct thread is allocated
on the heap, its kernel stack is THREAD_KSTACK_PAGES pages at `kstack`.
Every lock of the reference kernel is a global (`vmfs_lock`, the VM lock
`vmcheck_frame_table.lock`, the swap map's, the console's, each IDE
channel's), so the wait list's DWARF location names it. The semaphores on
the heap are the exit records of processes (struct child_record): one
waits on `exited` for the child whose pid the record holds, and this
module names them so ("the exit of tid 6").
A thread blocked in timer_sleep waits for the timer (wait_objects.py
knows the function); the reference kernel polls its disks, so a thread
of it never waits on a device.
"""

from __future__ import annotations

from harness.adapters.wait_objects import ThreadSpan, WaitResolver, wait_graph_of
from harness.debug.typed_memory import iter_list, read_struct
from oracles.model.wait_graph import WaitGraph

PAGE = 4096


def reference_wait_graph(inspector) -> WaitGraph:
    """Every thread on vmcheck_all_threads with what it waits on; INSPECTOR
    is a ReferenceInspector on a stopped guest."""
    threads = inspector.types.variable("vmcheck_all_threads")
    structs = list(iter_list(inspector.read, threads.address, threads.type,
                             inspector.thread_type, "allelem"))
    current = inspector._variable("vmcheck_current_thread")
    stack_size = inspector.kstack_pages * PAGE
    size = inspector.thread_type.resolved().size
    spans = [ThreadSpan(t["tid"], t.string("name"), t.address, size, t["kstack"],
                        t["kstack"] + stack_size) for t in structs]
    resolver = WaitResolver(inspector.read, inspector.types, spans,
                            _exit_records(inspector, structs))
    return wait_graph_of(structs, resolver, _idle_thread(inspector),
                         lambda t: inspector.thread_chain(t, t.address == current),
                         inspector.describe_chain, inspector.symbols.function_at)


def _idle_thread(inspector) -> int:
    try:
        return inspector._variable("idle_thread")
    except LookupError:
        return 0


def _exit_records(inspector, structs) -> dict:
    """Address of each exit record's `exited` semaphore -> ("the exit",
    "of", N) (waits for the exit of tid N): every live process's own
    record and its children's."""
    types, read = inspector.types, inspector.read
    process_type, record_type = types.get("struct process"), types.get("struct child_record")
    exited = record_type.offset_of("exited")
    known = {}
    for t in structs:
        if not t["process"]:
            continue
        process = read_struct(read, t["process"], process_type)
        records = [process["record"]] if process["record"] else []
        records += [r.address for r in iter_list(read, process.address_of("children"),
                                                  process_type.member("children").type,
                                                  record_type, "elem")]
        for address in records:
            pid = read_struct(read, address, record_type)["pid"]
            known[address + exited] = ("the exit", "of", pid)
    return known
