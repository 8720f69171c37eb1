/* fsround: a round trip through the file system calls.
 *  - creates "data.bin" (10000 bytes, must read back as zeros), writes a
 *    pattern at offsets that start and end on and off sector and page
 *    boundaries, checks tell() after each write, a write running past the
 *    end (Pintos's base file system never grows a file: it returns the
 *    bytes up to the end; one that grows files, as Pintos-KAIST's project 4
 *    (EFILESYS) does, writes them all: either, so long as the size and
 *    the bytes agree with what write() returned), reads the whole file
 *    back through two independent descriptors, and reads at and past the
 *    end (0 bytes);
 *  - creates "keep.txt" containing exactly KEEP_TEXT (below) and leaves it
 *    on the disk for the host to read back from the image after the run;
 *  - creates and removes "gone.tmp": open and a second remove then fail;
 *  - open of "" and of a missing file fail; create of an existing name
 *    fails.
 * Expected: "(fsround) begin" ... "(fsround) end", exit status 0; any
 * mismatch prints "(fsround) FAIL: ..." and exits 1. */
#include "vmuser.h"

#define DATA_SIZE 10000
#define KEEP_TEXT "vmcheck fsround: this file was written by a user program.\n"

static const struct { unsigned offset, length; } regions[] = {
    {0, 100}, {500, 24}, {1020, 9}, {4090, 12}, {4100, 3000}, {9900, 100},
};

#define TAIL "0123456789ABCDEF"   /* written 10 bytes before the end */
#define TAIL_LEN 16

static unsigned char file_buf[DATA_SIZE + TAIL_LEN];
static unsigned char expect_buf[DATA_SIZE + TAIL_LEN];
static unsigned file_size = DATA_SIZE;   /* after the write across the end */

static unsigned char pattern(unsigned i) {
  return (unsigned char)(i * 131u + (i >> 8) + 1u);
}

static int open_checked(const char *name) {
  int fd = open(name);
  if (fd < 2)
    fail("open(\"%s\") = %d, expected a descriptor >= 2", name, fd);
  return fd;
}

/* Writes the pattern into every region, mirroring it in expect_buf. */
static void write_regions(int fd) {
  for (size_t r = 0; r < sizeof regions / sizeof regions[0]; r++) {
    unsigned off = regions[r].offset, len = regions[r].length;
    for (unsigned i = off; i < off + len; i++)
      expect_buf[i] = pattern(i);
    seek(fd, off);
    int n = write(fd, expect_buf + off, len);
    if (n != (int)len)
      fail("write of %u bytes at %u returned %d", len, off, n);
    if (tell(fd) != off + len)
      fail("tell after writing [%u, %u) = %u", off, off + len, tell(fd));
  }
  msg("wrote %zu regions", sizeof regions / sizeof regions[0]);
}

/* Reads the whole file through FD in uneven chunks; compares. */
static void read_back(int fd, const char *what) {
  seek(fd, 0);
  unsigned pos = 0;
  while (pos < file_size) {
    unsigned chunk = file_size - pos < 777 ? file_size - pos : 777;
    int n = read(fd, file_buf + pos, chunk);
    if (n != (int)chunk)
      fail("%s: read of %u bytes at %u returned %d", what, chunk, pos, n);
    pos += chunk;
  }
  for (unsigned i = 0; i < file_size; i++)
    if (file_buf[i] != expect_buf[i])
      fail("%s: byte %u is 0x%02x, expected 0x%02x", what, i, file_buf[i],
           expect_buf[i]);
  msg("%s: all %u bytes match", what, file_size);
}

static void check_data_file(void) {
  CHECK(create("data.bin", DATA_SIZE), "create data.bin");
  CHECK(!create("data.bin", 5), "create of an existing name fails");
  int fd = open_checked("data.bin");
  CHECK(filesize(fd) == DATA_SIZE, "filesize = %d", filesize(fd));
  read_back(fd, "fresh file (zeros)");
  write_regions(fd);
  seek(fd, DATA_SIZE - 10);
  int n = write(fd, TAIL, TAIL_LEN);
  CHECK(n == 10 || n == TAIL_LEN,
        "write across the end wrote %d bytes (10, or %d where files grow)", n,
        TAIL_LEN);
  memcpy(expect_buf + DATA_SIZE - 10, TAIL, (size_t)n);
  file_size = DATA_SIZE - 10 + (unsigned)n;
  CHECK(filesize(fd) == (int)file_size, "file size %d after it (%u)",
        filesize(fd), file_size);
  int fd2 = open_checked("data.bin");
  CHECK(fd2 != fd, "second open gives a new descriptor (%d, %d)", fd, fd2);
  CHECK(tell(fd2) == 0, "new descriptor starts at 0 (%u)", tell(fd2));
  read_back(fd2, "second descriptor");
  read_back(fd, "first descriptor");
  CHECK(read(fd, file_buf, 10) == 0, "read at the end returns 0");
  seek(fd, 20000);
  CHECK(tell(fd) == 20000, "tell after seek past the end = %u", tell(fd));
  CHECK(read(fd, file_buf, 10) == 0, "read past the end returns 0");
  close(fd2);
  close(fd);
}

static void check_keep_file(void) {
  unsigned len = sizeof KEEP_TEXT - 1;
  CHECK(create("keep.txt", len), "create keep.txt (%u bytes)", len);
  int fd = open_checked("keep.txt");
  CHECK(write(fd, KEEP_TEXT, len) == (int)len, "write keep.txt");
  close(fd);
  fd = open_checked("keep.txt");
  char buf[sizeof KEEP_TEXT] = {0};
  CHECK(read(fd, buf, len) == (int)len && memcmp(buf, KEEP_TEXT, len) == 0,
        "keep.txt reads back");
  close(fd);
}

static void check_remove(void) {
  CHECK(create("gone.tmp", 100), "create gone.tmp");
  CHECK(remove("gone.tmp"), "remove gone.tmp");
  int fd = open("gone.tmp");
  CHECK(fd == -1, "open of the removed file = %d", fd);
  CHECK(!remove("gone.tmp"), "second remove fails");
  CHECK(open("") == -1, "open(\"\") fails");
  CHECK(open("missing.bin") == -1, "open of a missing file fails");
}

int main(void) {
  test_name = "fsround";
  msg("begin");
  check_data_file();
  check_keep_file();
  check_remove();
  msg("end");
  return 0;
}
