"""Oracles: the machine-state model and the checks over it.

model/             what the harness reads at a stop (MachineState, page
                   tables, the address layout, wait-for graphs); imports
                   nothing outside itself.
invariants.py      properties every correct paging implementation keeps at
                   every checkpoint (turned off per scenario with a reason).
expectations.py    what one scenario expects at one checkpoint, and on the
                   disk afterwards (page_expectations.py: the `pages` and
                   `swap_used` checks; schema.py: how a check declares its
                   parameters).
Each check returns a list of Violation (empty = passed), each with an
outcome: FAIL (a wrong value seen: expected vs actual), UNKNOWN (what the
check needs could not be read: the reason) or NOT_JUDGED (a note: not a
moment at which the property must hold). Oracles import nothing from the
harness (docs/architecture.md).
"""
