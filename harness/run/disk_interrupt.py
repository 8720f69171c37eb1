"""A kernel panic inside the disk's interrupt handler, under QEMU's disk.

Three Pintos-KAIST trees read in session 33 (Suyeon-B @5615a09,
joonhyukchoi @7d92457, jangseoyoung98 @f6398dc) panic in every run, in
their own `make check` too: the disk's interrupt handler calls sema_up,
whose priority code yields the CPU (`thread_yield`) inside the interrupt,
and `thread_yield` asserts `!intr_context ()`. QEMU 7.2 completes a disk
request on its I/O thread, so the interrupt comes while the kernel idles
and wakes a waiter of higher priority: a real bug of the threads project,
which hides every verdict on virtual memory. Under the exact disk
(docs/exact-disk.md) the harness serves each request at disk_read and
no disk interrupt is raised: joonhyukchoi's tree then passes lazy-anon
and page-linear. The panic stays the verdict of a device-disk run; its
result says so in a note, and `vmcheck run` prints the hint once.
"""

from __future__ import annotations

from typing import Optional

from results.model import ScenarioResult, Verdict

ADVICE = ("with --exact-disk the harness serves disk requests itself, no disk interrupt "
          "comes, and the runs can go on to what the scenarios test (docs/exact-disk.md)")


def _panicked(how: str) -> str:
    return f"panicked{how} in the disk's interrupt handler under QEMU's disk device; {ADVICE}"


def disk_interrupt_vector(adapter, result: ScenarioResult) -> Optional[int]:
    """The disk interrupt's vector when RESULT (a device-disk run) is a
    kernel panic whose stack passes through that interrupt's trap frame;
    None otherwise."""
    vectors = getattr(adapter, "disk_irq_vectors", ())
    if not vectors or result.verdict is not Verdict.KERNEL_PANIC or result.exact_disk:
        return None
    for frame in result.panic_stack:
        if frame.trap is not None and frame.trap.vector in vectors:
            return frame.trap.vector
    return None


def note_disk_interrupt_panic(adapter, result: ScenarioResult) -> None:
    """Adds the note to RESULT when disk_interrupt_vector finds one."""
    vector = disk_interrupt_vector(adapter, result)
    if vector is not None:
        result.notes.append(f"the kernel {_panicked(f' (vector {vector})')}")


def disk_interrupt_hint(adapter, results) -> str:
    """One line for the end of `vmcheck run`: how many RESULTS panicked in
    the disk's interrupt handler, '' if none did."""
    count = sum(disk_interrupt_vector(adapter, r) is not None for r in results)
    if not count:
        return ""
    return f"{count} scenario(s) {_panicked('')}"
