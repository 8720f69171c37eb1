"""`vmcheck mutants --generate`: mutants made mechanically from the kernel's
code (harness/course/mutant_gen.py), run against the scenarios that
execute the mutated line (harness/course/line_coverage.py).

    ./vmcheck mutants --generate [--files F...] [--operators OP...]
                      [--sample N] [--seed S] [--jobs N] [--report DIR]
    ./vmcheck mutants --generate ID...    only these generated mutants: a
                      whole id (vm-frame-67-increment-6e752d) or its FILE-LINE
                      part (vm-frame-67: every mutant of that line)
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from harness import config
from harness.errors import UsageError

DEFAULT_FILES = ("vm/anon.c", "vm/file_page.c", "vm/fork.c", "vm/frame.c", "vm/mmap.c",
                 "vm/page.c", "vm/spt.c", "vm/stack.c", "vm/swap.c", "vm/uninit.c", "vm/vm.c",
                 "arch/x86_64/exception.c")
WORK_DIR = config.build_dir() / "mutants-gen"     # the line-coverage cache (shared by runs)
COVERAGE_BUILD = config.build_dir() / "kernel-cov"


def add_generate_options(p: argparse.ArgumentParser) -> None:
    from harness.course.mutant_ops import OPERATORS
    group = p.add_argument_group("generated mutants (--generate)")
    group.add_argument("--generate", action="store_true",
                       help="mutate the kernel's code mechanically instead of running the "
                            "catalogue")
    group.add_argument("--files", nargs="+", default=list(DEFAULT_FILES), metavar="FILE",
                       help="kernel sources to mutate, relative to reference_kernel/ "
                            "(default: vm/*.c and arch/x86_64/exception.c, the fault path)")
    group.add_argument("--operators", nargs="+", default=sorted(OPERATORS), metavar="OP",
                       choices=sorted(OPERATORS), help="mutation operators (default: all: "
                       f"{', '.join(sorted(OPERATORS))})")
    group.add_argument("--sample", type=int, default=0, metavar="N",
                       help="run N mutants drawn at random from those a scenario executes "
                            "(default: all)")
    group.add_argument("--seed", type=int, default=1, metavar="S",
                       help="seed of --sample (default: 1)")


def _mutations(args: argparse.Namespace) -> list:
    from harness.course.coverage import SOURCE_ROOT
    from harness.course.mutant_ops import mutations_in
    missing = [f for f in args.files if not (SOURCE_ROOT / f).is_file() or not f.endswith(".c")]
    if missing:
        raise UsageError(f"--files: no C source {', '.join(missing)} under reference_kernel/")
    return mutations_in(SOURCE_ROOT, args.files, args.operators)


def _coverage(args, scenarios, opts):
    """Line coverage of SCENARIOS on the coverage kernel (built here if
    needed), from the cache or by running them."""
    import subprocess
    from harness.adapters.reference.adapter import ReferenceAdapter
    from harness.course.coverage import SOURCE_ROOT
    from harness.course.line_coverage import LineCoverage, collect, source_hash
    done = subprocess.run(["make", "-s", "-C", str(SOURCE_ROOT), "COVERAGE=1",
                           f"O={COVERAGE_BUILD}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise UsageError(f"the coverage kernel does not build: {done.stderr.strip()[-300:]}")
    coverage = LineCoverage(WORK_DIR / "line-coverage.json", source_hash(), args.files)
    collect(coverage, ReferenceAdapter(kernel_dir=COVERAGE_BUILD), scenarios, opts, args.jobs,
            WORK_DIR / "coverage-data", progress=lambda line: print(line, flush=True))
    return coverage


def named(names: list, mutations: list) -> list:
    """The MUTATIONS (in file order) whose id is one of NAMES or starts
    with one followed by "-" (FILE-LINE: every mutant of that line);
    UsageError naming a NAME that matches none."""
    unknown = [n for n in names if not any(_is(m, n) for m in mutations)]
    if unknown:
        raise UsageError(f"no generated mutant {', '.join(unknown)} in the files given "
                         "(an id, or its FILE-LINE part, e.g. vm-frame-67)")
    return [m for m in mutations if any(_is(m, n) for n in names)]


def _is(mutation, name: str) -> bool:
    return mutation.ident == name or mutation.ident.startswith(name + "-")


def _chosen(args, mutations: list, coverage, scenarios: list) -> list:
    """MUTATIONS in file order, or --sample of those a scenario executes
    (plus every one no scenario executes, which costs nothing)."""
    if not args.sample:
        return mutations
    run = [m for m in mutations if coverage.runners_of(m.file, m.line, scenarios)]
    picked = set(random.Random(args.seed).sample(run, min(args.sample, len(run))))
    executed = set(run)
    return [m for m in mutations if m in picked or m not in executed]


def handle_generate(args: argparse.Namespace) -> int:
    from harness.course import no_assert
    from harness.course.mutant_gen import (MutantBuilder, evaluate_all, failed,
                                           load_equivalents, summary, survivors_diff)
    from harness.cli.options import runner_options
    from harness.run.runner import DATA_DIR
    from harness.run.suite import load_all, select
    if args.names and args.sample:
        raise UsageError("--generate: give mutant ids or --sample, not both")
    t0 = time.monotonic()
    scenarios = select(load_all(config.build_dir() / "programs", DATA_DIR), args.scenarios)
    opts = runner_options(args, args.report.resolve() / "generated-artifacts")
    mutations = _mutations(args)
    if args.names:
        mutations = named(args.names, mutations)
    coverage = _coverage(args, scenarios, opts)
    chosen = _chosen(args, mutations, coverage, scenarios)
    with config.private_build_dir("mutants-gen-runs") as work:
        builder = MutantBuilder(work, args.jobs)
        builder.prepare()
        variants = MutantBuilder(work / "no-assert", args.jobs, no_assert.MAKE_FLAGS)
        print(f"vmcheck: {len(mutations)} mutant(s) generated in {len(args.files)} file(s), "
              f"{len(chosen)} chosen, {args.jobs} job(s)", flush=True)
        results = evaluate_all(chosen, builder, coverage, scenarios, opts, args.jobs,
                               progress=lambda line: print(line, flush=True),
                               equivalents=load_equivalents(), variants=variants)
    text = summary(results, time.monotonic() - t0)
    print(text)
    args.report.mkdir(parents=True, exist_ok=True)
    (args.report / "generated.json").write_text(json.dumps(
        {"summary": text, "files": args.files, "operators": args.operators,
         "sample": args.sample, "seed": args.seed,
         "mutants": [r.to_dict() for r in results]}, indent=1))
    (args.report / "survivors.diff").write_text(survivors_diff(results) + "\n")
    print(f"report: {Path(args.report) / 'generated.json'}, survivors: "
          f"{Path(args.report) / 'survivors.diff'}")
    return 1 if failed(results) else 0
