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
#ifdef VMCHECK_NO_ASSERT
/* `make NO_ASSERT=1`: the no-assertion variant of a mutant whose only kill
 * was a panic (docs/mutants.md, "Without the assertions"). The condition is
 * still compiled, so its variables stay used, but never evaluated: every
 * ASSERT condition is free of side effects (tests/unit/test_no_assert.py),
 * so a correct kernel runs the same without them. PANIC and NOT_REACHED
 * stay: they mark states the kernel cannot go on from. */
#define ASSERT(CONDITION) ((void)sizeof(!(CONDITION)))
#else
#define ASSERT(CONDITION)                                                    \
  do {                                                                       \
    if (!(CONDITION))                                                        \
      PANIC("assertion `%s' failed.", #CONDITION);                           \
  } while (0)
#endif
#define NOT_REACHED() PANIC("executed an unreachable statement")

#endif
