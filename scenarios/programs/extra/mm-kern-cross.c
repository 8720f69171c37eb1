/* mm-kern-cross: a mapping that starts in user space and runs into the
 * kernel must fail: sample.txt mapped from one page below KERN_BASE over
 * 2 pages, so its second page would be KERN_BASE. (Pintos-KAIST's
 * mmap-kernel only tries ranges that start at KERN_BASE or wrap around the
 * top of the address space; this range is short and does not wrap, so a
 * kernel that checks only the start address, or only for overflow,
 * accepts it.) A refused mmap leaves nothing behind, not even the user
 * page below KERN_BASE.
 * Checkpoint 1: after the call; KERN_BASE - 0x1000 is unmapped (no PTE,
 *   no SPT entry). */
#include "extra.h"

int main(void) {
  msg("begin");
  int fd = open_or_fail("sample.txt");
  CHECK(mmap((void *)(KERN_BASE - PGSIZE), 2 * PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap from KERN_BASE - 0x1000 over 2 pages fails");
  checkpoint_at(1, KERN_BASE - PGSIZE);
  msg("end");
  return 0;
}
