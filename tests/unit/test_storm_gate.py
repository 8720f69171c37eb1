"""The fault-storm rule's gate in runs that must replay exactly
(harness/run/storm_gate.py): what it reads without a stop and when it opens
(the real QEMU: a storm mutant, docs/mutants.md "Fault storms")."""

import pytest

from harness.errors import QMPError
from harness.run import storm_gate
from harness.run.fault_storm import FaultStormRule
from harness.run.storm_gate import (GATE_FAULTS, GATE_S, GATE_SAMPLES, CounterSignal, FrameSignal,
                                    StormGate)


class Monitor:
    """HMP as the gate sees it: `x` of the fault counter and `info registers`."""

    def __init__(self):
        self.faults, self.cr2, self.fail = 0, 0x4747e000, False

    def __call__(self, command):
        if self.fail:
            raise QMPError("QEMU exited")
        if command.startswith("x /1gx"):
            return f"ffffffff80120000: 0x{self.faults:016x}\r\n"
        assert command == "info registers"
        return f"RAX=0 RBX=0\r\nCR0=80010033 CR2={self.cr2:016x} CR3=0000000000101000\r\n"


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(storm_gate.time, "monotonic", lambda: now[0])
    return now


def polls(gate, monitor, clock, n, faults_each, cr2_each=0):
    opened = []
    for _ in range(n):
        clock[0] += 0.1
        monitor.faults += faults_each
        monitor.cr2 += cr2_each
        opened.append(gate())
    return opened


def test_the_same_page_faulting_fast_opens_the_gate(clock):
    monitor = Monitor()
    gate = StormGate(monitor, CounterSignal(0xffffffff80120000))
    opened = polls(gate, monitor, clock, GATE_SAMPLES + 2, GATE_FAULTS)
    assert opened[:GATE_SAMPLES - 1] == [False] * (GATE_SAMPLES - 1) and True in opened
    assert gate.opened == 1


def test_paging_on_page_after_page_keeps_it_shut(clock):
    monitor = Monitor()
    assert not any(polls(StormGate(monitor, CounterSignal(0)), monitor, clock, 30, GATE_FAULTS, 0x1000))


def test_computing_without_faults_keeps_it_shut(clock):
    monitor = Monitor()
    assert not any(polls(StormGate(monitor, CounterSignal(0)), monitor, clock, 30, 0))


def test_a_gap_between_reads_starts_the_window_again(clock):
    monitor = Monitor()
    gate = StormGate(monitor, CounterSignal(0))
    assert not any(polls(gate, monitor, clock, GATE_SAMPLES - 1, GATE_FAULTS))
    clock[0] += 5.0                                  # progress came: the rule stopped asking
    assert not any(polls(gate, monitor, clock, GATE_SAMPLES - 1, GATE_FAULTS))


def test_a_monitor_that_stops_answering_keeps_it_shut(clock):
    monitor = Monitor()
    monitor.fail = True
    assert not any(polls(StormGate(monitor, CounterSignal(0)), monitor, clock, 10, GATE_FAULTS))


class Symbols:
    def __init__(self, names):
        self.names = names

    def find(self, name):
        return type("Symbol", (), {"address": 0x1000})() if name in self.names else None


def test_a_counter_of_every_fault_makes_the_gate_and_pintos_s_does_not():
    gate = StormGate.for_kernel(Monitor(), Symbols({"vmcheck_page_fault_count"}))
    assert isinstance(gate.signal, CounterSignal)
    # Pintos-KAIST's page_fault_cnt counts only faults the VM did not resolve;
    # without DWARF for struct intr_frame there is no frame signal either
    assert StormGate.for_kernel(Monitor(), Symbols({"page_fault_cnt"})) is None


# --- the frame signal (kernels without a counter of every fault) -------------

TSS, RSP0, FRAME_SIZE, VEC = 0x11c000, 0xffff800000140000, 0xc0, 0x78   # vec_no, then
RIP, CS, RSP = VEC + 16, VEC + 24, VEC + 40               # error_code, rip, cs, rflags, rsp
TOP = RSP0 - FRAME_SIZE                                   # the user-entry frame's start


class FrameMonitor:
    """HMP over a guest whose running thread's newest user-entry frame is
    (vec, rip, cs): `info registers` with CR2, CR3, TR and, when `rsp` is
    set, RSP; `x` of the TSS's rsp0, of the frame's words from vec_no, and
    of the live kernel stack from RSP (`stack`: address -> word, 0
    elsewhere)."""

    def __init__(self, vec=14, rip=0x401502, cs=0x23, cr2=0x4747ffa8):
        self.vec, self.rip, self.cs, self.cr2, self.cr3 = vec, rip, cs, cr2, 0x1234000
        self.rsp, self.stack, self.commands = None, {}, []

    def __call__(self, command):
        self.commands.append(command)
        if command == "info registers":
            rsp = "" if self.rsp is None else f" RSP={self.rsp:016x}"
            return (f"RAX=0 RBX=0{rsp}\r\nTR =0040 {TSS:016x} 00000067 00008b00 DPL=0 "
                    f"TSS64-busy\r\nCR0=80010033 CR2={self.cr2:016x} CR3={self.cr3:016x}\r\n")
        if command == f"x /1gx {TSS + 4:#x}":
            return f"{TSS + 4:016x}: 0x{RSP0:016x}\r\n"
        if command == f"x /4gx {RSP0 - FRAME_SIZE + VEC:#x}":
            at = RSP0 - FRAME_SIZE + VEC
            return (f"{at:016x}: 0x{self.vec:016x} 0x{4:016x}\r\n"
                    f"{at + 16:016x}: 0x{self.rip:016x} 0x{self.cs:016x}\r\n")
        count, address = command.split()[1:]
        assert self.rsp is not None and int(address, 16) == self.rsp, command
        words = [self.stack.get(int(address, 16) + 8 * i, 0) for i in range(int(count[1:-2]))]
        return "".join(f"{int(address, 16) + 16 * i:016x}: "
                       + " ".join(f"0x{w:016x}" for w in words[2 * i:2 * i + 2]) + "\r\n"
                       for i in range((len(words) + 1) // 2))

    def kernel_fault_frame(self, at, rip=0xffffffff80104a2e, cs=0x8, saved_rsp=None):
        """A kernel-mode page-fault frame at AT on the live stack."""
        self.stack.update({at + VEC: 14, at + RIP: rip, at + CS: cs,
                           at + RSP: at + FRAME_SIZE + 8 if saved_rsp is None else saved_rsp})


def frame_gate(monitor):
    return StormGate(monitor, FrameSignal(FRAME_SIZE, VEC, RIP, CS, RSP))


def frame_polls(gate, monitor, clock, n, change=lambda monitor, i: None):
    opened = []
    for i in range(n):
        clock[0] += 0.1
        change(monitor, i)
        opened.append(gate())
    return opened


def test_a_user_fault_on_the_same_page_at_the_same_rip_read_after_read_opens_it(clock):
    monitor = FrameMonitor()
    gate = frame_gate(monitor)
    opened = frame_polls(gate, monitor, clock, GATE_SAMPLES)
    assert opened == [False] * (GATE_SAMPLES - 1) + [True] and gate.opened == 1
    assert FrameSignal(FRAME_SIZE, VEC, RIP, CS, RSP).read(monitor, monitor("info registers")) == \
        (14, True, 0x401502, 0x4747f000, 0x1234000, None)


def test_a_thread_computing_in_user_mode_keeps_it_shut(clock):
    monitor = FrameMonitor(vec=0x20)                    # entered by the timer
    assert not any(frame_polls(frame_gate(monitor), monitor, clock, 30))


def test_a_kernel_mode_fault_frame_keeps_it_shut(clock):
    monitor = FrameMonitor(cs=0x8)
    assert not any(frame_polls(frame_gate(monitor), monitor, clock, 30))


def test_paging_page_after_page_or_another_rip_keeps_it_shut(clock):
    def next_page(monitor, i):
        monitor.cr2 += 0x1000

    def next_rip(monitor, i):
        monitor.rip += 2 * (i % 2)

    for change in (next_page, next_rip):
        monitor = FrameMonitor()
        assert not any(frame_polls(frame_gate(monitor), monitor, clock, 30, change))


def test_one_different_read_in_the_window_keeps_it_shut_for_that_window(clock):
    def timer_once(monitor, i):
        monitor.vec = 0x20 if i == 2 else 14

    monitor = FrameMonitor()
    opened = frame_polls(frame_gate(monitor), monitor, clock, 20, timer_once)
    # reads 0.1 s apart: it opens once the different read left the 1 s window
    assert True in opened and opened.index(True) >= 2 + int(GATE_S / 0.1)


def in_a_system_call(monitor):
    """MONITOR's thread inside a system call (its user-entry frame is the
    call's: vec_no is what the last entry left there), its live kernel
    stack from RSP 0x300 below that frame."""
    monitor.vec, monitor.rsp = 0x20, TOP - 0x300
    return monitor


def test_a_kernel_mode_fault_at_the_same_place_read_after_read_opens_it(clock):
    monitor = in_a_system_call(FrameMonitor())
    monitor.kernel_fault_frame(TOP - 0x200)
    gate = frame_gate(monitor)
    assert frame_polls(gate, monitor, clock, GATE_SAMPLES) == [False] * (GATE_SAMPLES - 1) + [True]
    read = gate.signal.read(monitor, monitor("info registers"))
    assert read[1:] == (True, 0x401502, 0x4747f000, 0x1234000,
                        (0xffffffff80104a2e, TOP - 0x200))
    assert f"x /{0x300 // 8}gx {TOP - 0x300:#x}" in monitor.commands


def test_reads_outside_the_handler_do_not_keep_a_kernel_storm_s_gate_shut(clock):
    def at_the_faulting_instruction_each_third_read(monitor, i):
        monitor.rsp = TOP - 0x80 if i % 3 == 2 else TOP - 0x300    # above the fault frame

    monitor = in_a_system_call(FrameMonitor())
    monitor.kernel_fault_frame(TOP - 0x200)
    opened = frame_polls(frame_gate(monitor), monitor, clock, 30,
                         at_the_faulting_instruction_each_third_read)
    assert True in opened


def test_two_kernel_fault_frames_in_the_window_keep_it_shut(clock):
    def another_fault_each_third_read(monitor, i):
        monitor.stack.clear()
        monitor.kernel_fault_frame(TOP - 0x200, rip=0xffffffff80104a2e + (i % 3 == 2))

    monitor = in_a_system_call(FrameMonitor())
    assert not any(frame_polls(frame_gate(monitor), monitor, clock, 30,
                               another_fault_each_third_read))


def test_the_innermost_kernel_fault_frame_is_the_one_read():
    monitor = in_a_system_call(FrameMonitor())
    monitor.kernel_fault_frame(TOP - 0x100 - FRAME_SIZE, rip=0xffffffff80100001,
                               saved_rsp=TOP - 0x80)
    monitor.kernel_fault_frame(TOP - 0x2a0, rip=0xffffffff80100002)
    read = frame_gate(monitor).signal.read(monitor, monitor("info registers"))
    assert read[-1] == (0xffffffff80100002, TOP - 0x2a0)


def test_kernel_stack_that_is_no_fault_frame_keeps_it_shut(clock):
    def stale(monitor):                    # left below RSP by a fault handled earlier
        monitor.kernel_fault_frame(TOP - 0x400)

    def user_cs(monitor):
        monitor.kernel_fault_frame(TOP - 0x200, cs=0x2b)

    def saved_rsp_elsewhere(monitor):
        monitor.kernel_fault_frame(TOP - 0x200, saved_rsp=RSP0 + 0x1000)

    def not_a_kernel_stack(monitor):       # RSP in user memory: the CPU in user mode
        monitor.kernel_fault_frame(TOP - 0x200)
        monitor.rsp = 0x4747ffa0

    for case in (stale, user_cs, saved_rsp_elsewhere, not_a_kernel_stack):
        monitor = in_a_system_call(FrameMonitor())
        case(monitor)
        assert not any(frame_polls(frame_gate(monitor), monitor, clock, 30)), case.__name__


def test_a_kernel_fault_on_page_after_page_keeps_it_shut(clock):
    def next_page(monitor, i):
        monitor.cr2 += 0x1000

    monitor = in_a_system_call(FrameMonitor())
    monitor.kernel_fault_frame(TOP - 0x200)
    assert not any(frame_polls(frame_gate(monitor), monitor, clock, 30, next_page))


def test_the_frame_signal_needs_intr_frame_s_members_from_dwarf():
    class Frame:
        def offset_of(self, member):
            return {"vec_no": VEC, "rip": RIP, "cs": CS, "rsp": RSP}[member]

        def resolved(self):
            return type("Resolved", (), {"size": FRAME_SIZE})()

    class Types:
        def get(self, name):
            assert name == "struct intr_frame"
            return Frame()

    symbols = Symbols(set())
    symbols.types = Types()
    gate = StormGate.for_kernel(FrameMonitor(), symbols)
    assert isinstance(gate.signal, FrameSignal) and gate.signal.words == 4
    assert gate.signal.rsp == RSP


def test_the_rule_arms_only_once_the_gate_opens():
    answers = [False, False, True]
    rule = FaultStormRule(0x1000, 1.0, lambda: "quiet", lambda dbg, streak: None,
                          gate=lambda: answers.pop(0))
    assert [rule.wants_stop(now, 0.0) for now in (10.0, 10.1, 10.2)] == [False, False, True]
    ungated = FaultStormRule(0x1000, 1.0, lambda: "quiet", lambda dbg, streak: None)
    assert ungated.wants_stop(10.0, 0.0)
