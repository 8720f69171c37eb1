/* mmap-shuffle: page-shuffle over a writable 128 KiB file mapping: creates
 * "buffer", maps it at 0x10000000, fills it with byte I = I mod 256 and
 * shuffles it ten times, printing the POSIX cksum each time (the same
 * values as page-shuffle). Exits without munmap: afterwards "buffer" on
 * the disk holds the final shuffled bytes (its cksum is the last one
 * printed).
 * Pintos-KAIST: tests/vm/mmap-shuffle.
 * Checkpoint 1: after the last shuffle; the 32 pages at 0x10000000 are
 *   valid and writable. */
#include "checksum.h"
#include "vmtest.h"

#define MAP_ADDR ((uint8_t *)0x10000000)
#define SHUFFLE_SIZE (128 * 1024)

int main(void) {
  msg("begin");
  random_init(0);
  CHECK(create("buffer", SHUFFLE_SIZE), "create \"buffer\"");
  int fd = open("buffer");
  CHECK(fd > 1, "open \"buffer\"");
  CHECK(mmap(MAP_ADDR, SHUFFLE_SIZE, 1, fd, 0) == MAP_ADDR, "mmap \"buffer\"");
  for (size_t i = 0; i < SHUFFLE_SIZE; i++)
    MAP_ADDR[i] = (uint8_t)i;
  msg("init: cksum=%u", cksum(MAP_ADDR, SHUFFLE_SIZE));
  for (int round = 0; round < 10; round++) {
    shuffle_bytes(MAP_ADDR, SHUFFLE_SIZE);
    msg("shuffle %d: cksum=%u", round, cksum(MAP_ADDR, SHUFFLE_SIZE));
  }
  checkpoint(1);
  msg("end");
  return 0;
}
