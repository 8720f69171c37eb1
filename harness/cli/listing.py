"""`vmcheck list`: the scenarios, one line each (name, area, description).

    ./vmcheck list [SCENARIO|GLOB|AREA]...
"""

from __future__ import annotations

import argparse

from harness.cli.options import add_scenario_options, load_scenarios


def register(subparsers) -> None:
    p = subparsers.add_parser("list", help="list scenarios")
    add_scenario_options(p, "scenario names, globs (mmap-*) or areas (swap); default: all")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    for sc in load_scenarios(args):
        print(f"{sc.name:<24} {sc.area:<11} {sc.description}")
    return 0
