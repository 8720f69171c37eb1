"""Where a Pintos-KAIST kernel's page_fault() goes when vm_try_handle_fault()
returns false (harness/adapters/pintos_kaist/fault_sites.py). The handlers are
assembled here in the shapes gcc -O0 emits for the large code model (`movabs
rax, target; call rax`), with the branch both ways round, and in shapes the
finder must refuse."""

from __future__ import annotations

import subprocess

import pytest

from harness.adapters.pintos_kaist.fault_sites import pintos_fault_sites
from harness.adapters.fault_sites import FRAME_ARG, IN_HANDLER, PANIC
from harness.debug.symbols import SymbolTable

TEXT_BASE = 0x8004200000
COMMON = r"""
  .text
  .globl vm_try_handle_fault, kill, power_off, page_fault
  .type vm_try_handle_fault, @function
vm_try_handle_fault:
  xor %eax, %eax
  ret
  .size vm_try_handle_fault, . - vm_try_handle_fault
  .type kill, @function
kill:
  ret
  .size kill, . - kill
  .type power_off, @function
power_off:
  hlt
  .size power_off, . - power_off
"""
HANDLER_START = r"""
  .type page_fault, @function
page_fault:
  push %rbp
  mov %rsp, %rbp
  sub $0x30, %rsp
  mov %cr2, %rax
  mov %rax, -0x18(%rbp)
  movabs $vm_try_handle_fault, %rax
  call *%rax
"""
HANDLER_END = r"""
  .size page_fault, . - page_fault
"""
# after the call: `test al, al`, then the branch
JNE_RESOLVED = r"""
  test %al, %al
  jne 1f
  .globl not_resolved
not_resolved:
  movl $-1, %edi
  call kill
1:
  leave
  ret
"""
JE_FAILED = r"""
  test %al, %al
  je 2f
  leave
  ret
  .globl not_resolved
not_resolved:
2:
  movl $-1, %edi
  call kill
  leave
  ret
"""
NO_TEST = r"""
  cmp $1, %eax
  jne 1f
  call kill
1:
  leave
  ret
"""


def _symbols(tmp_path, body: str, name: str, start: str = HANDLER_START) -> SymbolTable:
    source = tmp_path / f"{name}.S"
    source.write_text(COMMON + start + body + HANDLER_END)
    elf = tmp_path / f"{name}.elf"
    subprocess.run(["gcc", "-nostdlib", "-static", "-no-pie", "-Wl,-e,page_fault",
                    f"-Wl,-Ttext={TEXT_BASE:#x}", "-o", str(elf), str(source)],
                   check=True, capture_output=True, timeout=60)
    return SymbolTable(elf)


@pytest.mark.parametrize("shape", [JNE_RESOLVED, JE_FAILED], ids=["jne-resolved", "je-failed"])
def test_the_site_is_the_first_instruction_of_the_not_resolved_side(tmp_path, shape):
    symbols = _symbols(tmp_path, shape, "handler")
    sites = {site.kind: site for site in pintos_fault_sites(symbols)}
    assert sites[IN_HANDLER].address == symbols.address_of("not_resolved")
    assert sites[IN_HANDLER].cr2_slot == -0x18      # mov %rax, -0x18(%rbp) after mov %cr2
    assert sites[FRAME_ARG].address == symbols.address_of("kill")
    assert sites[PANIC].address == symbols.address_of("power_off")


def test_a_handler_of_another_shape_gets_no_in_handler_site(tmp_path):
    """No `test al, al` after the call: the finder does not guess; kill()
    and the panic's power-off are still caught."""
    symbols = _symbols(tmp_path, NO_TEST, "other")
    kinds = [site.kind for site in pintos_fault_sites(symbols)]
    assert kinds == [FRAME_ARG, PANIC]


def test_a_handler_without_the_cr2_store_has_no_slot(tmp_path):
    """Then CR2 is read from the register at the stop (a nested fault may
    have changed it; the decoder's cross-check says when it does not fit)."""
    start = HANDLER_START.replace("  mov %rax, -0x18(%rbp)\n", "")
    symbols = _symbols(tmp_path, JNE_RESOLVED, "noslot", start)
    site = next(s for s in pintos_fault_sites(symbols) if s.kind == IN_HANDLER)
    assert site.address == symbols.address_of("not_resolved")
    assert site.cr2_slot is None
