/* Formatted output into buffers (lib/format.c); kernel printf lives in
 * kernel/console.h. Supports %d %i %u %x %X %p %s %c %% with l, ll, z
 * length modifiers, field width, '-' and '0' flags and precision for %s. */
#ifndef LIB_STDIO_H
#define LIB_STDIO_H

#include <stdarg.h>
#include <stddef.h>

int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list);
/* Calls OUTPUT(c, AUX) for each character produced; returns the count. */
int format_stream(void (*output)(char, void *), void *aux, const char *fmt,
                  va_list);

#endif
