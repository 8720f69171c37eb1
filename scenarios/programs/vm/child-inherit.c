/* child-inherit: child of mmap-inherit. Its parent mapped 0x54321000
 * before exec; in this new program nothing is mapped there, so the store
 * must kill the process with exit(-1).
 * Pintos-KAIST: tests/vm/child-inherit.
 * Step for step as there.
 * Checkpoint 202: before the store; 0x54321000 unmapped in this process. */
#include "vmtest.h"

#define PARENT_MAP ((char *)0x54321000)

int main(void) {
  msg("begin");
  checkpoint(202);
  memset(PARENT_MAP, 0, PGSIZE);
  fail("store to the parent's mapping address succeeded");
}
