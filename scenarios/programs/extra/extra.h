/* Helpers shared by the extra conformance programs (header only: the
 * scenarios Makefile builds every .c file of this folder as a program).
 * These programs test what Pintos-KAIST's tests/vm does not (issue 5):
 * segment tails, read-only data, stack growth in system calls and at the
 * 1 MB limit, mmap tails and aliases, eviction of each page type, swap
 * slot reuse, fork of swapped and lazy pages, copy-on-write.
 *
 * Page stamps here are ASCII text, so a scenario can check a page's
 * contents with `source = "text"`: page I of a buffer tagged TAG holds
 * "TAG-NNNN" (NNNN = I in 4 decimal digits) and a NUL in its first bytes
 * and again in its last STAMP_LEN bytes, so a page that comes back only
 * partly (one sector of eight) is caught too. */
#ifndef EXTRA_EXTRA_H
#define EXTRA_EXTRA_H

#include "../vm/vmtest.h"

#define STAMP_LEN 16

/* Writes the stamp of page I for TAG (at most 10 characters) into OUT. */
static inline void stamp_format(char out[STAMP_LEN], const char *tag,
                                size_t i) {
  memset(out, 0, STAMP_LEN);
  snprintf(out, STAMP_LEN, "%s-%04zu", tag, i);
}

/* Stamps page PAGE (page I of a buffer tagged TAG) at both ends. */
static inline void stamp_page(char *page, const char *tag, size_t i) {
  char stamp[STAMP_LEN];
  stamp_format(stamp, tag, i);
  memcpy(page, stamp, STAMP_LEN);
  memcpy(page + PGSIZE - STAMP_LEN, stamp, STAMP_LEN);
}

/* True if PAGE holds the stamp of page I for TAG at both ends. */
static inline bool page_has_stamp(const char *page, const char *tag,
                                  size_t i) {
  char stamp[STAMP_LEN];
  stamp_format(stamp, tag, i);
  return memcmp(page, stamp, STAMP_LEN) == 0 &&
         memcmp(page + PGSIZE - STAMP_LEN, stamp, STAMP_LEN) == 0;
}

/* Stamps the PAGES pages at BUF for TAG, in order. */
static inline void stamp_pages_text(char *buf, size_t pages, const char *tag) {
  for (size_t i = 0; i < pages; i++)
    stamp_page(buf + i * PGSIZE, tag, i);
}

/* Maps the first PAGES pages of FILE writable at ADDR and stamps every
 * page for TAG (stamp_pages_text), failing if the mapping is refused;
 * returns the file's descriptor, still open. */
static inline int map_and_stamp(char *addr, size_t pages, const char *file,
                                const char *tag) {
  int fd = open_or_fail(file);
  CHECK(mmap(addr, pages * PGSIZE, 1, fd, 0) == addr,
        "mmap %zu pages of \"%s\" writable", pages, file);
  stamp_pages_text(addr, pages, tag);
  msg("stamped %zu mapped pages", pages);
  return fd;
}

/* Fails, naming the page and WHEN, unless every one of the PAGES pages at
 * BUF holds its stamp for TAG; reads them in order. */
static inline void check_stamps_text(const char *buf, size_t pages,
                                     const char *tag, const char *when) {
  for (size_t i = 0; i < pages; i++)
    if (!page_has_stamp(buf + i * PGSIZE, tag, i))
      fail("page %zu does not hold stamp \"%s-%04zu\" %s (it starts \"%.15s\")",
           i, tag, i, when, buf + i * PGSIZE);
}

/* Stops at checkpoint ID with vmcheck_probe = PROBE. Every extra program
 * stops through this: storing the probe right before the stop makes its
 * page present, so the harness can read it even under memory pressure. */
static inline void checkpoint_at(int id, uintptr_t probe) {
  vmcheck_probe = probe;
  checkpoint(id);
}

/* The stack pointer of the caller (approximately: this inlines). */
static inline uintptr_t current_rsp(void) {
  uintptr_t rsp;
  __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
  return rsp;
}

/* Creates FILE with SIZE bytes, all FILL, or fails. */
static inline void create_filled(const char *file, size_t size, char fill) {
  char block[512];
  memset(block, fill, sizeof block);
  if (!create(file, (unsigned)size))
    fail("create \"%s\" (%zu bytes) failed", file, size);
  int fd = open_or_fail(file);
  for (size_t done = 0; done < size; done += sizeof block) {
    unsigned n = (unsigned)(size - done < sizeof block ? size - done
                                                       : sizeof block);
    if (write(fd, block, n) != (int)n)
      fail("write to \"%s\" at offset %zu failed", file, done);
  }
  close(fd);
}

/* Reads N bytes at offset OFS of FILE (through read(), not a mapping)
 * into DST, or fails. */
static inline void read_file_at(const char *file, size_t ofs, void *dst,
                                size_t n) {
  int fd = open_or_fail(file);
  seek(fd, (unsigned)ofs);
  if (read(fd, dst, (unsigned)n) != (int)n)
    fail("read of %zu bytes at offset %zu of \"%s\" failed", n, ofs, file);
  close(fd);
}

#define FLAG_SHORT_POLLS 2000
#define FLAG_SHORT_SPIN 100000    /* ~0.5M instructions between two reads */
#define FLAG_LONG_POLLS 300
#define FLAG_LONG_SPIN 20000000   /* ~100M instructions: past a time slice */

/* Waits until the one-byte file FLAG holds byte C (another process's
 * signal). Spins between polls, so that the timer mostly preempts the
 * waiter outside the file system: a process that polled without pause
 * could hold the file system's lock at nearly every tick and starve the
 * others. First FLAG_SHORT_POLLS polls ~0.5M instructions apart (what
 * every kernel so far needed; the interleavings the scenarios were
 * written for). Then polls that outlast a time slice (Pintos: 4 ticks of
 * 10 ms, ~40M instructions under -icount shift=0): a thread's slice
 * starts again each time it blocks, and each read() here waits for the
 * disk, so with short polls only the waiter could take the file-system
 * lock again before its slice ran out, and a kernel that does not hand a
 * released lock to its waiter would starve the signalling process (as
 * dl-evict's first version did on 2wheeh and qkrwns1478). */
static inline void wait_for_flag(const char *flag, char c) {
  int fd = open_or_fail(flag);
  for (int polls = 0; polls < FLAG_SHORT_POLLS + FLAG_LONG_POLLS; polls++) {
    char got = 0;
    seek(fd, 0);
    if (read(fd, &got, 1) == 1 && got == c) {
      close(fd);
      return;
    }
    int spin_cnt = polls < FLAG_SHORT_POLLS ? FLAG_SHORT_SPIN : FLAG_LONG_SPIN;
    for (volatile int spin = 0; spin < spin_cnt; spin++)
      continue;
  }
  fail("no signal '%c' in \"%s\" after %d polls", c, flag,
       FLAG_SHORT_POLLS + FLAG_LONG_POLLS);
}

/* Writes byte C into the one-byte file FLAG (a signal to wait_for_flag). */
static inline void set_flag(const char *flag, char c) {
  int fd = open_or_fail(flag);
  if (write(fd, &c, 1) != 1)
    fail("write to \"%s\" failed", flag);
  close(fd);
}

#endif
