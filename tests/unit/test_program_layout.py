"""Every user program has the layout Pintos-KAIST kernels can load: two
PT_LOADs (R+X text at 0x400000, then RW on a later page), no other program
headers, and `checkpoint` alone on its own page (a breakpoint there must not
slow other code). A program written in assembly (programs/*/NAME.S) is
linked without the user library, so it has no `checkpoint`."""

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = REPO / "build" / "programs"
PF_RX, PF_RW = 5, 6
ASSEMBLY = {p.stem for p in (REPO / "scenarios" / "programs").glob("*/*.S")}


def _programs():
    if not PROGRAMS.is_dir():
        return []
    return sorted(p for p in PROGRAMS.iterdir() if p.is_file() and not p.suffix)


def _layout_problems(path: Path, library: bool = True) -> list[str]:
    problems = []
    with path.open("rb") as f:
        elf = ELFFile(f)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        others = [s["p_type"] for s in elf.iter_segments() if s["p_type"] != "PT_LOAD"]
        if [s["p_flags"] for s in loads] != [PF_RX, PF_RW]:
            problems.append(f"PT_LOAD flags {[s['p_flags'] for s in loads]}, expected [5, 6]")
        elif loads[0]["p_vaddr"] != 0x400000:
            problems.append(f"text at {loads[0]['p_vaddr']:#x}, expected 0x400000")
        else:
            text_end = loads[0]["p_vaddr"] + loads[0]["p_memsz"]
            if loads[1]["p_vaddr"] < (text_end + 4095) // 4096 * 4096:
                problems.append("data segment shares a page with text")
        if others:
            problems.append(f"extra program headers {others}")
        symtab = elf.get_section_by_name(".symtab")
        syms = {s.name: s["st_value"] for s in symtab.iter_symbols()}
        cp = syms.get("checkpoint")
        if not library:
            if cp is not None:
                problems.append("a program without the user library has a checkpoint")
        elif cp is None or cp % 4096:
            problems.append(f"checkpoint at {cp!r}, expected page-aligned")
        else:
            neighbours = sorted(
                s.name for s in symtab.iter_symbols()
                if s.name and s["st_info"]["type"] in ("STT_FUNC", "STT_NOTYPE")
                and s["st_value"] // 4096 == cp // 4096)
            if neighbours != ["__vmcheck_checkpoint_start", "checkpoint"]:
                problems.append(f"checkpoint page shared with {neighbours}")
    return problems


def test_programs_were_built(built):
    assert len(_programs()) >= 16, f"expected the user programs in {PROGRAMS}"


@pytest.mark.parametrize("program", _programs(), ids=lambda p: p.name)
def test_program_layout(program):
    assert _layout_problems(program, library=program.name not in ASSEMBLY) == []
