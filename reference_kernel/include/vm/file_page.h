/* File-backed pages (vm/file_page.c), of two kinds:
 *   program pages (file_program_ops): the executable's read-only segments
 *     (writable segments become anonymous pages). Never dirty: eviction
 *     drops them and a later fault reads them again.
 *   mapping pages (file_mapping_ops): an mmap mapping. Eviction, munmap
 *     and exit write them back to the file when dirty, at their offset.
 * Both report type VM_FILE. */
#ifndef VM_FILE_PAGE_H
#define VM_FILE_PAGE_H

#include "vm/page.h"

extern const struct page_operations file_program_ops;
extern const struct page_operations file_mapping_ops;

/* A new shared handle on FILE (its own file_reopen), one reference; NULL
 * if out of memory. */
struct vm_file *vm_file_open(struct file *file);
/* Adds / drops a reference; the last drop closes the handle. NULL is
 * ignored. Safe from any thread. */
struct vm_file *vm_file_ref(struct vm_file *vf);
void vm_file_unref(struct vm_file *vf);

/* Makes PAGE (not in an SPT yet, or busy) a file page with contents
 * SOURCE (takes over SOURCE's file reference): a mapping page if
 * page->mapping is set, else a program page. */
void file_page_become(struct page *page, const struct page_source *source);

#endif
