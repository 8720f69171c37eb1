"""The GitLab pipelines in ci/ run as pipelines: gitlab-ci-local (npm,
installed by `make deps`) runs each with its shell executor on this
machine, two shard jobs and the report job, against the reference kernel.

  ci/gitlab/.gitlab-ci.yml    one tree: two shards of a selection, merged
                              into merged/ (report and JUnit)
  ci/grading/.gitlab-ci.yml   a grading repository: a roster of two
                              submissions over two shard jobs, merged into
                              class/ (class report, grades.csv, JUnit)

Each pipeline file is used as it is, except `parallel: 4`, set to 2 here
(GitLab reads `parallel` as a number, not a variable). Skipped, saying
why, when the npm tools are missing, except under CI=true.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_ci_templates import build_lock
from tests.integration.test_grade import git, kernel_tree
from tests.tools.ci_tools import GITLAB_CI_LOCAL, REPO_ROOT, need

pytestmark = pytest.mark.integration

PIPELINE_TIMEOUT_S = 900
SHARDS = 2


def project(root: Path, template: Path) -> Path:
    """ROOT as a git repository holding TEMPLATE as its .gitlab-ci.yml with
    SHARDS parallel jobs, plus whatever is in ROOT already."""
    text = template.read_text()
    assert text.count("  parallel: 4\n") == 1, "the template's shard count moved"
    (root / ".gitlab-ci.yml").write_text(text.replace("  parallel: 4\n", f"  parallel: {SHARDS}\n"))
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "grading")
    return root


def run_pipeline(root: Path, built: Path, **variables: str) -> str:
    """Runs the whole pipeline in ROOT (shell executor, each job in a copy
    of the project, artifacts passed between jobs); its output."""
    need(GITLAB_CI_LOCAL, "gitlab-ci-local (npm)")
    scale = os.environ.get("VMCHECK_TIMEOUT_SCALE") or "3"
    settings = {"VMCHECK_DIR": str(REPO_ROOT), "VMCHECK_JOBS": "1",
                "VMCHECK_TIMEOUT_SCALE": scale, **variables}
    command = [str(GITLAB_CI_LOCAL), "--force-shell-executor", "--shell-isolation",
               "--no-color", *[f"--variable={k}={v}" for k, v in settings.items()]]
    with build_lock(built):    # its jobs run `make` in this tree
        done = subprocess.run(command, cwd=root, capture_output=True, text=True,
                              timeout=PIPELINE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"the pipeline failed ({done.returncode}):\n{output[-6000:]}"
    return output


@pytest.mark.timeout(PIPELINE_TIMEOUT_S + 60)
def test_the_gitlab_pipeline_runs_two_shards_and_merges(built, tmp_path):
    root = project(tmp_path, REPO_ROOT / "ci" / "gitlab" / ".gitlab-ci.yml")
    output = run_pipeline(root, built, VMCHECK_KERNEL="reference", VMCHECK_SCENARIOS="hello args")
    for job in ("vmcheck-suite: [1/2]", "vmcheck-suite: [2/2]", "vmcheck-report"):
        assert f"PASS  {job}" in output, output[-3000:]
    assert (root / "merged" / "index.html").is_file()
    junit = (root / "merged" / "junit.xml").read_text()
    assert junit.count("<testcase") == 2 and 'name="hello"' in junit and 'name="args"' in junit
    assert {p.name for p in root.glob("out-*")} == {"out-1", "out-2"}


@pytest.mark.timeout(PIPELINE_TIMEOUT_S + 60)
def test_the_grading_pipeline_grades_a_roster_in_two_shards(built, tmp_path):
    kernel_tree(tmp_path / "trees" / "ref")
    mutant = kernel_tree(tmp_path / "src" / "mut", "panic-on-bad-access")
    git(mutant, "init", "-q")
    git(mutant, "add", ".")
    git(mutant, "commit", "-qm", "mutant")
    (tmp_path / "bundles").mkdir()
    git(mutant, "bundle", "create", "-q", str(tmp_path / "bundles" / "mut.bundle"), "HEAD")
    shutil.rmtree(tmp_path / "src")
    (tmp_path / "roster.toml").write_text(
        'kernel = "reference"\nscenarios = ["hello", "fault-pf-null-read"]\n'
        '[[submission]]\nname = "ref"\npath = "trees/ref"\n'
        '[[submission]]\nname = "mut"\nrepo = "bundles/mut.bundle"\ncommit = "HEAD"\n')
    root = project(tmp_path, REPO_ROOT / "ci" / "grading" / ".gitlab-ci.yml")
    output = run_pipeline(root, built)
    for job in ("vmcheck-grade: [1/2]", "vmcheck-grade: [2/2]", "vmcheck-class-report"):
        assert f"PASS  {job}" in output, output[-3000:]
    for k, name in ((1, "ref"), (2, "mut")):      # one submission per shard, in roster order
        assert [p.name for p in (root / f"class-{k}" / "submissions").iterdir()] == [name]
    rows = {r["name"]: r for r in csv.DictReader((root / "class" / "grades.csv").open())}
    assert (rows["ref"]["total"], rows["mut"]["total"]) == ("2", "1")
    assert (root / "class" / "index.html").is_file()
    junit = (root / "class" / "junit.xml").read_text()
    assert junit.count("<testcase") == 4 and 'classname="mut.robustness"' in junit
    assert 'type="KERNEL_PANIC"' in junit
