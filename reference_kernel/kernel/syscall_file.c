/* File and memory-mapping system calls. fd 0 is the keyboard (always at
 * end of file: the reference kernel has no keyboard input) and fd 1 the
 * console. Data moves through the process's bounce page, a page at a time,
 * so the file system never touches user memory and no file-system lock is
 * held while a user page faults in. A bad fd makes read, write, filesize
 * and tell return -1 and seek and close do nothing (Pintos-KAIST accepts
 * this); a bad pointer ends the process with exit(-1). */
#include <stdint.h>

#include "arch/memlayout.h"
#include "kernel/console.h"
#include "kernel/file.h"
#include "kernel/filesys.h"
#if defined(VMCHECK_MUTANT_lock_order_read_munmap) || \
    defined(VMCHECK_MUTANT_lock_order_read_evict)
/* the lock-order mutants' mistake: read() is one file-system critical
 * section, so the user buffer's page faults take the VM lock with
 * vmfs_lock held */
#define READ_UNDER_FS_LOCK
#include "kernel/inode.h"
#endif
#include "kernel/process.h"
#include "kernel/process_types.h"
#include "kernel/syscall_impl.h"
#include "kernel/usercopy.h"
#include "vm/mmap.h"

static struct fd_table *current_fds(void) { return &process_current()->fds; }

static struct file *fd_file(uint64_t fd) {
  return fd_table_get(current_fds(), (int)fd);
}

/* Ends the process unless [UBUF, UBUF+SIZE) lies in user space. */
static void require_user_range(const void *ubuf, size_t size) {
  if (!is_user_range(ubuf, size))
    process_exit(-1);
}

/* The file name at user address UNAME, copied into the bounce page, or
 * NULL if it is longer than a page (no such file can exist). The whole
 * string is read, so a name running into unmapped memory ends the process
 * whatever its length up to a page. */
static const char *file_name_arg(uint64_t uname) {
  char *name = (char *)process_current()->bounce;
  return syscall_string_arg(name, uname, PGSIZE) ? name : NULL;
}

uint64_t sys_create(struct intr_frame *f) {
  const char *name = file_name_arg(f->R.rdi);
  unsigned size = (unsigned)f->R.rsi;
  if (name == NULL || size > INT32_MAX)
    return false;
  return filesys_create(name, (off_t)size);
}

uint64_t sys_remove(struct intr_frame *f) {
  const char *name = file_name_arg(f->R.rdi);
  return name != NULL && filesys_remove(name);
}

uint64_t sys_open(struct intr_frame *f) {
  const char *name = file_name_arg(f->R.rdi);
  if (name == NULL)
    return syscall_int(-1);
  struct file *file = filesys_open(name);
  if (file == NULL)
    return syscall_int(-1);
  int fd = fd_table_add(current_fds(), file);
  if (fd < 0)
    file_close(file);
  return syscall_int(fd);
}

uint64_t sys_filesize(struct intr_frame *f) {
  struct file *file = fd_file(f->R.rdi);
  return syscall_int(file != NULL ? file_length(file) : -1);
}

/* Reads up to SIZE bytes of FILE into user buffer UBUF; returns the count
 * read (short at end of file). */
static int64_t read_to_user(struct file *file, uint8_t *ubuf, size_t size) {
  uint8_t *bounce = process_current()->bounce;
  size_t done = 0;
#ifdef READ_UNDER_FS_LOCK
  lock_acquire(&vmfs_lock);
#endif
  while (done < size) {
    off_t chunk = (off_t)(size - done < PGSIZE ? size - done : PGSIZE);
#ifdef READ_UNDER_FS_LOCK
    off_t n = file_read_locked(file, bounce, chunk);
#else
    off_t n = file_read(file, bounce, chunk);
#endif
    if (n > 0 && !copy_to_user(ubuf + done, bounce, (size_t)n))
      process_exit(-1);
    done += (size_t)(n > 0 ? n : 0);
    if (n < chunk)
      break;
  }
#ifdef READ_UNDER_FS_LOCK
  lock_release(&vmfs_lock);
#endif
  return (int64_t)done;
}

uint64_t sys_read(struct intr_frame *f) {
  uint8_t *ubuf = (uint8_t *)f->R.rsi;
  size_t size = (unsigned)f->R.rdx;
  require_user_range(ubuf, size);
  if (f->R.rdi == FD_STDIN)
    return 0;
  struct file *file = fd_file(f->R.rdi);
  if (file == NULL)
    return syscall_int(-1);
  return syscall_int(read_to_user(file, ubuf, size));
}

/* Writes SIZE bytes from user buffer UBUF to FILE, or to the console if
 * FILE is NULL; returns the count written (files never grow, so a write
 * can stop at the end of the file). */
static int64_t write_from_user(struct file *file, const uint8_t *ubuf,
                               size_t size) {
  uint8_t *bounce = process_current()->bounce;
  size_t done = 0;
  while (done < size) {
    size_t chunk = size - done < PGSIZE ? size - done : PGSIZE;
    if (!copy_from_user(bounce, ubuf + done, chunk))
      process_exit(-1);
    if (file == NULL) {
      putbuf((const char *)bounce, chunk);
      done += chunk;
      continue;
    }
    off_t n = file_write(file, bounce, (off_t)chunk);
    done += (size_t)(n > 0 ? n : 0);
    if ((size_t)n < chunk)
      break;
  }
  return (int64_t)done;
}

uint64_t sys_write(struct intr_frame *f) {
  const uint8_t *ubuf = (const uint8_t *)f->R.rsi;
  size_t size = (unsigned)f->R.rdx;
  require_user_range(ubuf, size);
  if (f->R.rdi == FD_STDOUT)
    return syscall_int(write_from_user(NULL, ubuf, size));
  struct file *file = fd_file(f->R.rdi);
  if (file == NULL)
    return syscall_int(-1);
  return syscall_int(write_from_user(file, ubuf, size));
}

uint64_t sys_seek(struct intr_frame *f) {
  struct file *file = fd_file(f->R.rdi);
  if (file != NULL)
    file_seek(file, (off_t)(unsigned)f->R.rsi);
  return 0;
}

uint64_t sys_tell(struct intr_frame *f) {
  struct file *file = fd_file(f->R.rdi);
  return syscall_int(file != NULL ? file_tell(file) : -1);
}

uint64_t sys_close(struct intr_frame *f) {
  file_close(fd_table_take(current_fds(), (int)f->R.rdi));
  return 0;
}

/* mmap(addr, length, writable, fd, offset); NULL on failure. The checks
 * on ADDR, LENGTH and OFFSET are vm_mmap's. */
uint64_t sys_mmap(struct intr_frame *f) {
  struct file *file = fd_file(f->R.r10);
#ifdef VMCHECK_MUTANT_mmap_console_fd
  /* the mistake: fds 0 and 1 are not refused; a kernel that keeps a
   * stand-in handle for the console there passes it on as a file */
  if (f->R.r10 == FD_STDIN || f->R.r10 == FD_STDOUT)
    file = (struct file *)(uintptr_t)(0x1000 + f->R.r10);
#endif
  if (file == NULL)
    return 0;
  return (uint64_t)vm_mmap((void *)f->R.rdi, (size_t)f->R.rsi,
                           (int)f->R.rdx, file, (off_t)f->R.r8);
}

uint64_t sys_munmap(struct intr_frame *f) {
  vm_munmap((void *)f->R.rdi);
  return 0;
}
