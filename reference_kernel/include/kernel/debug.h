/* Kernel assertions and panics. Every panic prints one greppable line:
 *   Kernel PANIC at FILE:LINE in FUNC(): MESSAGE
 * then a backtrace of return addresses, then powers QEMU off with the panic
 * exit code. */
#ifndef KERNEL_DEBUG_H
#define KERNEL_DEBUG_H

void debug_panic(const char *file, int line, const char *function,
                 const char *message, ...)
    __attribute__((format(printf, 4, 5), noreturn));
void debug_backtrace(void);

#define PANIC(...) debug_panic(__FILE__, __LINE__, __func__, __VA_ARGS__)
#define ASSERT(CONDITION)                                                    \
  do {                                                                       \
    if (!(CONDITION))                                                        \
      PANIC("assertion `%s' failed.", #CONDITION);                           \
  } while (0)
#define NOT_REACHED() PANIC("executed an unreachable statement")

#endif
