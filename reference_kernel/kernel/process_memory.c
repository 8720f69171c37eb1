/* Eager user memory (kernel/process_memory.h): each page gets its frame
 * and contents when it is mapped. The list in struct process_memory is the
 * only record of which pages a process has; fork copies and exit frees
 * exactly those. REPLACED BY THE VM ISSUE (lazy loading through the
 * supplemental page table); keep the interface. */
#include "kernel/process_memory.h"

#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "kernel/debug.h"
#include "kernel/file.h"
#include "kernel/malloc.h"
#include "kernel/palloc.h"
#include "kernel/process_types.h"
#include "kernel/thread.h"
#include "lib/string.h"

#define PAGE_WRITABLE ((uintptr_t)1) /* flag bit in process_memory.pages */

static struct process_memory *current_memory(void) {
  struct process *p = process_current();
  ASSERT(p != NULL);
  return &p->memory;
}

/* Makes room for one more entry in M; false if out of memory. */
static bool reserve_entry(struct process_memory *m) {
  if (m->count < m->capacity)
    return true;
  size_t capacity = m->capacity > 0 ? 2 * m->capacity : 16;
  uintptr_t *pages = realloc(m->pages, capacity * sizeof *pages);
  if (pages == NULL)
    return false;
  m->pages = pages;
  m->capacity = capacity;
  return true;
}

/* Maps a new zeroed user-pool frame at UPAGE in the running process and
 * records it; returns the frame's kernel address, NULL if out of memory
 * or UPAGE is already mapped. */
static void *map_new_page(void *upage, bool writable) {
  struct thread *t = thread_current();
  struct process_memory *m = current_memory();
  ASSERT(pg_ofs(upage) == 0 && is_user_vaddr(upage));
  if (pml4_get_page(t->pml4, upage) != NULL || !reserve_entry(m))
    return NULL;
  void *kpage = palloc_get_page(PAL_USER | PAL_ZERO);
  if (kpage == NULL)
    return NULL;
  if (!pml4_set_page(t->pml4, upage, kpage, writable)) {
    palloc_free_page(kpage);
    return NULL;
  }
  m->pages[m->count++] = (uintptr_t)upage | (writable ? PAGE_WRITABLE : 0);
  return kpage;
}

bool process_memory_create(void) {
  struct thread *t = thread_current();
  ASSERT(t->pml4 == NULL);
  uint64_t *pml4 = pml4_create();
  if (pml4 == NULL)
    return false;
  t->pml4 = pml4;
  pml4_activate(pml4);
  return true;
}

bool load_segment(struct file *file, off_t ofs, void *upage,
                  size_t read_bytes, size_t zero_bytes, bool writable) {
  ASSERT((read_bytes + zero_bytes) % PGSIZE == 0);
  ASSERT(pg_ofs(upage) == 0 && pg_ofs(ofs) == 0);
  uint8_t *page = upage;
  while (read_bytes > 0 || zero_bytes > 0) {
    size_t page_read = read_bytes < PGSIZE ? read_bytes : PGSIZE;
    void *kpage = map_new_page(page, writable);
    if (kpage == NULL)
      return false;
    if (page_read > 0 &&
        file_read_at(file, kpage, (off_t)page_read, ofs) != (off_t)page_read)
      return false;
    read_bytes -= page_read;
    zero_bytes -= PGSIZE - page_read;
    ofs += (off_t)page_read;
    page += PGSIZE;
  }
  return true;
}

bool setup_stack(void) {
  return map_new_page((void *)(USER_STACK - PGSIZE), true) != NULL;
}

bool process_memory_copy(struct thread *parent) {
  const struct process_memory *pm = &parent->process->memory;
  for (size_t i = 0; i < pm->count; i++) {
    void *upage = (void *)(pm->pages[i] & ~PGMASK);
    const void *src = pml4_get_page(parent->pml4, upage);
    ASSERT(src != NULL);
    void *dst = map_new_page(upage, (pm->pages[i] & PAGE_WRITABLE) != 0);
    if (dst == NULL)
      return false;
    memcpy(dst, src, PGSIZE);
  }
  return true;
}

void process_release_memory(void) {
  struct thread *t = thread_current();
  struct process_memory *m = current_memory();
  uint64_t *pml4 = t->pml4;
  if (pml4 != NULL) {
    /* Leave the address space before tearing it down; a context switch
     * from here on activates the kernel page table. */
    t->pml4 = NULL;
    pml4_activate(NULL);
    for (size_t i = 0; i < m->count; i++)
      palloc_free_page(pml4_get_page(pml4, (void *)(m->pages[i] & ~PGMASK)));
    pml4_destroy(pml4);
  }
  free(m->pages);
  m->pages = NULL;
  m->count = m->capacity = 0;
}
