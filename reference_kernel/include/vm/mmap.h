/* Memory-mapped files (vm/mmap.c): the mmap and munmap system calls with
 * Pintos-KAIST semantics. A mapping's pages are lazy file pages; the
 * bytes past the end of the file read as zeros and are never written
 * back; dirty pages are written back at munmap, at process exit and when
 * evicted; the mapping keeps its own handle on the file, so it survives
 * close() and remove(); fork does not inherit mappings. */
#ifndef VM_MMAP_H
#define VM_MMAP_H

#include <stddef.h>

#include "kernel/filesys.h"
#include "lib/list.h"

struct supplemental_page_table;
struct vm_file;

/* One mapping; owned by the SPT (spt->mappings), changed only by the
 * owning thread. */
struct mmap_region {
  void *start;           /* page-aligned user address of the first page */
  size_t page_cnt;       /* pages mapped */
  struct vm_file *file;  /* the mapping's file (one reference) */
  struct list_elem elem; /* in spt->mappings */
};

/* Maps LENGTH bytes of FILE from OFFSET at ADDR in the running process
 * (WRITABLE: may be written). FILE is the process's open handle; the
 * mapping uses its own (file_reopen). Returns ADDR, or NULL if the mapping
 * is refused: ADDR 0 or not page-aligned, OFFSET not page-aligned or
 * negative, LENGTH 0, an empty file, a range outside user space or
 * overlapping any page of the process, or out of memory. */
void *vm_mmap(void *addr, size_t length, int writable, struct file *file,
              off_t offset);

/* Removes the mapping that starts at ADDR, writing back dirty pages; no
 * effect if there is none. */
void vm_munmap(void *addr);

/* Removes every mapping of SPT (exit and exec). */
void mmap_unmap_all(struct supplemental_page_table *spt);

#endif
