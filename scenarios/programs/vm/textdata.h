/* The data files the vm programs read, defined once for C and for
 * scenarios/data/make_data.py, which builds the files from this header:
 *
 *   sample.txt  the text of sample_text[] below, verbatim (shorter than a
 *               page). make_data.py copies the string literals between the
 *               BEGIN/END marker lines: keep one literal per line there and
 *               use no escapes other than \n, \" and \\.
 *   small.txt   SMALL_TXT_SIZE bytes of generated text (3 pages, the last
 *               one partial), tag "small".
 *   large.txt   LARGE_TXT_SIZE bytes of generated text (490 pages, the last
 *               one partial), tag "large".
 *   zeros       ZEROS_SIZE zero bytes.
 *
 * Generated text is made of TEXT_LINE_LEN-byte lines. Line K (from 0) is
 *   TAG ' ' '#' K-as-7-decimal-digits ' ' FILLER-48 '\n'
 * where FILLER-48 is the 48 bytes TEXT_FILLER[(K * 13 + J) % TEXT_FILLER_LEN]
 * for J = 0..47. The line number makes every page of a file different, so
 * a page loaded from the wrong offset never compares equal. The file is
 * cut at its size, in the middle of a line. */
#ifndef VM_TEXTDATA_H
#define VM_TEXTDATA_H

#include "vmuser.h"

#define TEXT_LINE_LEN 64
#define TEXT_FILLER "paging moves frames between memory and disk, lazily. "
#define TEXT_FILLER_LEN (sizeof TEXT_FILLER - 1)
#define SMALL_TXT_SIZE 10016
#define LARGE_TXT_SIZE 2002990
#define ZEROS_SIZE 6144

/* clang-format off */
static const char sample_text[] =
/* BEGIN sample.txt */
    "vmcheck sample file\n"
    "===================\n"
    "\n"
    "This file is mapped, read, written and removed by the vm programs.\n"
    "It is shorter than one page, so every byte after its end, up to the\n"
    "page boundary, must read as zero through a memory mapping.\n"
    "\n"
    "Line 8: the quick brown fox jumps over the lazy dog.\n"
    "Line 9: 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
    "Line 10: a page is loaded on first touch, written back when dirty,\n"
    "and never written back when clean.\n"
    "\n"
    "End of sample.\n"
/* END sample.txt */
    ;
/* clang-format on */
#define SAMPLE_LEN (sizeof sample_text - 1)

/* Writes line K of the generated file tagged TAG ("small" or "large")
 * into OUT, which holds TEXT_LINE_LEN bytes (no terminator). */
static inline void text_line(const char *tag, uint32_t k,
                             char out[TEXT_LINE_LEN]) {
  size_t n = 0;
  for (; tag[n] != '\0'; n++)
    out[n] = tag[n];
  out[n++] = ' ';
  out[n++] = '#';
  for (int d = 6; d >= 0; d--) {
    uint32_t v = k;
    for (int i = 0; i < d; i++)
      v /= 10;
    out[n++] = (char)('0' + v % 10);
  }
  out[n++] = ' ';
  for (uint32_t j = 0; n < TEXT_LINE_LEN - 1; j++)
    out[n++] = TEXT_FILLER[(k * 13 + j) % TEXT_FILLER_LEN];
  out[n] = '\n';
}

/* Copies bytes [OFS, OFS + N) of the generated file tagged TAG into DST.
 * The range may run past the file's size: the caller bounds it. */
static inline void text_fill(const char *tag, size_t ofs, char *dst, size_t n) {
  char line[TEXT_LINE_LEN];
  while (n > 0) {
    size_t col = ofs % TEXT_LINE_LEN;
    size_t take = TEXT_LINE_LEN - col < n ? TEXT_LINE_LEN - col : n;
    text_line(tag, (uint32_t)(ofs / TEXT_LINE_LEN), line);
    memcpy(dst, line + col, take);
    dst += take;
    ofs += take;
    n -= take;
  }
}

/* Compares the N bytes at MEM with bytes [OFS, OFS + N) of the generated
 * file tagged TAG. Returns the index (from MEM) of the first difference,
 * or N if there is none. */
static inline size_t text_mismatch(const char *tag, size_t ofs, const char *mem,
                                   size_t n) {
  char line[TEXT_LINE_LEN];
  size_t done = 0;
  while (done < n) {
    size_t col = (ofs + done) % TEXT_LINE_LEN;
    size_t take = TEXT_LINE_LEN - col;
    if (take > n - done)
      take = n - done;
    text_line(tag, (uint32_t)((ofs + done) / TEXT_LINE_LEN), line);
    for (size_t i = 0; i < take; i++)
      if (mem[done + i] != line[col + i])
        return done + i;
    done += take;
  }
  return n;
}

#endif
