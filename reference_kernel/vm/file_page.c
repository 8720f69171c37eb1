/* File-backed pages (include/vm/file_page.h): program pages, which are
 * never written to their file, and mapping pages, whose dirty contents
 * go back to the file at their offset. Only the first read_bytes of a
 * page belong to the file; the rest (past the end of the file) is zeros
 * and never written. */
#include "vm/file_page.h"

#include "arch/intr.h"
#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/file.h"
#include "kernel/hooks.h"
#include "kernel/malloc.h"
#include "vm/uninit.h"
#ifdef VMCHECK_MUTANT_writeback_wrong_offset
#include "vm/mmap.h"
#endif

struct vm_file *vm_file_open(struct file *file) {
  struct vm_file *vf = malloc(sizeof *vf);
  if (vf == NULL)
    return NULL;
  vf->file = file_reopen(file);
  if (vf->file == NULL) {
    free(vf);
    return NULL;
  }
  vf->refs = 1;
  return vf;
}

struct vm_file *vm_file_ref(struct vm_file *vf) {
  if (vf != NULL) {
    enum intr_level old = intr_disable();
    vf->refs++;
    intr_set_level(old);
  }
  return vf;
}

void vm_file_unref(struct vm_file *vf) {
  if (vf == NULL)
    return;
  enum intr_level old = intr_disable();
  ASSERT(vf->refs > 0);
  unsigned left = --vf->refs;
  intr_set_level(old);
  if (left == 0) {
    file_close(vf->file);
    free(vf);
  }
}

void file_page_become(struct page *page, const struct page_source *source) {
  page->ops = page->mapping != NULL ? &file_mapping_ops : &file_program_ops;
  page->file.source = *source;
}

static bool file_swap_in(struct page *page, void *kva) {
  return page_source_read(&page->file.source, page->va, kva);
}

static void file_program_clone(struct page *dst, const struct page *src) {
  dst->file = src->file;
  vm_file_ref(dst->file.source.file);
}

static void file_destroy(struct page *page, void *kva) {
  vm_file_unref(page->file.source.file);
  page->file.source.file = NULL;
}

/* A program page is read-only, so its frame always equals the file:
 * dropping it loses nothing. */
static bool file_program_swap_out(struct page *page, void *kva) {
  ASSERT(!page->dirty);
  return true;
}

/* Writes the file's part of mapping page PAGE from KVA back to the file.
 * False on a short write or an injected file_write failure. */
static bool write_back(struct page *page, const void *kva) {
  const struct page_source *s = &page->file.source;
  if (vmcheck_hook_file_write((uintptr_t)page->va) != 0)
    return false;
  off_t n = (off_t)s->read_bytes;
  off_t offset = s->offset;
#ifdef VMCHECK_MUTANT_writeback_wrong_offset
  /* the page's place in the mapping, without mmap's OFFSET */
  offset = (off_t)((uintptr_t)page->va - (uintptr_t)page->mapping->start);
#endif
  if (n > 0 && file_write_at(s->file->file, kva, n, offset) != n)
    return false;
  VM_COUNT(file_writes);
  return true;
}

static bool file_mapping_swap_out(struct page *page, void *kva) {
#ifdef VMCHECK_MUTANT_writeback_clean
  page->dirty = true; /* every page is written back */
#endif
  if (page->dirty) {
    if (!write_back(page, kva))
      return false;
    page->dirty = false;
  }
  return true;
}

static void file_mapping_clone(struct page *dst, const struct page *src) {
#ifdef VMCHECK_MUTANT_fork_inherits_mmap
  file_program_clone(dst, src); /* the child gets the mapping too */
#else
  PANIC("file_mapping_clone: fork does not inherit mapping page %p",
        src->va);
#endif
}

static void file_mapping_destroy(struct page *page, void *kva) {
#ifdef VMCHECK_MUTANT_writeback_clean
  page->dirty = true; /* every page is written back */
#endif
  if (kva != NULL && page->dirty && !write_back(page, kva))
    printf("vm: write-back of mapped page %p failed; its changes are lost\n",
           page->va);
  file_destroy(page, kva);
}

const struct page_operations file_program_ops = {
    .type = VM_FILE,
    .name = "file (program)",
    .swap_in = file_swap_in,
    .swap_out = file_program_swap_out,
    .clone = file_program_clone,
    .destroy = file_destroy,
};

const struct page_operations file_mapping_ops = {
    .type = VM_FILE,
    .name = "file (mapping)",
    .swap_in = file_swap_in,
    .swap_out = file_mapping_swap_out,
    .clone = file_mapping_clone,
    .destroy = file_mapping_destroy,
};
