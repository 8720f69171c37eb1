"""What one exact-disk request costs (docs/exact-disk.md, "Cost"), and
whether a change to it left the guest's run alone.

    /usr/bin/python3 -m harness.bench.exact_disk measure --kernel pintos-kaist:TREE \\
        [SCENARIO...] [--json FILE] [--against EARLIER.json]
    /usr/bin/python3 -m harness.bench.exact_disk compare BEFORE/results.json AFTER/results.json

`measure` runs each scenario once with the exact disk, one at a time,
under a packet trace (harness/bench/packet_trace.py), and prints per
request: the wall time the guest was held (stop reply to continue), the
remote-protocol packets and their round trips by kind; and per scenario
the requests, the run's wall time, the harness process's CPU time (which
other jobs on a shared host inflate far less than wall time) and its
fingerprint (what `replay`
compares: console, clock and state at each checkpoint). With --against
(an earlier --json of the same scenarios, e.g. taken on the code before a
change) it prints both side by side and says whether each run was the
same run. `compare` does the same from two `vmcheck run` reports.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from harness.adapters import get_adapter
from harness.bench.figures import host
from harness.bench.packet_trace import PacketTrace
from harness.errors import VmcheckError
from harness.machine.qemu import MachineOptions
from harness.run.run_identity import first_parting, fingerprint
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.run.suite import load_all, select
from results.codec import load_run

SCENARIOS = ("evict-anon", "fork-swap", "page-parallel")


def measure_one(adapter, sc) -> dict:
    """SC run once with the exact disk under a packet trace."""
    with PacketTrace() as trace:
        t0, cpu0 = time.monotonic(), time.process_time()
        result = run_scenario(adapter, sc, RunnerOptions(MachineOptions(), exact_disk=True))
        wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    requests = trace.requests()
    other = trace.windows.get("other")
    return {"name": sc.name, "verdict": result.verdict.value, "wall_s": wall, "cpu_s": cpu,
            "requests": requests.count, "exact_disk": result.exact_disk,
            "held_s": requests.held_s, "per_request": requests.per_request(),
            "other_stops": other.count if other else 0,
            "fingerprint": fingerprint(result)}


def measure(kernel: str, names) -> dict:
    adapter = get_adapter(kernel)
    adapter.check_built()
    scenarios = select(load_all(adapter.programs_dir, DATA_DIR), list(names))
    return {"benchmark": "exact_disk", "kernel": kernel, "host": host(),
            "scenarios": [measure_one(adapter, sc) for sc in scenarios]}


def _row(label: str, values, digits: int = 1) -> str:
    shown = [("—" if v is None else f"{v:,.{digits}f}") for v in values]
    ratio = ""
    if len(values) == 2 and all(isinstance(v, (int, float)) and v for v in values):
        ratio = f"{values[0] / values[1]:8.2f}x"
    return f"  {label:<38}" + "".join(f"{s:>12}" for s in shown) + ratio


def report(runs: list[dict], out=sys.stdout) -> None:
    """RUNS: one or two measure() results (earlier first), printed side by side."""
    heads = ["before", "after"] if len(runs) == 2 else ["now"]
    for run in runs:
        load = ", ".join(f"{x:.2f}" for x in run["host"]["load"])
        print(f"{heads[runs.index(run)]}: host load average {load} on {run['host']['cpus']} "
              "CPUs", file=out)
    by_name = [{s["name"]: s for s in run["scenarios"]} for run in runs]
    for name in by_name[-1]:
        rows = [b.get(name) for b in by_name]
        print(f"\n{name}" + "".join(f"{h:>12}" for h in heads)
              + ("  before/after" if len(heads) == 2 else ""), file=out)
        _scenario_rows(rows, out)
        if len(rows) == 2 and rows[0] is not None:
            print(f"  same run: {_same_run(rows[0], rows[1])}", file=out)


def _scenario_rows(rows: list, out) -> None:
    get = lambda key: [r[key] if r else None for r in rows]          # noqa: E731
    per = lambda key: [r["per_request"][key] if r else None for r in rows]   # noqa: E731
    print("  verdict" + " " * 31 + "".join(f"{v or '—':>12}" for v in get("verdict")), file=out)
    print(_row("requests (stops at disk_read/write)", get("requests"), 0), file=out)
    print(_row("wall time of the run, s", get("wall_s")), file=out)
    print(_row("the harness's CPU time in the run, s", [r.get("cpu_s") if r else None
                                                           for r in rows]), file=out)
    print(_row("guest held by the requests, s", get("held_s")), file=out)
    print(_row("per request: held, ms", per("held_ms"), 3), file=out)
    print(_row("per request: packet round trips, ms", per("packet_ms"), 3), file=out)
    print(_row("per request: continue to next stop, ms", per("resumed_ms"), 3), file=out)
    print(_row("per request: packets", per("packets"), 2), file=out)
    kinds = sorted({k for r in rows if r for k in r["per_request"]["by_kind"]})
    for kind in kinds:
        counts = [r["per_request"]["by_kind"].get(kind, [0, 0])[0] if r else None for r in rows]
        ms = [r["per_request"]["by_kind"].get(kind, [0, 0])[1] if r else None for r in rows]
        print(_row(f"  {kind}", counts, 2) + "   ms: "
              + " / ".join("—" if m is None else f"{m:.3f}" for m in ms), file=out)


def _same_run(before: dict, after: dict) -> str:
    if before["verdict"] != after["verdict"]:
        return f"NO: verdict {before['verdict']} vs {after['verdict']}"
    parting = first_parting(before["fingerprint"], after["fingerprint"])
    return "yes (verdict, console, ticks and instructions at each checkpoint, page tables, " \
           "SPT)" if parting is None else f"NO: {parting}"


def compare_reports(before: Path, after: Path, out=sys.stdout) -> int:
    """Two `vmcheck run` results.json: per scenario verdict, time, requests,
    whether the runs were the same run. 0 if all were, 1 if not."""
    runs = [{s.name: s for s in load_run(p).scenarios} for p in (before, after)]
    differ = 0
    print(f"{'scenario':16} {'verdict':>14} {'before s':>9} {'after s':>9} {'ratio':>6} "
          f"{'requests':>9}  same run", file=out)
    for name, b in runs[0].items():
        a = runs[1].get(name)
        if a is None:
            continue
        parting = first_parting(fingerprint(b), fingerprint(a), (b.console, a.console))
        same = "yes" if parting is None and b.verdict == a.verdict else f"NO: {parting}"
        differ += same != "yes"
        disk = a.exact_disk or {}
        requests = disk.get("reads", 0) + disk.get("writes", 0)
        print(f"{name:16} {a.verdict.value:>14} {b.duration_s:9.1f} {a.duration_s:9.1f} "
              f"{b.duration_s / max(a.duration_s, 1e-9):5.2f}x {requests:9,}  {same}", file=out)
    return 1 if differ else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m harness.bench.exact_disk",
                                     description="the exact disk's cost per request")
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="run scenarios with the exact disk under a packet trace")
    m.add_argument("scenarios", nargs="*", default=list(SCENARIOS),
                   help=f"scenario names (default: {' '.join(SCENARIOS)})")
    m.add_argument("--kernel", required=True, help="pintos-kaist:PATH (a built tree)")
    m.add_argument("--json", metavar="FILE", help="also write the figures to FILE (default: none)")
    m.add_argument("--against", metavar="FILE", type=Path,
                   help="an earlier --json to print beside (default: none)")
    c = sub.add_parser("compare", help="two `vmcheck run` reports: times and same run")
    c.add_argument("before", type=Path, help="results.json of the earlier run")
    c.add_argument("after", type=Path, help="results.json of the later run")
    args = parser.parse_args(argv)
    try:
        if args.command == "compare":
            return compare_reports(args.before, args.after)
        earlier = [json.loads(args.against.read_text())] if args.against else []
        now = measure(args.kernel, args.scenarios)
    except (OSError, ValueError) as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 2
    except VmcheckError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return e.exit_code
    if args.json:
        Path(args.json).write_text(json.dumps(now, indent=2) + "\n")
    report(earlier + [now])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
