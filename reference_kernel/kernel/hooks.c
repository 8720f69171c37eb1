/* The reference hooks: each returns 0 (no injection). See kernel/hooks.h.
 * The empty asm keeps GCC from treating the calls as pure. */
#include "kernel/hooks.h"

#define DEFINE_VMCHECK_HOOK(NAME)                                            \
  VMCHECK_HOOK int vmcheck_hook_##NAME(uintptr_t arg) {                      \
    __asm__ volatile("" : : "r"(arg) : "memory");                            \
    return 0;                                                                \
  }

DEFINE_VMCHECK_HOOK(frame_alloc)
DEFINE_VMCHECK_HOOK(page_alloc)
DEFINE_VMCHECK_HOOK(swap_out)
DEFINE_VMCHECK_HOOK(swap_in)
DEFINE_VMCHECK_HOOK(file_read)
DEFINE_VMCHECK_HOOK(file_write)
DEFINE_VMCHECK_HOOK(page_fault)
DEFINE_VMCHECK_HOOK(evict_choose)
DEFINE_VMCHECK_HOOK(yield)
