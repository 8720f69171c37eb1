/* VMFS inodes: the open files' extents and their data I/O. Writes go
 * straight to the disk (no cache). Callers hold vmfs_lock (inode.h). */
#include "kernel/inode.h"

#include <stddef.h>

#include "kernel/debug.h"
#include "kernel/malloc.h"
#include "lib/list.h"
#include "lib/string.h"

struct inode {
  struct list_elem elem; /* open_inodes */
  disk_sector_t start;   /* first sector of the extent */
  uint32_t sectors;      /* extent length in sectors */
  off_t length;          /* file size in bytes */
  int open_cnt;          /* handles sharing this inode */
  bool removed;          /* directory entry gone; extent still reserved */
};

static struct list open_inodes;
static struct disk *fs_disk;
/* Partial-sector transfers go through here (safe: vmfs_lock is held). */
static uint8_t bounce[DISK_SECTOR_SIZE];

void inode_init(struct disk *d) {
  list_init(&open_inodes);
  fs_disk = d;
}

static struct inode *find_open(disk_sector_t start) {
  for (struct list_elem *e = list_begin(&open_inodes);
       e != list_end(&open_inodes); e = list_next(e)) {
    struct inode *inode = list_entry(e, struct inode, elem);
    if (inode->start == start)
      return inode;
  }
  return NULL;
}

struct inode *inode_open(disk_sector_t start, uint32_t sectors,
                         off_t length) {
  ASSERT(lock_held_by_current_thread(&vmfs_lock));
  struct inode *inode = find_open(start);
  if (inode != NULL) {
    ASSERT(!inode->removed && inode->sectors == sectors);
    inode->open_cnt++;
    return inode;
  }
  inode = malloc(sizeof *inode);
  if (inode == NULL)
    return NULL;
  inode->start = start;
  inode->sectors = sectors;
  inode->length = length;
  inode->open_cnt = 1;
  inode->removed = false;
  list_push_front(&open_inodes, &inode->elem);
  return inode;
}

struct inode *inode_reopen(struct inode *inode) {
  ASSERT(lock_held_by_current_thread(&vmfs_lock));
  inode->open_cnt++;
  return inode;
}

void inode_close(struct inode *inode) {
  ASSERT(lock_held_by_current_thread(&vmfs_lock));
  ASSERT(inode->open_cnt > 0);
  if (--inode->open_cnt > 0)
    return;
  list_remove(&inode->elem);
  free(inode);
}

void inode_mark_removed(disk_sector_t start) {
  struct inode *inode = find_open(start);
  if (inode != NULL)
    inode->removed = true;
}

bool inode_removed_overlap(disk_sector_t start, uint32_t cnt,
                           disk_sector_t *end) {
  for (struct list_elem *e = list_begin(&open_inodes);
       e != list_end(&open_inodes); e = list_next(e)) {
    struct inode *inode = list_entry(e, struct inode, elem);
    disk_sector_t inode_end = inode->start + inode->sectors;
    if (inode->removed && inode->start < start + cnt && start < inode_end) {
      *end = inode_end;
      return true;
    }
  }
  return false;
}

/* Clamps a transfer of SIZE bytes at OFFSET to the file; returns the
 * number of bytes that lie inside it (0 for a negative offset or size). */
static off_t clamp_to_file(const struct inode *inode, off_t size,
                           off_t offset) {
  if (size <= 0 || offset < 0 || offset >= inode->length)
    return 0;
  int64_t left = (int64_t)inode->length - offset;
  return size < left ? size : (off_t)left;
}

/* The piece of a transfer at file position POS with LEFT bytes to go: its
 * sector, the offset in that sector (*OFS) and its length (the return). */
static int next_chunk(const struct inode *inode, off_t pos, off_t left,
                      disk_sector_t *sector, int *ofs) {
  *sector = inode->start + pos / DISK_SECTOR_SIZE;
  *ofs = pos % DISK_SECTOR_SIZE;
  int chunk = DISK_SECTOR_SIZE - *ofs;
  return chunk < left ? chunk : (int)left;
}

off_t inode_read_at(struct inode *inode, void *buf_, off_t size,
                    off_t offset) {
  ASSERT(lock_held_by_current_thread(&vmfs_lock));
  uint8_t *buf = buf_;
  off_t total = clamp_to_file(inode, size, offset), done = 0;
  while (done < total) {
    disk_sector_t sector;
    int ofs, chunk = next_chunk(inode, offset + done, total - done, &sector, &ofs);
    if (chunk == DISK_SECTOR_SIZE) {
      if (!disk_read(fs_disk, sector, buf + done))
        break;
    } else {
      if (!disk_read(fs_disk, sector, bounce))
        break;
      memcpy(buf + done, bounce + ofs, chunk);
    }
    done += chunk;
  }
  return done;
}

off_t inode_write_at(struct inode *inode, const void *buf_, off_t size,
                     off_t offset) {
  ASSERT(lock_held_by_current_thread(&vmfs_lock));
  const uint8_t *buf = buf_;
  off_t total = clamp_to_file(inode, size, offset), done = 0;
  while (done < total) {
    disk_sector_t sector;
    int ofs, chunk = next_chunk(inode, offset + done, total - done, &sector, &ofs);
    if (chunk == DISK_SECTOR_SIZE) {
      if (!disk_write(fs_disk, sector, buf + done))
        break;
    } else {
      /* Read-modify-write keeps the rest of the sector. */
      if (!disk_read(fs_disk, sector, bounce))
        break;
      memcpy(bounce + ofs, buf + done, chunk);
      if (!disk_write(fs_disk, sector, bounce))
        break;
    }
    done += chunk;
  }
  return done;
}

off_t inode_length(const struct inode *inode) { return inode->length; }

disk_sector_t inode_start(const struct inode *inode) { return inode->start; }
