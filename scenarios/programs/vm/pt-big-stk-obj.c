/* pt-big-stk-obj: a 64 KiB object on the stack (16 pages at once below
 * the stack pointer) must work; the program fills it (memset, then RC4 with
 * key "foobar") and prints its POSIX cksum.
 * Pintos-KAIST: tests/vm/pt-big-stk-obj. Expected output in MANIFEST.toml.
 * Step for step as there.
 * Checkpoint 1: the object is filled; its 16 pages (and every page above
 * it up to USER_STACK) are present and writable. */
#include "checksum.h"
#include "vmtest.h"

#define OBJECT_SIZE (64 * 1024)

int main(void) {
  char object[OBJECT_SIZE];
  struct rc4 rc4;

  msg("begin");
  rc4_init(&rc4, "foobar", 6);
  memset(object, 0, sizeof object);
  rc4_crypt(&rc4, object, sizeof object);
  vmcheck_probe = (uintptr_t)object;
  checkpoint(1);
  msg("cksum: %u", cksum(object, sizeof object));
  msg("end");
  return 0;
}
