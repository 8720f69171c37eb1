"""Stops taken vs stops needed in one scenario run.

Every stop of the guest costs a round trip through QEMU (stop, report,
resume; a breakpoint's also a single step over it). The debugger counts the
stops it handles (Debugger.stops: by breakpoint address, plus "look",
"detour" and "interrupt"); this module names them by what the checkpoint
session armed there and says how many served a check:

  kind        taken: stops at ...                 needed: those that ...
  attach      the kernel's long-mode symbol       all (the debugger attaches there;
              none for a machine restored there: a boot snapshot)
  checkpoint  a program's checkpoint()            made a checkpoint record
  fail        a program's fail()                  recorded where the threads were
  fault_site  the adapter's fault sites           recorded a fault (or the panic)
  injection   an injection point                  injected (the others count calls)
  look        the hang watch's looks              all (the guest-clock reads)
  boot_shortcut the adapter's boot shortcut        all (Pintos-KAIST: timer_calibrate, once)
  fault_storm_arm  the looks that armed the       all
              fault-storm rule (harness/run/fault_storm.py)
  fault_storm the fault-storm rule's samples      all
  watch       write watchpoints: the idle thread   all (each tracks the idle stretch;
              switched in, in runs that must       some look: harness/run/idle_stops.py)
              replay exactly
  detour      a call_first() coming back          all
  other:NAME  any other breakpoint (e.g. coverage hooks)   all
"""

from __future__ import annotations

from collections import Counter


def stop_kinds(session, dbg) -> dict:
    """Address -> kind of each breakpoint SESSION (a CheckpointSession)
    armed on DBG."""
    kinds = {bp.address: f"other:{bp.label}" for bp in dbg.breakpoints()}
    symbol = session.adapter.long_mode_symbol
    if symbol is not None:
        kinds[dbg.resolve(symbol)] = "attach"
    if session.injector is not None:
        kinds.update(dict.fromkeys(session.injector.addresses, "injection"))
    kinds.update(dict.fromkeys(session.faults.sites, "fault_site"))
    for shortcut in getattr(session, "boot_shortcuts", ()):
        if shortcut.entry is not None:
            kinds[shortcut.entry] = "boot_shortcut"
    storm = getattr(getattr(session, "watch", None), "storm", None)
    if storm is not None:
        kinds[storm.address] = "fault_storm"
    kinds.update(dict.fromkeys(session.fail_owners, "fail"))
    kinds.update(dict.fromkeys(session.checkpoint_owners, "checkpoint"))
    return kinds


def count_stops(session, dbg) -> tuple[dict, dict]:
    """(taken, needed): stops by kind, as the module docstring says."""
    kinds = stop_kinds(session, dbg)
    taken: Counter = Counter()
    for key, count in dbg.stops.items():
        taken[key if isinstance(key, str) else kinds.get(key, f"other:{key:#x}")] += count
    storm = getattr(getattr(session, "watch", None), "storm", None)
    if storm is not None and storm.armings:    # each arming is one of the looks
        taken["look"] -= storm.armings
        taken["fault_storm_arm"] = storm.armings
        taken = +taken                         # no "look": 0
    faults = session.faults
    served = {"checkpoint": len(session.records), "fail": len(session.failure_threads),
              "fault_site": len(faults.records) + faults.beyond + bool(faults.panic_stack),
              "injection": session.injector.fired() if session.injector else 0}
    needed = {kind: min(count, served.get(kind, count)) for kind, count in taken.items()}
    return dict(taken), needed
