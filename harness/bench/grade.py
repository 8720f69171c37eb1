"""Benchmark of class grading (`make bench-grade`): the same roster graded
on this machine with `vmcheck grade --jobs 2`, and as a two-shard CI run
of ci/grading/.gitlab-ci.yml through gitlab-ci-local (two shard jobs of
one machine each, then the class-report job).

    /usr/bin/python3 -m harness.bench.grade TREE... --out DIR [--scenarios P...]

Each TREE (a Pintos-KAIST git repository; its HEAD is graded) becomes a
git bundle in DIR/grading/bundles/; the reference kernel's sources are
added as one more submission (family `reference`). DIR/grading is a git
repository (the grading repository the CI template expects). Prints the
wall time of both runs with the load average before and after (the
machine may be shared: say so when quoting the numbers), and whether the
two class folders' grades.csv agree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import config, interrupt

GITLAB_CI_LOCAL = config.REPO_ROOT / "tools" / "node_modules" / ".bin" / "gitlab-ci-local"
TEMPLATE = config.REPO_ROOT / "ci" / "grading" / ".gitlab-ci.yml"
RUN_TIMEOUT_S = 6 * 3600
STOP_WAIT_S = 60


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "safe.directory=*", "-c", "user.email=bench@example.org",
                           "-c", "user.name=bench", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def grading_repository(out: Path, trees: list, scenarios: list) -> Path:
    """DIR/grading: roster, bundles of TREES, the reference kernel's tree."""
    repo = out / "grading"
    shutil.rmtree(repo, ignore_errors=True)
    (repo / "bundles").mkdir(parents=True)
    shutil.copytree(config.REPO_ROOT / "reference_kernel", repo / "trees" / "reference")
    lines = [f"scenarios = {scenarios!r}"] if scenarios else []
    for tree in trees:
        name = tree.name
        git(tree, "bundle", "create", "-q", str(repo / "bundles" / f"{name}.bundle"), "HEAD")
        lines += ["[[submission]]", f'name = "{name}"', f'repo = "bundles/{name}.bundle"',
                  f'commit = "{git(tree, "rev-parse", "HEAD")}"']
    lines += ["[[submission]]", 'name = "reference"', 'path = "trees/reference"',
              'kernel = "reference"']
    (repo / "roster.toml").write_text("\n".join(lines) + "\n")
    text = TEMPLATE.read_text().replace("  parallel: 4\n", "  parallel: 2\n")
    (repo / ".gitlab-ci.yml").write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "roster")
    return repo


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(command: list, cwd: Path, log: Path) -> tuple:
    """(exit status, wall seconds, load before, load after) of COMMAND, run
    in a process group of its own; a stop signal here (or the time limit)
    stops the whole group (SIGTERM: a `vmcheck grade` saves what it has)."""
    before = load()
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            status = proc.wait(RUN_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                _stop_group(proc)
    return status, time.monotonic() - start, before, load()


def _stop_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(prog="harness.bench.grade",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, metavar="TREE")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--scenarios", nargs="+", default=[], metavar="PATTERN")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not GITLAB_CI_LOCAL.exists():
        print(f"harness.bench.grade: {GITLAB_CI_LOCAL} is missing: run `make deps`",
              file=sys.stderr)
        return 2
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    repo = grading_repository(out, [t.resolve() for t in args.trees], args.scenarios)
    scale = os.environ.get("VMCHECK_TIMEOUT_SCALE") or "1"
    local = timed([str(config.REPO_ROOT / "vmcheck"), "grade", "roster.toml", "--jobs",
                   str(args.jobs), "--timeout-scale", scale, "--report", str(out / "local")],
                  repo, out / "local.log")
    ci = timed([str(GITLAB_CI_LOCAL), "--force-shell-executor", "--shell-isolation", "--no-color",
                f"--variable=VMCHECK_DIR={config.REPO_ROOT}", "--variable=VMCHECK_JOBS=1",
                f"--variable=VMCHECK_TIMEOUT_SCALE={scale}"], repo, out / "ci.log")
    same = (out / "local" / "grades.csv").read_text() == (repo / "class" / "grades.csv").read_text()
    print(f"{len(args.trees) + 1} submissions, scenarios: {' '.join(args.scenarios) or 'all'}")
    print(f"{'run':<44} {'status':>6} {'wall s':>8}  load before -> after")
    for label, (status, seconds, before, after) in (
            (f"vmcheck grade --jobs {args.jobs}", local),
            ("gitlab-ci-local: 2 shard jobs x 1 machine + report", ci)):
        print(f"{label:<44} {status:>6} {seconds:8.0f}  {before} -> {after}")
    print(f"grades.csv of both runs {'agree' if same else 'DIFFER'}: "
          f"{out / 'local' / 'grades.csv'}, {repo / 'class' / 'grades.csv'}")
    return 0 if same and local[0] in (0, 1) and ci[0] == 0 else 1


if __name__ == "__main__":
    with interrupt.handling():    # SIGINT, SIGTERM, SIGHUP: the running command is stopped
        sys.exit(main(sys.argv[1:]))
