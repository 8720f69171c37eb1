"""The race to find (issue: fault injection; docs/mutants.md).

The evict-filling mutant puts a frame into the frame table, unpinned,
before it is filled. Systematic exploration (preempt the thread at the
n-th VM race window, n = 1, 2, ...) on the fill-race scenario must find
a failing n within a bounded number of runs and write a schedule file;
replaying that file on the mutant must fail the same way, with the same
console, every time; replaying it on the correct kernel is refused (the
schedule names the mutant's build), and the same injections run on the
correct kernel pass.
(`./vmcheck replay FILE --kernel reference:build/mutants/evict-filling
--times 20` is the manual 20/20 check; here a few replays keep the test
within budget.)"""

import dataclasses

import pytest

from harness import config
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.explore import explore, replay
from harness.course.mutants import build_mutant, load_catalogue
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.machine.qemu import MachineOptions
from harness.run.schedule import ScheduleMismatch, load_schedule
from harness.run.suite import load_all
from tests.conftest import hang_guard_timeouts

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MAX_RUNS = 80        # the bound: explore found the race at n = 38 when this was written
REPLAYS = 5


@pytest.mark.timeout(600)   # 446 s once at load 15 on 2 cores
def test_explore_finds_the_fill_race_and_replay_reproduces_it(built, tmp_path, run_root):
    mutant = {m.name: m for m in load_catalogue()}["evict-filling"]
    kernel = tmp_path / "evict-filling"
    build_mutant(mutant, kernel)
    racy = ReferenceAdapter(kernel_dir=kernel)
    sc = {s.name: s for s in load_all(config.build_dir() / "programs", DATA_DIR)}["fill-race"]
    opts = RunnerOptions(machine=MachineOptions(run_root=run_root, timeouts=hang_guard_timeouts()))

    runs = explore(racy, sc, "yield", "preempt", opts, tmp_path / "schedules",
                   max_n=MAX_RUNS, jobs=2, progress=lambda line: None, stop_on_failure=True)
    failing = [r for r in runs if not r.result.verdict.passed]
    assert failing, f"no failure in {len(runs)} runs with a preemption at yield #1..#{len(runs)}"
    first = failing[0]
    assert first.result.schedule_file, "the failing run wrote no schedule file"
    assert "FAIL" in first.result.reason or first.result.verdict.value == "FAIL", first.result.reason
    schedule = load_schedule(first.result.schedule_file)
    assert schedule["injections"][0].nth == first.n

    again = replay(racy, sc, schedule, opts, times=REPLAYS, progress=lambda line: None)
    verdicts = [(r.result.verdict.value, r.same_verdict, r.parts_from_recorded) for r in again]
    assert all(v and parts is None for _, v, parts in verdicts), (
        f"replays of {first.result.schedule_file} on the mutant did not reproduce "
        f"{schedule['verdict']} as the same run: {verdicts}")

    with pytest.raises(ScheduleMismatch, match="another kernel build"):
        replay(ReferenceAdapter(), sc, schedule, opts, times=1, progress=lambda line: None)
    injected = dataclasses.replace(opts, inject=tuple(schedule["injections"]))
    correct = [run_scenario(ReferenceAdapter(), sc, injected) for _ in range(2)]
    assert all(r.verdict.passed for r in correct), (
        f"the correct kernel failed the race's injections: {[r.reason for r in correct]}")
