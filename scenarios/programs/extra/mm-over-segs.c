/* mm-over-segs: mmap over the program's own data must fail, whatever the
 * state of the page: a page of initialized .data that was read (present)
 * and a page-aligned .bss page that was never touched (lazy, with no
 * frame). Both keep their contents. (Pintos-KAIST's mmap-over-data only
 * tries the page of one .bss byte, which shares its page with other
 * variables that are already in use.)
 * Checkpoint 1: after both refused calls; seg_data's page is present and
 *   writable, seg_bss's page is still lazy and writable in the SPT. */
#include "extra.h"

char seg_data[PGSIZE] __attribute__((aligned(PGSIZE))) = {
    [0 ... PGSIZE - 1] = 'S'};
char seg_bss[PGSIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  int fd = open_or_fail("sample.txt");
  CHECK(seg_data[0] == 'S', "the .data page holds its bytes");
  CHECK(mmap(seg_data, PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap over a page of .data fails");
  CHECK(mmap(seg_bss, PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap over a never-touched .bss page fails");
  checkpoint_at(1, (uintptr_t)seg_data);
  for (size_t i = 0; i < PGSIZE; i++)
    if (seg_data[i] != 'S' || seg_bss[i] != 0)
      fail("byte %zu of the .data or .bss page changed", i);
  msg("both pages keep their contents");
  msg("end");
  return 0;
}
