"""`vmcheck mutants --generate` on a real kernel build: a mutant is built
incrementally (one object rebuilt), a change the compiler erases is found
equivalent by its object code, one that does not compile is said so, and
a built mutant is killed by the scenario that executes its line, while the
worker's sources and objects are the original's again afterwards."""

import pytest

from harness.course.line_coverage import LineCoverage, ScenarioLines, scenario_hash
from harness.course.mutant_gen import MutantBuilder, evaluate
from harness.course.mutant_ops import Mutation
from harness.machine.qemu import MachineOptions
from harness.run.runner import RunnerOptions
from harness.run.suite import load_all

pytestmark = pytest.mark.integration

LIMIT_LINE = "  if (addr >= USER_STACK || addr < USER_STACK - USER_STACK_LIMIT)"


def line_of(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    b = MutantBuilder(tmp_path_factory.mktemp("gen"), jobs=1)
    b.prepare()
    return b


def mutation(builder, after: str, operator="relational") -> Mutation:
    text = (builder.base_src / "vm/stack.c").read_text()
    return Mutation("vm/stack.c", line_of(text, LIMIT_LINE), operator, LIMIT_LINE, after)


def test_build_states_and_the_worker_is_restored(builder):
    state, out, note = builder.build(mutation(builder, LIMIT_LINE + " "))
    assert (state, out) == ("equivalent", None) and "same code" in note
    state, out, note = builder.build(mutation(builder, LIMIT_LINE[:-1]))
    assert state == "not compiled" and "error" in note
    state, out, _ = builder.build(mutation(builder, LIMIT_LINE.replace("addr <", "addr <=")))
    assert state == "built" and (out / "kernel32.elf").is_file()
    worker = builder.workers.get()
    builder.workers.put(worker)
    assert (worker / "src/vm/stack.c").read_text() == (builder.base_src / "vm/stack.c").read_text()
    assert (worker / "obj/vm/stack.o").read_bytes() == (builder.base_obj / "vm/stack.o").read_bytes()


def test_a_built_mutant_is_killed_by_the_scenario_that_runs_its_line(builder, tmp_path):
    scs = {sc.name: sc for sc in load_all(None, None)}
    runners = [scs["stk-limit-at"]]
    coverage = LineCoverage(tmp_path / "lines.json", "k", ["vm/stack.c"])
    m = mutation(builder, LIMIT_LINE.replace("addr <", "addr <="))
    coverage.record("stk-limit-at", ScenarioLines(1.0, True, 0.5, {"vm/stack.c": [m.line]},
                                                  scenario_hash(runners[0])))
    opts = RunnerOptions(machine=MachineOptions(run_root=tmp_path))
    result = evaluate(m, builder, coverage, runners, opts)
    assert result.state == "killed" and result.killed_by[0] == "stk-limit-at"
    assert result.named_cause and result.runs == 1


@pytest.mark.parametrize("before, after", [("  FT.used_cnt++;", "  FT.used_cnt--;"),
                                           ("  int waited = 0;", "  int waited = 1;")])
def test_the_no_victim_wait_kills_its_count_and_its_bound(builder, tmp_path, before, after):
    """frame-67 (the count of frames out of the table) and frame-328 (one
    wait fewer): novictim-wait gives the frames back at the 100th wait;
    both mutants give up before it, and the FAIL names the give-up."""
    scs = {sc.name: sc for sc in load_all(None, None)}
    runners = [scs["novictim-wait"]]
    text = (builder.base_src / "vm/frame.c").read_text()
    m = Mutation("vm/frame.c", line_of(text, before), "constant", before, after)
    coverage = LineCoverage(tmp_path / "lines.json", "k", ["vm/frame.c"])
    coverage.record("novictim-wait", ScenarioLines(1.0, True, 1.5, {"vm/frame.c": [m.line]},
                                                   scenario_hash(runners[0])))
    opts = RunnerOptions(machine=MachineOptions(run_root=tmp_path))
    result = evaluate(m, builder, coverage, runners, opts)
    assert result.state == "killed" and result.named_cause, result
    assert "vm: no frame to evict" in result.killed_by[2] and "expected 7" in result.killed_by[2]


def test_a_crash_only_kill_gets_a_variant_without_assertions(builder, tmp_path):
    """vm-page-208 (page_free's `if (!keep_lock)` negated: the VM lock is
    taken twice): the reference kernel's own assertion in lock_acquire
    panics, a crash-only kill; built with NO_ASSERT=1 the same scenario
    ends as a HANG whose reason is the wait cycle, a named cause."""
    from harness.course.no_assert import MAKE_FLAGS
    scs = {sc.name: sc for sc in load_all(None, None)}
    runners = [scs["mm-fork"]]
    before = "  if (!keep_lock) {"
    text = (builder.base_src / "vm/page.c").read_text()
    m = Mutation("vm/page.c", line_of(text, before), "negate-cond", before,
                 "  if (!(!keep_lock)) {")
    coverage = LineCoverage(tmp_path / "lines.json", "k", ["vm/page.c"])
    coverage.record("mm-fork", ScenarioLines(1.0, True, 0.5, {"vm/page.c": [m.line]},
                                             scenario_hash(runners[0])))
    opts = RunnerOptions(machine=MachineOptions(run_root=tmp_path))
    variants = MutantBuilder(tmp_path / "no-assert", 1, MAKE_FLAGS)   # prepared on first use
    result = evaluate(m, builder, coverage, runners, opts, variants=variants)
    assert result.state == "killed" and not result.named_cause, result
    assert "assertion `!lock_held_by_current_thread(l)' failed" in result.killed_by[2]
    assert result.no_assert.state == "killed", result.no_assert
    assert result.no_assert.killed_by[:2] == ("mm-fork", "HANG")
    assert result.no_assert.killed_by[2].startswith("deadlock: ")
    assert "held by tid" in result.no_assert.killed_by[2]
