"""`vmcheck list`: the scenarios, one line each (name, area, description).

    ./vmcheck list [SCENARIO|GLOB|AREA]... [--kernel K]

With --kernel, a scenario that kernel would not judge (it injects a
failure the kernel has no way to observe, or tests a choice the kernel's
assignment leaves to the student: NOT_JUDGED, decided without building or
booting) says so at the end of its line.
"""

from __future__ import annotations

import argparse

from harness.cli.options import add_scenario_options, load_scenarios


def register(subparsers) -> None:
    p = subparsers.add_parser("list", help="list scenarios")
    add_scenario_options(p, "scenario names, globs (mmap-*) or areas (swap); default: all")
    p.add_argument("--kernel", default=None, metavar="K",
                   help="also say which scenarios this kernel (`reference` or "
                        "`pintos-kaist:PATH`) would not judge (NOT_JUDGED)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    adapter = None
    if args.kernel:
        from harness.adapters import get_adapter
        adapter = get_adapter(args.kernel)
    for sc in load_scenarios(args):
        print(f"{sc.name:<24} {sc.area:<11} {sc.description}{_not_judged(adapter, sc)}")
    return 0


def _not_judged(adapter, sc) -> str:
    """"  [NOT_JUDGED on K: why]" if ADAPTER's kernel would not judge SC."""
    if adapter is None:
        return ""
    from harness.run.choices import not_judged_reason
    why = not_judged_reason(adapter, sc)
    return f"  [NOT_JUDGED on {adapter.name}: {why}]" if why else ""
