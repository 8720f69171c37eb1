/* page-shuffle: shuffles a 128 KiB .bss array ten times (random swaps all
 * over its 32 pages), printing the POSIX cksum of the array first and
 * after each shuffle. The array starts as byte I = I mod 256; the shuffle
 * is the userlib's random_ulong after random_init(0).
 * Pintos-KAIST: tests/vm/page-shuffle, step for step. The shuffle is our
 * own (a Fisher-Yates pass), so the printed checksums are ours; like
 * Pintos-KAIST's, each round makes 128 Ki random swaps all over the 32
 * pages.
 * Checkpoint 1: after the last shuffle; every page of shuffle_buf is valid
 *   and writable. */
#include "checksum.h"
#include "vmtest.h"

#define SHUFFLE_SIZE (128 * 1024)

uint8_t shuffle_buf[SHUFFLE_SIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  random_init(0);
  for (size_t i = 0; i < SHUFFLE_SIZE; i++)
    shuffle_buf[i] = (uint8_t)i;
  msg("init: cksum=%u", cksum(shuffle_buf, SHUFFLE_SIZE));
  for (int round = 0; round < 10; round++) {
    shuffle_bytes(shuffle_buf, SHUFFLE_SIZE);
    msg("shuffle %d: cksum=%u", round, cksum(shuffle_buf, SHUFFLE_SIZE));
  }
  checkpoint(1);
  msg("end");
  return 0;
}
