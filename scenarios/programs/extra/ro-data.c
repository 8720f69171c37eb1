/* ro-data: read-only data (a const array in .rodata, which user.ld puts
 * in the read-only text segment) must be mapped without the hardware W
 * bit, and a write to it must kill the process, whether the page is
 * loaded already or not, and whether the CPU or the kernel (inside a
 * system call) does the write. ro_table is two page-aligned pages: page 0
 * holds 'R' bytes, page 1 'O' bytes.
 *   ro-data read    read both pages; exits 0
 *   ro-data write   read page 0, then store into it: exit(-1)
 *   ro-data wlazy   store into page 1, never loaded: exit(-1) (a kernel
 *                   that loads the page and maps it read-only, then faults
 *                   again forever, hangs instead)
 *   ro-data sysread read() from sample.txt into page 1 (not loaded):
 *                   exit(-1); page 1 keeps its bytes
 * Checkpoint 1: after reading page 0; page 0 present, not writable (PTE
 *   and SPT), equal to the ELF image; page 1 lazy.
 * Checkpoint 2 (read only): after reading page 1; both pages present, not
 *   writable, equal to the ELF image. */
#include "extra.h"

const char ro_table[2 * PGSIZE] __attribute__((aligned(PGSIZE))) = {
    [0 ... PGSIZE - 1] = 'R', [PGSIZE ... 2 * PGSIZE - 1] = 'O'};

/* Fails unless page PAGE of ro_table holds its bytes. */
static void check_table_page(int page) {
  const volatile char *p = ro_table + page * PGSIZE;
  char want = page == 0 ? 'R' : 'O';
  for (int i = 0; i < PGSIZE; i++)
    if (p[i] != want)
      fail("ro_table byte 0x%x is 0x%02x, expected '%c'", page * PGSIZE + i,
           p[i] & 0xff, want);
  msg("page %d of the read-only table holds its bytes", page);
}

/* Writes to ro_table + OFS through a pointer the compiler cannot see is
 * const; must not return. */
static void store_into_table(size_t ofs) {
  volatile char *p = (volatile char *)(uintptr_t)ro_table;
  __asm__("" : "+r"(p));
  p[ofs] = 'W';
  fail("store into the read-only table returned (byte is now '%c')", p[ofs]);
}

/* read() from sample.txt into page 1 of the table; must not return. */
static void sysread_into_table(void) {
  int fd = open_or_fail("sample.txt");
  msg("read() into the read-only table");
  int n = read(fd, (void *)(uintptr_t)(ro_table + PGSIZE), 64);
  fail("read() into the read-only table returned %d", n);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "read";
  msg("begin");
  check_table_page(0);
  checkpoint_at(1, (uintptr_t)ro_table);
  if (strcmp(mode, "write") == 0) {
    msg("store into page 0 of the read-only table");
    store_into_table(8);
  } else if (strcmp(mode, "wlazy") == 0) {
    msg("store into page 1 of the read-only table (not loaded)");
    store_into_table(PGSIZE + 8);
  } else if (strcmp(mode, "sysread") == 0) {
    sysread_into_table();
  }
  check_table_page(1);
  checkpoint_at(2, (uintptr_t)ro_table);
  msg("end");
  return 0;
}
