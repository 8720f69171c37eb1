/* IDE (ATA) disks through programmed I/O with polling (kernel/disk.h).
 *
 * Two legacy channels (primary 0x1f0/0x3f6, secondary 0x170/0x376), each
 * with a master and a slave: disk index = channel * 2 + (slave ? 1 : 0),
 * matching QEMU's -drive if=ide,index=N. Only ATA hard disks are used (an
 * ATAPI CD-ROM, which QEMU attaches by default, counts as absent). LBA28
 * addressing, one sector per command. Interrupts are disabled on the
 * device side (nIEN) and every wait is a bounded status poll, so the
 * driver works whether or not IRQs are on and never hangs on a dead drive.
 * A per-channel lock lets one request at a time use a channel. */
#include <stddef.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/intr.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "kernel/synch.h"
#include "kernel/timer.h"
#include "lib/stdio.h"

/* ATA command-block register offsets from a channel's base port. */
#define REG_DATA 0
#define REG_ERROR 1
#define REG_NSECT 2
#define REG_LBA0 3
#define REG_LBA1 4
#define REG_LBA2 5
#define REG_DEVICE 6
#define REG_STATUS 7  /* read */
#define REG_COMMAND 7 /* write */

/* Status bits. */
#define STA_ERR 0x01
#define STA_DRQ 0x08
#define STA_DF 0x20
#define STA_BSY 0x80

/* Device register bits. */
#define DEV_MBS 0xa0 /* bits that must be set */
#define DEV_LBA 0x40
#define DEV_SLAVE 0x10

/* Device control register bits. */
#define CTL_NIEN 0x02 /* no interrupts */

#define CMD_READ_SECTORS 0x20
#define CMD_WRITE_SECTORS 0x30
#define CMD_IDENTIFY 0xec

#define LBA28_LIMIT ((disk_sector_t)1 << 28)
/* Status polls before a wait gives up (QEMU answers in far fewer). */
#define POLL_LIMIT 50000000u

struct channel {
  uint16_t base; /* command block */
  uint16_t ctl;  /* device control / alternate status */
  struct lock lock;
};

struct disk {
  char name[12];  /* "hdC:D": channel C, device D (0 master, 1 slave) */
  struct channel *channel;
  bool slave;
  disk_sector_t sectors;
};

static struct channel channels[2] = {
    {.base = 0x1f0, .ctl = 0x3f6}, /* primary */
    {.base = 0x170, .ctl = 0x376}, /* secondary */
};
static struct disk disks[4];
static bool disk_present[4];

/* The ~400 ns a drive needs after a device select or a command before its
 * status is meaningful: four reads of the alternate status register. */
static void settle(const struct channel *c) {
  for (int i = 0; i < 4; i++)
    inb(c->ctl);
}

/* Waits until BSY clears. Returns the final status, or -1 on timeout. */
static int wait_not_busy(const struct channel *c) {
  for (uint32_t i = 0; i < POLL_LIMIT; i++) {
    uint8_t status = inb(c->base + REG_STATUS);
    if (!(status & STA_BSY))
      return status;
    __asm__ volatile("pause");
  }
  return -1;
}

/* Waits until the drive is ready to move data (DRQ) after a command.
 * False on timeout or an error/fault status. */
static bool wait_data_request(const struct channel *c) {
  int status = wait_not_busy(c);
  return status >= 0 && (status & (STA_ERR | STA_DF)) == 0 &&
         (status & STA_DRQ) != 0;
}

/* Selects D's drive on its channel (LBA mode, top LBA bits HI_LBA) and
 * waits until the channel is idle. False on timeout. */
static bool select_drive(const struct disk *d, uint8_t hi_lba) {
  const struct channel *c = d->channel;
  if (wait_not_busy(c) < 0)
    return false;
  outb(c->base + REG_DEVICE,
       DEV_MBS | DEV_LBA | (d->slave ? DEV_SLAVE : 0) | (hi_lba & 0x0f));
  settle(c);
  return wait_not_busy(c) >= 0;
}

/* Sends a one-sector command CMD for SECTOR to D. False on timeout. */
static bool issue_sector_command(const struct disk *d, disk_sector_t sector,
                                 uint8_t cmd) {
  const struct channel *c = d->channel;
  if (!select_drive(d, (uint8_t)(sector >> 24)))
    return false;
  outb(c->base + REG_NSECT, 1);
  outb(c->base + REG_LBA0, (uint8_t)sector);
  outb(c->base + REG_LBA1, (uint8_t)(sector >> 8));
  outb(c->base + REG_LBA2, (uint8_t)(sector >> 16));
  outb(c->base + REG_COMMAND, cmd);
  settle(c);
  return true;
}

/* Runs IDENTIFY DEVICE on D. True if D is an ATA disk with LBA; sets
 * D->sectors. An absent drive reads status 0 (QEMU) or 0xff (floating). */
static bool identify(struct disk *d) {
  const struct channel *c = d->channel;
  uint16_t id[256];

  if (inb(c->base + REG_STATUS) == 0xff) /* no controller on this channel */
    return false;
  if (!select_drive(d, 0))
    return false;
  uint8_t status = inb(c->base + REG_STATUS);
  if (status == 0 || status == 0xff)
    return false;
  outb(c->base + REG_NSECT, 0);
  outb(c->base + REG_LBA0, 0);
  outb(c->base + REG_LBA1, 0);
  outb(c->base + REG_LBA2, 0);
  outb(c->base + REG_COMMAND, CMD_IDENTIFY);
  settle(c);
  if (inb(c->base + REG_STATUS) == 0 || wait_not_busy(c) < 0)
    return false;
  /* ATAPI and SATA devices put a signature in LBA1/LBA2 and abort. */
  if (inb(c->base + REG_LBA1) != 0 || inb(c->base + REG_LBA2) != 0)
    return false;
  if (!wait_data_request(c))
    return false;
  insw(c->base + REG_DATA, id, 256);
  if (!(id[49] & (1u << 9))) /* LBA supported */
    return false;
  d->sectors = (disk_sector_t)id[60] | ((disk_sector_t)id[61] << 16);
  return d->sectors > 0;
}

/* Probes the four drive positions and prints one line per disk found.
 * Must run after thread_init (locks) and before any disk_read/write. */
void disk_init(void) {
  for (int ch = 0; ch < 2; ch++) {
    lock_init(&channels[ch].lock);
    outb(channels[ch].ctl, CTL_NIEN);
  }
  for (int idx = 0; idx < 4; idx++) {
    struct disk *d = &disks[idx];
    d->channel = &channels[idx / 2];
    d->slave = idx % 2;
    snprintf(d->name, sizeof d->name, "hd%d:%d", idx / 2, idx % 2);
    disk_present[idx] = identify(d);
    if (disk_present[idx])
      printf("disk: %s (index %d): %u sectors (%u KiB)\n", d->name, idx,
             (unsigned)d->sectors, (unsigned)(d->sectors / 2));
  }
}

struct disk *disk_get(int idx) {
  if (idx < 0 || idx >= 4 || !disk_present[idx])
    return NULL;
  return &disks[idx];
}

disk_sector_t disk_size(const struct disk *d) { return d->sectors; }

/* Sector numbers usable on D: inside the disk and reachable by LBA28. */
static bool sector_ok(const struct disk *d, disk_sector_t sector) {
  return d != NULL && sector < d->sectors && sector < LBA28_LIMIT;
}

/* Writes one sector and waits until the drive has taken it (BSY clear),
 * so the data has reached QEMU's backing file when this returns true. */
/* Runs one sector transfer on D's channel: the channel lock held, and
 * interrupts off with the timer frozen, because how long QEMU takes is the
 * host's business and must not move preemption points (timer.c). Prints
 * the error register on failure. */
static bool transfer(struct disk *d, disk_sector_t sector, const char *what,
                     bool (*run)(struct disk *, disk_sector_t, void *),
                     void *buf) {
  if (!sector_ok(d, sector))
    return false;
  struct channel *c = d->channel;
  lock_acquire(&c->lock);
  enum intr_level old = intr_disable();
  struct timer_freeze fz = timer_freeze();
  bool ok = run(d, sector, buf);
  uint8_t error = ok ? 0 : inb(c->base + REG_ERROR);
  timer_thaw(&fz);
  intr_set_level(old);
  lock_release(&c->lock);
  if (!ok)
    printf("disk: %s: %s of sector %u failed (error register 0x%x)\n",
           d->name, what, (unsigned)sector, (unsigned)error);
  return ok;
}

static bool run_read(struct disk *d, disk_sector_t sector, void *buf) {
  struct channel *c = d->channel;
  if (!issue_sector_command(d, sector, CMD_READ_SECTORS) || !wait_data_request(c))
    return false;
  insw(c->base + REG_DATA, buf, DISK_SECTOR_SIZE / 2);
  return true;
}

/* Writes and waits until the drive has taken the data (BSY clear), so it
 * has reached QEMU's backing file when this returns true. */
static bool run_write(struct disk *d, disk_sector_t sector, void *buf) {
  struct channel *c = d->channel;
  if (!issue_sector_command(d, sector, CMD_WRITE_SECTORS) || !wait_data_request(c))
    return false;
  barrier(); /* BUF's contents must be in memory before outsw reads it */
  outsw(c->base + REG_DATA, buf, DISK_SECTOR_SIZE / 2);
  int status = wait_not_busy(c);
  return status >= 0 && (status & (STA_ERR | STA_DF)) == 0;
}

bool disk_read(struct disk *d, disk_sector_t sector, void *buf) {
  return transfer(d, sector, "read", run_read, buf);
}

bool disk_write(struct disk *d, disk_sector_t sector, const void *buf) {
  return transfer(d, sector, "write", run_write, (void *)buf);
}
