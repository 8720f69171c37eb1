"""A panic in the disk's interrupt handler under QEMU's disk device gets a
note and `vmcheck run` a hint: --exact-disk raises no disk interrupt
(harness/run/disk_interrupt.py; joonhyukchoi @7d92457 panicked so in every
run, its own make check too, and passed lazy-anon and page-linear under
the exact disk)."""

from __future__ import annotations

from types import SimpleNamespace

from harness.adapters.pintos_kaist.adapter import PintosKaistAdapter
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.disk_interrupt import (disk_interrupt_hint, disk_interrupt_vector,
                                        note_disk_interrupt_panic)
from results.model import KernelFrame, ScenarioResult, TrapFrameRef, Verdict

PINTOS = SimpleNamespace(disk_irq_vectors=PintosKaistAdapter.disk_irq_vectors)


def panicked(vector: int, exact_disk=None, verdict=Verdict.KERNEL_PANIC) -> ScenarioResult:
    result = ScenarioResult("lazy-anon", "lazy", verdict, 0.1)
    result.exact_disk = exact_disk
    result.panic_stack = [
        KernelFrame(0x8004217F38, "debug_panic+0xd9", "lib/kernel/debug.c:32"),
        KernelFrame(0x80042073AD, "thread_yield+0x68", "threads/thread.c:354"),
        KernelFrame(0x80042144FF, "interrupt_handler+0x77", "devices/disk.c:523"),
        KernelFrame(0x80042093F5, "intr_entry+0x6e", trap=TrapFrameRef(0x80042b1000, vector,
                                                                       0x800420797E, False)),
        KernelFrame(0x800420797E, "idle+0x5d", "threads/thread.c:528", interrupted=True)]
    return result


def test_a_panic_through_the_ide_interrupt_gets_the_note():
    assert PintosKaistAdapter.disk_irq_vectors == (0x2E, 0x2F)   # IRQ 14 and 15
    result = panicked(0x2E)
    note_disk_interrupt_panic(PINTOS, result)
    assert result.notes == [
        "the kernel panicked (vector 46) in the disk's interrupt handler under QEMU's disk "
        "device; with --exact-disk the harness serves disk requests itself, no disk interrupt "
        "comes, and the runs can go on to what the scenarios test (docs/exact-disk.md)"]


def test_other_panics_runs_and_kernels_get_none():
    assert disk_interrupt_vector(PINTOS, panicked(0x20)) is None             # the timer's
    assert disk_interrupt_vector(PINTOS, panicked(0x2F, exact_disk={"requests": 3})) is None
    assert disk_interrupt_vector(PINTOS, panicked(0x2E, verdict=Verdict.FAIL)) is None
    assert disk_interrupt_vector(ReferenceAdapter(), panicked(0x2E)) is None  # it polls its disk
    result = panicked(0x20)
    note_disk_interrupt_panic(PINTOS, result)
    assert result.notes == []


def test_the_hint_counts_them_once():
    results = [panicked(0x2E), panicked(0x2F), panicked(0x20)]
    assert disk_interrupt_hint(PINTOS, results).startswith(
        "2 scenario(s) panicked in the disk's interrupt handler under QEMU's disk device")
    assert disk_interrupt_hint(PINTOS, results[2:]) == ""
