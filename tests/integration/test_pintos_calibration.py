"""The timer calibration stood in for, on a real Pintos-KAIST tree
(harness/adapters/pintos_kaist/calibration.py): the value the probe reads
is the one the kernel prints when it calibrates (loops/s = loops_per_tick
x TIMER_FREQ), a run with the shortcut does not print the line and says
so in its notes, and VMCHECK_PINTOS_CALIBRATE=run brings the loop back.

Skipped unless VMCHECK_PINTOS_TREE names a tree (built in place, as
`vmcheck run` does)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
TREE = os.environ.get("VMCHECK_PINTOS_TREE")
needs_tree = pytest.mark.skipif(not TREE, reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")
PRINTED = re.compile(r"Calibrating timer\.\.\.\s+([0-9,]+) loops/s")


def run_hello(report: Path, **env) -> dict:
    done = subprocess.run(["./vmcheck", "run", "hello", "--kernel", f"pintos-kaist:{TREE}",
                           "--report", str(report)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env})
    assert done.returncode == 0, done.stdout + done.stderr
    (scenario,) = json.loads((report / "results.json").read_text())["scenarios"]
    return scenario


@needs_tree
def test_the_probe_reads_what_the_kernel_computes_and_runs_skip_the_loop(tmp_path):
    from harness.adapters import get_adapter
    from harness.adapters.pintos_kaist.calibration import probe_loops
    from harness.machine.qemu import MachineOptions
    freq = re.search(r"#define\s+TIMER_FREQ\s+(\d+)",
                     (Path(TREE) / "include/devices/timer.h").read_text())
    calibrated = run_hello(tmp_path / "loop", VMCHECK_PINTOS_CALIBRATE="run")
    printed = int(PRINTED.search(calibrated["console"]).group(1).replace(",", ""))
    assert not any("timer_calibrate() not run" in n for n in calibrated["notes"])

    loops = probe_loops(get_adapter(f"pintos-kaist:{TREE}"), MachineOptions())
    assert loops * int(freq.group(1)) == printed

    skipped = run_hello(tmp_path / "shortcut")
    assert skipped["verdict"] == "PASS"
    assert not PRINTED.search(skipped["console"])
    assert any(f"loops_per_tick set to {loops}," in n for n in skipped["notes"]), \
        skipped["notes"]
    assert skipped["stops_taken"].get("boot_shortcut") == 1
