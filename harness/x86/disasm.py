"""Disassembly with Capstone for reports.

`disassemble_around(code, code_address, rip)` lists a few instructions
around RIP: what a crash report shows.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
from typing import Optional

from harness.x86.capstone_loader import capstone

MAX_INSN_BYTES = 15


@functools.lru_cache(maxsize=1)
def x86_64_decoder() -> capstone.Cs:
    """One shared Capstone decoder for x86-64, with instruction details."""
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    return md


@dataclasses.dataclass(frozen=True)
class DisasmLine:
    address: int
    raw: bytes
    text: str
    at_rip: bool


def _decode_run(code: bytes, base: int, start: int, stop: int) -> Optional[list]:
    """Offsets of instructions decoded from START that end exactly at STOP
    with no invalid byte on the way, else None."""
    offsets, offset = [], start
    for address, size, _, _ in x86_64_decoder().disasm_lite(code[start:stop],
                                                       base + start):
        offsets.append(offset)
        offset += size
    return offsets if offset == stop else None


def _best_start_before(code: bytes, base: int, rip_off: int, count: int) -> int:
    """Offset from which the COUNT instructions before rip decode cleanly.

    Decoding from an arbitrary earlier byte may misalign; every start offset
    that decodes into rip exactly votes for its last COUNT boundaries. The
    longest, most voted run wins (ties: the earliest start)."""
    votes, first = collections.Counter(), {}
    for start in range(max(0, rip_off - count * MAX_INSN_BYTES), rip_off):
        offsets = _decode_run(code, base, start, rip_off)
        if offsets:
            key = tuple(offsets[-count:])
            votes[key] += 1
            first.setdefault(key, start)
    if not votes:
        return rip_off
    best = max(votes, key=lambda k: (len(k), votes[k], -first[k]))
    return best[0]


def disassemble_around(code: bytes, code_address: int, rip: int,
                       before: int = 3, after: int = 3) -> list:
    """Up to BEFORE instructions before RIP, the one at RIP and up to AFTER
    more, from CODE read at CODE_ADDRESS. Bytes that do not decode end the
    listing with a '(bad)' line ('(bad or cut off)' near the end of CODE)."""
    rip_off = rip - code_address
    if not 0 <= rip_off < len(code):
        raise ValueError(f"rip {rip:#x} is outside the {len(code)} bytes read "
                         f"at {code_address:#x}")
    code = bytes(code)
    offset = _best_start_before(code, code_address, rip_off, before) \
        if before > 0 else rip_off
    lines, left_after = [], after
    while offset < len(code) and left_after >= 0:
        address = code_address + offset
        insn = next(x86_64_decoder().disasm_lite(
            code[offset:offset + MAX_INSN_BYTES], address, 1), None)
        if insn is None:
            cut = len(code) - offset < MAX_INSN_BYTES
            lines.append(DisasmLine(address, code[offset:offset + 1],
                                    "(bad or cut off)" if cut else "(bad)",
                                    address == rip))
            break
        size = insn[1]
        lines.append(DisasmLine(address, code[offset:offset + size],
                                f"{insn[2]} {insn[3]}".strip(), address == rip))
        offset += size
        if address >= rip:
            left_after -= 1
    return lines
