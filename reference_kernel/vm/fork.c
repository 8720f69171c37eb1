/* Fork's copy of an address space (spt_copy, include/vm/spt.h), with
 * copy-on-write: a resident page is not copied but shared, its frame
 * mapped read-only in parent and child; the first write by either gets a
 * private copy (page_resolve in vm/page.c). */
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "kernel/debug.h"
#include "kernel/malloc.h"
#include "vm/frame.h"
#include "vm/spt.h"

/* VM lock held, SRC resident and not busy, DST a clone of SRC: makes DST
 * share SRC's frame, both mapped read-only. False if the child's page
 * table could not be extended. */
static bool share_frame(struct page *dst, struct page *src) {
  struct frame *f = src->frame;
  frame_link(f, dst);
#if defined(VMCHECK_MUTANT_fork_share_writable)
  /* both sides keep the frame writable */
  if (!pml4_set_page(dst->spt->pml4, dst->va, f->kva, dst->writable)) {
    frame_unlink(dst);
    return false;
  }
#elif defined(VMCHECK_MUTANT_cow_copy_on_read)
  /* the child's page is mapped at its first fault (which copies) */
  pml4_set_writable(src->spt->pml4, src->va, false);
#else
  if (!pml4_set_page(dst->spt->pml4, dst->va, f->kva, false)) {
    frame_unlink(dst);
    return false;
  }
  pml4_set_writable(src->spt->pml4, src->va, false);
#endif
  VM_COUNT(cow_shares);
  return true;
}

/* VM lock held, SRC not busy: a swapped-out anonymous page is read back
 * first, so that it can be shared (a swap slot has one owner). False if
 * out of memory. */
static bool make_shareable(struct page *src) {
  if (src->frame != NULL || page_type(src) != VM_ANON)
    return true;
  if (!page_load_locked(src))
    return false;
  /* The lock was held since the load finished: still resident. */
  ASSERT(src->frame != NULL && !src->busy);
  return true;
}

/* Adds to DST a copy of the parent's page SRC. False if out of memory. */
static bool copy_page(struct supplemental_page_table *dst, struct page *src) {
  struct page *page = page_record_new(dst, src->va, src->writable);
  if (page == NULL)
    return false;
  vm_lock();
  vm_wait_unbusy(src);
  bool ok = make_shareable(src);
  if (ok) {
    page->ops = src->ops;
    src->ops->clone(page, src);
    ok = src->frame == NULL || share_frame(page, src);
  }
  vm_unlock();
  if (!ok) {
    if (page->ops != NULL)
      page->ops->destroy(page, NULL);
    free(page);
    return false;
  }
  spt_insert(dst, page);
  return true;
}

bool spt_copy(struct supplemental_page_table *dst,
              struct supplemental_page_table *src) {
  struct hash_iterator i;
  hash_first(&i, &src->pages);
  while (hash_next(&i) != NULL) {
    struct page *page = hash_entry(hash_cur(&i), struct page, spt_elem);
#ifndef VMCHECK_MUTANT_fork_inherits_mmap
    if (page->mapping != NULL)
      continue; /* mappings are not inherited */
#endif
    if (!copy_page(dst, page))
      return false;
    vm_yield_point(VM_YIELD_FORK_PAGE);
  }
  return true;
}
