"""The per-run cost of choosing a Pintos-KAIST run's boot shortcuts, with
and without the adapter's file memo (harness/adapters/file_memo.py):

    /usr/bin/python3 -m harness.bench.shortcut_decision --kernel pintos-kaist:TREE [--runs N]

Times what the runner does before each QEMU start (the kernel's build id,
then adapter.boot_shortcuts: the snapshot key, the calibration's stock
check, both probe caches read under their lock) for one run's disks, N
times each way, alternating: "memo" as every run of a process after its
first, "no memo" with the memo emptied before each (what every run did
before there was one). The first call, which may probe (boot QEMU once per
key), is not counted. Prints medians of wall and CPU time and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness.adapters import get_adapter
from harness.adapters.file_memo import FileMemo
from harness.machine.qemu import MachineOptions
from harness.run.schedule import boot_shortcuts_for

SHORTCUTS = ("boot_snapshot", "calibration")


def decide(adapter, options, disks, args) -> tuple[float, float]:
    """(wall s, CPU s) of one run's decision; RuntimeError if it boots cold."""
    wall, cpu = time.perf_counter(), time.thread_time()
    taken, why_not = boot_shortcuts_for(adapter, options, disks, args, SHORTCUTS)
    spent = time.perf_counter() - wall, time.thread_time() - cpu
    if len(taken) != len(SHORTCUTS):
        raise RuntimeError(f"a shortcut is not taken: {'; '.join(why_not)}")
    return spent


def measure(kernel: str, runs: int) -> dict:
    """Per mode ("memo", "no memo"): the list of (wall s, CPU s)."""
    adapter = get_adapter(kernel)
    adapter.prepare()
    options = MachineOptions()
    spent: dict = {"memo": [], "no memo": []}
    with tempfile.TemporaryDirectory() as folder:
        disks = adapter.make_disks(Path(folder), {"hello": adapter.find_program("hello")}, {}, 0)
        args = adapter.qemu_args(disks, adapter.kernel_cmdline([["hello"]]), 20)
        decide(adapter, options, disks, args)
        for _ in range(runs):
            spent["memo"].append(decide(adapter, options, disks, args))
            adapter.__dict__["_file_memo"] = FileMemo()
            spent["no memo"].append(decide(adapter, options, disks, args))
    return spent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", required=True, help="pintos-kaist:TREE")
    parser.add_argument("--runs", type=int, default=200, help="decisions each way (default: 200)")
    args = parser.parse_args(argv)
    spent = measure(args.kernel, args.runs)
    medians = {mode: [statistics.median(s[i] for s in pairs) * 1e3 for i in (0, 1)]
               for mode, pairs in spent.items()}
    for mode, (wall, cpu) in medians.items():
        print(f"{mode:8} per run: wall {wall:6.2f} ms, CPU {cpu:6.2f} ms (median of {args.runs})")
    print(f"saved per run: {medians['no memo'][1] - medians['memo'][1]:.2f} ms CPU "
          f"(memo/no memo CPU ratio {medians['memo'][1] / medians['no memo'][1]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
