/* The reference hooks and the harness's requests. See kernel/hooks.h. */
#include "kernel/hooks.h"

#include <stdbool.h>

#include "arch/intr.h"
#include "kernel/palloc.h"
#include "kernel/thread.h"
#include "kernel/timer.h"

#define MAX_STOLEN 4096

struct vmcheck_requests vmcheck_requests;
static void *stolen[MAX_STOLEN];

/* Services the requests at a hook, outside interrupt context: memory
 * pressure first (so that what the thread does next finds it), then the
 * running thread's own preempt/delay (kernel/hooks.h): never another
 * thread's. */
static void service_at_hook(void) {
  if (intr_context() || vmcheck_current_thread == NULL)
    return;
  if (vmcheck_requests.steal_frames > 0 || vmcheck_requests.release_frames > 0) {
    enum intr_level old = intr_disable();
    hooks_tick();
    intr_set_level(old);
  }
  struct vmcheck_thread_requests *mine = &thread_current()->vmcheck_requests;
  if (mine->preempt) {
    mine->preempt = 0;
    thread_yield();
  }
  if (mine->delay_ticks > 0) {
    int ticks = mine->delay_ticks;
    mine->delay_ticks = 0;
    if (intr_get_level() == INTR_ON)
      timer_sleep(ticks);
    else
      thread_yield();
  }
}

/* The empty asm keeps GCC from treating the calls as pure. */
#define DEFINE_VMCHECK_HOOK(NAME)                                            \
  VMCHECK_HOOK int vmcheck_hook_##NAME(uintptr_t arg) {                      \
    __asm__ volatile("" : : "r"(arg) : "memory");                            \
    service_at_hook();                                                       \
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

VMCHECK_FAULT_HOOK void vmcheck_hook_panic(void) {
  __asm__ volatile("" : : : "memory");
}

VMCHECK_FAULT_HOOK int vmcheck_hook_fault(const void *frame, uintptr_t cr2,
                                    int outcome) {
  __asm__ volatile("" : : "r"(frame), "r"(cr2), "r"(outcome) : "memory");
  return 0;
}

/* Takes up to N free user frames (never evicts: only what is free). */
static void steal(int n) {
  for (; n > 0 && vmcheck_requests.stolen < MAX_STOLEN; n--) {
    void *page = palloc_get_page(PAL_USER);
    if (page == NULL)
      break;
    stolen[vmcheck_requests.stolen++] = page;
  }
}

static void release(int n) {
  for (; n > 0 && vmcheck_requests.stolen > 0; n--)
    palloc_free_page(stolen[--vmcheck_requests.stolen]);
}

void hooks_tick(void) {
  if (vmcheck_requests.steal_frames > 0) {
    steal(vmcheck_requests.steal_frames);
    vmcheck_requests.steal_frames = 0;
  }
  if (vmcheck_requests.release_frames > 0) {
    release(vmcheck_requests.release_frames);
    vmcheck_requests.release_frames = 0;
  }
}

void hooks_release_all(void) {
  enum intr_level old = intr_disable();
  release(MAX_STOLEN);
  intr_set_level(old);
}
