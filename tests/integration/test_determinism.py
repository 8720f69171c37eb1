"""A run is a pure function of (kernel, scenario, schedule): under
-icount shift=0,sleep=off, the same scenario and injections give the same
console output byte for byte, the same checkpoint snapshots (A/D bits
included) and the same instruction counts, run after run."""

import textwrap

import pytest

from harness.adapters import get_adapter
from harness.injection import Injection
from harness.runner import RunnerOptions, run_scenario
from harness.scenario import load_file

pytestmark = pytest.mark.integration
RUNS = 20


def fingerprint(res):
    return (res.verdict.value, res.console,
            [(c.id, c.hit, c.icount, c.pages) for c in res.checkpoints],
            [(r.point, r.hit, r.thread, r.icount) for r in res.injections])


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
    opts = RunnerOptions(artifacts=run_root, inject=(inject,) if inject else ())
    adapter = get_adapter("reference")
    for sc in scenarios:
        first = fingerprint(run_scenario(adapter, sc, opts))
        assert first[0] == "PASS", first
        if sc.checkpoints:
            assert [c[0] for c in first[2]] == [1, 2, 2, 2, 3]
            assert all(icount for _, _, icount, _ in first[2])
        for i in range(1, RUNS if sc.name == "det-cp" else 5):
            again = fingerprint(run_scenario(adapter, sc, opts))
            assert again == first, f"run {i + 1} of {sc.name} differs from run 1"
