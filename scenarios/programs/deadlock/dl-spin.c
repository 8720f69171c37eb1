/* dl-spin: prints one line, then computes forever without a system call:
 * a process that makes no progress (no output, no exit, no checkpoint)
 * while it keeps the CPU busy. No suite scenario runs it; the harness's
 * own tests use it for the "no progress" rule (tests/integration/
 * test_hangs.py, harness/run/hang_watch.py). */
#include "../extra/extra.h"

int main(void) {
  msg("begin");
  volatile unsigned long n = 0;
  for (;;)
    n++;
}
