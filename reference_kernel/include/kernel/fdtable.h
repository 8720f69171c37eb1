/* Per-process file-descriptor table. fd 0 (keyboard) and fd 1 (console)
 * are reserved and never hold a file; files get the lowest free fd >= 2.
 * The table grows on demand up to FD_LIMIT entries. Only the owning
 * process touches its table, so there is no lock. */
#ifndef KERNEL_FDTABLE_H
#define KERNEL_FDTABLE_H

#include <stdbool.h>

struct file;

#define FD_STDIN 0
#define FD_STDOUT 1
#define FD_FIRST_FILE 2
#define FD_LIMIT 1024 /* fds 0 .. FD_LIMIT-1 */

struct fd_table {
  struct file **files; /* files[fd], NULL if fd is free */
  int capacity;        /* entries in `files` */
};

/* Initializes an empty table; false if out of memory. */
bool fd_table_init(struct fd_table *);
/* Stores FILE at the lowest free fd and returns it; -1 if the table is
 * full or cannot grow (FILE stays the caller's). */
int fd_table_add(struct fd_table *, struct file *file);
/* The file at FD, or NULL if FD is not an open file (0, 1, out of range). */
struct file *fd_table_get(const struct fd_table *, int fd);
/* Removes FD from the table and returns its file (NULL if none); the
 * caller closes it. */
struct file *fd_table_take(struct fd_table *, int fd);
/* Fills the empty table DST with duplicates (file_duplicate: same
 * position) of every file in SRC. False if out of memory; DST is then
 * left empty but initialized. */
bool fd_table_duplicate(struct fd_table *dst, const struct fd_table *src);
/* Closes every file and frees the table's storage. */
void fd_table_destroy(struct fd_table *);

#endif
