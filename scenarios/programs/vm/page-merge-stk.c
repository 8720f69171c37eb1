/* page-merge-stk: 8 chunks of 128 KiB (1 MiB of RC4 keystream in all) are
 * sorted at the same time by 8 child-qsort processes (each quicksorts
 * them in a 128 KiB stack buffer), one file "chunkN" per chunk; every
 * child must exit with 72.
 * The parent then merges the chunks and checks the result against a
 * histogram of the original bytes.
 * Pintos-KAIST: tests/vm/page-merge-stk (needs program child-qsort;
 * creates chunk0..chunk7).
 * Step for step as there (merge.h; a failed fork fails at once here, there
 * the wait on -1 fails it).
 * Output: the parent's lines in order; the eight "child-qsort: exit(72)"
 * lines may come anywhere after "(page-merge-stk) sort chunk 0".
 * Checkpoint 1: after init; merge_src is valid and writable. */
#define MERGE_CHUNK_SIZE (128 * 1024)
#define MERGE_CHUNK_CNT 8
#include "merge.h"

int main(void) {
  msg("begin");
  merge_init();
  checkpoint(1);
  merge_sort_parallel("child-qsort", 72);
  merge_combine();
  merge_verify();
  msg("end");
  return 0;
}
