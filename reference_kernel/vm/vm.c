/* Virtual-memory entry points (include/vm/vm.h): start-up, and the page
 * fault handler that the architecture's #PF handler calls with a decoded
 * fault. */
#include "vm/vm.h"

#include "arch/memlayout.h"
#include "kernel/hooks.h"
#include "kernel/thread.h"
#include "vm/frame.h"
#include "vm/page.h"
#include "vm/spt.h"
#include "vm/stack.h"
#include "vm/swap.h"

struct vm_stats vmcheck_vm_stats;

void vm_init(void) {
  frame_table_init();
  swap_init();
}

/* The page for fault PF in SPT: the registered one, or a new stack page
 * if the rule allows; NULL if the access is illegal or out of memory
 * (*OOM tells which). */
static struct page *fault_page(struct supplemental_page_table *spt,
                               const struct page_fault *pf, bool *oom) {
  void *upage = pg_round_down(pf->addr);
  struct page *page = spt_find(spt, upage);
  if (page != NULL || !pf->not_present || !stack_growth_allowed(pf))
    return page;
  page = stack_grow(spt, upage);
  *oom = page == NULL;
  return page;
}

static enum fault_result count(enum fault_result r) {
  if (r == FAULT_INVALID)
    VM_COUNT(faults_invalid);
  else if (r == FAULT_OUT_OF_MEMORY)
    VM_COUNT(faults_oom);
  return r;
}

/* Resolves a fault on a user address: loads a lazy, evicted or new stack
 * page, re-maps a resident page, or gives a writer its private copy of a
 * frame shared copy-on-write. A write to a read-only page, or an address
 * with no page that is not a stack access, is invalid. Runs with
 * interrupts on, no locks held. */
enum fault_result vm_try_handle_fault(const struct page_fault *pf) {
  vmcheck_hook_page_fault((uintptr_t)pf->addr); /* observation only */
  VM_COUNT(faults);
  struct supplemental_page_table *spt = spt_current();
  if (spt == NULL || !is_user_vaddr(pf->addr))
    return count(FAULT_INVALID);
#ifdef VMCHECK_MUTANT_stack_grow_no_claim
  /* the mistake: a stack access is answered before the SPT lookup, by
   * registering a page (which fails once one is there) and calling the
   * fault resolved; nothing ever loads the page */
  if (pf->not_present && stack_growth_allowed(pf)) {
    stack_grow(spt, pg_round_down(pf->addr));
    return FAULT_RESOLVED;
  }
#endif
#ifdef VMCHECK_MUTANT_stack_syscall_no_claim
  /* the mistake: a stack fault inside a system call (the kernel's copy to
   * a user buffer) is answered by registering the page only, as if the
   * copy would load it; nothing ever does */
  if (!pf->user && pf->not_present && stack_growth_allowed(pf)) {
    stack_grow(spt, pg_round_down(pf->addr));
    return FAULT_RESOLVED;
  }
#endif
  bool oom = false;
  struct page *page = fault_page(spt, pf, &oom);
  if (page == NULL)
    return count(oom ? FAULT_OUT_OF_MEMORY : FAULT_INVALID);
  if (pf->write && !page->writable)
    return count(FAULT_INVALID);
  if (!page_resolve(page, pf->write))
    return count(FAULT_OUT_OF_MEMORY);
  return FAULT_RESOLVED;
}
