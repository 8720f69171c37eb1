/* page-linear: walks linearly over a 5 MiB .bss array several times:
 * fills it with 0x5a, checks it, scrambles it with RC4 (key "foobar"),
 * unscrambles it with the same keystream and checks it again. With 20 MB
 * of RAM shared with the kernel this may push pages to swap and back.
 * Pintos-KAIST: tests/vm/page-linear (same 5 MiB size as its code).
 * Step for step as there.
 * Checkpoint 1: after the fill; every page of linear_buf is valid and
 *   writable.
 * Checkpoint 2: after the last check; same. */
#include "checksum.h"
#include "vmtest.h"

#define LINEAR_SIZE (5 * 1024 * 1024)

char linear_buf[LINEAR_SIZE] __attribute__((aligned(PGSIZE)));

/* Fails unless every byte of linear_buf is 0x5a. */
static void check_all_5a(void) {
  msg("read pass");
  for (size_t i = 0; i < LINEAR_SIZE; i++)
    if (linear_buf[i] != 0x5a)
      fail("byte %zu is 0x%02x, expected 0x5a", i,
           (unsigned char)linear_buf[i]);
}

int main(void) {
  struct rc4 rc4;

  msg("begin");
  msg("initialize");
  memset(linear_buf, 0x5a, sizeof linear_buf);
  checkpoint(1);
  check_all_5a();

  msg("read/modify/write pass one");
  rc4_init(&rc4, "foobar", 6);
  rc4_crypt(&rc4, linear_buf, LINEAR_SIZE);
  msg("read/modify/write pass two");
  rc4_init(&rc4, "foobar", 6);
  rc4_crypt(&rc4, linear_buf, LINEAR_SIZE);
  check_all_5a();
  checkpoint(2);
  msg("end");
  return 0;
}
