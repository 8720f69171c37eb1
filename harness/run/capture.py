"""Capturing a MachineState (oracles/model/machine_state.py) at a stop.

A KernelInspector (harness/adapters/inspector.py, one per adapter) reads
the kernel's own structures: the processes and their page-table roots,
each SPT, the pools. This module does the kernel-independent part:
walking every process's page tables through physical memory and
assembling the state the oracles check.
"""

from __future__ import annotations

import dataclasses
import gc

from harness.adapters.inspector import KernelInspector
from harness.x86.pagewalk import walk_page_tables
from oracles.model.machine_state import MachineState, ProcessState


class DebuggerMemory:
    """harness.x86.pagewalk.PhysicalMemory over a stopped debugger."""

    def __init__(self, debugger, ram_size: int):
        self.debugger = debugger
        self.ram_size = ram_size

    def read_phys(self, addr: int, length: int) -> bytes:
        return self.debugger.read_phys(addr, length)


def capture_state(inspector: KernelInspector, debugger, ram_size: int, checkpoint: int,
                  programs: dict) -> MachineState:
    """The state at this stop: every process's page tables and SPT, the
    pools, the kernel's address layout (the inspector's, from its adapter)
    and a reader of the current process's memory. PROGRAMS maps
    process names to ProgramImage (for code ranges; unknown names get
    None). Only the running process is settled: the caller stopped it at
    a moment its program defines (a checkpoint); the others may be
    anywhere in the kernel."""
    collecting = gc.isenabled()
    gc.disable()       # a capture makes ~30,000 objects and keeps them: no cycles to find
    try:
        return _capture(inspector, debugger, ram_size, checkpoint, programs)
    finally:
        if collecting:
            gc.enable()


def _capture(inspector: KernelInspector, debugger, ram_size: int, checkpoint: int,
             programs: dict) -> MachineState:
    mem = DebuggerMemory(debugger, ram_size)
    layout = inspector.address_layout
    infos = inspector.processes()
    with debugger.physical_memory():                           # one mode switch
        walks = {info.pid: walk_page_tables(mem, info.pml4_phys, user_top=layout.user_top)
                 for info in infos}
    inspector.observe(checkpoint, walks, programs)             # virtual reads from here
    spts = {info.pid: inspector.spt(info) for info in infos}
    pools = inspector.pools()
    procs, current = {}, None
    for info in infos:
        spt, why = spts[info.pid]
        image = programs.get(info.name)
        procs[info.pid] = ProcessState(
            pid=info.pid, name=info.name, pages=walks[info.pid], spt=spt, spt_unreadable=why,
            code_ranges=image.code_ranges if image is not None else None, settled=info.current)
        if info.current:
            current = info.pid
    if current is None:
        raise LookupError("the running thread is not a user process")
    return MachineState(checkpoint=checkpoint, current=current, processes=procs,
                        address_layout=layout, pools=pools, read_user=debugger.read_virt)


def as_running(state: MachineState, code_ranges, swap_disk_slots) -> MachineState:
    """STATE with its running process's code ranges set to CODE_RANGES
    (those of the program it runs: whose checkpoint() it stopped at) and
    the size of the swap disk the harness made, in pages, SWAP_DISK_SLOTS."""
    processes = dict(state.processes)
    processes[state.current] = dataclasses.replace(state.proc, code_ranges=code_ranges)
    pools = dataclasses.replace(state.pools, swap_disk_slots=swap_disk_slots)
    return dataclasses.replace(state, processes=processes, pools=pools)
