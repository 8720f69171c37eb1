/* A block of initialized data inside the program file itself.
 *
 * Several Pintos-KAIST tests carry their expected data in their own data
 * segment (sample.txt, small.txt or the 2 MB text of large.txt compiled
 * in): the test compares a mapping with that copy, so reading it makes the
 * loader bring writable, file-backed program pages in lazily, and under
 * memory pressure those pages compete with the mapping for frames. Where a
 * Pintos test reads its copy, our program reads the same pages of this
 * block in the same order (exe_blob_page_ok); where it only carries the
 * copy (swap-fork, cow-simple), the block sits there untouched and fork
 * has to copy its lazy pages.
 *
 * The assembler generates the block (no source data): 64-bit word K holds
 * EXE_BLOB_MAGIC + K, so every page differs from every other and from
 * zero. It lives in .data (writable, file-backed), never in .bss, and
 * starts on a page boundary. Its size is EXE_BLOB_SIZE bytes: 2 MiB unless
 * the program defines EXE_BLOB_SIZE (a plain integer expression, a
 * multiple of 4096, without C suffixes: the assembler evaluates it) before
 * including this header. Include it in one program file only. */
#ifndef VM_EXEBLOB_H
#define VM_EXEBLOB_H

#include "vmuser.h"

#ifndef EXE_BLOB_SIZE
#define EXE_BLOB_SIZE (2 * 1024 * 1024)
#endif
#define EXE_BLOB_WORDS ((size_t)(EXE_BLOB_SIZE) / 8)
#define EXE_BLOB_PAGES ((size_t)(EXE_BLOB_SIZE) / PGSIZE)
#define EXE_BLOB_MAGIC 0x6578656200000000ull /* "bexe" in the top bytes */
#define EXE_BLOB_STR2(x) #x
#define EXE_BLOB_STR(x) EXE_BLOB_STR2(x)

__asm__(".pushsection .data, \"aw\", @progbits\n"
        ".globl exe_blob\n"
        ".type exe_blob, @object\n"
        ".balign 4096\n"
        "exe_blob:\n"
        ".set exe_blob_word, 0\n"
        ".rept (" EXE_BLOB_STR(EXE_BLOB_SIZE) ") / 8\n"
        ".quad 0x6578656200000000 + exe_blob_word\n"
        ".set exe_blob_word, exe_blob_word + 1\n"
        ".endr\n"
        ".size exe_blob, " EXE_BLOB_STR(EXE_BLOB_SIZE) "\n"
        ".popsection\n");

extern const volatile uint64_t exe_blob[];
_Static_assert((EXE_BLOB_SIZE) % PGSIZE == 0, "whole pages only");

/* True if every word of page P of the block holds its value (reads the
 * whole page, in order). */
static inline bool exe_blob_page_ok(size_t p) {
  size_t first = p * (PGSIZE / 8);
  for (size_t k = first; k < first + PGSIZE / 8; k++)
    if (exe_blob[k] != EXE_BLOB_MAGIC + k)
      return false;
  return true;
}

#endif
