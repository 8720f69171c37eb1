/* The supplemental page table (include/vm/spt.h): a hash table of struct
 * page keyed by user page number, and the registration of lazy pages. */
#include "vm/spt.h"

#include "arch/memlayout.h"
#include "kernel/debug.h"
#include "kernel/hooks.h"
#include "kernel/malloc.h"
#include "kernel/process_types.h"
#include "kernel/thread.h"
#include "vm/file_page.h"
#include "vm/mmap.h"
#include "vm/uninit.h"

static uint64_t page_hash(const struct hash_elem *e) {
  const struct page *page = hash_entry(e, struct page, spt_elem);
  return hash_int(pg_no(page->va));
}

static bool page_equal(const struct hash_elem *a, const struct hash_elem *b) {
  return hash_entry(a, struct page, spt_elem)->va ==
         hash_entry(b, struct page, spt_elem)->va;
}

bool spt_init(struct supplemental_page_table *spt, uint64_t *pml4) {
  ASSERT(pml4 != NULL);
  if (!hash_init(&spt->pages, page_hash, page_equal))
    return false;
  list_init(&spt->mappings);
  spt->pml4 = pml4;
  return true;
}

static void free_page_elem(struct hash_elem *e, void *aux) {
  page_free(hash_entry(e, struct page, spt_elem));
}

void spt_destroy(struct supplemental_page_table *spt) {
  if (spt->pml4 == NULL)
    return;
  mmap_unmap_all(spt);
  hash_destroy(&spt->pages, free_page_elem, NULL);
  spt->pml4 = NULL;
}

struct page *spt_find(struct supplemental_page_table *spt, const void *va) {
  struct page key = {.va = pg_round_down(va)};
  struct hash_elem *e = hash_find(&spt->pages, &key.spt_elem);
  return e != NULL ? hash_entry(e, struct page, spt_elem) : NULL;
}

void spt_remove(struct supplemental_page_table *spt, struct page *page) {
  struct hash_elem *e = hash_delete(&spt->pages, &page->spt_elem);
  ASSERT(e == &page->spt_elem);
}

struct page *page_record_new(struct supplemental_page_table *spt, void *upage,
                             bool writable) {
  ASSERT(pg_ofs(upage) == 0 && is_user_vaddr(upage));
  if (vmcheck_hook_page_alloc((uintptr_t)upage) != 0)
    return NULL;
  struct page *page = calloc(1, sizeof *page);
  if (page == NULL)
    return NULL;
  page->va = upage;
  page->writable = writable;
  page->spt = spt;
  return page;
}

void spt_insert(struct supplemental_page_table *spt, struct page *page) {
  struct hash_elem *old = hash_insert(&spt->pages, &page->spt_elem);
  ASSERT(old == NULL);
}

struct page *vm_alloc_page(struct supplemental_page_table *spt, void *upage,
                           bool writable, enum vm_type target,
                           const struct page_source *source,
                           struct mmap_region *mapping) {
  if (spt_find(spt, upage) != NULL)
    return NULL;
  struct page *page = page_record_new(spt, upage, writable);
  if (page == NULL)
    return NULL;
  page->mapping = mapping;
  uninit_init(page, target, source);
  spt_insert(spt, page);
  return page;
}

bool vm_claim_page(struct supplemental_page_table *spt, void *upage) {
  struct page *page = spt_find(spt, upage);
  return page != NULL && page_resolve(page, false);
}

bool vm_load_segment(struct supplemental_page_table *spt, struct file *file,
                     off_t ofs, void *upage, size_t read_bytes,
                     size_t zero_bytes, bool writable) {
  ASSERT((read_bytes + zero_bytes) % PGSIZE == 0);
  ASSERT(pg_ofs(upage) == 0 && pg_ofs(ofs) == 0);
  struct vm_file *vf = NULL;
  if (read_bytes > 0 && (vf = vm_file_open(file)) == NULL)
    return false;
  bool ok = true;
  uint8_t *page = upage;
  while (ok && (read_bytes > 0 || zero_bytes > 0)) {
    size_t page_read = read_bytes < PGSIZE ? read_bytes : PGSIZE;
    struct page_source source = {vf, ofs, (uint32_t)page_read};
    /* Read-only file contents stay file-backed (dropped on eviction);
     * writable ones become anonymous (swapped) at their first fault. */
    enum vm_type target = page_read > 0 && !writable ? VM_FILE : VM_ANON;
    ok = vm_alloc_page(spt, page, writable, target,
                       page_read > 0 ? &source : NULL, NULL) != NULL;
#ifdef VMCHECK_MUTANT_eager_load
    ok = ok && vm_claim_page(spt, page); /* reads the segment at exec */
#endif
    read_bytes -= page_read;
    zero_bytes -= PGSIZE - page_read;
    ofs += (off_t)page_read;
    page += PGSIZE;
  }
  vm_file_unref(vf); /* the loader's reference; each page holds its own */
  return ok;
}

struct supplemental_page_table *spt_current(void) {
  struct process *p = thread_current()->process;
  if (p == NULL || p->memory.spt.pml4 == NULL)
    return NULL;
  return &p->memory.spt;
}
