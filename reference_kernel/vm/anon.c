/* Anonymous pages (include/vm/anon.h): evicted to a swap slot, read back
 * (and the slot freed) at the next fault. */
#include "vm/anon.h"

#include "kernel/debug.h"
#include "vm/swap.h"

void anon_become(struct page *page) {
  page->ops = &anon_ops;
  page->anon.slot = SWAP_SLOT_NONE;
}

static bool anon_swap_in(struct page *page, void *kva) {
  size_t slot = page->anon.slot;
  ASSERT(slot != SWAP_SLOT_NONE);
  if (!swap_read(slot, kva)) {
#ifdef VMCHECK_MUTANT_swap_leak_read_error
    page->anon.slot = SWAP_SLOT_NONE; /* forgotten, never freed */
#endif
    return false; /* the slot stays with the page */
  }
#ifndef VMCHECK_MUTANT_swap_leak_swapin
  swap_free(slot);
#endif
  page->anon.slot = SWAP_SLOT_NONE;
  return true;
}

static bool anon_swap_out(struct page *page, void *kva) {
#ifndef VMCHECK_MUTANT_evict_filling
  ASSERT(page->anon.slot == SWAP_SLOT_NONE);
#endif
  size_t slot = swap_alloc();
  if (slot == SWAP_SLOT_NONE)
    return false; /* swap full: the page stays resident */
  if (!swap_write(slot, kva)) {
#ifndef VMCHECK_MUTANT_swap_leak_write_error
    swap_free(slot);
#endif
    return false;
  }
  page->anon.slot = slot;
  return true;
}

/* Fork shares SRC's frame; the copy has no slot of its own. */
static void anon_clone(struct page *dst, const struct page *src) {
  ASSERT(src->frame != NULL && src->anon.slot == SWAP_SLOT_NONE);
  dst->anon.slot = SWAP_SLOT_NONE;
}

static void anon_destroy(struct page *page, void *kva) {
#ifndef VMCHECK_MUTANT_swap_leak_exit
  if (page->anon.slot != SWAP_SLOT_NONE)
    swap_free(page->anon.slot);
#endif
  page->anon.slot = SWAP_SLOT_NONE;
}

const struct page_operations anon_ops = {
    .type = VM_ANON,
    .name = "anon",
    .swap_in = anon_swap_in,
    .swap_out = anon_swap_out,
    .clone = anon_clone,
    .destroy = anon_destroy,
};
