/* Block devices: the IDE disks QEMU provides (PIO, polling, 512-byte
 * sectors). Disk index = QEMU's -drive if=ide,index=N:
 *   0 = file system, 1 = swap. */
#ifndef KERNEL_DISK_H
#define KERNEL_DISK_H

#include <stdbool.h>
#include <stdint.h>

#define DISK_SECTOR_SIZE 512
#define DISK_FILESYS 0
#define DISK_SWAP 1

typedef uint32_t disk_sector_t;
struct disk;

void disk_init(void);
/* The disk at IDE index IDX (0..3), or NULL if QEMU attached none. */
struct disk *disk_get(int idx);
disk_sector_t disk_size(const struct disk *);
/* Read/write one sector; false on a device error or a sector out of range.
 * Thread-safe (one request per channel at a time). */
bool disk_read(struct disk *, disk_sector_t sector, void *buf);
bool disk_write(struct disk *, disk_sector_t sector, const void *buf);

#endif
