"""`vmcheck grade` on a class of five reference-kernel submissions: two
clean, one seeded with a deadlock (wait-holds-fs-lock, from a git
repository at an older commit), one that panics (panic-on-bad-access),
one that does not build (a git bundle). Graded once straight through;
graded again, interrupted by SIGINT once two submissions are saved, and
resumed: the resumed class report equals the straight one, and no saved
submission boots again (a QEMU wrapper logs every boot). The class report
is then opened in headless Chromium."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.test_report_browser import CHROMIUM, SCREENSHOTS, chromium, png_size

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = ["dl-wait", "fault-pf-null-read"]
NAMES = ["clean-a", "crash", "broken", "deadlock", "clean-b"]
GRADE_TIMEOUT_S = 900
BOOT = re.compile(r"/submissions/([^/]+)/artifacts/.*run '([^' ]+)")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
                          cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def kernel_tree(path: Path, mutant: str = "") -> Path:
    shutil.copytree(REPO / "reference_kernel", path)
    if mutant:   # the tree builds as the mutant: a student's mistake in it
        makefile = path / "Makefile"
        makefile.write_text(f"MUTANT ?= {mutant}\n" + makefile.read_text())
    return path


def make_class(root: Path) -> Path:
    """The five submissions and their roster; returns the roster."""
    kernel_tree(root / "clean-a")
    kernel_tree(root / "crash", "panic-on-bad-access")
    broken = kernel_tree(root / "src-broken")
    source = broken / "vm" / "swap.c"
    source.write_text(source.read_text() + "\nint vmcheck_broken(void) { return 1 }\n")
    git(broken, "init", "-q")
    git(broken, "add", ".")
    git(broken, "commit", "-qm", "swap")
    git(broken, "bundle", "create", "-q", str(root / "broken.bundle"), "HEAD")
    deadlock = kernel_tree(root / "deadlock-repo", "wait-holds-fs-lock")
    git(deadlock, "init", "-q")
    git(deadlock, "add", ".")
    git(deadlock, "commit", "-qm", "wait() under the fs lock")
    graded = git(deadlock, "rev-parse", "--short", "HEAD")
    (deadlock / "Makefile").write_text((deadlock / "Makefile").read_text().split("\n", 1)[1])
    git(deadlock, "commit", "-qam", "fixed after the deadline")
    clean = kernel_tree(root / "src-clean-b")
    git(clean, "init", "-q")
    git(clean, "add", ".")
    git(clean, "commit", "-qm", "clean")
    git(clean, "bundle", "create", "-q", str(root / "clean-b.bundle"), "HEAD")
    roster = root / "roster.toml"
    roster.write_text(f'''kernel = "reference"
scenarios = {SCENARIOS!r}
[[submission]]
name = "clean-a"
path = "clean-a"
[[submission]]
name = "crash"
path = "crash"
[[submission]]
name = "broken"
repo = "broken.bundle"
commit = "HEAD"
[[submission]]
name = "deadlock"
repo = "deadlock-repo"
commit = "{graded}"
[[submission]]
name = "clean-b"
repo = "clean-b.bundle"
commit = "HEAD"
''')
    return roster


def qemu_logger(root: Path) -> Path:
    """A QEMU that logs its run folder (VMCHECK_RUN_DIR: the command line names
    it only while its socket paths fit; longer ones move to /tmp) and its
    command line to ROOT/boots-$BOOT_LOG, and execs the real one."""
    wrapper = root / "qemu-logged"
    real = shutil.which(os.environ.get("VMCHECK_QEMU", "qemu-system-x86_64"))
    wrapper.write_text(f'#!/bin/sh\ncase " $* " in *" --version "*) ;; *) '
                       f'printf "%s %s\\n" "$VMCHECK_RUN_DIR" "$*" >> "{root}/boots-$BOOT_LOG" ;; esac\n'
                       f'exec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def start(roster: Path, report: Path, log: str) -> subprocess.Popen:
    env = dict(os.environ, VMCHECK_QEMU=str(qemu_logger(roster.parent)), BOOT_LOG=log)
    return subprocess.Popen([str(REPO / "vmcheck"), "grade", str(roster), "--jobs", "2",
                             "--report", str(report)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)


def finish(proc: subprocess.Popen) -> tuple:
    out, _ = proc.communicate(timeout=GRADE_TIMEOUT_S)
    return proc.returncode, out


def boots(root: Path, log: str) -> list:
    """[(submission, program)] of every boot logged as LOG."""
    path = root / f"boots-{log}"
    lines = path.read_text().splitlines() if path.exists() else []
    found = [(BOOT.search(line), line) for line in lines]
    unknown = [line for match, line in found if match is None]
    assert not unknown, f"a boot of no submission's scenario: {unknown[0][:300]}"
    return [match.groups() for match, _ in found]


def saved(report: Path) -> set:
    return {p.parent.name for p in report.glob("submissions/*/submission.json")}


def section(html: str, element_id: str) -> str:
    """The element with ELEMENT_ID up to the end of its section."""
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</section>", start)]


@pytest.fixture(scope="module")
def graded_class(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    roster = make_class(root)
    before = (git(root / "deadlock-repo", "rev-parse", "HEAD"),
              git(root / "deadlock-repo", "status", "--porcelain"))
    straight = finish(start(roster, root / "straight", "straight"))
    proc = start(roster, root / "resumed", "first")
    deadline = time.monotonic() + GRADE_TIMEOUT_S
    while len(saved(root / "resumed")) < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "two submissions were not saved in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    interrupted = finish(proc)
    saved_first = saved(root / "resumed")
    resumed = finish(start(roster, root / "resumed", "resume"))
    after = (git(root / "deadlock-repo", "rev-parse", "HEAD"),
             git(root / "deadlock-repo", "status", "--porcelain"))
    return {"root": root, "straight": straight, "interrupted": interrupted,
            "resumed": resumed, "saved_first": saved_first, "sources": (before, after)}


@pytest.mark.timeout(3 * GRADE_TIMEOUT_S)
def test_an_interrupted_grading_resumes_to_the_same_class_report(graded_class):
    root = graded_class["root"]
    code, out = graded_class["straight"]
    assert code == 1, out                      # some submissions fail: a grade
    code, out = graded_class["interrupted"]
    assert code == 130 and "stopped: interrupted by SIGINT" in out, out
    first = graded_class["saved_first"]
    assert 2 <= len(first) < len(NAMES), out
    code, out = graded_class["resumed"]
    assert code == 1 and f"{len(first)} submission(s) already graded" in out, out
    again = boots(root, "resume")
    assert not [b for b in again if b[0] in first], "a saved submission was booted again"
    straight_boots = {b for b in boots(root, "straight") if b[0] not in first}
    assert set(again) == straight_boots        # the others ran every scenario, once more
    a, b = root / "straight", root / "resumed"
    assert (a / "grades.csv").read_text() == (b / "grades.csv").read_text()
    for element in ("heatmap", "signatures", "most-wrong"):
        assert section((a / "index.html").read_text(), element) == \
            section((b / "index.html").read_text(), element)
    assert not list((b / "work").glob("*")), "checkouts left in the work folder"
    before, after = graded_class["sources"]
    assert before == after, "the graded repository was changed"


def test_the_class_report_says_who_failed_how(graded_class):
    report = graded_class["root"] / "resumed"
    rows = {row["name"]: row for row in csv.DictReader((report / "grades.csv").open())}
    assert [rows[n]["total"] for n in NAMES] == ["2", "1", "0", "1", "2"]
    assert rows["broken"]["build"] == "BUILD_FAILED"
    assert rows["deadlock"]["source"] == "deadlock-repo@" + rows["deadlock"]["source"].split("@")[1]
    html = (report / "index.html").read_text()
    groups = section(html, "signatures")
    assert "<code>dl-wait</code> — HANG: deadlock" in groups
    assert "<code>fault-pf-null-read</code> — KERNEL_PANIC" in groups
    assert "(build)</code> — BUILD_FAILED" in groups
    log = (report / "submissions" / "broken" / "build.log").read_text()
    assert "swap.c" in log and "error" in log
    graded = (report / "submissions" / "broken" / "autograder.json").read_text()
    assert "swap.c" in graded and '"score": 0' in graded
    assert (report / "junit.xml").read_text().count("<testcase") == len(NAMES) * len(SCENARIOS)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make deps`)")
def test_the_class_report_in_headless_chromium(graded_class, tmp_path):
    index = graded_class["root"] / "resumed" / "index.html"
    dom = chromium(tmp_path / "profile", "--virtual-time-budget=3000", "--dump-dom",
                   index.as_uri() + "#area=fork")
    cells = re.findall(r'<td class="hm-cell" data-area="(\w+)" data-key="\d+"( hidden="")?>', dom)
    assert cells and all(bool(hidden) == (area != "fork") for area, hidden in cells)
    assert re.search(r'<a class="hm v-HANG" href="submissions/deadlock/scenarios/dl-wait.html"',
                     dom)
    assert "5 of 5 submissions" in dom
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "class-report.png"
    chromium(tmp_path / "profile2", f"--screenshot={shot}", index.as_uri())
    assert png_size(shot)[0] > 0
