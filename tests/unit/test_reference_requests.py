"""The reference adapter's requests (ReferenceAdapter.request), laid out
from the DWARF of a file compiled here with gcc -g from the reference
kernel's own headers (kernel/thread.h, kernel/hooks.h): a preemption or a
delay goes into the running thread's struct thread, which only that thread
serves; memory pressure into the pool-wide block."""

from __future__ import annotations

import subprocess

import pytest

from harness import config
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.debug.symbols import SymbolTable

REQUESTS_C = r"""
#include "kernel/hooks.h"
#include "kernel/thread.h"
struct vmcheck_requests vmcheck_requests;
struct thread *vmcheck_current_thread;
struct thread threads[2];
void _start(void) { vmcheck_current_thread = &threads[1]; for (;;) ; }
"""


@pytest.fixture(scope="module")
def symbols(tmp_path_factory):
    work = tmp_path_factory.mktemp("reference-requests")
    (work / "k.c").write_text(REQUESTS_C)
    include = config.REPO_ROOT / "reference_kernel" / "include"
    subprocess.run(["gcc", "-g", "-O0", "-ffreestanding", "-nostdlib", "-static",
                    "-I", str(include), "-o", str(work / "k.elf"), str(work / "k.c")],
                   check=True, capture_output=True, timeout=60)
    table = SymbolTable(work / "k.elf")
    yield table
    table.close()


class FakeDebugger:
    """Guest memory as written: address -> bytes; the current-thread
    pointer is the one word it holds before the test writes."""

    def __init__(self, current_at: int, current: int):
        self.memory = {current_at: current.to_bytes(8, "little")}

    def read_virt(self, address, size):
        return self.memory[address][:size]

    def write_virt(self, address, data):
        self.memory[address] = data


@pytest.fixture
def adapter(symbols, monkeypatch):
    adapter = ReferenceAdapter()
    monkeypatch.setattr(adapter, "kernel_symbols", lambda: symbols)
    return adapter


def _written(dbg, current_at):
    return {a: int.from_bytes(v, "little", signed=True)
            for a, v in dbg.memory.items() if a != current_at}


@pytest.mark.parametrize("field, value", [("preempt", 1), ("delay_ticks", 300)])
def test_preempt_and_delay_go_to_the_thread_stopped_at_the_hook(adapter, symbols, field, value):
    types = symbols.types
    current_at = types.variable("vmcheck_current_thread").address
    thread = types.get("struct thread")
    running = types.variable("threads").address + thread.size     # threads[1]
    dbg = FakeDebugger(current_at, running)
    adapter.request(dbg, field, value)
    assert _written(dbg, current_at) == {
        running + thread.offset_of(f"vmcheck_requests.{field}"): value}
    pool_wide = {m.name for m in types.variable("vmcheck_requests").type.resolved().members}
    assert field not in pool_wide      # no copy any other thread could serve


@pytest.mark.parametrize("field", ["steal_frames", "release_frames"])
def test_memory_pressure_goes_to_the_pool_wide_block(adapter, symbols, field):
    types = symbols.types
    current_at = types.variable("vmcheck_current_thread").address
    dbg = FakeDebugger(current_at, 0xdead000)   # not read: no thread is concerned
    adapter.request(dbg, field, 7)
    block = types.variable("vmcheck_requests")
    assert _written(dbg, current_at) == {block.address + block.type.offset_of(field): 7}
