/* Internals of the VMFS file system shared by filesys.c, inode.c and
 * file.c; not for use elsewhere (use kernel/filesys.h and kernel/file.h).
 *
 * An inode is the in-memory state of one file's extent: open handles on
 * the same file share it. Every function here requires vmfs_lock to be held
 * by the caller (the public entry points in filesys.c and file.c take it). */
#ifndef KERNEL_INODE_H
#define KERNEL_INODE_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/disk.h"
#include "kernel/filesys.h"
#include "kernel/synch.h"

/* Serializes every file-system operation. Never held while touching user
 * memory. */
extern struct lock vmfs_lock;

struct inode;

/* Sets the disk that inodes read and write. */
void inode_init(struct disk *);

/* The inode of the file whose extent starts at START (SECTORS sectors,
 * LENGTH bytes): the open one if any, with its open count raised, else a
 * new one. NULL if out of memory. */
struct inode *inode_open(disk_sector_t start, uint32_t sectors, off_t length);
struct inode *inode_reopen(struct inode *);
/* Drops one reference; the last close of a removed inode releases its
 * sectors for reuse. */
void inode_close(struct inode *);
/* Marks the open inode at START (if any) removed: its data stays usable
 * through open handles and its extent stays reserved until the last close. */
void inode_mark_removed(disk_sector_t start);
/* If the extent of a removed-but-open inode overlaps [START, START+CNT),
 * returns true and stores the sector just past that extent in *END. */
bool inode_removed_overlap(disk_sector_t start, uint32_t cnt,
                           disk_sector_t *end);

/* Read/write up to SIZE bytes at OFFSET; stop at the end of the file or at
 * a disk error; return the bytes transferred. BUF is kernel memory. */
off_t inode_read_at(struct inode *, void *buf, off_t size, off_t offset);
off_t inode_write_at(struct inode *, const void *buf, off_t size,
                     off_t offset);
off_t inode_length(const struct inode *);
/* The first sector of the extent: the file's identity. */
disk_sector_t inode_start(const struct inode *);

/* A new handle at position 0 that owns the caller's reference to INODE;
 * NULL if out of memory (the reference is then still the caller's). */
struct file *file_open_inode(struct inode *);

#endif
