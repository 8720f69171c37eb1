"""The fault-storm rule's gate in runs that must replay exactly
(harness/run/storm_gate.py): what it reads without a stop and when it opens
(the real QEMU: a storm mutant, docs/mutants.md "Fault storms")."""

import pytest

from harness.errors import QMPError
from harness.run import storm_gate
from harness.run.fault_storm import FaultStormRule
from harness.run.storm_gate import GATE_FAULTS, GATE_SAMPLES, StormGate


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
    gate = StormGate(monitor, 0xffffffff80120000)
    opened = polls(gate, monitor, clock, GATE_SAMPLES + 2, GATE_FAULTS)
    assert opened[:GATE_SAMPLES - 1] == [False] * (GATE_SAMPLES - 1) and True in opened
    assert gate.opened == 1


def test_paging_on_page_after_page_keeps_it_shut(clock):
    monitor = Monitor()
    assert not any(polls(StormGate(monitor, 0), monitor, clock, 30, GATE_FAULTS, 0x1000))


def test_computing_without_faults_keeps_it_shut(clock):
    monitor = Monitor()
    assert not any(polls(StormGate(monitor, 0), monitor, clock, 30, 0))


def test_a_gap_between_reads_starts_the_window_again(clock):
    monitor = Monitor()
    gate = StormGate(monitor, 0)
    assert not any(polls(gate, monitor, clock, GATE_SAMPLES - 1, GATE_FAULTS))
    clock[0] += 5.0                                  # progress came: the rule stopped asking
    assert not any(polls(gate, monitor, clock, GATE_SAMPLES - 1, GATE_FAULTS))


def test_a_monitor_that_stops_answering_keeps_it_shut(clock):
    monitor = Monitor()
    monitor.fail = True
    assert not any(polls(StormGate(monitor, 0), monitor, clock, 10, GATE_FAULTS))


class Symbols:
    def __init__(self, names):
        self.names = names

    def find(self, name):
        return type("Symbol", (), {"address": 0x1000})() if name in self.names else None


def test_only_a_counter_of_every_fault_makes_a_gate():
    assert StormGate.for_kernel(Monitor(), Symbols({"vmcheck_page_fault_count"})) is not None
    # Pintos-KAIST's page_fault_cnt counts only faults the VM did not resolve
    assert StormGate.for_kernel(Monitor(), Symbols({"page_fault_cnt"})) is None


def test_the_rule_arms_only_once_the_gate_opens():
    answers = [False, False, True]
    rule = FaultStormRule(0x1000, 1.0, lambda: "quiet", lambda dbg, streak: None,
                          gate=lambda: answers.pop(0))
    assert [rule.wants_stop(now, 0.0) for now in (10.0, 10.1, 10.2)] == [False, False, True]
    ungated = FaultStormRule(0x1000, 1.0, lambda: "quiet", lambda dbg, streak: None)
    assert ungated.wants_stop(10.0, 0.0)
