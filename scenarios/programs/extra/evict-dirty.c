/* evict-dirty: a dirty page of a file mapping that is evicted is written
 * back to its file at its own offset (not to swap), and read from the
 * file again when touched. The scenario caps the user pool at 24 frames;
 * the program maps 64 pages of large.txt writable at 0x10000000 and
 * stamps every page ("dirty-NNNN" and NULs, 16 bytes at both ends of page
 * NNNN), so most pages are evicted while dirty. While the mapping still
 * exists, read() of the file must already show page 0's stamp (only
 * eviction can have written it). The program then reads page 0 through
 * the mapping again and exits without munmap (exit writes back the rest).
 * Afterwards large.txt holds the stamps of pages 0..63 and its original
 * bytes everywhere else (size unchanged).
 * Checkpoint 1: after stamping; page 0 not present but valid, a file page
 *   not in swap; the last page present and dirty.
 * Checkpoint 2: after reading page 0 again; it is present, clean, and
 *   starts with "dirty-0000". */
#include "../vm/textdata.h"

#include "extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_PAGES 64

int main(void) {
  char stamp[STAMP_LEN];
  char got[STAMP_LEN];

  msg("begin");
  map_and_stamp(MAP_ADDR, MAP_PAGES, "large.txt", "dirty");
  checkpoint_at(1, (uintptr_t)MAP_ADDR);

  stamp_format(stamp, "dirty", 0);
  read_file_at("large.txt", 0, got, STAMP_LEN);
  CHECK(memcmp(got, stamp, STAMP_LEN) == 0,
        "read() sees page 0's stamp before munmap (written back on eviction)");
  CHECK(page_has_stamp(MAP_ADDR, "dirty", 0),
        "page 0 of the mapping holds its stamp again");
  size_t bad = text_mismatch("large", STAMP_LEN, MAP_ADDR + STAMP_LEN,
                             PGSIZE - 2 * STAMP_LEN);
  CHECK(bad == PGSIZE - 2 * STAMP_LEN,
        "the rest of page 0 still reads large.txt");
  checkpoint_at(2, (uintptr_t)MAP_ADDR);
  check_stamps_text(MAP_ADDR, MAP_PAGES, "dirty", "at the end");
  msg("every mapped page holds its stamp");
  msg("end");
  return 0; /* without munmap */
}
