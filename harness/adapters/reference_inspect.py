"""KernelInspector for the reference kernel: reads its stable symbols
(docs/kernel-introspection.md) through DWARF types.

  vmcheck_all_threads      struct list of struct thread (member allelem)
  vmcheck_current_thread   struct thread *
  thread.pml4              kernel VA (direct map) of the PML4, NULL for
                           kernel threads; thread.tid is the pid
  vmcheck_user_pages_total / vmcheck_user_pages_free   size_t
"""

from __future__ import annotations

from typing import Optional

from harness.state_capture import KernelInspector, ProcessInfo
from harness.typed_memory import iter_list, read_value
from oracles.state import PoolState

KERN_BASE = 0x8004000000


class ReferenceInspector(KernelInspector):
    def __init__(self, debugger, symbols):
        self.dbg = debugger
        self.types = symbols.types
        self.read = debugger.read_virt
        self.thread_type = self.types.get("struct thread")

    def _variable(self, name: str):
        var = self.types.variable(name)
        return read_value(self.read, var.address, var.type)

    def processes(self) -> list[ProcessInfo]:
        threads = self.types.variable("vmcheck_all_threads")
        current = self._variable("vmcheck_current_thread")
        out = []
        for t in iter_list(self.read, threads.address, threads.type, self.thread_type, "allelem"):
            if t["pml4"]:
                out.append(ProcessInfo(t["tid"], t.string("name"), t["pml4"] - KERN_BASE,
                                       t.address == current))
        return out

    def spt(self, proc: ProcessInfo) -> tuple[Optional[dict], Optional[str]]:
        return None, "the reference kernel's SPT reader is not wired yet"

    def current_thread_name(self) -> str:
        from harness.typed_memory import read_struct
        return read_struct(self.read, self._variable("vmcheck_current_thread"),
                           self.thread_type).string("name")

    def pools(self) -> PoolState:
        return PoolState(user_frames_total=self._variable("vmcheck_user_pages_total"),
                         user_frames_free=self._variable("vmcheck_user_pages_free"))
