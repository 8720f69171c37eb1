"""Every crash explained (harness/run/fault_capture.py, harness/run/fault_explain.py),
on the real reference kernel and on catalogue mutants: each kind of fault
shows the right instruction, operand, access, mode, outcome, source line
and page state; a fault the kernel resolves as designed records nothing.

Kinds: a user write through NULL that panics (panic-on-bad-access), a push
refused at the stack limit (stack-no-push-slack: an implicit operand), a
write to read-only code (protection, PTE without W, SPT read-only file
page), a kernel-mode fault in the user copy of read() (fix-up), a user
read of a kernel address (protection, a level without U), a divide error
(no CR2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.adapters.reference.adapter import ReferenceAdapter
from harness.course.mutants import build_mutant, load_catalogue
from harness.machine.qemu import MachineOptions
from harness.run.runner import RunnerOptions, run_scenario

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def suite(built):
    from harness import config
    from harness.run.runner import DATA_DIR
    from harness.run.suite import load_all
    return {sc.name: sc for sc in load_all(config.build_dir() / "programs", DATA_DIR)}


@pytest.fixture(scope="module")
def mutant(built, tmp_path_factory):
    catalogue = {m.name: m for m in load_catalogue()}
    built_dirs: dict = {}

    def adapter(name: str) -> ReferenceAdapter:
        if name not in built_dirs:
            out = tmp_path_factory.mktemp(name)
            build_mutant(catalogue[name], out)
            built_dirs[name] = out
        return ReferenceAdapter(kernel_dir=built_dirs[name])
    return adapter


def run(suite, run_root, name: str, adapter=None):
    result = run_scenario(adapter or ReferenceAdapter(), suite[name],
                          RunnerOptions(machine=MachineOptions(run_root=run_root)))
    assert result.notes == [] or all("fault" not in n for n in result.notes), result.notes
    return result


def source_text(record) -> str:
    """The text of the source line a record names."""
    file, line = record.source.rsplit(":", 1)
    return (REPO / "scenarios" / file).read_text().splitlines()[int(line) - 1]


@pytest.mark.timeout(300)
def test_a_null_write_that_panics_is_told_at_its_fault(suite, run_root, mutant):
    res = run(suite, run_root, "fault-pf-null-write", mutant("panic-on-bad-access"))
    assert res.verdict.value == "KERNEL_PANIC"
    (f,) = res.faults
    assert (f.mode, f.access, f.present, f.cr2, f.vector) == ("user", "write", False, 0, 14)
    assert f.instruction == "mov dword ptr [rbp], 0x12345678"
    assert (f.operand, f.operand_index, f.operand_address) == ("dword ptr [rbp]", 0, 0)
    assert f.consistent is True and f.outcome == "the kernel panicked"
    assert f.function.startswith("main+") and "*p = 0x12345678" in source_text(f)
    assert f.page.levels[-1].flags == "not present" and f.page.spt is None
    trap = next(fr for fr in res.panic_stack if fr.fault is not None)
    assert trap.fault == 0 and trap.trap.user is True
    assert res.panic_stack[0].source.startswith("kernel/debug.c:")
    assert "→ the handler then: page_fault+" in res.reason
    assert "programs/core/fault-pf.c:" in res.reason


@pytest.mark.timeout(300)
def test_a_refused_push_shows_the_implicit_stack_operand(suite, run_root, mutant):
    res = run(suite, run_root, "stk-limit-at", mutant("stack-no-push-slack"))
    assert res.verdict.value == "FAIL"
    (f,) = res.faults
    assert (f.mode, f.access, f.present) == ("user", "write", False)
    assert f.instruction.startswith("push ")
    assert (f.operand, f.operand_index) == ("qword ptr [rsp - 8]", None)   # implicit
    assert f.operand_address == f.cr2 == 0x47480000 - (1 << 20)   # the lowest stack bytes allowed
    assert f.outcome == "the process was killed (exit(-1))"
    assert f.page.spt is None and "not present" in f.page.mapping


@pytest.mark.timeout(300)
def test_a_write_to_code_is_a_protection_fault_on_a_read_only_page(suite, run_root):
    res = run(suite, run_root, "fault-pf-code-write")
    assert res.verdict.value == "PASS", res.reason
    (f,) = res.faults
    assert (f.mode, f.access, f.present) == ("user", "write", True)
    assert (f.operand, f.operand_address) == ("dword ptr [rbp]", f.cr2)
    pte = f.page.levels[-1]
    assert pte.level == "PTE" and "W" not in pte.flags.split("|")
    assert "U" in pte.flags.split("|")
    spt = f.page.spt
    assert spt.type == "file" and spt.writable is False
    assert spt.frame_pa == f.page.frame
    assert f.page.owners == [owner for owner in f.page.owners
                                if owner.startswith("fault-pf (pid ")] and f.page.owners


@pytest.mark.timeout(300)
def test_a_kernel_mode_fault_in_the_user_copy_names_the_system_call(suite, run_root):
    res = run(suite, run_root, "badptr-read-code")
    assert res.verdict.value == "PASS", res.reason
    (f,) = res.faults
    assert (f.mode, f.access, f.present) == ("kernel", "write", True)
    assert f.instruction.startswith("rep movsb")
    assert (f.operand, f.operand_index) == ("byte ptr [rdi]", 0)
    assert f.outcome.startswith("the user copy failed (fix-up)")
    assert f.function.startswith("usercopy_bytes") and f.source.startswith("arch/x86_64/usercopy.S:")
    assert any(fr.syscall == "read" for fr in f.stack)


@pytest.mark.timeout(300)
def test_a_user_read_of_a_kernel_address_is_a_protection_fault(suite, run_root):
    res = run(suite, run_root, "fault-pf-kernel-read")
    (f,) = res.faults
    assert (f.mode, f.access, f.present) == ("user", "read", True)
    assert f.cr2 >= 0x8004000000 and f.operand_address == f.cr2
    assert any("U" not in level.flags.split("|") for level in f.page.levels)


@pytest.mark.timeout(300)
def test_a_divide_error_has_no_address(suite, run_root):
    res = run(suite, run_root, "fault-div-zero")
    (f,) = res.faults
    assert (f.vector, f.cr2, f.page, f.access) == (0, None, None, "")
    assert f.instruction.startswith("idiv") and "/ divisor" in source_text(f)


@pytest.mark.timeout(300)
def test_a_fault_the_kernel_resolves_in_the_user_copy_records_nothing(suite, run_root):
    """read() into a never-touched .bss page: a kernel-mode fault inside the
    user copy that the VM resolves, as designed."""
    res = run(suite, run_root, "sc-read-bss")
    assert res.verdict.value == "PASS", res.reason
    assert res.faults == [] and res.faults_beyond == 0 and res.panic_stack == []


@pytest.mark.timeout(300)
def test_a_kernel_bug_that_reads_through_a_bad_pointer_is_told_at_its_fault(
        suite, run_root, mutant):
    """mmap-console-fd: mmap of fd 1 uses the console's stand-in handle as a
    file; the kernel reads through it in kernel mode and panics."""
    res = run(suite, run_root, "mmap-bad-fd3", mutant("mmap-console-fd"))
    assert res.verdict.value == "KERNEL_PANIC"
    (f,) = res.faults
    assert (f.mode, f.access, f.present) == ("kernel", "read", False)
    assert f.operand_address == f.cr2 and f.cr2 < 0x10000 and f.consistent is True
    assert f.function == "file_length (kernel)" and f.source.startswith("kernel/file.c:")
    assert f.page.spt is None and "not present" in f.page.mapping
    names = [fr.function.split("+")[0] for fr in res.panic_stack]
    assert names[names.index("file_length") + 1] == "vm_mmap"    # its caller, from [rsp]
    assert res.panic_story.startswith("while running mmap() in mmap-bad-fd3 (")
    assert "vm_mmap+" in res.panic_story.split(" → page fault")[0]
