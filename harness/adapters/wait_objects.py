"""What a blocked thread waits on, read from a stopped kernel's memory.
Shared by both inspectors: Pintos-KAIST and the reference kernel have the
same struct list, struct semaphore and struct lock.

A thread blocked in sema_down is linked by its `elem` into the semaphore's
`waiters` list. Following `prev` from that elem reaches the list's head
sentinel (the one element whose prev is NULL); the list is the `waiters`
member of a struct semaphore, which may be the `semaphore` member of a
struct lock. The object is named by the global variable that covers it
(DWARF, with the member path: `filesys_lock`, `channels[1].completion_wait`),
by the struct thread or kernel stack that holds it ("`wait_sema` in the
struct thread of tid 6"), or by its address. Where DWARF cannot say what
a heap or stack object is, the waiter's call chain does: a wait inside
lock_acquire is on a lock, one inside cond_wait on a condition.

Not evidence of a deadlock (oracles/model/wait_graph.py): a call chain through
timer_sleep (the timer wakes it), through a device driver's wait
(DEVICE_FUNCTIONS: the device's interrupt wakes it) or a semaphore inside
a struct channel (Pintos's IDE driver: its completion_wait; the semaphore
of its `lock` is a lock, held by another thread), and a blocked thread on
no list.
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import Callable, Optional

from harness.adapters.base import PINTOS_KAIST_LAYOUT
from harness.debug.dwarf_types import TypeInfo, TypeLookupError
from oracles.model.wait_graph import (BLOCKED, CONDITION, DEVICE, LOCK, SEMAPHORE, TIMER, UNKNOWN,
                               ThreadNode, Wait, WaitGraph)

ReadMemory = Callable[[int, int], bytes]
KERNEL_SPACE = PINTOS_KAIST_LAYOUT.user_top   # both kernels' (their ABI's layout)
MAX_LIST_STEPS = 4096
TIMER_FUNCTIONS = frozenset({"timer_sleep"})
DEVICE_FUNCTIONS = frozenset({"disk_read", "disk_write", "identify_ata_device", "intq_getc",
                              "intq_putc", "input_getc", "ide_read", "ide_write"})
DEVICE_TYPES = frozenset({"struct channel"})      # Pintos devices/disk.c: completion_wait
COND_WAITER_TYPES = ("struct cond_waiter", "struct semaphore_elem")   # reference, Pintos
LOCK_FUNCTIONS = frozenset({"lock_acquire", "cond_wait"})   # a wait for another thread
WAITING_FRAMES = 2   # e.g. thread_sleep < timer_sleep, intq's wait < intq_getc


@dataclasses.dataclass(frozen=True)
class ThreadSpan:
    """Where one thread lives: its struct thread at ADDRESS (SIZE bytes) and
    its kernel stack [STACK_LOW, STACK_HIGH)."""
    tid: int
    name: str
    address: int
    size: int
    stack_low: int
    stack_high: int


@dataclasses.dataclass(frozen=True)
class Place:
    """Where an address lies: OWNER's struct thread or stack, a global, an
    object OWNER's struct thread points to, or none of these. PATH: the
    member path from the start of the global, the struct thread or the
    pointer ("filesys_lock.semaphore.waiters", "my_info->sema.waiters");
    TYPES: the type of each step of it, outermost first."""
    kind: str                       # global, thread, stack, pointed, other
    owner: Optional[ThreadSpan] = None
    path: str = ""
    types: tuple = ()

    def describe(self, address: int) -> str:
        if self.kind == "global":
            return f"`{self.path}`"
        if self.kind == "thread":
            return f"`{self.path}` in the struct thread of tid {self.owner.tid}"
        if self.kind == "stack":
            return f"an object on the stack of tid {self.owner.tid} at {address:#x}"
        if self.kind == "pointed":
            return f"`{self.path}` of tid {self.owner.tid}"
        return f"an object at {address:#x}"


def u64(read: ReadMemory, address: int) -> Optional[int]:
    try:
        return int.from_bytes(read(address, 8), "little")
    except Exception:  # noqa: BLE001 - a bad pointer in a hung kernel
        return None


def list_head_of(read: ReadMemory, elem: int, limit: int = MAX_LIST_STEPS) -> Optional[int]:
    """The head sentinel of the list ELEM (a struct list_elem) is linked
    into: the element reached through `prev` whose own prev is NULL. None
    if ELEM is not linked (prev NULL) or the chain leaves kernel memory."""
    address, steps = elem, 0
    prev = u64(read, address)
    if not prev:
        return None
    while steps < limit:
        if prev is None or prev < KERNEL_SPACE:
            return None
        address, prev, steps = prev, u64(read, prev), steps + 1
        if prev == 0:
            return address
    return None


def member_chain(t: TypeInfo, offset: int, stop: frozenset = frozenset({"struct list"})) -> list:
    """[(name, TypeInfo)] from the outermost member of T containing OFFSET
    inward (array elements as "[i]"), down to a member whose type is in
    STOP (a list is named, not its head sentinel); [] if T has no member
    there."""
    chain = []
    while True:
        t = t.resolved()
        if t.name in stop:
            return chain
        if t.kind == "array" and t.target is not None and t.target.resolved().size:
            size = t.target.resolved().size
            index = offset // size
            if t.count is not None and index >= t.count:
                return chain
            chain.append((f"[{index}]", t.target))
            t, offset = t.target, offset - index * size
            continue
        if t.kind not in ("struct", "union"):
            return chain
        inside = [m for m in t.members
                  if m.offset <= offset < m.offset + max(m.type.resolved().size, 1)]
        if not inside:
            return chain
        m = inside[0]
        chain.append((m.name or "", m.type))
        t, offset = m.type, offset - m.offset


def chain_path(chain: list) -> str:
    return "".join(name if name.startswith("[") else "." + name for name, _ in chain).lstrip(".")


class GlobalIndex:
    """Global and file-static variables of a kernel by address (DWARF)."""

    def __init__(self, types):
        spans = []
        for name in types.variables():
            try:
                var = types.variable(name)
            except TypeLookupError:
                continue    # defined in several files at different addresses
            size = var.type.resolved().size
            if var.address is not None and var.address >= KERNEL_SPACE and size:
                spans.append((var.address, var.address + size, name, var.type))
        spans.sort(key=lambda s: s[0])
        self._spans = spans
        self._starts = [s[0] for s in spans]

    def find(self, address: int) -> Optional[tuple]:
        """(name, type, offset) of the variable covering ADDRESS, or None."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address < self._spans[i][1]:
            start, _, name, vtype = self._spans[i]
            return name, vtype, address - start
        return None


_GLOBAL_INDEXES: dict = {}


def global_index(types) -> GlobalIndex:
    """One GlobalIndex per kernel (built at the first suspected deadlock)."""
    if id(types) not in _GLOBAL_INDEXES:
        _GLOBAL_INDEXES[id(types)] = (types, GlobalIndex(types))
    return _GLOBAL_INDEXES[id(types)][1]


class WaitResolver:
    """Turns one blocked thread into a Wait (see the module's docstring).
    THREADS: every live thread; KNOWN: semaphores a kernel adapter can name
    itself, address -> (target text, the words before the signaller, the
    tid expected to signal it)."""

    def __init__(self, read: ReadMemory, types, threads: list, known: Optional[dict] = None):
        self.read, self.types, self.threads = read, types, threads
        self.known = known or {}
        self.thread_type = types.get("struct thread")
        self.pointers = [(m.name, m.offset, m.type.resolved().target.resolved())
                         for m in self.thread_type.resolved().members
                         if m.name and m.type.resolved().kind == "pointer"
                         and m.type.resolved().target is not None
                         and m.type.resolved().target.resolved().kind == "struct"
                         and m.type.resolved().target.resolved().size]
        self.waiters_offset = types.get("struct semaphore").offset_of("waiters")
        lock = types.get("struct lock")
        self.lock_sema_offset = lock.offset_of("semaphore")
        self.holder_offset = lock.offset_of("holder")

    def wait_of(self, waiter: ThreadSpan, elem: int, functions: list) -> Wait:
        """WAITER's wait: its `elem` is at ELEM; FUNCTIONS are the names in
        its kernel call chain, innermost first. Only the WAITING_FRAMES
        innermost functions past the scheduler's and sema_down say how it
        waits (a lock taken by a page fault inside disk_read is a lock)."""
        near = [f for f in functions if f not in _SCHEDULER][:WAITING_FRAMES]
        names = set(near)
        if names & TIMER_FUNCTIONS:
            return Wait(TIMER, "the timer (timer_sleep)")
        head = list_head_of(self.read, elem)
        if head is None:
            kind = DEVICE if names & DEVICE_FUNCTIONS else UNKNOWN
            inner = next((f for f in functions if f not in _SCHEDULER), "?")
            return Wait(kind, f"no wait list (blocked in {inner})")
        place = self.locate(head, waiter)
        sema = head - self.waiters_offset
        # a semaphore of a device's struct is its interrupt's, but not the one
        # inside its struct lock: a channel's lock is held by another thread
        in_lock = any(t.resolved().name == "struct lock" for t in place.types)
        if names & DEVICE_FUNCTIONS and near[0] not in LOCK_FUNCTIONS or not in_lock and \
                any(t.resolved().name in DEVICE_TYPES for t in place.types):
            return Wait(DEVICE, f"a device interrupt ({_owner(place).describe(sema)})", sema)
        if sema in self.known:
            target, verb, signaller = self.known[sema]
            tid, inferred, note = self._signaller(waiter, signaller)
            if tid is None:
                return Wait(SEMAPHORE, f"{target} {verb} tid {signaller}", sema)
            return Wait(SEMAPHORE, target, sema, tid, inferred, note, verb)
        if place.types:
            return self._named_wait(waiter, head, place)
        return self._unnamed_wait(waiter, sema, place, near[0] if near else "")

    def locate(self, address: int, waiter: Optional[ThreadSpan] = None) -> Place:
        """Where ADDRESS lies: a struct thread, a kernel stack, a global, an
        object a struct thread points to (WAITER's last)."""
        for span in self.threads:
            if span.address <= address < span.address + span.size:
                chain = member_chain(self.thread_type, address - span.address)
                return Place("thread", span, chain_path(chain),
                             (self.thread_type,) + tuple(t for _, t in chain))
        for span in self.threads:
            if span.stack_low <= address < span.stack_high:
                return Place("stack", span)
        found = global_index(self.types).find(address)
        if found is not None:
            name, vtype, offset = found
            chain = member_chain(vtype, offset)
            path = name + ("" if not chain or chain[0][0].startswith("[") else ".")
            return Place("global", None, path + chain_path(chain),
                         (vtype,) + tuple(t for _, t in chain))
        return self._pointed_to(address, waiter)

    def _pointed_to(self, address: int, waiter: Optional[ThreadSpan]) -> Place:
        """ADDRESS inside an object that a pointer member of a struct thread
        points to (a child's record that its `struct child_info *` names),
        a thread other than WAITER's first; else Place("other")."""
        found = []
        for span in self.threads:
            for name, offset, target in self.pointers:
                pointer = u64(self.read, span.address + offset)
                if pointer and pointer <= address < pointer + target.size:
                    chain = member_chain(target, address - pointer)
                    found.append(Place("pointed", span, f"{name}->" + chain_path(chain),
                                       (target,) + tuple(t for _, t in chain)))
        found.sort(key=lambda place: place.owner == waiter)
        return found[0] if found else Place("other")

    def _named_wait(self, waiter: ThreadSpan, head: int, place: Place) -> Wait:
        """A wait list that DWARF names: a semaphore's `waiters`, maybe inside a lock."""
        steps = place.path.rsplit(".", 2)
        container = place.types[-2].resolved().name if len(place.types) >= 2 else ""
        if not place.path.endswith(".waiters") or container != "struct semaphore":
            return Wait(UNKNOWN, f"the list {place.describe(head)}", head)
        sema = head - self.waiters_offset
        outer = place.types[-3].resolved().name if len(place.types) >= 3 else ""
        if outer == "struct lock" and len(steps) == 3 and steps[1] == "semaphore":
            lock = sema - self.lock_sema_offset
            named = dataclasses.replace(place, path=steps[0])
            return Wait(LOCK, named.describe(lock), lock, *self._holder(lock))
        return Wait(SEMAPHORE, _owner(place).describe(sema), sema,
                    *self._signaller(waiter, place.owner))

    def _unnamed_wait(self, waiter: ThreadSpan, sema: int, place: Place, caller: str) -> Wait:
        """A semaphore on the heap or a stack: its kind from CALLER, the
        function that called sema_down."""
        if caller == "lock_acquire":
            lock = sema - self.lock_sema_offset
            return Wait(LOCK, "a lock " + _where(place, lock), lock, *self._holder(lock))
        if caller == "cond_wait":
            return self._condition(sema, place)
        return Wait(SEMAPHORE, "a semaphore " + _where(place, sema), sema,
                    *self._signaller(waiter, place.owner))

    def _condition(self, sema: int, place: Place) -> Wait:
        """cond_wait's waiter record (its semaphore at SEMA) is linked into
        the condition's `waiters`: name the condition from that list."""
        for name in COND_WAITER_TYPES:
            try:
                record = self.types.get(name)
            except TypeLookupError:
                continue
            sema_member = next((m for m in record.resolved().members
                                if m.type.resolved().name == "struct semaphore"), None)
            elem_member = next((m for m in record.resolved().members
                                if m.type.resolved().name == "struct list_elem"), None)
            if sema_member is None or elem_member is None:
                continue
            head = list_head_of(self.read, sema - sema_member.offset + elem_member.offset)
            if head is not None:
                return Wait(CONDITION, "condition " + _owner(self.locate(head)).describe(head),
                            head)
        return Wait(CONDITION, "a condition variable (waiter " + _where(place, sema) + ")", sema)

    def _holder(self, lock: int) -> tuple:
        """(holder tid, False, note) of the struct lock at LOCK."""
        pointer = u64(self.read, lock + self.holder_offset)
        if not pointer:
            return None, False, "no holder recorded"
        span = next((s for s in self.threads if s.address == pointer), None)
        if span is None:
            return None, False, f"held by a thread that no longer exists ({pointer:#x})"
        return span.tid, False, ""

    @staticmethod
    def _signaller(waiter: ThreadSpan, owner) -> tuple:
        """(tid, True, "") of the thread expected to signal a semaphore that
        OWNER (a ThreadSpan or tid) holds, unless that is the WAITER itself."""
        tid = owner.tid if isinstance(owner, ThreadSpan) else owner
        if tid is None or tid == waiter.tid:
            return None, False, ""
        return tid, True, ""


_SCHEDULER = frozenset({"schedule", "thread_block", "do_schedule", "switch_threads",
                        "thread_launch", "do_iret", "out_iret", "sema_down"})


def _owner(place: Place) -> Place:
    """PLACE of a `waiters` list, as the place of the object that has it."""
    if place.path.endswith(".waiters"):
        return dataclasses.replace(place, path=place.path[:-len(".waiters")])
    return place


def _where(place: Place, address: int) -> str:
    if place.kind == "stack":
        return f"on the stack of tid {place.owner.tid} at {address:#x}"
    if place.kind == "thread":
        return f"in the struct thread of tid {place.owner.tid} at {address:#x}"
    return f"at {address:#x}"


def wait_graph_of(structs: list, resolver: WaitResolver, idle: int,
                  chain_of: Callable, where_of: Callable, function_at: Callable) -> WaitGraph:
    """The graph of STRUCTS (struct thread values, one per RESOLVER.threads
    span). IDLE: the idle thread's address; CHAIN_OF(struct) -> its
    harness.debug.symbols.CallChain, or a str saying where it is when it has
    none (user mode); WHERE_OF(chain) -> the text thread_report shows;
    FUNCTION_AT: SymbolTable.function_at."""
    spans = {span.address: span for span in resolver.threads}
    statuses = {v: k.removeprefix("THREAD_").lower() for k, v in
                resolver.types.get("enum thread_status").enumerators.items()}
    elem_offset = resolver.thread_type.offset_of("elem")
    nodes = []
    for t in structs:
        status = statuses.get(t["status"], str(t["status"]))
        chain = chain_of(t)
        node = ThreadNode(t["tid"], t.string("name"), status, idle=t.address == idle,
                          where=where_of(chain))
        if status == BLOCKED and not node.idle:
            names = [found[0].name for found in map(function_at, _code_addresses(chain))
                     if found]
            node.wait = resolver.wait_of(spans[t.address], t.address + elem_offset, names)
        nodes.append(node)
    return WaitGraph(nodes)


def _code_addresses(chain) -> list:
    """The kernel code addresses of a CallChain, innermost first (a return
    address lies in its caller); none for a thread without a chain (str)."""
    if isinstance(chain, str):
        return []
    return ([chain.pc] if chain.pc is not None else []) + list(chain.returns)
