"""Judging a run's time, and its hangs, while it runs.

Under -icount (TCG's default here) a scenario's `timeout` and `boot
--timeout` are guest seconds, read from the kernel's timer ticks
(harness/machine/guest_clock.py), counting the time the guest's CPU works: in
each poll window, the ticks that passed, but no more than the
instructions executed are worth (INSTRUCTIONS_PER_TICK a tick). Under
`sleep=off` the clock of an idle CPU jumps to the next timer interrupt at
once, so how many ticks an idle wait lasts is the host's business: a
Pintos-KAIST kernel idles while QEMU's I/O thread completes each disk
request, and on a loaded host its clock ran 65 s in 30 s of wall time
just writing a test's files (docs/pintos-kaist.md, "Hangs"). Counted
while busy, guest time is the same run after run, whatever the host; the
reference kernel's timer does not tick during its polled disk transfers
at all. These limits are not scaled. A wall-clock safety net of
WALL_NET_FACTOR times the timeout (times --timeout-scale) ends a guest
whose clock does not move (a kernel spinning with interrupts off, or one
waiting forever for an interrupt that never comes). Without -icount
(--no-icount, KVM) the guest clock runs in real time and the timeout,
scaled, is wall time.

While the guest runs, a HangWatch is polled every POLL_INTERVAL_S and
ends the run as a HANG, saying which rule fired (GuestHang.kind):

  guest time   the guest's busy time passed the timeout;
  wall time    the wall clock passed the net (without -icount: the timeout);
  deadlock     every thread but idle is blocked on a lock, a semaphore or a
               condition (oracles/model/wait_graph.py says what is evidence), and a
               second look DEADLOCK_STRETCH_TICKS of the guest clock later
               sees the same waits;
  no progress  no console output, checkpoint or process exit for
               NO_PROGRESS_S of busy guest time (half the timeout if less),
               or for the scaled timeout in wall time (a guest whose clock
               crawls: a loop through disk waits or a page-fault storm);
               once the run's verdict is decided (a process already exited
               with a status no correct ending has: verdict.py
               wrong_exit_before_hang), for DECIDED_QUIET_S of busy guest
               time or DECIDED_QUIET_WALL_S (scaled) of wall time;
  fault storm  after a few seconds of wall time without progress, a
               breakpoint at the kernel's page-fault entry samples the next
               faults: the same fault (user or kernel mode) 100 times in a
               row, nothing else faulting, none handled and no progress,
               ends the run at once, the fault decoded among the run's faults
               (harness/run/fault_storm.py: the rule, its numbers, why a
               correct kernel cannot do this, its cost). A storm crawls in
               guest time, so the guest-time rules would not see it, and the
               wall rule above would end it only after the scaled timeout.
               In runs that must replay exactly (idle_looks False) only
               behind a gate read without a stop (harness/run/storm_gate.py):
               to arm, it stops the guest at a moment the host picks.

In runs that must replay exactly (idle_looks False) the looks are taken
where the guest switches its idle thread in instead, a stop its own
execution picks (harness/run/idle_stops.py: a write watchpoint on the idle
thread's status); a kernel without the symbols for it gets no looks there
until progress stops.

A look at the threads needs the guest stopped (their structures are read
over GDB), so looks are taken only when the guest idles: under -icount an
idle CPU lets the clock jump to the next timer interrupt, so ticks pass
while few instructions run (under IDLE_BUSY_FRACTION of a busy tick's
worth for IDLE_STRETCH_TICKS in a row; a debugger stop also lets the clock
jump, so a run with many injection stops looks idle at times). A busy
kernel is never stopped; a kernel that idles without being deadlocked (a
Pintos kernel waiting for its disk) is looked at again only after a
back-off in guest time that doubles from DEADLOCK_STRETCH_TICKS up to
LOOK_BACKOFF_MAX_TICKS. Without -icount there is no idle signal: a look
after each back-off. Before a run ends as "no progress" it is looked at
once more: a deadlock found then is confirmed as any other.

Why DEADLOCK_STRETCH_TICKS = 100 (1 s of guest time): when no thread can
run and every wait is on another thread, only an interrupt could change
anything, and the waits that interrupts end (the timer's sleepers, the
disk's waiters) are not counted as evidence. The second look guards
against a first look taken halfway through a wake-up (an interrupt
handler running on idle's stack while it unblocks a thread); 100 timer
interrupts later any such wake-up has long happened. An idle guest runs
those 100 ticks in a few host milliseconds, so it costs nothing.

Why NO_PROGRESS_S = 30: see docs/pintos-kaist.md, "Hangs": the longest
stretch without output, exit or checkpoint in a correct run of the suite
was measured, on the reference kernel and the development trees.

Why DECIDED_QUIET_S = 2 (and 10 s of wall time): after a wrong exit the
verdict is a FAIL whatever the kernel does next (a panic aside), so the
run goes on only so that its program can end by itself; nothing is owed
to a kernel that then stops making progress. A parent polling for a child
that has died waits on: santaiscoming @939145d's dl-evict child died of
an unimplemented system call at guest second 0.02 and the parent polled
for its signal file until the wall rule ended the run 60 s later.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Optional

from harness.errors import QMPError
from harness.machine.guest_clock import INSTRUCTIONS_PER_TICK, TIMER_HZ, ClockSample
from harness.run.fault_storm import FaultStormRule, storm_reason, storm_record

POLL_INTERVAL_S = 0.1
WALL_NET_FACTOR = 3
DEADLOCK_STRETCH_TICKS = 100
IDLE_STRETCH_TICKS = 20
IDLE_BUSY_FRACTION = 0.5
NO_PROGRESS_S = 30.0
DECIDED_QUIET_S = 2.0
DECIDED_QUIET_WALL_S = 10.0
LOOK_BACKOFF_MAX_TICKS = 1000

GUEST_TIME, WALL_TIME, DEADLOCK, NO_PROGRESS = "guest time", "wall time", "deadlock", "no progress"
FAULT_STORM = "fault storm"
DEADLOCK_REASON = "deadlock: "     # how a deadlock HANG's reason starts
FAULT_STORM_REASON = f"{FAULT_STORM}: "   # and a fault storm's


def worked_through(ticks: int, instructions: int) -> bool:
    """Whether INSTRUCTIONS executed over TICKS (> 0) timer ticks make the
    CPU busy then, not idle: IDLE_BUSY_FRACTION of a busy tick's worth or
    more per tick."""
    return instructions / INSTRUCTIONS_PER_TICK >= ticks * IDLE_BUSY_FRACTION


class GuestHang(Exception):
    """A run ended as a HANG. KIND: which rule (GUEST_TIME, WALL_TIME,
    DEADLOCK, NO_PROGRESS, FAULT_STORM); REASON: one line; THREADS:
    thread_report() lines; GRAPH: the WaitGraph seen (None if not read);
    PC: where the CPU was stopped; GUEST_S / WALL_S: both clocks when it
    ended; FAULT: a fault storm's fault (a FaultRecord; None if not decoded
    or another rule)."""

    def __init__(self, kind: str, reason: str, threads=(), graph=None, pc=None,
                 guest_s: Optional[float] = None, wall_s: float = 0.0, fault=None):
        super().__init__(reason)
        self.kind, self.reason, self.threads = kind, reason, list(threads)
        self.graph, self.pc, self.guest_s, self.wall_s = graph, pc, guest_s, wall_s
        self.fault = fault


def named_hang(reason: str) -> bool:
    """Whether a HANG's REASON names its cause (a deadlock's wait cycle, a
    fault storm's instruction), as a FAIL does."""
    return reason.startswith((DEADLOCK_REASON, FAULT_STORM_REASON))


@dataclasses.dataclass(frozen=True)
class HangRules:
    """TIMEOUT_S: the scenario's (or boot's) timeout before scaling;
    GUEST_CLOCK: it is guest time (-icount), else wall time. IDLE_LOOKS:
    deadlock looks while the guest runs on (False: a deadlock is found
    only once progress stops; each look stops the guest at a moment the
    host's speed picks, which a run that must replay exactly, one with
    injections, cannot have: measured, fill-race replays diverged)."""
    timeout_s: float
    scale: float = 1.0
    guest_clock: bool = True
    idle_looks: bool = True
    wall_timeout_s: Optional[float] = None   # what the wall rules scale (None: timeout_s)

    @property
    def wall_base_s(self) -> float:
        """The timeout the wall-clock rules scale: a generated mutant's run
        cuts timeout_s to a guest-time bound of a few times what the correct
        kernel needed, but a guest that crawls (stop after stop at an armed
        injection, under a loaded host) must not end in wall time sooner than
        the scenario's own timeout allows: 10 s of wall time ended dl-evict as
        "no progress" at guest second 0.11 on seven mutants that pass it."""
        return self.timeout_s if self.wall_timeout_s is None else \
            max(self.timeout_s, self.wall_timeout_s)

    @property
    def wall_s(self) -> float:
        """When the wall clock ends the run (the net, or the rule without -icount)."""
        return self.wall_base_s * self.scale * (WALL_NET_FACTOR if self.guest_clock else 1)

    @property
    def guest_ticks(self) -> int:
        return round(self.timeout_s * TIMER_HZ)

    @property
    def quiet_s(self) -> float:
        """Guest seconds without progress that make a HANG "no progress"."""
        return min(NO_PROGRESS_S, self.timeout_s / 2)


class HangWatch:
    """Polled by Debugger.run_until while the guest runs (see the module's
    docstring). CLOCK: a GuestClock or None (no tick counter: the wall
    rule only); PROGRESS() -> a value that changes when the program makes
    progress; INSPECTOR() -> the KernelInspector of the stopped guest (None:
    no thread looks); STARTED: time.monotonic() when QEMU started.
    FAULT_ENTRY: the kernel's page-fault entry (KernelAdapter.fault_entry)
    for the fault-storm rule (harness/run/fault_storm.py), None: no such
    rule; STORM_GATE: in a run that must replay exactly, the rule's gate
    (harness/run/storm_gate.py), None: no rule there; FAULTS: the run's
    FaultCapture (harness/run/fault_capture.py), which decodes a storm's fault and counts the faults the kernel did not
    resolve (each breaks a streak); None: no decoding, no count.
    DECIDED() -> whether the run's verdict is already decided (a wrong
    exit), which shortens the no-progress stretch; None: never."""

    interval = POLL_INTERVAL_S

    def __init__(self, rules: HangRules, clock, progress: Callable[[], object],
                 inspector: Optional[Callable[[], object]] = None,
                 started: Optional[float] = None, fault_entry: Optional[int] = None,
                 faults=None, storm_gate=None, decided: Optional[Callable[[], bool]] = None):
        self.rules, self.clock, self.progress, self.inspector = rules, clock, progress, inspector
        self.decided = decided
        self.faults = faults
        gated = not rules.idle_looks      # a run that must replay exactly: only behind a gate
        self.storm = None if fault_entry is None or (gated and storm_gate is None) else \
            FaultStormRule(fault_entry, rules.scale, progress, self._on_storm,
                           handled=lambda: faults.unresolved if faults is not None else 0,
                           gate=storm_gate if gated else None)
        self._storm_reason = ""
        self.storm_fault = None                  # the storm's FaultRecord, once found
        self.started = time.monotonic() if started is None else started
        self.last: Optional[ClockSample] = None
        self.busy_ticks = 0.0                    # guest ticks while the CPU worked
        # the progress marker and, when it last changed: busy ticks, ticks, wall time
        self._progress = (object(), 0.0, 0, self.started)
        self._idle_from: Optional[int] = None   # ticks when the current idle stretch began
        self._candidate: Optional[tuple] = None  # (ticks, graph signature) of a first look
        self._next_look = 0                      # ticks before which no look
        self._backoff = DEADLOCK_STRETCH_TICKS
        self._pending: Optional[str] = None
        self._next_poll = 0.0
        self.held_s = 0.0                        # wall time the harness held the guest stopped
        self.idle_stops = None                   # harness/run/idle_stops.py: the looks' moments

    @property
    def guest_s(self) -> Optional[float]:
        """Busy guest time so far (None before the first read of the clock)."""
        return None if self.last is None else self.busy_ticks / TIMER_HZ

    def poll(self) -> bool:
        """The guest runs: True if it must be stopped for inspect(). Reads
        the clock only if POLL_INTERVAL_S passed since the last read."""
        now = time.monotonic()
        if now < self._next_poll:
            return False
        self._next_poll = now + self.interval
        if now - self.started >= self.rules.wall_s:
            return self._request(WALL_TIME)
        sample = self._sample()
        if sample is None or sample.ticks is None:
            return False
        if self.rules.guest_clock and self.busy_ticks >= self.rules.guest_ticks:
            return self._request(GUEST_TIME)
        marker = self.progress()
        if marker != self._progress[0]:
            self._progress = (marker, self.busy_ticks, sample.ticks, now)
        elif self._candidate is None and self._no_progress(sample, now):
            return self._request(NO_PROGRESS)
        if self.storm is not None and self.storm.wants_stop(now, self._progress[3]):
            return self._request(FAULT_STORM)
        return self._look_due(sample)

    def _no_progress(self, sample: ClockSample, now: float) -> bool:
        """No progress for quiet_s of busy guest time (a livelock that
        burns the CPU), or for the scaled timeout in wall time: the wall
        rule of old, kept for stretches without progress, for a kernel
        whose guest clock crawls (a loop through disk waits, which hardly
        counts as busy time, or through a storm of page faults, which TCG
        runs hundreds of times slower than plain code)."""
        _, busy, _, wall = self._progress
        quiet_s, wall_quiet_s = self._quiet()
        return self.busy_ticks - busy >= quiet_s * TIMER_HZ or now - wall >= wall_quiet_s

    def _quiet(self) -> tuple[float, float]:
        """The stretch without progress that ends the run: (busy guest
        seconds, wall seconds), shorter once the verdict is decided."""
        rules = self.rules
        quiet_s, wall_quiet_s = rules.quiet_s, rules.wall_base_s * rules.scale
        if self.decided is not None and self.decided():
            return min(quiet_s, DECIDED_QUIET_S), min(wall_quiet_s, DECIDED_QUIET_WALL_S * rules.scale)
        return quiet_s, wall_quiet_s

    def exclude(self, seconds: float) -> None:
        """SECONDS of wall time during which the harness held the guest
        stopped (reading its state at a checkpoint, a look at its threads)
        are not the kernel's time: the wall-clock rules (the net, and no
        progress in wall time) start that much later. Reading a large SPT
        over GDB took 60 s on a loaded host (2wheeh's mmap-kernel, 38,963
        entries), which ended the run as a HANG of its own making."""
        self.held_s += seconds
        self.started += seconds
        marker, busy, ticks, wall = self._progress
        self._progress = (marker, busy, ticks, wall + seconds)

    def inspect(self, debugger) -> None:
        """The guest is stopped: a deadlock look, or the end of the run
        (raises GuestHang). The look's own time is excluded (exclude())."""
        kind, self._pending = self._pending, None
        if kind == FAULT_STORM:
            self.storm.toggle(debugger)
        elif kind == DEADLOCK:
            began = time.monotonic()
            self.look(debugger)
            self.exclude(time.monotonic() - began)
        elif kind == NO_PROGRESS:
            graph = self._graph()
            if graph is not None and graph.deadlock_problem() is None:
                self._candidate = (self.last.ticks, graph.signature())   # confirm it first
                return
            raise self._hang(kind, debugger, graph)
        elif kind is not None:
            raise self._hang(kind, debugger, self._graph())

    def _request(self, kind: str) -> bool:
        self._pending = kind
        return True

    def _sample(self) -> Optional[ClockSample]:
        """A new clock sample; adds the window's busy ticks and tracks idle
        stretches. None without a clock or once QEMU stops answering (it
        is exiting)."""
        if self.clock is None:
            return None
        try:
            sample = self.clock.sample()
        except QMPError:
            return None
        before, self.last = self.last, sample
        if before is None or None in (before.ticks, sample.ticks):
            return sample
        ticks = sample.ticks - before.ticks
        if not sample.icount:              # no -icount: every tick is real time
            self.busy_ticks += ticks
            return sample
        worked = (sample.icount - before.icount) / INSTRUCTIONS_PER_TICK
        self.busy_ticks += max(0.0, min(ticks, worked))
        if ticks <= 0 or worked_through(ticks, sample.icount - before.icount):
            self._idle_from = None
        elif self._idle_from is None:
            self._idle_from = before.ticks
        return sample

    def _look_due(self, sample: ClockSample) -> bool:
        if self.inspector is None or self.idle_stops is not None:
            return False          # with idle stops, looks are taken only at those
        if self._candidate is not None:
            due = sample.ticks >= self._candidate[0] + DEADLOCK_STRETCH_TICKS
            return due and self._request(DEADLOCK)
        if sample.ticks < self._next_look or not self.rules.idle_looks:
            return False
        if self.rules.guest_clock:   # -icount: look only at an idle guest
            idle = self._idle_from is not None and \
                sample.ticks - self._idle_from >= IDLE_STRETCH_TICKS
            return idle and self._request(DEADLOCK)
        return self._request(DEADLOCK)

    def look_due(self, ticks: int, idle_for: int) -> bool:
        """At an idle stop (harness/run/idle_stops.py), the guest's clock
        at TICKS, its CPU idle for IDLE_FOR ticks: whether to look now (a
        first look's confirmation is due, or the CPU idled long enough and
        the back-off has passed)."""
        if self.inspector is None:
            return False
        if self._candidate is not None:
            return ticks >= self._candidate[0] + DEADLOCK_STRETCH_TICKS
        return idle_for >= IDLE_STRETCH_TICKS and ticks >= self._next_look

    def look(self, debugger, ticks: Optional[int] = None) -> None:
        """One deadlock look (TICKS: the guest's clock, as read at an idle
        stop; default: the last sample's); raises GuestHang at the second
        look that sees the same deadlocked waits."""
        graph = self._graph()
        if ticks is None:
            ticks = self.last.ticks if self.last else 0
        if graph is None or graph.deadlock_problem() is not None:
            self._candidate = None
            self._next_look = ticks + self._backoff
            self._backoff = min(self._backoff * 2, LOOK_BACKOFF_MAX_TICKS)
            return
        if self._candidate is None or self._candidate[1] != graph.signature():
            self._candidate = (ticks, graph.signature())
            return
        raise self._hang(DEADLOCK, debugger, graph)

    def _on_storm(self, debugger, streak) -> None:
        """The fault-storm rule found one: ends the run (GuestHang), with
        the storm's fault decoded (its reading time is excluded)."""
        began, inspector = time.monotonic(), None
        if self.inspector is not None:
            try:
                inspector = self.inspector()
            except Exception:  # noqa: BLE001 - decoded without the kernel's view then
                pass
        self.storm_fault = storm_record(debugger, streak, self.faults, inspector)
        self.exclude(time.monotonic() - began)
        self._storm_reason = storm_reason(streak, self.storm_fault)
        raise self._hang(FAULT_STORM, debugger, None)

    def _graph(self):
        if self.inspector is None:
            return None
        try:
            return self.inspector().wait_graph()
        except Exception:  # noqa: BLE001 - a hung kernel's memory may be anything
            return None

    def _hang(self, kind: str, debugger, graph) -> GuestHang:
        threads = []
        if self.inspector is not None:
            try:
                threads = self.inspector().thread_report()
            except Exception as e:  # noqa: BLE001 - as above
                threads = [f"threads not readable: {type(e).__name__}: {e}"]
        wall = time.monotonic() - self.started
        return GuestHang(kind, self._reason(kind, wall, graph), threads, graph,
                         debugger.pc if debugger is not None else None, self.guest_s, wall,
                         self.storm_fault if kind == FAULT_STORM else None)

    def _reason(self, kind: str, wall: float, graph) -> str:
        rules, guest = self.rules, self.guest_s
        said = "not read yet" if guest is None else f"at {guest:.2f} s"
        if kind == FAULT_STORM:
            return f"{FAULT_STORM_REASON}{self._storm_reason}"
        if kind == DEADLOCK:
            return (f"{DEADLOCK_REASON}{graph.describe()} (every thread blocked, the same waits "
                    f"{DEADLOCK_STRETCH_TICKS / TIMER_HZ:g} guest s apart)")
        if kind == GUEST_TIME:
            return (f"no power-off within {rules.timeout_s:g} s of guest time (the guest "
                    f"clock ran out: {self.busy_ticks:.0f} timer ticks of work, "
                    f"{self.last.ticks} in all; {wall:.1f} s of wall time)")
        if kind == NO_PROGRESS:
            since = self._progress[1] / TIMER_HZ
            waited = time.monotonic() - self._progress[3]
            busy = (self.busy_ticks - self._progress[1]) / TIMER_HZ
            quiet_s, wall_quiet_s = self._quiet()
            limit = (f"the scenario's {rules.wall_base_s:g} s timeout x scale {rules.scale:g}"
                     if wall_quiet_s == rules.wall_base_s * rules.scale else
                     f"the limit once the verdict is decided ({DECIDED_QUIET_WALL_S:g} s x scale "
                     f"{rules.scale:g})")
            if busy >= quiet_s:
                text = (f"no progress for {quiet_s:g} s of guest time (no console "
                        f"output, checkpoint or process exit since {since:.2f} s, {waited:.0f} s "
                        f"of wall time ago; guest clock {said})")
            else:             # the wall branch: the guest clock crawled
                text = (f"no progress for {waited:.0f} s of wall time, {limit}, while the "
                        f"guest clock crawled ({busy:.2f} s of busy guest time; no console "
                        f"output, checkpoint or process exit since {since:.2f} s; guest clock "
                        f"{said})")
            return text + (f"; {graph.describe()}" if graph is not None else "")
        held = (f", not counting {self.held_s:.0f} s the harness held the guest stopped"
                if self.held_s >= 1 else "")
        if rules.guest_clock:
            return (f"no power-off within {rules.wall_s:g} s of wall time (the wall clock ran "
                    f"out: the safety net, {WALL_NET_FACTOR} x the {rules.timeout_s:g} s "
                    f"timeout x scale {rules.scale:g}{held}; the guest clock {said})")
        return (f"no power-off within {rules.wall_s:g} s of wall time (the wall clock ran out: "
                f"without -icount the timeout is wall time{held})")
