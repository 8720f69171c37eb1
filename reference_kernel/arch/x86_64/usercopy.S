/* Raw copies between kernel and user memory (kernel/usercopy.c wraps
 * them). Before calling one, the caller sets thread->usercopy_fixup to
 * usercopy_fault; if an access faults and the VM cannot resolve it, the
 * page-fault handler resumes at usercopy_fault with the registers and rsp
 * of the faulting instruction. These functions therefore never push
 * anything: rsp always points at the caller's return address, and
 * usercopy_fault can return -1 straight to the caller. */

  .text

/* int64_t usercopy_bytes(void *dst, const void *src, size_t n):
 * copies N bytes; 0 on success, -1 if an access faulted. */
  .globl usercopy_bytes
  .type usercopy_bytes, @function
usercopy_bytes:
  mov %rdx, %rcx
  rep movsb
  xor %eax, %eax
  ret
  .size usercopy_bytes, . - usercopy_bytes

/* int64_t usercopy_string(char *dst, const char *src, size_t max):
 * copies bytes up to and including the first NUL, at most MAX of them.
 * Returns the string's length (the NUL's index), MAX if the first MAX
 * bytes hold no NUL, or -1 if an access faulted. */
  .globl usercopy_string
  .type usercopy_string, @function
usercopy_string:
  xor %eax, %eax
1:
  cmp %rdx, %rax
  jae 2f
  movzbl (%rsi,%rax,1), %ecx
  movb %cl, (%rdi,%rax,1)
  test %cl, %cl
  jz 2f
  inc %rax
  jmp 1b
2:
  ret
  .size usercopy_string, . - usercopy_string

/* Where a faulting access in the functions above resumes: returns -1 to
 * their caller. */
  .globl usercopy_fault
  .type usercopy_fault, @function
usercopy_fault:
  mov $-1, %rax
  ret
  .size usercopy_fault, . - usercopy_fault

  .section .note.GNU-stack, "", @progbits
