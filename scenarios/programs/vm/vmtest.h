/* Helpers shared by the vm conformance programs (header only: the scenarios
 * Makefile builds every .c file of this folder as a program of its own).
 * Output follows the userlib's msg()/fail() format: "(NAME) text" lines,
 * "(NAME) FAIL: text" and exit status 1 on a failed check. Every program
 * prints "(NAME) begin" first and "(NAME) end" last when it runs to
 * completion, as Pintos-KAIST's tests do. */
#ifndef VM_VMTEST_H
#define VM_VMTEST_H

#include "vmuser.h"

/* An address that the next checkpoint's expectations call "probe"
 * (MANIFEST.toml): the harness reads this variable at the checkpoint. Used
 * for addresses only known at run time, such as a stack buffer. */
volatile uintptr_t vmcheck_probe;

#define PAGE_ROUND_DOWN(x) ((uintptr_t)(x) & ~(uintptr_t)(PGSIZE - 1))
#define PAGE_ROUND_UP(x) PAGE_ROUND_DOWN((uintptr_t)(x) + PGSIZE - 1)

/* Forks a process named after the first word of CMDLINE; the child execs
 * CMDLINE. Returns the child's pid in the parent. A child whose exec
 * returns prints "(NAME) FAIL: exec ..." and exits 1, so the parent's wait
 * sees a wrong status. */
static inline pid_t spawn(const char *cmdline) {
  char name[32];
  size_t n = 0;
  while (cmdline[n] != '\0' && cmdline[n] != ' ' && n + 1 < sizeof name) {
    name[n] = cmdline[n];
    n++;
  }
  name[n] = '\0';
  pid_t pid = fork(name);
  if (pid == 0) {
    exec(cmdline);
    fail("exec \"%s\" returned", cmdline);
  }
  if (pid == PID_ERROR)
    fail("fork \"%s\" failed", name);
  return pid;
}

/* Opens FILE, or fails with a message naming it. */
static inline int open_or_fail(const char *file) {
  int fd = open(file);
  if (fd < 2)
    fail("open \"%s\" returned %d", file, fd);
  return fd;
}

/* Checks through read() that file NAME holds exactly the SIZE bytes at
 * EXPECTED; prints "verified \"NAME\" (SIZE bytes)" or fails naming the
 * first differing offset. */
static inline void verify_file(const char *name, const void *expected,
                               size_t size) {
  const uint8_t *want = expected;
  int fd = open_or_fail(name);
  int len = filesize(fd);
  if (len != (int)size)
    fail("\"%s\" has %d bytes, expected %zu", name, len, size);
  size_t ofs = 0;
  while (ofs < size) {
    uint8_t block[512];
    size_t chunk = size - ofs < sizeof block ? size - ofs : sizeof block;
    int got = read(fd, block, (unsigned)chunk);
    if (got != (int)chunk)
      fail("read of %zu bytes at offset %zu of \"%s\" returned %d", chunk, ofs,
           name, got);
    for (size_t i = 0; i < chunk; i++)
      if (block[i] != want[ofs + i])
        fail("byte %zu of \"%s\" is 0x%02x, expected 0x%02x", ofs + i, name,
             block[i], want[ofs + i]);
    ofs += chunk;
  }
  close(fd);
  msg("verified \"%s\" (%zu bytes)", name, size);
}

/* True if the page holding VA has a frame now (Pintos-KAIST's
 * get_phys_addr inspection interrupt). */
static inline bool page_loaded(const void *va) {
  return get_phys_addr(va) != 0;
}

/* Returns the index of the first nonzero byte of the N bytes at MEM, or N. */
static inline size_t first_nonzero(const char *mem, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (mem[i] != 0)
      return i;
  return n;
}

#endif
