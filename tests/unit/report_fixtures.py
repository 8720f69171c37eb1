"""A realistic RunResult for report tests: passing and failing scenarios,
checkpoints with page-table snapshots of about 100 pages and their SPTs,
violations found by the real invariant oracles, an injection, faults with
the Capstone disassembly around RIP.

    build_run(tmp)     the run (TMP receives the replay schedule file)
    FAILING            name of the FAIL scenario whose checks the tests look for
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from harness.x86.disasm import disassemble_around
from results.model import (CheckpointRecord, FaultRecord, InjectionRecord,
                             RunResult, ScenarioResult, Verdict)
from oracles.model.page_tables import PTE_A, PTE_D, PTE_NX, PTE_P, PTE_U, PTE_W, PageMapping, make_snapshot
from oracles.invariants import check_invariants
from oracles.model.machine_state import (ANON, FAIL, FILE, UNINIT, MachineState, PoolState, ProcessState,
                           SptPage, Violation)

PAGE = 4096
CODE, RODATA, DATA, BSS = 0x400000, 0x404000, 0x405000, 0x407000
BSS_PAGES = 80
STACK_TOP = LAYOUT.user_stack
MMAP_BASE = 0x10000000
RO_CODE = PTE_P | PTE_U | PTE_A
RO_DATA = PTE_P | PTE_U | PTE_A | PTE_NX
RW_DATA = PTE_P | PTE_U | PTE_W | PTE_A | PTE_D | PTE_NX
FAILING = "swap-anon-evict-and-return"
KERNEL = "pintos-kaist:/home/student/pintos"
SWAPPED_BACK = BSS + 17 * PAGE      # the page the buggy kernel maps without updating its SPT


class AddressSpace:
    """One process's PTEs and SPT as a kernel would leave them, changed
    step by step between checkpoints."""

    def __init__(self, pid: int, name: str, cr3: int, frame_base: int):
        self.pid, self.name, self.cr3 = pid, name, cr3
        self.ptes: dict = {}
        self.spt: dict = {}
        self.next_frame = frame_base

    def _entry_addrs(self, va: int) -> tuple:
        index = [(va >> shift) & 511 for shift in (39, 30, 21, 12)]
        tables = [self.cr3, self.cr3 + 0x1000, self.cr3 + 0x2000,
                  self.cr3 + 0x3000 + ((va >> 21) & 7) * 0x1000]
        return tuple(t + i * 8 for t, i in zip(tables, index))

    def lazy(self, va: int, kind: str, writable: bool, **fields) -> None:
        self.spt[va] = SptPage(va, kind, writable=writable, **fields)

    def load(self, va: int, flags: int, frame: Optional[int] = None) -> int:
        """Maps VA to a new frame (or FRAME) and records it in the SPT."""
        if frame is None:
            frame, self.next_frame = self.next_frame, self.next_frame + PAGE
        self.ptes[va] = PageMapping(va, PAGE, frame, flags, frame | flags,
                                    self._entry_addrs(va))
        page = self.spt[va]
        kind = ANON if page.type == UNINIT else page.type
        self.spt[va] = dataclasses.replace(page, type=kind, frame_pa=frame,
                                           swap_slot=None)
        return frame

    def swap_out(self, va: int, slot: int) -> None:
        del self.ptes[va]
        self.spt[va] = dataclasses.replace(self.spt[va], frame_pa=None, swap_slot=slot)

    def process(self) -> ProcessState:
        snap = make_snapshot(self.cr3, list(self.ptes.values()), [], [],
                             user_top=LAYOUT.user_top)
        return ProcessState(self.pid, self.name, snap, dict(self.spt),
                            code_ranges=((CODE, RODATA),))

    def checkpoint(self, cp_id: int, hit: int, icount: int, pools: PoolState,
                   violations=(), expectations=()) -> CheckpointRecord:
        return CheckpointRecord(
            id=cp_id, hit=hit, pid=self.pid, process=self.name, icount=icount,
            pages=self.process().pages,
            spt=sorted(self.spt.values(), key=lambda p: p.va),
            pools=pools, violations=list(violations),
            expectations=list(expectations))


def program(pid: int, name: str, cr3: int, frame_base: int) -> AddressSpace:
    """A freshly exec'd program: code, rodata, data, a 64-page bss array
    (all lazy), the first code page and one stack page loaded."""
    space = AddressSpace(pid, name, cr3, frame_base)
    for i in range(4):
        space.lazy(CODE + i * PAGE, FILE, False, file_id=3, file_offset=0x1000 + i * PAGE,
                   read_bytes=PAGE)
    space.lazy(RODATA, FILE, False, file_id=3, file_offset=0x5000, read_bytes=0x6a0)
    for i in range(2):
        space.lazy(DATA + i * PAGE, UNINIT, True, file_id=3, file_offset=0x6000 + i * PAGE,
                   read_bytes=PAGE if i == 0 else 0x310)
    for i in range(BSS_PAGES):
        space.lazy(BSS + i * PAGE, UNINIT, True)
    space.lazy(STACK_TOP - PAGE, ANON, True)
    space.load(CODE, RO_CODE)
    space.load(STACK_TOP - PAGE, RW_DATA)
    return space


def touch_bss(space: AddressSpace, pages: range) -> None:
    for i in pages:
        if BSS + i * PAGE not in space.ptes:
            space.load(BSS + i * PAGE, RW_DATA)


def pools(free: int, swap_used: int = 0) -> PoolState:
    return PoolState(user_frames_total=96, user_frames_free=free,
                     swap_slots_total=2048, swap_slots_used=swap_used)


def _exit_console(name: str, status: int, extra=()) -> str:
    lines = ["vmcheck reference kernel booting (20 MB, swap 4 MB)",
             "Executing '" + name + "':", *extra, f"{name}: exit({status})",
             "vmcheck: poweroff user_frames_free=96/96 swap_slots_free=2048/2048"]
    return "\n".join(lines) + "\n"


def lazy_scenario() -> ScenarioResult:
    space = program(3, "lazy-array", 0x1F0000, 0x1200000)
    cps = [space.checkpoint(1, 1, 1_204_551, pools(94),
                            expectations=[{"check": "present", "start": "array",
                                           "pages": 64, "present": "none"}])]
    space.load(DATA, RW_DATA)
    touch_bss(space, range(16))
    cps.append(space.checkpoint(2, 2, 3_118_020, pools(77), expectations=[
        {"check": "present", "start": "array", "pages": 64, "present": "0..15"}]))
    touch_bss(space, range(48))
    space.load(CODE + PAGE, RO_CODE)
    cps.append(space.checkpoint(3, 3, 6_950_774, pools(44)))
    return ScenarioResult(
        name="lazy-bss-array", area="lazy", verdict=Verdict.PASS, duration_s=1.84,
        exit_status=0, expected_exit_status=0, checkpoints=cps, points=2.0,
        description="Touching pages 0..i of a 64-page bss array makes exactly those present.",
        console=_exit_console("lazy-array", 0, ["touched 16 pages", "touched 48 pages"]))


def swap_failing_scenario(tmp: Optional[Path]) -> ScenarioResult:
    """Pages evicted under a 48-frame pool come back; the kernel maps one
    without updating its SPT and loses its contents."""
    space = program(4, "swap-anon", 0x2F0000, 0x1400000)
    touch_bss(space, range(BSS_PAGES))
    for slot, i in enumerate(range(8, 30)):
        space.swap_out(BSS + i * PAGE, slot)
    cp1 = space.checkpoint(1, 1, 9_870_112, pools(0, 22))
    frame = space.next_frame
    space.ptes[SWAPPED_BACK] = PageMapping(SWAPPED_BACK, PAGE, frame, RW_DATA,
                                           frame | RW_DATA, space._entry_addrs(SWAPPED_BACK))
    state = MachineState(checkpoint=2, current=4, processes={4: space.process()},
                         address_layout=LAYOUT,
                         pools=pools(0, 21))
    found = [v for v in check_invariants(state) if v.outcome == FAIL]
    assert any(v.expected and v.actual for v in found), "fixture must violate an invariant"
    found.append(Violation("contents", "byte 0 of array+0x11000 differs from text",
                           SWAPPED_BACK, 4, "766d636865636b2d", "0000000000000000"))
    cp2 = space.checkpoint(2, 2, 11_402_336, pools(0, 21), violations=found)
    schedule = None
    if tmp is not None:
        schedule = tmp / "swap-anon-evict.schedule.json"
        schedule.write_text('{"injections": [{"point": "swap_in", "hit": 3, '
                            '"kind": "delay", "icount": 10511877}]}\n')
    names = sorted({v.oracle for v in found})
    return ScenarioResult(
        name=FAILING, area="swap", verdict=Verdict.FAIL, duration_s=4.37,
        reason=f"{len(found)} failed checks at checkpoint 2: {', '.join(names)}",
        exit_status=0, expected_exit_status=0, checkpoints=[cp1, cp2],
        injections=[InjectionRecord("swap_in", 3, "delay", "swap-anon", 10_511_877)],
        schedule_file=None if schedule is None else str(schedule),
        artifacts="/tmp/vmcheck-run/swap-anon-evict-and-return",
        console=_exit_console("swap-anon", 0, ["evicting...", "checking 64 pages"]),
        points=3.0)


def mmap_scenario() -> ScenarioResult:
    space = program(5, "mmap-write", 0x3F0000, 0x1600000)
    for i in range(24):
        space.lazy(MMAP_BASE + i * PAGE, FILE, True, file_id=4, file_offset=i * PAGE,
                   read_bytes=PAGE if i < 23 else 0x123, dirty=False)
    cp1 = space.checkpoint(1, 1, 2_002_002, pools(94))
    for i in range(8):
        space.load(MMAP_BASE + i * PAGE, RW_DATA if i % 2 else RO_DATA | PTE_W)
        space.spt[MMAP_BASE + i * PAGE] = dataclasses.replace(
            space.spt[MMAP_BASE + i * PAGE], dirty=bool(i % 2))
    cp2 = space.checkpoint(2, 2, 4_100_000, pools(86))
    return ScenarioResult(
        name="mmap-partial-last-page", area="mmap", verdict=Verdict.PASS, duration_s=2.12,
        exit_status=0, expected_exit_status=0, checkpoints=[cp1, cp2], points=2.0,
        console=_exit_console("mmap-write", 0))


def cow_scenario() -> ScenarioResult:
    parent = program(6, "fork-cow", 0x4F0000, 0x1800000)
    touch_bss(parent, range(6))
    child = AddressSpace(7, "child", 0x5F0000, 0x1900000)
    child.spt = {va: dataclasses.replace(p, cow=p.resident or None)
                 for va, p in parent.spt.items()}
    for va, m in parent.ptes.items():
        ro = m.flags & ~PTE_W
        parent.ptes[va] = m._replace(flags=ro, leaf_value=m.phys | ro)
        parent.spt[va] = dataclasses.replace(parent.spt[va], cow=True)
        child.ptes[va] = PageMapping(va, PAGE, m.phys, ro, m.phys | ro,
                                     child._entry_addrs(va))
    cps = [parent.checkpoint(1, 1, 5_000_000, pools(80)),
           child.checkpoint(1, 2, 5_600_000, pools(80))]
    frame = child.load(BSS, RW_DATA)
    child.spt[BSS] = dataclasses.replace(child.spt[BSS], cow=False, frame_pa=frame)
    cps.append(child.checkpoint(2, 3, 6_100_000, pools(79)))
    return ScenarioResult(
        name="cow-write-after-fork", area="cow", verdict=Verdict.PASS, duration_s=3.05,
        exit_status=0, expected_exit_status=0, checkpoints=cps, points=2.0,
        console=_exit_console("fork-cow", 0, ["child: exit(0)"]))


# push rbp; mov rbp, rsp; mov rax, [rdi]; mov [rsi], al; inc rsi; pop rbp; ret
_COPY_CODE = bytes.fromhex("55 4889e5 488b07 8806 48ffc6 5d c3 90 90".replace(" ", ""))
_COPY_BASE = 0xFFFFFFFF80104A10


def _disassembly(code: bytes, base: int, rip: int) -> list:
    return [(line.address, line.text, line.at_rip)
            for line in disassemble_around(code, base, rip)]


def panic_scenario() -> ScenarioResult:
    rip = _COPY_BASE + 7
    fault = FaultRecord(
        process="stack-deep", rip=rip, cr2=0x4737EFF8, error_code=0x2,
        reason="kernel page fault in copy_out: write to unmapped stack page 0x4737e000",
        disassembly=_disassembly(_COPY_CODE, _COPY_BASE, rip),
        analysis="page fault at rip 0xffffffff80104a17 `mov byte ptr [rsi], al`: "
                 "cr2 0x4737eff8, error 0x2 (page not present, write, supervisor mode)\n"
                 "consistent\n  note: cr2 0x4737eff8 is in the write of byte ptr [rsi]")
    console = "\n".join([
        "vmcheck reference kernel booting (20 MB, swap 4 MB)", "Executing 'stack-deep':",
        "stack-deep: depth 1 ok", "stack-deep: depth 2 ok",
        "Kernel PANIC at vm/fault.c:88 in page_fault(): kernel fault at 0x4737eff8",
        "Call stack: 0xffffffff80104a17 0xffffffff80108e31 0xffffffff80102b07"]) + "\n"
    return ScenarioResult(
        name="stack-growth-in-syscall-depth-3", area="stack", verdict=Verdict.KERNEL_PANIC,
        duration_s=0.93, reason="kernel panic: Kernel PANIC at vm/fault.c:88",
        exit_status=None, expected_exit_status=0, console=console,
        missing_output=["stack-deep: exit(0)"], faults=[fault], points=1.0)


def robustness_scenario() -> ScenarioResult:
    code = bytes.fromhex("4889e5c70701000000c3")   # mov rbp,rsp; mov dword [rdi],1; ret
    fault = FaultRecord(process="write-code", rip=0x401013, cr2=0x400000, error_code=0x7,
                        reason="user write to a read-only code page: process killed",
                        disassembly=_disassembly(code, 0x401010, 0x401013))
    return ScenarioResult(
        name="robust-write-code-segment", area="robustness", verdict=Verdict.PASS,
        duration_s=0.61, exit_status=-1, expected_exit_status=-1, faults=[fault],
        console=_exit_console("write-code", -1), points=1.0)


def other_scenarios() -> list:
    hang_console = "\n".join(["Executing 'fork-swap':"] +
                             [f"fork-swap: child {i} forked" for i in range(12)]) + "\n"
    return [
        ScenarioResult(name="fork-with-swapped-pages", area="fork", verdict=Verdict.HANG,
                       duration_s=60.02, reason="timeout: no progress for 60 s (last line "
                       "'fork-swap: child 11 forked')", console=hang_console,
                       expected_exit_status=0, points=2.0),
        ScenarioResult(name="inject-frame-alloc-fail", area="injection",
                       verdict=Verdict.PASS, duration_s=1.31, exit_status=-1,
                       expected_exit_status=-1, points=1.0,
                       injections=[InjectionRecord("frame_alloc", 5, "fail", "main", None)],
                       console=_exit_console("alloc-fail", -1)),
        ScenarioResult(name="swap-slot-reuse", area="swap", verdict=Verdict.HARNESS_ERROR,
                       duration_s=0.2, reason="GDB stub did not answer within 10 s",
                       points=1.0),
        ScenarioResult(name="core-args-many", area="core", verdict=Verdict.PASS,
                       duration_s=0.42, exit_status=0, expected_exit_status=0,
                       console=_exit_console("args", 0, ["argv[0] = 'args'"]), points=0.5),
    ]


def build_run(tmp: Optional[Path] = None) -> RunResult:
    """The fixture run; TMP (optional) gets the replay schedule file."""
    scenarios = [lazy_scenario(), panic_scenario(), mmap_scenario(),
                 swap_failing_scenario(tmp), cow_scenario(), robustness_scenario(),
                 *other_scenarios()]
    for sc in scenarios:
        sc.kernel = KERNEL
    return RunResult(kernel=KERNEL, started="2025-03-04T10:15:30",
                     duration_s=41.7, jobs=2, scenarios=scenarios,
                     host={"qemu": "7.2.11", "accel": "tcg"}, address_layout=LAYOUT)


def failing_violations(run: RunResult) -> list:
    """The violations of the FAILING scenario (checkpoint 2)."""
    sc = next(s for s in run.scenarios if s.name == FAILING)
    return sc.checkpoints[1].violations


def published(run: RunResult, out: Path) -> tuple:
    """(OUT, RUN) once RUN's results.json and report are written in OUT."""
    from harness.cli.report import publish
    publish(run, out)
    return out, run
