"""Benchmarks (make bench, bench-vm, bench-debugger, bench-hangs) and the probe guest they boot."""
