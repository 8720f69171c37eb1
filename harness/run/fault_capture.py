"""Catching the faults a correct kernel would not take or cannot resolve.

The adapter names FaultSites (harness/adapters/fault_sites.py, which
describes the kinds): kernel addresses reached only on the kill, panic
and fix-up paths of its fault handling (never on the path of a fault the
kernel resolves as designed), so a run without such a fault never stops
for this. At a stop the fault's state is read from the trap frame (struct
intr_frame, through DWARF), decoded (harness/run/fault_explain.py) and
kept as a FaultRecord; the first MAX_FAULTS of a run are recorded, the
others only counted. At the kernel's panic function the whole kernel stack
is kept, with file:line per frame, split at each trap frame inside it.
"""

from __future__ import annotations

from typing import Optional

from harness.adapters.fault_sites import FRAME_ARG, HOOK, PANIC, FaultSite
from harness.debug.symbols import SymbolError
from harness.errors import HarnessError
from harness.run.fault_explain import explain_fault, kernel_frames, page_state, panic_story
from harness.run.kernel_stack import INTERRUPT_ENTRY, TrapFrame, read_trap_frame, walk_stack
from oracles.model.page_fault import PAGE_FAULT_VECTOR

MAX_FAULTS = 8                 # records per run; later faults are counted only
# vmcheck_hook_fault's outcome argument (reference_kernel/include/kernel/hooks.h)
HOOK_OUTCOMES = {1: "the process was killed (exit(-1))",
                 2: "the kernel panicked",
                 3: "the user copy failed (fix-up): the system call fails",
                 4: "resolved, but taken in kernel mode outside the user copies"}
RESOLVED_OUTCOME = 4           # the one outcome above of a fault the kernel resolved
PANIC_FUNCTION = "debug_panic"   # both kernels; a PANIC stop is a panic if it is on the stack


class FaultCapture:
    """One run's fault records: arm() the adapter's sites, then on_stop()
    at each stop handles() says is ours."""

    def __init__(self, adapter, images: dict, limit: int = MAX_FAULTS):
        self.adapter = adapter
        self.images = images           # program name -> ProgramImage
        self.ram_size = 0              # the guest's RAM, set by arm()
        self.limit = limit
        self.records: list = []        # FaultRecord
        self.beyond = 0                # faults seen after the first LIMIT
        self.panic_stack: list = []    # KernelFrames (fault_explain.kernel_frames)
        self.story = ""                # the panic told as a story, '' if none
        self.sites: dict = {}
        self._last: Optional[tuple] = None   # (trap frame, rip, error code) of the last fault
        self.problems: list = []       # stops whose fault could not be decoded
        self.unresolved = 0            # stops at a fault the kernel did not resolve (all
                                       # but the hook's RESOLVED_OUTCOME): the fault-storm
                                       # rule's streak breaks at one (fault_storm.py)
        self._breakpoints: list = []

    def arm(self, dbg, symbols, ram_size: int) -> None:
        """Breakpoints on every fault site of the adapter's kernel (SYMBOLS);
        RAM_SIZE: the guest's memory in bytes (page-table walks)."""
        self.ram_size = ram_size
        try:
            sites = self.adapter.fault_sites(symbols)
        except (SymbolError, HarnessError, LookupError) as e:
            self.problems.append(f"faults not caught: {e}")
            return
        for site in sites:
            if site.address not in self.sites:
                self._breakpoints.append(dbg.add_breakpoint(site.address))
                self.sites[site.address] = site

    def handles(self, pc: int) -> bool:
        return pc in self.sites

    def on_stop(self, dbg, inspector) -> None:
        """Records the fault at this stop (or the panic's stack) and counts
        it in `unresolved` unless the kernel resolved it. What cannot be
        read is noted in `problems`, never raised: the run goes on."""
        site = self.sites[dbg.pc]
        try:
            if site.kind != HOOK or self._hook_outcome(dbg) != RESOLVED_OUTCOME:
                self.unresolved += 1
            self._on_stop(dbg, inspector, site)
        except Exception as e:  # noqa: BLE001 - a crashing kernel's state may be anything
            if len(self.problems) < self.limit:
                self.problems.append(f"fault at a stop in {dbg.describe(dbg.pc)} not "
                                     f"decoded: {type(e).__name__}: {e}")

    def _on_stop(self, dbg, inspector, site: FaultSite) -> None:
        if site.kind == PANIC:
            self._on_panic(dbg, inspector)
            return
        if self._panic_frames(dbg, dbg.pc, dbg.register("rbp"), dbg.register("rsp")):
            return   # a fault of the dying kernel (e.g. in the panic's own backtrace)
        if site.kind == HOOK:
            frame = read_trap_frame(dbg, dbg.register("rdi"))
            cr2 = dbg.register("rsi") if frame.vector == PAGE_FAULT_VECTOR else None
            outcome = HOOK_OUTCOMES.get(self._hook_outcome(dbg), site.outcome)
        elif site.kind == FRAME_ARG:
            frame = read_trap_frame(dbg, dbg.register("rdi"))
            cr2, outcome = self._cr2(dbg, frame, None), site.outcome
        else:   # IN_HANDLER: the handler's caller chain leads to the trap frame
            frame = self._innermost_trap(dbg)
            if frame is None:
                return
            cr2, outcome = self._cr2(dbg, frame, site.cr2_slot), site.outcome
        self._record(dbg, inspector, frame, cr2, outcome)

    @staticmethod
    def _hook_outcome(dbg) -> int:
        """At the reference kernel's hook: its outcome argument."""
        return dbg.register("rdx") & 0xFFFFFFFF

    def _innermost_trap(self, dbg) -> Optional[TrapFrame]:
        chain = walk_stack(dbg, dbg.pc, dbg.register("rbp"), dbg.register("rsp"))
        address = next((t for _, t, e in chain if e == INTERRUPT_ENTRY), None)
        return None if address is None else read_trap_frame(dbg, address)

    @staticmethod
    def _cr2(dbg, frame: TrapFrame, slot: Optional[int]) -> Optional[int]:
        """The faulting address of a #PF: the handler's saved copy when its
        slot is known (a nested fault changes CR2), else CR2 now."""
        if frame.vector != 14:
            return None
        if slot is not None:
            try:
                return dbg.read_u64(dbg.register("rbp") + slot)
            except HarnessError:
                pass
        return dbg.register("cr2")

    def _record(self, dbg, inspector, frame: TrapFrame, cr2, outcome: str,
                panicking: bool = False):
        """A FaultRecord for FRAME; the one of the last fault when FRAME is
        that fault seen again on its way (the not-resolved stop, then kill(),
        then the panic); None beyond the limit. Only the last is compared:
        another fault later may well have the same frame address and rip
        (a forked child faulting where its sibling did)."""
        key = (frame.address, frame.regs["rip"], frame.error_code)
        if key == self._last:
            return self.records[-1] if self.records and not self.beyond else None
        self._last = key
        if len(self.records) >= self.limit:
            self.beyond += 1
            return None
        record = self.explain(dbg, inspector, frame, cr2, outcome, panicking)
        self.records.append(record)
        return record

    def explain(self, dbg, inspector, frame: TrapFrame, cr2, outcome: str,
                panicking: bool = False):
        """FRAME's fault decoded (a FaultRecord, not recorded here): CR2, the
        faulting address of a #PF (None for other exceptions); OUTCOME, what
        the kernel did next; with the interrupted kernel stack of a
        kernel-mode fault and the page's state (read without letting the
        inspector learn from a PANICKING kernel)."""
        record = explain_fault(dbg, frame, cr2, outcome, self._process(inspector),
                               self.images)
        if not frame.user:
            chain = walk_stack(dbg, frame.regs["rip"], frame.regs["rbp"], frame.regs["rsp"])
            record.stack = kernel_frames(dbg, chain)
        if frame.vector == PAGE_FAULT_VECTOR and cr2 is not None:
            record.page = page_state(dbg, inspector, cr2, self.ram_size, self.images,
                                     observe=not panicking)
        return record

    @staticmethod
    def _process(inspector) -> str:
        try:
            return inspector.current_thread_name()
        except Exception:  # noqa: BLE001 - the kernel may be in any state
            return "?"

    @staticmethod
    def _panic_frames(dbg, pc: int, rbp: int, rsp: int) -> list:
        """The call chain from the OUTERMOST call of the panic function on
        (a panic inside a panic starts at the first), [] if it is not on
        the stack."""
        chain = walk_stack(dbg, pc, rbp, rsp)
        inside = [i for i, (address, _, _) in enumerate(chain)
                  if i > 0 and dbg.symbols.caller_of(address) == PANIC_FUNCTION]
        return chain[inside[-1]:] if inside else []

    def _on_panic(self, dbg, inspector) -> None:
        """The panic's stack with file:line, split at each trap frame; the
        fault of each exception frame inside it is recorded (and decoded).
        A stop that is no panic (the power-off of a run that ended well)
        records nothing."""
        chain = self._panic_frames(dbg, dbg.pc, dbg.register("rbp"), dbg.register("rsp"))
        if not chain:
            return
        self.panic_stack = kernel_frames(dbg, chain)
        for kernel_frame in self.panic_stack:
            trap = kernel_frame.trap
            if trap is None or trap.vector >= 32:   # not an exception
                continue
            frame = read_trap_frame(dbg, trap.address)
            cr2 = self._cr2(dbg, frame, None)
            record = self._record(dbg, inspector, frame, cr2, "the kernel panicked",
                                  panicking=True)
            if record is not None:
                kernel_frame.fault = self.records.index(record)
        self.story = panic_story(self.panic_stack, self.records)
        for bp in self._breakpoints:   # what follows a panic (faults in its own
            dbg.remove_breakpoint(bp)  # backtrace, a recursive panic) is its aftermath
        self.sites.clear()
