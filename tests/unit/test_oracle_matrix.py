"""docs/oracles.md, the state-check matrix, stays true: every operation
section covers every state field, every cell either names checks that
exist (scenario, checkpoint, expectation or an invariant that runs there,
an after-run check, the program's output, exit status or the power-off
leak check) or gives a reason, and the hand-written mutants it lists are
in the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.course.mutants import load_catalogue
from harness.run.suite import load_all
from oracles.expectations import CHECKS
from oracles.invariants import INVARIANTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "oracles.md"
FIELDS = ("pte.P", "pte.W", "pte.U", "pte.A", "pte.D", "pte.NX", "spt.type", "spt.writable",
          "spt.resident", "spt.swap_slot", "spt.file", "spt.offset", "spt.dirty",
          "frame.owner", "frame.sharers", "swap.slots", "pools")
BASE_OPERATIONS = ("lazy-load", "stack-growth", "mmap", "munmap", "write-back", "evict",
                   "swap-in", "fork", "cow-fault", "cow-unshare", "exit")
OPERATIONS = BASE_OPERATIONS + tuple(op + "!" for op in BASE_OPERATIONS)
PIN = re.compile(r"`([a-z0-9][a-z0-9._-]*)#(leak|exit|output|after:[a-z_]+|\d+:[a-z_]+)`")
ROW = re.compile(r"^\| `([^`]+)` \| (.*) \|$")
NA = "n/a:"


def parse_matrix(text: str) -> dict:
    """{operation: {field: cell}} from the `### OPERATION` tables of TEXT
    (sections whose title is no operation are skipped)."""
    matrix: dict = {}
    section = None
    for line in text.splitlines():
        if line.startswith("#"):
            section = line.lstrip("#").strip()
            if section in OPERATIONS:
                matrix[section] = {}
            continue
        row = ROW.match(line)
        if row and section in matrix:
            matrix[section][row.group(1)] = row.group(2).strip()
    return matrix


def pin_problem(pin: tuple, suite: dict) -> str | None:
    """Why PIN (scenario, what) names no check that exists, or None."""
    name, what = pin
    sc = suite.get(name)
    if sc is None:
        return f"no scenario {name!r}"
    if what in ("leak", "exit"):
        return None
    if what == "output":
        return None if any(o.output for o in sc.outcomes) else f"{name} declares no output"
    kind, check = what.split(":")
    if kind == "after":
        return None if any(a.check == check for a in sc.after) else \
            f"{name} has no after-run check {check!r}"
    specs = [c for c in sc.checkpoints if c.id == int(kind)]
    if not specs:
        return f"{name} has no checkpoint {kind}"
    if check in INVARIANTS:
        if check in sc.invariants_off or not any(c.invariants for c in specs):
            return f"invariant {check} does not run at {name} checkpoint {kind}"
        return None
    if check not in CHECKS:
        return f"{check!r} is neither an expectation nor an invariant"
    if not any(e.check == check for c in specs for e in c.expect):
        return f"{name} checkpoint {kind} has no {check!r} expectation"
    return None


def cell_problems(operation: str, cells: dict) -> list[str]:
    """What is missing or wrong in one operation's cells (pins aside)."""
    out = [f"{operation}: unknown field {f!r}" for f in cells if f != "*" and f not in FIELDS]
    if "*" not in cells:
        out += [f"{operation}: no cell for {f}" for f in FIELDS if f not in cells]
    for field, cell in cells.items():
        if cell.startswith(NA):
            if len(cell[len(NA):].strip()) < 10:
                out.append(f"{operation} / {field}: n/a without a reason")
        elif field == "*":
            out.append(f"{operation}: the `*` row must be n/a with a reason")
        elif not PIN.search(cell):
            out.append(f"{operation} / {field}: neither a check nor a reason: {cell!r}")
    return out


def matrix_problems(text: str, suite: dict) -> list[str]:
    matrix = parse_matrix(text)
    out = [f"no section for operation {op}" for op in OPERATIONS if op not in matrix]
    for operation, cells in matrix.items():
        out += cell_problems(operation, cells)
    out += [f"{name}#{what}: {problem}" for name, what in set(PIN.findall(text))
            if (problem := pin_problem((name, what), suite))]
    return out


@pytest.fixture(scope="module")
def suite():
    return {sc.name: sc for sc in load_all(None, None)}


def test_the_matrix_has_no_empty_cell_and_every_pin_exists(suite):
    assert matrix_problems(DOC.read_text(), suite) == []


def test_the_matrix_check_fails_on_a_wrong_pin_or_a_missing_cell(suite):
    text = DOC.read_text()
    assert matrix_problems(text.replace("`cow-three#5:unshared_frame_writable`",
                                        "`cow-three#9:unshared_frame_writable`"), suite)
    assert matrix_problems(text.replace("`evict-anon#1:swap_used`",
                                        "`evict-anon#2:swap_used`"), suite)
    assert matrix_problems(text.replace("`mmap-write#after:file_cksum`",
                                        "`mmap-write#after:file_bytes`"), suite)
    assert matrix_problems(text.replace("| `pte.A` | `hot-page#1:pages` (second chance: a page "
                                        "accessed between faults keeps its frame) |\n", ""), suite)
    assert matrix_problems(text.replace("| `pte.D` | n/a: a page read back from swap is "
                                        "anonymous; swap saves it whatever D says |",
                                        "| `pte.D` | n/a: |"), suite)


def test_the_mutants_the_page_lists_are_catalogued(suite):
    names = {m.name for m in load_catalogue()}
    table = DOC.read_text().split("## Hand-written mutants", 1)[1]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (.*?) \|", table, re.M)
    assert rows
    for mutant, killers in rows:
        assert mutant in names, mutant
        for scenario in re.findall(r"`([a-z0-9-]+)`", killers):
            assert scenario in suite, scenario
