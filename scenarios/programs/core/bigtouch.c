/* bigtouch MB: writes one byte in every page of an MB-megabyte .bss array,
 * then calls checkpoint(1) and exits 0. Used by the harness benchmark to
 * time a snapshot of a large user page table (run with enough RAM, e.g.
 * 64 MB for MB = 20). Prints "(bigtouch) touched N pages". */
#include "vmuser.h"

#define MAX_MB 48
static volatile char big[MAX_MB << 20] __attribute__((aligned(PGSIZE)));

int main(int argc, char **argv) {
  test_name = "bigtouch";
  int mb = argc > 1 ? atoi(argv[1]) : 20;
  if (mb < 1 || mb > MAX_MB)
    fail("MB must be between 1 and %d", MAX_MB);
  unsigned pages = (unsigned)mb << 8;
  for (unsigned i = 0; i < pages; i++)
    big[(size_t)i * PGSIZE] = (char)i;
  checkpoint(1);
  msg("touched %u pages", pages);
  return 0;
}
