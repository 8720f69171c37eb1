/* mm-remap: after munmap, the same address can hold a mapping of another
 * file, and reads there must see the new file: a kernel that leaves the
 * old PTE (or a stale TLB entry, or the old SPT record) behind shows the
 * old file's bytes instead. sample.txt is mapped at 0x10000000 and read,
 * unmapped, then the 3 pages of small.txt are mapped at the same address
 * and read.
 * Checkpoint 1: sample.txt mapped and read; page 0 present.
 * Checkpoint 2: after munmap; page 0 unmapped.
 * Checkpoint 3: small.txt mapped and read; 3 pages present, equal to
 *   small.txt then zeros. */
#include "../vm/textdata.h"

#include "extra.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  msg("begin");
  int fd = open_or_fail("sample.txt");
  CHECK(mmap(MAP_ADDR, SAMPLE_LEN, 0, fd, 0) == MAP_ADDR,
        "mmap \"sample.txt\"");
  CHECK(memcmp(MAP_ADDR, sample_text, SAMPLE_LEN) == 0,
        "mapping reads sample.txt");
  checkpoint_at(1, (uintptr_t)MAP_ADDR);
  munmap(MAP_ADDR);
  close(fd);
  msg("munmap");
  checkpoint_at(2, (uintptr_t)MAP_ADDR);

  fd = open_or_fail("small.txt");
  CHECK(mmap(MAP_ADDR, SMALL_TXT_SIZE, 0, fd, 0) == MAP_ADDR,
        "mmap \"small.txt\" at the same address");
  CHECK(text_mismatch("small", 0, MAP_ADDR, SMALL_TXT_SIZE) == SMALL_TXT_SIZE,
        "mapping reads small.txt");
  size_t tail = PAGE_ROUND_UP(SMALL_TXT_SIZE) - SMALL_TXT_SIZE;
  CHECK(first_nonzero(MAP_ADDR + SMALL_TXT_SIZE, tail) == tail,
        "zeros after the end of small.txt");
  checkpoint_at(3, (uintptr_t)MAP_ADDR);
  munmap(MAP_ADDR);
  close(fd);
  msg("end");
  return 0;
}
