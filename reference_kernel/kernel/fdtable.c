/* Per-process file-descriptor table (kernel/fdtable.h). */
#include "kernel/fdtable.h"

#include <stddef.h>

#include "kernel/file.h"
#include "kernel/malloc.h"

#define FD_INITIAL_CAPACITY 32

bool fd_table_init(struct fd_table *t) {
  t->files = calloc(FD_INITIAL_CAPACITY, sizeof *t->files);
  t->capacity = t->files != NULL ? FD_INITIAL_CAPACITY : 0;
  return t->files != NULL;
}

/* Grows T to at least CAPACITY entries (new ones empty); false if that
 * exceeds FD_LIMIT or memory is short. */
static bool grow(struct fd_table *t, int capacity) {
  if (capacity > FD_LIMIT)
    return false;
  struct file **files = realloc(t->files, (size_t)capacity * sizeof *files);
  if (files == NULL)
    return false;
  for (int fd = t->capacity; fd < capacity; fd++)
    files[fd] = NULL;
  t->files = files;
  t->capacity = capacity;
  return true;
}

int fd_table_add(struct fd_table *t, struct file *file) {
  for (int fd = FD_FIRST_FILE; fd < t->capacity; fd++)
    if (t->files[fd] == NULL) {
      t->files[fd] = file;
      return fd;
    }
  /* Full: double the table (fd_table_init made it non-empty). */
  int fd = t->capacity;
  int capacity = t->capacity * 2 < FD_LIMIT ? t->capacity * 2 : FD_LIMIT;
  if (fd >= capacity || !grow(t, capacity))
    return -1;
  t->files[fd] = file;
  return fd;
}

struct file *fd_table_get(const struct fd_table *t, int fd) {
  if (fd < FD_FIRST_FILE || fd >= t->capacity)
    return NULL;
  return t->files[fd];
}

struct file *fd_table_take(struct fd_table *t, int fd) {
  struct file *file = fd_table_get(t, fd);
  if (file != NULL)
    t->files[fd] = NULL;
  return file;
}

/* Closes every file in T, leaving the storage allocated. */
static void close_all(struct fd_table *t) {
  for (int fd = FD_FIRST_FILE; fd < t->capacity; fd++) {
    file_close(t->files[fd]);
    t->files[fd] = NULL;
  }
}

bool fd_table_duplicate(struct fd_table *dst, const struct fd_table *src) {
  if (dst->capacity < src->capacity && !grow(dst, src->capacity))
    return false;
  for (int fd = FD_FIRST_FILE; fd < src->capacity; fd++) {
    if (src->files[fd] == NULL)
      continue;
    dst->files[fd] = file_duplicate(src->files[fd]);
    if (dst->files[fd] == NULL) {
      close_all(dst);
      return false;
    }
  }
  return true;
}

void fd_table_destroy(struct fd_table *t) {
  if (t->files == NULL)
    return;
  close_all(t);
  free(t->files);
  t->files = NULL;
  t->capacity = 0;
}
