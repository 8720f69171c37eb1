/* pt-write-code2: read() into the program's own code (read-only text
 * segment) must kill the process with exit(-1) from inside the system
 * call; the code must stay unchanged.
 * Pintos-KAIST: tests/vm/pt-write-code2 (needs sample.txt).
 * Step for step as there.
 * Checkpoint 1: just before read(); the page of main is present and not
 * writable. */
#include "vmtest.h"

int main(void) {
  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  checkpoint(1);
  int n = read(fd, (void *)(uintptr_t)main, 1);
  fail("read into the code segment returned %d", n);
}
