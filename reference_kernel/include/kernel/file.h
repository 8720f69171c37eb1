/* Open files: each has its own position; several may share one inode. */
#ifndef KERNEL_FILE_H
#define KERNEL_FILE_H

#include <stddef.h>

#include "kernel/filesys.h"

void file_close(struct file *);
/* A new independent handle on the same file (position 0); NULL if OOM. */
struct file *file_reopen(struct file *);
/* A new handle with the same position; NULL if OOM. */
struct file *file_duplicate(struct file *);
/* Read/write at the position, advancing it; return bytes transferred.
 * Files never grow: writes stop at the end of the file. */
off_t file_read(struct file *, void *buf, off_t size);
off_t file_write(struct file *, const void *buf, off_t size);
/* Same at an explicit offset; position unchanged. */
off_t file_read_at(struct file *, void *buf, off_t size, off_t offset);
#if defined(VMCHECK_MUTANT_lock_order_read_munmap) || \
    defined(VMCHECK_MUTANT_lock_order_read_evict)
/* file_read with vmfs_lock already held (the lock-order mutants' read()). */
off_t file_read_locked(struct file *, void *buf, off_t size);
#endif
off_t file_write_at(struct file *, const void *buf, off_t size, off_t offset);
off_t file_length(struct file *);
void file_seek(struct file *, off_t position);
off_t file_tell(struct file *);
/* Identity of the underlying file (same for reopened handles). */
uint32_t file_inumber(struct file *);
/* Handles opened and not yet closed (the power-off line's open_files). */
size_t file_handles_open(void);

#endif
