"""vmcheck's harness: runs kernels in QEMU and judges the runs.

cli/ the command line · run/ running scenarios · machine/ one QEMU process ·
debug/ the debugger link · x86/ page walker, fault decoding · adapters/ the
kernel families · course/ coverage, mutants, compare · bench/ benchmarks;
config.py, errors.py, interrupt.py, pytest_plugin.py. The layers and the
path of one run: docs/architecture.md.
"""
