"""pytest plugin: every scenario of scenarios/suite/*.toml is a test item.

    /usr/bin/python3 -m pytest -p harness.pytest_plugin scenarios/suite -n 2
    ... -k mmap-read            one scenario by name
    ... -m swap                 an area (every area is a marker)
    ... --vmcheck-kernel pintos-kaist:PATH --junitxml out.xml

Options (group "vmcheck"), each also a fixture of the same name; a value
comes from the command line, else the environment, else the default:
  --vmcheck-kernel        VMCHECK_KERNEL          reference
  --vmcheck-accel         VMCHECK_ACCEL           tcg
  --vmcheck-timeout-scale VMCHECK_TIMEOUT_SCALE   1
  --vmcheck-artifacts     VMCHECK_ARTIFACTS       out/pytest (config.PYTEST_ARTIFACTS)
  --vmcheck-inject        (repeatable)            none
A failing scenario's report shows the verdict, every violation with
expected vs actual, and the path of its artifact folder (console.log,
QEMU log). The plugin is thin: it calls the same runner as `vmcheck run`.
SIGINT, SIGTERM and SIGHUP kill the running machine at once and stop the
session as Ctrl-C does; pytest then exits 128 + the signal (130, 143).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import config, interrupt
from harness.run.scenario import AREAS, ScenarioError, load_file

_SIGNALS = pytest.StashKey[dict]()

OPTIONS = {  # name: (environment variable, default, help)
    "kernel": ("VMCHECK_KERNEL", "reference", "kernel: reference or pintos-kaist:PATH"),
    "accel": ("VMCHECK_ACCEL", "tcg", "QEMU accelerator: tcg or kvm"),
    "timeout_scale": ("VMCHECK_TIMEOUT_SCALE", "1", "multiply every timeout"),
    "artifacts": ("VMCHECK_ARTIFACTS", str(config.PYTEST_ARTIFACTS),
                  "folder for per-scenario run folders (kept on failure)"),
}


def pytest_addoption(parser):
    group = parser.getgroup("vmcheck", "vmcheck scenarios")
    for name, (env, default, text) in OPTIONS.items():
        group.addoption(f"--vmcheck-{name.replace('_', '-')}", dest=f"vmcheck_{name}",
                        default=None, help=f"{text} (default: ${env} or {default})")
    group.addoption("--vmcheck-inject", dest="vmcheck_inject", action="append", default=[],
                    help="injection added to every scenario, POINT:KIND[:k=v,...] (default: none)")
    group.addoption("--vmcheck-strict", dest="vmcheck_strict", action="store_true",
                    help="an UNKNOWN check (could not inspect) fails the scenario "
                         "(default: it passes with a note)")


def pytest_configure(config):
    for area in AREAS:
        config.addinivalue_line("markers", f"{area}: vmcheck scenarios of area {area}")
    config.addinivalue_line("markers", "scenario: a vmcheck conformance scenario")
    config.stash[_SIGNALS] = interrupt.install()


def pytest_sessionfinish(session):
    """After SIGINT/SIGTERM/SIGHUP (harness/interrupt.py: machines killed at
    once, pytest stopped as by Ctrl-C), exit 128 + the signal, as the CLI."""
    code = interrupt.exit_code()
    if code is not None:
        session.exitstatus = code


def pytest_unconfigure(config):
    interrupt.restore(config.stash.get(_SIGNALS, {}))


def _option(config, name: str) -> str:
    env, default, _ = OPTIONS[name]
    value = config.getoption(f"vmcheck_{name}")
    return value if value is not None else os.environ.get(env, default)


for _name in OPTIONS:
    def _fixture(request, _name=_name):
        return _option(request.config, _name)
    _fixture.__name__ = f"vmcheck_{_name}"
    globals()[f"vmcheck_{_name}"] = pytest.fixture(scope="session", name=f"vmcheck_{_name}")(_fixture)


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".toml" and file_path.parent.name == "suite":
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        try:
            scenarios = load_file(self.path)
        except ScenarioError as e:
            raise self.CollectError(str(e)) from None
        for sc in scenarios:
            item = ScenarioItem.from_parent(self, name=sc.name, scenario=sc)
            item.add_marker("scenario")
            item.add_marker(sc.area)
            yield item


_PREPARED: dict = {}   # --vmcheck-kernel spec -> None (ready) or the KernelBuildError


def _build_failure(adapter, scenario):
    """A BUILD_FAILED result if ADAPTER's kernel does not build, else None.
    The kernel is prepared (a student tree built) once per pytest process."""
    from harness.errors import KernelBuildError
    from harness.run.runner import build_failed_results
    key = (adapter.name, str(getattr(adapter, "tree", "")))
    if key not in _PREPARED:
        try:
            adapter.prepare()
            _PREPARED[key] = None
        except KernelBuildError as e:
            _PREPARED[key] = e
    error = _PREPARED[key]
    return None if error is None else build_failed_results(adapter, [scenario], error)[0]


class ScenarioFailure(Exception):
    def __init__(self, result):
        self.result = result


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, **kw):
        super().__init__(**kw)
        self.scenario = scenario

    def runtest(self):
        from harness.adapters import get_adapter
        from harness.run.injection import parse_cli
        from harness.machine.qemu import MachineOptions
        from harness.run.runner import RunnerOptions, run_scenario
        cfg = self.config
        adapter = get_adapter(_option(cfg, "kernel"))
        artifacts = Path(_option(cfg, "artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        scale = float(_option(cfg, "timeout_scale"))
        machine = MachineOptions(accel=_option(cfg, "accel"), run_root=artifacts,
                                 timeouts=config.Timeouts(scale=scale))
        opts = RunnerOptions(machine=machine,
                             inject=tuple(parse_cli(s) for s in cfg.getoption("vmcheck_inject")),
                             strict=bool(cfg.getoption("vmcheck_strict")))
        result = _build_failure(adapter, self.scenario) or run_scenario(adapter, self.scenario,
                                                                        opts)
        self.user_properties += [("verdict", result.verdict.value), ("area", result.area),
                                 ("duration_s", result.duration_s)]
        self.user_properties += [("unknown", f"{where}: {v.oracle}: {v.message}")
                                 for where, v in result.unknowns]
        if result.verdict.value in ("NOT_RUN", "NOT_JUDGED"):   # no verdict: a stop signal
            pytest.skip(result.reason)       # came first, or the kernel cannot observe it
        if not result.verdict.passed:
            raise ScenarioFailure(result)

    def repr_failure(self, excinfo):
        if not isinstance(excinfo.value, ScenarioFailure):
            return super().repr_failure(excinfo)
        r = excinfo.value.result
        lines = [f"{r.verdict.value}: {r.reason}"]
        for v in r.violations:
            where = f" at {v.va:#x}" if v.va is not None else ""
            lines.append(f"  {v.oracle}{where}: {v.message}")
            if v.expected is not None or v.actual is not None:
                lines.append(f"    expected: {v.expected}\n    actual:   {v.actual}")
        tail = r.console.strip().splitlines()[-15:]
        lines += ["  console (last lines):"] + [f"    | {line}" for line in tail]
        lines.append(f"  artifacts: {r.artifacts or '(not kept)'}")
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, None, f"scenario {self.name} ({self.scenario.area})"
