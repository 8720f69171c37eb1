/* The supplemental page table (SPT) of one process: every user page it
 * may touch, keyed by page-aligned user address (vm/spt.c), plus its mmap
 * mappings. The process code (kernel/process_memory.c) creates, fills,
 * copies and destroys it through the functions below.
 *
 * Locking: the table's structure (`pages`, `mappings`) is changed only by
 * the owning process's thread, or by its fork child while the parent
 * waits; eviction by other threads never adds or removes pages, it only
 * changes their residency under the VM lock (include/vm/page.h). */
#ifndef VM_SPT_H
#define VM_SPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/filesys.h"
#include "lib/hash.h"
#include "lib/list.h"
#include "vm/page.h"

struct supplemental_page_table {
  struct hash pages;    /* struct page.spt_elem, keyed by page.va */
  uint64_t *pml4;       /* the address space the pages are mapped in;
                           NULL: table not initialized */
  struct list mappings; /* struct mmap_region.elem, in mmap order */
};

/* Initializes SPT, empty, for the address space PML4. False if out of
 * memory. */
bool spt_init(struct supplemental_page_table *spt, uint64_t *pml4);

/* Frees every page of SPT: mappings are unmapped first (dirty pages
 * written back), then every other page and its frame and swap slot are
 * freed. The pml4 must still exist; it is left to the caller. Safe on a
 * table that was never initialized. */
void spt_destroy(struct supplemental_page_table *spt);

/* The page holding user address VA, or NULL. */
struct page *spt_find(struct supplemental_page_table *spt, const void *va);

/* Removes PAGE from SPT (the record is not freed). */
void spt_remove(struct supplemental_page_table *spt, struct page *page);

/* Registers an uninit page at page-aligned UPAGE that becomes TARGET
 * (VM_ANON or VM_FILE) with contents from SOURCE (NULL: zeros) at its
 * first fault; takes a reference to SOURCE's file. MAPPING: the mmap
 * mapping it belongs to, or NULL. Returns the page, or NULL if UPAGE is
 * taken, out of memory, or an injected page_alloc failure. */
struct page *vm_alloc_page(struct supplemental_page_table *spt, void *upage,
                           bool writable, enum vm_type target,
                           const struct page_source *source,
                           struct mmap_region *mapping);

/* Makes the page at UPAGE resident and mapped now (Pintos-KAIST's
 * vm_claim_page). False if there is no such page or out of memory. */
bool vm_claim_page(struct supplemental_page_table *spt, void *upage);

/* Registers, lazily, the READ_BYTES + ZERO_BYTES bytes (a multiple of
 * PGSIZE) at page-aligned UPAGE: READ_BYTES from FILE at page-aligned
 * OFS, then zeros. False if out of memory or a page is taken (pages
 * registered so far stay, for spt_destroy). */
bool vm_load_segment(struct supplemental_page_table *spt, struct file *file,
                     off_t ofs, void *upage, size_t read_bytes,
                     size_t zero_bytes, bool writable);

/* Fork: fills DST (initialized, empty, of the running child) with a copy
 * of SRC (the waiting parent's). Uninit and non-resident program pages
 * stay lazy; resident pages are shared copy-on-write (both mapped
 * read-only until one writes); swapped pages are brought back and shared;
 * mmap mappings are not inherited. False if out of memory (pages copied
 * so far stay in DST for spt_destroy). */
bool spt_copy(struct supplemental_page_table *dst,
              struct supplemental_page_table *src);

/* ---- Internal to vm/ ---- */

/* A new record for UPAGE owned by SPT, not yet in the table and without a
 * type; NULL if out of memory or an injected page_alloc failure. */
struct page *page_record_new(struct supplemental_page_table *spt, void *upage,
                             bool writable);
/* Inserts PAGE, whose address must be free in SPT. */
void spt_insert(struct supplemental_page_table *spt, struct page *page);

/* The running process's SPT, or NULL for a kernel thread or a process
 * without an address space. */
struct supplemental_page_table *spt_current(void);

#endif
