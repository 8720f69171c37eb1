"""Stopping at a program's checkpoint() calls and checking machine state.

A CheckpointSession attaches the debugger to a paused machine, puts a
breakpoint on `checkpoint` of every program of the scenario (user VAs:
QEMU's breakpoints work before the page is mapped), and at each hit
captures a MachineState, runs the invariant oracles and the scenario's
expectations for that checkpoint, and records a CheckpointRecord.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter

from harness.debugger import Debugger
from harness.errors import HarnessError
from harness.results import CheckpointRecord
from harness.state_capture import capture_state
from oracles.expectations import CheckContext, run_check
from oracles.invariants import check_invariants
from oracles.state import Violation


class CheckpointSession:
    """One scenario's checkpoint handling on one machine."""

    def __init__(self, adapter, scenario, images: dict, data_files: dict, timeouts):
        self.adapter = adapter
        self.scenario = scenario
        self.images = images          # program name -> ProgramImage
        self.data_files = data_files  # data file name -> bytes
        self.timeouts = timeouts
        self.hits: Counter = Counter()
        self.records: list[CheckpointRecord] = []
        main = images[scenario.program]
        self.symbols = main.symbols
        self.ctx_base = dict(symbols=main.symbols, elf_bytes=main.elf_bytes,
                             data_file=lambda name: self.data_files.get(name, b""))

    def run(self, machine, deadline: float) -> None:
        """Attaches, runs the guest to its end, handling every checkpoint.
        The machine must have been started paused."""
        symbols = self.adapter.kernel_symbols()
        dbg = Debugger.attach(machine.gdb_socket, symbols, self.adapter.long_mode_symbol,
                              timeout=self.timeouts.qemu_start, timeout_scale=self.timeouts.scale)
        with dbg:
            self.inspector = self.adapter.inspector(dbg, symbols)
            code = {}
            for image in self.images.values():
                if image.checkpoint is not None:
                    code[image.checkpoint] = image.elf_bytes(image.checkpoint, 8)
                    dbg.add_breakpoint(image.checkpoint)
            while True:
                left = (deadline - time.monotonic()) / self.timeouts.scale
                stop = dbg.run_until(None, timeout=max(left, 0.01))
                if stop.reason == "exited":
                    return
                if stop.reason != "breakpoint":
                    raise HarnessError(f"unexpected stop ({stop.reason}) at {dbg.describe(stop.pc)}")
                if dbg.read_virt(stop.pc, 8) == code.get(stop.pc):
                    self._on_checkpoint(dbg, machine)

    def _on_checkpoint(self, dbg, machine) -> None:
        cp_id = _signed32(dbg.register("rdi"))
        self.hits[cp_id] += 1
        hit = self.hits[cp_id]
        specs = [c for c in self.scenario.checkpoints
                 if c.id == cp_id and (c.hit == "every" or c.hit == hit)]
        state = capture_state(self.inspector, dbg, machine_ram(self.scenario), cp_id, self.images)
        proc = state.proc
        violations: list[Violation] = []
        if all(spec.invariants for spec in specs):
            violations += check_invariants(state, disabled=set(self.scenario.invariants_off))
        ctx = CheckContext(state=state, **self.ctx_base)
        run = []
        for spec in specs:
            for exp in spec.expect:
                run.append(exp.check)
                violations += run_check(ctx, exp.check, exp.params)
        self.records.append(CheckpointRecord(
            id=cp_id, hit=hit, pid=proc.pid, process=proc.name,
            pages=proc.pages.to_dict(),
            spt=None if proc.spt is None else [dataclasses.asdict(p) for p in proc.spt.values()],
            spt_note=proc.spt_unreadable, pools=dataclasses.asdict(state.pools),
            violations=[v.to_dict() for v in violations], expectations=run))

    def unreached(self) -> list[str]:
        """Declared checkpoints the program never reached."""
        out = []
        for spec in self.scenario.checkpoints:
            n = self.hits[spec.id]
            if n == 0 or (spec.hit != "every" and n < spec.hit):
                what = "" if spec.hit == "every" else f" (hit {spec.hit})"
                out.append(f"checkpoint {spec.id}{what} was never reached ({n} hits)")
        return out


def machine_ram(scenario) -> int:
    return scenario.mem_mb << 20


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
