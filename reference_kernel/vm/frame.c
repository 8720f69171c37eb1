/* The frame table and clock eviction (include/vm/frame.h).
 *
 * One record per user-pool frame, allocated once at boot. A record is
 * bound to a frame while the frame is in use. When the user pool is
 * empty, frame_alloc runs the clock over the records: a frame whose pages
 * were accessed since the hand last passed gets a second chance (the
 * accessed bits are cleared), the first one that was not is the victim.
 * The victim's pages are unmapped before anything is written out, so the
 * owner cannot change the contents during the write; then each page's
 * type saves it (swap slot, file, or nothing) with the VM lock released,
 * the frame pinned and the pages busy. */
#include "vm/frame.h"

#include "arch/intr.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/hooks.h"
#include "kernel/malloc.h"
#include "kernel/palloc.h"
#include "kernel/timer.h"
#include "vm/page.h"
#include "vm/spt.h"

struct frame_table vmcheck_frame_table;
#define FT vmcheck_frame_table

void frame_table_init(void) {
  lock_init(&FT.lock);
  cond_init(&FT.unbusy);
  list_init(&FT.free_records);
  FT.frame_cnt = palloc_user_pages_total();
  FT.frames = calloc(FT.frame_cnt > 0 ? FT.frame_cnt : 1, sizeof *FT.frames);
  if (FT.frames == NULL)
    PANIC("frame_table_init: no memory for %zu frame records", FT.frame_cnt);
  for (size_t i = 0; i < FT.frame_cnt; i++) {
    list_init(&FT.frames[i].sharers);
    list_push_back(&FT.free_records, &FT.frames[i].free_elem);
  }
}

void vm_lock(void) { lock_acquire(&FT.lock); }
void vm_unlock(void) { lock_release(&FT.lock); }
bool vm_lock_held(void) { return lock_held_by_current_thread(&FT.lock); }

void vm_wait_unbusy(struct page *page) {
  ASSERT(vm_lock_held());
  while (page->busy)
    cond_wait(&FT.unbusy, &FT.lock);
}

void vm_unbusy(struct page *page) {
  ASSERT(vm_lock_held() && page->busy);
  page->busy = false;
  cond_broadcast(&FT.unbusy, &FT.lock);
}

/* VM lock held: binds a free record to KVA, pinned once, no sharers. */
static struct frame *record_take(void *kva) {
  ASSERT(!list_empty(&FT.free_records));
  struct frame *f =
      list_entry(list_pop_front(&FT.free_records), struct frame, free_elem);
  ASSERT(f->kva == NULL && f->sharer_cnt == 0 && f->pin_cnt == 0);
  f->kva = kva;
  f->pin_cnt = 1;
  FT.used_cnt++;
  return f;
}

/* VM lock held: gives F's frame back to the user pool if nothing uses
 * it any more. */
static void free_if_unused(struct frame *f) {
  if (f->sharer_cnt > 0 || f->pin_cnt > 0)
    return;
  palloc_free_page(f->kva);
  f->kva = NULL;
  FT.used_cnt--;
  list_push_back(&FT.free_records, &f->free_elem);
}

void frame_link(struct frame *f, struct page *page) {
  ASSERT(vm_lock_held() && page->frame == NULL && f->kva != NULL);
  list_push_back(&f->sharers, &page->frame_elem);
  f->sharer_cnt++;
  page->frame = f;
}

void frame_unlink(struct page *page) {
  ASSERT(vm_lock_held() && page->frame != NULL);
  struct frame *f = page->frame;
  list_remove(&page->frame_elem);
  f->sharer_cnt--;
  page->frame = NULL;
#ifdef VMCHECK_MUTANT_cow_unshare_early
  /* write access goes back to a sharer while others still share */
  if (f->sharer_cnt == 1 || f->sharer_cnt == 2) /* off by one */
#else
  if (f->sharer_cnt == 1)
#endif
    page_unshared_locked(list_entry(list_front(&f->sharers), struct page,
                                    frame_elem));
  free_if_unused(f);
}

void frame_pin(struct frame *f) {
  ASSERT(vm_lock_held() && f->kva != NULL);
  f->pin_cnt++;
}

void frame_unpin(struct frame *f) {
  ASSERT(vm_lock_held() && f->pin_cnt > 0);
  f->pin_cnt--;
  free_if_unused(f);
}

/* VM lock held: true if any page of F was accessed since the last call;
 * clears the accessed bits (the second chance). */
static bool test_and_clear_accessed(struct frame *f) {
  bool accessed = false;
  for (struct list_elem *e = list_begin(&f->sharers);
       e != list_end(&f->sharers); e = list_next(e)) {
    struct page *page = list_entry(e, struct page, frame_elem);
    uint64_t *pml4 = page->spt->pml4;
    if (pml4_is_accessed(pml4, page->va)) {
      accessed = true;
      pml4_set_accessed(pml4, page->va, false);
    }
  }
  return accessed;
}

/* VM lock held: the clock's victim, or NULL if no frame can be evicted
 * (all pinned). Two sweeps: the first may only clear accessed bits. The
 * lock does not stop the other processes from running (interrupts stay
 * on), so on a slow host their pages may be accessed again before the
 * hand comes back to them: then the first evictable frame of the second
 * sweep is the victim, never none. */
static struct frame *clock_choose(void) {
  if (FT.frame_cnt == 0)
    return NULL;
  struct frame *fallback = NULL;
  for (size_t n = 0; n < 2 * FT.frame_cnt + 1; n++) {
    struct frame *f = &FT.frames[FT.hand];
    FT.hand = (FT.hand + 1) % FT.frame_cnt;
    if (f->kva == NULL || f->pin_cnt > 0 || f->sharer_cnt == 0)
      continue;
#ifdef VMCHECK_MUTANT_no_second_chance
    (void)test_and_clear_accessed;
    return f; /* the accessed bit is ignored: FIFO */
#else
    if (!test_and_clear_accessed(f))
      return f;
    if (fallback == NULL && n >= FT.frame_cnt)
      fallback = f;
#endif
  }
  return fallback;
}

/* VM lock held: pins victim F, makes its pages busy and unmaps them. */
static void start_eviction(struct frame *f) {
  frame_pin(f);
  for (struct list_elem *e = list_begin(&f->sharers);
       e != list_end(&f->sharers); e = list_next(e)) {
    struct page *page = list_entry(e, struct page, frame_elem);
#ifndef VMCHECK_MUTANT_evict_filling
    ASSERT(!page->busy);
#endif
    page->busy = true;
#if !defined(VMCHECK_MUTANT_evict_unmap_late) && \
    !defined(VMCHECK_MUTANT_evict_pte_left)
    page_unmap_locked(page);
#endif
  }
}

/* Saves the pages of F (evicting, VM lock not held) one after another;
 * returns how many were saved before the first failure. The sharer list
 * cannot change meanwhile: its pages are busy and F is pinned. */
static size_t save_pages(struct frame *f) {
  size_t saved = 0;
  for (struct list_elem *e = list_begin(&f->sharers);
       e != list_end(&f->sharers); e = list_next(e)) {
    struct page *page = list_entry(e, struct page, frame_elem);
    if (!page->ops->swap_out(page, f->kva))
      break;
    saved++;
  }
  return saved;
}

/* VM lock held: detaches the first SAVED pages of F; the others (if a
 * save failed) stay resident, unmapped, and are re-mapped by their next
 * fault. Returns F, pinned for the caller, if it is free now; else NULL
 * (F unpinned). */
static struct frame *finish_eviction(struct frame *f, size_t saved) {
#ifdef VMCHECK_MUTANT_evict_unmap_late
  /* the PTEs are cleared only now, after the contents were saved */
  for (struct list_elem *e = list_begin(&f->sharers);
       e != list_end(&f->sharers); e = list_next(e))
    page_unmap_locked(list_entry(e, struct page, frame_elem));
#endif
  for (size_t i = 0; i < saved; i++) {
    struct page *page =
        list_entry(list_pop_front(&f->sharers), struct page, frame_elem);
    f->sharer_cnt--;
    page->frame = NULL;
    vm_unbusy(page);
  }
  for (struct list_elem *e = list_begin(&f->sharers);
       e != list_end(&f->sharers); e = list_next(e))
    vm_unbusy(list_entry(e, struct page, frame_elem));
  if (f->sharer_cnt == 0) {
    VM_COUNT(evictions);
    return f;
  }
  frame_unpin(f);
  return NULL;
}

/* VM lock held: says on the console why the clock found no victim (every
 * frame in use pinned), so an out-of-memory kill is explained. */
static void report_no_victim(void) {
  size_t used = 0, pinned = 0;
  for (size_t i = 0; i < FT.frame_cnt; i++) {
    const struct frame *f = &FT.frames[i];
    if (f->kva == NULL)
      continue;
    used++;
    if (f->pin_cnt > 0 || f->sharer_cnt == 0)
      pinned++;
  }
  printf("vm: no frame to evict: %zu of %zu frames in use, %zu of them "
         "pinned or not yet linked\n",
         used, FT.frame_cnt, pinned);
}

enum eviction_result {
  EVICTED,    /* *FRAME is free, pinned for the caller */
  NO_VICTIM,  /* every frame is pinned */
  REFUSED,    /* the evict_choose hook refused the victim (injection) */
  NOT_SAVED   /* the victim's contents could not be saved */
};

/* Evicts the clock's victim. */
static enum eviction_result evict_one(struct frame **frame) {
  vm_lock();
  struct frame *victim = clock_choose();
  if (victim == NULL) {
    vm_unlock();
    return NO_VICTIM;
  }
  if (vmcheck_hook_evict_choose((uintptr_t)victim->kva) != 0) {
    vm_unlock();
    return REFUSED;
  }
  start_eviction(victim);
#ifdef VMCHECK_MUTANT_lock_order_read_evict
  /* the mistake: the victim is written out with the VM lock held, so a
   * dirty mapped page takes vmfs_lock inside the VM lock */
  size_t saved = save_pages(victim);
#else
  vm_unlock();
#ifdef VMCHECK_MUTANT_evict_unmap_late
  size_t saved = save_pages(victim);
  vm_yield_point(VM_YIELD_EVICT_UNMAPPED); /* saved, still mapped */
#else
  vm_yield_point(VM_YIELD_EVICT_UNMAPPED);
  size_t saved = save_pages(victim);
#endif
  vm_lock();
#endif
  *frame = finish_eviction(victim, saved);
  vm_unlock();
  return *frame != NULL ? EVICTED : NOT_SAVED;
}

/* VM lock held: true if some frame in use is pinned or not yet linked: a
 * load, an eviction or a copy in progress that will end; or if some user
 * frame is not in the table at all (free in the pool again, or between
 * the pool and the table: an exit giving its frames back). */
static bool some_frame_in_transit(void) {
  if (FT.used_cnt < FT.frame_cnt)
    return true;
  for (size_t i = 0; i < FT.frame_cnt; i++) {
    const struct frame *f = &FT.frames[i];
    if (f->kva != NULL && (f->pin_cnt > 0 || f->sharer_cnt == 0))
      return true;
  }
  return false;
}

/* A frame straight from the user pool, pinned for the caller; NULL if the
 * pool is empty. */
static struct frame *take_from_pool(void) {
  void *kva = palloc_get_page(PAL_USER);
  if (kva == NULL)
    return NULL;
  vm_lock();
  struct frame *f = record_take(kva);
  vm_unlock();
  return f;
}

/* Whether a thread that found no victim should look again, at most
 * NO_VICTIM_WAIT_TICKS times: after a tick while frames are in transit, at
 * once if none is (all unpinned since evict_one looked). Says why it gives up. */
#define NO_VICTIM_WAIT_TICKS 100
static bool wait_for_victim(int *waited) {
  vm_lock();
  bool wait = some_frame_in_transit(), again = FT.frame_cnt > 0 && (*waited)++ < NO_VICTIM_WAIT_TICKS;
  if (!again)
    report_no_victim();
  vm_unlock();
  if (again && wait) {
    vm_yield_point(VM_YIELD_NO_VICTIM);
    timer_sleep(1);
  }
  return again;
}

/* A frame freed by eviction, pinned; NULL if none. A victim that cannot
 * be saved (swap full or absent, an I/O error) stays resident and the
 * clock moves on to the next, at most once around the table. When every
 * frame is pinned by a load, an eviction or a copy in progress, the
 * thread waits for one of them to finish (wait_for_victim). */
static struct frame *evict(void) {
  size_t not_saved = 0;
  int waited = 0;
  while (not_saved < FT.frame_cnt) {
    struct frame *f = NULL;
    switch (evict_one(&f)) {
    case EVICTED:
      return f;
    case NO_VICTIM: {
      if (!wait_for_victim(&waited))
        return NULL;
      /* frames given back meanwhile (an exit) are in the pool, not the clock */
      struct frame *freed = take_from_pool();
      if (freed != NULL)
        return freed;
      break;
    }
    case REFUSED:
      return NULL;
    case NOT_SAVED:
      not_saved++;
      break;
    }
  }
  printf("vm: no frame: %zu victims in a row could not be saved\n",
         not_saved);
  return NULL;
}

struct frame *frame_alloc(void *upage) {
  ASSERT(!vm_lock_held());
  if (vmcheck_hook_frame_alloc((uintptr_t)upage) != 0)
    return NULL;
  struct frame *f = take_from_pool();
  return f != NULL ? f : evict();
}
