/* Argument passing: the initial user stack of a program, laid out the way
 * Pintos-KAIST user programs expect (highest address first):
 *   the argument strings, argv[0]'s lowest, contiguous, NUL-terminated
 *   padding down to a multiple of 8
 *   argv[argc] = NULL
 *   argv[argc-1] ... argv[0]      (pointers to the strings)
 *   fake return address 0         <- rsp
 * and rdi = argc, rsi = argv (the address of argv[0]). */
#ifndef KERNEL_ARGV_H
#define KERNEL_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct argv_layout {
  int argc;
  uintptr_t rsp;       /* user rsp: the fake return address */
  uintptr_t argv;      /* user address of argv[0] */
  size_t size;         /* bytes from rsp up to the stack top */
  const char *program; /* argv[0], inside the image */
};

/* Builds the stack contents for the words of CMDLINE (separated by
 * spaces) for a stack ending at STACK_TOP. IMAGE is a PGSIZE buffer that
 * stands for the page just below STACK_TOP; the bytes to copy to user rsp
 * are IMAGE[PGSIZE - size .. PGSIZE). False if CMDLINE has no word or the
 * layout does not fit in one page. */
bool argv_build(const char *cmdline, uintptr_t stack_top, uint8_t *image,
                struct argv_layout *layout);

/* Copies the first word of CMDLINE (the program name) into NAME, cut to
 * SIZE-1 chars; "" if there is none. */
void argv_program_name(const char *cmdline, char *name, size_t size);

#endif
