/* User memory of a process (kernel/process_memory.h): a thin layer over
 * the supplemental page table (include/vm/spt.h). */
#include "kernel/process_memory.h"

#include "arch/mmu.h"
#include "kernel/debug.h"
#include "kernel/process_types.h"
#include "kernel/thread.h"
#include "vm/stack.h"

static struct supplemental_page_table *current_spt(void) {
  struct process *p = process_current();
  ASSERT(p != NULL);
  return &p->memory.spt;
}

bool process_memory_create(void) {
  struct thread *t = thread_current();
  ASSERT(t->pml4 == NULL && current_spt()->pml4 == NULL);
  uint64_t *pml4 = pml4_create();
  if (pml4 == NULL)
    return false;
  if (!spt_init(current_spt(), pml4)) {
    pml4_destroy(pml4);
    return false;
  }
  t->pml4 = pml4;
  pml4_activate(pml4);
  return true;
}

bool load_segment(struct file *file, off_t ofs, void *upage,
                  size_t read_bytes, size_t zero_bytes, bool writable) {
  return vm_load_segment(current_spt(), file, ofs, upage, read_bytes,
                         zero_bytes, writable);
}

bool setup_stack(void) { return vm_setup_stack(current_spt()); }

bool process_memory_copy(struct thread *parent) {
  return spt_copy(current_spt(), &parent->process->memory.spt);
}

void process_release_memory(void) {
  struct thread *t = thread_current();
  uint64_t *pml4 = t->pml4;
  /* The pages go first: writing back a dirty mapping reads its PTE. */
  spt_destroy(current_spt());
  if (pml4 != NULL) {
    /* Leave the address space before tearing it down; a context switch
     * from here on activates the kernel page table. */
    t->pml4 = NULL;
    pml4_activate(NULL);
    pml4_destroy(pml4);
  }
}
