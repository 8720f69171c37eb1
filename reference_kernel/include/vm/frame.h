/* The frame table: one record per user-pool frame in use, and the clock
 * (second-chance) eviction that frees a frame when the pool is empty
 * (vm/frame.c).
 *
 * The table's lock is THE VM LOCK: it protects the frame records and the
 * residency fields of every page (include/vm/page.h). Rules (docs/vm.md):
 *   - never held during I/O (disk, file system) or a user-memory access;
 *   - may be held while taking the swap-map lock and palloc/malloc (which
 *     only disable interrupts), never the other way round;
 *   - a page's residency changes only while it is not busy; whoever makes
 *     it busy clears that and calls vm_unbusy(). */
#ifndef VM_FRAME_H
#define VM_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/synch.h"
#include "lib/list.h"

struct page;

/* Protected by the VM lock. */
struct frame {
  void *kva;            /* direct-map address of the frame; NULL: this
                           record is unused */
  struct list sharers;  /* struct page.frame_elem: the pages mapped to the
                           frame; more than one only copy-on-write after
                           fork, all of one type */
  unsigned sharer_cnt;  /* list_size(&sharers) */
  unsigned pin_cnt;     /* > 0: being loaded, written out or copied; never
                           a victim */
  struct list_elem free_elem; /* in frame_table.free_records while unused */
};

struct frame_table {
  struct lock lock;          /* the VM lock (see above) */
  struct condition unbusy;   /* broadcast when a page stops being busy */
  struct frame *frames;      /* frame_cnt records, one per user frame */
  size_t frame_cnt;          /* = user pool size; constant */
  size_t used_cnt;           /* records with a frame (kva != NULL) */
  size_t hand;               /* clock hand: next record to look at */
  struct list free_records;  /* unused records (struct frame.free_elem) */
};

/* A stable symbol the harness reads (docs/kernel-introspection.md). */
extern struct frame_table vmcheck_frame_table;

void frame_table_init(void);

void vm_lock(void);
void vm_unlock(void);
bool vm_lock_held(void);
/* VM lock held: waits until PAGE is not busy (releasing the lock while
 * waiting, so anything about PAGE may have changed on return). */
void vm_wait_unbusy(struct page *page);
/* VM lock held: clears PAGE's busy flag and wakes the waiters. */
void vm_unbusy(struct page *page);

/* A frame for user page UPAGE: a free user-pool frame, or one freed by
 * evicting a victim. The frame is pinned (pin_cnt 1) and has no sharers;
 * its contents are undefined. NULL if none can be had (out of memory,
 * eviction failed, or an injected frame_alloc failure). Call without the
 * VM lock. */
struct frame *frame_alloc(void *upage);

/* VM lock held: makes PAGE (not resident) a sharer of FRAME. */
void frame_link(struct frame *frame, struct page *page);
/* VM lock held: removes PAGE from its frame's sharers; frees the frame
 * if no sharer and no pin is left. The PTE must already be gone. */
void frame_unlink(struct page *page);
/* VM lock held: adds a pin to FRAME. */
void frame_pin(struct frame *frame);
/* VM lock held: drops a pin of FRAME; frees the frame if no sharer and
 * no pin is left. */
void frame_unpin(struct frame *frame);

#endif
