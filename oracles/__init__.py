"""Oracles: checks over a snapshot of machine state (oracles/model/machine_state.py).

invariants.py  -- properties every correct paging implementation keeps at
                  every checkpoint (turned off per scenario with a reason).
expectations.py -- what one scenario expects at one checkpoint.
Each check returns a list of Violation (empty = passed), each with an
outcome: FAIL (a wrong value seen: expected vs actual), UNKNOWN (what the
check needs could not be read: the reason) or NOT_JUDGED (a note: not a
moment at which the property must hold).
"""
