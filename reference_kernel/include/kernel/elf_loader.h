/* ELF64 executables: validation and mapping of the loadable segments.
 * Only static x86-64 executables (ET_EXEC) are accepted. */
#ifndef KERNEL_ELF_LOADER_H
#define KERNEL_ELF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/filesys.h"

#define ELF_MAX_SEGMENTS 16 /* PT_LOAD entries accepted per program */

/* One PT_LOAD segment in page units, ready for load_segment(). */
struct elf_segment {
  off_t file_page;   /* page-aligned file offset */
  uintptr_t upage;   /* page-aligned user address */
  size_t read_bytes; /* bytes read from the file at file_page */
  size_t zero_bytes; /* zero bytes after them, up to a page boundary */
  bool writable;
};

struct elf_image {
  uintptr_t entry;
  int segment_count;
  struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/* Reads FILE's ELF header and program headers and checks every field the
 * loader relies on (see elf_loader.c). Fills IMAGE and returns NULL if
 * FILE is a loadable program; otherwise returns why not. Maps nothing. */
const char *elf_inspect(struct file *file, struct elf_image *image);

/* Maps every segment of IMAGE (from elf_inspect on FILE) into the running
 * process through load_segment(). False if out of memory or the file got
 * shorter. */
bool elf_load_segments(struct file *file, const struct elf_image *image);

#endif
