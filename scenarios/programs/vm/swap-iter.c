/* swap-iter: every kind of page under pressure on a 10 MB machine: 20 MiB
 * of stamped .bss pages, a read-only mapping of large.txt and the 2 MiB of
 * initialized data inside the program (exeblob.h), read in turns so each
 * kind is evicted and brought back.
 * Pintos-KAIST: tests/vm/swap-iter (10 MB RAM, 50 MB swap disk; needs
 * large.txt).
 * Checkpoint 1: after stamping; all 5120 pages of swap_iter_buf valid, at
 *   least 2560 pages in swap.
 * Checkpoint 2: after all checks, before munmap; the mapping's 490 pages at
 *   0x10000000 valid and not writable, swap_iter_buf valid. */
#include "exeblob.h"
#include "swapstamp.h"
#include "textdata.h"
#include "vmtest.h"

#define SWAP_BUF_SIZE (20 * 1024 * 1024)
#define SWAP_BUF_PAGES (SWAP_BUF_SIZE / PGSIZE)
#define MAP_ADDR ((char *)0x10000000)

char swap_iter_buf[SWAP_BUF_SIZE] __attribute__((aligned(PGSIZE)));

/* Fails unless the mapping reads large.txt. */
static void check_mapping(const char *when) {
  size_t bad = text_mismatch("large", 0, MAP_ADDR, LARGE_TXT_SIZE);
  if (bad != LARGE_TXT_SIZE)
    fail("mapped byte 0x%zx differs from large.txt %s", bad, when);
  msg("mapping reads large.txt %s", when);
}

int main(void) {
  msg("begin");
  stamp_pages(swap_iter_buf, SWAP_BUF_PAGES, 1, 512);
  checkpoint(1);
  int fd = open("large.txt");
  CHECK(fd > 1, "open \"large.txt\"");
  CHECK(mmap(MAP_ADDR, LARGE_TXT_SIZE, 0, fd, 0) == MAP_ADDR,
        "mmap \"large.txt\"");
  check_mapping("on first touch");
  exe_blob_check("after the mapping");
  check_stamps(swap_iter_buf, SWAP_BUF_PAGES, 1, 512);
  check_mapping("again");
  exe_blob_check("at the end");
  checkpoint(2);
  munmap(MAP_ADDR);
  close(fd);
  msg("end");
  return 0;
}
