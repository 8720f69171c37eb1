/* Uninit pages (include/vm/uninit.h): what exec, mmap and stack growth
 * register. Nothing is read until the first fault; then the frame is
 * filled from the page's source and the page becomes its target type. */
#include "vm/uninit.h"

#include "arch/memlayout.h"
#include "kernel/debug.h"
#include "kernel/file.h"
#include "kernel/hooks.h"
#include "lib/string.h"
#include "vm/anon.h"
#include "vm/file_page.h"

void uninit_init(struct page *page, enum vm_type target,
                 const struct page_source *source) {
  ASSERT(target == VM_ANON || target == VM_FILE);
  ASSERT(target == VM_ANON || (source != NULL && source->file != NULL));
  page->ops = &uninit_ops;
  page->uninit.target = target;
  if (source != NULL) {
    ASSERT(source->read_bytes <= PGSIZE);
    page->uninit.source = *source;
    vm_file_ref(source->file);
  } else {
    page->uninit.source = (struct page_source){NULL, 0, 0};
  }
}

bool page_source_read(const struct page_source *source, void *upage,
                      void *kva) {
  off_t n = (off_t)source->read_bytes;
  if (n > 0) {
    if (vmcheck_hook_file_read((uintptr_t)upage) != 0)
      return false;
    if (file_read_at(source->file->file, kva, n, source->offset) != n)
      return false;
    VM_COUNT(file_reads);
  }
#ifndef VMCHECK_MUTANT_no_zero_tail
  memset((uint8_t *)kva + n, 0, PGSIZE - (size_t)n);
#endif
  return true;
}

/* The first fault: fills KVA from the source, then changes type. */
static bool uninit_swap_in(struct page *page, void *kva) {
  struct uninit_page u = page->uninit; /* the union is rewritten below */
  if (!page_source_read(&u.source, page->va, kva))
    return false;
  if (u.target == VM_FILE) {
    file_page_become(page, &u.source); /* takes over the reference */
  } else {
    vm_file_unref(u.source.file);
    anon_become(page);
  }
  return true;
}

static bool uninit_swap_out(struct page *page, void *kva) {
#ifdef VMCHECK_MUTANT_evict_filling
  return true; /* "nothing to save: it is read again from its source" */
#else
  PANIC("uninit_swap_out: uninit page %p is never resident", page->va);
#endif
}

static void uninit_clone(struct page *dst, const struct page *src) {
#ifdef VMCHECK_MUTANT_fork_uninit_zero
  /* "the parent never loaded it, so there is nothing to copy": the
   * child's page becomes a blank anonymous page */
  (void)src;
  dst->uninit.target = VM_ANON;
  dst->uninit.source = (struct page_source){NULL, 0, 0};
#else
  dst->uninit = src->uninit;
  vm_file_ref(dst->uninit.source.file);
#endif
}

static void uninit_destroy(struct page *page, void *kva) {
  ASSERT(kva == NULL);
  vm_file_unref(page->uninit.source.file);
}

const struct page_operations uninit_ops = {
    .type = VM_UNINIT,
    .name = "uninit",
    .swap_in = uninit_swap_in,
    .swap_out = uninit_swap_out,
    .clone = uninit_clone,
    .destroy = uninit_destroy,
};
