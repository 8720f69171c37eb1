/* User stack growth (include/vm/stack.h). */
#include "vm/stack.h"

#include "arch/intr.h"
#include "arch/memlayout.h"
#include "kernel/thread.h"

#ifdef VMCHECK_MUTANT_stack_slack_32
#define PUSH_SLACK 32 /* "enough for any push": 24 bytes too many */
#else
#define PUSH_SLACK 8 /* a push faults 8 bytes below rsp */
#endif

bool stack_growth_allowed(const struct page_fault *pf) {
  uintptr_t addr = (uintptr_t)pf->addr;
#ifdef VMCHECK_MUTANT_stack_no_limit
  if (addr >= USER_STACK)
    return false; /* no 1 MB limit */
#else
  if (addr >= USER_STACK || addr < USER_STACK - USER_STACK_LIMIT)
    return false;
#endif
  struct thread *t = thread_current();
  uintptr_t rsp;
  if (pf->user)
    rsp = pf->frame->rsp;
#ifdef VMCHECK_MUTANT_stack_kernel_rsp
  else if (t->in_syscall)
    rsp = pf->frame->rsp; /* the kernel's rsp, not the user's */
#else
  else if (t->in_syscall)
    rsp = t->user_rsp; /* the kernel touches user memory for a syscall */
#endif
  else
    return false;
#if defined(VMCHECK_MUTANT_stack_no_push_slack)
  return addr >= rsp; /* a push faults at rsp-8: refused */
#elif defined(VMCHECK_MUTANT_stack_any_address)
  (void)rsp;
  return true; /* anything in the 1 MB region grows the stack */
#else
  return addr + PUSH_SLACK >= rsp;
#endif
}

struct page *stack_grow(struct supplemental_page_table *spt, void *upage) {
  struct page *page = vm_alloc_page(spt, upage, true, VM_ANON, NULL, NULL);
  if (page != NULL)
    VM_COUNT(stack_growths);
  return page;
}

bool vm_setup_stack(struct supplemental_page_table *spt) {
  void *upage = (void *)(USER_STACK - PGSIZE);
  return vm_alloc_page(spt, upage, true, VM_ANON, NULL, NULL) != NULL &&
         vm_claim_page(spt, upage);
}
