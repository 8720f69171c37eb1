"""Seeded-bug mutants of the reference kernel (reference_kernel/mutants.toml).

Each mutant is a compile-time switch: `make -C reference_kernel
MUTANT=NAME O=build/mutants/NAME` defines VMCHECK_MUTANT_<NAME with - as _>,
and the kernel source changes only what that student mistake would change.
The suite runs against each mutant build; a mutant is killed when at least
one scenario does not pass. A kill by FAIL names its cause (an oracle or an
expectation), as does a HANG found as a deadlock (the wait cycle) or as a
fault storm (the faulting instruction); a kill only by another HANG,
KERNEL_PANIC or TRIPLE_FAULT is marked, because the catalogue wants
causes named where a crash is not the true symptom, and such a mutant is
run once more without the kernel's assertions (harness/course/no_assert.py).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from pathlib import Path
from typing import Callable

from harness import config, interrupt
from harness.errors import KernelBuildError, UsageError
from harness.course import no_assert
from harness.course.no_assert import NoAssertResult
from results.model import Verdict
from harness.run.scenario import AREAS
from harness.run.toml_lines import read_toml
from oracles.schema import Field, SchemaError, one_of, validate_table

CATALOGUE = config.REPO_ROOT / "reference_kernel" / "mutants.toml"
KERNEL_SRC = config.REPO_ROOT / "reference_kernel"
MUTANT_FIELDS = {
    "name": Field(str), "area": Field(str, check=one_of(*AREAS)),
    "description": Field(str), "expect_crash": Field(bool, False),
}


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    area: str
    description: str
    expect_crash: bool = False   # a crash is the mistake's true symptom

    @property
    def macro(self) -> str:
        return "VMCHECK_MUTANT_" + self.name.replace("-", "_")


@dataclasses.dataclass
class MutantResult:
    mutant: Mutant
    killed_by: list          # [(scenario, verdict, reason)]
    seconds: float
    build_error: str = ""
    stopped: str = ""        # why it is unfinished: "not run", "N of M scenarios run"
    no_assert: NoAssertResult | None = None   # the variant without assertions, if crash only

    @property
    def killed(self) -> bool:
        return bool(self.killed_by)

    @property
    def named_cause(self) -> bool:
        """A FAIL names its cause; so does a HANG found as a deadlock (its
        reason is the wait cycle) or as a fault storm (the instruction)."""
        return any(no_assert.names_cause(v, r) for _, v, r in self.killed_by)

    @property
    def state(self) -> str:
        """build failed, killed, killed (crash only: no scenario named the
        cause, and a crash is not the mistake's symptom), why it is
        unfinished, or SURVIVED."""
        if self.build_error:
            return "build failed"
        if not self.killed:
            return self.stopped or "SURVIVED"
        return "killed" if self.named_cause or self.mutant.expect_crash else "killed (crash only)"

    def row(self) -> dict:
        """This result as a row of mutants.json (and of the mutants page)."""
        return {"name": self.mutant.name, "area": self.mutant.area,
                "description": self.mutant.description, "state": self.state,
                "killed": self.killed, "kills": self.killed_by[:5], "seconds": self.seconds,
                "build_error": self.build_error,
                "no_assert": self.no_assert.to_dict() if self.no_assert else None}


def save_results(results: list[MutantResult], out_dir: Path) -> list[dict]:
    """OUT_DIR/mutants.json: one row per mutant (MutantResult.row); the rows."""
    rows = [r.row() for r in results]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "mutants.json").write_text(json.dumps(rows, indent=1))
    return rows


def load_catalogue(path: Path = CATALOGUE) -> list[Mutant]:
    doc, _ = read_toml(path, "the mutant catalogue")
    mutants, seen = [], set()
    for i, table in enumerate(doc.get("mutant", [])):
        try:
            m = Mutant(**validate_table(table, MUTANT_FIELDS, ["mutant", i], "mutant"))
        except SchemaError as e:
            raise UsageError(f"{path}: mutant {i + 1}: {e.message}") from None
        if m.name in seen:
            raise UsageError(f"{path}: mutant {m.name!r} is listed twice")
        seen.add(m.name)
        mutants.append(m)
    return mutants


def check_switches(mutants: list[Mutant]) -> None:
    """UsageError for a mutant whose switch appears nowhere in the kernel."""
    sources = [p.read_text() for p in KERNEL_SRC.rglob("*.[chS]")]
    missing = [m.name for m in mutants if not any(m.macro in text for text in sources)]
    if missing:
        raise UsageError(f"mutants with no {'switch' if len(missing) == 1 else 'switches'} "
                         f"in reference_kernel/: {', '.join(missing)}")


def build_mutant(m: Mutant, out: Path, flags: tuple = ()) -> None:
    """Mutant M built into OUT (FLAGS: more make variables, e.g. NO_ASSERT=1)."""
    done = subprocess.run(["make", "-s", "-C", str(KERNEL_SRC), f"MUTANT={m.name}", f"O={out}",
                           *flags], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise KernelBuildError(f"mutant {m.name} does not build:\n{tail}")


def run_mutant(m: Mutant, scenarios: list, opts, jobs: int, build_root: Path,
               progress: Callable[[str], None]) -> MutantResult:
    from harness.adapters.reference.adapter import ReferenceAdapter
    from harness.run.suite import run_suite
    t0 = time.monotonic()
    out = build_root / m.name
    try:
        build_mutant(m, out)
    except KernelBuildError as e:
        return MutantResult(m, [], time.monotonic() - t0, build_error=str(e))
    adapter = ReferenceAdapter(kernel_dir=out)
    run = run_suite(adapter, scenarios, opts, jobs, progress=lambda line: None)
    kills = [(sc.name, sc.verdict.value, sc.reason) for sc in run.scenarios
             if sc.verdict.failed]
    result = MutantResult(m, kills, time.monotonic() - t0)
    if run.interrupted:
        finished = sum(sc.verdict is not Verdict.NOT_RUN for sc in run.scenarios)
        result.stopped = f"interrupted: {finished} of {len(run.scenarios)} scenarios run"
    elif no_assert.needs_variant(kills, m.expect_crash):
        result.no_assert = run_without_assertions(m, [k[0] for k in kills], scenarios, opts,
                                                  jobs, build_root)
        result.seconds = time.monotonic() - t0
    progress(format_row(result))
    return result


def run_without_assertions(m: Mutant, killers: list[str], scenarios: list, opts, jobs: int,
                           build_root: Path) -> NoAssertResult:
    """M built with NO_ASSERT=1 and run on KILLERS, then on the rest of
    SCENARIOS unless a killer names the cause (no_assert.run_variant)."""
    from harness.adapters.reference.adapter import ReferenceAdapter
    from harness.run.suite import run_suite
    out = build_root / f"{m.name}-no-assert"
    try:
        build_mutant(m, out, no_assert.MAKE_FLAGS)
    except KernelBuildError as e:
        return NoAssertResult("not compiled", note=str(e).splitlines()[-1])
    adapter = ReferenceAdapter(kernel_dir=out)

    def run_batch(batch: list) -> tuple:
        run = run_suite(adapter, batch, opts, jobs, progress=lambda line: None)
        ran = [sc for sc in run.scenarios if sc.verdict is not Verdict.NOT_RUN]
        return ([(sc.name, sc.verdict.value, sc.reason) for sc in ran if sc.verdict.failed],
                len(ran), not run.interrupted)
    return no_assert.run_variant(run_batch, *no_assert.ordered(killers, scenarios))


def run_all_mutants(mutants: list[Mutant], scenarios: list, opts, jobs: int, build_root: Path,
                    progress: Callable[[str], None]) -> list[MutantResult]:
    """run_mutant for each of MUTANTS in turn; after a stop signal, the
    mutants left are results with stopped = "not run" (nothing killed)."""
    results: list[MutantResult] = []
    try:
        for m in mutants:
            if interrupt.stop_requested():
                break
            results.append(run_mutant(m, scenarios, opts, jobs, build_root, progress))
    except KeyboardInterrupt:   # a stop signal while a mutant was being built
        pass
    done = {r.mutant.name for r in results}
    return results + [MutantResult(m, [], 0.0, stopped="not run (interrupted)")
                      for m in mutants if m.name not in done]


def format_row(r: MutantResult) -> str:
    state = r.state.upper() if r.build_error else r.state
    by = ", ".join(f"{n} ({v})" for n, v, _ in r.killed_by[:3])
    more = f" +{len(r.killed_by) - 3}" if len(r.killed_by) > 3 else ""
    variant = f"; {r.no_assert.text()}" if r.no_assert else ""
    return (f"{r.mutant.name:<26} {r.mutant.area:<11} {state:<20} {r.seconds:6.0f}s  "
            f"{by}{more}{variant}")


def summary(results: list[MutantResult]) -> str:
    killed = sum(r.killed for r in results)
    unfinished = [r.mutant.name for r in results if r.stopped and not r.killed]
    crash_only = [r.mutant.name for r in results if r.state == "killed (crash only)"]
    lines = [f"{'mutant':<26} {'area':<11} {'result':<20} {'time':>7}  killed by",
             *map(format_row, results),
             f"\nmutation score: {killed}/{len(results)} killed"
             f" ({100 * killed / max(1, len(results)):.0f}%)"]
    if crash_only:
        lines.append(f"killed only by a crash or hang: {', '.join(crash_only)}")
        variants = [(r.mutant.name, r.no_assert) for r in results if r.no_assert]
        if variants:
            lines.append(no_assert.variants_line(variants))
    if unfinished:
        lines.append(f"PARTIAL: interrupted; not finished: {', '.join(unfinished)}")
    return "\n".join(lines)


def failed(results: list[MutantResult]) -> bool:
    """Some mutant survived, or its variant without assertions did."""
    return any(not r.killed or (r.no_assert and r.no_assert.counts_as_survivor)
               for r in results)
