/* Residency of one page: loading, mapping, copy-on-write, freeing
 * (include/vm/page.h). Every change follows one protocol: with the VM
 * lock held, wait until the page is not busy, make it busy (and pin its
 * frame, if any), release the lock for the slow part (I/O, copying,
 * allocating a frame that may evict), re-take the lock, publish the
 * result and clear busy. A busy page's frame is always pinned, so the
 * clock never picks it. */
#include "vm/page.h"

#include "arch/intr.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/hooks.h"
#include "kernel/malloc.h"
#include "kernel/thread.h"
#include "lib/string.h"
#include "vm/frame.h"
#include "vm/spt.h"

void vm_yield_point(enum vm_yield_point point) {
  if (vmcheck_hook_yield((uintptr_t)point) != 0)
    thread_yield();
}

void page_unmap_locked(struct page *page) {
  ASSERT(vm_lock_held());
  uint64_t *pml4 = page->spt->pml4;
  /* Interrupts off: the owner must not write between the test and the
   * clear, or the write would be lost for a mapped-file page. */
  enum intr_level old = intr_disable();
  if (pml4_is_dirty(pml4, page->va))
    page->dirty = true;
  pml4_clear_page(pml4, page->va);
  intr_set_level(old);
}

bool page_map_locked(struct page *page) {
  ASSERT(vm_lock_held() && page->frame != NULL);
  uint64_t *pml4 = page->spt->pml4;
  bool writable = page->writable && page->frame->sharer_cnt == 1;
#ifdef VMCHECK_MUTANT_ro_writable
  writable = page->frame->sharer_cnt == 1; /* the segment's flag is ignored */
#endif
  if (pml4_is_dirty(pml4, page->va))
    page->dirty = true;
  return pml4_set_page(pml4, page->va, page->frame->kva, writable);
}

#ifdef VMCHECK_MUTANT_evict_filling
/* The mistake: the frame goes into the frame table (linked to PAGE,
 * unpinned, the page no longer busy) before its contents are read, so
 * eviction may take it while it is being filled; afterwards the page is linked to the frame again
 * without asking whether it still has it. */
static bool load_into_unpinned_frame(struct page *page, struct frame *f) {
  vm_lock();
  frame_link(f, page);
  frame_unpin(f);
  vm_unbusy(page); /* "it has its frame now" */
  vm_unlock();
  vm_yield_point(VM_YIELD_LOAD_FRAME);
  bool ok = page->ops->swap_in(page, f->kva);
  vm_lock();
  if (page->frame == NULL && f->kva != NULL)
    frame_link(f, page); /* evicted meanwhile: F belongs to someone else */
  if (ok)
    VM_COUNT(page_ins);
  else if (page->frame != NULL)
    frame_unlink(page);
  return ok;
}
#endif

bool page_load_locked(struct page *page) {
  ASSERT(vm_lock_held() && !page->busy && page->frame == NULL);
  page->busy = true;
  vm_unlock();
#ifdef VMCHECK_MUTANT_evict_filling
  struct frame *filling = frame_alloc(page->va);
  if (filling != NULL)
    return load_into_unpinned_frame(page, filling);
  vm_lock();
  vm_unbusy(page);
  return false;
#endif
  struct frame *f = frame_alloc(page->va);
  bool ok = f != NULL;
  if (ok) {
    vm_yield_point(VM_YIELD_LOAD_FRAME);
    ok = page->ops->swap_in(page, f->kva);
    if (!ok)
      printf("vm: %s page %p could not be read in\n", page->ops->name,
             page->va);
  }
  vm_lock();
  if (ok) {
    frame_link(f, page);
    VM_COUNT(page_ins);
  }
  if (f != NULL)
    frame_unpin(f);
  vm_unbusy(page);
  return ok;
}

/* VM lock held, PAGE resident, shared and not busy: gives PAGE a private
 * copy of its frame (copy-on-write). False if out of memory. */
static bool copy_shared_frame(struct page *page) {
  struct frame *old = page->frame;
  page->busy = true;
  frame_pin(old);
  vm_unlock();
  vm_yield_point(VM_YIELD_COW_COPY);
  struct frame *new = frame_alloc(page->va);
  if (new != NULL)
    memcpy(new->kva, old->kva, PGSIZE); /* OLD is pinned and read-only */
  vm_lock();
  if (new != NULL) {
    page_unmap_locked(page);
    frame_unlink(page);
    frame_link(new, page);
    frame_unpin(new);
    VM_COUNT(cow_copies);
  }
  frame_unpin(old);
  vm_unbusy(page);
  return new != NULL;
}

void page_unshared_locked(struct page *page) {
#ifdef VMCHECK_MUTANT_cow_unshare_early
  ASSERT(vm_lock_held()); /* called with two sharers left too */
#else
  ASSERT(vm_lock_held() && page->frame->sharer_cnt == 1);
#endif
#ifdef VMCHECK_MUTANT_cow_last_sharer_readonly
  (void)page; /* the last sharer keeps its read-only PTE */
#else
  if (page->writable && !page->busy)
    pml4_set_writable(page->spt->pml4, page->va, true);
#endif
}

bool page_resolve(struct page *page, bool write) {
  ASSERT(!write || page->writable);
  bool ok = true, changed = false;
  vm_lock();
  for (;; changed = true) {
    vm_wait_unbusy(page);
    if (page->frame == NULL) {
      if (!(ok = page_load_locked(page)))
        break;
#ifdef VMCHECK_MUTANT_cow_no_copy
    } else if (write && page->frame->sharer_cnt > 1) {
      (void)copy_shared_frame;
      /* made writable in place: the other sharers see the write */
      ok = pml4_set_page(page->spt->pml4, page->va, page->frame->kva, true);
      break;
#elif defined(VMCHECK_MUTANT_cow_copy_on_read)
    } else if (page->frame->sharer_cnt > 1) { /* read or write */
      if (!(ok = copy_shared_frame(page)))
        break;
#else
    } else if (write && page->frame->sharer_cnt > 1) {
      if (!(ok = copy_shared_frame(page)))
        break;
#endif
    } else {
      if (!changed)
        VM_COUNT(soft_faults);
      ok = page_map_locked(page);
      break;
    }
  }
  vm_unlock();
  return ok;
}

/* Whether page_free keeps the VM lock while the page's type destroys it. */
static bool destroy_under_vm_lock(const struct page *page) {
#ifdef VMCHECK_MUTANT_lock_order_read_munmap
  /* the mistake: a mapped page is written back with the VM lock held, so
   * munmap takes vmfs_lock inside the VM lock */
  return page->mapping != NULL;
#else
  (void)page;
  return false;
#endif
}

void page_free(struct page *page) {
  bool keep_lock = destroy_under_vm_lock(page);
  vm_lock();
  vm_wait_unbusy(page);
  struct frame *f = page->frame;
  if (f != NULL) {
    page->busy = true;
    frame_pin(f);
#ifdef VMCHECK_MUTANT_munmap_pte_left
    if (page->mapping != NULL) { /* the PTE of a mapping page stays */
      if (pml4_is_dirty(page->spt->pml4, page->va))
        page->dirty = true;
    } else
#endif
    page_unmap_locked(page);
  }
  if (!keep_lock) {
    vm_unlock();
    vm_yield_point(VM_YIELD_UNMAP_PAGE);
  }
  page->ops->destroy(page, f != NULL ? f->kva : NULL);
  if (f != NULL) {
    if (!keep_lock)
      vm_lock();
#ifdef VMCHECK_MUTANT_exit_frame_leak
    list_remove(&page->frame_elem); /* the frame is never given back */
    f->sharer_cnt--;
    page->frame = NULL;
#else
    frame_unlink(page);
    frame_unpin(f);
#endif
    vm_unbusy(page);
    vm_unlock();
  } else if (keep_lock) {
    vm_unlock();
  }
  free(page);
}
