/* The parent side of the page-merge programs: fill MERGE_CHUNK_CNT chunks
 * of MERGE_CHUNK_SIZE random bytes, have a child process sort each chunk
 * through a file, merge the sorted chunks and check the result against a
 * histogram of the original data.
 *
 * The including program defines MERGE_CHUNK_SIZE and MERGE_CHUNK_CNT first.
 * merge_src and merge_dst are global so that checkpoint expectations can
 * name them. */
#ifndef VM_MERGE_H
#define VM_MERGE_H

#include "checksum.h"
#include "vmtest.h"

#define MERGE_DATA_SIZE (MERGE_CHUNK_SIZE * MERGE_CHUNK_CNT)

uint8_t merge_src[MERGE_DATA_SIZE] __attribute__((aligned(PGSIZE)));
uint8_t merge_dst[MERGE_DATA_SIZE] __attribute__((aligned(PGSIZE)));
static size_t merge_histogram[256];

/* Fills merge_src with RC4 keystream bytes and counts each value. */
static inline void merge_init(void) {
  struct rc4 rc4;
  msg("init");
  rc4_init(&rc4, "page-merge", 10);
  rc4_crypt(&rc4, merge_src, MERGE_DATA_SIZE);
  for (size_t i = 0; i < MERGE_DATA_SIZE; i++)
    merge_histogram[merge_src[i]]++;
}

/* Writes chunk I of merge_src to FILE, which exists. As in Pintos-KAIST's
 * page-merge tests, write()'s return value is not checked: a short write
 * shows up in the final verify. */
static inline void merge_put_chunk(size_t i, const char *file) {
  int fd = open_or_fail(file);
  write(fd, merge_src + i * MERGE_CHUNK_SIZE, MERGE_CHUNK_SIZE);
  close(fd);
}

/* Reads chunk I of merge_src back from FILE (read()'s return value is not
 * checked either). */
static inline void merge_get_chunk(size_t i, const char *file) {
  int fd = open_or_fail(file);
  read(fd, merge_src + i * MERGE_CHUNK_SIZE, MERGE_CHUNK_SIZE);
  close(fd);
}

/* Sorts the chunks one after another through the single file "buffer"
 * (created once, before the first chunk): CHILD (run as "CHILD buffer")
 * must exit with STATUS. */
static inline void merge_sort_sequential(const char *child, int status) {
  char cmd[64];
  snprintf(cmd, sizeof cmd, "%s buffer", child);
  create("buffer", MERGE_CHUNK_SIZE);
  for (size_t i = 0; i < MERGE_CHUNK_CNT; i++) {
    msg("sort chunk %zu", i);
    merge_put_chunk(i, "buffer");
    pid_t pid = fork(child);
    if (pid == 0) {
      msg("chunk %zu: child runs \"%s\"", i, cmd);
      exec(cmd);
      fail("exec \"%s\" returned", cmd);
    }
    if (pid == PID_ERROR)
      fail("fork \"%s\" failed", child);
    int got = wait(pid);
    if (got != status)
      fail("chunk %zu: child exited with %d, expected %d", i, got, status);
    msg("chunk %zu: child exited with %d", i, got);
    merge_get_chunk(i, "buffer");
  }
}

/* Sorts all chunks at once, chunk I in file "chunkI" (created just before
 * it is written) by a child running "CHILD chunkI"; every child must exit
 * with STATUS. */
static inline void merge_sort_parallel(const char *child, int status) {
  pid_t pids[MERGE_CHUNK_CNT];
  char file[16], cmd[64];
  for (size_t i = 0; i < MERGE_CHUNK_CNT; i++) {
    msg("sort chunk %zu", i);
    snprintf(file, sizeof file, "chunk%zu", i);
    create(file, MERGE_CHUNK_SIZE);
    merge_put_chunk(i, file);
    snprintf(cmd, sizeof cmd, "%s %s", child, file);
    pids[i] = spawn(cmd);
  }
  for (size_t i = 0; i < MERGE_CHUNK_CNT; i++) {
    int got = wait(pids[i]);
    if (got != status)
      fail("child %zu exited with %d, expected %d", i, got, status);
    msg("child %zu exited with %d", i, got);
    snprintf(file, sizeof file, "chunk%zu", i);
    merge_get_chunk(i, file);
  }
}

/* Merges the sorted chunks of merge_src into merge_dst. */
static inline void merge_combine(void) {
  size_t pos[MERGE_CHUNK_CNT];
  msg("merge");
  for (size_t c = 0; c < MERGE_CHUNK_CNT; c++)
    pos[c] = 0;
  for (size_t out = 0; out < MERGE_DATA_SIZE; out++) {
    size_t best = MERGE_CHUNK_CNT;
    for (size_t c = 0; c < MERGE_CHUNK_CNT; c++) {
      if (pos[c] == MERGE_CHUNK_SIZE)
        continue;
      if (best == MERGE_CHUNK_CNT ||
          merge_src[c * MERGE_CHUNK_SIZE + pos[c]] <
              merge_src[best * MERGE_CHUNK_SIZE + pos[best]])
        best = c;
    }
    merge_dst[out] = merge_src[best * MERGE_CHUNK_SIZE + pos[best]++];
  }
}

/* Checks that merge_dst is the sorted original data: the histogram's
 * values in order. */
static inline void merge_verify(void) {
  msg("verify");
  size_t at = 0;
  for (int v = 0; v < 256; v++)
    for (size_t c = merge_histogram[v]; c > 0; c--, at++)
      if (merge_dst[at] != v)
        fail("byte %zu of the merged data is %d, expected %d", at,
             merge_dst[at], v);
  msg("success: %zu bytes in order", at);
}

#endif
