/* Multiboot entry: 32-bit protected mode → long mode → higher half.
 * Boot page tables map physical 0..1 GiB with 2 MiB pages twice: at 0
 * (identity, dropped by mmu_init) and at KERNEL_VMA. */
#define KERNEL_VMA 0xffffffff80000000
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x3 /* page-align modules, memory info */

  .section .multiboot, "a"
  .align 4
  .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

  .section .boot.text, "ax"
  .code32
  .globl _start
_start:
  cli
  mov %eax, %edi                /* multiboot magic → kmain arg 1 */
  mov %ebx, %esi                /* multiboot info (physical) → arg 2 */

  /* Zero the boot page tables. */
  mov $boot_pml4, %ecx
  xor %eax, %eax
1:movl $0, (%ecx)
  add $4, %ecx
  cmp $boot_tables_end, %ecx
  jb 1b

  movl $(boot_pdpt_lo + 3), boot_pml4
  movl $(boot_pdpt_hi + 3), boot_pml4 + 511 * 8
  movl $(boot_pd + 3), boot_pdpt_lo
  movl $(boot_pd + 3), boot_pdpt_hi + 510 * 8
  /* boot_pd[i] = i * 2 MiB | PS | W | P */
  xor %ecx, %ecx
2:mov %ecx, %eax
  shl $21, %eax
  or $0x83, %eax
  mov %eax, boot_pd(,%ecx,8)
  inc %ecx
  cmp $512, %ecx
  jb 2b

  mov %cr4, %eax
  or $0x20, %eax                /* PAE */
  mov %eax, %cr4
  mov $boot_pml4, %eax
  mov %eax, %cr3
  mov $0xc0000080, %ecx         /* EFER: long mode, NX */
  rdmsr
  or $0x900, %eax
  wrmsr
  mov %cr0, %eax
  or $0x80010001, %eax          /* PG | WP | PE */
  mov %eax, %cr0
  lgdt boot_gdtr
  ljmp $0x08, $boot_long_mode

  .code64
boot_long_mode:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  xor %eax, %eax
  mov %ax, %fs
  mov %ax, %gs
  movabs $high_entry, %rax
  jmp *%rax

  .section .boot.data, "aw"
  .align 16
boot_gdt:
  .quad 0
  .quad 0x00af9a000000ffff      /* 64-bit code */
  .quad 0x00cf92000000ffff      /* data */
boot_gdtr:
  .word boot_gdtr - boot_gdt - 1
  .long boot_gdt

  .section .boot.bss, "aw", @nobits
  .align 4096
  .globl boot_pml4
boot_pml4: .skip 4096
boot_pdpt_lo: .skip 4096
boot_pdpt_hi: .skip 4096
  .globl boot_pd
boot_pd: .skip 4096
boot_tables_end:

  .text
  .code64
high_entry:
  movabs $boot_stack_top, %rsp
  xor %ebp, %ebp
  call kmain                    /* kmain(magic, mbi_pa); never returns */
3:hlt
  jmp 3b

  .bss
  .align 16
  .globl boot_stack
boot_stack: .skip 16384
  .globl boot_stack_top
boot_stack_top:
