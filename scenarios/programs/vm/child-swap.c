/* child-swap: child of swap-fork. `child-swap K` stamps each page of a
 * 1 MiB .bss buffer with a value that depends on K and the page, then
 * checks every stamp, and exits 0. Ten of these run at once.
 * Pintos-KAIST: tests/vm/child-swap (which takes no argument; K makes the
 * children's data differ, so a frame given to the wrong process is
 * caught).
 * Checkpoint 501: after stamping; the 256 pages of child_swap_buf are
 *   valid and writable (reached once per child). */
#include "swapstamp.h"
#include "vmtest.h"

#define CHILD_SWAP_SIZE (1024 * 1024)
#define CHILD_SWAP_PAGES (CHILD_SWAP_SIZE / PGSIZE)

char child_swap_buf[CHILD_SWAP_SIZE] __attribute__((aligned(PGSIZE)));

int main(int argc, char **argv) {
  uint32_t key = argc > 1 ? (uint32_t)atoi(argv[1]) : 0;

  msg("begin");
  stamp_pages(child_swap_buf, CHILD_SWAP_PAGES, key, 0);
  checkpoint(501);
  check_stamps(child_swap_buf, CHILD_SWAP_PAGES, key, 0);
  msg("end");
  return 0;
}
