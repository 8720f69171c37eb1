/* Kernel command line (multiboot -append): options, then actions.
 *   -ul=N        cap the user pool at N pages
 *   -q           power off when the actions are done (always done anyway)
 *   run 'PROG ARGS'   run a program and wait for it; may repeat
 */
#ifndef KERNEL_ARGS_H
#define KERNEL_ARGS_H

#include <stddef.h>

#define ARGS_MAX_RUNS 16

struct kernel_args {
  size_t user_page_limit; /* SIZE_MAX if not given */
  int run_cnt;
  const char *runs[ARGS_MAX_RUNS];
};

/* Parses CMDLINE (modified in place); panics on a malformed command line. */
void args_parse(char *cmdline, struct kernel_args *);

#endif
