/* page-merge-seq: 16 chunks of 63 KiB (1,032,192 bytes of RC4 keystream
 * in all) are sorted one after another, each by a child-sort process
 * through the file "buffer"; the parent then merges the chunks and checks
 * the result against a histogram of the original bytes.
 * Pintos-KAIST: tests/vm/page-merge-seq (needs program child-sort; creates
 * "buffer").
 * Step for step as there (merge.h: "buffer" is created once, write() and
 * read() return values are not checked).
 * Output is strictly ordered: each child runs while the parent waits.
 * Checkpoint 1: after init; merge_src is valid and writable. */
#define MERGE_CHUNK_SIZE (126 * 512)
#define MERGE_CHUNK_CNT 16
#include "merge.h"

int main(void) {
  msg("begin");
  merge_init();
  checkpoint(1);
  merge_sort_sequential("child-sort", 123);
  merge_combine();
  merge_verify();
  msg("end");
  return 0;
}
