"""The `pages` check: the state of every page of a range at a checkpoint.

States (hardware PTE and SPT together):
  present      P=1, and the SPT has the page
  lazy         P=0, the SPT has the page and it is not in swap
  valid        the SPT has the page (present, lazy or swapped)
  not_present  P=0, with or without an SPT entry
  unmapped     P=0 and no SPT entry: an access must kill the process
`writable` compares the PTE's W bit for present pages and the SPT's
writable flag otherwise; `dirty` the PTE's D bit (present pages only);
`frame` ("same_as:ID" / "differs_from:ID") the physical frame with the
frame the same page had at checkpoint ID (in whichever process hit it).
Where the SPT (or a field of it) cannot be read, the conditions that
need it are UNKNOWN, never passed or failed.
"""

from __future__ import annotations

from oracles.model.page_tables import PTE_D, PTE_W
from oracles.model.machine_state import PAGE, Violation, fields_unknown, spt_unknown, unknown

STATES = ("present", "lazy", "valid", "not_present", "unmapped")


def shown(expr) -> str:
    """An address expression as written, integers in hex."""
    return f"0x{expr:x}" if isinstance(expr, int) else str(expr)


def page_range(ctx, at, count, to) -> list:
    start = ctx.addr(at) & ~(PAGE - 1)
    if to is not None:
        end = (ctx.addr(to) + PAGE - 1) & ~(PAGE - 1)
        count = max(0, (end - start) // PAGE)
    return [start + i * PAGE for i in range(count)]


def _state_problem(state, pte, spt_known, page) -> str | None:
    """Why a page is not in STATE, or None."""
    in_spt = page is not None
    swapped = in_spt and page.swap_slot is not None
    if state in ("present", "not_present", "lazy", "unmapped") and (pte is not None) != (state == "present"):
        return "present in hardware" if pte is not None else "not present in hardware"
    if not spt_known:
        return None
    if state in ("present", "lazy", "valid") and not in_spt:
        return "no SPT entry"
    if state == "lazy" and swapped:
        return f"in swap (slot {page.swap_slot})"
    if state == "unmapped" and in_spt:
        return f"still in the SPT (type {page.type})"
    return None


def check_pages(ctx, at, state, count=1, to=None, writable=None, dirty=None, frame=None) -> list:
    proc = ctx.state.proc
    out = []
    spt_known = proc.spt is not None
    if not spt_known and state != "not_present":
        out.append(spt_unknown("pages", proc))
    unread: dict = {"swap slot": [], "writable flag": []}
    for va in page_range(ctx, at, count, to):
        pte = proc.pages.lookup(va)
        page = proc.spt_page(va)
        if state == "lazy" and pte is None and page is not None and not page.known("swap_slot"):
            unread["swap slot"].append(va)
            continue
        problem = _state_problem(state, pte, spt_known, page)
        if problem:
            out.append(Violation("pages", f"page of {shown(at)} is not {state}", va, proc.pid,
                                 state, problem))
            continue
        if writable is not None and pte is None and page is not None and page.writable is None:
            unread["writable flag"].append(va)
        out += _flag_problems(ctx, proc, va, at, pte, page, writable, dirty, frame)
    for field, vas in unread.items():
        out += fields_unknown("pages", proc, field, vas, f"the state of {shown(at)}")
    return out


def _flag_problems(ctx, proc, va, at, pte, page, writable, dirty, frame) -> list:
    out = []
    if writable is not None:
        got = bool(pte.flags & PTE_W) if pte is not None else (page.writable if page else None)
        if got is not None and got != writable:
            what = "PTE W bit" if pte is not None else "SPT writable"
            out.append(Violation("pages", f"{what} of {shown(at)}", va, proc.pid, str(writable), str(got)))
    if dirty is not None and pte is not None and bool(pte.flags & PTE_D) != dirty:
        out.append(Violation("pages", f"PTE D bit of {shown(at)}", va, proc.pid, str(dirty),
                             str(not dirty)))
    if frame is not None:
        out += _frame_problem(ctx, proc, va, at, pte, frame)
    return out


def _frame_problem(ctx, proc, va, at, pte, frame) -> list:
    relation, _, ref = frame.partition(":")
    earlier = ctx.frames_at(int(ref)).get(va)
    if earlier is None:
        return [unknown("pages", f"frame of {shown(at)}: checkpoint {ref} recorded no frame "
                        "there to compare with", va, proc.pid)]
    now = pte.translate(va) if pte is not None else None
    same = now == earlier
    if same != (relation == "same_as"):
        want = f"{'the same frame as' if relation == 'same_as' else 'a frame other than'} " \
               f"0x{earlier:x} (checkpoint {ref})"
        return [Violation("pages", f"frame of {shown(at)}", va, proc.pid, want,
                          "not present" if now is None else f"0x{now:x}")]
    return []


def check_swap_used(ctx, min=0, max=None) -> list:
    used = ctx.state.pools.swap_slots_used
    if used is None:
        return [unknown("swap_used", "the kernel does not report swap usage "
                        "(no swap map the harness can read)", None, ctx.state.current)]
    if used < min:
        return [Violation("swap_used", "too few pages in swap", None, ctx.state.current,
                          f">= {min} slots in use", str(used))]
    if max is not None and used > max:
        return [Violation("swap_used", "too many swap slots in use", None, ctx.state.current,
                          f"<= {max} slots in use", str(used))]
    return []


def frame_check(value) -> str | None:
    relation, _, ref = value.partition(":")
    if relation not in ("same_as", "differs_from") or not ref.isdigit():
        return f"must be \"same_as:ID\" or \"differs_from:ID\", not {value!r}"
    return None
