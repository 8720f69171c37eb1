/* spin NAME ITERS: CPU-bound work for preemption tests. Runs ITERS
 * iterations of an empty loop in CHUNKS equal chunks, printing "NAME i"
 * after chunk i (i = 1..CHUNKS) and "NAME done" at the end; exit status 0.
 * Two spinners started together (see preempt.c) interleave their lines
 * only if the kernel preempts them. Bad arguments: FAIL line, exit 1. */
#include "vmuser.h"

#define CHUNKS 10

int main(int argc, char **argv) {
  if (argc != 3 || atoi(argv[2]) <= 0)
    fail("usage: spin NAME ITERS (ITERS > 0)");
  const char *name = argv[1];
  unsigned long chunk = (unsigned long)atoi(argv[2]) / CHUNKS + 1;
  for (int i = 1; i <= CHUNKS; i++) {
    for (unsigned long j = 0; j < chunk; j++)
      __asm__ volatile("" ::: "memory"); /* keeps the loop */
    printf("%s %d\n", name, i);
  }
  printf("%s done\n", name);
  return 0;
}
