/* Page tables of one address space (x86-64, 4-level, 4 KiB user pages).
 * The interface mirrors Pintos-KAIST's threads/mmu.h so VM code reads the
 * same. PML4 pointers are kernel virtual addresses (direct map). */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P 0x1ULL     /* present */
#define PTE_W 0x2ULL     /* writable */
#define PTE_U 0x4ULL     /* user */
#define PTE_PWT 0x8ULL
#define PTE_PCD 0x10ULL
#define PTE_A 0x20ULL    /* accessed */
#define PTE_D 0x40ULL    /* dirty */
#define PTE_PS 0x80ULL   /* page size (2 MiB / 1 GiB) */
#define PTE_G 0x100ULL   /* global */
#define PTE_AVL_COW 0x200ULL /* software bit: copy-on-write page */
#define PTE_NX (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

/* Kernel page table, set up by mmu_init(). */
extern uint64_t *base_pml4;

void mmu_init(uintptr_t ram_bytes);
/* Maps the device memory at physical PA (uncached) into the direct-map
 * range and returns its kernel VA. All device pages must lie in one
 * 1 GiB region above RAM (the local APIC's does). */
void *mmu_map_mmio(uintptr_t pa);

/* New user address space that shares the kernel mappings; NULL if out of
 * kernel pages. */
uint64_t *pml4_create(void);
/* Frees every page-table page of the user half (not the frames mapped). */
void pml4_destroy(uint64_t *pml4);
/* Loads PML4 into CR3 (NULL: base_pml4). */
void pml4_activate(uint64_t *pml4);

/* PTE of user page UADDR, creating missing tables if CREATE; NULL if absent
 * (or out of memory when CREATE). */
uint64_t *pml4e_walk(uint64_t *pml4, uintptr_t uaddr, bool create);

/* Kernel VA of the frame mapped at UADDR, or NULL if not present. */
void *pml4_get_page(uint64_t *pml4, const void *uaddr);
/* Maps user page UPAGE to kernel page KPAGE (direct-map address). False if a
 * page table could not be allocated. UPAGE must be page-aligned and unmapped
 * or the mapping is replaced. */
bool pml4_set_page(uint64_t *pml4, void *upage, void *kpage, bool writable);
/* Marks UPAGE not present (keeps nothing) and flushes the TLB entry. */
void pml4_clear_page(uint64_t *pml4, void *upage);
bool pml4_is_dirty(uint64_t *pml4, const void *upage);
void pml4_set_dirty(uint64_t *pml4, const void *upage, bool dirty);
bool pml4_is_accessed(uint64_t *pml4, const void *upage);
void pml4_set_accessed(uint64_t *pml4, const void *upage, bool accessed);
/* Changes the W bit of a present page and flushes its TLB entry. */
void pml4_set_writable(uint64_t *pml4, const void *upage, bool writable);

/* Invalidates the TLB entry of VA in the current address space. */
void tlb_flush_page(const void *va);

/* Control registers. */
uint64_t rcr2(void);
uint64_t rcr3(void);

#endif
