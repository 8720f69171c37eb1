/* Swap slots on the swap disk (include/vm/swap.h). The map's lock guards
 * only the bitmap; transfers run without it (the disk driver serializes
 * requests per channel), so a slot is marked used before it is written
 * and freed only after its last read. */
#include "vm/swap.h"

#include "arch/memlayout.h"
#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/disk.h"
#include "kernel/hooks.h"
#include "vm/page.h"
#include "vm/vm.h"

_Static_assert(SECTORS_PER_SLOT * DISK_SECTOR_SIZE == PGSIZE,
               "a swap slot holds one page");

struct swap_map vmcheck_swap_map;
#define SM vmcheck_swap_map

void swap_init(void) {
  lock_init(&SM.lock);
  SM.disk = disk_get(DISK_SWAP);
  if (SM.disk == NULL) {
    printf("swap: no swap disk (IDE index %d)\n", DISK_SWAP);
    return;
  }
#ifdef VMCHECK_MUTANT_swap_slots_from_sectors
  SM.slot_cnt = disk_size(SM.disk); /* sectors taken for pages */
#else
  SM.slot_cnt = disk_size(SM.disk) / SECTORS_PER_SLOT;
#endif
  SM.used = bitmap_create(SM.slot_cnt);
  if (SM.used == NULL)
    PANIC("swap_init: no memory for a bitmap of %zu slots", SM.slot_cnt);
  printf("swap: %zu slots\n", SM.slot_cnt);
}

size_t swap_alloc(void) {
  if (SM.used == NULL)
    return SWAP_SLOT_NONE;
  lock_acquire(&SM.lock);
  size_t slot = bitmap_scan_and_flip(SM.used, 0, 1, false);
#ifdef VMCHECK_MUTANT_swap_slot_reuse
  if (slot != BITMAP_ERROR)
    bitmap_set(SM.used, slot, false); /* found free, never marked used */
#endif
  if (slot != BITMAP_ERROR)
    SM.used_cnt++;
  lock_release(&SM.lock);
  return slot != BITMAP_ERROR ? slot : SWAP_SLOT_NONE;
}

void swap_free(size_t slot) {
  ASSERT(SM.used != NULL && slot < SM.slot_cnt);
  lock_acquire(&SM.lock);
#ifndef VMCHECK_MUTANT_swap_slot_reuse
  if (!bitmap_test(SM.used, slot))
    PANIC("swap_free: slot %zu is not in use", slot);
#endif
  bitmap_set(SM.used, slot, false);
  SM.used_cnt--;
  lock_release(&SM.lock);
}

static disk_sector_t first_sector(size_t slot) {
  ASSERT(slot < SM.slot_cnt);
  return (disk_sector_t)(slot * SECTORS_PER_SLOT);
}

bool swap_write(size_t slot, const void *kva) {
  if (vmcheck_hook_swap_out(slot) != 0)
    return false;
  const uint8_t *src = kva;
  disk_sector_t sector = first_sector(slot);
  for (int i = 0; i < SECTORS_PER_SLOT; i++)
    if (!disk_write(SM.disk, sector + i, src + i * DISK_SECTOR_SIZE))
      return false;
  VM_COUNT(swap_outs);
  return true;
}

bool swap_read(size_t slot, void *kva) {
  if (vmcheck_hook_swap_in(slot) != 0)
    return false;
  uint8_t *dst = kva;
  disk_sector_t sector = first_sector(slot);
  for (int i = 0; i < SECTORS_PER_SLOT; i++)
    if (!disk_read(SM.disk, sector + i, dst + i * DISK_SECTOR_SIZE))
      return false;
  VM_COUNT(swap_ins);
  return true;
}

size_t vm_swap_slots_total(void) { return SM.slot_cnt; }

size_t vm_swap_slots_free(void) {
  lock_acquire(&SM.lock);
  size_t free_cnt = SM.slot_cnt - SM.used_cnt;
  lock_release(&SM.lock);
  return free_cnt;
}
