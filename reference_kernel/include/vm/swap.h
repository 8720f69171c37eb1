/* Swap slots on the swap disk (IDE index 1, DISK_SWAP): slot N is the
 * page-sized run of sectors N*8 .. N*8+7. A bitmap marks used slots. A
 * slot belongs to exactly one page; it is freed when that page is read
 * back or destroyed. Without a swap disk there are no slots (every
 * swap_alloc fails). */
#ifndef VM_SWAP_H
#define VM_SWAP_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/synch.h"
#include "lib/bitmap.h"

#define SECTORS_PER_SLOT 8 /* PGSIZE / DISK_SECTOR_SIZE */

struct swap_map {
  struct lock lock;    /* protects `used` and used_cnt; taken after the
                          VM lock if both are held, never during I/O */
  struct disk *disk;   /* NULL: no swap disk */
  size_t slot_cnt;     /* constant after swap_init */
  size_t used_cnt;     /* slots in use */
  struct bitmap *used; /* bit N set: slot N holds a page */
};

/* Stable symbol the harness reads (docs/kernel-introspection.md). */
extern struct swap_map vmcheck_swap_map;

void swap_init(void);
/* A free slot, marked used; SWAP_SLOT_NONE (page.h) if the disk is full. */
size_t swap_alloc(void);
void swap_free(size_t slot);
/* Page-sized transfers between SLOT and kernel page KVA. Called without
 * the VM lock. False on a disk error or an injected failure
 * (vmcheck_hook_swap_out / vmcheck_hook_swap_in with the slot). */
bool swap_write(size_t slot, const void *kva);
bool swap_read(size_t slot, void *kva);

#endif
