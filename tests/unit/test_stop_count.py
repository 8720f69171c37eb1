"""Stops taken vs needed (harness/run/stop_count.py, harness/bench/stops.py)."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from harness.bench.stops import stops_table, surplus
from harness.run.stop_count import count_stops
from results.model import ScenarioResult, Verdict


def session_and_debugger(stops: dict, records=2, fired=1, faults=0, panic=False):
    bps = [SimpleNamespace(address=a, label=label) for a, label in
           ((0x401000, "0x401000"), (0x9000, "gcov_hook"), (0x7000, "frame_alloc"))]
    dbg = SimpleNamespace(stops=Counter(stops), breakpoints=lambda: bps,
                          resolve=lambda symbol: {"kmain": 0x1000}[symbol])
    session = SimpleNamespace(
        adapter=SimpleNamespace(long_mode_symbol="kmain"),
        injector=SimpleNamespace(addresses={0x7000}, fired=lambda: fired),
        faults=SimpleNamespace(sites={0x5000: None}, records=[None] * faults, beyond=0,
                               panic_stack=["frame"] if panic else []),
        fail_owners={0x401100: []}, checkpoint_owners={0x401000: []},
        records=[None] * records, failure_threads=[])
    return session, dbg


def test_stops_are_named_by_what_was_armed_there_and_judged_needed():
    session, dbg = session_and_debugger({0x1000: 1, 0x401000: 3, 0x7000: 40, 0x9000: 2,
                                         0x5000: 1, "look": 4, 0xdead: 1}, faults=0, panic=True)
    taken, needed = count_stops(session, dbg)
    assert taken == {"attach": 1, "checkpoint": 3, "injection": 40, "other:gcov_hook": 2,
                     "fault_site": 1, "look": 4, "other:0xdead": 1}
    assert needed == {"attach": 1, "checkpoint": 2, "injection": 1, "other:gcov_hook": 2,
                      "fault_site": 1, "look": 4, "other:0xdead": 1}


def test_a_fault_stop_that_recorded_nothing_is_not_needed():
    session, dbg = session_and_debugger({0x5000: 2}, faults=1)
    assert count_stops(session, dbg) == ({"fault_site": 2}, {"fault_site": 1})


def test_the_table_lists_the_surplus_and_the_totals():
    a = ScenarioResult("lazy", "lazy", Verdict.PASS, 1.0, stops_taken={"checkpoint": 5,
                       "attach": 1}, stops_needed={"checkpoint": 4, "attach": 1})
    b = ScenarioResult("clean", "lazy", Verdict.PASS, 1.0, stops_taken={"attach": 1},
                       stops_needed={"attach": 1})
    assert surplus(a.stops_taken, a.stops_needed) == {"checkpoint": 1}
    lines = stops_table([a, b])
    assert len(lines) == 3 and lines[1].split()[:3] == ["lazy", "6", "5"]
    assert "checkpoint 1" in lines[1] and lines[2].split()[-2:] == ["checkpoint", "1"]
    assert len(stops_table([a, b], show_all=True)) == 4


def test_the_fault_storm_rules_samples_are_named():
    session, dbg = session_and_debugger({0x6000: 7})
    session.watch = SimpleNamespace(storm=SimpleNamespace(address=0x6000, armings=0))
    assert count_stops(session, dbg) == ({"fault_storm": 7}, {"fault_storm": 7})


def test_the_looks_that_armed_the_fault_storm_rule_are_counted_apart():
    session, dbg = session_and_debugger({0x6000: 7, "look": 5})
    session.watch = SimpleNamespace(storm=SimpleNamespace(address=0x6000, armings=2))
    taken, _ = count_stops(session, dbg)
    assert taken == {"fault_storm": 7, "look": 3, "fault_storm_arm": 2}
    session, dbg = session_and_debugger({"look": 2})
    session.watch = SimpleNamespace(storm=SimpleNamespace(address=0x6000, armings=2))
    assert count_stops(session, dbg)[0] == {"fault_storm_arm": 2}
