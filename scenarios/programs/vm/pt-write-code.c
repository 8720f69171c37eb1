/* pt-write-code: a store into the program's own code (read-only text
 * segment) must kill the process with exit(-1).
 * Pintos-KAIST: tests/vm/pt-write-code.
 * Step for step as there.
 * Checkpoint 1: just before the store; the page of main is present and not
 * writable. */
#include "vmtest.h"

int main(void) {
  msg("begin");
  checkpoint(1);
  *(volatile int *)(uintptr_t)main = 0;
  fail("store into the code segment succeeded");
}
