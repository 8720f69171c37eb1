/* fault-div [VARIANT]: a divide error (#DE) in user mode.
 *   zero (default)  1 / 0
 *   overflow        INT64_MIN / -1 (quotient does not fit)
 * The kernel must end the process: expected "fault-div: exit(-1)". If the
 * division completes, prints "(fault-div) FAIL: ..." and exits 1. */
#include "vmuser.h"

int main(int argc, char **argv) {
  const char *variant = argc > 1 ? argv[1] : "zero";
  volatile int64_t dividend = 1, divisor = 0;
  if (strcmp(variant, "overflow") == 0) {
    dividend = INT64_MIN;
    divisor = -1;
  } else if (strcmp(variant, "zero") != 0) {
    fail("unknown variant '%s' (zero|overflow)", variant);
  }
  msg("dividing %ld by %ld", (long)dividend, (long)divisor);
  int64_t quotient = dividend / divisor;
  fail("division returned %ld; the process should have been killed",
       (long)quotient);
}
