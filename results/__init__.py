"""The run-to-report boundary: the results model that the harness writes
and reports read (model.py), its JSON form, results.json (codec.py), and
merging the results of shards (merge.py). Imports only oracles/model/.
"""
