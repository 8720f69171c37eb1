"""The wait-for graph (oracles/model/wait_graph.py) and how a blocked thread's wait
is found in kernel memory (harness/adapters/wait_objects.py), on a kernel
in miniature compiled with gcc -g (tests/unit/wait_guest.py)."""

import pytest

from results.codec import from_json, to_json
from harness.adapters.wait_objects import WaitResolver, list_head_of
from oracles.model.wait_graph import (CONDITION, DEVICE, LOCK, SEMAPHORE, TIMER, UNKNOWN, ThreadNode,
                               Wait, WaitGraph)
from tests.unit.wait_guest import WaitGuest, compile_kernel

IN_LOCK = ["schedule", "thread_block", "sema_down", "lock_acquire", "sys_read"]
IN_SEMA = ["schedule", "thread_block", "sema_down", "process_wait"]


@pytest.fixture(scope="module")
def elf(tmp_path_factory):
    return compile_kernel(tmp_path_factory.mktemp("waits"))


@pytest.fixture
def guest(elf):
    return WaitGuest(elf)


def node(tid, name, status="blocked", wait=None, idle=False):
    return ThreadNode(tid, name, status, idle=idle, wait=wait)


def lock_wait(target, holder):
    return Wait(LOCK, target, 0x1000 + holder, holder)


# ---- the graph ----

def test_an_abba_cycle_is_a_deadlock_and_is_described_in_one_line():
    g = WaitGraph([node(1, "main", wait=Wait(SEMAPHORE, "the exit", 0x10, 5, True, verb="of")),
                   node(5, "swap-kid", wait=lock_wait("`frame_lock`", 6)),
                   node(6, "child", wait=lock_wait("`filesys_lock`", 5)),
                   node(2, "idle", "running", idle=True)])
    assert [t.tid for t in g.cycle()] == [5, 6]
    assert g.deadlock_problem() is None
    assert g.describe() == ("tid 5 swap-kid waits for `frame_lock` held by tid 6 child, "
                            "which waits for `filesys_lock` held by tid 5")


def test_without_a_cycle_every_blocked_thread_is_listed():
    g = WaitGraph([node(3, "a", wait=lock_wait("`l`", 4)),
                   node(4, "b", wait=Wait(SEMAPHORE, "a semaphore at 0x9000", 0x9000)),
                   node(2, "idle", "running", idle=True)])
    assert g.cycle() == []
    assert g.deadlock_problem() is None     # nobody can run: still a deadlock
    assert g.describe() == ("tid 3 a waits for `l` held by tid 4 b; "
                            "tid 4 b waits for a semaphore at 0x9000")


def test_a_lock_held_by_a_thread_that_exited_says_so_and_where_it_ended():
    """PintosKaist-team04 @879ad56, badptr-write-unmapped: write() faulted
    in the kernel while it held the console lock, and the fault handler
    ended the process: every later print waits for ever."""
    dead = ThreadNode(3, "badptr-write", "dying", where=(
        "out_iret < schedule+0x229 < do_schedule+0x136 < thread_exit+0x86 < exit+0x5f < "
        "vm_try_handle_fault+0x13c < page_fault+0x90 < intr_handler+0x147 < ... (4 more)"))
    g = WaitGraph([node(1, "main", wait=lock_wait("`console_lock`", 3)), dead,
                   node(2, "idle", "running", idle=True)])
    assert g.deadlock_problem() is None
    assert g.describe() == ("tid 1 main waits for `console_lock` held by tid 3 badptr-write, "
                            "which exited without releasing it (in exit+0x5f < "
                            "vm_try_handle_fault+0x13c < page_fault+0x90)")
    signalled = WaitGraph([node(1, "main", wait=Wait(SEMAPHORE, "a semaphore", 0x10, 3, True)),
                           ThreadNode(3, "kid", "dying", where="schedule+0x1 < thread_exit+0x2")])
    assert signalled.describe() == ("tid 1 main waits for a semaphore to be signalled by "
                                    "tid 3 kid, which exited before signalling it")


@pytest.mark.parametrize("status", ["ready", "running"])
def test_a_thread_that_can_run_means_no_deadlock(status):
    g = WaitGraph([node(3, "a", wait=lock_wait("`l`", 4)), node(4, "b", status)])
    assert g.deadlock_problem() == f"tid 4 b is {status}"


@pytest.mark.parametrize("kind,said", [(TIMER, "the timer"), (DEVICE, "a device interrupt"),
                                       (UNKNOWN, "nothing the inspector recognised")])
def test_sleepers_device_waits_and_unknown_waits_are_not_evidence(kind, said):
    g = WaitGraph([node(3, "a", wait=lock_wait("`l`", 4)), node(4, "b", wait=Wait(kind, "x"))])
    assert said in g.deadlock_problem()


def test_idle_alone_is_no_deadlock_and_idle_is_never_counted():
    assert WaitGraph([node(2, "idle", idle=True)]).deadlock_problem() == "no thread besides idle"
    g = WaitGraph([node(2, "idle", "blocked", idle=True), node(3, "a", wait=lock_wait("`l`", 3))])
    assert g.deadlock_problem() is None and [t.tid for t in g.cycle()] == [3]


def test_round_trip_and_signature():
    g = WaitGraph([node(5, "a", wait=lock_wait("`x`", 6)), node(6, "b", wait=lock_wait("`y`", 5))])
    again = from_json(WaitGraph, to_json(g))     # results.json's form
    assert again.describe() == g.describe() and again.signature() == g.signature()
    assert to_json(g)["cycle"] == [5, 6] and to_json(g)["description"] == g.describe()
    moved = WaitGraph([node(5, "a", wait=lock_wait("`x`", 6)), node(6, "b", "ready")])
    assert moved.signature() != g.signature()


# ---- finding the wait in memory ----

def resolver(guest):
    return WaitResolver(guest.mem.read, guest.types, list(guest.spans.values()))


def test_an_abba_deadlock_on_two_global_locks_is_read_with_holders(guest):
    a, b = guest.thread(5, "swap-kid"), guest.thread(6, "child")
    frame_lock, fs_lock = guest.address("frame_table.lock"), guest.address("filesys_lock")
    guest.hold(frame_lock, 6)
    guest.hold(fs_lock, 5)
    elem_a = guest.sleep_on(5, guest.address("frame_table.lock.semaphore.waiters"))
    elem_b = guest.sleep_on(6, guest.address("filesys_lock.semaphore.waiters"))
    r = resolver(guest)
    wait_a, wait_b = r.wait_of(a, elem_a, IN_LOCK), r.wait_of(b, elem_b, IN_LOCK)
    assert (wait_a.kind, wait_a.target, wait_a.holder) == (LOCK, "`frame_table.lock`", 6)
    assert (wait_b.kind, wait_b.target, wait_b.holder) == (LOCK, "`filesys_lock`", 5)
    g = WaitGraph([node(5, "swap-kid", wait=wait_a), node(6, "child", wait=wait_b)])
    assert g.describe() == ("tid 5 swap-kid waits for `frame_table.lock` held by tid 6 child, "
                            "which waits for `filesys_lock` held by tid 5")


def test_a_second_waiter_in_the_list_is_found_too_and_a_dead_holder_is_said(guest):
    guest.thread(5, "a")
    c = guest.thread(7, "c")
    waiters = guest.address("filesys_lock.semaphore.waiters")
    guest.sleep_on(5, waiters)
    elem = guest.sleep_on(7, waiters)
    guest.mem.write(guest.address("filesys_lock"), (0x8004dead000).to_bytes(8, "little"))
    wait = resolver(guest).wait_of(c, elem, IN_LOCK)
    assert wait.kind == LOCK and wait.holder is None
    assert "no longer exists" in wait.holder_note


def test_a_semaphore_in_another_threads_struct_is_signalled_by_that_thread(guest):
    parent, _ = guest.thread(3, "parent"), guest.thread(4, "child")
    elem = guest.sleep_on(3, guest.member(4, "wait_sema.waiters"))
    wait = resolver(guest).wait_of(parent, elem, IN_SEMA)
    assert (wait.kind, wait.holder, wait.inferred) == (SEMAPHORE, 4, True)
    assert wait.target == "`wait_sema` in the struct thread of tid 4"


def test_a_lock_in_a_struct_thread_is_named_by_its_owner(guest):
    a = guest.thread(3, "a")
    guest.thread(4, "b")
    guest.hold(guest.member(4, "child_lock"), 4)
    elem = guest.sleep_on(3, guest.member(4, "child_lock.semaphore.waiters"))
    wait = resolver(guest).wait_of(a, elem, IN_LOCK)
    assert (wait.kind, wait.target, wait.holder) == \
        (LOCK, "`child_lock` in the struct thread of tid 4", 4)


def test_a_heap_lock_is_told_from_a_semaphore_by_the_call_chain(guest):
    a = guest.thread(3, "a")
    guest.thread(4, "b")
    lock = guest.alloc(64)
    guest.hold(lock, 4)
    elem = guest.sleep_on(3, lock + 8 + 8)   # struct lock: holder, semaphore{value, waiters}
    r = resolver(guest)
    as_lock, as_sema = r.wait_of(a, elem, IN_LOCK), r.wait_of(a, elem, IN_SEMA)
    assert (as_lock.kind, as_lock.holder, as_lock.address) == (LOCK, 4, lock)
    assert as_lock.target == f"a lock at {lock:#x}"
    assert (as_sema.kind, as_sema.holder) == (SEMAPHORE, None)


def test_a_timer_sleeper_is_not_waiting_for_a_thread(guest):
    a = guest.thread(3, "sleeper")
    elem = guest.sleep_on(3, guest.address("sleep_list"))
    r = resolver(guest)
    assert r.wait_of(a, elem, ["schedule", "thread_block", "timer_sleep"]).kind == TIMER
    other = r.wait_of(a, elem, ["schedule", "thread_block", "my_wait"])
    assert (other.kind, other.target) == (UNKNOWN, "the list `sleep_list`")


def test_a_disk_wait_is_a_device_wait_by_its_channel_or_its_chain(guest):
    a = guest.thread(3, "reader")
    elem = guest.sleep_on(3, guest.address("channels[1].completion_wait.waiters"))
    wait = resolver(guest).wait_of(a, elem, ["schedule", "sema_down", "mystery"])
    assert wait.kind == DEVICE and "`channels[1].completion_wait`" in wait.target
    heap = guest.alloc(64)
    elem2 = guest.sleep_on(3, heap + 8)
    assert resolver(guest).wait_of(a, elem2, ["sema_down", "disk_read"]).kind == DEVICE


def test_a_thread_on_no_list_is_unknown_or_a_device_wait(guest):
    a = guest.thread(3, "a")
    elem = guest.member(3, "elem")     # prev and next NULL: linked nowhere
    r = resolver(guest)
    assert r.wait_of(a, elem, ["schedule", "thread_block", "intq_getc"]).kind == DEVICE
    unknown = r.wait_of(a, elem, ["schedule", "thread_block", "odd_wait"])
    assert (unknown.kind, unknown.target) == (UNKNOWN, "no wait list (blocked in odd_wait)")
    assert list_head_of(guest.mem.read, elem) is None


def test_a_condition_wait_names_the_condition(guest):
    a = guest.thread(3, "a")
    elem = guest.cond_wait(3, guest.address("unbusy.waiters"))
    wait = resolver(guest).wait_of(a, elem, ["sema_down", "cond_wait", "vm_wait"])
    assert (wait.kind, wait.target) == (CONDITION, "condition `unbusy`")


def test_known_objects_are_named_by_the_kernel_adapter(guest):
    a = guest.thread(3, "parent")
    guest.thread(4, "child")
    record = guest.alloc(64)
    elem = guest.sleep_on(3, record + 8)
    sema = record + 8 - guest.types.get("struct semaphore").offset_of("waiters")
    r = WaitResolver(guest.mem.read, guest.types, list(guest.spans.values()),
                     {sema: ("the exit", "of", 4)})
    wait = r.wait_of(a, elem, IN_SEMA)
    g = WaitGraph([node(3, "parent", wait=wait), node(4, "child", "ready")])
    assert g.describe() == "tid 3 parent waits for the exit of tid 4 child"


def test_a_lock_taken_by_a_fault_inside_a_disk_transfer_is_a_lock_wait(guest):
    a = guest.thread(3, "reader")
    guest.thread(4, "writer")
    vm_lock = guest.address("frame_table.lock")
    guest.hold(vm_lock, 4)
    elem = guest.sleep_on(3, guest.address("frame_table.lock.semaphore.waiters"))
    chain = ["schedule", "sema_down", "lock_acquire", "page_resolve", "page_fault", "disk_read"]
    wait = resolver(guest).wait_of(a, elem, chain)
    assert (wait.kind, wait.target, wait.holder) == (LOCK, "`frame_table.lock`", 4)


def test_a_heap_lock_retaken_in_cond_wait_is_a_lock_wait(guest):
    a = guest.thread(3, "a")
    guest.thread(4, "b")
    lock = guest.alloc(64)
    guest.hold(lock, 4)
    elem = guest.sleep_on(3, lock + 16)
    wait = resolver(guest).wait_of(a, elem, ["sema_down", "lock_acquire", "cond_wait"])
    assert (wait.kind, wait.holder) == (LOCK, 4)


def test_a_semaphore_in_a_record_a_thread_points_to_is_signalled_by_that_thread(guest):
    parent, _ = guest.thread(3, "parent"), guest.thread(4, "child")
    info_type = guest.types.get("struct child_info")
    record = guest.alloc(info_type.size)
    guest.mem.put(guest.spans[4].address, guest.thread_type, "my_info", record)
    elem = guest.sleep_on(3, record + info_type.offset_of("sema.waiters"))
    wait = resolver(guest).wait_of(parent, elem, IN_SEMA)
    assert (wait.kind, wait.holder, wait.inferred) == (SEMAPHORE, 4, True)
    assert wait.target == "`my_info->sema` of tid 4"


def test_a_global_lock_keeps_its_name_when_the_waiter_points_to_it(guest):
    a = guest.thread(3, "a")
    guest.thread(4, "b")
    lock = guest.address("filesys_lock")
    guest.hold(lock, 4)
    guest.mem.put(guest.spans[3].address, guest.thread_type, "wait_on_lock", lock)
    elem = guest.sleep_on(3, guest.address("filesys_lock.semaphore.waiters"))
    assert resolver(guest).wait_of(a, elem, IN_LOCK).target == "`filesys_lock`"


def test_a_channel_s_lock_is_a_lock_wait_held_by_its_holder(guest):
    """jungle5-pintos-1 @9930bae, exit-busy: eb-press died in a disk
    transfer holding `channels[1].lock`; eb-victim, in lock_acquire under
    disk_write, was counted as waiting for a device interrupt, so the
    deadlock was never evidence and the run waited out 150 s of wall time."""
    victim = guest.thread(4, "eb-victim")
    guest.thread(5, "eb-press")
    guest.hold(guest.address("channels[1].lock"), 5)
    elem = guest.sleep_on(4, guest.address("channels[1].lock.semaphore.waiters"))
    chain = ["schedule", "thread_block", "sema_down", "lock_acquire", "disk_write",
             "anon_swap_out"]
    wait = resolver(guest).wait_of(victim, elem, chain)
    assert (wait.kind, wait.target, wait.holder) == (LOCK, "`channels[1].lock`", 5)
