"""Call chains (harness/debug/symbols.py, harness/adapters/thread_report.py): return
addresses named at their call instruction, frames validated, the same rule
for thread lists and panic stacks. The code is a few functions assembled
here at a known layout (a call to a function that never returns as the
last instruction of its function, an indirect call), linked at a kernel
address; stacks are crafted words."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.adapters.pintos_kaist.adapter import PintosKaistAdapter
from harness.adapters.thread_report import entry_return, walk_frame_pointers
from harness.debug.symbols import CallChain, SymbolTable, checked_chain, format_call_chain

TEXT_BASE = 0x8004200000
CODE_S = r"""
  .text
  .globl entry, ends_in_noreturn, next_function, die
  .type entry, @function
entry:                      # +0 push, +1 mov, +4 call (5 bytes), +9 call *%rax (2 bytes)
  push %rbp
  mov %rsp, %rbp
  call ends_in_noreturn
  call *%rax
  pop %rbp
  ret
  .size entry, . - entry
  .type ends_in_noreturn, @function
ends_in_noreturn:           # its last instruction calls a function that never returns
  push %rbp
  mov %rsp, %rbp
  call die
  .size ends_in_noreturn, . - ends_in_noreturn
  .type next_function, @function
next_function:
  push %rbp
  mov %rsp, %rbp
  call die
  pop %rbp
  ret
  .size next_function, . - next_function
  .type die, @function
die:
  jmp die
  .size die, . - die
"""


@pytest.fixture(scope="module")
def symbols(tmp_path_factory):
    out = tmp_path_factory.mktemp("chains")
    (out / "code.S").write_text(CODE_S)
    elf = out / "kernel.elf"
    subprocess.run(["gcc", "-nostdlib", "-static", "-no-pie", "-Wl,-e,entry",
                    f"-Wl,-Ttext={TEXT_BASE:#x}", "-o", str(elf), str(out / "code.S")],
                   check=True, capture_output=True, timeout=60)
    table = SymbolTable(elf)
    yield table
    table.close()


def at(symbols, name, offset=0):
    return symbols.address_of(name) + offset


def test_a_return_after_a_call_that_never_returns_names_the_caller(symbols):
    ret = at(symbols, "next_function")          # `call die` ends exactly here
    assert symbols.describe(ret) == "next_function"      # the misleading old name
    assert symbols.describe_return(ret) == "ends_in_noreturn+0x4"
    assert symbols.caller_of(ret) == "ends_in_noreturn"
    assert symbols.not_a_return(ret) is None


def test_direct_and_indirect_calls_are_found(symbols):
    assert symbols.call_before(at(symbols, "entry", 9)) == at(symbols, "entry", 4)
    assert symbols.call_before(at(symbols, "entry", 11)) == at(symbols, "entry", 9)
    assert symbols.describe_return(at(symbols, "entry", 11)) == "entry+0x9"


def test_words_that_are_not_return_addresses_are_named_why(symbols):
    assert symbols.not_a_return(0x841f0f) == "next frame 0x841f0f outside kernel text"
    assert symbols.not_a_return(0x6ebc14800000073).endswith("outside kernel text")
    assert symbols.not_a_return(at(symbols, "entry", 1)) == \
        f"next frame {at(symbols, 'entry', 1):#x} (entry+0x1) not after a call instruction"


def test_a_printed_stack_stops_at_the_first_garbage_frame(symbols):
    good = [at(symbols, "entry", 9), at(symbols, "next_function")]
    chain = checked_chain(symbols, None, good + [0x841f0f, at(symbols, "entry", 11)])
    assert chain.returns == good
    assert format_call_chain(symbols, chain) == (
        "entry+0x4 < ends_in_noreturn+0x4 < (stack ends: next frame 0x841f0f outside "
        "kernel text)")
    assert format_call_chain(symbols, checked_chain(symbols, None, good)) == \
        "entry+0x4 < ends_in_noreturn+0x4"


def test_a_panic_line_gets_the_checked_call_stack(symbols, tmp_path):
    adapter = PintosKaistAdapter(tmp_path)
    adapter.kernel_symbols = lambda: symbols
    console = ("Kernel PANIC at ../../vm/vm.c:80 in f(): boom\n"
               f"Call stack: {at(symbols, 'next_function'):#x} {at(symbols, 'entry', 9):#x} "
               "0x841f0f 0x6ebc14800000073.\nPowering off...\n")
    outcome = adapter.parse_exit(console, 0)
    assert outcome.panic_line == (
        "Kernel PANIC at ../../vm/vm.c:80 in f(): boom [call stack: ends_in_noreturn+0x4 < "
        "entry+0x4 < (stack ends: next frame 0x841f0f outside kernel text)]")


# ---- frame-pointer walks over a crafted stack ----

STACK = 0x8004100000          # one 4 KiB kernel stack page


def memory(words: dict):
    def read(address, size):
        assert size == 8
        if address not in words:
            raise OSError(f"unmapped {address:#x}")
        return words[address].to_bytes(8, "little")
    return read


def frames(*pairs) -> dict:
    """Words for frames at STACK+offset: (offset, saved rbp, return address)."""
    words = {}
    for offset, saved_rbp, ret in pairs:
        words[STACK + offset], words[STACK + offset + 8] = saved_rbp, ret
    return words


def walk(symbols, words, rbp, pc=None, known=()):
    return walk_frame_pointers(memory(words), symbols, pc, list(known), rbp, STACK, STACK + 4096)


def test_a_walk_follows_frames_to_the_first_one_of_the_thread(symbols):
    r1, r2 = at(symbols, "entry", 9), at(symbols, "next_function")
    words = frames((0x100, STACK + 0x200, r1), (0x200, 0, r2))
    chain = walk(symbols, words, STACK + 0x100, pc=at(symbols, "die"))
    assert (chain.returns, chain.end) == ([r1, r2], None)
    assert format_call_chain(symbols, chain) == "die < entry+0x4 < ends_in_noreturn+0x4"
    # a thread's first function is entered with a return address of 0
    words = frames((0x100, STACK + 0x200, r1), (0x200, 0x1234, 0))
    assert walk(symbols, words, STACK + 0x100).end is None


@pytest.mark.parametrize("case, bad_frame, why", [
    ("garbage return", (0x200, 0, 0x841f0f), "next frame 0x841f0f outside kernel text"),
    ("frame pointer below", (0x200, STACK + 0x80, None), "not above the previous frame"),
    ("frame pointer outside", (0x200, 0x8004300000, None),
     "frame pointer 0x8004300000 outside the thread's kernel stack"),
    ("user frame pointer", (0x200, 0x4747ff00, None),
     "frame pointer 0x4747ff00 is a user address (entered from user mode)"),
])
def test_a_walk_stops_at_a_bad_frame_and_says_why(symbols, case, bad_frame, why):
    good = at(symbols, "entry", 9)
    offset, saved, ret = bad_frame
    words = frames((0x100, STACK + 0x200, good), (offset, saved, ret or good),
                   (0x80, 0, good))
    chain = walk(symbols, words, STACK + 0x100, pc=at(symbols, "die"))
    expected = [good] if ret else [good, good]
    assert chain.returns == expected, case
    assert why in chain.end, case
    assert format_call_chain(symbols, chain).endswith(f"(stack ends: {chain.end})")


def test_a_long_chain_is_shortened_for_a_thread_list_and_says_so(symbols):
    from harness.adapters.thread_report import describe_chain
    ret = at(symbols, "entry", 9)
    words = frames(*[(0x100 * i, STACK + 0x100 * (i + 1) if i < 12 else 0, ret)
                     for i in range(1, 13)])
    chain = walk(symbols, words, STACK + 0x100, pc=at(symbols, "die"))
    assert len(chain.returns) == 12 and chain.end is None
    line = describe_chain(symbols, chain)
    assert line.count("entry+0x4") == 7 and line.endswith("... (5 more)")


def test_known_returns_are_checked_and_a_breakpoint_at_entry_keeps_the_caller(symbols):
    caller = at(symbols, "next_function")
    rsp = STACK + 0x40
    words = {rsp: caller, **frames((0x100, 0, at(symbols, "entry", 9)))}
    assert entry_return(memory(words), symbols, at(symbols, "die"), rsp) == [caller]
    assert entry_return(memory(words), symbols, at(symbols, "die", 1), rsp) == []
    chain = walk(symbols, words, STACK + 0x100, pc=at(symbols, "die"), known=[caller])
    assert format_call_chain(symbols, chain) == "die < ends_in_noreturn+0x4 < entry+0x4"
    bad = walk(symbols, words, STACK + 0x100, known=[at(symbols, "entry", 1)])
    assert bad.returns == [] and "not after a call instruction" in bad.end


def test_an_empty_chain_says_no_frames(symbols):
    assert format_call_chain(symbols, CallChain(None)) == "no kernel frames found"
