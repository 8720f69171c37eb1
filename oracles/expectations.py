"""What one scenario expects at one checkpoint, and on the disk afterwards.

A check is declared in a scenario file as a table with `check = "NAME"`
and the parameters of CHECKS[NAME].params (validated when the file is
loaded). At run time it gets a CheckContext and returns Violations.
Addresses are expressions over the program's ELF symbols (oracles.schema).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from oracles.schema import Field, address_check, eval_address, in_range, one_of
from oracles.cksum import cksum as posix_cksum
from oracles.model.address_layout import AddressLayout
from oracles.page_expectations import STATES, check_pages, check_swap_used, frame_check
from oracles.model.machine_state import (ANON, FILE, PAGE, UNINIT, MachineState, Violation, spt_unknown,
                           unknown)


class DiskUnreadable(Exception):
    """The file-system disk cannot be read (the message says why): checks
    of files on it are UNKNOWN, not failed."""


@dataclasses.dataclass
class CheckContext:
    """What a check may look at besides the machine state.

    elf_bytes(va, n): the bytes the program's ELF image puts at VA (zeros
    for .bss), None where no segment covers VA. data_file(name): contents
    of a scenario data file as put on the disk. disk_file(name): the file
    as read back from the disk image after the run (post-run checks),
    None if it is not there (a correct kernel keeps its files: FAIL);
    it raises DiskUnreadable when the disk cannot be read (UNKNOWN)."""
    state: Optional[MachineState]
    symbols: dict
    address_layout: AddressLayout
    elf_bytes: Callable[[int, int], Optional[bytes]] = lambda va, n: None
    data_file: Callable[[str], bytes] = lambda name: b""
    disk_file: Callable[[str], Optional[bytes]] = lambda name: None
    frames_at: Callable[[int], dict] = lambda checkpoint_id: {}   # va -> phys

    def addr(self, expr) -> int:
        return eval_address(expr, self.symbols, self.address_layout.constants())


@dataclasses.dataclass(frozen=True)
class Check:
    params: dict
    run: Callable[..., list]
    doc: str
    after_run: bool = False


ADDR = Field((int, str), check=address_check, doc="user address expression")
PAGES = Field(int, 1, check=in_range(1, 1 << 20), doc="number of pages")


def _pages(ctx, start, pages):
    base = ctx.addr(start) & ~(PAGE - 1)
    return [base + i * PAGE for i in range(pages)]


def check_present(ctx: CheckContext, start, pages, present) -> list:
    proc = ctx.state.proc
    vas = _pages(ctx, start, pages)
    if present == "all":
        want = set(range(pages))
    elif present == "none":
        want = set()
    else:
        want = set(present)
    got = {i for i, va in enumerate(vas) if proc.pages.lookup(va) is not None}
    if got == want:
        return []
    wrong = sorted(want ^ got)
    return [Violation("present", f"pages {_shown(start)}[0..{pages}) present set differs "
                      f"(first wrong page index {wrong[0]})", vas[wrong[0]], proc.pid,
                      f"present {sorted(want)}", f"present {sorted(got)}")]


def check_page(ctx: CheckContext, addr, type=None, writable=None, resident=None,
               present=None, pte_writable=None, swapped=None, file_offset=None) -> list:
    proc = ctx.state.proc
    va = ctx.addr(addr) & ~(PAGE - 1)
    out = []

    def differs(what, want, got):
        if want is not None and want != got:
            out.append(Violation("page", f"{what} of page {_shown(addr)}", va, proc.pid, str(want), str(got)))

    pte = proc.pages.lookup(va)
    differs("hardware present bit", present, pte is not None)
    if pte_writable is not None:
        differs("hardware W bit", pte_writable, pte is not None and bool(pte.flags & 2))
    wanted = {"type": type, "writable": writable, "frame_pa": resident, "swap_slot": swapped,
              "file_offset": file_offset}
    wanted = {field: want for field, want in wanted.items() if want is not None}
    if wanted and proc.spt is None:
        out.append(spt_unknown("page", proc, va))
    elif wanted:
        page = proc.spt_page(va)
        if page is None:
            out.append(Violation("page", f"no SPT entry for {_shown(addr)}", va, proc.pid, "an SPT entry", "none"))
            return out
        unread = [field for field in wanted if not page.known(field)]
        if unread:
            out.append(unknown("page", f"the SPT of {proc.name} records no {' or '.join(unread)} "
                               f"the harness can read, for page {_shown(addr)}", va, proc.pid))
        got = {"type": page.type, "writable": page.writable, "frame_pa": page.resident,
               "swap_slot": page.swapped, "file_offset": page.file_offset}
        labels = {"type": "SPT type", "writable": "SPT writable", "frame_pa": "resident",
                  "swap_slot": "swapped out", "file_offset": "SPT file offset"}
        for field, want in wanted.items():
            if field not in unread:
                differs(labels[field], want, got[field])
    return out


def _expected_bytes(ctx, va, length, source, file, offset, text):
    if source == "zero":
        return bytes(length)
    if source == "elf":
        return ctx.elf_bytes(va, length)
    if source == "file":
        data = ctx.data_file(file)[offset:offset + length]
        return data + bytes(length - len(data))  # mmap: zero tail past EOF
    return text.encode()


def check_contents(ctx: CheckContext, addr, length, source, file=None, offset=0,
                   text=None) -> list:
    proc = ctx.state.proc
    va = ctx.addr(addr)
    want = _expected_bytes(ctx, va, length, source, file, offset, text)
    if want is None:
        return [unknown("contents", f"no ELF segment of the program covers {_shown(addr)}: "
                        "no expected bytes", va, proc.pid)]
    for page in range(va & ~(PAGE - 1), va + length, PAGE):
        if proc.pages.lookup(page) is None:
            return [unknown("contents", "the page is not present, so its contents cannot be "
                            "read through the page tables", page, proc.pid)]
    if ctx.state.read_user is None:
        return [unknown("contents", "no access to the guest's memory", va, proc.pid)]
    got = ctx.state.read_user(va, len(want))
    if got == want:
        return []
    i = next(i for i in range(len(want)) if got[i] != want[i])
    return [Violation("contents", f"byte {i} of {_shown(addr)} differs from {source}", va + i, proc.pid,
                      want[i:i + 8].hex(), got[i:i + 8].hex())]


def check_unmapped(ctx: CheckContext, addr, pages) -> list:
    proc = ctx.state.proc
    out = []
    for va in _pages(ctx, addr, pages):
        if proc.pages.lookup(va) is not None:
            out.append(Violation("unmapped", "PTE still present", va, proc.pid, "no PTE",
                                 proc.pages.lookup(va).describe()))
        if proc.spt is not None and proc.spt_page(va) is not None:
            out.append(Violation("unmapped", "SPT entry still there", va, proc.pid,
                                 "no SPT entry", proc.spt_page(va).type))
    if proc.spt is None:
        out.append(spt_unknown("unmapped", proc, ctx.addr(addr)))
    return out


def check_stack(ctx: CheckContext, contiguous=True) -> list:
    """Stack pages lie within the stack limit (1 MB) below the stack top;
    with SPT access, they form one run ending at the top page."""
    proc, layout = ctx.state.proc, ctx.state.address_layout
    top, bottom = layout.user_stack, layout.stack_bottom
    window = range(top - 16 * layout.stack_limit, top, PAGE)
    present = [va for va in window if proc.pages.lookup(va) is not None]
    out = [Violation("stack", f"stack page more than {layout.stack_limit >> 20} MB below the "
                     "stack top", va, proc.pid, f">= 0x{bottom:x}", f"0x{va:x}")
           for va in present if va < bottom]
    if contiguous and proc.spt is None:
        out.append(spt_unknown("stack", proc))
    elif contiguous:
        pages = sorted(va for va in proc.spt if layout.in_stack(va))
        if pages and pages != list(range(pages[0], top, PAGE)):
            gap = next(va for va in range(pages[0], top, PAGE) if va not in proc.spt)
            out.append(Violation("stack", "stack pages are not contiguous", gap, proc.pid,
                                 f"pages 0x{pages[0]:x}..0x{top:x}", f"hole at 0x{gap:x}"))
    return out


def _disk_file(ctx: CheckContext, oracle: str, file: str) -> tuple[Optional[bytes], list]:
    """(contents of FILE on the disk after the run, []) or (None, the
    finding of ORACLE: FAIL when the disk was read and FILE is not on it,
    UNKNOWN when the disk cannot be read)."""
    try:
        disk = ctx.disk_file(file)
    except DiskUnreadable as e:
        return None, [unknown(oracle, f"file {file!r} after the run: {e}")]
    if disk is None:
        return None, [Violation(oracle, f"file {file!r} is not on the disk after the run",
                                expected=f"{file} on the disk", actual="no such file")]
    return disk, []


def check_file_bytes(ctx: CheckContext, file, offset=0, length=None, equals_file=None,
                     equals_offset=0, text=None, zero=False) -> list:
    disk, missing = _disk_file(ctx, "file_bytes", file)
    if disk is None:
        return missing
    if length is None:
        length = len(text.encode()) if text is not None else len(disk) - offset
    got = disk[offset:offset + length]
    if zero:
        want = bytes(length)
    elif text is not None:
        want = text.encode()
    else:
        want = ctx.data_file(equals_file or file)[equals_offset:equals_offset + length]
    if got == want:
        return []
    if len(got) != len(want):
        return [Violation("file_bytes", f"{file}: length at offset {offset} differs",
                          None, None, str(len(want)), str(len(got)))]
    i = next(i for i in range(len(want)) if got[i] != want[i])
    return [Violation("file_bytes", f"{file}: byte at file offset {offset + i} differs",
                      None, None, want[i:i + 8].hex(), got[i:i + 8].hex())]


def check_frame_of(ctx: CheckContext, addr, equals) -> list:
    """The page at ADDR is mapped to the frame whose direct-map kernel
    address is EQUALS (e.g. `probe` holding what get_phys_addr returned)."""
    proc = ctx.state.proc
    va = ctx.addr(addr) & ~(PAGE - 1)
    kva = ctx.addr(equals)
    pte = proc.pages.lookup(va)
    got = None if pte is None else ctx.state.address_layout.kernel_va(pte.translate(va))
    if got == kva:
        return []
    return [Violation("frame_of", f"frame of {_shown(addr)} vs {_shown(equals)}", va, proc.pid,
                      f"frame at kernel address 0x{kva:x}",
                      "not present" if got is None else f"0x{got:x}")]


def _shown(expr) -> str:
    return f"0x{expr:x}" if isinstance(expr, int) else str(expr)


def check_file_cksum(ctx: CheckContext, file, cksum, size=None) -> list:
    disk, missing = _disk_file(ctx, "file_cksum", file)
    if disk is None:
        return missing
    out = []
    if size is not None and len(disk) != size:
        out.append(Violation("file_cksum", f"{file}: size after the run", None, None,
                             str(size), str(len(disk))))
    got = posix_cksum(disk)
    if got != cksum:
        out.append(Violation("file_cksum", f"{file}: contents after the run (POSIX cksum)",
                             None, None, str(cksum), str(got)))
    return out


SOURCES = ("zero", "elf", "file", "text")

CHECKS: dict[str, Check] = {
    "present": Check({"start": ADDR, "pages": PAGES,
                      "present": Field((list, str), items=int, check=lambda v: None
                                       if not isinstance(v, str) or v in ("all", "none")
                                       else "must be a list of page indexes, 'all' or 'none'")},
                     check_present, "exactly these pages of a range are present in hardware"),
    "page": Check({"addr": ADDR, "type": Field(str, None, check=one_of(UNINIT, ANON, FILE)),
                   "writable": Field(bool, None), "resident": Field(bool, None),
                   "present": Field(bool, None), "pte_writable": Field(bool, None),
                   "swapped": Field(bool, None),
                   "file_offset": Field(int, None, check=in_range(0, 1 << 31))},
                  check_page, "one page's SPT record and PTE"),
    "contents": Check({"addr": ADDR, "length": Field(int, check=in_range(1, 1 << 24)),
                       "source": Field(str, check=one_of(*SOURCES)), "file": Field(str, None),
                       "offset": Field(int, 0, check=in_range(0, 1 << 30)),
                       "text": Field(str, None)},
                      check_contents, "memory contents equal ELF bytes, a data file, zeros or text"),
    "unmapped": Check({"addr": ADDR, "pages": PAGES}, check_unmapped,
                      "no PTE and no SPT entry in a range"),
    "pages": Check({"at": ADDR, "state": Field(str, check=one_of(*STATES)),
                    "count": Field(int, 1, check=in_range(1, 1 << 20)),
                    "to": Field((int, str), None, check=address_check),
                    "writable": Field(bool, None), "dirty": Field(bool, None),
                    "frame": Field(str, None, check=frame_check)},
                   check_pages, "every page of a range is present/lazy/valid/not_present/unmapped"),
    "swap_used": Check({"min": Field(int, 0, check=in_range(0, 1 << 24)),
                        "max": Field(int, None, check=in_range(0, 1 << 24))}, check_swap_used,
                       "between MIN and MAX swap slots in use"),
    "frame_of": Check({"addr": ADDR, "equals": ADDR}, check_frame_of,
                      "the page is mapped to the frame at this kernel address (get_phys_addr)"),
    "stack": Check({"contiguous": Field(bool, True)}, check_stack,
                   "stack pages within 1 MB of the top (and contiguous)"),
    "file_bytes": Check({"file": Field(str), "offset": Field(int, 0, check=in_range(0, 1 << 30)),
                         "length": Field(int, None, check=in_range(1, 1 << 30)),
                         "equals_file": Field(str, None),
                         "equals_offset": Field(int, 0, check=in_range(0, 1 << 30)),
                         "text": Field(str, None), "zero": Field(bool, False)},
                        check_file_bytes, "a file on the disk after the run", after_run=True),
    "file_cksum": Check({"file": Field(str), "cksum": Field(int, check=in_range(0, 0xFFFFFFFF)),
                         "size": Field(int, None, check=in_range(0, 1 << 31))},
                        check_file_cksum, "a file's size and POSIX cksum after the run",
                        after_run=True),
}


def cross_check(name: str, params: dict) -> Optional[str]:
    """Checks that depend on several parameters at once; an error or None."""
    if name == "contents":
        if params["source"] == "file" and not params["file"]:
            return "source = \"file\" needs a 'file' key"
        if params["source"] == "text" and params["text"] is None:
            return "source = \"text\" needs a 'text' key"
    if name == "pages" and params["to"] is not None and params["count"] != 1:
        return "give either 'count' or 'to', not both"
    if name == "page" and all(params[k] is None for k in params if k != "addr"):
        return "a page check needs at least one of: " + ", ".join(k for k in params if k != "addr")
    if name == "file_bytes" and sum(x is not None and x is not False for x in
                                    (params["equals_file"], params["text"], params["zero"] or None)) > 1:
        return "give only one of equals_file, text, zero"
    return None


def run_check(ctx: CheckContext, name: str, params: dict) -> list:
    """Runs check NAME; an address it cannot evaluate (a symbol the
    program lacks, a `probe` the program never set) is UNKNOWN."""
    try:
        return CHECKS[name].run(ctx, **params)
    except KeyError as e:
        return [unknown(name, f"cannot evaluate an address: no value for {e.args[0]!r}")]
