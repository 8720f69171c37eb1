/* Virtual and physical memory layout of the reference kernel (x86-64).
 *
 *   0x0000000000000000  +--------------------------+
 *                       | unmapped (NULL guard)    |
 *   0x0000000000400000  | user program (ELF, 4 KiB)|
 *                       | ... user heap/mmap ...   |
 *   USER_STACK - 1 MB   | user stack (grows down)  |
 *   USER_STACK          +--------------------------+ 0x47480000
 *                       | user mmap space          |
 *   USER_TOP            +--------------------------+ 0x8000000000 (512 GiB)
 *                       | not usable by user space |
 *   KERN_BASE           +--------------------------+ 0x8004000000
 *                       | direct map of all RAM    |  ptov(pa) = pa + KERN_BASE
 *                       |  (2 MiB pages, no U bit) |  (same as Pintos-KAIST)
 *                       +--------------------------+
 *   KERNEL_VMA          +--------------------------+ 0xffffffff80000000
 *                       | kernel image (linked     |  -mcmodel=kernel; maps
 *                       |  here, loaded at 1 MiB)  |  physical 0 .. 1 GiB
 *                       +--------------------------+
 *
 * Every kernel page table maps KERN_BASE and KERNEL_VMA with the same
 * PML4 entries; user page tables copy those two entries (see mmu.c). */
#ifndef ARCH_MEMLAYOUT_H
#define ARCH_MEMLAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#define PGSHIFT 12
#define PGSIZE ((uintptr_t)1 << PGSHIFT)
#define PGMASK (PGSIZE - 1)
#define pg_ofs(va) ((uintptr_t)(va) & PGMASK)
#define pg_no(va) ((uintptr_t)(va) >> PGSHIFT)
#define pg_round_up(va) ((void *)(((uintptr_t)(va) + PGSIZE - 1) & ~PGMASK))
#define pg_round_down(va) ((void *)((uintptr_t)(va) & ~PGMASK))

#define KERN_BASE ((uintptr_t)0x8004000000ULL)
#define USER_TOP ((uintptr_t)0x8000000000ULL)
#define KERNEL_VMA ((uintptr_t)0xffffffff80000000ULL)
#define USER_STACK ((uintptr_t)0x47480000ULL)
#define USER_STACK_LIMIT ((uintptr_t)(1024 * 1024)) /* max stack size */
#define USER_CODE_BASE ((uintptr_t)0x400000ULL)

/* True if VADDR lies in the range a user program may use. */
static inline bool is_user_vaddr(const void *vaddr) {
  return (uintptr_t)vaddr < USER_TOP;
}

/* True if VADDR is a kernel address (direct map or kernel image). */
static inline bool is_kernel_vaddr(const void *vaddr) {
  return (uintptr_t)vaddr >= KERN_BASE;
}

/* Kernel virtual address (direct map) of physical address PA. */
static inline void *ptov(uintptr_t pa) { return (void *)(pa + KERN_BASE); }

/* Physical address of kernel virtual address VA (direct map or image). */
static inline uintptr_t vtop(const void *va) {
  uintptr_t v = (uintptr_t)va;
  return v >= KERNEL_VMA ? v - KERNEL_VMA : v - KERN_BASE;
}

#endif
