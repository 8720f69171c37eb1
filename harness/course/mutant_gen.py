"""Mutants generated from the code (`vmcheck mutants --generate`), beside
the hand-written catalogue (harness/course/mutants.py).

For each mechanical mutation of the chosen kernel files
(harness/course/mutant_ops.py):
  1. not executed  no scenario runs its line on the coverage kernel
                   (harness/course/line_coverage.py): nothing to learn
  2. not compiled  the mutated kernel does not build (-Werror included)
  3. equivalent    the mutated object file holds the same code and data
                   as the original (the compiler made the change vanish), or
                   the change is listed as equivalent, with the reason, in
                   reference_kernel/mutants-equivalent.toml
  4. killed        a scenario that executes the line does not pass; they
                   run fastest first, and the first one that fails ends it
  5. survived      every scenario that executes the line passed
A kill only by a crash (the reference kernel's own assertion, mostly) is
followed by the mutant's variant without assertions
(harness/course/no_assert.py), built by a second builder with NO_ASSERT=1.
Each mutant is compiled incrementally: a worker keeps a copy of the
kernel sources and objects, rewrites one file, lets make rebuild that
object and relink, and puts the file and object back afterwards.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
import time
import traceback
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue
from typing import Callable

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from harness import interrupt
from harness.course import no_assert
from harness.course.coverage import SOURCE_ROOT
from harness.course.mutant_ops import Mutation, apply
from harness.errors import UsageError
from harness.course.no_assert import NoAssertResult
from results.model import Verdict

EQUIVALENTS = SOURCE_ROOT / "mutants-equivalent.toml"
BUILD_TIMEOUT_S = 300
MIN_GUEST_S = 10          # a mutant's run gets at least this many guest seconds,
GUEST_FACTOR = 4          # or this many times what the correct kernel needed
STATES = ("not executed", "not compiled", "equivalent", "killed", "survived", "not run")


@dataclasses.dataclass
class GeneratedResult:
    mutation: Mutation
    state: str
    killed_by: tuple = ()     # (scenario, verdict, reason) of the run that killed it
    runs: int = 0             # scenarios run on it
    candidates: int = 0       # scenarios that execute its line
    seconds: float = 0.0
    note: str = ""            # the build error, or why it was not run
    no_assert: NoAssertResult | None = None   # the variant without assertions, if crash only

    @property
    def named_cause(self) -> bool:
        """Killed by a FAIL (or a deadlock or fault-storm HANG), not only by a crash."""
        return bool(self.killed_by) and no_assert.names_cause(*self.killed_by[1:])

    @property
    def survivor(self) -> bool:
        """It survived, or its variant without assertions did."""
        return self.state == "survived" or bool(self.no_assert and
                                                self.no_assert.counts_as_survivor)

    def to_dict(self) -> dict:
        return {"id": self.mutation.ident, **dataclasses.asdict(self.mutation),
                "state": self.state, "killed_by": list(self.killed_by), "runs": self.runs,
                "candidates": self.candidates, "seconds": round(self.seconds, 2),
                "note": self.note, "named_cause": self.named_cause,
                "no_assert": self.no_assert.to_dict() if self.no_assert else None}


@dataclasses.dataclass(frozen=True)
class Equivalent:
    """A generated mutant no behaviour can tell apart from the kernel: the
    line BEFORE of FILE changed to AFTER (any change of it when AFTER is
    None), in FUNCTION (in any function when FUNCTION is None), and why."""
    file: str
    before: str
    reason: str
    after: str | None = None
    function: str | None = None

    def covers(self, m: Mutation) -> bool:
        return m.file == self.file and m.before.strip() == self.before.strip() and \
            (self.after is None or m.after.strip() == self.after.strip()) and \
            (self.function is None or m.function == self.function)


def load_equivalents(path: Path = EQUIVALENTS) -> list[Equivalent]:
    """The catalogued equivalent mutants; UsageError naming a bad entry."""
    try:
        tables = tomllib.loads(path.read_text()).get("equivalent", [])
        return [Equivalent(**t) for t in tables]
    except FileNotFoundError:
        return []
    except (tomllib.TOMLDecodeError, TypeError) as e:
        raise UsageError(f"{path}: {e}") from None


def _make(src: Path, obj: Path, flags: tuple = ()) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(src), f"O={obj}", *flags],
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)


def _loaded_sections(path: Path) -> dict:
    """{name: bytes} of the sections of object file PATH that end up in
    the kernel (allocated) and of their relocations."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        return {s.name: s.data() for s in elf.iter_sections()
                if s["sh_flags"] & SH_FLAGS.SHF_ALLOC or s.name.startswith(".rela.text")
                or s.name.startswith(".rela.rodata") or s.name.startswith(".rela.data")}


class MutantBuilder:
    """Builds mutated kernels incrementally in per-worker copies of a base
    build under ROOT; hands each one's kernel files out in ROOT/kernels.
    FLAGS: more make variables for every build (NO_ASSERT=1)."""

    def __init__(self, root: Path, jobs: int, flags: tuple = ()):
        self.root = root
        self.base_src, self.base_obj = root / "base" / "src", root / "base" / "obj"
        self.workers: Queue = Queue()
        self.jobs = jobs
        self.flags = flags
        self._prepared = False
        self._prepare_lock = threading.Lock()

    def prepare(self) -> None:
        """A fresh copy of the kernel sources, built once, and a copy of
        that per worker (mtimes kept, so make rebuilds only what changes)."""
        shutil.rmtree(self.root / "base", ignore_errors=True)
        shutil.copytree(SOURCE_ROOT, self.base_src)
        done = _make(self.base_src, self.base_obj, self.flags)
        if done.returncode != 0:
            raise RuntimeError(f"the unmutated kernel does not build:\n{done.stderr[-2000:]}")
        for n in range(self.jobs):
            worker = self.root / f"worker{n}"
            shutil.rmtree(worker, ignore_errors=True)
            shutil.copytree(self.base_src, worker / "src")
            shutil.copytree(self.base_obj, worker / "obj")
            self.workers.put(worker)
        self._prepared = True

    def build(self, mutation: Mutation) -> tuple[str, Path | None, str]:
        """("built" | "not compiled" | "equivalent", kernel folder, note);
        the first build prepares the builder if prepare() was not called."""
        with self._prepare_lock:
            if not self._prepared:
                self.prepare()
        worker = self.workers.get()
        try:
            return self._build_in(worker, mutation)
        finally:
            self.workers.put(worker)

    def _build_in(self, worker: Path, m: Mutation) -> tuple[str, Path | None, str]:
        src_file, obj_file = worker / "src" / m.file, worker / "obj" / (m.file[:-2] + ".o")
        base_file, base_obj = self.base_src / m.file, self.base_obj / (m.file[:-2] + ".o")
        try:
            src_file.write_text(apply(base_file.read_text(), m))
            done = _make(worker / "src", worker / "obj", self.flags)
            if done.returncode != 0:
                lines = (done.stdout + done.stderr).strip().splitlines()
                return "not compiled", None, next((l for l in lines if "error" in l), lines[-1])
            if _loaded_sections(obj_file) == _loaded_sections(base_obj):
                return "equivalent", None, "the mutated object holds the same code and data"
            out = self.root / "kernels" / m.ident
            out.mkdir(parents=True, exist_ok=True)
            for name in ("kernel.elf", "kernel32.elf"):
                shutil.copy2(worker / "obj" / name, out / name)
            return "built", out, ""
        finally:
            shutil.copy2(base_file, src_file)    # the original, with its old mtime
            shutil.copy2(base_obj, obj_file)


def _bounded(sc, lines) -> object:
    """SC with a guest-time limit of GUEST_FACTOR times what the correct
    kernel needed (at least MIN_GUEST_S, at most its own timeout); the
    wall-clock rules keep its own timeout (HangRules.wall_base_s)."""
    known = lines.guest_s if lines is not None and lines.guest_s else None
    if known is None:
        return sc
    return dataclasses.replace(sc, timeout=min(sc.timeout, max(MIN_GUEST_S, GUEST_FACTOR * known)),
                               wall_timeout=sc.timeout)


def run_on_mutant(kernel_dir: Path, runners: list, coverage, opts,
                  until=lambda kill: True) -> tuple[list, int, bool]:
    """Runs RUNNERS in order on the kernel in KERNEL_DIR until one does not
    pass in a way UNTIL accepts (by default any): ([(scenario, verdict,
    reason)] of those that did not pass, scenarios run, not stopped)."""
    from harness.adapters.reference.adapter import ReferenceAdapter
    from harness.run.runner import run_scenario
    adapter = ReferenceAdapter(kernel_dir=kernel_dir)
    kills: list = []
    for n, sc in enumerate(runners, 1):
        if interrupt.stop_requested():
            return kills, n - 1, False
        result = run_scenario(adapter, _bounded(sc, coverage.scenarios.get(sc.name)), opts)
        if result.verdict is Verdict.NOT_RUN:
            return kills, n - 1, False
        if result.verdict.failed:          # NOT_JUDGED kills nothing
            kills.append((sc.name, result.verdict.value, result.reason))
            if until(kills[-1]):
                return kills, n, True
    return kills, len(runners), True


def without_assertions(mutation: Mutation, builder: MutantBuilder, killer: str,
                       runners: list, coverage, opts) -> NoAssertResult:
    """MUTATION built by BUILDER (NO_ASSERT=1) and run on KILLER, then on
    the other RUNNERS until one names the cause or the hang budget is
    spent (no_assert.run_variant, no_assert.search_done)."""
    t0 = time.monotonic()
    state, kernel_dir, note = builder.build(mutation)
    if state != "built":
        return NoAssertResult(state, note=note, seconds=time.monotonic() - t0)

    seen: list = []     # the variant's failures so far, over both batches

    def search_done(kill) -> bool:
        seen.append(kill)
        return no_assert.search_done(seen)

    def run_batch(batch: list) -> tuple:
        return run_on_mutant(kernel_dir, batch, coverage, opts, until=search_done)
    try:
        result = no_assert.run_variant(run_batch, *no_assert.ordered([killer], runners))
    finally:
        shutil.rmtree(kernel_dir, ignore_errors=True)
    result.seconds = time.monotonic() - t0
    return result


def evaluate(mutation: Mutation, builder: MutantBuilder, coverage, scenarios: list,
             opts, equivalents=(), variants: MutantBuilder | None = None) -> GeneratedResult:
    """One mutation through the steps of the module docstring; a crash-only
    kill is followed by its variant without assertions, built by VARIANTS
    (none without it)."""
    t0 = time.monotonic()
    runners = coverage.runners_of(mutation.file, mutation.line, scenarios)
    if not runners:
        return GeneratedResult(mutation, "not executed")
    known = next((e for e in equivalents if e.covers(mutation)), None)
    if known is not None:
        return GeneratedResult(mutation, "equivalent", candidates=len(runners),
                               note=f"catalogued: {known.reason}")
    state, kernel_dir, note = builder.build(mutation)
    if state != "built":
        return GeneratedResult(mutation, state, candidates=len(runners), note=note,
                               seconds=time.monotonic() - t0)
    try:
        kills, runs, finished = run_on_mutant(kernel_dir, runners, coverage, opts)
    finally:
        shutil.rmtree(kernel_dir, ignore_errors=True)
    if not kills and not finished:
        return GeneratedResult(mutation, "not run", (), runs, len(runners),
                               time.monotonic() - t0, "interrupted")
    kill = kills[0] if kills else ()
    result = GeneratedResult(mutation, "killed" if kill else "survived", kill, runs,
                             len(runners))
    if variants is not None and no_assert.needs_variant(kills):
        result.no_assert = without_assertions(mutation, variants, kill[0], runners,
                                              coverage, opts)
    result.seconds = time.monotonic() - t0
    return result


def evaluate_all(mutations: list, builder: MutantBuilder, coverage, scenarios: list, opts,
                 jobs: int, progress: Callable[[str], None], equivalents=(),
                 variants: MutantBuilder | None = None) -> list[GeneratedResult]:
    """evaluate() for each of MUTATIONS, JOBS at once, in their order;
    after a stop signal the rest are "not run"."""
    results: list = [None] * len(mutations)
    lock = threading.Lock()

    def one(i: int) -> None:
        if interrupt.stop_requested():
            return
        try:
            results[i] = evaluate(mutations[i], builder, coverage, scenarios, opts,
                                  equivalents, variants)
        except Exception as e:    # a harness error costs this mutant, not the run's results
            traceback.print_exc()
            results[i] = GeneratedResult(mutations[i], "not run",
                                         note=f"harness error: {type(e).__name__}: {e}")
        if results[i].state != "not executed":
            with lock:
                progress(format_row(results[i]))

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, range(len(mutations))))
    except KeyboardInterrupt:
        pass
    return [r or GeneratedResult(m, "not run", note="interrupted")
            for r, m in zip(results, mutations)]


def format_row(r: GeneratedResult) -> str:
    by = ""
    if r.killed_by:
        by = f"{r.killed_by[0]} ({r.killed_by[1]})" + ("" if r.named_cause else ", crash only")
    state = r.state if r.state != "killed" or r.named_cause else "killed (crash only)"
    variant = f"; {r.no_assert.text()}" if r.no_assert else ""
    return (f"{r.mutation.ident:<44} {state:<20} {r.runs:>3}/{r.candidates:<3} "
            f"{r.seconds:6.1f}s  {by or r.note[:60]}{variant}")


def summary(results: list[GeneratedResult], seconds: float) -> str:
    """The counts issue 18 asks for and the mutation score over the
    non-equivalent mutants that ran."""
    count = {s: sum(r.state == s for r in results) for s in STATES}
    crash = sum(r.state == "killed" and not r.named_cause for r in results)
    catalogued = sum(r.state == "equivalent" and r.note.startswith("catalogued") for r in results)
    judged = count["killed"] + count["survived"]
    score = 100 * count["killed"] / judged if judged else 0.0
    built = judged + count["equivalent"] - catalogued
    return "\n".join([
        f"generated {len(results)}; executed by a scenario "
        f"{len(results) - count['not executed']}; compiled {built} "
        f"(not compiled {count['not compiled']}); equivalent {count['equivalent']} "
        f"({count['equivalent'] - catalogued} same object code, {catalogued} catalogued)",
        f"killed {count['killed']} ({crash} only by a crash or hang); survived "
        f"{count['survived']}; not run {count['not run']}",
        *_variants_lines(results),
        f"mutation score: {count['killed']}/{judged} ({score:.1f}%) of the non-equivalent "
        f"mutants run; wall time {seconds:.0f}s"])


def _variants_lines(results: list[GeneratedResult]) -> list[str]:
    variants = [(r.mutation.ident, r.no_assert) for r in results if r.no_assert]
    return [no_assert.variants_line(variants)] if variants else []


def failed(results: list[GeneratedResult]) -> bool:
    """Some mutant survived, or its variant without assertions did."""
    return any(r.survivor for r in results)


def survivors_diff(results: list[GeneratedResult]) -> str:
    """The diff of every survivor (and of every mutant whose variant
    without assertions survived), with the scenarios that ran it."""
    return "\n\n".join(
        f"# {r.mutation.ident}: {_survival(r)}\n{r.mutation.diff()}" for r in results
        if r.survivor)


def _survival(r: GeneratedResult) -> str:
    if r.state == "survived":
        return f"survived {r.runs} scenario(s)"
    return (f"killed only by a crash ({r.killed_by[0]}, {r.killed_by[1]}); survived "
            f"{r.no_assert.runs} scenario(s) without the assertions")
