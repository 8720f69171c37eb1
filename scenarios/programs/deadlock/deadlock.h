/* Helpers shared by the deadlock workloads (header only: the scenarios
 * Makefile builds every .c file of this folder as a program). */
#ifndef DEADLOCK_DEADLOCK_H
#define DEADLOCK_DEADLOCK_H

#include "../extra/extra.h"

/* Reads the first BYTES of large.txt into BUF with one read() (BUF is
 * fresh memory, so the copy faults its pages in) and checks that the data
 * starts as the file does; ROUND names the read in a failure. */
static inline void read_large_into(char *buf, int bytes, int round) {
  int fd = open_or_fail("large.txt");
  int got = read(fd, buf, (unsigned)bytes);
  if (got != bytes)
    fail("round %d: read returned %d, expected %d", round, got, bytes);
  if (memcmp(buf, "large #", 7) != 0)
    fail("round %d: the data read does not start with \"large #\"", round);
  close(fd);
}

#endif
