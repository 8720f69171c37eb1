/* sc-read: read() (the system call) into a page the program has never
 * touched, so the kernel takes the page fault inside the system call, in
 * the middle of file I/O, and must load the page there. The read moves
 * whole, sector-aligned sectors of the file (1024 bytes from offset 0 of
 * large.txt), which Pintos-KAIST's file system copies straight from the
 * disk into the caller's buffer: a kernel that lets that copy fault while
 * it holds a file-system or disk lock, and whose fault handler then
 * reads a file itself, deadlocks or panics. (Pintos-KAIST's tests read()
 * into stack pages that are already present, into new stack pages, or,
 * in child-sort, into .bss pages that need no file I/O to load.)
 * `sc-read WHERE` reads them to offset 512 of:
 *   bss   a page of .bss (rd_bss): the fault gives a zero page;
 *   data  a page of initialized .data (rd_data, all 'D'): the fault has
 *         to read the page from the executable;
 *   mmap  page 0 of small.txt mapped writable at 0x10000000: the fault
 *         has to read the page from small.txt. The page is then modified
 *         (by the kernel, through the mapping), so munmap must write it
 *         back: afterwards small.txt holds large.txt's first 1024 bytes
 *         at offset 512 and is otherwise unchanged.
 * The rest of the page must keep what the fault loaded.
 * Checkpoint 1: before read(); the target page is lazy.
 * Checkpoint 2: after read(); the target page is present and writable,
 *   and holds the loaded bytes with large.txt's first 1024 bytes at 512.
 *   (Its PTE's dirty bit is not checked: a kernel may copy through its
 *   own mapping of the frame and track the change another way.)
 * Checkpoint 3 (mmap only): after munmap; 0x10000000 is unmapped. */
#include "../vm/textdata.h"

#include "extra.h"

#define OFS 512
#define LEN 1024
#define MAP_ADDR ((char *)0x10000000)

char rd_bss[PGSIZE] __attribute__((aligned(PGSIZE)));
char rd_data[PGSIZE] __attribute__((aligned(PGSIZE))) = {
    [0 ... PGSIZE - 1] = 'D'};

/* Fails unless the page at PAGE holds large.txt's first LEN bytes at OFS
 * and, elsewhere, what BYTE_AT says the loaded page held. */
static void check_page(const char *page, char (*byte_at)(size_t)) {
  if (text_mismatch("large", 0, page + OFS, LEN) != LEN)
    fail("the bytes read() stored differ from large.txt");
  for (size_t i = 0; i < PGSIZE; i++)
    if ((i < OFS || i >= OFS + LEN) && page[i] != byte_at(i))
      fail("byte %zu of the page is 0x%02x, expected 0x%02x", i,
           page[i] & 0xff, byte_at(i) & 0xff);
}

static char zero_at(size_t i) {
  (void)i;
  return 0;
}

static char d_at(size_t i) {
  (void)i;
  return 'D';
}

static char small_at(size_t i) {
  char c;
  text_fill("small", i, &c, 1);
  return c;
}

int main(int argc, char **argv) {
  const char *where = argc > 1 ? argv[1] : "";
  char *page;
  char (*byte_at)(size_t);

  msg("begin");
  int src = open_or_fail("large.txt");
  if (strcmp(where, "bss") == 0) {
    page = rd_bss;
    byte_at = zero_at;
  } else if (strcmp(where, "data") == 0) {
    page = rd_data;
    byte_at = d_at;
  } else if (strcmp(where, "mmap") == 0) {
    int fd = open_or_fail("small.txt");
    CHECK(mmap(MAP_ADDR, PGSIZE, 1, fd, 0) == MAP_ADDR,
          "mmap page 0 of \"small.txt\" writable");
    page = MAP_ADDR;
    byte_at = small_at;
  } else {
    fail("usage: sc-read bss|data|mmap");
  }
  checkpoint_at(1, (uintptr_t)page);
  CHECK(read(src, page + OFS, LEN) == LEN,
        "read() %d bytes into the never-touched %s page", LEN, where);
  checkpoint_at(2, (uintptr_t)page);
  check_page(page, byte_at);
  msg("the page holds the bytes read, and what it held before elsewhere");
  if (page == MAP_ADDR) {
    munmap(MAP_ADDR);
    msg("munmap");
    checkpoint_at(3, (uintptr_t)MAP_ADDR);
  }
  msg("end");
  return 0;
}
