/* Open-file handles (kernel/file.h): an inode plus a position. Each call
 * takes vmfs_lock for its duration; BUF arguments are kernel memory. */
#include "kernel/file.h"

#include <stddef.h>

#include "kernel/inode.h"
#include "kernel/malloc.h"

struct file {
  struct inode *inode;
  off_t pos; /* may be set past the end (or negative) by file_seek */
};

/* Handles made and not yet closed, under vmfs_lock. */
static size_t handles_open;

size_t file_handles_open(void) { return handles_open; }

/* Called with vmfs_lock held (filesys_open). */
struct file *file_open_inode(struct inode *inode) {
  struct file *file = malloc(sizeof *file);
  if (file == NULL)
    return NULL;
  file->inode = inode;
  file->pos = 0;
  handles_open++;
  return file;
}

void file_close(struct file *file) {
  if (file == NULL)
    return;
  lock_acquire(&vmfs_lock);
  inode_close(file->inode);
  handles_open--;
  lock_release(&vmfs_lock);
  free(file);
}

/* A new handle sharing FILE's inode at position POS; NULL if OOM. */
static struct file *new_handle(struct file *file, off_t pos) {
  struct file *copy = malloc(sizeof *copy);
  if (copy == NULL)
    return NULL;
  lock_acquire(&vmfs_lock);
  copy->inode = inode_reopen(file->inode);
  handles_open++;
  lock_release(&vmfs_lock);
  copy->pos = pos;
  return copy;
}

struct file *file_reopen(struct file *file) { return new_handle(file, 0); }

struct file *file_duplicate(struct file *file) {
  return new_handle(file, file->pos);
}

off_t file_read_at(struct file *file, void *buf, off_t size, off_t offset) {
  lock_acquire(&vmfs_lock);
  off_t n = inode_read_at(file->inode, buf, size, offset);
  lock_release(&vmfs_lock);
  return n;
}

off_t file_write_at(struct file *file, const void *buf, off_t size,
                    off_t offset) {
  lock_acquire(&vmfs_lock);
  off_t n = inode_write_at(file->inode, buf, size, offset);
  lock_release(&vmfs_lock);
  return n;
}

#if defined(VMCHECK_MUTANT_lock_order_read_munmap) || \
    defined(VMCHECK_MUTANT_lock_order_read_evict)
off_t file_read_locked(struct file *file, void *buf, off_t size) {
  off_t n = inode_read_at(file->inode, buf, size, file->pos);
  file->pos += n;
  return n;
}
#endif

off_t file_read(struct file *file, void *buf, off_t size) {
  off_t n = file_read_at(file, buf, size, file->pos);
  file->pos += n;
  return n;
}

off_t file_write(struct file *file, const void *buf, off_t size) {
  off_t n = file_write_at(file, buf, size, file->pos);
  file->pos += n;
  return n;
}

/* The length never changes after creation, so no lock is needed. */
off_t file_length(struct file *file) { return inode_length(file->inode); }

void file_seek(struct file *file, off_t position) { file->pos = position; }

off_t file_tell(struct file *file) { return file->pos; }

uint32_t file_inumber(struct file *file) { return inode_start(file->inode); }
