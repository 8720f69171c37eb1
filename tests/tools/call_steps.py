"""The path of one `./vmcheck run NAME` through the project's modules,
measured by running it: every call from a function of one module of
harness/, oracles/ or reports/ into a function of another is a step.
Prints the distinct steps (caller -> callee, by function) up to the first
call into reports/ (the verdict) and from there on (the report), the
modules passed, and how many distinct functions of the runner module are
entered from outside it. docs/architecture.md quotes the figures.

    /usr/bin/python3 -m tests.tools.call_steps [--root TREE] [--list] -- run hello --report DIR

TREE is the checkout to measure (default: this one), so that the same
script measures an older tree too.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import threading
from pathlib import Path

PACKAGES = ("harness", "oracles", "results", "reports")
RUNNER_MODULES = ("harness.runner", "harness.run.runner")


class StepRecorder:
    """Collects cross-module calls (profile hook) in first-seen order."""

    def __init__(self, root: Path):
        self.root = root
        self.steps: dict = {}          # (caller, callee) -> phase
        self.phase = "verdict"
        self.lock = threading.Lock()
        self._names: dict = {}

    def _module(self, filename: str):
        if filename not in self._names:
            path = Path(filename)
            try:
                parts = list(path.resolve().relative_to(self.root).with_suffix("").parts)
            except ValueError:
                parts = []
            if parts and parts[-1] == "__init__":
                parts.pop()
            self._names[filename] = ".".join(parts) if parts and parts[0] in PACKAGES else None
        return self._names[filename]

    def __call__(self, frame, event, arg):
        if event != "call" or frame.f_back is None:
            return
        callee = self._module(frame.f_code.co_filename)
        caller = self._module(frame.f_back.f_code.co_filename)
        if callee is None or caller is None or callee == caller:
            return
        if callee.split(".")[0] == "reports":
            self.phase = "report"
        key = (f"{caller}:{frame.f_back.f_code.co_name}", f"{callee}:{frame.f_code.co_name}")
        with self.lock:
            self.steps.setdefault(key, self.phase)


def measure(root: Path, argv: list[str]) -> StepRecorder:
    sys.path.insert(0, str(root))
    recorder = StepRecorder(root.resolve())
    main = _main_of(root)
    threading.setprofile(recorder)
    sys.setprofile(recorder)
    try:
        main(argv)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return recorder


def _main_of(root: Path):
    """The vmcheck entry point of the tree at ROOT (as its ./vmcheck script names it)."""
    script = (root / "vmcheck").read_text()
    module = "harness.cli.main" if "harness.cli.main" in script else "harness.cli"
    return importlib.import_module(module).main


def report(recorder: StepRecorder, listing: bool) -> None:
    for phase in ("verdict", "report"):
        steps = [k for k, p in recorder.steps.items() if p == phase]
        modules = {m.split(":")[0] for k in steps for m in k}
        print(f"{phase}: {len(steps)} steps between modules, {len(modules)} modules")
        if listing:
            for caller, callee in steps:
                print(f"  {caller} -> {callee}")
    entries = {callee for (caller, callee) in recorder.steps
               if callee.split(":")[0] in RUNNER_MODULES}
    print(f"runner module: {len(entries)} functions entered from other modules: "
          f"{', '.join(sorted(e.split(':')[1] for e in entries))}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.tools.call_steps")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--list", action="store_true", help="list every step")
    parser.add_argument("command", nargs="+", help="the vmcheck command line (after --)")
    args = parser.parse_args(argv)
    report(measure(args.root.resolve(), args.command), args.list)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
