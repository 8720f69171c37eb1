"""A page-fault storm on a Pintos-KAIST development tree, ended in
seconds by the hang watch's fault-storm rule (harness/run/fault_storm.py).
On /work/trees/2wheeh, stk-evict's stack page comes back from swap and is
never mapped again: the program's memcpy faults on it forever, and before
this rule the run ended as HANG "no progress" after 300 s of wall time.
Under the exact disk (a run that must replay exactly) the rule arms only
behind the gate that reads the running thread's newest trap frame from
user mode (harness/run/storm_gate.py): there too, seconds, not 300 s.

Skipped unless VMCHECK_PINTOS_TREE names a tree with Project 3 (VM), and
for a tree on which stk-evict does not hang."""

from __future__ import annotations

import os

import pytest

from harness import config
from harness.machine.qemu import MachineOptions
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.run.suite import load_all
from tests.integration.test_pintos_kaist import adapter  # noqa: F401 - the tree, built

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.environ.get("VMCHECK_PINTOS_TREE"),
                                 reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("exact_disk", [False, True], ids=["device-disk", "exact-disk"])
def test_a_hang_in_stk_evict_is_judged_in_seconds(adapter, built, run_root,  # noqa: F811
                                                  exact_disk):
    suite = {sc.name: sc for sc in load_all(config.build_dir() / "programs", DATA_DIR)}
    res = run_scenario(adapter, suite["stk-evict"],
                       RunnerOptions(machine=MachineOptions(run_root=run_root),
                                     exact_disk=exact_disk))
    if res.verdict.value != "HANG":
        pytest.skip(f"stk-evict does not hang on this tree ({res.verdict.value})")
    assert res.hang.kind in ("fault storm", "deadlock"), res.reason
    assert res.hang.wall_s < 60 * config.env_timeout_scale(), res.hang
    if res.hang.kind == "fault storm":
        assert "again and again (100 times in a row" in res.reason
        assert res.reason.startswith("fault storm: user instruction at 0x"), res.reason
        storms = [f for f in res.faults if f.outcome.endswith("(fault storm)")]
        assert len(storms) == 1, res.faults                 # decoded, among the faults
        record = storms[0]
        assert record.mode == "user" and f"`{record.instruction}`" in res.reason
        assert record.page is not None and record.page.mapping != "mapped", record.page
        if exact_disk:
            assert res.stops_taken.get("fault_storm_arm", 0) >= 1, res.stops_taken
