/* Console on COM1. Each printf/putbuf call is written as one piece: a lock
 * serializes threads once threads exist; interrupts are not disabled, so
 * output may be preempted but never interleaved. */
#include "kernel/console.h"

#include <stdbool.h>

#include "arch/intr.h"
#include "arch/serial.h"
#include "kernel/synch.h"
#include "kernel/thread.h"
#include "lib/stdio.h"
#include "lib/string.h"

static struct lock console_lock;
static bool use_lock;
static int lock_depth; /* nested console use by the holder (e.g. panic) */

void console_init(void) { serial_init(); }

void console_init_locking(void) {
  lock_init(&console_lock);
  use_lock = true;
}

void console_panic_mode(void) { use_lock = false; }

static void acquire(void) {
  if (!use_lock || intr_context())
    return;
  if (lock_held_by_current_thread(&console_lock))
    lock_depth++;
  else
    lock_acquire(&console_lock);
}

static void release(void) {
  if (!use_lock || intr_context())
    return;
  if (lock_depth > 0)
    lock_depth--;
  else
    lock_release(&console_lock);
}

static void put_char(char c, void *aux) {
  (void)aux;
  if (c == '\n')
    serial_putc('\r');
  serial_putc(c);
}

int vprintf(const char *fmt, va_list ap) {
  acquire();
  int n = format_stream(put_char, NULL, fmt, ap);
  release();
  return n;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}

void putbuf(const char *buf, size_t n) {
  acquire();
  for (size_t i = 0; i < n; i++)
    put_char(buf[i], NULL);
  release();
}

int puts(const char *s) {
  acquire();
  putbuf(s, strlen(s));
  put_char('\n', NULL);
  release();
  return 0;
}
