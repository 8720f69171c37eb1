"""The exact disk on a real Pintos-KAIST tree (docs/exact-disk.md): the
disks end as the device leaves them, two runs are the same run, and a
preemption injected at a disk request comes back to a served request.

Skipped unless VMCHECK_PINTOS_TREE names a tree with the base IDE driver
and Project 3 working well enough to run the scenarios used (the
development trees do)."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from harness.adapters.pintos_kaist.adapter import PintosKaistAdapter, find_tree
from harness.machine.qemu import MachineOptions
from harness.run.injection import parse_cli
from harness.run.run_identity import first_parting, fingerprint
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.run.suite import load_all
from tests.conftest import hang_guard_timeouts

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("VMCHECK_PINTOS_TREE"),
                                 reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")]


@pytest.fixture(scope="module")
def adapter() -> PintosKaistAdapter:
    tree = find_tree(Path(os.environ["VMCHECK_PINTOS_TREE"]))
    adapter = PintosKaistAdapter(tree, log=lambda message: None)
    adapter.prepare()
    return adapter


@pytest.fixture(scope="module")
def scenarios(adapter, built) -> dict:
    return {sc.name: sc for sc in load_all(adapter.programs_dir, DATA_DIR)}


def options(run_root, keep: bool = False, **changes) -> RunnerOptions:
    machine = MachineOptions(run_root=run_root, timeouts=hang_guard_timeouts(), keep=keep)
    changes.setdefault("exact_disk", True)      # plain runs too (`run --exact-disk`)
    return dataclasses.replace(RunnerOptions(machine=machine), **changes)


def served(result) -> dict:
    report = result.exact_disk
    assert report is not None and report["exact"], (report, result.notes)
    assert report["reads"] > 0 and report["writes"] > 0 and report["device"] == 0
    return report


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", ["mm-exitdirty-exit", "evict-file"])
def test_the_disks_end_as_the_device_leaves_them(adapter, scenarios, run_root, name):
    images = {}
    for exact in (True, False):
        result = run_scenario(adapter, scenarios[name], options(run_root, keep=True,
                                                                exact_disk=exact))
        assert (result.exact_disk is not None) == exact
        if exact:
            report = served(result)
            console_reads = sum(int(n) for n in re.findall(r"^hd\d:\d: (\d+) reads",
                                                           result.console, re.MULTILINE))
            assert console_reads == report["reads"], result.console[-400:]
        folder = Path(result.artifacts)
        images[exact] = {p.name: p.read_bytes() for p in folder.glob("*.img")}
    assert images[True].keys() == images[False].keys() == {"boot.img", "fs.img", "scratch.img",
                                                           "swap.img"}
    for image in images[True]:
        assert images[True][image] == images[False][image], f"{image} differs"


@pytest.mark.timeout(600)
def test_two_runs_are_the_same_run(adapter, scenarios, run_root):
    first, second = (run_scenario(adapter, scenarios["evict-anon"], options(run_root))
                     for _ in range(2))
    served(first), served(second)
    assert first.checkpoints and first.entry_icount is not None
    assert first_parting(fingerprint(first), fingerprint(second),
                         (first.console, second.console)) is None


@pytest.mark.timeout(600)
def test_a_preemption_at_a_disk_request_comes_back_to_a_served_request(adapter, scenarios,
                                                                       run_root):
    preempt = parse_cli("swap_out:preempt:nth=2")
    result = run_scenario(adapter, scenarios["evict-anon"], options(run_root, inject=(preempt,)))
    assert [r.hit for r in result.injections] == [2]
    served(result)
    plain = run_scenario(adapter, scenarios["evict-anon"], options(run_root))
    assert served(plain)["writes"] == result.exact_disk["writes"]   # no request lost or doubled
