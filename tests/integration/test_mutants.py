"""The seeded-bug catalogue (reference_kernel/mutants.toml, docs/mutants.md).

A CI subset of `make mutants`: a few mutants, each built and run against
the scenarios that kill it, within the `make test` budget. Each mutant must
fail the way the catalogue says: a FAIL whose reason names the cause, a
HANG found as a deadlock whose reason is the wait cycle, or a kernel
panic where that is the mistake's true symptom. The unmutated
kernel passes the same scenarios (so the kill is the mutant's doing).
`make mutants` runs every mutant against the whole suite."""

import re

import pytest

from harness import config
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.course.mutants import KERNEL_SRC, build_mutant, check_switches, load_catalogue
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.machine.qemu import MachineOptions
from harness.run.suite import load_all

pytestmark = pytest.mark.integration

# mutant -> (killing scenario, verdict, a fragment the reason must contain)
CI_SUBSET = {
    "stack-no-push-slack": ("stk-limit-rsp8", "FAIL", "exit"),
    "mmap-zero-length": ("mmap-zero-len", "FAIL", "mmap"),
    "no-second-chance": ("hot-page", "FAIL", "evicted"),
    "swap-leak-exit": ("swap-reuse", "FAIL", "swap slots still in use"),
    "panic-on-bad-access": ("fault-pf-null-read", "KERNEL_PANIC", "#PF"),
    # issue 18: three sharers, the push rule's slack, a failed swap write
    "cow-unshare-early": ("cow-three", "FAIL", "no_shared_frames"),
    "stack-slack-32": ("stk-slack", "FAIL", "a store 9 bytes below rsp grew the stack"),
    "swap-leak-write-error": ("evict-anon-werr", "FAIL", "swap slots still in use"),
    # the child's checkpoint() page comes blank: the harness says so
    "fork-uninit-zero": ("fork-code", "FAIL", "code_page_contents at 0x"),
    # deadlocks: found as they happen, the reason is the wait cycle
    "wait-holds-fs-lock": ("dl-wait", "HANG", "deadlock: tid 3 dl-wait waits for the exit of "
                           "tid 4 dl-wait-child, which waits for `vmfs_lock` held by tid 3"),
    "lock-order-read-munmap": ("dl-abba", "HANG", "deadlock: tid 3 dl-abba waits for "
                               "`vmcheck_frame_table.lock` held by tid 4 dl-abba-child, "
                               "which waits for `vmfs_lock` held by tid 3"),
    "lock-order-read-evict": ("dl-evict", "HANG", "deadlock: tid 3 dl-evict waits for "
                              "`vmcheck_frame_table.lock` held by tid 4 dl-evict-child, "
                              "which waits for `vmfs_lock` held by tid 3"),
}
AREAS = {"lazy", "stack", "mmap", "swap", "fork", "cow", "robustness"}


def test_catalogue_covers_every_area_with_at_least_30_mutants():
    mutants = load_catalogue()
    assert len(mutants) >= 30, f"only {len(mutants)} mutants"
    assert AREAS <= {m.area for m in mutants}, AREAS - {m.area for m in mutants}
    check_switches(mutants)   # every switch appears in the kernel source


def test_switches_only_appear_in_conditionals():
    """A mutant's macro is only ever tested (#if/#ifdef/#ifndef/#elif, or
    a defined() continuing one), so the normal build, which defines none,
    compiles none of the mutants' code."""
    conditional = re.compile(r"#\s*(if|ifdef|ifndef|elif)\b|!?defined\(VMCHECK_MUTANT_\w+\)")
    bad = []
    for path in KERNEL_SRC.rglob("*.[chS]"):
        for no, line in enumerate(path.read_text().splitlines(), 1):
            if "VMCHECK_MUTANT_" in line and not conditional.match(line.strip()):
                bad.append(f"{path.relative_to(KERNEL_SRC)}:{no}: {line.strip()}")
    assert not bad, "mutant macro used outside a conditional:\n" + "\n".join(bad)


@pytest.fixture(scope="module")
def suite(built):
    return {sc.name: sc for sc in load_all(config.build_dir() / "programs", DATA_DIR)}


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", sorted(CI_SUBSET))
def test_mutant_is_killed_by_its_scenario(name, suite, tmp_path, run_root):
    scenario, verdict, cause = CI_SUBSET[name]
    mutant = {m.name: m for m in load_catalogue()}[name]
    out = tmp_path / "kernel"
    build_mutant(mutant, out)
    opts = RunnerOptions(machine=MachineOptions(run_root=run_root))
    res = run_scenario(ReferenceAdapter(kernel_dir=out), suite[scenario], opts)
    assert res.verdict.value == verdict, (
        f"mutant {name} on {scenario}: expected {verdict} ({cause!r}), "
        f"got {res.verdict.value}: {res.reason}")
    assert cause in res.reason, f"mutant {name}: reason does not name {cause!r}: {res.reason}"
    if name == "fork-uninit-zero":   # the structured findings behind that reason
        assert [v.oracle for v in res.run_violations] == ["code_page_contents"]
        assert res.output_mismatch.startswith("test line 2:") and res.unreached
    if verdict == "HANG":
        assert res.hang.kind == "deadlock" and len(res.hang.graph.cycle()) == 2
    elif verdict != "FAIL":
        assert mutant.expect_crash, f"{name} is killed only by {verdict} but expect_crash is false"
    correct = run_scenario(ReferenceAdapter(), suite[scenario], opts)
    assert correct.verdict.value == "PASS", f"reference kernel on {scenario}: {correct.reason}"


@pytest.mark.timeout(240)
def test_a_crash_only_kill_is_run_again_without_assertions(suite, tmp_path, run_root):
    """lock-order-read-evict on sc-read-data alone: the reading process's
    own fault evicts a dirty mapped page and takes vmfs_lock twice, which
    lock_acquire's assertion turns into a panic, a crash-only kill; built
    with NO_ASSERT=1 the same scenario ends as a HANG naming the
    self-wait, so the row says so and counts the variant killed."""
    from harness.course.mutants import failed, run_mutant
    mutant = {m.name: m for m in load_catalogue()}["lock-order-read-evict"]
    opts = RunnerOptions(machine=MachineOptions(run_root=run_root))
    result = run_mutant(mutant, [suite["sc-read-data"]], opts, 1, tmp_path, lambda line: None)
    assert result.state == "killed (crash only)", result.killed_by
    assert "assertion `!lock_held_by_current_thread(l)' failed" in result.killed_by[0][2]
    assert result.no_assert.state == "killed", result.no_assert
    name, verdict, reason = result.no_assert.killed_by
    assert (name, verdict) == ("sc-read-data", "HANG") and reason.startswith(
        "deadlock: tid 3 sc-read waits for `vmfs_lock` held by tid 3"), reason
    assert (tmp_path / "lock-order-read-evict-no-assert" / "kernel32.elf").is_file()
    assert not failed([result])
