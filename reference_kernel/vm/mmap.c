/* mmap and munmap (include/vm/mmap.h). A mapping registers one uninit
 * page per page of LENGTH (rounded up), each becoming a mapping file page
 * at its first fault: page I holds the file's bytes at OFFSET + I*PGSIZE
 * up to the end of the file, zeros after. */
#include "vm/mmap.h"

#include "arch/memlayout.h"
#include "kernel/debug.h"
#include "kernel/file.h"
#include "kernel/malloc.h"
#include "vm/file_page.h"
#include "vm/spt.h"
#if defined(VMCHECK_MUTANT_munmap_spt_left) || \
    defined(VMCHECK_MUTANT_no_writeback_exit)
#include "arch/mmu.h"
#include "vm/frame.h"
#include "vm/page.h"
#endif

/* True if [ADDR, ADDR+LENGTH) and OFFSET are acceptable for a mapping in
 * SPT: see vm_mmap's contract. */
static bool mapping_allowed(struct supplemental_page_table *spt, void *addr,
                            size_t length, off_t offset) {
  uintptr_t start = (uintptr_t)addr;
  if (start == 0 || offset < 0)
    return false;
#ifndef VMCHECK_MUTANT_mmap_unaligned_addr
  if (pg_ofs(start) != 0)
    return false;
#endif
#ifndef VMCHECK_MUTANT_mmap_zero_length
  if (length == 0)
    return false;
#endif
#ifndef VMCHECK_MUTANT_mmap_unaligned_offset
  if (pg_ofs(offset) != 0)
    return false;
#endif
  if (start >= USER_TOP || length > USER_TOP - start)
    return false;
#ifndef VMCHECK_MUTANT_mmap_overlap
  for (uintptr_t va = start; va < start + length; va += PGSIZE)
    if (spt_find(spt, (void *)va) != NULL)
      return false;
#endif
  return true;
}

/* Frees the first PAGE_CNT pages of mapping R, which must be in SPT, and
 * then R itself. */
static void unmap_pages(struct supplemental_page_table *spt,
                        struct mmap_region *r, size_t page_cnt) {
  for (size_t i = 0; i < page_cnt; i++) {
    struct page *page = spt_find(spt, (uint8_t *)r->start + i * PGSIZE);
#ifdef VMCHECK_MUTANT_mmap_overlap
    if (page == NULL || page->mapping != r)
      continue; /* a page that was there before the mapping */
#endif
    ASSERT(page != NULL && page->mapping == r);
    spt_remove(spt, page);
    page_free(page);
  }
  vm_file_unref(r->file);
  free(r);
}

#ifdef VMCHECK_MUTANT_munmap_spt_left
/* The mistake: munmap writes back and drops each page's frame but leaves
 * the page in the SPT, so a later access reads the file again. */
static void unmap_pages_keep_records(struct supplemental_page_table *spt,
                                     struct mmap_region *r) {
  for (size_t i = 0; i < r->page_cnt; i++) {
    struct page *page = spt_find(spt, (uint8_t *)r->start + i * PGSIZE);
    vm_lock();
    vm_wait_unbusy(page);
    if (page->frame != NULL) {
      page_unmap_locked(page);
      if (page->ops->swap_out(page, page->frame->kva))
        frame_unlink(page);
    }
    vm_unlock();
  }
  /* R stays allocated: its pages still point at it. */
}
#endif

/* Registers the pages of mapping R (file length FILE_LEN, from OFFSET);
 * returns how many were registered (all of them unless out of memory). */
static size_t register_pages(struct supplemental_page_table *spt,
                             struct mmap_region *r, off_t file_len,
                             off_t offset, bool writable) {
  size_t i;
  for (i = 0; i < r->page_cnt; i++) {
    int64_t ofs = (int64_t)offset + (int64_t)(i * PGSIZE);
    int64_t left = (int64_t)file_len - ofs;
    uint32_t read = left <= 0 ? 0 : left < (int64_t)PGSIZE ? (uint32_t)left
                                                            : PGSIZE;
    /* Past the end of the file the page is zeros; its offset is unused. */
    struct page_source source = {r->file, read > 0 ? (off_t)ofs : 0, read};
    void *upage = (uint8_t *)r->start + i * PGSIZE;
#ifdef VMCHECK_MUTANT_mmap_overlap
    if (spt_find(spt, upage) != NULL)
      continue; /* the page already there is kept, the mapping goes on */
#endif
    if (vm_alloc_page(spt, upage, writable, VM_FILE, &source, r) == NULL)
      break;
  }
  return i;
}

void *vm_mmap(void *addr, size_t length, int writable, struct file *file,
              off_t offset) {
  struct supplemental_page_table *spt = spt_current();
  if (spt == NULL || file == NULL ||
      !mapping_allowed(spt, addr, length, offset))
    return NULL;
  off_t file_len = file_length(file);
  if (file_len == 0)
    return NULL;
  struct mmap_region *r = malloc(sizeof *r);
  if (r == NULL)
    return NULL;
  r->start = addr;
#ifdef VMCHECK_MUTANT_mmap_unaligned_addr
  r->start = pg_round_down(addr); /* maps the page ADDR is in */
#endif
  r->page_cnt = (size_t)pg_round_up(length) / PGSIZE;
  r->file = vm_file_open(file);
  if (r->file == NULL) {
    free(r);
    return NULL;
  }
  size_t done = register_pages(spt, r, file_len, offset, writable != 0);
  if (done < r->page_cnt) {
#ifndef VMCHECK_MUTANT_mmap_no_rollback
    unmap_pages(spt, r, done); /* (the mistake keeps the pages recorded) */
#endif
    return NULL;
  }
  list_push_back(&spt->mappings, &r->elem);
#ifdef VMCHECK_MUTANT_mmap_eager
  for (size_t i = 0; i < r->page_cnt; i++) /* reads the whole file at once */
    vm_claim_page(spt, (uint8_t *)r->start + i * PGSIZE);
#endif
  return addr;
}

void vm_munmap(void *addr) {
  struct supplemental_page_table *spt = spt_current();
  if (spt == NULL)
    return;
  for (struct list_elem *e = list_begin(&spt->mappings);
       e != list_end(&spt->mappings); e = list_next(e)) {
    struct mmap_region *r = list_entry(e, struct mmap_region, elem);
#ifdef VMCHECK_MUTANT_mmap_unaligned_addr
    if (r->start == pg_round_down(addr)) {
#else
    if (r->start == addr) {
#endif
      list_remove(&r->elem);
#ifdef VMCHECK_MUTANT_munmap_spt_left
      unmap_pages_keep_records(spt, r);
#else
      unmap_pages(spt, r, r->page_cnt);
#endif
      return;
    }
  }
}

#ifdef VMCHECK_MUTANT_no_writeback_exit
/* The mistake: exit forgets that mapping pages may be dirty. */
static void forget_dirty(struct supplemental_page_table *spt,
                         struct mmap_region *r) {
  for (size_t i = 0; i < r->page_cnt; i++) {
    struct page *page = spt_find(spt, (uint8_t *)r->start + i * PGSIZE);
    vm_lock();
    vm_wait_unbusy(page);
    if (page->frame != NULL)
      pml4_set_dirty(spt->pml4, page->va, false);
    page->dirty = false;
    vm_unlock();
  }
}
#endif

void mmap_unmap_all(struct supplemental_page_table *spt) {
  while (!list_empty(&spt->mappings)) {
    struct mmap_region *r =
        list_entry(list_pop_front(&spt->mappings), struct mmap_region, elem);
#ifdef VMCHECK_MUTANT_no_writeback_exit
    forget_dirty(spt, r);
#endif
    unmap_pages(spt, r, r->page_cnt);
  }
}
