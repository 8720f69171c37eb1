/* child-linear: child of page-parallel. Scrambles a 1 MiB .bss array of
 * zeros with RC4 (the key is its last command-line word, by default its
 * own name), unscrambles it, checks that it is all zeros again and exits
 * with 0x42 (66). Prints nothing unless a check fails.
 * Pintos-KAIST: tests/vm/child-linear.
 * Step for step as there.
 * Checkpoint 101: after scrambling; every page of child_linear_buf is
 *   valid and writable (reached once per child). */
#include "checksum.h"
#include "vmtest.h"

#define CHILD_LINEAR_SIZE (1024 * 1024)

char child_linear_buf[CHILD_LINEAR_SIZE] __attribute__((aligned(PGSIZE)));

int main(int argc, char **argv) {
  const char *key = argv[argc - 1];
  struct rc4 rc4;

  rc4_init(&rc4, key, strlen(key));
  rc4_crypt(&rc4, child_linear_buf, CHILD_LINEAR_SIZE);
  checkpoint(101);
  rc4_init(&rc4, key, strlen(key));
  rc4_crypt(&rc4, child_linear_buf, CHILD_LINEAR_SIZE);
  size_t bad = first_nonzero((const char *)child_linear_buf, CHILD_LINEAR_SIZE);
  if (bad != CHILD_LINEAR_SIZE)
    fail("byte %zu is 0x%02x after unscrambling, expected 0", bad,
         (unsigned char)child_linear_buf[bad]);
  return 0x42;
}
