"""What an adapter reads from a stopped kernel (KernelInspector, one per
kernel family): its processes and their page-table roots, each SPT, the
pools, its threads and what they wait on. harness/run/capture.py builds
the machine state the oracles judge from it.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Optional

from oracles.model.address_layout import AddressLayout
from oracles.model.machine_state import PoolState


@dataclasses.dataclass(frozen=True)
class ProcessInfo:
    pid: int
    name: str
    pml4_phys: int       # physical address of the page-table root
    current: bool        # the thread that is running now


class KernelInspector(ABC):
    """Reads one kernel family's structures through a stopped debugger.
    ADDRESS_LAYOUT: its adapter's (KernelAdapter.address_layout)."""

    address_layout: AddressLayout

    @abstractmethod
    def processes(self) -> list[ProcessInfo]:
        """Every user process (with an address space)."""

    @abstractmethod
    def spt(self, proc: ProcessInfo) -> tuple[Optional[dict], Optional[str]]:
        """(va -> SptPage, None) or (None, why the SPT cannot be read)."""

    @abstractmethod
    def pools(self) -> PoolState:
        """User-frame pool and swap usage."""

    @abstractmethod
    def current_thread_name(self) -> str:
        """Name of the running thread (cheap: read at injection points)."""

    def observe(self, checkpoint: int, walks: dict, programs: dict) -> None:
        """Called at each checkpoint (CHECKPOINT -1: at a fault stop,
        harness/run/fault_explain.py) before spt(), after processes(): WALKS
        pid -> PageTableSnapshot, PROGRAMS name -> ProgramImage. An adapter
        that identifies its kernel's structures from what the kernel does
        learns from them here. Default: nothing."""

    def layout_notes(self) -> list[str]:
        """How the adapter reads this kernel's structures (which member
        plays which role, and how that was found). Default: nothing to say."""
        return []

    def thread_report(self) -> list[str]:
        """One line per thread: name, tid, status and where it is (kernel
        functions, innermost first), for HANG verdicts. Empty if the
        kernel family cannot tell."""
        return []

    def wait_graph(self):
        """What each thread waits on (oracles/model/wait_graph.py's WaitGraph), for
        deadlock verdicts; None if the kernel family cannot tell."""
        return None
