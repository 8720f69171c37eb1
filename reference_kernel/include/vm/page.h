/* A user virtual page: one record of a process's supplemental page table
 * (include/vm/spt.h). What a page does when it is loaded, evicted, copied
 * by fork or freed varies by type through a `struct page_operations`
 * table, as in Pintos-KAIST:
 *
 *   uninit (vm/uninit.c)     registered, never loaded: knows where its
 *                            first contents come from and what type it
 *                            becomes when first touched
 *   anon (vm/anon.c)         zero-filled or private data; goes to swap
 *   file, program (vm/file_page.c)
 *                            a page of a read-only program segment (code,
 *                            constants): dropped on eviction, read again
 *                            from the executable at the next fault
 *   file, mapping (vm/file_page.c)
 *                            a page of an mmap mapping; dirty pages are
 *                            written back to the file
 *
 * Locking (docs/vm.md): `va`, `writable`, `spt` and `mapping` never change
 * after the page is inserted in its SPT. The residency fields (`frame`,
 * `frame_elem`, `busy`, `dirty`) are protected by the VM lock
 * (vm_lock(), include/vm/frame.h). `ops` and the type-specific union are
 * changed only by a thread that has made the page busy, or by the owner
 * before the page is in an SPT. */
#ifndef VM_PAGE_H
#define VM_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/filesys.h"
#include "lib/hash.h"
#include "lib/list.h"

struct page;
struct frame;
struct supplemental_page_table;
struct mmap_region;

enum vm_type { VM_UNINIT = 0, VM_ANON = 1, VM_FILE = 2 };

/* An open file shared by the pages that read from it: every page holds
 * one reference (vm/file_page.c). */
struct vm_file {
  struct file *file; /* a handle of our own (file_reopen) */
  unsigned refs;     /* changed with interrupts off */
};

/* Where a page's first contents come from: READ_BYTES bytes of FILE at
 * OFFSET, then zeros to the end of the page. FILE NULL: all zeros. */
struct page_source {
  struct vm_file *file;
  off_t offset;
  uint32_t read_bytes;
};

struct uninit_page {
  enum vm_type target;        /* VM_ANON or VM_FILE */
  struct page_source source;
};

#define SWAP_SLOT_NONE SIZE_MAX

struct anon_page {
  size_t slot; /* swap slot holding the contents, or SWAP_SLOT_NONE while
                  resident */
};

struct file_page {
  struct page_source source; /* the page's bytes in the file */
};

struct page_operations {
  enum vm_type type;
  const char *name;
  /* Fills KVA (the page's new frame: pinned, not yet mapped) with the
   * page's contents. Called without locks, the page busy. False on an I/O
   * error or an injected failure; the page is then unchanged. */
  bool (*swap_in)(struct page *page, void *kva);
  /* Saves the contents of KVA (the page's frame, unmapped, pinned) so the
   * frame can be reused. Called without locks, the page busy. False on an
   * I/O error, an injected failure or a full swap disk; the page then
   * stays resident. */
  bool (*swap_out)(struct page *page, void *kva);
  /* Fork: makes DST (a fresh record with SRC's va, writable and type) a
   * copy of SRC's type-specific record, not resident. SRC is not busy;
   * an anon SRC is resident (fork shares its frame). */
  void (*clone)(struct page *dst, const struct page *src);
  /* Frees what the page holds besides its frame (swap slot, file
   * reference). KVA: the page's frame if resident (pinned, unmapped; a
   * dirty mapped-file page is written back from it), else NULL. Called
   * without locks. */
  void (*destroy)(struct page *page, void *kva);
};

struct page {
  const struct page_operations *ops;   /* see the comment at the top */
  void *va;                            /* page-aligned user address: key */
  bool writable;                       /* the user may write the page */
  struct supplemental_page_table *spt; /* owner (its pml4 maps the page) */
  struct mmap_region *mapping;         /* mmap mapping, NULL if none */
  struct hash_elem spt_elem;           /* in spt->pages */

  /* Protected by the VM lock. */
  struct frame *frame;         /* resident frame, NULL if not resident */
  struct list_elem frame_elem; /* in frame->sharers while resident */
  bool busy;    /* being loaded, written out, copied or freed: wait on
                   vm_wait_unbusy() before changing residency */
  bool dirty;   /* written since last saved to its file (mapping pages):
                   the PTE's dirty bit, kept here when the PTE goes */

  union {
    struct uninit_page uninit;
    struct anon_page anon;
    struct file_page file;
  };
};

static inline enum vm_type page_type(const struct page *page) {
  return page->ops->type;
}

/* ---- Residency (vm/page.c); all take the VM lock themselves unless
 * noted. ---- */

/* Makes PAGE resident (if it is not) and maps it; with WRITE, writable
 * (giving it a private copy of a frame shared copy-on-write). PAGE must
 * be writable if WRITE. False if out of memory or the contents
 * could not be read: the page is then unchanged. */
bool page_resolve(struct page *page, bool write);

/* VM lock held, PAGE not busy and not resident: loads its contents into a
 * new frame and links it (not mapped). Releases the lock meanwhile. */
bool page_load_locked(struct page *page);

/* Unmaps PAGE (if resident), lets its type free what it holds (writing a
 * dirty mapped-file page back) and frees the record. PAGE must already be
 * out of its SPT. */
void page_free(struct page *page);

/* VM lock held, PAGE resident: installs its PTE, writable if the page is
 * and its frame is not shared. False if a page table could not be
 * allocated. */
bool page_map_locked(struct page *page);

/* VM lock held: PAGE's frame has just stopped being shared; lets a
 * writable page's present PTE be written again without a fault. */
void page_unshared_locked(struct page *page);

/* VM lock held: removes PAGE's PTE, keeping its dirty bit in page->dirty.
 * Atomic with respect to the owner's writes. */
void page_unmap_locked(struct page *page);

/* Harness-visible counters (docs/kernel-introspection.md). */
struct vm_stats {
  uint64_t faults;         /* calls to vm_try_handle_fault */
  uint64_t faults_invalid; /* of those, illegal accesses */
  uint64_t faults_oom;     /* of those, out of memory / I/O failure */
  uint64_t page_ins;       /* pages given a frame and their contents */
  uint64_t soft_faults;    /* resident pages only re-mapped */
  uint64_t evictions;      /* frames taken from a page for another */
  uint64_t swap_outs;      /* pages written to swap */
  uint64_t swap_ins;       /* pages read back from swap */
  uint64_t file_reads;     /* pages read from a file */
  uint64_t file_writes;    /* dirty mapped pages written back */
  uint64_t cow_copies;     /* copy-on-write frame copies */
  uint64_t cow_shares;     /* frames shared by fork */
  uint64_t stack_growths;  /* stack pages added by a fault */
};
extern struct vm_stats vmcheck_vm_stats;

#define VM_COUNT(FIELD)                                                      \
  __atomic_fetch_add(&vmcheck_vm_stats.FIELD, 1, __ATOMIC_RELAXED)

/* Yield-injection points (kernel/hooks.h, vmcheck_hook_yield): the
 * argument tells the harness where the thread is. */
enum vm_yield_point {
  VM_YIELD_EVICT_UNMAPPED = 1, /* victim unmapped, not yet written out */
  VM_YIELD_LOAD_FRAME = 2,     /* frame allocated, contents not yet read */
  VM_YIELD_COW_COPY = 3,       /* copy-on-write: before the copy */
  VM_YIELD_FORK_PAGE = 4,      /* fork: between two copied pages */
  VM_YIELD_UNMAP_PAGE = 5,     /* munmap/exit: before a page is freed */
  VM_YIELD_NO_VICTIM = 6       /* no victim: before waiting a tick */
};
/* Calls the yield hook; yields the CPU if it returns nonzero. */
void vm_yield_point(enum vm_yield_point point);

#endif
