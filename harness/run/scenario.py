"""Scenario files: loading and validation.

A scenario file (scenarios/suite/*.toml) holds `[[scenario]]` tables; the
format is documented in scenarios/README.md. Every mistake is reported as
one line, `FILE:LINE: scenario 'NAME': KEY: what is wrong`, through
ScenarioError (a UsageError: exit code 2).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Optional

from harness.errors import UsageError
from harness.run.choices import choice_check, premise_check
from harness.run.injection import injection_from_table
from harness.run.scenario_lint import counts_check, lint
from oracles.schema import Field, SchemaError, in_range, one_of, validate_table
from harness.run.toml_lines import TomlLines, read_toml
from oracles.expectations import CHECKS, cross_check
from oracles.invariants import INVARIANTS

AREAS = ("lazy", "stack", "mmap", "swap", "fork", "cow", "robustness",
         "injection", "core")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class ScenarioError(UsageError):
    """A scenario file is malformed (exit code 2)."""


def _name_check(v):
    return None if NAME_RE.match(v) else f"{v!r} is not a valid name (lowercase letters, digits, . _ -)"


def _reasons_check(table):
    for key, reason in table.items():
        if key not in INVARIANTS:
            return f"unknown invariant '{key}' (known: {', '.join(sorted(INVARIANTS))})"
        if not isinstance(reason, str) or not reason.strip():
            return f"turning off '{key}' needs a reason (a non-empty string)"
    return None


SCENARIO_FIELDS = {
    "name": Field(str, check=_name_check),
    "program": Field(str, check=_name_check),
    "area": Field(str, None, check=one_of(*AREAS)),
    "description": Field(str, ""),
    "args": Field(list, [], items=str),
    "extra_programs": Field(list, [], items=str),
    "files": Field(list, [], items=str),
    "mem_mb": Field(int, 20, check=in_range(2, 4096)),
    "swap_mb": Field(int, 0, check=in_range(0, 4096)),
    "user_pages": Field(int, 0, check=in_range(0, 1 << 20)),
    "timeout": Field(float, 60.0, check=lambda v: None if 0 < v <= 3600 else
                     f"must be more than 0 and at most 3600 seconds, not {v}"),
    "exit_status": Field(int, 0, check=in_range(-1, 255)),
    "output": Field(list, [], items=str),
    "output_mode": Field(str, "lines", check=one_of("lines", "exact", "main-ordered")),
    "other_lines": Field(list, [], items=str),
    "also_accept": Field(list, [], items=dict),
    "output_absent": Field(list, [], items=str),
    "tags": Field(list, [], items=str),
    "invariants_off": Field(dict, {}, check=_reasons_check),
    "checkpoint": Field(list, [], items=dict),
    "after": Field(list, [], items=dict),
    "inject": Field(list, [], items=dict),
    "killed_by": Field(int, None, check=in_range(0, 31)),
    "assumes": Field(list, [], items=str, check=choice_check),
    "output_needs_premise": Field(bool, False),
}
ALTERNATIVE_FIELDS = {
    "exit_status": Field(int, check=in_range(-1, 255)),
    "output": Field(list, items=str),
    "other_lines": Field(list, [], items=str),
    "checkpoints": Field(dict, {}, check=counts_check),   # id -> hits in this ending
}
CHECKPOINT_FIELDS = {
    "id": Field(int, check=in_range(0, 1 << 30)),
    "program": Field(str, None, check=_name_check),
    "process": Field(str, None),
    "count": Field(int, None, check=in_range(0, 1 << 20)),
    "steal_frames": Field(int, 0, check=in_range(0, 4096)),
    "hit": Field((int, str), 1, check=lambda v: None if v == "every" or (
        isinstance(v, int) and v >= 1) else "must be a hit number >= 1 or \"every\""),
    "expect": Field(list, [], items=dict),
    "invariants": Field(bool, True),
}
FILE_FIELDS = {"area": Field(str, None, check=one_of(*AREAS)),
               "scenario": Field(list, items=dict)}


@dataclasses.dataclass(frozen=True)
class Expectation:
    check: str
    params: dict
    premise: Optional[str] = None   # a choice it depends on (harness/run/choices.py)


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    id: int
    hit: object            # int, or "every"
    expect: tuple          # of Expectation
    invariants: bool
    program: Optional[str] = None   # whose checkpoint() (default: the scenario's)
    process: Optional[str] = None   # only when this process reaches it
    count: Optional[int] = None     # expected number of hits
    steal_frames: int = 0           # memory pressure: take free frames away here


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One accepted ending: exit status and output. checkpoints: (id,
    hits) pairs, how often each of those checkpoints is reached in this
    ending (instead of the checkpoint's own count; harness/run/scenario_lint.py)."""
    exit_status: int
    output: tuple
    other_lines: tuple = ()
    checkpoints: tuple = ()


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    program: str
    area: str
    description: str
    args: tuple
    extra_programs: tuple
    files: tuple
    mem_mb: int
    swap_mb: int
    user_pages: int
    timeout: float
    exit_status: int
    output: tuple
    output_mode: str
    other_lines: tuple
    also_accept: tuple     # of Outcome
    output_absent: tuple
    tags: tuple
    invariants_off: dict
    checkpoints: tuple     # of Checkpoint
    after: tuple           # of Expectation
    source: str            # "file:line"
    inject: tuple = ()     # of harness.run.injection.Injection
    killed_by: Optional[int] = None   # the exception vector that must end the program
    assumes: tuple = ()    # choices it tests (harness/run/choices.py)
    output_needs_premise: bool = False   # its program's checks rely on its premises too
    # the timeout the wall-clock rules scale, when `timeout` was cut for a
    # guest-time bound (a generated mutant's run: harness/course/mutant_gen.py)
    wall_timeout: Optional[float] = None

    @property
    def programs(self) -> tuple:
        return (self.program,) + self.extra_programs

    @property
    def outcomes(self) -> tuple:
        """Every accepted ending, the primary one first."""
        return (Outcome(self.exit_status, self.output, self.other_lines),) + self.also_accept


def _expectation(table: dict, path: list, after_run: bool) -> Expectation:
    name = table.get("check")
    if not isinstance(name, str):
        raise SchemaError(path, "an expectation needs check = \"NAME\" "
                          f"(known: {', '.join(sorted(CHECKS))})")
    check = CHECKS.get(name)
    if check is None:
        raise SchemaError(path + ["check"], f"unknown check '{name}' (known: {', '.join(sorted(CHECKS))})")
    if check.after_run != after_run:
        where = "in [[scenario.after]]" if check.after_run else "at a checkpoint"
        raise SchemaError(path + ["check"], f"check '{name}' belongs {where}")
    premise = table.get("premise")
    if premise is not None:
        problem = premise_check(premise) if isinstance(premise, str) else \
            f"must be a choice's name (a string), not {premise!r}"
        if problem:
            raise SchemaError(path + ["premise"], problem)
    params = validate_table({k: v for k, v in table.items() if k not in ("check", "premise")},
                            check.params, path, f"check '{name}'")
    problem = cross_check(name, params)
    if problem:
        raise SchemaError(path, problem)
    return Expectation(name, params, premise)


def _checkpoint(table: dict, path: list) -> Checkpoint:
    v = validate_table(table, CHECKPOINT_FIELDS, path, "checkpoint")
    expects = tuple(_expectation(e, path + ["expect", i], False) for i, e in enumerate(v["expect"]))
    return Checkpoint(v["id"], v["hit"], expects, v["invariants"], v["program"], v["process"],
                      v["count"], v["steal_frames"])


def _scenario(table: dict, path: list, default_area: Optional[str], source: str) -> Scenario:
    v = validate_table(table, SCENARIO_FIELDS, path, "scenario")
    area = v["area"] or default_area
    if area is None:
        raise SchemaError(path, "scenario has no area (set `area` in it or at the top of the file)")
    cps = tuple(_checkpoint(c, path + ["checkpoint", i]) for i, c in enumerate(v["checkpoint"]))
    seen = set()
    for i, cp in enumerate(cps):
        if (cp.id, cp.hit) in seen:
            raise SchemaError(path + ["checkpoint", i, "id"], f"checkpoint {cp.id} (hit {cp.hit}) is listed twice")
        seen.add((cp.id, cp.hit))
    after = tuple(_expectation(e, path + ["after", i], True) for i, e in enumerate(v["after"]))
    alternatives = []
    for i, alt in enumerate(v["also_accept"]):
        a = validate_table(alt, ALTERNATIVE_FIELDS, path + ["also_accept", i], "also_accept entry")
        alternatives.append(Outcome(a["exit_status"], tuple(a["output"]), tuple(a["other_lines"]),
                                    tuple((int(k), n) for k, n in a["checkpoints"].items())))
    for cp_path, cp in zip(range(len(cps)), cps):
        if cp.program is not None and cp.program not in (v["program"], *v["extra_programs"]):
            raise SchemaError(path + ["checkpoint", cp_path, "program"],
                              f"program '{cp.program}' is not the scenario's program or one "
                              "of its extra_programs")
    premised = any(e.premise for cp in cps for e in cp.expect)
    if v["output_needs_premise"] and not premised:
        raise SchemaError(path + ["output_needs_premise"], "no checkpoint expectation of the "
                          "scenario is a premise (premise = \"CHOICE\")")
    for i, exp in enumerate(after):
        if exp.premise and not premised:
            raise SchemaError(path + ["after", i, "premise"], "no checkpoint expectation of "
                              "the scenario is a premise for this check to rely on")
    lint(cps, (Outcome(v["exit_status"], tuple(v["output"]), tuple(v["other_lines"])),
               *alternatives), path)
    return Scenario(v["name"], v["program"], area, v["description"], tuple(v["args"]),
                    tuple(v["extra_programs"]), tuple(v["files"]), v["mem_mb"], v["swap_mb"],
                    v["user_pages"], float(v["timeout"]), v["exit_status"], tuple(v["output"]),
                    v["output_mode"], tuple(v["other_lines"]), tuple(alternatives),
                    tuple(v["output_absent"]), tuple(v["tags"]), dict(v["invariants_off"]),
                    cps, after, source,
                    tuple(injection_from_table(t, path + ["inject", i]) for i, t in enumerate(v["inject"])),
                    v["killed_by"], tuple(v["assumes"]), v["output_needs_premise"])


def _located(path: Path, lines: TomlLines, err: SchemaError, name: Optional[str]) -> ScenarioError:
    line = lines.line_of(err.path)
    keys = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in err.path[2:])
    keys = keys.replace(".[", "[")
    who = f"scenario '{name}': " if name else ""
    where = f"{keys}: " if keys else ""
    return ScenarioError(f"{path}:{line}: {who}{where}{err.message}")


def load_file(path: Path) -> list[Scenario]:
    """Scenarios of one file, validated; raises ScenarioError."""
    doc, lines = read_toml(path, "the scenario file", ScenarioError)
    try:
        v = validate_table(doc, FILE_FIELDS, [], "scenario file")
    except SchemaError as e:
        raise _located(path, lines, e, None) from None
    out = []
    for i, table in enumerate(v["scenario"]):
        name = table.get("name") if isinstance(table.get("name"), str) else None
        try:
            out.append(_scenario(table, ["scenario", i], v["area"],
                                 f"{path}:{lines.line_of(['scenario', i])}"))
        except SchemaError as e:
            raise _located(path, lines, e, name) from None
    return out


def load_suite(paths: list[Path], programs_dir: Optional[Path] = None,
               data_dir: Optional[Path] = None) -> list[Scenario]:
    """Scenarios of every file; checks names are unique and, when the
    directories are given, that programs and data files exist."""
    scenarios, where = [], {}
    for path in paths:
        for sc in load_file(path):
            if sc.name in where:
                raise ScenarioError(f"{sc.source}: scenario '{sc.name}': name already used at {where[sc.name]}")
            where[sc.name] = sc.source
            _check_inputs(sc, programs_dir, data_dir)
            scenarios.append(sc)
    return scenarios


def _check_inputs(sc: Scenario, programs_dir: Optional[Path], data_dir: Optional[Path]) -> None:
    if programs_dir is not None:
        for prog in sc.programs:
            if not (programs_dir / prog).is_file():
                key = "program" if prog == sc.program else "extra_programs"
                raise ScenarioError(f"{sc.source}: scenario '{sc.name}': {key}: no program "
                                    f"'{prog}' in {programs_dir} (is it in scenarios/programs/ and built?)")
    if data_dir is not None:
        for name in sc.files:
            if not (data_dir / name).is_file():
                raise ScenarioError(f"{sc.source}: scenario '{sc.name}': files: no data file "
                                    f"'{name}' in {data_dir}")
