"""The debugger link: GDB remote protocol, the Debugger, kernel symbols, DWARF types and source
lines, typed memory, program images.
"""
