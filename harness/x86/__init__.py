"""x86-64 knowledge used at run time: the page-table walker, page-fault decoding, disassembly."""
