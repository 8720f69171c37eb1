/* The vmcheck file system ("VMFS"): a flat directory of fixed-size,
 * contiguous files on the file-system disk. Format: docs/filesystem.md and
 * harness/adapters/reference/fsimage.py (the host-side tool). All calls are thread-safe. */
#ifndef KERNEL_FILESYS_H
#define KERNEL_FILESYS_H

#include <stdbool.h>
#include <stdint.h>

#define NAME_MAX 14

typedef int32_t off_t;
struct file;

/* Mounts the disk; panics with a clear message if it is not a VMFS disk. */
void filesys_init(void);
/* Writes back anything cached; called at power-off. */
void filesys_done(void);

bool filesys_create(const char *name, off_t initial_size);
/* NULL if no such file or out of memory. */
struct file *filesys_open(const char *name);
/* Removes the directory entry; the data lives until the last close. */
bool filesys_remove(const char *name);

#endif
