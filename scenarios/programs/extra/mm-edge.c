/* mm-edge N: a file whose length ends N - 4096 bytes from a page boundary
 * (N = 4095, 4096 or 4097), mapped writable: the scenario's boundary
 * cases on both sides of a page. The program creates "edge.bin" with N
 * bytes 'E', maps N bytes of it at 0x10000000 (1 page for N <= 4096, 2
 * for 4097), and checks that every byte of the file reads 'E' and every
 * byte after it, up to the end of the last page, reads 0. It writes 'W'
 * over the file's last byte and '#' over every byte after it, unmaps, and
 * checks with read() that the file still has N bytes, the last one 'W'
 * (the write inside the file is written back, those after it are not and
 * the file does not grow).
 * Checkpoint 1: after reading through the mapping; the pages present and
 *   clean, the tail after the file zeros, the last file byte 'E'.
 * Checkpoint 2: after the writes; the last page dirty.
 * Checkpoint 3: after munmap; unmapped. */
#include "extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define FILE_NAME "edge.bin"

/* Fails unless the mapping holds LEN bytes 'E' then zeros to the end of
 * its last page. */
static void check_mapping(size_t len) {
  size_t end = PAGE_ROUND_UP(len);
  for (size_t i = 0; i < end; i++) {
    char want = i < len ? 'E' : 0;
    if (MAP_ADDR[i] != want)
      fail("mapped byte %zu is 0x%02x, expected 0x%02x (%s)", i,
           (unsigned char)MAP_ADDR[i], (unsigned char)want,
           i < len ? "a byte of the file" : "past the end of the file: zero");
  }
  msg("the %zu file bytes read 'E', the %zu after them read 0", len,
      end - len);
}

int main(int argc, char **argv) {
  size_t len = argc > 1 ? (size_t)atoi(argv[1]) : PGSIZE;
  msg("begin");
  create_filled(FILE_NAME, len, 'E');
  int fd = open_or_fail(FILE_NAME);
  if (mmap(MAP_ADDR, len, 1, fd, 0) != MAP_ADDR)
    fail("mmap of %zu bytes failed", len);
  check_mapping(len);
  checkpoint_at(1, (uintptr_t)MAP_ADDR);
  MAP_ADDR[len - 1] = 'W';
  memset(MAP_ADDR + len, '#', PAGE_ROUND_UP(len) - len);
  checkpoint_at(2, (uintptr_t)MAP_ADDR);
  munmap(MAP_ADDR);
  checkpoint_at(3, (uintptr_t)MAP_ADDR);
  int size = filesize(fd);
  char last = 0;
  seek(fd, (unsigned)(len - 1));
  if (read(fd, &last, 1) != 1 || last != 'W')
    fail("after munmap the file's last byte is 0x%02x, expected 'W'",
         (unsigned char)last);
  CHECK(size == (int)len, "after munmap the file has %d bytes", size);
  close(fd);
  msg("end");
  return 0;
}
