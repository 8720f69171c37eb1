/* mm-alias: one file mapped writable twice, at A = 0x10000000 and
 * B = 0x20000000, through two descriptors. The two mappings are separate
 * (Pintos-KAIST semantics: no coherence between them while both are
 * loaded), but each reads the file when a page is first touched, and
 * munmap writes dirty pages back, so a write through A shows through B
 * if B's page is first touched after A is unmapped.
 * The program creates "alias.dat" (2 pages of 'a'), writes MARK_A at the
 * start of page 0 through A, unmaps A, reads it through B's page 0 (not
 * touched before), writes MARK_B at the start of page 1 through B, unmaps
 * B, and maps the file a third time (read-only, at A) to read both marks.
 * Afterwards alias.dat holds MARK_A at 0 and MARK_B at 4096, 'a' elsewhere.
 * Checkpoint 1: after both mmaps; 2 pages lazy at A and at B.
 * Checkpoint 2: after the write through A; A's page 0 present and dirty,
 *   B's pages lazy.
 * Checkpoint 3: after munmap(A); A's pages unmapped, B's lazy.
 * Checkpoint 4: after reading B's page 0; it is present, clean, and holds
 *   MARK_A.
 * Checkpoint 5: after munmap(B) and the third mmap; B unmapped; A's 2
 *   pages present and hold MARK_A and MARK_B. */
#include "extra.h"

#define MAP_A ((char *)0x10000000)
#define MAP_B ((char *)0x20000000)
#define FILE_SIZE (2 * PGSIZE)
#define MARK_A "written through A"
#define MARK_B "written through B"

/* Fails unless the N bytes at P are FILL. */
static void check_fill(const char *p, size_t n, char fill, const char *what) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != fill)
      fail("%s: byte %zu is 0x%02x, expected '%c'", what, i, p[i] & 0xff, fill);
}

int main(void) {
  msg("begin");
  create_filled("alias.dat", FILE_SIZE, 'a');
  int fd_a = open_or_fail("alias.dat");
  int fd_b = open_or_fail("alias.dat");
  CHECK(mmap(MAP_A, FILE_SIZE, 1, fd_a, 0) == MAP_A, "mmap \"alias.dat\" at A");
  CHECK(mmap(MAP_B, FILE_SIZE, 1, fd_b, 0) == MAP_B, "mmap \"alias.dat\" at B");
  checkpoint_at(1, (uintptr_t)MAP_A);

  memcpy(MAP_A, MARK_A, sizeof MARK_A - 1);
  msg("write through A");
  checkpoint_at(2, (uintptr_t)MAP_A);
  munmap(MAP_A);
  msg("munmap A");
  checkpoint_at(3, (uintptr_t)MAP_A);

  CHECK(memcmp(MAP_B, MARK_A, sizeof MARK_A - 1) == 0,
        "B's page 0, first touched now, shows the write through A");
  check_fill(MAP_B + sizeof MARK_A - 1, PGSIZE - (sizeof MARK_A - 1), 'a',
             "B page 0");
  checkpoint_at(4, (uintptr_t)MAP_B);
  memcpy(MAP_B + PGSIZE, MARK_B, sizeof MARK_B - 1);
  msg("write through B");
  munmap(MAP_B);
  msg("munmap B");

  int fd_c = open_or_fail("alias.dat");
  CHECK(mmap(MAP_A, FILE_SIZE, 0, fd_c, 0) == MAP_A,
        "mmap \"alias.dat\" at A again, read-only");
  CHECK(memcmp(MAP_A, MARK_A, sizeof MARK_A - 1) == 0 &&
            memcmp(MAP_A + PGSIZE, MARK_B, sizeof MARK_B - 1) == 0,
        "the new mapping shows both writes");
  check_fill(MAP_A + PGSIZE + sizeof MARK_B - 1,
             PGSIZE - (sizeof MARK_B - 1), 'a', "page 1");
  checkpoint_at(5, (uintptr_t)MAP_A);
  munmap(MAP_A);
  close(fd_a);
  close(fd_b);
  close(fd_c);
  msg("end");
  return 0;
}
