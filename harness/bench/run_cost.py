"""What one scenario run costs, run after run in one process, as a suite's
worker pays it:

    /usr/bin/python3 -m harness.bench.run_cost [--kernel K] [--runs N] SCENARIO...

Each scenario runs once untimed (it may build, calibrate or probe a boot
snapshot), then N times (default 5). Prints, per scenario, the verdict and
the medians of wall time, QEMU's CPU (the children's user + system time:
QEMU's start, the restore, the guest's run) and the harness's own CPU;
for several scenarios also the sums of those medians. SCENARIO takes
names, globs and areas as `vmcheck run` does: `'*'` with `--runs 1` is
the whole suite one scenario at a time, the QEMU / harness split of its
cost (docs/pintos-kaist.md, "Results on the development trees"). On a
host whose CPU speed drifts, compare two versions by alternating them
(docs/pintos-kaist.md, "Boot snapshot").
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time

from harness.errors import VmcheckError


def cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure(adapter, scenario, opts, runs: int) -> dict:
    from harness.run.runner import run_scenario
    run_scenario(adapter, scenario, opts)                 # builds, probes: not counted
    walls, qemu, harness, verdicts = [], [], [], set()
    for _ in range(runs):
        children, own, began = cpu_s(resource.RUSAGE_CHILDREN), cpu_s(resource.RUSAGE_SELF), \
            time.monotonic()
        result = run_scenario(adapter, scenario, opts)
        walls.append(time.monotonic() - began)
        qemu.append(cpu_s(resource.RUSAGE_CHILDREN) - children)
        harness.append(cpu_s(resource.RUSAGE_SELF) - own)
        verdicts.add(result.verdict.value)
    return {"scenario": scenario.name, "verdicts": sorted(verdicts), "runs": runs,
            "wall_ms": statistics.median(walls) * 1000, "qemu_cpu_ms": statistics.median(qemu) * 1000,
            "harness_cpu_ms": statistics.median(harness) * 1000}


def main(argv=None) -> int:
    from harness.cli.main import parse_args
    parser = argparse.ArgumentParser(prog="python3 -m harness.bench.run_cost",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel", default="reference")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="vmcheck-run-cost-") as report:
        try:
            return _measure_all(args, parse_args(["run", "--kernel", args.kernel, "--report",
                                                  report, *args.scenarios]))
        except VmcheckError as e:          # an unknown scenario or kernel, a harness fault
            print(f"bench-run-cost: error: {e}", file=sys.stderr)
            return e.exit_code


def _measure_all(args, run_args) -> int:
    from harness.cli.run import load_scenarios, report_runner_options
    from harness.adapters import get_adapter
    adapter = get_adapter(run_args.kernel)
    scenarios = load_scenarios(run_args, getattr(adapter, "programs_dir", None))
    adapter.prepare()
    opts = report_runner_options(run_args, run_args.report, inject=())
    print(f"{'scenario':24} {'verdict':14} {'wall':>9} {'QEMU CPU':>9} {'harness CPU':>12}"
          f"   (medians of {args.runs}, {adapter.name} kernel)")
    totals = {"wall_ms": 0.0, "qemu_cpu_ms": 0.0, "harness_cpu_ms": 0.0}
    for scenario in scenarios:
        row = measure(adapter, scenario, opts, args.runs)
        print(f"{row['scenario']:24} {'/'.join(row['verdicts']):14} {row['wall_ms']:7.0f} ms "
              f"{row['qemu_cpu_ms']:6.0f} ms {row['harness_cpu_ms']:9.0f} ms", flush=True)
        totals = {key: total + row[key] for key, total in totals.items()}
    if len(scenarios) > 1:
        print(f"{'sum of the medians':39} {totals['wall_ms'] / 1000:7.1f} s  "
              f"{totals['qemu_cpu_ms'] / 1000:6.1f} s  {totals['harness_cpu_ms'] / 1000:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
