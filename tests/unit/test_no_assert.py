"""The variant without assertions of a crash-only kill (issue 18, point 5;
harness/course/no_assert.py): when it is made, how its outcome is judged,
the order its scenarios run in, how the table, mutants.json, mutants.html
and the generated summary show it, and that compiling ASSERT out cannot
change a correct kernel (no condition has a side effect)."""

import json
import re

import pytest

from harness.course import no_assert
from harness.course.coverage import SOURCE_ROOT
from harness.course.mutant_gen import GeneratedResult, failed, format_row, summary, \
    survivors_diff
from harness.course.mutant_ops import Mutation
from harness.course.mutants import Mutant, MutantResult, save_results
from harness.course.mutants import failed as catalogue_failed
from harness.course.mutants import summary as catalogue_summary
from harness.course.no_assert import NoAssertResult, judge, needs_variant, run_variant
from reports.mutants_view import render_mutants

PANIC = ("badfd", "KERNEL_PANIC", "Kernel PANIC at vm/frame.c:358 in frame_alloc(): "
         "assertion `!vm_lock_held()' failed.")
FAIL = ("swap-kids", "FAIL", "exit status 1, expected 0")
DEADLOCK = ("dl-wait", "HANG", "deadlock: tid 3 dl-wait waits for the exit of tid 4")
M = Mutation("vm/page.c", 113, "drop-call", "  vm_unlock();", "")


def test_a_variant_is_made_only_for_a_kill_that_names_no_cause():
    assert needs_variant([PANIC])
    assert needs_variant([PANIC, ("x", "TRIPLE_FAULT", "")])
    assert not needs_variant([PANIC, FAIL])         # some scenario named the cause
    assert not needs_variant([DEADLOCK])            # a deadlock is named by its wait cycle
    assert not needs_variant([PANIC], expect_crash=True)   # the panic is the mistake
    assert not needs_variant([])                    # survived: nothing to check


def test_the_outcome_is_the_first_named_kill_else_a_crash_else_survival():
    assert judge([PANIC, FAIL], 5, True).killed_by == FAIL
    assert judge([PANIC, FAIL], 5, True).crashes == [PANIC]
    assert judge([DEADLOCK], 1, True).state == "killed"
    assert judge([PANIC], 9, True).state == "crash only"
    assert judge([], 9, True).state == "survived"
    assert judge([], 3, False).state == "not run"   # a stop signal: nothing learnt


class Batches:
    """A run_batch that fails the scenarios named in FAILS and records the
    batches it was given."""
    def __init__(self, fails: dict):
        self.fails, self.batches = fails, []

    def __call__(self, batch):
        self.batches.append([sc.name for sc in batch])
        return [(sc.name, *self.fails[sc.name]) for sc in batch if sc.name in self.fails], \
            len(batch), True


class Sc:
    def __init__(self, name):
        self.name = name


SCS = [Sc("a"), Sc("badfd"), Sc("c"), Sc("swap-kids")]


def test_the_killers_run_first_and_the_rest_only_when_they_name_no_cause():
    named_first = Batches({"badfd": FAIL[1:]})
    result = run_variant(named_first, *no_assert.ordered(["badfd"], SCS))
    assert named_first.batches == [["badfd"]] and result.state == "killed"
    crash_first = Batches({"badfd": PANIC[1:], "swap-kids": FAIL[1:]})
    result = run_variant(crash_first, *no_assert.ordered(["badfd"], SCS))
    assert crash_first.batches == [["badfd"], ["a", "c", "swap-kids"]]
    assert result.killed_by == ("swap-kids", *FAIL[1:]) and result.runs == 4
    passes = Batches({})
    assert run_variant(passes, *no_assert.ordered(["badfd"], SCS)).state == "survived"


SPIN = ("HANG", "no progress for 10 s of guest time (threads runnable)")


def test_the_search_stops_after_two_unnamed_hangs_and_says_what_it_left():
    """A livelock mutant hangs in every scenario, each hang costing the
    whole guest-time limit: the search ends after HANG_BUDGET of them."""
    spins = Batches({"badfd": SPIN, "a": SPIN, "c": SPIN, "swap-kids": FAIL[1:]})
    result = run_variant(spins, *no_assert.ordered(["badfd"], SCS))
    assert spins.batches == [["badfd"], ["a", "c", "swap-kids"]]   # the fake runs a batch whole
    assert result.state == "killed"        # a named cause in the batch still wins
    two = [("badfd", *SPIN), ("a", *SPIN)]
    assert no_assert.search_done(two) and not no_assert.search_done(two[:1])
    assert not no_assert.search_done([PANIC, PANIC, PANIC])      # panics are cheap: go on
    cut = judge(two, 2, True, planned=4)
    assert cut.state == "crash only"
    assert "stopped after 2 unnamed hangs, 2 scenario(s) not run" in cut.text()
    assert judge([("badfd", *SPIN)], 4, True, planned=4).note == ""   # ran them all


def test_the_generated_variant_stops_its_scenarios_at_the_hang_budget(monkeypatch, tmp_path):
    from harness.course import mutant_gen
    ran = []

    class Builder:
        def build(self, mutation):
            return "built", tmp_path / "k", ""

    def fake_run(kernel_dir, batch, coverage, opts, until=lambda kill: True):
        kills = []
        for n, sc in enumerate(batch, 1):
            ran.append(sc.name)
            kills.append((sc.name, *SPIN))
            if until(kills[-1]):
                return kills, n, True
        return kills, len(batch), True
    monkeypatch.setattr(mutant_gen, "run_on_mutant", fake_run)
    result = mutant_gen.without_assertions(M, Builder(), "badfd", SCS, None, None)
    assert ran == ["badfd", "a"] and result.state == "crash only" and result.runs == 2
    assert "2 scenario(s) not run" in result.note


def test_the_table_and_the_summary_say_what_the_suite_did_without_assertions():
    killed = GeneratedResult(M, "killed", PANIC, 1, 4,
                             no_assert=NoAssertResult("killed", FAIL, [PANIC], 3))
    row = format_row(killed)
    assert "killed (crash only)" in row
    assert "without the assertions: killed by swap-kids (FAIL: exit status 1, expected 0)" in row
    survived = GeneratedResult(M, "killed", PANIC, 1, 4,
                               no_assert=NoAssertResult("survived", runs=4))
    assert "survived without the assertions (4 scenarios passed)" in format_row(survived)
    text = summary([killed, survived], 1.0)
    assert "mutation score: 2/2" in text      # a crash-only kill still counts as killed
    assert f"without the assertions: 1/2 killed by a named cause; not: {M.ident} (survived)" \
        in text
    assert failed([killed, survived]) and not failed([killed])
    assert "survived 4 scenario(s) without the assertions" in survivors_diff([killed, survived])
    assert survivors_diff([killed]) == ""
    assert killed.to_dict()["no_assert"]["killed_by"] == list(FAIL)


def test_mutants_json_and_html_carry_the_variant(tmp_path):
    m = Mutant("drop-unlock", "core", "a lock left held")
    crash = MutantResult(m, [PANIC], 3.0, no_assert=NoAssertResult("crash only", (), [PANIC], 2))
    plain = MutantResult(Mutant("other", "core", "x"), [FAIL], 1.0)
    rows = save_results([crash, plain], tmp_path)
    saved = json.loads((tmp_path / "mutants.json").read_text())
    assert saved[0]["no_assert"]["state"] == "crash only" and saved[1]["no_assert"] is None
    assert "crash only again, badfd (KERNEL_PANIC" in saved[0]["no_assert"]["text"]
    page = render_mutants(rows, tmp_path).read_text()
    assert "without the assertions: crash only again, badfd" in page
    text = catalogue_summary([crash, plain])
    assert "without the assertions: 0/1 killed by a named cause; not: drop-unlock (crash only)" \
        in text
    assert not catalogue_failed([crash, plain])
    crash.no_assert = NoAssertResult("survived", runs=150)
    assert catalogue_failed([crash, plain])


ASSERT_CALL = re.compile(r"\bASSERT\s*\(")
PURE = {"intr_get_level", "intr_context", "is_user_vaddr", "is_kernel_vaddr", "pg_ofs",
        "lock_held_by_current_thread", "vm_lock_held", "list_empty", "bitmap_all",
        "current_spt"}   # current_spt: process_current()->memory.spt, a lookup


def assert_conditions():
    """(file:line, condition) of every ASSERT in the kernel's C sources."""
    for path in sorted(SOURCE_ROOT.rglob("*.c")):
        text = path.read_text()
        for m in ASSERT_CALL.finditer(text):
            depth, i = 0, m.end() - 1
            for i in range(m.end() - 1, len(text)):
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                if depth == 0:
                    break
            yield f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}", text[m.end():i]


@pytest.mark.parametrize("where, condition", list(assert_conditions()))
def test_no_assert_condition_has_a_side_effect(where, condition):
    """`make NO_ASSERT=1` never evaluates a condition: one that assigned,
    counted or called a function with an effect would change the kernel."""
    code = re.sub(r"[=!<>]=", " ", condition)
    assert "=" not in code and "++" not in code and "--" not in code, (where, condition)
    calls = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", condition))
    assert calls <= PURE, f"{where}: ASSERT calls {calls - PURE}, not known to be pure"


def test_the_no_assert_flag_compiles_assertions_out():
    header = (SOURCE_ROOT / "include/kernel/debug.h").read_text()
    assert "#ifdef VMCHECK_NO_ASSERT" in header
    assert "-DVMCHECK_NO_ASSERT=1" in (SOURCE_ROOT / "Makefile").read_text()
    assert no_assert.MAKE_FLAGS == ("NO_ASSERT=1",)
