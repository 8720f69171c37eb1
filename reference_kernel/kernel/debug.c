/* Panics and backtraces. */
#include "kernel/debug.h"

#include <stdarg.h>
#include <stdint.h>

#include "arch/intr.h"
#include "arch/memlayout.h"
#include "kernel/console.h"
#include "kernel/hooks.h"
#include "kernel/power.h"
#include "kernel/thread.h"

void debug_backtrace(void) {
  uint64_t *frame = __builtin_frame_address(0);
  printf("Call stack:");
  for (int depth = 0; frame != NULL && depth < 16; depth++) {
    if ((uintptr_t)frame < KERN_BASE || ((uintptr_t)frame & 7))
      break;
    printf(" 0x%lx", frame[1]);
    frame = (uint64_t *)frame[0];
  }
  printf(".\n");
}

void debug_panic(const char *file, int line, const char *function,
                 const char *message, ...) {
  static int level;
  intr_disable();
  console_panic_mode();
  if (++level == 1) {
    va_list ap;
    vmcheck_hook_panic();
    printf("Kernel PANIC at %s:%d in %s(): ", file, line, function);
    va_start(ap, message);
    vprintf(message, ap);
    va_end(ap);
    printf("\n");
    debug_backtrace();
  } else if (level == 2) {
    printf("Kernel PANIC recursion at %s:%d in %s().\n", file, line, function);
  }
  power_off(POWER_EXIT_PANIC);
}
