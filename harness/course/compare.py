"""A Pintos-KAIST tree's own `make check` for tests/vm next to our Pintos
scenarios, in one table (`vmcheck compare`, harness/cli/compare.py).

Our side: the scenarios tagged "pintos" whose other tag is the Pintos test
path ("tests/vm/page-linear"). Their side: `make -k TEST.result...` in a
copy of the tree's vm/build (so the tree and a run in progress there stay
untouched), with the tree's utils/ on PATH and the adapter's CC, as
Pintos-KAIST's `make check` does it, test by test: a .result file that
says PASS is a pass. --tests limits both sides (a glob over the test name
or path: `page-*`, `tests/vm/mmap-*`). For each test where the two
disagree, the table says what our side saw: the first oracle violation
(the state check that explains it), else the verdict's reason.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError

MAKE_TIMEOUT_PER_TEST_S = 120   # Pintos's own per-test timeout is 60 s (TIMEOUT in Make.tests)


def pintos_test_of(sc) -> str | None:
    """The Pintos test path a scenario stands for ("tests/vm/mmap-read"), or None."""
    if "pintos" not in sc.tags:
        return None
    paths = [t for t in sc.tags if t.startswith("tests/")]
    return paths[0] if paths else None


def select_tests(scenarios, pattern: str) -> dict:
    """Pintos test path -> scenario, for the tagged scenarios matching PATTERN."""
    chosen = {}
    for sc in scenarios:
        test = pintos_test_of(sc)
        if test and (fnmatch.fnmatch(test, pattern) or fnmatch.fnmatch(Path(test).name, pattern)):
            chosen[test] = sc
    return chosen


@dataclass
class MakeCheck:
    results: dict       # test path -> "pass" / "FAIL" / "no result"
    seconds: float
    log: Path
    reasons: dict = field(default_factory=dict)   # test path -> why it failed (.result line 2)


def run_make_check(adapter, tests: list[str], work: Path) -> MakeCheck:
    """Pintos-KAIST's own check of TESTS in a copy of ADAPTER's tree under WORK."""
    from harness.adapters.pintos_kaist.adapter import BUILD_CC
    copy = work / "tree"
    shutil.copytree(adapter.tree, copy, symlinks=True)
    build = copy / "vm" / "build"
    for test in tests:
        for suffix in (".output", ".errors", ".result"):
            (build / (test + suffix)).unlink(missing_ok=True)
    log = work / "make-check.log"
    env = {**os.environ, "PATH": f"{copy / 'utils'}:{os.environ.get('PATH', '')}"}
    command = ["make", "-k", "-C", str(build), f"CC={BUILD_CC}"] + [t + ".result" for t in tests]
    start = time.monotonic()
    with open(log, "w") as out:
        make = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            make.wait(MAKE_TIMEOUT_PER_TEST_S * len(tests) + 300)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"`make check` of {len(tests)} tests did not finish in time; "
                               f"log: {log}") from None
        finally:   # also on Ctrl-C: no make, pintos or QEMU of its own is left
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGKILL)
                make.wait()
    seconds = time.monotonic() - start
    results, reasons = {}, {}
    for test in tests:
        result = build / (test + ".result")
        text = result.read_text(errors="replace").strip() if result.is_file() else ""
        results[test] = "pass" if text == "PASS" else "FAIL" if text else "no result"
        if results[test] != "pass":
            lines = text.splitlines()[1:2]   # a .result is "FAIL" then the checker's reason
            reasons[test] = lines[0].strip() if lines else "no .result file (see the log)"
    return MakeCheck(results, seconds, log, reasons)


def explanation(result) -> str:
    """Why our verdict is what it is: the first oracle violation (the state
    check), else the reason."""
    if result.violations:
        v = result.violations[0]
        where = f" at {v.va:#x}" if v.va is not None else ""
        return f"state check {v.oracle}{where}: {v.message}"
    return result.reason or result.verdict.value


def comparison_table(tests: dict, make: MakeCheck, ours: dict) -> str:
    """One row per test: make check, our verdict, and for a disagreement
    (pass on one side only) the explanation: ours when we fail, make
    check's reason when only it fails."""
    rows = [("Pintos test", "make check", "vmcheck", "difference explained by")]
    for test in sorted(tests):
        theirs, result = make.results.get(test, "no result"), ours[test]
        agree = (theirs == "pass") == result.verdict.passed
        note = "" if agree else explanation(result)
        if result.verdict.value == "NOT_JUDGED":     # neither side of a disagreement
            agree, note = True, result.reason
        if not agree and result.verdict.passed:
            why = make.reasons.get(test, "see make-check.log")
            note = f"only make check fails ({why}); timing-dependent? run it again"
        verdict = result.verdict.value + (f" ({len(result.unknowns)} unknown)"
                                          if result.unknowns else "")
        rows.append((test, theirs, verdict, note[:160]))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row[:3], widths)), row[3]]).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 23)
    return "\n".join(lines)
