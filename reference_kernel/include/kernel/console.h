/* Console output on COM1 (serial). Output from different threads never
 * interleaves within one call. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

void console_init(void);
/* After threads exist: serialize output with a lock. */
void console_init_locking(void);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list);
int puts(const char *s);
void putbuf(const char *buf, size_t n);
/* Output that bypasses locking, for panics. */
void console_panic_mode(void);

#endif
