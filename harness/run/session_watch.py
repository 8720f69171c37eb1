"""The hang watch of one checkpoint session (harness/run/checkpoints.py):
its rules for this run, its guest clock and progress marker, and, in a run
that must replay exactly, the idle stops where it looks for deadlocks and
the gate its fault-storm rule must pass."""

from __future__ import annotations

import dataclasses
from typing import Optional

from harness.debug.symbols import SymbolError
from harness.errors import HarnessError
from harness.machine.guest_clock import GuestClock
from harness.run.hang_watch import HangRules, HangWatch
from harness.run.idle_stops import IdleStops
from harness.run.storm_gate import StormGate
from harness.run.verdict import wrong_exit_before_hang


def session_watch(session, machine, rules: HangRules, symbols) -> HangWatch:
    """The hang watch of SESSION's run: the guest clock if the kernel has one
    (else the timeout is wall time), progress = console output, checkpoint
    stops and fail() calls, and whether a wrong exit has decided the verdict."""
    clock = GuestClock.for_kernel(machine.qmp, symbols, machine.guest_ram)
    if clock is None:
        rules = dataclasses.replace(rules, guest_clock=False)
    if session.injector is not None or session.exact_disk is not None:
        # a stop at a host-chosen moment would break replay (and under the exact
        # disk every request's stop lets the clock jump: the guest looks idle)
        rules = dataclasses.replace(rules, idle_looks=False)
    gate = None
    if not rules.idle_looks and session.replay_safe_looks:
        gate = StormGate.for_kernel(machine.qmp.human_monitor_command, symbols)
    return HangWatch(rules, clock, lambda: (machine.console.length, len(session.records),
                                            len(session.failure_threads)),
                     lambda: session.inspector, started=machine.start_time,
                     fault_entry=_fault_entry(session.adapter, symbols), faults=session.faults,
                     storm_gate=gate, decided=_decided(session, machine))


def _decided(session, machine):
    """Whether the run's verdict is decided: a process has already exited
    with a status no accepted ending has (verdict.wrong_exit_before_hang),
    read again only when the console has grown."""
    injections = session.injector.injections if session.injector is not None else ()
    seen = {"length": -1, "decided": False}

    def decided() -> bool:
        length = machine.console.length
        if length != seen["length"]:
            seen["length"] = length
            seen["decided"] = wrong_exit_before_hang(session.scenario, machine.console.text(),
                                                     injections, session.premises.unmet) \
                is not None
        return seen["decided"]
    return decided


def arm_idle_stops(session, dbg, symbols) -> Optional[IdleStops]:
    """A run that must replay exactly takes its deadlock looks where the
    guest switches its idle thread in (harness/run/idle_stops.py), under
    -icount only (its stretch is measured in instructions): the idle stops
    armed, or None."""
    watch = session.watch
    rules = watch.rules
    if rules.idle_looks or not rules.guest_clock or not session.replay_safe_looks:
        return None
    stops = IdleStops.for_kernel(watch, symbols, session.icount)
    if stops is not None:
        watch.idle_stops = stops
        stops.arm(dbg)
    return stops


def _fault_entry(adapter, symbols) -> Optional[int]:
    """The page-fault entry's address for the fault-storm rule, None if
    ADAPTER names none (or its symbol cannot be read)."""
    try:
        site = adapter.fault_entry(symbols)
    except (SymbolError, HarnessError, LookupError):
        return None
    return None if site is None else site.address
