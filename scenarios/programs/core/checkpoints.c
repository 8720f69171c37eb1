/* checkpoints: calls checkpoint() at known points so the harness's
 * checkpoint machinery can be tested on any kernel, VM or not.
 *   checkpoint(1): before cp_buf is written (lazy kernels: not present)
 *   checkpoint(2) three times: after writing pages 0..2 of cp_buf
 *   checkpoint(3): after a 16 KiB stack array was filled
 * Prints "(checkpoints) end", exits 0. */
#include "vmuser.h"

char cp_buf[3 * PGSIZE] __attribute__((aligned(PGSIZE)));
int cp_data = 42;

static int fill_stack(void) {
  volatile char big[4 * PGSIZE];
  for (unsigned i = 0; i < sizeof big; i += 512)
    big[i] = (char)i;
  checkpoint(3);
  return big[512];
}

int main(void) {
  test_name = "checkpoints";
  checkpoint(1);
  for (int i = 0; i < 3; i++) {
    memset(cp_buf + i * PGSIZE, 'a' + i, PGSIZE);
    checkpoint(2);
  }
  int r = fill_stack();
  msg("end %d %d", cp_data, r);
  return 0;
}
