"""Scenario lint: every accepted ending must be able to pass.

Run when a scenario file is loaded (so by `vmcheck list`, `run` and the
pytest plugin). A contradiction is a SchemaError on the key at fault,
reported like any other scenario mistake (file:line, exit code 2).

What "reachable" means (scenarios/README.md, "Endings and checkpoints"):
an ending is reachable when some number of hits of every declared
checkpoint satisfies, at once, what the checkpoint specs require in that
ending and what the ending itself says about checkpoints:

- A spec requires: `count = N` exactly N hits; otherwise at least `hit`
  hits (1 for "every"). An ending may replace that for a checkpoint id
  with `checkpoints = { ID = N }` (exactly N hits in this ending); specs
  for a hit number above N are then simply not reached in it.
- Specs of one checkpoint (same id, program, process) must agree: a
  spec for hit H can only be reached if the count allows H hits.
- An ending that stops early — its exit status differs from the primary
  ending's and its test lines are a strict prefix of the primary's (the
  process was killed where the primary goes on) — may have ended before
  or after any checkpoint. The scenario cannot know which from the
  output, so such an ending must say, for every checkpoint the primary
  requires to be reached, how often it is reached (`checkpoints`);
  leaving one out is an error, not a guess.
"""

from __future__ import annotations

import re

from oracles.schema import SchemaError

_EXIT_LINE = re.compile(r"^\S+: exit\(-?\d+\)$")


def counts_check(table: dict):
    """Field check for an ending's `checkpoints` table: ID = hits."""
    for key, value in table.items():
        if not str(key).isdigit():
            return f"key {key!r} is not a checkpoint id (a whole number)"
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1 << 20:
            return f"checkpoint {key}: the number of hits must be a whole number >= 0, not {value!r}"
    return None


def _test_lines(outcome) -> tuple:
    return tuple(line for line in outcome.output if not _EXIT_LINE.match(line))


def stops_early(primary, ending) -> bool:
    """ENDING ends the program where PRIMARY goes on: another exit status
    and test lines that are a strict prefix of PRIMARY's."""
    mine, theirs = _test_lines(ending), _test_lines(primary)
    return (ending.exit_status != primary.exit_status and len(mine) < len(theirs)
            and theirs[:len(mine)] == mine)


def _minimum_hits(spec) -> int:
    return 1 if spec.hit == "every" else spec.hit


def _check_spec_agreement(checkpoints: tuple, path: list) -> None:
    """Specs of one checkpoint agree: no spec asks for a hit its count forbids."""
    counts = {}
    for spec in checkpoints:
        if spec.count is not None:
            counts.setdefault((spec.id, spec.program, spec.process), spec.count)
    for i, spec in enumerate(checkpoints):
        count = counts.get((spec.id, spec.program, spec.process))
        if count is not None and spec.hit != "every" and spec.hit > count:
            raise SchemaError(path + ["checkpoint", i, "hit"],
                              f"checkpoint {spec.id}: hit {spec.hit} can never be reached, "
                              f"the checkpoint is reached exactly {count} times (count)")


def _check_ending(scenario_checkpoints: tuple, primary, ending, path: list) -> None:
    declared = dict(ending.checkpoints)
    ids = {spec.id for spec in scenario_checkpoints}
    for cp_id in declared:
        if cp_id not in ids:
            raise SchemaError(path + ["checkpoints"],
                              f"checkpoint {cp_id} is not declared in this scenario "
                              f"(declared: {', '.join(map(str, sorted(ids))) or 'none'})")
    if not stops_early(primary, ending):
        return
    for spec in scenario_checkpoints:
        required = spec.count if spec.count is not None else _minimum_hits(spec)
        if spec.id in declared or required == 0:
            continue
        what = f"count = {spec.count}" if spec.count is not None else "at least one hit"
        raise SchemaError(path, f"this ending stops the program early (exit status "
                          f"{ending.exit_status}, output cut short) but checkpoint {spec.id} "
                          f"requires {what} in every ending; say how often the ended process "
                          f"reaches it: checkpoints = {{ {spec.id} = N }} (0 if it ends before)")


def lint(checkpoints: tuple, outcomes: tuple, path: list) -> None:
    """Raises SchemaError (at the key at fault under PATH, the scenario's
    path) if an accepted ending of OUTCOMES (primary first) cannot pass
    with CHECKPOINTS (Checkpoint specs)."""
    _check_spec_agreement(checkpoints, path)
    primary = outcomes[0]
    for i, ending in enumerate(outcomes[1:]):
        _check_ending(checkpoints, primary, ending, path + ["also_accept", i])
