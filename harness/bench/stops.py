"""Stops taken vs stops needed, per scenario, from a run's results.json
(harness/run/stop_count.py says what counts as needed):

    ./vmcheck run --report DIR ...
    /usr/bin/python3 -m harness.bench.stops DIR/results.json [--all]

Prints the scenarios with stops that served no check (all of them with
--all), the surplus by kind, and the totals.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from results.codec import load_run


def surplus(taken: dict, needed: dict) -> dict:
    """Kind -> stops taken beyond those needed (only kinds with some)."""
    return {kind: count - needed.get(kind, 0) for kind, count in taken.items()
            if count > needed.get(kind, 0)}


def stops_table(scenarios, show_all: bool = False) -> list[str]:
    lines = [f"{'scenario':32} {'taken':>6} {'needed':>6}  surplus by kind"]
    totals: Counter = Counter()
    extra_by_kind: Counter = Counter()
    for sc in scenarios:
        taken, needed = sum(sc.stops_taken.values()), sum(sc.stops_needed.values())
        extra = surplus(sc.stops_taken, sc.stops_needed)
        totals.update(taken=taken, needed=needed)
        extra_by_kind.update(extra)
        if extra or show_all:
            shown = ", ".join(f"{kind} {n}" for kind, n in sorted(extra.items()))
            lines.append(f"{sc.name:32} {taken:6} {needed:6}  {shown}")
    lines.append(f"{'total (' + str(len(scenarios)) + ' scenarios)':32} {totals['taken']:6} "
                 f"{totals['needed']:6}  "
                 + ", ".join(f"{k} {n}" for k, n in extra_by_kind.most_common()))
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m harness.bench.stops",
                                     description="stops taken vs needed from results.json")
    parser.add_argument("results", type=Path, help="a run's results.json")
    parser.add_argument("--all", action="store_true",
                        help="list every scenario (default: those with a surplus)")
    args = parser.parse_args(argv)
    try:
        run = load_run(args.results)
    except (OSError, ValueError) as e:
        print(f"stops: error: cannot read {args.results}: {e}", file=sys.stderr)
        return 2
    print("\n".join(stops_table(run.scenarios, args.all)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
