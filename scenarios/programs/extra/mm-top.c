/* mm-top: mmap at the highest user page. The last page below the
 * user/kernel line of either kernel family, 0x7ffffff000 (the reference
 * kernel's user space ends at 0x8000000000, Pintos-KAIST's at KERN_BASE,
 * 0x8004000000), is user memory like any other: sample.txt mapped there
 * over one page must work and read the file's bytes (mm-kern-cross and
 * mmap-kernel probe the other side: ranges that run into the kernel).
 * Checkpoint 1: after mmap; the page lazy.
 * Checkpoint 2: after reading it; present, holding sample.txt.
 * Checkpoint 3: after munmap; unmapped. */
#include "extra.h"

#define TOP_PAGE ((char *)0x7ffffff000)

int main(void) {
  msg("begin");
  int fd = open_or_fail("sample.txt");
  if (mmap(TOP_PAGE, PGSIZE, 0, fd, 0) != TOP_PAGE)
    fail("mmap at 0x7ffffff000 (the highest user page) failed: a correct "
         "kernel maps any free user page");
  checkpoint_at(1, (uintptr_t)TOP_PAGE);
  char first[8];
  read_file_at("sample.txt", 0, first, sizeof first);
  if (memcmp(TOP_PAGE, first, sizeof first) != 0)
    fail("the highest user page does not hold sample.txt's first bytes");
  msg("the highest user page holds sample.txt");
  checkpoint_at(2, (uintptr_t)TOP_PAGE);
  munmap(TOP_PAGE);
  checkpoint_at(3, (uintptr_t)TOP_PAGE);
  msg("end");
  return 0;
}
