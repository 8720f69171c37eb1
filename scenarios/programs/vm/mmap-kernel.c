/* mmap-kernel: mappings that reach kernel addresses must fail: at
 * KERN_BASE; at the top page of the address space over 2 pages (the range
 * wraps around to 0x1000); and from one page below KERN_BASE up to the top
 * of the address space (the end wraps to 0).
 * Pintos-KAIST: tests/vm/mmap-kernel (needs sample.txt), step for step:
 * the same three calls. (A range from one page below KERN_BASE over just
 * 2 pages is the extra scenario mm-kern-cross.)
 * Checkpoint 1: after all calls; pages 0x1000 and KERN_BASE - 0x1000 are
 *   unmapped. */
#include "vmtest.h"

#define TOP_PAGE 0xfffffffffffff000UL

int main(void) {
  int fd;

  msg("begin");
  CHECK((fd = open("sample.txt")) > 1, "open \"sample.txt\"");
  CHECK(mmap((void *)KERN_BASE, PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap at KERN_BASE fails");
  CHECK(mmap((void *)TOP_PAGE, 2 * PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap at 0xfffffffffffff000 over 2 pages fails");
  CHECK(mmap((void *)(KERN_BASE - PGSIZE), 0 - (KERN_BASE - PGSIZE), 0, fd,
             0) == MAP_FAILED,
        "mmap from KERN_BASE - 0x1000 to the top of memory fails");
  checkpoint(1);
  msg("end");
  return 0;
}
