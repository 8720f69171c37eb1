"""The vmcheck command line: one module per command."""
