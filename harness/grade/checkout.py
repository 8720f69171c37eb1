"""Putting one submission's tree into the work folder, never touching its source.

A local tree is copied (without `.git` and the `build/` folders a
previous build left); a git repository or bundle is cloned into the work
folder and COMMIT checked out, and then the `build/` folders that some
students commit are removed, so every kernel is built from its sources
with this machine's compiler.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from harness.grade.roster import Submission, git

SKIPPED = ("build", ".git")


class CheckoutError(Exception):
    """The submission's tree could not be put in place (a result of the
    submission, told as BUILD_FAILED: there is nothing to build)."""


def materialize(sub: Submission, tree: Path) -> Optional[str]:
    """Puts SUB's tree at TREE (which must not exist yet); returns the full
    commit checked out (git sources), None for a local tree."""
    if sub.path is not None:
        _copy_tree(sub.path, tree)
        return None
    return _clone(sub.repo, sub.commit, tree)


def _copy_tree(source: Path, tree: Path) -> None:
    if not source.is_dir():
        raise CheckoutError(f"{source} is not a folder")
    try:
        shutil.copytree(source, tree, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED))
    except (OSError, shutil.Error) as e:
        raise CheckoutError(f"cannot copy {source}: {e}") from None


def _clone(repo: Path, commit: str, tree: Path) -> str:
    done = git("clone", "--quiet", "--no-checkout", str(repo), str(tree))
    if done.returncode != 0:
        raise CheckoutError(f"git clone {repo} failed: {_last_line(done.stderr)}")
    done = git("-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach",
               commit, cwd=tree)
    if done.returncode != 0:
        raise CheckoutError(f"cannot check out {commit!r} of {repo}: {_last_line(done.stderr)}")
    head = git("rev-parse", "HEAD", cwd=tree).stdout.strip()
    shutil.rmtree(tree / ".git", ignore_errors=True)
    for built in list(tree.glob("build")) + list(tree.glob("*/build")):
        if built.is_dir() and not built.is_symlink():
            shutil.rmtree(built)
    return head


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"
