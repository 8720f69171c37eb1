/* swap-anon: 20 MiB of zero-filled (.bss) pages on a 10 MB machine: the
 * first byte of each page is written, which forces most of them out to
 * swap, then every such byte is read back.
 * Pintos-KAIST: tests/vm/swap-anon (10 MB RAM, 30 MB swap disk), step for
 * step: page I gets the byte (char) I (swapstamp.h).
 * Checkpoint 1: after writing; all 5120 pages of swap_anon_buf valid and
 *   writable; at least 2560 pages are in swap.
 * Checkpoint 2: after the check; same. */
#include "swapstamp.h"
#include "vmtest.h"

#define SWAP_BUF_SIZE (20 * 1024 * 1024)
#define SWAP_BUF_PAGES (SWAP_BUF_SIZE / PGSIZE)

char swap_anon_buf[SWAP_BUF_SIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  write_sparse(swap_anon_buf, SWAP_BUF_PAGES, 512);
  checkpoint(1);
  check_sparse(swap_anon_buf, SWAP_BUF_PAGES, 512);
  checkpoint(2);
  msg("end");
  return 0;
}
