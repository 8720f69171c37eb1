"""A page-fault storm, found in seconds: an instruction that faults again
and again because the kernel returns from each fault without making the
page usable.

Under TCG such a storm runs so slowly that the guest clock crawls (2wheeh's
stk-evict: 27.7 busy guest s in 306 s of wall time), so the busy-guest-time rule
of harness/run/hang_watch.py never fires and only its wall-time rule ended
the run, after the scaled timeout. This rule costs nothing while the
program makes progress: no breakpoint is armed. After QUIET_S of wall time
(x --timeout-scale) without progress, the hang watch stops the guest once
and arms a breakpoint at the kernel's page-fault entry (the adapter's
fault_entry: `page_fault(struct intr_frame *)` on both kernels, whose
first argument is the trap frame); each fault then stops there and is
sampled (address space CR3, user or kernel mode, rip, CR2's page, error
code, and how many faults the kernel had not resolved so far), and the
guest goes on:

  storm    STORM_FAULTS consecutive samples are the same fault, with no
           progress in between: the run ends at once as HANG "fault
           storm", naming the instruction, the address and the rate; the
           fault, decoded (storm_record: instruction, operand, page
           state, source line), joins the run's faults;
  variety  more than VARIETY different faults, or SAMPLE_LIMIT samples, or
           SAMPLE_S of wall time without a storm, or progress: the
           breakpoint is removed, and it is armed again only after a
           back-off of wall time without progress that doubles from
           QUIET_S up to BACKOFF_MAX_S (progress resets it).

Why a correct kernel cannot produce a storm: it answers a user fault
either by mapping the page (with the access the fault needed) and
returning, or by ending the process. After a mapping, the instruction is
retried at once and completes, unless the page is taken away before it
runs again; eviction only happens when a frame is allocated, so a second
identical fault needs another thread to be scheduled in that window and
allocate (and, on its way, usually fault: a different sample) each time.
The same fault twice in a row is rare (measured: the reference suite with
QUIET_S cut to 0.2 s armed 141 times in 12 scenarios, and no fault ever
came twice in a row); STORM_FAULTS = 100 in a row, with nothing else
faulting and no progress, does not happen. A correct kernel
under heavy paging faults on page after page (a different CR2 page each
time: variety after VARIETY + 1 samples).

Kernel-mode storms are judged too (the same kernel rip faulting on the
same page, e.g. a system call copying to a user buffer whose fault the
kernel "resolves" without mapping it: the stack-syscall-no-claim mutant
in stk-sc-depth-1). The argument above holds for them as it is: a correct
kernel answers a kernel-mode fault on a user page by mapping it (the
copy instruction is retried and completes), by failing the access (the
fix-up: the copy returns an error, the instruction is not retried), by
ending the process, or by a panic. Two things differ, and the rule meets
both:
  - a fix-up returns to the system call, which may fail and be called
    again by a program that loops on it: the same kernel instruction then
    faults on the same page again and again, each time handled, and the
    kernel is right. Every fault a kernel does not resolve passes one of
    the adapter's fault sites (harness/adapters/fault_sites.py: kill,
    panic, fix-up; the reference kernel's hook says which), where
    harness/run/fault_capture.py stops and counts it (unresolved); that
    count is part of a sample, so a handled fault between two samples
    makes them different faults: no streak survives a fix-up, a kill or a
    panic. A kernel whose fix-up path the adapter does not know (a
    Pintos-KAIST tree that returns -1 from a bad user copy instead of
    ending the process, which its own tests do not allow) and a program
    that retries forever would be called a storm; the run is a HANG
    either way, by the no-progress rule, only later.
  - the reference kernel's hook also stops at a kernel-mode fault it
    resolved outside the user copies (a fault capture records as a
    kernel bug); that stop is not a handled fault and breaks no streak,
    so a kernel that "resolves" such a fault without mapping is a storm.
Measured on the reference suite (`./vmcheck run --jobs 2`, load average
about 10): 150/150 PASS, the rule armed 6 times in 3 scenarios
(page-merge-stk, swap-anon, swap-iter; 30 samples, each arming variety
after 5); with QUIET_S cut to 0.2 s for a trial, 183 armings in 17
scenarios, 867 samples (7 of them kernel-mode), the longest run of one
fault 1, 150/150 PASS. The mutants stack-grow-no-claim (user mode) and
stack-syscall-no-claim (kernel mode) are storms: docs/mutants.md, "Fault
storms".

Not caught: several processes storming at once (forked children, each on
its own page) interleave their samples, so no fault comes STORM_FAULTS
times in a row; the rule sees variety and backs off, and the no-progress
rule ends the run later (page-merge-stk on stack-syscall-no-claim: 80 s).

Cost: a sample is one breakpoint stop plus a read of the trap frame,
1.5-4 ms under TCG (100 samples took 147 ms at a load average of 4, 413
ms at 8), so a storm is judged in well under a second of sampling; a
correct run that sits without progress pays one stop to arm, a few
samples and one stop to disarm, then backs off. Why QUIET_S = 3 s: at a
load average of 4 no scenario of the reference suite went 3 s of wall
time without progress (none armed the rule; at 10, three did, above), it
is 1% of the 300 s the wall rule took, and a storm is still ended within
seconds on a loaded host.

Runs that must replay exactly (HangRules.idle_looks False: injections, the
exact disk) arm only behind a gate read without stopping the guest
(harness/run/storm_gate.py: the kernel's fault counter growing and CR2 on
one page, or, on a kernel without such a counter, the running thread's
newest trap frame from user mode a page fault at the same rip and page
read after read): arming needs the guest stopped at a moment the host's speed
picks (the reason the hang watch takes its thread looks there only at
stops the guest picks: harness/run/idle_stops.py), and a
sample that finds variety lets the run go on, changed; the gate keeps
that to runs that already look like a storm.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Optional

from harness.run.kernel_stack import read_trap_frame

QUIET_S = 3.0          # wall s without progress before sampling (x scale)
STORM_FAULTS = 100     # the same user fault this many times in a row is a storm
VARIETY = 4            # more different faults than this in one sample: a workload
SAMPLE_LIMIT = 4 * STORM_FAULTS   # samples in one arming at most
SAMPLE_S = 5.0         # wall s one arming may last (x scale)
BACKOFF_MAX_S = 60.0   # the longest back-off (x scale)
PAGE_MASK = ~0xFFF
STORM, VARIETY_SEEN = "storm", "variety"


@dataclasses.dataclass(frozen=True)
class FaultSample:
    """One fault at the page-fault entry: SPACE (CR3), USER mode, RIP,
    CR2, ERROR_CODE; FRAME: the trap frame (for the verdict's story);
    HANDLED: how many faults the kernel had not resolved (kill, panic,
    fix-up: FaultCapture.unresolved) when it came. Two samples are the
    same fault if all but FRAME are equal (CR2 to the page)."""
    space: int
    user: bool
    rip: int
    cr2: int
    error_code: int
    frame: object = dataclasses.field(default=None, compare=False)
    handled: int = 0

    @property
    def key(self) -> tuple:
        return (self.space, self.user, self.rip, self.cr2 & PAGE_MASK, self.error_code,
                self.handled)


class FaultStreak:
    """The samples of one arming: add() says STORM, VARIETY_SEEN or None."""

    def __init__(self, storm_faults: int = STORM_FAULTS, variety: int = VARIETY,
                 limit: int = SAMPLE_LIMIT):
        self.storm_faults, self.variety, self.limit = storm_faults, variety, limit
        self.kinds: set = set()
        self.samples = 0
        self.run = 0                     # length of the current run of equal samples
        self.run_began = self.last_at = 0.0   # wall time of its first and last sample
        self.last: Optional[FaultSample] = None

    def add(self, sample: FaultSample, now: float = 0.0) -> Optional[str]:
        """SAMPLE, taken at wall time NOW."""
        self.samples += 1
        self.kinds.add(sample.key)
        if self.last is not None and self.last.key == sample.key:
            self.run += 1
        else:
            self.run, self.run_began = 1, now
        self.last, self.last_at = sample, now
        if self.run >= self.storm_faults:
            return STORM
        if len(self.kinds) > self.variety or self.samples >= self.limit:
            return VARIETY_SEEN
        return None


def read_sample(dbg) -> FaultSample:
    """The fault of a stop at the page-fault entry (rdi: the trap frame;
    CR2 is still the fault's: interrupts are off at the entry)."""
    frame = read_trap_frame(dbg, dbg.register("rdi"))
    return FaultSample(dbg.register("cr3"), frame.user, frame.regs["rip"],
                       dbg.register("cr2"), frame.error_code, frame)


class FaultStormRule:
    """The rule's timing and its breakpoint (see the module doc). ADDRESS:
    the page-fault entry; SCALE: --timeout-scale; PROGRESS() the hang
    watch's progress marker; ON_STORM(dbg, streak): ends the run
    (raises); READ(dbg) -> FaultSample; HANDLED() -> how many faults the
    kernel did not resolve so far (FaultCapture.unresolved)."""

    def __init__(self, address: int, scale: float, progress: Callable[[], object],
                 on_storm: Callable, read: Callable = read_sample,
                 handled: Callable[[], int] = lambda: 0,
                 gate: Optional[Callable[[], bool]] = None):
        self.address, self.scale, self.progress = address, scale, progress
        self.on_storm, self.read, self.handled = on_storm, read, handled
        self.gate = gate                # harness/run/storm_gate.py; None: no gate
        self.breakpoint = None
        self.streak: Optional[FaultStreak] = None
        self.armings = 0
        self._armed_at = 0.0
        self._marker: object = None
        self._backoff = QUIET_S
        self._not_before = 0.0          # wall time before which it does not arm
        self._disarmed_at = 0.0
        self._to_arm = False            # the stop wants_stop asked for is to arm

    @property
    def armed(self) -> bool:
        return self.breakpoint is not None

    def wants_stop(self, now: float, quiet_since: float) -> bool:
        """Polled while the guest runs (QUIET_SINCE: wall time of the last
        progress): True if the guest must be stopped to arm or disarm."""
        if self.armed:
            self._to_arm = False
            return quiet_since > self._armed_at or \
                now - self._armed_at >= SAMPLE_S * self.scale
        if quiet_since > self._disarmed_at:       # progress since the last arming
            self._backoff, self._not_before = QUIET_S, 0.0
        self._to_arm = now >= self._not_before and now - quiet_since >= QUIET_S * self.scale \
            and (self.gate is None or self.gate())
        return self._to_arm

    def toggle(self, dbg) -> None:
        """The guest is stopped for this rule (wants_stop): arms, or disarms."""
        if self.armed:
            self.disarm(dbg, progressed=self.progress() != self._marker)
        elif self._to_arm:
            self.breakpoint = dbg.add_breakpoint(self.address, self.on_fault)
            self.streak, self._marker = FaultStreak(), self.progress()
            self._armed_at = time.monotonic()
            self.armings += 1

    def disarm(self, dbg, progressed: bool = False) -> None:
        """Removes the breakpoint. Without progress (PROGRESSED False) the
        next arming waits out the back-off, which doubles; progress resets it."""
        if self.breakpoint is not None:
            dbg.remove_breakpoint(self.breakpoint)
        self.breakpoint = None
        now = self._disarmed_at = time.monotonic()
        if progressed:
            self._backoff, self._not_before = QUIET_S, 0.0
            return
        self._not_before = now + self._backoff * self.scale
        self._backoff = min(self._backoff * 2, BACKOFF_MAX_S)

    def on_fault(self, dbg, _bp) -> bool:
        """The breakpoint's callback: one sample; never asks run_until to
        return (a storm raises through on_storm)."""
        if self.progress() != self._marker:
            self.disarm(dbg, progressed=True)
            return False
        sample = dataclasses.replace(self.read(dbg), handled=self.handled())
        verdict = self.streak.add(sample, time.monotonic())
        if verdict == STORM:
            self.on_storm(dbg, self.streak)
        elif verdict == VARIETY_SEEN:
            self.disarm(dbg)
        return False


def storm_outcome(streak: FaultStreak) -> str:
    """What the kernel did with the storm's fault, for its FaultRecord."""
    return (f"the kernel returned without {_left(streak.last)}: the instruction "
            f"faulted again, {streak.run} times in a row (fault storm)")


def _left(sample: FaultSample) -> str:
    if sample.error_code & 1:
        return "giving the page the access it needs (it is present: a protection fault)"
    return "making the page present"


def storm_record(dbg, streak: FaultStreak, capture, inspector):
    """The storm's fault (the last sample: the guest is stopped at it) as a
    FaultRecord, decoded by CAPTURE (the run's FaultCapture: instruction,
    operand, source line, the page's state) with INSPECTOR (the kernel's,
    or None); None without a capture or if it cannot be decoded."""
    sample = streak.last
    if capture is None or sample.frame is None:
        return None
    try:
        return capture.explain(dbg, inspector, sample.frame, sample.cr2,
                               storm_outcome(streak))
    except Exception:  # noqa: BLE001 - the story is a help, the verdict stands without it
        return None


def storm_reason(streak: FaultStreak, record) -> str:
    """The HANG's reason for STREAK: the instruction with its function and
    source line where RECORD (storm_record, or None) tells them, the
    address, how often and how fast."""
    sample = streak.last
    where, what = f"{sample.rip:#x}", ""
    if record is not None:
        told = ", ".join(part for part in (record.function, record.source) if part)
        where += f" ({told})" if told else ""
        what = (f" `{record.instruction}`" if record.instruction else "") + \
            f" ({record.reason.rsplit(' at ', 1)[0]})"
    wall_ms = (streak.last_at - streak.run_began) * 1000
    if sample.user:
        mode, correct = "user", "maps the page or ends the process"
    else:
        mode, correct = "kernel", ("maps the page, or fails the access (the process ends, "
                                   "or the system call fails)")
    return (f"{mode} instruction at {where}{what} faults on {sample.cr2:#x} again and again "
            f"({streak.run} times in a row in {wall_ms:.0f} ms of wall time, no progress): "
            f"the kernel returns from the fault without {_left(sample)}; a correct kernel "
            f"{correct}")
