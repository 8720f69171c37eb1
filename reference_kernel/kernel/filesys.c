/* VMFS: mounting, the flat directory and first-fit allocation
 * (kernel/filesys.h). The on-disk format is specified in
 * docs/filesystem.md; harness/adapters/reference/fsimage.py writes the same format.
 *
 * The whole directory is kept in memory (dir[]) and every change to it is
 * written through to its directory sector before the call returns. Free
 * space is not stored: a run of sectors is free if no in-use entry and no
 * removed-but-open inode covers it. */
#include "kernel/filesys.h"

#include <stddef.h>

#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/disk.h"
#include "kernel/inode.h"
#include "kernel/malloc.h"
#include "lib/string.h"

#define VMFS_MAGIC 0x53464d56u /* "VMFS" at byte 0 */
#define VMFS_VERSION 1
#define VMFS_MIN_DIR_ENTRIES 64
#define DIRENT_IN_USE 1u
#define DIRENTS_PER_SECTOR (DISK_SECTOR_SIZE / sizeof(struct vmfs_dirent))

/* Sector 0 (docs/filesystem.md, "Superblock"). */
struct vmfs_super {
  uint32_t magic;
  uint32_t version;
  uint32_t total_sectors;
  uint32_t dir_start;
  uint32_t dir_sectors;
  uint32_t dir_entries;
  uint32_t data_start;
  uint8_t reserved[DISK_SECTOR_SIZE - 7 * sizeof(uint32_t)];
};
_Static_assert(sizeof(struct vmfs_super) == DISK_SECTOR_SIZE,
               "superblock is one sector");

/* One directory slot (docs/filesystem.md, "Directory entry"). */
struct vmfs_dirent {
  char name[16];          /* NUL-padded, 1..NAME_MAX bytes */
  uint32_t start_sector;
  uint32_t sector_count;  /* max(1, ceil(length / 512)) */
  uint32_t length;
  uint32_t flags;         /* DIRENT_IN_USE */
};
_Static_assert(sizeof(struct vmfs_dirent) == 32, "directory entry size");

struct lock vmfs_lock;
static struct disk *fs_disk;
static struct vmfs_super super;
static struct vmfs_dirent *dir; /* super.dir_entries slots, vmfs_lock */

/* Sectors a file of LENGTH bytes owns (at least one, see the spec). */
static uint32_t sectors_for_length(uint32_t length) {
  uint32_t n = length / DISK_SECTOR_SIZE + (length % DISK_SECTOR_SIZE != 0);
  return n > 0 ? n : 1;
}

/* Why superblock S cannot be mounted on a disk of DISK_SECTORS, or NULL. */
static const char *check_super(const struct vmfs_super *s,
                               disk_sector_t disk_sectors) {
  if (s->magic != VMFS_MAGIC)
    return "bad magic (expected \"VMFS\" at byte 0)";
  if (s->version != VMFS_VERSION)
    return "unsupported version";
  if (s->dir_start != 1)
    return "dir_start is not 1";
  if (s->dir_sectors > (UINT32_MAX - 1) / DIRENTS_PER_SECTOR ||
      s->dir_entries != s->dir_sectors * DIRENTS_PER_SECTOR ||
      s->dir_entries < VMFS_MIN_DIR_ENTRIES)
    return "bad directory size";
  if (s->data_start != s->dir_start + s->dir_sectors)
    return "data_start is not 1 + dir_sectors";
  if (s->total_sectors <= s->data_start)
    return "no data sectors";
  if (s->total_sectors > disk_sectors)
    return "total_sectors exceeds the disk";
  return NULL;
}

/* Why in-use entry E is malformed, or NULL. */
static const char *check_entry(const struct vmfs_dirent *e) {
  size_t len = strnlen(e->name, sizeof e->name);
  if (e->flags != DIRENT_IN_USE)
    return "bad flags";
  if (len == 0 || len > NAME_MAX)
    return "bad name length";
  for (size_t i = len; i < sizeof e->name; i++)
    if (e->name[i] != '\0')
      return "name not NUL-padded";
  if (e->length > INT32_MAX)
    return "length too large";
  if (e->sector_count != sectors_for_length(e->length))
    return "sector_count does not match length";
  if (e->start_sector < super.data_start ||
      e->start_sector > super.total_sectors ||
      e->sector_count > super.total_sectors - e->start_sector)
    return "extent outside the data area";
  return NULL;
}

static bool entry_in_use(const struct vmfs_dirent *e) { return e->flags != 0; }

/* Why the directory is inconsistent (bad entry, duplicate name, overlap),
 * or NULL. Sets *BAD to the offending slot. */
static const char *check_directory(uint32_t *bad) {
  for (uint32_t i = 0; i < super.dir_entries; i++) {
    const struct vmfs_dirent *e = &dir[i];
    *bad = i;
    if (!entry_in_use(e))
      continue;
    const char *why = check_entry(e);
    if (why != NULL)
      return why;
    for (uint32_t j = 0; j < i; j++) {
      const struct vmfs_dirent *o = &dir[j];
      if (!entry_in_use(o))
        continue;
      if (strcmp(o->name, e->name) == 0)
        return "duplicate name";
      if (o->start_sector < e->start_sector + e->sector_count &&
          e->start_sector < o->start_sector + o->sector_count)
        return "extent overlaps another file";
    }
  }
  return NULL;
}

/* Reads and validates the superblock and directory; panics if invalid. */
void filesys_init(void) {
  lock_init(&vmfs_lock);
  fs_disk = disk_get(DISK_FILESYS);
  if (fs_disk == NULL)
    PANIC("filesys_init: no file-system disk (IDE index %d)", DISK_FILESYS);
  if (!disk_read(fs_disk, 0, &super))
    PANIC("filesys_init: cannot read the superblock of disk %d",
          DISK_FILESYS);
  const char *why = check_super(&super, disk_size(fs_disk));
  if (why != NULL)
    PANIC("filesys_init: disk %d is not a valid VMFS disk: %s", DISK_FILESYS,
          why);
  dir = malloc((size_t)super.dir_sectors * DISK_SECTOR_SIZE);
  if (dir == NULL)
    PANIC("filesys_init: out of memory for a %u-entry directory",
          (unsigned)super.dir_entries);
  for (uint32_t i = 0; i < super.dir_sectors; i++)
    if (!disk_read(fs_disk, super.dir_start + i,
                   (uint8_t *)dir + i * DISK_SECTOR_SIZE))
      PANIC("filesys_init: cannot read directory sector %u", (unsigned)i);
  uint32_t bad;
  why = check_directory(&bad);
  if (why != NULL)
    PANIC("filesys_init: disk %d is not a valid VMFS disk: entry %u: %s",
          DISK_FILESYS, (unsigned)bad, why);
  inode_init(fs_disk);
  uint32_t used = 0;
  for (uint32_t i = 0; i < super.dir_entries; i++)
    used += entry_in_use(&dir[i]);
  printf("filesys: VMFS, %u sectors, %u of %u directory entries in use\n",
         (unsigned)super.total_sectors, (unsigned)used,
         (unsigned)super.dir_entries);
}

/* Write-through: nothing is cached, every write has completed. */
void filesys_done(void) {}

/* True if NAME is a legal file name: 1..NAME_MAX bytes. */
static bool name_ok(const char *name) {
  if (name == NULL)
    return false;
  size_t len = strnlen(name, NAME_MAX + 1);
  return len >= 1 && len <= NAME_MAX;
}

/* Slot of the in-use entry called NAME, or -1. */
static int lookup(const char *name) {
  for (uint32_t i = 0; i < super.dir_entries; i++)
    if (entry_in_use(&dir[i]) && strcmp(dir[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* Writes the directory sector holding slot IDX to disk. */
static bool write_dir_sector(uint32_t idx) {
  uint32_t first = idx - idx % DIRENTS_PER_SECTOR;
  return disk_write(fs_disk, super.dir_start + idx / DIRENTS_PER_SECTOR,
                    &dir[first]);
}

/* If an in-use entry's extent overlaps [START, START+CNT), stores the
 * sector past it in *END and returns true. */
static bool entry_overlap(disk_sector_t start, uint32_t cnt,
                          disk_sector_t *end) {
  for (uint32_t i = 0; i < super.dir_entries; i++) {
    const struct vmfs_dirent *e = &dir[i];
    if (entry_in_use(e) && e->start_sector < start + cnt &&
        start < e->start_sector + e->sector_count) {
      *end = e->start_sector + e->sector_count;
      return true;
    }
  }
  return false;
}

/* First fit: the lowest start of CNT free sectors, or 0 if none (sector 0
 * is the superblock, never a data sector). */
static disk_sector_t allocate(uint32_t cnt) {
  disk_sector_t start = super.data_start, end;
  while (cnt <= super.total_sectors - start) {
    if (entry_overlap(start, cnt, &end) ||
        inode_removed_overlap(start, cnt, &end))
      start = end; /* strictly past START: the loop ends */
    else
      return start;
  }
  return 0;
}

/* Writes zeros to CNT sectors from START. */
static bool zero_sectors(disk_sector_t start, uint32_t cnt) {
  static const uint8_t zeros[DISK_SECTOR_SIZE];
  for (uint32_t i = 0; i < cnt; i++)
    if (!disk_write(fs_disk, start + i, zeros))
      return false;
  return true;
}

/* First free directory slot, or -1 if the directory is full. */
static int free_slot(void) {
  for (uint32_t i = 0; i < super.dir_entries; i++)
    if (!entry_in_use(&dir[i]))
      return (int)i;
  return -1;
}

/* Creates NAME with SIZE zero bytes: data first, then the directory entry,
 * so a failed create leaves the disk's directory unchanged. Lock held. */
static bool create_locked(const char *name, off_t size) {
  int idx = free_slot();
  if (idx < 0 || lookup(name) >= 0)
    return false;
  uint32_t cnt = sectors_for_length((uint32_t)size);
  disk_sector_t start = allocate(cnt);
  if (start == 0 || !zero_sectors(start, cnt))
    return false;
  struct vmfs_dirent *e = &dir[idx];
  memset(e, 0, sizeof *e);
  strlcpy(e->name, name, sizeof e->name);
  e->start_sector = start;
  e->sector_count = cnt;
  e->length = (uint32_t)size;
  e->flags = DIRENT_IN_USE;
  if (write_dir_sector(idx))
    return true;
  memset(e, 0, sizeof *e);
  return false;
}

bool filesys_create(const char *name, off_t initial_size) {
  if (!name_ok(name) || initial_size < 0)
    return false;
  lock_acquire(&vmfs_lock);
  bool ok = create_locked(name, initial_size);
  lock_release(&vmfs_lock);
  return ok;
}

struct file *filesys_open(const char *name) {
  if (!name_ok(name))
    return NULL;
  struct file *file = NULL;
  lock_acquire(&vmfs_lock);
  int idx = lookup(name);
  if (idx >= 0) {
    const struct vmfs_dirent *e = &dir[idx];
    struct inode *inode =
        inode_open(e->start_sector, e->sector_count, (off_t)e->length);
    if (inode != NULL) {
      file = file_open_inode(inode);
      if (file == NULL)
        inode_close(inode);
    }
  }
  lock_release(&vmfs_lock);
  return file;
}

bool filesys_remove(const char *name) {
  if (!name_ok(name))
    return false;
  bool ok = false;
  lock_acquire(&vmfs_lock);
  int idx = lookup(name);
  if (idx >= 0) {
    struct vmfs_dirent saved = dir[idx];
    memset(&dir[idx], 0, sizeof dir[idx]);
    ok = write_dir_sector(idx);
    if (ok)
      inode_mark_removed(saved.start_sector);
    else
      dir[idx] = saved;
  }
  lock_release(&vmfs_lock);
  return ok;
}
