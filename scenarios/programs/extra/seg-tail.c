/* seg-tail: the data segment ends in the middle of a page. That page must
 * hold the file's bytes up to the segment's file size and zeros after it
 * (where .bss starts); a loader that reads a whole page from the file puts
 * the bytes that follow .data in the ELF file there instead (symbol table,
 * debug sections).
 *   seg-tail read    the first access to the page is a read
 *   seg-tail write   the first access is a write of the last byte of
 *                    seg_data: the file part must be loaded on a write
 *                    fault too
 * Layout: seg_data is page-aligned and PGSIZE + 100 bytes long, so .data
 * ends about 100 bytes into its second page (the userlib's 8-byte
 * random_state follows it; nothing here changes it). This program's .bss
 * holds only seg_bss, which is page-aligned, so .bss starts on the next
 * page and the rest of the tail page is padding that nothing writes. The
 * program does not include vmtest.h (no vmcheck_probe in .bss).
 * Checkpoint 1: before the first access; the tail page (seg_data +
 *   PGSIZE) and seg_bss are lazy.
 * Checkpoint 2: after the access; the tail page is present and equals the
 *   ELF image (file bytes, then zeros): bytes 128..4095 of it are zero;
 *   with `write`, byte 99 reads '!'. seg_bss is still lazy. */
#include "vmuser.h"

#define DATA_LEN (PGSIZE + 100)
#define ZERO_FROM 128 /* offset in the tail page from which all is zero */

char seg_data[DATA_LEN] __attribute__((aligned(PGSIZE))) = {
    [0 ... PGSIZE - 1] = 'd', [PGSIZE ... DATA_LEN - 1] = 't'};
char seg_bss[2 * PGSIZE] __attribute__((aligned(PGSIZE)));

/* Fails unless the tail page holds 't' up to DATA_LEN (except byte
 * WRITTEN, if not negative, which must be '!') and zeros from ZERO_FROM. */
static void check_tail(int written) {
  volatile char *tail = seg_data + PGSIZE;
  /* Hide the pointer's origin: bytes past seg_data are read on purpose. */
  __asm__("" : "+r"(tail));
  for (int i = 0; i < DATA_LEN - PGSIZE; i++) {
    char want = i == written ? '!' : 't';
    if (tail[i] != want)
      fail("tail byte %d is 0x%02x, expected '%c'", i, tail[i], want);
  }
  for (int i = ZERO_FROM; i < PGSIZE; i++)
    if (tail[i] != 0)
      fail("tail byte %d (past the segment's file size) is 0x%02x, not 0", i,
           tail[i] & 0xff);
  msg("tail page: data up to the file size, zeros after it");
}

int main(int argc, char **argv) {
  bool write_first = argc > 1 && strcmp(argv[1], "write") == 0;
  msg("begin");
  checkpoint(1);
  if (write_first) {
    seg_data[DATA_LEN - 1] = '!';
    msg("first access to the tail page: a write");
  } else {
    msg("first access to the tail page: a read");
  }
  check_tail(write_first ? DATA_LEN - PGSIZE - 1 : -1);
  checkpoint(2);
  for (int i = 0; i < PGSIZE; i++)
    if (seg_data[i] != 'd')
      fail("data byte %d is 0x%02x, expected 'd'", i, seg_data[i]);
  msg("first data page intact");
  msg("end");
  return 0;
}
