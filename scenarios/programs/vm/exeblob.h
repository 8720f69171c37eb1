/* A 2 MiB block of initialized data inside the program file itself.
 *
 * Pintos-KAIST's swap-file and swap-iter carry the 2 MB text of large.txt
 * in their data segment, so their executable's pages compete for frames
 * with the file mapping: the loader must bring them in lazily from the
 * program file and eviction must be able to move them out and back. This
 * block plays that part. The assembler generates it (no source data):
 * 64-bit word K holds EXE_BLOB_MAGIC + K, so every page differs from every
 * other and from zero. It lives in .data (writable, file-backed), never in
 * .bss. Include this header in one program file only. */
#ifndef VM_EXEBLOB_H
#define VM_EXEBLOB_H

#include "vmuser.h"

#define EXE_BLOB_SIZE (2u * 1024 * 1024)
#define EXE_BLOB_WORDS (EXE_BLOB_SIZE / 8)
#define EXE_BLOB_MAGIC 0x6578656200000000ull /* "bexe" in the top bytes */

__asm__(".pushsection .data, \"aw\", @progbits\n"
        ".globl exe_blob\n"
        ".type exe_blob, @object\n"
        ".balign 4096\n"
        "exe_blob:\n"
        ".set exe_blob_word, 0\n"
        ".rept 262144\n" /* EXE_BLOB_WORDS */
        ".quad 0x6578656200000000 + exe_blob_word\n"
        ".set exe_blob_word, exe_blob_word + 1\n"
        ".endr\n"
        ".size exe_blob, 2097152\n"
        ".popsection\n");

extern const volatile uint64_t exe_blob[EXE_BLOB_WORDS];
_Static_assert(EXE_BLOB_WORDS == 262144, "keep .rept and .size in step");

/* Reads every word of the block; returns the index of the first word that
 * does not hold its value, or EXE_BLOB_WORDS if all do. */
static inline size_t exe_blob_mismatch(void) {
  for (size_t k = 0; k < EXE_BLOB_WORDS; k++)
    if (exe_blob[k] != EXE_BLOB_MAGIC + k)
      return k;
  return EXE_BLOB_WORDS;
}

/* Fails the test unless the whole block reads back intact. */
static inline void exe_blob_check(const char *when) {
  size_t k = exe_blob_mismatch();
  if (k != EXE_BLOB_WORDS)
    fail("program data word %zu (page %zu) is 0x%016llx %s, expected "
         "0x%016llx",
         k, k * 8 / PGSIZE, (unsigned long long)exe_blob[k], when,
         (unsigned long long)(EXE_BLOB_MAGIC + k));
  msg("program data intact %s", when);
}

#endif
