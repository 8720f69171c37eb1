"""A kernel in miniature for the wait-for graph tests: Pintos-style struct
list, semaphore, lock, condition waiter, thread and IDE channel compiled
with gcc -g (linked at a kernel address), and helpers that put threads
to sleep on those objects in a fake guest memory, as sema_down would."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.adapters.wait_objects import ThreadSpan
from tests.unit.pintos_guest import PAGE, FakeMemory, dwarf

SOURCE = r"""
#include <stdint.h>
struct list_elem { struct list_elem *prev, *next; };
struct list { struct list_elem head, tail; };
struct semaphore { unsigned value; struct list waiters; };
enum thread_status { THREAD_RUNNING, THREAD_READY, THREAD_BLOCKED, THREAD_DYING };
struct thread;
struct lock { struct thread *holder; struct semaphore semaphore; };
struct condition { struct list waiters; };
struct semaphore_elem { struct list_elem elem; struct semaphore semaphore; };
struct child_info { int tid; int exit_status; struct semaphore sema; };
struct thread {
  int tid; enum thread_status status; char name[16];
  struct list_elem elem; struct semaphore wait_sema; struct lock child_lock;
  struct child_info *my_info; struct lock *wait_on_lock;
  unsigned magic;
};
struct channel { char name[8]; struct lock lock; struct semaphore completion_wait; };
__attribute__((used)) struct lock filesys_lock;
__attribute__((used)) struct frame_table { int used; struct lock lock; } frame_table;
__attribute__((used)) static struct channel channels[2];
__attribute__((used)) static struct list sleep_list;
__attribute__((used)) struct condition unbusy;
__attribute__((used)) struct thread *idle_thread;
__attribute__((used)) struct semaphore_elem *a_cond_waiter;
void _start (void) { }
"""
LINK_AT = 0x8004100000
HEAP = 0x8004400000


def compile_kernel(work: Path) -> Path:
    (work / "waits.c").write_text(SOURCE)
    elf = work / "waits.elf"
    subprocess.run(["gcc", "-g", "-O0", "-nostdlib", "-static",
                    f"-Wl,-Ttext-segment={LINK_AT:#x}", "-o", str(elf), str(work / "waits.c")],
                   check=True, capture_output=True, timeout=60)
    return elf


class WaitGuest:
    """Threads (one page each: struct thread, then its stack) and wait
    objects in a FakeMemory laid out by the compiled kernel's DWARF."""

    def __init__(self, elf: Path):
        self.types = dwarf(elf)
        self.mem = FakeMemory()
        self.thread_type = self.types.get("struct thread")
        self.list_type = self.types.get("struct list")
        self.next_free = HEAP
        self.spans: dict[int, ThreadSpan] = {}
        self.waiters: dict[int, list] = {}   # list address -> elems linked into it
        for name in ("filesys_lock", "frame_table", "channels", "sleep_list", "unbusy"):
            var = self.types.variable(name)
            self.mem.write(var.address, bytes(var.type.resolved().size))

    def alloc(self, size: int, align: int = 64) -> int:
        address = -(-self.next_free // align) * align
        self.next_free = address + size
        self.mem.write(address, bytes(size))
        return address

    def address(self, path: str) -> int:
        """Address of a global's member: "filesys_lock.semaphore.waiters"."""
        name, _, rest = path.partition(".")
        var = self.types.variable(name.split("[")[0])
        offset = 0
        if "[" in name:
            index = int(name.split("[")[1].rstrip("]"))
            offset = index * var.type.resolved().target.resolved().size
            element = var.type.resolved().target
            return var.address + offset + (element.offset_of(rest) if rest else 0)
        return var.address + (var.type.offset_of(rest) if rest else 0)

    def thread(self, tid: int, name: str, status: int = 2) -> ThreadSpan:
        page = self.alloc(PAGE, PAGE)
        self.mem.put(page, self.thread_type, "tid", tid)
        self.mem.put(page, self.thread_type, "status", status)
        self.mem.write(page + self.thread_type.offset_of("name"), name.encode() + b"\0")
        size = self.thread_type.size
        span = ThreadSpan(tid, name, page, size, page + size, page + PAGE)
        self.spans[tid] = span
        return span

    def member(self, tid: int, path: str) -> int:
        return self.spans[tid].address + self.thread_type.offset_of(path)

    def sleep_on(self, tid: int, waiters: int) -> int:
        """Links thread TID's elem into the list at WAITERS (after any
        already there); returns the elem's address."""
        elem = self.member(tid, "elem")
        self.waiters.setdefault(waiters, []).append(elem)
        self._link(waiters, self.waiters[waiters])
        return elem

    def hold(self, lock: int, tid: int | None) -> None:
        """Sets the struct lock at LOCK's holder to thread TID (None: NULL)."""
        holder = self.spans[tid].address if tid is not None else 0
        self.mem.write(lock, holder.to_bytes(8, "little"))

    def cond_wait(self, tid: int, condition_waiters: int) -> int:
        """Thread TID waits on the condition whose waiters list is at
        CONDITION_WAITERS, through a struct semaphore_elem on its stack;
        returns the thread's elem address."""
        record_type = self.types.get("struct semaphore_elem")
        record = self.spans[tid].stack_low + 256
        self.mem.write(record, bytes(record_type.size))
        self.waiters.setdefault(condition_waiters, []).append(record)
        self._link(condition_waiters, self.waiters[condition_waiters])
        sema_waiters = record + record_type.offset_of("semaphore.waiters")
        return self.sleep_on(tid, sema_waiters)

    def _link(self, list_address: int, elems: list) -> None:
        head = list_address + self.list_type.offset_of("head")
        tail = list_address + self.list_type.offset_of("tail")
        chain = [head, *elems, tail]
        self.mem.write(head, bytes(8))                     # head.prev = NULL
        self.mem.write(tail + 8, bytes(8))                 # tail.next = NULL
        for before, after in zip(chain, chain[1:]):
            self.mem.write(before + 8, after.to_bytes(8, "little"))
            self.mem.write(after, before.to_bytes(8, "little"))
