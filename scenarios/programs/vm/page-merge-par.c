/* page-merge-par: 8 chunks of 128 KiB (1 MiB of RC4 keystream in all) are
 * sorted at the same time by 8 child-sort processes (each counts the
 * bytes into a .bss buffer), one file "chunkN" per chunk; every child
 * must exit with 123.
 * The parent then merges the chunks and checks the result against a
 * histogram of the original bytes.
 * Pintos-KAIST: tests/vm/page-merge-par (needs program child-sort;
 * creates chunk0..chunk7).
 * Step for step as there (merge.h; a failed fork fails at once here, there
 * the wait on -1 fails it).
 * Output: the parent's lines in order; the eight "child-sort: exit(123)"
 * lines may come anywhere after "(page-merge-par) sort chunk 0".
 * Checkpoint 1: after init; merge_src is valid and writable. */
#define MERGE_CHUNK_SIZE (128 * 1024)
#define MERGE_CHUNK_CNT 8
#include "merge.h"

int main(void) {
  msg("begin");
  merge_init();
  checkpoint(1);
  merge_sort_parallel("child-sort", 123);
  merge_combine();
  merge_verify();
  msg("end");
  return 0;
}
