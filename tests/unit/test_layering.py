"""The layers of the Python code point one way (docs/architecture.md):

  oracles/model/   the machine-state model: imports nothing outside itself
  oracles/         the checks over it: import nothing from the other folders
  results/         the results model: imports only itself and oracles/model/
  reports/         renders results: imports only results/ and oracles/model/
  harness/         everything else; only harness/cli/ imports reports/

so the top-level folders import each other one way (oracles < results <
reports < harness), and no two packages import each other, directly or
round a longer loop.
The imports are read from the source (tests/tools/import_graph.py); a
failure names each offending import by file, line and statement.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.tools.import_graph import PACKAGES, REPO_ROOT, imports, modules, package_of

# (modules under this prefix, the only prefixes they may import)
ONLY = (("oracles.model", ("oracles.model",)),
        ("oracles", ("oracles",)),
        ("results", ("results", "oracles.model")),
        ("reports", ("reports", "results", "oracles.model")))
REPORTS_IMPORTED_BY = ("harness.cli",)


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def rule_breaks(found: list) -> list[str]:
    """One line per import that breaks ONLY or REPORTS_IMPORTED_BY."""
    out = []
    for imp in found:
        rule = next((allowed for prefix, allowed in ONLY if _under(imp.source, prefix)), None)
        if rule is not None and not any(_under(imp.target, a) for a in rule):
            out.append(f"{imp}  ({imp.source} may import only {', '.join(rule)})")
        elif (_under(imp.target, "reports") and _under(imp.source, "harness")
              and not any(_under(imp.source, p) for p in REPORTS_IMPORTED_BY)):
            out.append(f"{imp}  (only {', '.join(REPORTS_IMPORTED_BY)} imports reports)")
    return out


def _loops(edges: dict) -> list[list[str]]:
    """The strongly connected sets of more than one package (Tarjan)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    found: list = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def package_loops(found: list, known: dict) -> list[str]:
    """One line per loop of packages, with the imports that close it."""
    edges: dict = {}
    for imp in found:
        a, b = package_of(imp.source, known), package_of(imp.target, known)
        if a != b:
            edges.setdefault(a, set()).add(b)
    out = []
    for members in _loops(edges):
        ties = [str(imp) for imp in found
                if package_of(imp.source, known) in members
                and package_of(imp.target, known) in members
                and package_of(imp.source, known) != package_of(imp.target, known)]
        out.append(f"packages import each other: {', '.join(members)}\n    "
                   + "\n    ".join(ties))
    return out


def layering_problems(root: Path) -> list[str]:
    found = imports(root)
    return rule_breaks(found) + package_loops(found, modules(root))


def test_the_project_keeps_its_layers():
    problems = layering_problems(REPO_ROOT)
    assert not problems, "imports that break the layers:\n" + "\n".join(problems)


def _copy_of_the_project(tmp_path: Path) -> Path:
    for top in PACKAGES:
        shutil.copytree(REPO_ROOT / top, tmp_path / top,
                        ignore=shutil.ignore_patterns("__pycache__", "out"))
    return tmp_path


def _plant(root: Path, relative: str, statement: str) -> int:
    """Adds STATEMENT at the top of ROOT/RELATIVE; its line number."""
    path = root / relative
    path.write_text(statement + "\n" + path.read_text())
    return 1


def test_an_oracle_that_imports_the_harness_is_named(tmp_path):
    root = _copy_of_the_project(tmp_path)
    line = _plant(root, "oracles/model/page_tables.py", "from harness.config import REPO_ROOT")
    problems = layering_problems(root)
    assert problems == [f"oracles/model/page_tables.py:{line}: from harness.config import "
                        "REPO_ROOT  (oracles.model.page_tables may import only oracles.model)"]


def test_a_report_that_imports_the_runner_is_named(tmp_path):
    root = _copy_of_the_project(tmp_path)
    _plant(root, "reports/text.py", "import harness.run.runner")
    assert any(p.startswith("reports/text.py:1: import harness.run.runner  (reports.text may "
                            "import only reports, results, oracles.model)")
               for p in layering_problems(root))


def test_a_harness_module_outside_the_cli_that_imports_reports_is_named(tmp_path):
    root = _copy_of_the_project(tmp_path)
    _plant(root, "harness/run/suite.py", "from reports import write_report")
    assert "harness/run/suite.py:1: from reports import write_report  (only harness.cli " \
           "imports reports)" in layering_problems(root)


def test_a_loop_of_packages_is_named_with_its_imports(tmp_path):
    root = _copy_of_the_project(tmp_path)
    _plant(root, "harness/machine/qemu.py", "from harness.cli.options import timeout_scale")
    problems = layering_problems(root)
    assert len(problems) == 1 and problems[0].startswith("packages import each other: ")
    assert "harness.cli" in problems[0] and "harness.machine" in problems[0]
    assert "harness/machine/qemu.py:1: from harness.cli.options import timeout_scale" \
        in problems[0]
