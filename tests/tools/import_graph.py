"""The import graph of the project's Python packages (harness, oracles,
results, reports), read from the source with `ast`: which module imports which, in
which file and at which line. tests/unit/test_layering.py judges it;

    /usr/bin/python3 -m tests.tools.import_graph [ROOT]

prints the figures docs/architecture.md quotes: modules, top-level modules
of harness/, import edges between modules, between packages and between
the top-level folders.

A module's package is the folder it is in (harness.run, oracles.model,
reports...), except the top-level modules of harness/ (config, errors,
interrupt, the pytest plugin): each is a package of its own, so that the
shared base (config, errors) is not tied into one knot with the pytest
plugin, which imports the runner.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

PACKAGES = ("harness", "oracles", "results", "reports")
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Import:
    source: str      # the importing module (dotted)
    target: str      # the imported project module (dotted)
    path: Path       # the importing file
    line: int
    text: str        # the statement as written (first line)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def modules(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of PACKAGES under ROOT."""
    found = {}
    for top in PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict) -> str | None:
    """The project module NAME refers to (a name inside a module counts as
    the module), None if it is not the project's."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.AST, package: str) -> list[str]:
    """The dotted names an import statement brings in ('from A import b'
    gives A.b, which is module A.b or a name inside A)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(parts + ([base] if base else []))
    return [f"{base}.{alias.name}" for alias in node.names]


def imports(root: Path = REPO_ROOT) -> list[Import]:
    """Every import of a project module by a project module (imports inside
    functions too), one per statement and target."""
    known = modules(root)
    found = []
    for module, path in known.items():
        text = path.read_text()
        lines = text.splitlines()
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(text, str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets = {_resolve(name, known) for name in _targets(node, package)}
            for target in sorted(t for t in targets if t and t != module):
                found.append(Import(module, target, path.relative_to(root), node.lineno,
                                    lines[node.lineno - 1].strip()))
    return found


def package_of(module: str, known: dict) -> str:
    """The package MODULE belongs to (see the module's docstring)."""
    path = known[module]
    if path.name == "__init__.py":
        return module
    parent = module.rpartition(".")[0]
    return module if parent == "harness" else parent


def figures(root: Path = REPO_ROOT) -> dict:
    known = modules(root)
    found = imports(root)
    pairs = {(i.source, i.target) for i in found}
    packages = {(package_of(a, known), package_of(b, known)) for a, b in pairs}
    top_level = [p for p in (root / "harness").glob("*.py") if p.name != "__init__.py"]
    return {"modules": len(known),
            "top-level modules in harness/": len(top_level),
            "import edges between modules": len(pairs),
            "import edges between modules inside harness/": sum(
                1 for a, b in pairs if a.startswith("harness") and b.startswith("harness")),
            "packages": len({package_of(m, known) for m in known}),
            "import edges between packages": sum(1 for a, b in packages if a != b),
            "import edges between top-level folders": sorted(
                f"{a} -> {b}" for a, b in {(a.split(".")[0], b.split(".")[0]) for a, b in pairs}
                if a != b)}


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else REPO_ROOT
    for name, value in figures(root).items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
