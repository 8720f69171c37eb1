/* pt-grow-stk-sc: the first touch of new stack pages happens inside a
 * system call: read() into the middle of a 64 KiB stack buffer that the
 * program has not touched yet. The kernel must grow the stack (using the
 * user rsp saved at system-call entry), not kill the process.
 * Pintos-KAIST: tests/vm/pt-grow-stk-sc (creates sample.txt itself, so
 * sample.txt must NOT be on the disk beforehand).
 * Step for step as there.
 * Checkpoint 1: before read(); the page of probe (buffer + 32 KiB) is not
 * present on a kernel that grows the stack one faulting page at a time,
 * present on one that grows it eagerly over the whole gap below its
 * lowest stack page (both allowed; the scenario expects neither).
 * Checkpoint 2: after read(); that page is present and writable. */
#include "textdata.h"
#include "vmtest.h"

int main(void) {
  char buffer[64 * 1024];
  char *target = buffer + 32 * 1024;

  msg("begin");
  CHECK(create("sample.txt", SAMPLE_LEN), "create \"sample.txt\"");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  CHECK(write(fd, sample_text, SAMPLE_LEN) == (int)SAMPLE_LEN,
        "write \"sample.txt\"");
  close(fd);

  fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\" again");
  vmcheck_probe = (uintptr_t)target;
  checkpoint(1);
  CHECK(read(fd, target, SAMPLE_LEN) == (int)SAMPLE_LEN,
        "read \"sample.txt\" into untouched stack pages");
  checkpoint(2);
  CHECK(memcmp(target, sample_text, SAMPLE_LEN) == 0,
        "data read back matches data written");
  close(fd);
  msg("end");
  return 0;
}
