/* int 0x42: get_phys_addr for tests (kernel/inspect.h). */
#include "kernel/inspect.h"

#include "arch/intr.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "kernel/thread.h"

static void inspect_get_phys_addr(struct intr_frame *f) {
  const void *va = (const void *)f->R.rax;
  uint64_t *pml4 = thread_current()->pml4;
  void *kva = NULL;
  if (pml4 != NULL && is_user_vaddr(va))
    kva = pml4_get_page(pml4, va);
  f->R.rax = (uint64_t)pg_round_down(kva);
}

void inspect_init(void) {
  intr_register_int(INSPECT_VECTOR, 3, inspect_get_phys_addr, "inspect");
}
