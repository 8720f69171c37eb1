/* child-swap: child of swap-fork. Writes the first byte of each page of a
 * 1 MiB .bss buffer (page I gets (char) I), reads them all back and
 * exits with 0 right away (its "end" line is never printed). Ten of these
 * run at once.
 * Pintos-KAIST: tests/vm/child-swap, step for step: run with no argument,
 * so all ten children write the same bytes. (Children whose pages differ,
 * so that a frame or slot given to the wrong process is caught, are the
 * extra scenario swap-kids.)
 * Checkpoint 501: after writing; the 256 pages of child_swap_buf are
 *   valid and writable (reached once per child). */
#include "swapstamp.h"
#include "vmtest.h"

#define CHILD_SWAP_SIZE (1024 * 1024)
#define CHILD_SWAP_PAGES (CHILD_SWAP_SIZE / PGSIZE)

char child_swap_buf[CHILD_SWAP_SIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  write_sparse(child_swap_buf, CHILD_SWAP_PAGES, 0);
  checkpoint(501);
  check_sparse(child_swap_buf, CHILD_SWAP_PAGES, 0);
  exit(0);
}
