"""Runs scenarios on a Pintos-KAIST tree and on its renamed copy (made by
tests/tools/rename_members.py) and compares the verdicts.

    /usr/bin/python3 -m tests.tools.renamed_verdicts TREE RENAMED OUT [SCENARIO|GLOB...] [--jobs N]

Default scenarios: those that read the SPT (SPT_SCENARIOS). Prints one row
per scenario (original, renamed, and for a difference the renamed run's
reason) and writes both reports under OUT. The rule: the renamed copy
gets the original's verdict, or a verdict that fails nothing new (PASS
where the original failed: a check that could not inspect the SPT);
never a FAIL (or other non-pass) where the original passed. Exit 0 when
that holds, 1 when it does not, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from results.codec import load_run
from results.model import RunResult

REPO = Path(__file__).resolve().parents[2]
SPT_SCENARIOS = ("lazy-*", "ro-data-*", "evict-anon", "stk-evict", "swap-anon", "swap-iter",
                 "mmap-*", "fork-*")


def run(kernel: Path, out: Path, scenarios: list, jobs: int) -> RunResult:
    """`vmcheck run` on KERNEL; its results (exit 1, a failed scenario, is fine)."""
    done = subprocess.run([str(REPO / "vmcheck"), "run", "--kernel", f"pintos-kaist:{kernel}",
                           "--report", str(out), "--jobs", str(jobs), *scenarios],
                          capture_output=True, text=True, timeout=6 * 3600)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"vmcheck run on {kernel} exited {done.returncode}:\n"
                           f"{done.stderr[-2000:]}")
    return load_run(out / "results.json")


def new_failures(original: RunResult, renamed: RunResult) -> list[str]:
    """Scenarios that pass on the original and not on the renamed copy."""
    before = {sc.name: sc.verdict for sc in original.scenarios}
    return [sc.name for sc in renamed.scenarios
            if before.get(sc.name) is not None and before[sc.name].passed
            and not sc.verdict.passed]


def table(original: RunResult, renamed: RunResult) -> list[str]:
    after = {sc.name: sc for sc in renamed.scenarios}
    rows = [("scenario", "original", "renamed", "")]
    for sc in original.scenarios:
        other = after.get(sc.name)
        verdict = other.verdict.value if other else "-"
        note = "" if other is None or other.verdict == sc.verdict else other.reason[:100]
        rows.append((sc.name, sc.verdict.value, verdict, note))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + ("  " + r[3] if r[3] else "")
            for r in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("renamed", type=Path)
    parser.add_argument("out", type=Path, help="folder for the two reports")
    parser.add_argument("scenarios", nargs="*", default=list(SPT_SCENARIOS))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    for tree in (args.tree, args.renamed):
        if not (tree / "vm" / "Makefile").is_file():
            print(f"renamed_verdicts: {tree} is not a Pintos-KAIST tree", file=sys.stderr)
            return 2
    original = run(args.tree, args.out / "original", args.scenarios, args.jobs)
    renamed = run(args.renamed, args.out / "renamed", args.scenarios, args.jobs)
    print("\n".join(table(original, renamed)))
    worse = new_failures(original, renamed)
    print(f"new failures on the renamed copy: {', '.join(worse) or 'none'}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
