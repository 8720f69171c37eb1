"""Explaining a caught fault: what it is, where it is, what the page was.

explain_fault() turns a trap frame (harness/run/kernel_stack.py) into a
FaultRecord: the error code in words, the instruction at rip decoded with
Capstone and cross-checked against CR2 (harness/x86/fault_decode.py:
analyze_page_fault), the operand that touched CR2, a few instructions
around it, the function and source file:line (DWARF line programs, for the
kernel and for the scenario's programs). page_state() reads the faulting
page's state (a FaultPage): the entry at every paging level, the SPT
entry, the frame and every process that maps it. kernel_frames() and
panic_story() give a panic's stack (KernelFrames) with file:line per frame
and tell it at its fault.
"""

from __future__ import annotations

from typing import Optional

from harness.adapters.inspector import KernelInspector
from harness.debug.source_lines import source_lines
from harness.errors import HarnessError
from harness.run.capture import DebuggerMemory
from harness.run.kernel_stack import INTERRUPTED, SYSCALL_ENTRY, read_trap_frame
from harness.x86.disasm import disassemble_around
from harness.x86.fault_decode import (InstructionDecodeError, PageFaultErrorCode,
                                      analyze_page_fault, decode_instruction)
from harness.x86.pagewalk import translate, walk_page_tables
from oracles.model.page_fault import PAGE_FAULT_VECTOR
from oracles.model.page_tables import LEVEL_NAMES, PTE_NX, PTE_P, PTE_PS, format_flags
from results.model import FaultPage, FaultRecord, KernelFrame, PagingEntry, TrapFrameRef

EFER_NXE = 1 << 11
FAULT_STOP = -1                      # the checkpoint id an inspector is told at a fault stop
CODE_BEFORE, CODE_AFTER = 48, 32     # bytes read around rip for the listing
PAGE_MASK = ~0xFFF
# System-call numbers of the Pintos-KAIST user ABI (both kernels).
SYSCALL_NAMES = ("halt", "exit", "fork", "exec", "wait", "create", "remove", "open",
                 "filesize", "read", "write", "seek", "tell", "close", "mmap", "munmap",
                 "chdir", "mkdir", "readdir", "isdir", "inumber", "symlink", "dup2")
EXCEPTION_NAMES = {0: "divide error", 1: "debug", 3: "breakpoint", 4: "overflow",
                   5: "bound range", 6: "invalid opcode", 7: "device not available",
                   8: "double fault", 10: "invalid TSS", 11: "segment not present",
                   12: "stack fault", 13: "general protection fault", 14: "page fault",
                   16: "x87 error", 17: "alignment check", 18: "machine check",
                   19: "SIMD error"}


def _code_around(dbg, rip: int) -> tuple:
    """(bytes, address): guest code around RIP, as much of the window as
    is mapped (the window is cut at page boundaries that do not read)."""
    for start, end in ((rip - CODE_BEFORE, rip + CODE_AFTER),
                       (max(rip - CODE_BEFORE, rip & PAGE_MASK), rip + CODE_AFTER),
                       (rip, min(rip + CODE_AFTER, (rip & PAGE_MASK) + 0x1000)),
                       (rip, rip + 1)):
        try:
            return dbg.read_virt(start, end - start), start
        except HarnessError:
            continue
    return b"", rip


def _user_image(images: dict, rip: int, code: bytes, code_address: int):
    """The scenario program whose bytes at RIP are the code read there."""
    at_rip = code[rip - code_address:rip - code_address + 8]
    for image in images.values():
        if at_rip and image.elf_bytes(rip, len(at_rip)) == at_rip:
            return image
    return None


def locate(dbg, address: int, images: dict, code: bytes = b"",
           code_address: int = 0) -> tuple:
    """(function, file:line) of a code ADDRESS: "name+0xoff (kernel)" or
    "name+0xoff (program)", '' where unknown."""
    symbols = dbg.symbols
    if symbols is not None and symbols.function_at(address) is not None:
        line = source_lines(symbols.path).lookup(address)
        return f"{symbols.describe(address)} (kernel)", str(line) if line else ""
    image = _user_image(images, address, code, code_address) if code else None
    if image is None:
        return "", ""
    below = [(a, n) for n, a in image.symbols.items() if a <= address]
    name = ""
    if below:
        base, func = max(below)
        name = f"{func}+{address - base:#x}" if address != base else func
    line = source_lines(image.path).lookup(address)
    return f"{name} ({image.name})", str(line) if line else ""


def _fault_words(vector: int, error: Optional[PageFaultErrorCode]) -> tuple:
    """(reason, access, present) for the record."""
    name = EXCEPTION_NAMES.get(vector, f"exception {vector}")
    if error is None:
        return name, "", None
    access = "instruction fetch" if error.fetch else ("write" if error.write else "read")
    return f"{name} ({error.describe()})", access, error.present


def explain_fault(dbg, frame, cr2: Optional[int], outcome: str, process: str,
                  images: dict) -> FaultRecord:
    """A FaultRecord for the trap FRAME (a harness.run.kernel_stack.TrapFrame)
    with faulting address CR2 (None unless a #PF); OUTCOME: what the kernel
    did next; IMAGES: program name -> ProgramImage (user code)."""
    regs = dict(frame.regs)
    for name in ("fs_base", "gs_base"):
        regs[name] = dbg.register(name)
    rip = regs["rip"]
    code, code_address = _code_around(dbg, rip)
    error = PageFaultErrorCode(frame.error_code) if frame.vector == PAGE_FAULT_VECTOR else None
    reason, access, present = _fault_words(frame.vector, error)
    if cr2 is not None:
        reason += f" at {cr2:#x}"
    record = FaultRecord(process=process, reason=reason, rip=rip, cr2=cr2,
                         error_code=frame.error_code if error else None,
                         vector=frame.vector, mode="user" if frame.user else "kernel",
                         access=access, present=present, outcome=outcome,
                         frame_address=frame.address)
    record.function, record.source = locate(dbg, rip, images, code, code_address)
    if code_address <= rip < code_address + len(code):
        record.disassembly = [(line.address, line.text, line.at_rip)
                              for line in disassemble_around(code, code_address, rip)]
    if error is not None and cr2 is not None:
        nx = bool(dbg.register("efer") & EFER_NXE)
        analysis = analyze_page_fault(cr2, frame.error_code, regs, code, code_address,
                                      nx_enabled=nx)
        _take_analysis(record, analysis)
    else:
        try:
            record.instruction = decode_instruction(code[rip - code_address:], rip, regs).text
        except InstructionDecodeError:
            pass
    return record


def _take_analysis(record: FaultRecord, analysis) -> None:
    record.analysis = analysis.explanation()
    record.consistent = analysis.consistent and analysis.cr2_in_access is not False
    if analysis.instruction is not None:
        record.instruction = analysis.instruction.text
    if analysis.access is not None:
        record.operand = analysis.access.text
        record.operand_index = analysis.access.operand
        record.operand_address = analysis.access.address
    elif analysis.error.fetch:
        record.operand = "the instruction itself (fetch)"


def _entry_flags(level: int, value: int) -> str:
    """A paging entry's flags in words ("P|W|U|A", "|PS" for a large-page
    leaf above the PTE level), "not present" without P."""
    if not value & PTE_P:
        return "not present"
    flags = format_flags(value & (PTE_NX | 0xFFF & ~PTE_PS))
    return flags + ("|PS" if level > 1 and value & PTE_PS else "")


def _levels(translation) -> list:
    return [PagingEntry(LEVEL_NAMES[level], entry, value, _entry_flags(level, value))
            for level, entry, value in translation.steps]


def page_state(dbg, inspector, cr2: int, ram_size: int, images: dict,
               observe: bool = True) -> FaultPage:
    """The state of the page holding CR2 in the current address space: the
    entry at every paging level, the frame, the current process's SPT entry
    and every process mapping that frame. OBSERVE: let the inspector learn
    from this stop (not in a panic: the kernel may be mid-update). What
    cannot be read is named in 'notes' rather than raised."""
    page = cr2 & PAGE_MASK
    mem = DebuggerMemory(dbg, ram_size)
    cr3 = dbg.register("cr3")
    nx = bool(dbg.register("efer") & EFER_NXE)
    with dbg.physical_memory():
        translation = translate(mem, cr3, cr2, nx_enabled=nx)
    state = FaultPage(page, cr3 & ~0xFFF, _levels(translation), translation.reason or "mapped",
                      translation.phys and translation.phys & PAGE_MASK)
    try:
        _add_kernel_view(state, dbg, inspector, mem, page, nx, images if observe else None)
    except Exception as e:  # noqa: BLE001 - a crashing kernel's memory may be anything
        state.notes.append(f"SPT and owners not read: {type(e).__name__}: {e}")
    return state


def _add_kernel_view(state: FaultPage, dbg, inspector, mem, page: int, nx: bool,
                     images: Optional[dict]) -> None:
    """The current process's SPT entry for PAGE and the owners of its frame
    (every process whose page tables map it). IMAGES: the programs, for the
    inspector's observe(); None: no observe. The page tables of every
    process are walked only when needed: for the owners of a frame, or for
    an inspector that reads its SPT at observe() (Pintos-KAIST)."""
    infos = inspector.processes()
    user_top = inspector.address_layout.user_top
    observes = images is not None and type(inspector).observe is not KernelInspector.observe
    walks = _walks(dbg, mem, infos, nx, user_top) if observes else None
    if observes:
        inspector.observe(FAULT_STOP, walks, images)
    current = next((info for info in infos if info.current), None)
    if current is None:
        state.notes.append("the running thread is not a user process: no SPT")
    else:
        spt, why = inspector.spt(current)
        state.spt = None if spt is None else spt.get(page)
        if spt is None and why:
            state.notes.append(why)
        elif spt is not None and state.spt is None:
            state.notes.append("no SPT entry for this page")
    frame = state.frame or (state.spt.frame_pa if state.spt is not None else None)
    if frame is not None:
        walks = walks or _walks(dbg, mem, infos, nx, user_top)
        state.frame = frame
        state.owners = [f"{info.name} (pid {info.pid}) at {va:#x}"
                        for info in infos for va, phys, _ in walks[info.pid].iter_user_4k()
                        if phys == frame]


def _walks(dbg, mem, infos, nx: bool, user_top: int) -> dict:
    """pid -> PageTableSnapshot of every process in INFOS (user addresses
    below USER_TOP, the kernel's AddressLayout)."""
    with dbg.physical_memory():
        return {info.pid: walk_page_tables(mem, info.pml4_phys, user_top=user_top,
                                           nx_enabled=nx)
                for info in infos}


def _syscall_name(number: int) -> str:
    return SYSCALL_NAMES[number] if 0 <= number < len(SYSCALL_NAMES) else f"system call {number}"


def _kernel_frame(dbg, address: int, is_return: bool) -> KernelFrame:
    """One kernel frame: address, function and file:line (of the call
    instruction for a return address)."""
    symbols = dbg.symbols
    at = address
    if is_return:
        call = symbols.call_before(address)
        at = call if call is not None else address - 1
    line = source_lines(symbols.path).lookup(at)
    return KernelFrame(address, symbols.describe(at), str(line) if line else "")


def kernel_frames(dbg, chain: list) -> list:
    """KernelFrames for CHAIN (harness.run.kernel_stack.walk_stack): the
    first is where the CPU is, the others return addresses. A trap frame
    in the chain sets its entry's frame's `trap`; the interrupted
    instruction's frame is `interrupted`; a system call's frame names the
    call (`syscall`)."""
    out = []
    for index, (address, trap, entry) in enumerate(chain):
        frame = _kernel_frame(dbg, address, index > 0 and entry != INTERRUPTED)
        out.append(frame)
        frame.interrupted = entry == INTERRUPTED
        if trap is None:
            continue
        try:
            tf = read_trap_frame(dbg, trap)
        except (HarnessError, LookupError) as e:
            frame.trap_error = f"trap frame at {trap:#x} unreadable: {e}"
            continue
        if entry == SYSCALL_ENTRY:
            frame.syscall = _syscall_name(tf.regs["rax"])
            continue
        frame.trap = TrapFrameRef(trap, tf.vector, tf.regs["rip"], tf.user)
    return out


def _names(frames: list) -> str:
    return " → ".join(f.function + (f" ({f.source})" if f.source else "") for f in frames)


def panic_story(stack: list, records: list) -> str:
    """A panic's STACK (kernel_frames, innermost first) told outermost
    first and split at the innermost fault inside it: "while running
    read() → page fault at ... in kernel mode → the handler then ... →
    PANIC"; '' when the stack holds no fault."""
    split = next((i for i, f in enumerate(stack) if f.fault is not None), None)
    if split is None:
        return ""
    record = records[stack[split].fault]
    handler = list(reversed(stack[:split]))           # entry ... panic function
    outer = stack[split + 1:]
    if outer and outer[0].interrupted:
        outer = outer[1:]                             # the faulting frame itself
    syscall = next((f.syscall for f in outer if f.syscall is not None), None)
    parts = [f"while running {syscall}() in {record.process}" if syscall else
             f"in {record.process}"]
    callers = [f for f in reversed(outer) if f.syscall is None]
    if callers:
        parts[0] += f" ({_names(callers)})"
    where = record.function + (f" ({record.source})" if record.source else "")
    insn = f" `{record.instruction}`" if record.instruction else ""
    parts.append(f"{record.reason} in {record.mode} mode at {where}{insn}")
    if handler:
        parts.append(f"the handler then: {_names(handler)}")
    return " → ".join(parts)
