/* The `syscall` instruction: MSR set-up and the C side of the entry stub. */
#include "arch/cpu.h"
#include "arch/gdt.h"
#include "arch/intr.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"

extern char syscall_entry[];

void syscall_arch_init(void) {
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
  /* STAR[47:32]: kernel CS (SS = +8); STAR[63:48]: base for sysret
   * (user SS = +8, user CS = +16). We return with iretq. */
  wrmsr(MSR_STAR, ((uint64_t)(SEL_UDSEG - 8 - 3) << 48) |
                      ((uint64_t)SEL_KCSEG << 32));
  wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
  wrmsr(MSR_SFMASK, FLAG_IF | 0x100 /* TF */ | 0x400 /* DF */ | 0x40000 /* AC */);
}

/* Called by syscall_entry (intr_stubs.S) with interrupts off. */
void syscall_entry_c(struct intr_frame *f) {
  struct thread *t = thread_current();
  t->user_rsp = f->rsp;
  t->in_syscall = true;
  intr_enable();
  syscall_handler(f);
  intr_disable();
  t->in_syscall = false;
}
