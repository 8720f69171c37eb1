"""`vmcheck mutants --generate` without a machine: which scenarios run a
mutant (those that execute its line, fastest first; a stale cache is not
used), equivalents from the catalogue, and the summary's counts."""

import dataclasses
import json

from harness.course.line_coverage import LineCoverage, ScenarioLines, scenario_hash
from harness.course.mutant_gen import (GeneratedResult, Equivalent, evaluate, load_equivalents,
                                       summary, survivors_diff)
from harness.course.mutant_ops import Mutation
from harness.run.suite import load_all

M = Mutation("vm/stack.c", 48, "relational", "  if (page != NULL)", "  if (page == NULL)")


def suite(*names):
    scs = {sc.name: sc for sc in load_all(None, None)}
    return [scs[n] for n in names]


def coverage(tmp_path, **runs):
    cov = LineCoverage(tmp_path / "lines.json", "k1", ["vm/stack.c"])
    for sc in suite(*runs):
        seconds, lines = runs[sc.name]
        cov.record(sc.name, ScenarioLines(seconds, True, 1.0, {"vm/stack.c": lines},
                                          scenario_hash(sc)))
    return cov


def test_runners_are_those_that_execute_the_line_fastest_first(tmp_path):
    cov = coverage(tmp_path, **{"stk-slack": (3.0, [20, 48]), "pt-grow-bad": (0.5, [20]),
                                "stk-limit-at": (0.7, [48])})
    scs = suite("stk-slack", "pt-grow-bad", "stk-limit-at")
    assert [sc.name for sc in cov.runners_of("vm/stack.c", 48, scs)] == ["stk-limit-at",
                                                                         "stk-slack"]
    assert cov.runners_of("vm/stack.c", 99, scs) == []


def test_the_cache_is_reused_only_for_the_same_kernel_files_and_scenario(tmp_path):
    coverage(tmp_path, **{"stk-slack": (3.0, [48])})
    again = LineCoverage(tmp_path / "lines.json", "k1", ["vm/stack.c"])
    [sc] = suite("stk-slack")
    assert again.missing([sc]) == []
    assert again.missing([dataclasses.replace(sc, timeout=sc.timeout + 1)]) != []
    assert LineCoverage(tmp_path / "lines.json", "k2", ["vm/stack.c"]).missing([sc]) == [sc]
    assert json.loads((tmp_path / "lines.json").read_text())["kernel"] == "k1"


def test_an_unexecuted_or_catalogued_mutant_is_not_built(tmp_path):
    class NoBuilds:
        def build(self, m):
            raise AssertionError("built")
    cov = coverage(tmp_path, **{"stk-slack": (3.0, [20])})
    scs = suite("stk-slack")
    assert evaluate(M, NoBuilds(), cov, scs, None).state == "not executed"
    cov = coverage(tmp_path, **{"stk-slack": (3.0, [48])})
    known = Equivalent("vm/stack.c", "if (page != NULL)", "only guards a statistic")
    result = evaluate(M, NoBuilds(), cov, scs, None, [known])
    assert result.state == "equivalent" and "only guards a statistic" in result.note


def test_equivalents_match_by_text_and_the_catalogue_loads(tmp_path):
    assert Equivalent("vm/stack.c", "if (page != NULL)", "r", "if (page == NULL)").covers(M)
    assert not Equivalent("vm/stack.c", "if (page != NULL)", "r", "if (page)").covers(M)
    assert not Equivalent("vm/page.c", "if (page != NULL)", "r").covers(M)
    assert all(e.reason for e in load_equivalents())
    bad = tmp_path / "eq.toml"
    bad.write_text('[[equivalent]]\nfile = "vm/x.c"\n')
    try:
        load_equivalents(bad)
    except Exception as e:   # UsageError, one line
        assert "eq.toml" in str(e)
    else:
        raise AssertionError("a bad entry was accepted")


def test_summary_counts_and_score_over_non_equivalent_mutants():
    results = [GeneratedResult(M, "killed", ("stk-slack", "FAIL", "x"), 1, 2),
               GeneratedResult(M, "killed", ("stk-slack", "KERNEL_PANIC", "x"), 1, 2),
               GeneratedResult(M, "survived", (), 2, 2),
               GeneratedResult(M, "equivalent"), GeneratedResult(M, "not executed"),
               GeneratedResult(M, "not compiled", note="error")]
    text = summary(results, 12.0)
    assert "generated 6; executed by a scenario 5; compiled 4 (not compiled 1); " \
        "equivalent 1 (1 same object code, 0 catalogued)" in text
    assert "killed 2 (1 only by a crash or hang); survived 1" in text
    assert "mutation score: 2/3 (66.7%)" in text
    assert survivors_diff(results).count("+  if (page == NULL)") == 1


def test_an_equivalent_naming_a_function_covers_that_function_only():
    """frame.c calls free_if_unused(f) in frame_unlink (where it never frees:
    equivalent) and in frame_unpin (where dropping it leaks): the catalogue
    entry names the function, and the mutations know theirs."""
    from harness.course.coverage import SOURCE_ROOT
    from harness.course.mutant_ops import mutations_in
    drops = [m for m in mutations_in(SOURCE_ROOT, ["vm/frame.c"], ["drop-call"])
             if m.before.strip() == "free_if_unused(f);"]
    assert sorted(m.function for m in drops) == ["frame_unlink", "frame_unpin"]
    known = [e for e in load_equivalents() if e.before == "free_if_unused(f);"]
    assert [[e.covers(m) for e in known] for m in drops if m.function == "frame_unlink"] == [[True]]
    assert not any(e.covers(m) for e in known for m in drops if m.function == "frame_unpin")


def test_generated_mutants_are_chosen_by_id_or_file_line():
    import pytest
    from harness.cli.generated_mutants import named
    from harness.errors import UsageError
    other = Mutation("vm/stack.c", 480, "relational", "  if (a < b)", "  if (a <= b)")
    assert named(["vm-stack-48"], [M, other]) == [M]
    assert named([other.ident, "vm-stack-48"], [other, M]) == [other, M]
    with pytest.raises(UsageError, match="no generated mutant vm-stack-4 "):
        named(["vm-stack-4"], [M, other])


def test_a_rebuilt_program_makes_its_scenarios_cached_lines_stale(tmp_path):
    sc = suite("pt-grow-stack")[0]
    programs = tmp_path / "programs"
    programs.mkdir()
    image = programs / sc.program
    image.write_bytes(b"\x7fELF first build")
    before = scenario_hash(sc, programs)
    assert scenario_hash(sc, programs) == before                 # the same build, the same hash
    image.write_bytes(b"\x7fELF second build, other code")
    assert scenario_hash(sc, programs) != before
    cov = LineCoverage(tmp_path / "lines.json", "k1", ["vm/stack.c"])
    cov.record(sc.name, ScenarioLines(1.0, True, 1.0, {"vm/stack.c": [1]},
                                      scenario_hash(sc)))        # the built programs' hash
    assert cov.missing([sc]) == []


def test_a_mutant_s_guest_time_bound_leaves_the_wall_rules_the_scenario_s_timeout():
    """A mutant's run is bounded in guest time (GUEST_FACTOR x what the
    correct kernel needed, at least MIN_GUEST_S) but its wall rules keep
    the scenario's own timeout: dl-evict (a stop at every page fault)
    crawled on a loaded host and ended as a false "no progress" HANG after
    10 s of wall time on mutants that pass it."""
    from harness.course.mutant_gen import GUEST_FACTOR, MIN_GUEST_S, _bounded
    sc, = suite("dl-evict")
    bounded = _bounded(sc, ScenarioLines(1.0, True, 0.1, {}, scenario_hash(sc)))
    assert bounded.timeout == max(MIN_GUEST_S, GUEST_FACTOR * 0.1) < sc.timeout
    assert bounded.wall_timeout == sc.timeout
    assert _bounded(sc, None) is sc


def test_each_mutant_run_builds_in_a_folder_of_its_own(tmp_path, monkeypatch):
    """Two runs in one checkout shared build/mutants-gen: the second's
    prepare() deleted the first's base objects under it, and the first run
    died with FileNotFoundError, results unwritten. Now each process has
    its own folder, removed at the end; one left by a dead process goes."""
    import os
    from harness import config
    monkeypatch.setenv("VMCHECK_BUILD_DIR", str(tmp_path))
    dead = tmp_path / "mutants-gen-runs" / "run-999999999"
    dead.mkdir(parents=True)
    alive = tmp_path / "mutants-gen-runs" / f"run-{os.getppid()}"
    alive.mkdir()
    with config.private_build_dir("mutants-gen-runs") as work:
        assert work == tmp_path / "mutants-gen-runs" / f"run-{os.getpid()}"
        assert work.is_dir() and not dead.exists() and alive.exists()
        (work / "base").mkdir()
    assert not work.exists() and alive.exists()


def test_a_harness_error_on_one_mutant_costs_that_mutant_not_the_run(monkeypatch, capsys):
    from harness.course import mutant_gen
    ms = [Mutation("vm/page.c", n, "drop-call", "  f();", "") for n in (1, 2, 3)]

    def evaluate(mutation, *args):
        if mutation.line == 2:
            raise FileNotFoundError("base/obj/vm/swap.o")
        return GeneratedResult(mutation, "killed", ("a", "FAIL", "x"), 1, 1)
    monkeypatch.setattr(mutant_gen, "evaluate", evaluate)
    rows = []
    results = mutant_gen.evaluate_all(ms, None, None, [], None, 2, rows.append)
    assert [r.state for r in results] == ["killed", "not run", "killed"]
    assert "harness error: FileNotFoundError" in results[1].note
    assert "FileNotFoundError" in capsys.readouterr().err
