"""Injection specs and the Injector's decisions, on a fake debugger: each
kind fires at the intended matching call and nowhere else."""

from types import SimpleNamespace

import pytest

from harness.errors import UsageError
from harness.run.injection import Injection, Injector, parse_cli
from harness.run.scenario import ScenarioError, load_file


class FakeAdapter:
    name = "fake"

    def __init__(self):
        self.requests = []

    def injection_symbol(self, point):
        return f"hook_{point}"

    def request(self, dbg, field, value):
        self.requests.append((field, value))


class FakeInspector:
    def __init__(self):
        self.thread = "main"

    def current_thread_name(self):
        return self.thread


class FakeDebugger:
    """Records breakpoints and forced returns; `call` simulates one call."""

    def __init__(self):
        self.callbacks = {}
        self.forced = []
        self.rdi = self.rsi = 0

    def add_breakpoint(self, where, callback=None, hardware=False):
        self.callbacks[where] = callback
        return SimpleNamespace(address=len(self.callbacks), label=where)   # a Breakpoint's

    def register(self, name):
        return {"rdi": self.rdi, "rsi": self.rsi}[name]

    def force_return(self, value):
        self.forced.append(value)

    def call(self, symbol, arg=0):
        self.rdi = arg
        assert self.callbacks[symbol](self, None) is False  # never stops the run


def armed(*injections):
    adapter, dbg, insp = FakeAdapter(), FakeDebugger(), FakeInspector()
    injector = Injector(adapter, injections, icount=lambda: 1234)
    injector.arm(dbg, insp)
    return injector, adapter, dbg, insp


def test_fail_fires_on_the_nth_call_only():
    injector, _, dbg, _ = armed(Injection("frame_alloc", "fail", nth=3))
    forced = []
    for _ in range(6):
        before = len(dbg.forced)
        dbg.call("hook_frame_alloc")
        forced.append(len(dbg.forced) > before)
    assert forced == [False, False, True, False, False, False]
    [rec] = injector.records
    assert (rec.point, rec.hit, rec.kind, rec.thread, rec.icount) == ("frame_alloc", 3, "fail", "main", 1234)


def test_from_mode_fires_on_every_call_from_nth():
    injector, _, dbg, _ = armed(Injection("swap_out", "io_error", nth=2, mode="from"))
    for _ in range(4):
        dbg.call("hook_swap_out")
    assert dbg.forced == [1, 1, 1] and [r.hit for r in injector.records] == [2, 3, 4]


def test_probability_is_seeded_and_repeatable():
    runs = []
    for _ in range(2):
        injector, _, dbg, _ = armed(Injection("swap_in", "fail", mode="probability",
                                              probability=0.3, seed=7))
        for _ in range(50):
            dbg.call("hook_swap_in")
        runs.append([r.hit for r in injector.records])
    assert runs[0] == runs[1] and 5 <= len(runs[0]) <= 25


def test_thread_and_arg_filters_count_only_matching_calls():
    injector, _, dbg, insp = armed(Injection("frame_alloc", "fail", nth=2, thread="child"),
                                   Injection("swap_in", "fail", nth=1, arg=7))
    insp.thread = "main"
    dbg.call("hook_frame_alloc")
    insp.thread = "child"
    dbg.call("hook_frame_alloc")       # child's 1st
    insp.thread = "main"
    dbg.call("hook_frame_alloc")
    insp.thread = "child"
    dbg.call("hook_frame_alloc")       # child's 2nd: fires
    dbg.call("hook_swap_in", arg=3)
    dbg.call("hook_swap_in", arg=7)    # fires
    assert [(r.point, r.hit, r.thread) for r in injector.records] == [
        ("frame_alloc", 4, "child"), ("swap_in", 2, "child")]


def test_arg_is_matched_in_the_register_the_site_names():
    """A Pintos-KAIST page_alloc is vm_alloc_page_with_initializer (type,
    upage, ...): its arg is the page, in rsi, not the type in rdi."""
    from harness.adapters.base import InjectionSite

    class SecondArgAdapter(FakeAdapter):
        def injection_site(self, point):
            return InjectionSite(f"hook_{point}", failure_value=0, arg_register="rsi")

    adapter, dbg, insp = SecondArgAdapter(), FakeDebugger(), FakeInspector()
    injector = Injector(adapter, [Injection("page_alloc", "fail", arg=0x10002000)],
                        icount=lambda: 1)
    injector.arm(dbg, insp)
    for upage in (0x10000000, 0x10001000, 0x10002000):
        dbg.rsi, dbg.rdi = upage, 3          # rdi: VM_FILE, never the page
        dbg.call = dbg.callbacks["hook_page_alloc"]
        dbg.call(dbg, None)
    assert [(r.point, r.hit) for r in injector.records] == [("page_alloc", 3)]
    assert dbg.forced == [0]


def test_preempt_and_delay_ask_the_kernel_instead_of_forcing_a_return():
    injector, adapter, dbg, _ = armed(Injection("frame_alloc", "preempt", nth=1),
                                      Injection("evict_choose", "delay", nth=2, ticks=9))
    dbg.call("hook_frame_alloc")
    dbg.call("hook_evict_choose")
    dbg.call("hook_evict_choose")
    assert dbg.forced == [] and adapter.requests == [("preempt", 1), ("delay_ticks", 9)]
    assert [r.kind for r in injector.records] == ["preempt", "delay"]


def test_steal_and_release_ask_for_frames_out_of_the_pool_and_back():
    injector, adapter, dbg, _ = armed(Injection("frame_alloc", "steal"),
                                      Injection("yield", "release", arg=6, nth=2, frames=3))
    dbg.call("hook_frame_alloc")
    dbg.call("hook_yield", arg=6)
    dbg.call("hook_yield", arg=5)      # another yield point: not counted
    dbg.call("hook_yield", arg=6)      # the 2nd wait: fires
    assert dbg.forced == [] and adapter.requests == [("steal_frames", 4096),
                                                     ("release_frames", 3)]
    assert parse_cli("yield:release:arg=6,nth=100") == Injection("yield", "release", nth=100,
                                                                 arg=6)


def test_cli_spec_parsing():
    assert parse_cli("frame_alloc:fail:nth=3,thread=child-sort") == Injection(
        "frame_alloc", "fail", nth=3, thread="child-sort")
    assert parse_cli("swap_in:io_error:arg=0x10") == Injection("swap_in", "io_error", arg=16)
    assert parse_cli("yield") == Injection("yield")


@pytest.mark.parametrize("spec,message", [
    ("nowhere:fail", "point: must be one of"),
    ("frame_alloc:explode", "kind: must be one of"),
    ("frame_alloc:fail:nth=0", "nth: must be between 1"),
    ("frame_alloc:fail:nth", "expected key=value"),
    ("frame_alloc:io_error", "io_error applies to swap_out"),
    ("frame_alloc:fail:mode=probability", "needs a probability > 0"),
    ("frame_alloc:fail:colour=red", "unknown key 'colour'"),
])
def test_cli_spec_errors(spec, message):
    with pytest.raises(UsageError, match=message):
        parse_cli(spec)


def test_scenario_inject_key_is_validated(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('area = "injection"\n[[scenario]]\nname = "x"\nprogram = "p"\n'
                    'inject = [{ point = "frame_alloc", nth = 2 },\n'
                    '          { point = "swap_in", kind = "preempt", thread = "c" }]\n')
    [sc] = load_file(path)
    assert sc.inject == (Injection("frame_alloc", nth=2), Injection("swap_in", "preempt", thread="c"))
    path.write_text('area = "injection"\n[[scenario]]\nname = "x"\nprogram = "p"\n'
                    'inject = [{ point = "frame_alloc", nth = -1 }]\n')
    with pytest.raises(ScenarioError, match=r"s.toml:5: scenario 'x': inject\[0\].nth: must be between 1"):
        load_file(path)


def test_a_schedule_adds_only_the_injections_beyond_the_scenarios_own():
    """A schedule lists the scenario's own injections first; replaying it
    must not apply those twice (seen: evict-anon-werr's swap write failed
    twice, one more slot leaked, the console differed)."""
    import types
    from harness.run.schedule import added_injections
    own = Injection("swap_out", "io_error", 1)
    extra = Injection("yield", "preempt", 3)
    sc = types.SimpleNamespace(inject=[own])
    assert added_injections({"injections": [own, extra]}, sc) == (extra,)
    assert added_injections({"injections": [own]}, sc) == ()
    assert added_injections({"injections": [extra]}, sc) == (extra,)   # recorded without it
