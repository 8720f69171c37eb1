"""A run is a pure function of (kernel, scenario, schedule): under
-icount shift=0,sleep=off, the same scenario and injections give the same
console output byte for byte, the same checkpoint snapshots (A/D bits and
physical frames included), the same injection hits, and the same number of
instructions between checkpoints, run after run.

Absolute instruction counts are not compared: they include the polls of
disk waits, whose length is the host's (QEMU completes requests on a host
thread). The reference kernel freezes its timer during those waits, so
they cannot change where preemption lands (arch/x86_64/timer.c)."""

import textwrap

import pytest

from harness.adapters import get_adapter
from harness.run.injection import Injection
from harness.run.runner import RunnerOptions, run_scenario
from harness.machine.qemu import MachineOptions
from harness.run.scenario import load_file

pytestmark = pytest.mark.integration
RUNS = 20


def fingerprint(res):
    counts = [c.icount for c in res.checkpoints]
    return (res.verdict.value, res.console,
            [(c.id, c.hit, c.process, c.pages, c.spt, c.pools) for c in res.checkpoints],
            [b - a for a, b in zip(counts, counts[1:])],
            [(r.point, r.hit, r.thread) for r in res.injections])


@pytest.mark.timeout(600)
@pytest.mark.parametrize("inject", [None, Injection("frame_alloc", "preempt", nth=2)],
                         ids=["plain", "preempt-at-frame_alloc"])
def test_twenty_runs_are_identical(built, tmp_path, run_root, inject):
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent("""\
        area = "core"
        [[scenario]]
        name = "det"
        program = "forktree"
        extra_programs = ["child-exit", "checkpoints"]
        [[scenario]]
        name = "det-cp"
        program = "checkpoints"
        [[scenario.checkpoint]]
        id = 2
        hit = "every"
        """))
    scenarios = load_file(path)
    opts = RunnerOptions(machine=MachineOptions(run_root=run_root), inject=(inject,) if inject else ())
    adapter = get_adapter("reference")
    for sc in scenarios:
        first = fingerprint(run_scenario(adapter, sc, opts))
        assert first[0] == "PASS", first
        if sc.checkpoints:
            assert [c[0] for c in first[2]] == [1, 2, 2, 2, 3]
        for i in range(1, RUNS if sc.name == "det-cp" else 5):
            again = fingerprint(run_scenario(adapter, sc, opts))
            assert again == first, f"run {i + 1} of {sc.name} differs from run 1"
