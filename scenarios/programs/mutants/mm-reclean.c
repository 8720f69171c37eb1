/* mm-reclean: a mapped page that eviction wrote back is clean again once
 * it is read in from its file, so munmap must not write it back unless
 * the program writes it again. The scenario caps the user pool at 24
 * frames; the program maps 64 pages of large.txt writable at MAP_ADDR and
 * stamps every page ("dirty-NNNN", as evict-dirty), so page 0 is evicted,
 * written to the file, while dirty. It reads page 0 through the mapping
 * (read in again, clean), then overwrites the file's first 16 bytes with
 * write() ("write-0000") and unmaps. Pintos keeps no mapped page coherent
 * with write(), and writes back only pages written since they were read
 * in, so large.txt must keep the write()'s bytes; a kernel that still
 * counts page 0 dirty after its write-back puts "dirty-0000" back over
 * them. (Generated mutant file_page-105: `page->dirty = true` after a
 * write-back on eviction.)
 * Checkpoint 1: after stamping; page 0 not present, a file page not in
 *   swap. */
#include "../extra/extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_PAGES 64

int main(void) {
  char stamp[STAMP_LEN];
  char got[STAMP_LEN];

  msg("begin");
  int fd = map_and_stamp(MAP_ADDR, MAP_PAGES, "large.txt", "dirty");
  checkpoint_at(1, (uintptr_t)MAP_ADDR + PGSIZE * (MAP_PAGES - 1));

  stamp_format(stamp, "write", 0); /* the stack page in use again */
  CHECK(page_has_stamp(MAP_ADDR, "dirty", 0),
        "page 0 of the mapping holds its stamp again");
  seek(fd, 0);
  CHECK(write(fd, stamp, STAMP_LEN) == STAMP_LEN,
        "write() \"write-0000\" over the file's first bytes");
  munmap(MAP_ADDR);
  msg("munmap");
  read_file_at("large.txt", 0, got, STAMP_LEN);
  CHECK(memcmp(got, stamp, STAMP_LEN) == 0,
        "read() after munmap sees the write()'s bytes (page 0 was clean)");
  read_file_at("large.txt", PGSIZE, got, STAMP_LEN);
  stamp_format(stamp, "dirty", 1);
  CHECK(memcmp(got, stamp, STAMP_LEN) == 0,
        "read() after munmap sees page 1's stamp");
  msg("end");
  return 0;
}
