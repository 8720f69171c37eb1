/* evict-code: a code page under memory pressure is evicted and comes
 * back with its bytes when it runs next: dropped (it is clean and its
 * bytes are in the program file) and loaded again from the file, or, on
 * a kernel that keeps code pages as anonymous pages (Pintos-KAIST's
 * lazy_load_segment), swapped out and in; it never becomes writable.
 * cold_code is a function alone on its own page of .text (assembly below:
 * it returns COLD_MAGIC); the program calls it once, then stamps the 128
 * pages of a .bss buffer with the user pool capped at 32 frames, so the
 * code page is not accessed while every frame is reused several times,
 * then calls cold_code again.
 * Checkpoint 1: after the first call; cold_code's page present, not
 *   writable.
 * Checkpoint 2: after the pressure; cold_code's page not present but
 *   valid (dropped or in swap), not writable in the SPT; at least 64 swap
 *   slots used (the .bss pages).
 * Checkpoint 3: after the second call; the page present, not writable,
 *   equal to the ELF image. */
#include "extra.h"

#define COLD_MAGIC 0x600dc0de
#define PRESSURE_PAGES 128

/* A page of code of its own: cold_code and then padding to the page end.
 * The section name sorts into .text (user.ld: *(.text .text.*)). */
__asm__(".pushsection .text.vmcheck_cold, \"ax\", @progbits\n"
        ".balign 4096\n"
        ".globl cold_code\n"
        ".type cold_code, @function\n"
        "cold_code:\n"
        "  movl $0x600dc0de, %eax\n"
        "  ret\n"
        ".size cold_code, . - cold_code\n"
        ".balign 4096, 0xcc\n"
        ".popsection\n");
int cold_code(void);

char pressure_buf[PRESSURE_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  CHECK(cold_code() == COLD_MAGIC, "call the code on its own page");
  checkpoint_at(1, (uintptr_t)cold_code);
  stamp_pages_text(pressure_buf, PRESSURE_PAGES, "press");
  check_stamps_text(pressure_buf, PRESSURE_PAGES, "press", "under pressure");
  msg("stamped and checked %d pages", PRESSURE_PAGES);
  checkpoint_at(2, (uintptr_t)cold_code);
  CHECK(cold_code() == COLD_MAGIC, "call it again after the pressure");
  checkpoint_at(3, (uintptr_t)cold_code);
  msg("end");
  return 0;
}
