/* swap-iter: every kind of page under pressure on a 10 MB machine: the
 * first byte of each page of 20 MiB of .bss is written, then a read-only
 * mapping of large.txt is compared with 2 MiB of initialized data inside
 * the program (exeblob.h), the .bss bytes are read back, and the mapping
 * is compared with the program data once more, so each kind is evicted
 * and brought back.
 * Pintos-KAIST: tests/vm/swap-iter (10 MB RAM, 50 MB swap disk; needs
 * large.txt), step for step: page I of the buffer gets (char) I
 * (swapstamp.h), and each comparison walks mapped page P and program data
 * page P together, as a memcmp of the mapping against Pintos-KAIST's
 * compiled-in copy of large.txt does. The mapping is as long as that copy
 * (the file's size plus one byte).
 * Checkpoint 1: after writing; all 5120 pages of swap_iter_buf valid, at
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
#define MAP_LEN (LARGE_TXT_SIZE + 1)

char swap_iter_buf[SWAP_BUF_SIZE] __attribute__((aligned(PGSIZE)));

/* Walks the mapping and the program data together, page by page; fails
 * unless the mapping reads large.txt and the data holds its pattern. */
static void compare_mapping(const char *when) {
  for (size_t ofs = 0; ofs < LARGE_TXT_SIZE; ofs += PGSIZE) {
    size_t n = LARGE_TXT_SIZE - ofs < PGSIZE ? LARGE_TXT_SIZE - ofs : PGSIZE;
    size_t bad = text_mismatch("large", ofs, MAP_ADDR + ofs, n);
    if (bad != n)
      fail("mapped byte 0x%zx differs from large.txt %s", ofs + bad, when);
    if (!exe_blob_page_ok(ofs / PGSIZE))
      fail("program data page %zu does not hold its bytes %s", ofs / PGSIZE,
           when);
  }
  msg("mapping reads large.txt %s", when);
}

int main(void) {
  void *map;
  int fd;

  msg("begin");
  write_sparse(swap_iter_buf, SWAP_BUF_PAGES, 512);
  checkpoint(1);
  CHECK((fd = open("large.txt")) > 1, "open \"large.txt\"");
  CHECK((map = mmap(MAP_ADDR, MAP_LEN, 0, fd, 0)) != MAP_FAILED,
        "mmap \"large.txt\"");
  compare_mapping("on first touch");
  check_sparse(swap_iter_buf, SWAP_BUF_PAGES, 512);
  compare_mapping("again");
  checkpoint(2);
  munmap(map);
  close(fd);
  msg("end");
  return 0;
}
