/* struct thread *switch_threads(struct thread *cur, struct thread *next)
 * Saves callee-saved registers on CUR's stack, stores rsp in
 * cur->switch_rsp, loads NEXT's rsp and returns on NEXT's stack, with
 * rax = CUR (the thread that ran before). THREAD_SWITCH_RSP must equal
 * offsetof(struct thread, switch_rsp) (checked in thread.c). */
#define THREAD_SWITCH_RSP 32

  .text
  .globl switch_threads
switch_threads:
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  mov %rsp, THREAD_SWITCH_RSP(%rdi)
  mov THREAD_SWITCH_RSP(%rsi), %rsp
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  mov %rdi, %rax
  ret

/* First code of a new thread: r12 = function, r13 = aux, rax = previous
 * thread (from switch_threads). */
  .globl switch_entry
switch_entry:
  mov %rax, %rdi
  call thread_schedule_tail
  mov %r12, %rdi
  mov %r13, %rsi
  call thread_run_function
  ud2
