"""The debugger link: GDB remote protocol, the Debugger, kernel symbols, DWARF types, typed memory,
program images.
"""
