"""Every vm conformance program (scenarios/programs/vm/MANIFEST.toml) on the
reference kernel: its console's test lines, its exit status, the files it
must leave behind, and no leak: at power-off every user frame and every
swap slot is free again.

The injection tests force a hook of kernel/hooks.h to report failure
(docs/kernel-introspection.md) and check that the kernel goes on: a clean
power-off, no panic, nothing leaked.

The repeated tests run page-merge-par, page-merge-mm and swap-fork ten
times each without -icount, so the timer interrupts (and so the
interleaving of the processes) differ from run to run: once with the
manifest's memory size, once with the user pool capped at 200 frames, so
that several processes fault, evict and swap at the same time (about
2,500 evictions per run)."""

import pytest

from harness.adapters.base import BootOutcome, Ending, ProcessExit
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.bench.vm_programs import (judge, load_manifest, make_data_files, run_program,
                              run_with_debugger)
from harness.run.boot import BootResult
from harness.machine.qemu import MachineOptions
from tests.conftest import hang_guard_timeouts

SPECS = load_manifest()
REPEATED = ("page-merge-par", "page-merge-mm", "swap-fork")
REPEAT_RUNS = 10
PRESSURE_USER_PAGES = 200


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    return make_data_files(tmp_path_factory.mktemp("vmdata"))


@pytest.fixture(scope="module")
def adapter(built) -> ReferenceAdapter:
    return ReferenceAdapter(built)


def _failure(name: str, problems: list, console: str) -> str:
    tail = "\n".join(console.splitlines()[-25:])
    return f"{name}: " + "; ".join(problems) + f"\n--- console (last lines) ---\n{tail}"


@pytest.mark.integration
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_vm_program(name, adapter, data, run_root):
    spec = SPECS[name]
    options = MachineOptions(run_root=run_root, timeouts=hang_guard_timeouts())
    result = run_program(spec, data, adapter, options)
    problems = judge(spec, result)
    assert not problems, _failure(name, problems, result.console)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("user_pages", [None, PRESSURE_USER_PAGES])
@pytest.mark.parametrize("name", REPEATED)
def test_vm_program_passes_every_time(name, user_pages, adapter, data, run_root):
    spec = SPECS[name]
    failures = []
    for run in range(REPEAT_RUNS):
        options = MachineOptions(run_root=run_root, icount=False,
                                 timeouts=hang_guard_timeouts())
        result = run_program(spec, data, adapter, options, user_pages=user_pages)
        problems = judge(spec, result)
        if problems:
            failures.append(_failure(f"{name} run {run + 1}/{REPEAT_RUNS}", problems,
                                     result.console))
    assert not failures, "\n\n".join(failures)


# ---- Injected failures ---------------------------------------------------

# (hook, program, user pool cap, first failing hit, fail every hit from there)
INJECTIONS = [
    ("frame_alloc", "mmap-read", None, 5, False),
    ("frame_alloc", "page-parallel", 200, 300, True),
    ("page_alloc", "mmap-read", None, 7, False),
    ("file_read", "mmap-read", None, 6, False),
    ("file_write", "mmap-write", None, 1, False),
    ("swap_out", "page-parallel", 200, 100, False),
    ("swap_out", "page-parallel", 200, 100, True),
    ("swap_in", "page-parallel", 200, 100, False),
    ("evict_choose", "page-parallel", 200, 100, False),
]


def _run_injected(spec, adapter, data, run_root, hook, user_pages, first_hit, every):
    """Runs SPEC with vmcheck_hook_HOOK returning 1 at hit FIRST_HIT (and at
    every later hit if EVERY); returns (result, hits of the hook)."""
    hits = []

    def fail(dbg, bp):
        if bp.hits == first_hit or (every and bp.hits > first_hit):
            dbg.force_return(1)
        return False

    def drive(dbg):
        bp = dbg.add_breakpoint(f"vmcheck_hook_{hook}", callback=fail)
        dbg.run_until(None, timeout=spec.timeout_s)
        hits.append(bp.hits)

    options = MachineOptions(run_root=run_root, timeouts=hang_guard_timeouts())
    result = run_with_debugger(spec, data, adapter, drive, options,
                               user_pages)
    return result, hits[0] if hits else 0


@pytest.mark.integration
@pytest.mark.timeout(600)
@pytest.mark.parametrize("hook, name, user_pages, first_hit, every", INJECTIONS)
def test_vm_survives_injected_failure(hook, name, user_pages, first_hit, every, adapter,
                                      data, run_root):
    spec = SPECS[name]
    result, hits = _run_injected(spec, adapter, data, run_root, hook, user_pages,
                                 first_hit, every)
    assert hits >= first_hit, f"vmcheck_hook_{hook} was called {hits} times, fewer than " \
                              f"{first_hit}: the injection did not happen"
    outcome = result.outcome
    assert outcome.ending is Ending.POWEROFF, _failure(
        name, [f"no clean power-off after the injected {hook} failure: "
               f"{outcome.panic_line or outcome.ending.name}"], result.console)
    problems = judge(spec, result)
    leaks = [p for p in problems if p.startswith("leaked")]
    assert not leaks, _failure(name, leaks, result.console)
    assert outcome.status_of(spec.program) is not None, _failure(
        name, [f"{spec.program} printed no exit line"], result.console)


# ---- judge() itself must be able to fail --------------------------------

def _result(console: str, status: int, poweroff: str) -> BootResult:
    outcome = BootOutcome(ending=Ending.POWEROFF, qemu_status=33,
                          exits=[ProcessExit("mmap-read", status)], panic_line=None,
                          poweroff_line=poweroff)
    return BootResult(outcome=outcome, console=console, run_dir=None, kept=False,
                      disks=None, files={}, seconds=0.0)


GOOD_POWEROFF = "vmcheck: poweroff user_frames_free=10/10 swap_slots_free=4/4"


def _expected_console(spec) -> str:
    return "\n".join(spec.outcomes[0].output) + "\n" + GOOD_POWEROFF


def test_judge_accepts_the_expected_run():
    spec = SPECS["mmap-read"]
    result = _result(_expected_console(spec), spec.outcomes[0].exit_status, GOOD_POWEROFF)
    assert judge(spec, result) == []


@pytest.mark.parametrize("poweroff, leak", [
    ("vmcheck: poweroff user_frames_free=9/10 swap_slots_free=4/4", "leaked user frames: 1"),
    ("vmcheck: poweroff user_frames_free=10/10 swap_slots_free=1/4", "leaked swap slots: 3"),
])
def test_judge_reports_leaks(poweroff, leak):
    spec = SPECS["mmap-read"]
    result = _result(_expected_console(spec), spec.outcomes[0].exit_status, poweroff)
    assert any(leak in p for p in judge(spec, result))


def test_judge_reports_wrong_status_and_output():
    spec = SPECS["mmap-read"]
    console = _expected_console(spec).replace(spec.outcomes[0].output[1], "(mmap-read) other")
    problems = judge(spec, _result(console, spec.outcomes[0].exit_status, GOOD_POWEROFF))
    assert problems and "test line 2" in problems[0]
    problems = judge(spec, _result(_expected_console(spec), 7, GOOD_POWEROFF))
    assert problems and "exited with 7" in problems[0]
