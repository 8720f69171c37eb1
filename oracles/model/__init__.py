"""The machine-state model the oracles judge: page tables, processes and SPTs, pools, wait-for
graphs.
"""
