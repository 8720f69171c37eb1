"""A Pintos-KAIST tree whose struct page, its union's structs and struct
frame have every member renamed (tests/tools/rename_members.py) gets the
same verdicts as the tree itself on scenarios that read the SPT, or one
that fails nothing new, never a new FAIL: the harness finds the members by
what the kernel does with them, not by their names.

Skipped unless VMCHECK_PINTOS_TREE names a Project 3 tree (the tree is
built; the copy goes to a temporary folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from harness.adapters.pintos_kaist.adapter import find_tree
from tests.tools.rename_members import rename_tree
from tests.tools.renamed_verdicts import new_failures, run

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(3600),
              pytest.mark.skipif(not os.environ.get("VMCHECK_PINTOS_TREE"),
                                 reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")]

SCENARIOS = ["lazy-anon", "ro-data-read", "ro-data-write", "evict-anon"]


def test_renamed_members_change_no_verdict_for_the_worse(tmp_path):
    tree = find_tree(Path(os.environ["VMCHECK_PINTOS_TREE"]))
    names = rename_tree(tree, tmp_path / "renamed")
    assert all(re.fullmatch(r"zq\d+", new) for new in names.values())
    original = run(tree, tmp_path / "original-report", SCENARIOS, 2)
    renamed = run(tmp_path / "renamed", tmp_path / "renamed-report", SCENARIOS, 2)
    assert new_failures(original, renamed) == []
    lazy = next(sc for sc in renamed.scenarios if sc.name == "lazy-anon")
    if not lazy.checkpoints:
        pytest.skip(f"lazy-anon reached no checkpoint on this tree ({lazy.reason})")
    notes = "\n".join(lazy.spt_layout)
    assert re.search(r"^va = page\.zq\d+: ", notes, re.MULTILINE), notes
    assert re.search(r"^frame = page\.zq\d+->zq\d+: ", notes, re.MULTILINE), notes
