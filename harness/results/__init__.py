"""The run-to-report boundary: the results model that the harness writes and reports read, and
merging shards.
"""
