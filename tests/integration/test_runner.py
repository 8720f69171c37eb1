"""The scenario runner on the reference kernel: verdicts, checkpoint stops,
page-table snapshots, and the CLI's exit codes."""

import re
import subprocess
import textwrap

import pytest

from harness.adapters import get_adapter
from harness.config import env_timeout_scale
from harness.debug.program_image import load_program
from harness.run.runner import RunnerOptions, run_scenario
from harness.machine.qemu import MachineOptions
from harness.run.scenario import load_file
from oracles.model.page_tables import PTE_NX, PTE_U, PTE_W

pytestmark = pytest.mark.integration


def scenarios(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text('area = "core"\n' + textwrap.dedent(text))
    return {sc.name: sc for sc in load_file(path)}


def run(sc, run_root):
    return run_scenario(get_adapter("reference"), sc, RunnerOptions(machine=MachineOptions(run_root=run_root)))


def test_pass_and_fail_with_the_cause(built, tmp_path, run_root):
    scs = scenarios(tmp_path, """
        [[scenario]]
        name = "ok"
        program = "hello"
        output = ["Hello, world!"]
        [[scenario]]
        name = "wrong-status"
        program = "hello"
        exit_status = 3
        [[scenario]]
        name = "wrong-output"
        program = "hello"
        output = ["Hello, world!", "Goodbye"]
        """)
    assert run(scs["ok"], run_root).verdict.value == "PASS"
    bad = run(scs["wrong-status"], run_root)
    assert (bad.verdict.value, bad.exit_status) == ("FAIL", 0)
    assert "exit status 0, expected 3" in bad.reason
    assert bad.artifacts and (run_root / bad.artifacts.split("/")[-1] / "console.log").is_file()
    out = run(scs["wrong-output"], run_root)
    assert out.verdict.value == "FAIL" and out.missing_output == ["Goodbye"]


def test_a_program_that_calls_fail_gets_the_threads_of_that_moment(built, tmp_path, run_root):
    scs = scenarios(tmp_path, """
        [[scenario]]
        name = "usage"
        program = "spin"
        args = ["S"]
        [[scenario]]
        name = "fine"
        program = "spin"
        args = ["S", "1000"]
        exit_status = 0
        """)
    bad = run(scs["usage"], run_root)
    assert bad.verdict.value == "FAIL" and bad.exit_status == 1
    running = [line for line in bad.failure_threads if "running" in line]
    assert len(running) == 1 and "spin" in running[0] and "user mode at" in running[0], \
        bad.failure_threads
    assert any("idle" in line for line in bad.failure_threads), bad.failure_threads
    # the waiting main thread's chain, through frame pointers, down to the boot code
    main = [line for line in bad.failure_threads if line.startswith("main (tid 1, blocked): ")]
    assert main and " < sema_down+" in main[0] and " < high_entry+" in main[0], main
    assert "stack ends" not in main[0], main
    assert run(scs["fine"], run_root).failure_threads == []


def test_checkpoint_snapshot_has_code_data_and_stack_pages(built, tmp_path, run_root):
    scs = scenarios(tmp_path, """
        [[scenario]]
        name = "cp"
        program = "checkpoints"
        [[scenario.checkpoint]]
        id = 2
        hit = 2
        expect = [{ check = "contents", addr = "cp_buf + PGSIZE", length = 1, source = "text", text = "b" },
                  { check = "present", start = "cp_buf", pages = 2, present = "all" }]
        """)
    res = run(scs["cp"], run_root)
    stops = [(c.id, c.hit) for c in res.checkpoints]
    assert stops[:4] == [(1, 1), (2, 1), (2, 2), (2, 3)]
    cp = next(c for c in res.checkpoints if (c.id, c.hit) == (2, 2))
    assert cp.violations == [] and cp.expectations == ["contents", "present"]
    snap = cp.pages
    cp_buf = load_program(get_adapter("reference").find_program("checkpoints")).symbols["cp_buf"]
    code, data, stack = snap.lookup(0x401000), snap.lookup(cp_buf), snap.lookup(0x4747F000)
    assert code and code.flags & PTE_U and not code.flags & PTE_W and not code.flags & PTE_NX
    assert data and data.flags & PTE_U and data.flags & PTE_W
    assert stack and stack.flags & PTE_U and stack.flags & PTE_W
    assert cp.pools.user_frames_total > cp.pools.user_frames_free > 0


def test_failed_expectation_names_page_expected_and_actual(built, tmp_path, run_root):
    scs = scenarios(tmp_path, """
        [[scenario]]
        name = "cp-wrong"
        program = "checkpoints"
        [[scenario.checkpoint]]
        id = 2
        hit = 2
        expect = [{ check = "contents", addr = "cp_buf + PGSIZE", length = 1, source = "text", text = "x" }]
        """)
    res = run(scs["cp-wrong"], run_root)
    assert res.verdict.value == "FAIL"
    [v] = [v for c in res.checkpoints for v in c.violations]
    assert (v.oracle, v.expected, v.actual) == ("contents", "78", "62")
    assert "contents" in res.reason


def test_hang_is_a_verdict_and_leaves_nothing_running(built, tmp_path, run_root, our_processes):
    scs = scenarios(tmp_path, """
        [[scenario]]
        name = "slow"
        program = "spin"
        args = ["S", "100000000000"]
        timeout = 2
        """)
    res = run(scs["slow"], run_root)
    assert res.verdict.value == "HANG", res.reason
    # which rule comes first depends on the host's speed (hang_watch.py):
    # 2 s of guest time, no output for 1 s of it (or for 2 s x scale of
    # wall time while the guest clock crawls), or the wall-clock net
    # (3 x 2 s x the scale a loaded host may set in VMCHECK_TIMEOUT_SCALE)
    net = 3 * 2 * env_timeout_scale()
    assert res.hang.kind in ("guest time", "no progress", "wall time"), res.reason
    assert res.reason.startswith(("no power-off within 2 s of guest time",
                                  "no progress for 1 s of guest time",
                                  f"no power-off within {net:g} s of wall time")) or \
        re.match(r"no progress for \d+ s of wall time, the scenario's 2 s timeout", res.reason), \
        res.reason
    assert "the CPU was at " in res.reason
    assert "(user)" in res.reason or "(kernel)" in res.reason
    assert res.artifacts is not None
    assert our_processes() == []


def vmcheck(*args):
    return subprocess.run(["./vmcheck", *args], capture_output=True, text=True, timeout=120)


def test_cli_list_and_usage_errors(built, tmp_path):
    listed = vmcheck("list", "robustness")
    assert listed.returncode == 0 and "badptr-read-null" in listed.stdout
    missing = vmcheck("run", "no-such-scenario")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "vmcheck: error: no scenario matches 'no-such-scenario' (see `./vmcheck list`)"]
    (tmp_path / "bad.toml").write_text('area = "core"\n[[scenario]]\nname = "x"\nprogram = 5\n')
    bad = vmcheck("run", "--suite", str(tmp_path))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert f"{tmp_path / 'bad.toml'}:4: scenario 'x': program: must be a string" in bad.stderr
