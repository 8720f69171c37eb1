/* Kernel entry: bring up the machine, run the command line's programs one
 * after another, then power off with a leak summary line. */
#include <stdint.h>

#include "arch/exception.h"
#include "arch/gdt.h"
#include "arch/intr.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "kernel/args.h"
#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/disk.h"
#include "kernel/file.h"
#include "kernel/filesys.h"
#include "kernel/hooks.h"
#include "kernel/malloc.h"
#include "kernel/palloc.h"
#include "kernel/power.h"
#include "kernel/process.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "kernel/timer.h"
#include "kernel/inode.h"
#include "lib/string.h"
#include "vm/frame.h"
#include "vm/swap.h"
#include "vm/vm.h"

#define MB_BOOTLOADER_MAGIC 0x2BADB002
#define MB_INFO_MEM 0x1
#define MB_INFO_CMDLINE 0x4

struct multiboot_info {
  uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

extern char __kernel_end[];
void syscall_arch_init(void);

static char cmdline[512];

/* Reads RAM size and the command line from the multiboot info at physical
 * MBI_PA (reachable through the kernel-image alias of low memory). */
static uintptr_t read_multiboot(uint32_t magic, uint32_t mbi_pa) {
  if (magic != MB_BOOTLOADER_MAGIC)
    PANIC("not booted by a multiboot loader (magic 0x%x)", magic);
  const struct multiboot_info *mbi = (void *)(KERNEL_VMA + mbi_pa);
  if (!(mbi->flags & MB_INFO_MEM))
    PANIC("multiboot loader gave no memory size");
  if (mbi->flags & MB_INFO_CMDLINE) {
    /* The loader puts the kernel's own path first (QEMU and GRUB do). */
    const char *s = (const char *)(KERNEL_VMA + mbi->cmdline);
    const char *space = strchr(s, ' ');
    strlcpy(cmdline, space != NULL ? space + 1 : "", sizeof cmdline);
  }
  return ((uintptr_t)mbi->mem_upper + 1024) * 1024;
}

static void count_thread(struct thread *t, void *count) {
  (void)t;
  (*(size_t *)count)++;
}

static size_t threads_alive(void) {
  size_t count = 0;
  enum intr_level old = intr_disable();
  thread_foreach(count_thread, &count);
  intr_set_level(old);
  return count;
}

/* Gives the CPU until no more than BOOT_THREADS threads are left: a
 * process thread that woke the run loop may not have reached thread_exit
 * yet, and its struct is freed only by the thread that runs after it. */
static void reap_ended_threads(size_t boot_threads) {
  for (int i = 0; i < 1000 && threads_alive() > boot_threads; i++)
    thread_yield();
}

/* HEAP_AT_BOOT, BOOT_THREADS: heap blocks in use and threads alive at
 * "boot complete"; everything a process allocated is free again once all
 * processes ended, so a higher heap count is a leak. */
static void power_off_with_summary(size_t heap_at_boot, size_t boot_threads) {
  hooks_release_all();
  reap_ended_threads(boot_threads);
  filesys_done();
  /* Every lock free once every process ended: semaphore value 1. A lock
   * released more often than taken counts higher and admits two threads
   * at once; one left held counts 0. The counts are read first: reading
   * the free slots takes the swap map's lock, so its value is read after
   * (a printf argument list has no order). */
  size_t slots_free = vm_swap_slots_free();
  size_t frames_free = palloc_user_pages_free();
  unsigned swap_lock = vmcheck_swap_map.lock.semaphore.value;
  printf("vmcheck: poweroff user_frames_free=%zu/%zu swap_slots_free=%zu/%zu "
         "open_files=%zu vm_lock=%u vmfs_lock=%u heap_blocks=%zu/%zu "
         "swap_lock=%u\n",
         frames_free, palloc_user_pages_total(), slots_free,
         vm_swap_slots_total(), file_handles_open(),
         vmcheck_frame_table.lock.semaphore.value, vmfs_lock.semaphore.value,
         malloc_blocks_in_use(), heap_at_boot, swap_lock);
  power_off(POWER_EXIT_OK);
}

void kmain(uint32_t magic, uint32_t mbi_pa) {
  console_init();
  uintptr_t ram = read_multiboot(magic, mbi_pa);
  gdt_init();
  mmu_init(ram);
  intr_init();
  exception_init();
  struct kernel_args args;
  printf("vmcheck reference kernel: %lu MB RAM, command line: %s\n",
         ram >> 20, cmdline);
  args_parse(cmdline, &args);
  palloc_init(vtop(__kernel_end), ram, args.user_page_limit);
  malloc_init();
  thread_init();
  console_init_locking();
  timer_init();
  syscall_arch_init();
  thread_start();
  disk_init();
  filesys_init();
  syscall_init();
  vm_init();
  size_t heap_at_boot = malloc_blocks_in_use(), boot_threads = threads_alive();
  printf("vmcheck: boot complete\n");
  for (int i = 0; i < args.run_cnt; i++) {
    printf("Executing '%s':\n", args.runs[i]);
    process_run(args.runs[i]);
  }
  power_off_with_summary(heap_at_boot, boot_threads);
}
