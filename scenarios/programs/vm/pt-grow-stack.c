/* pt-grow-stack: a 4 KiB object on the stack makes the stack grow by a
 * page; the program fills it (memset, then RC4 with key "foobar") and
 * prints its POSIX cksum.
 * Pintos-KAIST: tests/vm/pt-grow-stack. Expected output in MANIFEST.toml.
 * Step for step as there.
 * Checkpoint 1: the object is filled; every page from it up to USER_STACK
 * is present and writable. */
#include "checksum.h"
#include "vmtest.h"

int main(void) {
  char object[PGSIZE];
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
