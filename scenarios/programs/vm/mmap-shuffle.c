/* mmap-shuffle: page-shuffle over a writable 128 KiB file mapping: creates
 * "buffer", maps it at 0x10000000, fills it with byte I = I mod 256 and
 * shuffles it ten times, printing the POSIX cksum each time (the same
 * values as page-shuffle). Exits without munmap: afterwards "buffer" on
 * the disk holds the final shuffled bytes (its cksum is the last one
 * printed).
 * Pintos-KAIST: tests/vm/mmap-shuffle, step for step (mmap only has to
 * return something other than MAP_FAILED, as there). The shuffle is our
 * own (a Fisher-Yates pass driven by the userlib's generator, as in
 * page-shuffle), so the printed checksums are ours; like Pintos-KAIST's,
 * each round makes 128 Ki random swaps all over the 32 pages.
 * Checkpoint 1: after the last shuffle; the 32 pages at 0x10000000 are
 *   valid and writable. */
#include "checksum.h"
#include "vmtest.h"

#define MAP_ADDR ((uint8_t *)0x10000000)
#define SHUFFLE_SIZE (128 * 1024)

int main(void) {
  int fd;

  msg("begin");
  random_init(0);
  CHECK(create("buffer", SHUFFLE_SIZE), "create \"buffer\"");
  CHECK((fd = open("buffer")) > 1, "open \"buffer\"");
  CHECK(mmap(MAP_ADDR, SHUFFLE_SIZE, 1, fd, 0) != MAP_FAILED,
        "mmap \"buffer\"");
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
