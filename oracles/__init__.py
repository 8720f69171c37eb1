"""Oracles: checks over a snapshot of machine state (oracles/state.py).

invariants.py  -- properties every correct paging implementation keeps at
                  every checkpoint (turned off per scenario with a reason).
expectations.py -- what one scenario expects at one checkpoint.
Each check returns a list of Violation (empty = passed).
"""
