"""NOT_JUDGED from the command line (issue 12, "no false alarm"): on a real
Pintos-KAIST tree the swap I/O error scenarios are not judged (its
disk_read/disk_write return nothing, so no kernel can notice the injected
error), without booting, exit 0, with --strict too, skipped in JUnit;
`explore` with such an injection is refused (exit 2). On the reference
kernel the same scenarios are judged and pass.

The Pintos half is skipped unless VMCHECK_PINTOS_TREE names a tree (it is
built in place, as `vmcheck run` does)."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.integration
TREE = os.environ.get("VMCHECK_PINTOS_TREE")
SWAP_ERRORS = ("evict-anon-werr", "evict-anon-rerr")
needs_tree = pytest.mark.skipif(not TREE, reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")


def vmcheck(*args, timeout=900):
    return subprocess.run(["./vmcheck", *args], capture_output=True, text=True, timeout=timeout)


@needs_tree
def test_swap_io_errors_are_not_judged_on_pintos_without_booting(tmp_path):
    report = tmp_path / "report"
    done = vmcheck("run", "--kernel", f"pintos-kaist:{TREE}", *SWAP_ERRORS, "--strict",
                   "--report", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0/0 judged passed (2 NOT_JUDGED)" in done.stdout, done.stdout
    results = json.loads((report / "results.json").read_text())
    for sc in results["scenarios"]:
        assert sc["verdict"] == "NOT_JUDGED", sc
        assert "cannot notice a failed swap" in sc["reason"]
        assert sc["artifacts"] is None and sc["console"] == ""     # never booted
    suite = ET.parse(report / "junit.xml").getroot()
    assert (suite.get("skipped"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")


@needs_tree
def test_explore_refuses_an_injection_pintos_cannot_observe(tmp_path):
    done = vmcheck("explore", "evict-anon", "--kernel", f"pintos-kaist:{TREE}",
                   "--point", "swap_out", "--kind", "io_error", "--max-n", "1",
                   "--schedules", str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not judged on the pintos-kaist kernel" in done.stderr
    assert "disk_write returns nothing" in done.stderr


def test_the_reference_kernel_still_judges_and_passes_them(built, tmp_path):
    done = vmcheck("run", *SWAP_ERRORS, "--report", str(tmp_path / "report"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2/2 passed (2 PASS)" in done.stdout, done.stdout
