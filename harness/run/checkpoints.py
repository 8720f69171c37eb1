"""Stopping at a program's checkpoint() calls and checking machine state.

A CheckpointSession attaches the debugger to a paused machine, puts a
breakpoint on `checkpoint` of every program of the scenario (user VAs:
QEMU's breakpoints work before the page is mapped), and at each hit
captures a MachineState, runs the invariant oracles and the scenario's
expectations for that checkpoint, and records a CheckpointRecord.

Hits are counted per (program, checkpoint id). Address expressions use
the symbols of the program that hit the checkpoint, plus `probe`: the
value of its global `vmcheck_probe` at that moment (an address known only
at run time, such as a stack buffer).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Callable, Optional

from harness.debug.debugger import Debugger, DebuggerTimeout
from harness.errors import HarnessError, StartupTimeout
from harness.machine.guest_clock import TICK_SYMBOL
from harness.run.capture import as_running, capture_state
from harness.run.choices import Premises
from harness.run.fault_capture import FaultCapture
from harness.run.hang_watch import DEADLOCK, GuestHang, HangRules, HangWatch
from harness.run.session_watch import arm_idle_stops, session_watch
from harness.run.stop_count import count_stops
from harness.run.stop_point import (BREAK, CHECKPOINT, DEADLOCK as DEADLOCK_MOMENT, FAIL_CALL,
                                    FAULT, PANIC, START, WRONG_CODE, Moment)
from results.model import CheckpointRecord
from oracles.expectations import CheckContext, run_check
from oracles.invariants import check_invariants
from oracles.model.machine_state import FAIL, NOT_JUDGED, PAGE, UNKNOWN, Violation, by_outcome

PROBE_SYMBOL = "vmcheck_probe"
BACKSTOP_S = 10.0   # past the hang watch's wall limit, in case its QMP reads stall


class CheckpointSession:
    """One scenario's checkpoint handling on one machine."""

    def __init__(self, adapter, scenario, images: dict, data_files: dict, timeouts,
                 injector=None, coverage=None, stop=None):
        self.adapter = adapter
        self.stop = stop              # harness.run.stop_point.StopRequest or None
        self.machine = None
        self._stop_address = None     # the stop request's breakpoint (break:SYMBOL)
        self.injector = injector
        self.coverage = coverage      # harness.course.coverage.CoverageCollector or None
        self.scenario = scenario
        self.images = images          # program name -> ProgramImage
        self.data_files = data_files  # data file name -> bytes
        self.timeouts = timeouts
        self.hits: Counter = Counter()          # (program, id) -> hits
        self.process_hits: Counter = Counter()  # (program, id, process) -> hits
        self.frames: dict = {}                  # checkpoint id -> {va: phys}, last hit
        self.records: list[CheckpointRecord] = []
        self.fail_owners: dict = {}
        self.failure_threads: list[str] = []    # where each thread was at the first fail()
        self.wrong_code: list[Violation] = []   # checkpoint()/fail() reached on other bytes
        self.watch: HangWatch | None = None     # set by run()
        self.faults = FaultCapture(adapter, images)
        self.exact_disk = None                  # the run's exact disk (harness/run/exact_disk.py)
        self.boot_shortcuts: list = []          # the adapter's boot_shortcuts, armed at the entry
        self.entry_icount = None                # instructions done at the kernel's entry
        self.checkpoint_owners: dict = {}       # set by run(): checkpoint() addresses
        self.stops_taken: dict = {}             # harness/run/stop_count.py, after run()
        self.stops_needed: dict = {}
        self.replay_safe_looks = True           # RunnerOptions.replay_safe_looks
        self.idle_stops = None                  # harness/run/idle_stops.py, when armed
        self.premises = Premises(adapter)       # expectations a kernel's own choice may void

    def run(self, machine, rules: HangRules) -> None:
        """Attaches, runs the guest to its end, handling every checkpoint,
        under RULES (harness/run/hang_watch.py: raises GuestHang for a hang).
        The machine must have been started paused. StartupTimeout if the
        guest does not reach the kernel's entry within the start-up wait
        (wall time: a loaded host, not a hang of the kernel)."""
        symbols = self.adapter.kernel_symbols()
        self.machine = machine
        try:
            dbg = Debugger.attach(machine.gdb_socket, symbols, self.adapter.long_mode_symbol,
                                  timeout=self.timeouts.qemu_start,
                                  timeout_scale=self.timeouts.scale, guest_ram=machine.guest_ram)
        except DebuggerTimeout as e:
            entry = self.adapter.long_mode_symbol or "long mode"
            raise StartupTimeout(f"start-up wait ran out: the guest did not reach the kernel's "
                                 f"entry ({entry}) within {e.seconds:g} s of wall time after "
                                 f"QEMU started (host too loaded?); {e}") from None
        self.icount_later = lambda: _later(machine.qmp.send("query-replay"))
        self.icount = lambda: self.icount_later()()
        self.entry_icount = self.icount()       # stopped at the kernel's entry
        with dbg:
            for shortcut in self.boot_shortcuts:
                shortcut.arm(dbg)
            self.inspector = self.adapter.inspector(dbg, symbols)
            if self.injector is not None:
                self.injector.icount = self.icount
                self.injector.arm(dbg, self.inspector)
            if self.exact_disk is not None:     # after the injections: see its arm()
                self.exact_disk.arm(dbg, machine.qmp.human_monitor_command)
            if self.coverage is not None:
                self.coverage.arm(dbg)
            self.faults.arm(dbg, symbols, self.scenario.mem_mb << 20)
            owners = self.checkpoint_owners = self._arm_program_stops(dbg, "checkpoint")
            self.fail_owners = self._arm_program_stops(dbg, "fail", set(owners))
            self.watch = session_watch(self, machine, rules, symbols)
            self.idle_stops = arm_idle_stops(self, dbg, symbols)
            if self.exact_disk is not None:     # its requests are the harness's time
                self.exact_disk.on_held = self.watch.exclude
            self._arm_stop(dbg, symbols)
            try:
                self._run_to_end(dbg, owners)
            except DebuggerTimeout as e:
                e.threads = self._thread_report()
                raise
            except GuestHang as e:
                if e.kind == DEADLOCK:
                    self._meet(dbg, Moment(DEADLOCK_MOMENT, e.reason, failed=True))
                raise
            finally:
                self.stops_taken, self.stops_needed = count_stops(self, dbg)

    def _arm_stop(self, dbg, symbols) -> None:
        """For a stop request (vmcheck debug): its breakpoint (break:SYMBOL,
        a kernel symbol or one of the programs'), then the moment `start`."""
        if self.stop is None:
            return
        name = self.stop.where.symbol
        if name is not None:
            address = next((image.symbols[name] for image in self.images.values()
                            if name in image.symbols), None)
            self._stop_address = address if address is not None else symbols.address_of(name)
            dbg.add_breakpoint(self._stop_address)
        self._meet(dbg, Moment(START, f"the kernel's entry ({dbg.describe(dbg.pc)}), "
                                      f"before {self.scenario.program} runs"))

    def _meet(self, dbg, moment: Moment) -> None:
        """Tells the stop request (if any) of MOMENT; it may hand the
        machine over and end the run (HandedOver)."""
        if self.stop is not None:
            self.stop.meet(self.machine, dbg, moment)

    def _arm_program_stops(self, dbg, what: str, armed: frozenset = frozenset()) -> dict:
        """Breakpoints on each program's WHAT (an attribute of ProgramImage:
        "checkpoint" or "fail") unless already ARMED; address -> [(program,
        the 16 bytes there)], which tell programs at one address apart."""
        owners: dict = {}
        for name, image in self.images.items():
            address = getattr(image, what)
            if address is None:
                continue
            if address not in owners and address not in armed:
                dbg.add_breakpoint(address)
            owners.setdefault(address, []).append((name, image.elf_bytes(address, 16)))
        return owners

    def _run_to_end(self, dbg, owners: dict) -> None:
        while True:
            # the watch ends the run at its wall-clock limit; this is a backstop
            left = self.watch.rules.wall_s - (time.monotonic() - self.watch.started)
            stop = dbg.run_until(None, timeout=max(left, 0) / self.timeouts.scale + BACKSTOP_S,
                                 watch=self.watch)
            if stop.reason == "exited":
                return
            stopped_at = time.monotonic()
            try:
                self._on_stop(dbg, stop, owners)
            finally:   # the time spent reading the stopped guest is not the kernel's
                self.watch.exclude(time.monotonic() - stopped_at)

    def _on_stop(self, dbg, stop, owners: dict) -> None:
        """One stop of run_until: a checkpoint() or fail() of a program, or
        the same address in other code."""
        if stop.reason != "breakpoint":
            raise HarnessError(f"unexpected stop ({stop.reason}) at {dbg.describe(stop.pc)}")
        if self.faults.handles(stop.pc):
            self._on_fault_stop(dbg)
            return
        if stop.pc == self._stop_address:
            self._meet(dbg, Moment(BREAK, f"the breakpoint at {self.stop.where.symbol}"))
        try:
            code = dbg.read_virt(stop.pc, 16)
        except HarnessError:
            # QEMU checks breakpoints before the fetch: the code page
            # is not mapped yet. The fetch faults it in and the
            # breakpoint hits again; that second stop is the call.
            return
        candidates = [p for p, b in owners.get(stop.pc, ()) if b == code]
        if candidates:
            self._on_checkpoint(dbg, candidates)
        failing = [p for p, b in self.fail_owners.get(stop.pc, ()) if b == code]
        if not candidates and not failing:
            known = len(self.wrong_code)
            self._note_wrong_code(stop.pc, code, owners)
            if len(self.wrong_code) > known:
                self._meet(dbg, Moment(WRONG_CODE, str(self.wrong_code[-1]), failed=True))
        if failing and not self.failure_threads:
            self.failure_threads = [f"{' or '.join(failing)}: fail() called at "
                                    f"{stop.pc:#x}"] + self._thread_report()
            self.failure_threads += [f"fault before it: {r.one_line()}"
                                     for r in self.faults.records]
            self._meet(dbg, Moment(FAIL_CALL, f"{' or '.join(failing)} called fail()",
                                   failed=True, program=failing[0]))

    def _on_fault_stop(self, dbg) -> None:
        """A stop at a fault site: the fault recorded, then the moments of
        a new fault and of the panic."""
        faults, seen, panicked = self.faults, len(self.faults.records), bool(self.faults.panic_stack)
        faults.on_stop(dbg, self.inspector)
        if len(faults.records) > seen and self.stop is not None:
            record = faults.records[-1]
            self._meet(dbg, Moment(FAULT, record.one_line(), failed=self._fault_fails(record)))
        if faults.panic_stack and not panicked:
            self._meet(dbg, Moment(PANIC, faults.story or "the kernel panicked", failed=True))

    def _fault_fails(self, record) -> bool:
        """Whether a caught fault is a failure by itself: the kernel
        panicked, or the scenario's own process (the oldest one running its
        program: children are often meant to die) faulted and the scenario
        accepts no exit(-1). Measured on the reference kernel: the 33
        scenarios of its robustness, core and stack areas that take such a
        fault and pass, each run by `vmcheck debug` to its end."""
        if "panic" in record.outcome:
            return True
        if any(want.exit_status == -1 for want in self.scenario.outcomes):
            return False
        try:
            infos = self.inspector.processes()
        except Exception:  # noqa: BLE001 - a crashing kernel's lists may be anything
            return True
        mine = [info.pid for info in infos if info.name == self.scenario.program]
        return any(info.current and mine and info.pid == min(mine) for info in infos)

    def _note_wrong_code(self, pc: int, code: bytes, owners: dict) -> None:
        """A process runs the instruction at PC, where one of our programs
        has checkpoint() or fail(), on bytes that none of the scenario's
        programs has there (another program's ordinary code at that
        address is fine). Every process of a run is one of those programs,
        so the kernel gave it a code page with the wrong contents (seen:
        a forked child's page that was still unloaded in the parent came
        zero-filled). Said once per address."""
        if any(v.va == pc for v in self.wrong_code):
            return
        if any(_same_code(image, pc, code) for image in self.images.values()):
            return
        programs, expected = zip(*(owners.get(pc) or self.fail_owners[pc]))
        what = "checkpoint()" if pc in owners else "fail()"
        try:
            process = self.inspector.current_thread_name()
        except Exception:  # noqa: BLE001 - the diagnosis must not end the run
            process = "a process"
        self.wrong_code.append(Violation(
            "code_page_contents",
            f"{process} ran the code at {pc:#x}, where {' or '.join(programs)} has {what}, "
            f"but its code page there holds other bytes than the program's",
            va=pc, expected=expected[0].hex(" "), actual=code.hex(" ")))

    def _thread_report(self) -> list[str]:
        """Where each thread is (the guest is stopped after a timeout); one
        line saying why not if the kernel's threads cannot be read."""
        try:
            return self.inspector.thread_report()
        except Exception as e:  # noqa: BLE001 - a hung kernel's memory may be anything
            return [f"threads not readable: {type(e).__name__}: {e}"]

    def layout_notes(self) -> list[str]:
        """The inspector's account of how it reads the kernel's structures
        (empty before the debugger attached, or if it has none)."""
        inspector = getattr(self, "inspector", None)
        if inspector is None or not self.records:
            return []
        try:
            return inspector.layout_notes()
        except Exception as e:  # noqa: BLE001 - a note must not end the run
            return [f"layout notes not available: {type(e).__name__}: {e}"]

    def _specs(self, program: str, cp_id: int, process: str, hit: int) -> list:
        return [c for c in self.scenario.checkpoints
                if c.id == cp_id and (c.program or self.scenario.program) == program
                and (c.process is None or c.process == process)
                and (c.hit == "every" or c.hit == hit)]

    def _context(self, state, program: str, dbg) -> CheckContext:
        image = self.images[program]
        return CheckContext(state=state, symbols=ProgramSymbols(image.symbols, dbg),
                            address_layout=state.address_layout, elf_bytes=image.elf_bytes,
                            data_file=lambda name: self.data_files.get(name, b""),
                            frames_at=lambda cp: self.frames.get(cp, {}))

    def _program_of(self, dbg, proc, candidates: list) -> str:
        """Which of CANDIDATES (programs with these checkpoint() bytes at
        this address) the running process PROC runs: the one whose code
        page at the stop matches (a forked child before its exec still runs
        its parent's program under another name), else the one PROC is
        named after, else the scenario's program."""
        if len(candidates) > 1:
            base = dbg.register("rip") & ~0xFFF
            try:
                page = dbg.read_virt(base, 4096)
            except HarnessError:
                page = None
            matching = [p for p in candidates
                        if page is not None and _same_code(self.images[p], base, page)]
            if len(matching) == 1:
                return matching[0]
            candidates = matching or candidates
        if proc.name in candidates:
            return proc.name
        return self.scenario.program if self.scenario.program in candidates else candidates[0]

    def _on_checkpoint(self, dbg, candidates: list) -> None:
        """Captures the state, judges it (invariants and the expectations of
        the checkpoint specs this hit matches) and records it. The running
        process is judged as running PROGRAM (its code ranges)."""
        cp_id = _signed32(dbg.register("rdi"))
        icount = self.icount_later()     # QEMU answers while the state is captured
        state = capture_state(self.inspector, dbg, self.scenario.mem_mb << 20, cp_id, self.images)
        program = self._program_of(dbg, state.proc, candidates)
        disk = self.adapter.swap_disk_bytes(self.scenario.swap_mb)
        state = as_running(state, self.images[program].code_ranges,
                         None if disk is None else disk // PAGE)
        proc = state.proc
        self.hits[(program, cp_id)] += 1
        hit = self.hits[(program, cp_id)]
        self.process_hits[(program, cp_id, proc.name)] += 1
        specs = self._specs(program, cp_id, proc.name, hit)
        findings: list[Violation] = []
        if all(spec.invariants for spec in specs):
            findings += check_invariants(state, disabled=set(self.scenario.invariants_off))
        ctx = self._context(state, program, dbg)
        run, results = [], []
        for spec in specs:
            for exp in spec.expect:
                run.append(exp.check)
                results.append((exp, run_check(ctx, exp.check, exp.params)))
        findings += self.premises.judge(results)
        self.frames[cp_id] = {va: phys for va, phys, _ in proc.pages.iter_user_4k()}
        found = by_outcome(findings)
        self.records.append(CheckpointRecord(
            id=cp_id, hit=hit, pid=proc.pid, process=proc.name, icount=icount(),
            ticks=self._ticks(dbg),
            pages=proc.pages, spt=None if proc.spt is None else list(proc.spt.values()),
            spt_note=proc.spt_unreadable, pools=state.pools, violations=found[FAIL],
            expectations=run, unknowns=found[UNKNOWN], not_judged=found[NOT_JUDGED]))
        failed = f", {len(found[FAIL])} failed check(s), first: {found[FAIL][0]}" \
            if found[FAIL] else ""
        self._meet(dbg, Moment(CHECKPOINT, f"checkpoint {cp_id} (hit {hit}) of {program} in "
                                           f"{proc.name} (pid {proc.pid}){failed}",
                               failed=bool(found[FAIL]), checkpoint=(cp_id, hit),
                               program=program))
        steal = sum(spec.steal_frames for spec in specs)
        if steal:   # after the moment: a debugger sees the state that was judged
            self.adapter.request(dbg, "steal_frames", steal)

    def _ticks(self, dbg):
        """The kernel's timer ticks now (GuestClock's variable), None if it
        has none or it cannot be read."""
        symbol = self.adapter.kernel_symbols().find(TICK_SYMBOL)
        try:
            return None if symbol is None else dbg.read_u64(symbol.address)
        except HarnessError:
            return None

    def unreached(self, ending_counts: dict | None = None) -> list[str]:
        """Declared checkpoints reached too few (or, with `count`, a
        different number of) times. ENDING_COUNTS: id -> hits that the
        accepted ending met declares (`checkpoints` of an also_accept
        entry); they replace the checkpoint's own count, and a spec for a
        later hit is not expected then."""
        out = []
        ending_counts = ending_counts or {}
        for spec in self.scenario.checkpoints:
            program = spec.program or self.scenario.program
            if spec.process is not None:
                n = self.process_hits[(program, spec.id, spec.process)]
            else:
                n = self.hits[(program, spec.id)]
            who = f" by {spec.process}" if spec.process else ""
            count = ending_counts.get(spec.id, spec.count)
            if count is not None and n != count:
                out.append(f"checkpoint {spec.id} reached {n} times{who}, expected {count}")
            elif count is None and (n == 0 or (spec.hit != "every" and n < spec.hit)):
                what = "" if spec.hit == "every" else f" (hit {spec.hit})"
                out.append(f"checkpoint {spec.id}{what} was never reached{who} ({n} hits)")
        return out


class ProgramSymbols(dict):
    """A program's ELF symbols plus `probe`, read from its vmcheck_probe
    global only when an address expression uses it."""

    def __init__(self, symbols: dict, dbg):
        super().__init__(symbols)
        self.dbg = dbg

    def __contains__(self, name) -> bool:
        return name == "probe" and PROBE_SYMBOL in self.keys() or super().__contains__(name)

    def __missing__(self, name):
        if name != "probe" or PROBE_SYMBOL not in self.keys():
            raise KeyError(name)
        try:
            value = int.from_bytes(self.dbg.read_virt(dict.__getitem__(self, PROBE_SYMBOL), 8),
                                   "little")
        except HarnessError:
            raise KeyError("probe (vmcheck_probe's page is not mapped: the program "
                           "never set it)") from None
        self["probe"] = value
        return value


def _same_code(image, pc: int, code: bytes) -> bool:
    """True if IMAGE has CODE at PC (as far as its segment goes)."""
    for length in range(len(code), 0, -1):
        expected = image.elf_bytes(pc, length)
        if expected is not None:
            return expected == code[:length]
    return False


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _later(request) -> Callable[[], Optional[int]]:
    """The instruction count a query-replay REQUEST (QMPClient.send)
    answers, read when called."""
    return lambda: request.result().get("icount")
