"""What vmcheck sees of the machine GDB is stopped on: the one layer the
in-GDB commands (harness/cli/gdb_commands.py) go through.

A MachineView reads through any Debugger-like reader (inside GDB: a
harness.debug.gdb_inferior.GdbInferior) with the harness's own parts, so
the commands show what a run's report shows, computed the same way:

  page(va)        harness/run/fault_explain.py page_state (the walk of one
                  address, every level; the SPT entry; the frame's owners)
  state()         harness/run/capture.py capture_state + as_running (every
                  process's page tables, SPTs, pools), as at a checkpoint
  violations()    oracles/invariants.py check_invariants over state()
  record()        state() as a results CheckpointRecord (for the report's
                  page rows and address-space regions)
  threads()       the adapter's thread report and wait graph

CONTEXT is the dict `vmcheck debug` writes (harness/cli/gdb_launch.py):
kernel spec, programs, memory size, the moment it stopped at.
"""

from __future__ import annotations

from pathlib import Path

from harness.adapters import get_adapter
from harness.debug.program_image import load_program
from harness.run.capture import as_running, capture_state
from harness.run.fault_explain import FAULT_STOP, page_state
from oracles.invariants import check_invariants
from oracles.model.machine_state import FAIL, NOT_JUDGED, PAGE, UNKNOWN, by_outcome
from results.model import CheckpointRecord

DEFAULT_CONTEXT = {"kernel": "reference", "programs": {}, "program": None, "mem_mb": 64,
                   "swap_mb": 0, "invariants_off": [], "moment": None}


class MachineView:
    """The harness's reading of the stopped machine behind DBG."""

    def __init__(self, context: dict, dbg):
        self.context = {**DEFAULT_CONTEXT, **context}
        self.adapter = get_adapter(self.context["kernel"])
        self.symbols = self.adapter.kernel_symbols()
        dbg.symbols = self.symbols
        self.dbg = dbg
        self.images = {name: load_program(Path(path))
                       for name, path in self.context["programs"].items()}
        self.inspector = self.adapter.inspector(dbg, self.symbols)
        self.ram_size = self.context["mem_mb"] << 20
        self.layout = self.adapter.address_layout
        self.stop_pc = dbg.pc   # where vmcheck handed the machine over

    @property
    def checkpoint(self) -> int:
        """The checkpoint id of the moment vmcheck stopped at (FAULT_STOP if
        it was not a checkpoint): what the inspector is told it sees."""
        moment = self.context.get("moment") or {}
        return moment["checkpoint"][0] if moment.get("checkpoint") else FAULT_STOP

    def page(self, va: int):
        """The FaultPage of VA in the current address space."""
        return page_state(self.dbg, self.inspector, va, self.ram_size, self.images)

    def state(self):
        """The MachineState now, the running process judged as running its
        program (the one named like it, else the scenario's)."""
        state = capture_state(self.inspector, self.dbg, self.ram_size, self.checkpoint,
                              self.images)
        image = self.images.get(state.proc.name) or self.images.get(self.context["program"])
        disk = self.adapter.swap_disk_bytes(self.context["swap_mb"])
        return as_running(state, image.code_ranges if image else None,
                          None if disk is None else disk // PAGE)

    def violations(self, state=None) -> dict:
        """The invariants' findings now, by outcome (FAIL, UNKNOWN, NOT_JUDGED)."""
        state = state or self.state()
        return by_outcome(check_invariants(state, disabled=set(self.context["invariants_off"])))

    def record(self, state=None) -> CheckpointRecord:
        """The current process now as a CheckpointRecord (hit 0: not a
        checkpoint's), with the invariants' findings."""
        state = state or self.state()
        found = self.violations(state)
        proc = state.proc
        return CheckpointRecord(
            id=state.checkpoint, hit=0, pid=proc.pid, process=proc.name,
            pages=proc.pages, spt=None if proc.spt is None else list(proc.spt.values()),
            spt_note=proc.spt_unreadable, pools=state.pools, violations=found[FAIL],
            unknowns=found[UNKNOWN], not_judged=found[NOT_JUDGED])

    def threads(self) -> tuple:
        """(the thread report's lines, the wait graph or None)."""
        return self.inspector.thread_report(), self.inspector.wait_graph()

    @staticmethod
    def frame_owners(state) -> dict:
        """frame -> ["name (pid N) at VA"] for every user page mapped now,
        in every process (as a fault's page lists its frame's owners)."""
        owners: dict = {}
        for proc in state.processes.values():
            for va, phys, _ in proc.pages.iter_user_4k():
                owners.setdefault(phys, []).append(f"{proc.name} (pid {proc.pid}) at {va:#x}")
        return owners
