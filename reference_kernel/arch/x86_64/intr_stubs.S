/* Interrupt entry stubs and the common path into intr_handler(), the
 * `syscall` entry, and intr_exit (also used to enter user mode). */
#include "arch/gdt.h"

/* Saves the general-purpose registers as struct gp_registers (r15 lowest). */
.macro PUSH_GP_REGISTERS
  push %rax
  push %rbx
  push %rcx
  push %rdx
  push %rbp
  push %rdi
  push %rsi
  push %r8
  push %r9
  push %r10
  push %r11
  push %r12
  push %r13
  push %r14
  push %r15
.endm

  .text
/* Common entry: the stub pushed (error code or 0) and the vector. */
intr_entry:
  PUSH_GP_REGISTERS
  cld
  mov %rsp, %rdi
  call intr_handler
  .globl intr_exit
intr_exit:
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %r11
  pop %r10
  pop %r9
  pop %r8
  pop %rsi
  pop %rdi
  pop %rbp
  pop %rdx
  pop %rcx
  pop %rbx
  pop %rax
  add $16, %rsp
  iretq

/* void intr_exit_to(const struct intr_frame *f): restores F and irets. */
  .globl intr_exit_to
intr_exit_to:
  mov %rdi, %rsp
  jmp intr_exit

/* One stub per vector; vectors where the CPU pushes an error code skip
 * the fake one. */
.macro STUB n
  .align 16
stub_\n:
  .if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
  .else
  pushq $0
  .endif
  pushq $\n
  jmp intr_entry
.endm

  .align 16
  .globl intr_stubs_start
intr_stubs_start:
.altmacro
.set i, 0
.rept 256
  STUB %i
  .set i, i + 1
.endr

/* `syscall` entry: rcx = user rip, r11 = user rflags, IF cleared by
 * SFMASK. Builds a struct intr_frame on the thread's kernel stack. */
  .globl syscall_entry
syscall_entry:
  mov %rsp, syscall_user_rsp(%rip)
  mov syscall_kernel_rsp(%rip), %rsp
  pushq $SEL_UDSEG
  pushq syscall_user_rsp(%rip)
  push %r11
  pushq $SEL_UCSEG
  push %rcx
  pushq $0
  pushq $0x100
  PUSH_GP_REGISTERS
  cld
  mov %rsp, %rdi
  call syscall_entry_c
  jmp intr_exit

  .bss
  .align 8
syscall_user_rsp: .quad 0
