"""Course tooling: kernel coverage, seeded-bug mutants, grading points, comparison with a tree's
make check.
"""
