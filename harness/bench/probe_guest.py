"""A tiny long-mode guest with a hot loop, built from source at run time.

The debugger's integration tests and its benchmark need a guest that reaches
long mode, calls one function in a tight loop and has DWARF types, without
depending on the reference kernel. This module writes the sources into a
directory, builds them with gcc/ld (multiboot ELF64 with debug info, plus the
32-bit copy QEMU's -kernel loader accepts); probe_qemu_args() gives the
arguments to boot it with harness.machine.qemu.Machine.

Guest symbols the callers rely on:
  long_mode_entry  first 64-bit instruction (identity-mapped, 1 GiB of 2 MiB pages)
  probe_tick       int probe_tick(int x) { probe_hits++; return x + 1; }
                   alone on a 4 KiB page (section .probe_hook)
  guest_main       loop: probe_state.last_result = probe_tick(i); iterations++
  probe_state      struct probe_state (see PROBE_C), probe_records[3] on a list
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.adapters.reference.adapter import QBOOT
from harness.errors import HarnessError

PROBE_BOOT_S = r"""
        .section .multiboot, "a"
        .align 4
        .long 0x1BADB002, 0, -0x1BADB002

        .section .bss
        .align 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096
stack:  .skip 16384
stack_top:

        .section .rodata
        .align 8
gdt:    .quad 0, 0x00209A0000000000, 0x0000920000000000
gdt_ptr: .word 23
        .long gdt

        .text
        .code32
        .globl _start
_start:
        movl $stack_top, %esp
        movl $(pdpt + 3), pml4
        movl $(pd + 3), pdpt
        xorl %ecx, %ecx
1:      movl %ecx, %eax
        shll $21, %eax
        orl $0x83, %eax
        movl %eax, pd(,%ecx,8)
        incl %ecx
        cmpl $512, %ecx
        jne 1b
        movl $pml4, %eax
        movl %eax, %cr3
        movl %cr4, %eax
        orl $0x20, %eax
        movl %eax, %cr4
        movl $0xC0000080, %ecx
        rdmsr
        orl $0x100, %eax
        wrmsr
        movl %cr0, %eax
        orl $0x80000001, %eax
        movl %eax, %cr0
        lgdt gdt_ptr
        ljmp $0x08, $long_mode_entry

        .code64
        .globl long_mode_entry
long_mode_entry:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movq $stack_top, %rsp
        call guest_main
2:      hlt
        jmp 2b
"""

PROBE_C = r"""
#include <stdint.h>

struct probe_link { struct probe_link *prev, *next; };
struct probe_list { struct probe_link head, tail; };

struct probe_record {
  int id;
  char label[8];
  struct probe_link link;
};

typedef uint64_t probe_count_t;

struct probe_state {
  uint32_t magic;
  char name[12];
  probe_count_t iterations;
  int last_result;
  uint16_t small[3];
  unsigned flag : 1;
  unsigned level : 3;
  enum probe_mode { PROBE_IDLE, PROBE_BUSY = 5 } mode;
  struct probe_record *first;
  struct probe_list records;
};

struct probe_record probe_records[3] = {
  { 10, "ten", { 0, 0 } }, { 20, "twenty", { 0, 0 } }, { 30, "thirty", { 0, 0 } },
};
struct probe_state probe_state = {
  .magic = 0x50524f42, .name = "probe", .small = { 1, 2, 0xffff },
  .flag = 1, .level = 5, .mode = PROBE_BUSY, .first = &probe_records[0],
};
volatile uint64_t probe_hits;
volatile uint64_t probe_detours;

/* Called only when the debugger makes the guest call it (call_first); it
 * clobbers the argument registers, as any call may. */
__attribute__((noinline))
void probe_detour(void) {
  probe_detours++;
  __asm__ volatile("mov $0x7777, %%edi; mov $0x8888, %%esi" ::: "rdi", "rsi");
}

__attribute__((noinline, section(".probe_hook")))
int probe_tick(int x) {
  probe_hits++;
  return x + 1;
}

static void probe_list_init(struct probe_list *l) {
  l->head.prev = 0; l->head.next = &l->tail;
  l->tail.prev = &l->head; l->tail.next = 0;
}

static void probe_list_push_back(struct probe_list *l, struct probe_link *e) {
  e->prev = l->tail.prev; e->next = &l->tail;
  l->tail.prev->next = e; l->tail.prev = e;
}

void guest_main(void) {
  probe_list_init(&probe_state.records);
  for (int i = 0; i < 3; i++)
    probe_list_push_back(&probe_state.records, &probe_records[i].link);
  for (int i = 0;; i++) {
    probe_state.last_result = probe_tick(i);
    probe_state.iterations++;
  }
}
"""

PROBE_LD = r"""
ENTRY(_start)
SECTIONS {
  . = 0x100000;
  .text : { *(.multiboot) *(.text .text.*) }
  . = ALIGN(4096);
  .hook : { *(.probe_hook) }
  . = ALIGN(4096);
  .rodata : { *(.rodata .rodata.*) }
  .data : { *(.data .data.*) }
  .bss : { *(.bss .bss.*) *(COMMON) }
}
"""

CFLAGS = ["-std=gnu11", "-O1", "-g", "-ffreestanding", "-fno-pic", "-fno-pie",
          "-mno-red-zone", "-mno-sse", "-mno-mmx", "-mno-80387",
          "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-Wall", "-Werror"]


class ProbeGuestError(HarnessError):
    """The probe guest could not be built."""


@dataclass(frozen=True)
class ProbeGuest:
    elf64: Path  # ELF64 with symbols and DWARF, for the debugger
    elf32: Path  # 32-bit copy for QEMU's -kernel


def _run(cmd: list, cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise ProbeGuestError(f"{' '.join(cmd)} failed:\n{done.stderr}")


def build_probe_guest(out_dir: Path) -> ProbeGuest:
    """Builds the probe guest into OUT_DIR (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "boot.S").write_text(PROBE_BOOT_S)
    (out / "probe.c").write_text(PROBE_C)
    (out / "probe.ld").write_text(PROBE_LD)
    _run(["gcc", *CFLAGS, "-c", "boot.S", "-o", "boot.o"], out)
    _run(["gcc", *CFLAGS, "-c", "probe.c", "-o", "probe.o"], out)
    _run(["ld", "-nostdlib", "-z", "max-page-size=0x1000", "-z", "noexecstack",
          "--no-warn-rwx-segments", "-T", "probe.ld", "-o", "probe.elf",
          "boot.o", "probe.o"], out)
    _run(["objcopy", "-O", "elf32-i386", "probe.elf", "probe32.elf"], out)
    return ProbeGuest(out / "probe.elf", out / "probe32.elf")


def probe_qemu_args(guest: ProbeGuest) -> list:
    """Guest arguments for harness.machine.qemu.Machine.start() to boot GUEST."""
    return ["-M", "pc", "-bios", str(QBOOT), "-m", "20", "-kernel", str(guest.elf32),
            "-nic", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
