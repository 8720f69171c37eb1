/* Kernel page table set-up and user page tables (see arch/mmu.h). */
#include "arch/mmu.h"

#include "arch/cpu.h"
#include "arch/memlayout.h"
#include "kernel/debug.h"
#include "kernel/palloc.h"
#include "lib/string.h"

#define ENTRIES 512
#define PML4_SHIFT 39
#define PDPT_SHIFT 30
#define PD_SHIFT 21
#define IDX(va, shift) (((uintptr_t)(va) >> (shift)) & (ENTRIES - 1))
#define LARGE_PAGE ((uintptr_t)1 << PD_SHIFT)
#define MAX_RAM ((uintptr_t)1 << 30)

extern uint64_t boot_pml4[], boot_pd[];

uint64_t *base_pml4;
static uint64_t kernel_pml4[ENTRIES] __attribute__((aligned(4096)));
static uint64_t direct_pdpt[ENTRIES] __attribute__((aligned(4096)));
static uint64_t direct_pd[2][ENTRIES] __attribute__((aligned(4096)));
static uint64_t mmio_pd[ENTRIES] __attribute__((aligned(4096)));
static int mmio_pdpt_index = -1;

/* Kernel VA (image alias) of boot-time physical address PA; the boot
 * tables are linked at their physical addresses. */
static uint64_t *boot_table(uintptr_t pa) { return (uint64_t *)(pa + KERNEL_VMA); }

/* Builds the direct map of RAM_BYTES at KERN_BASE, keeps the kernel image
 * mapping, drops the identity map, and trims both maps to RAM. */
void mmu_init(uintptr_t ram_bytes) {
  if (ram_bytes > MAX_RAM)
    ram_bytes = MAX_RAM;
  for (uintptr_t pa = 0; pa < ram_bytes; pa += LARGE_PAGE) {
    uintptr_t va = KERN_BASE + pa;
    size_t pdpt_i = IDX(va, PDPT_SHIFT);
    ASSERT(pdpt_i < 2);
    direct_pd[pdpt_i][IDX(va, PD_SHIFT)] = pa | PTE_PS | PTE_W | PTE_P | PTE_NX;
    direct_pdpt[pdpt_i] = vtop(direct_pd[pdpt_i]) | PTE_W | PTE_P;
  }
  kernel_pml4[IDX(KERN_BASE, PML4_SHIFT)] = vtop(direct_pdpt) | PTE_W | PTE_P;
  kernel_pml4[ENTRIES - 1] = boot_table((uintptr_t)boot_pml4)[ENTRIES - 1];
  uint64_t *pd = boot_table((uintptr_t)boot_pd);
  for (size_t i = (ram_bytes + LARGE_PAGE - 1) / LARGE_PAGE; i < ENTRIES; i++)
    pd[i] = 0;
  base_pml4 = kernel_pml4;
  lcr3(vtop(base_pml4));
}

void *mmu_map_mmio(uintptr_t pa) {
  uintptr_t va = KERN_BASE + pa;
  int pdpt_i = (int)IDX(va, PDPT_SHIFT);
  ASSERT(pdpt_i >= 2 && (mmio_pdpt_index < 0 || mmio_pdpt_index == pdpt_i));
  mmio_pdpt_index = pdpt_i;
  mmio_pd[IDX(va, PD_SHIFT)] = (pa & ~(LARGE_PAGE - 1)) | PTE_PS | PTE_PCD |
                               PTE_PWT | PTE_W | PTE_P | PTE_NX;
  direct_pdpt[pdpt_i] = vtop(mmio_pd) | PTE_W | PTE_P;
  lcr3(rcr3());
  return (void *)va;
}

uint64_t rcr2(void) {
  uint64_t v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

uint64_t rcr3(void) {
  uint64_t v;
  __asm__ volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}

void tlb_flush_page(const void *va) { invlpg(va); }

uint64_t *pml4_create(void) {
  uint64_t *pml4 = palloc_get_page(PAL_ZERO);
  if (pml4 == NULL)
    return NULL;
  pml4[IDX(KERN_BASE, PML4_SHIFT)] = base_pml4[IDX(KERN_BASE, PML4_SHIFT)];
  pml4[ENTRIES - 1] = base_pml4[ENTRIES - 1];
  return pml4;
}

/* Frees the table page at physical address in ENTRY and, for LEVEL > 1,
 * every table below it. Frames mapped by level-1 entries are not freed. */
static void free_table(uint64_t entry, int level) {
  uint64_t *table = ptov(entry & PTE_ADDR_MASK);
  if (level > 1)
    for (int i = 0; i < ENTRIES; i++)
      if ((table[i] & PTE_P) && !(table[i] & PTE_PS))
        free_table(table[i], level - 1);
  palloc_free_page(table);
}

void pml4_destroy(uint64_t *pml4) {
  if (pml4 == NULL)
    return;
  ASSERT(pml4 != base_pml4);
  /* User space is exactly PML4 entry 0 (USER_TOP = 512 GiB). */
  if (pml4[0] & PTE_P)
    free_table(pml4[0], 3);
  palloc_free_page(pml4);
}

void pml4_activate(uint64_t *pml4) {
  lcr3(vtop(pml4 != NULL ? pml4 : base_pml4));
}

/* Returns the table that ENTRY points to, allocating it if CREATE. */
static uint64_t *next_table(uint64_t *entry, bool create) {
  if (!(*entry & PTE_P)) {
    if (!create)
      return NULL;
    uint64_t *t = palloc_get_page(PAL_ZERO);
    if (t == NULL)
      return NULL;
    *entry = vtop(t) | PTE_U | PTE_W | PTE_P;
  }
  ASSERT(!(*entry & PTE_PS));
  return ptov(*entry & PTE_ADDR_MASK);
}

uint64_t *pml4e_walk(uint64_t *pml4, uintptr_t uaddr, bool create) {
  ASSERT(is_user_vaddr((void *)uaddr));
  uint64_t *pdpt = next_table(&pml4[IDX(uaddr, PML4_SHIFT)], create);
  uint64_t *pd = pdpt ? next_table(&pdpt[IDX(uaddr, PDPT_SHIFT)], create) : NULL;
  uint64_t *pt = pd ? next_table(&pd[IDX(uaddr, PD_SHIFT)], create) : NULL;
  return pt ? &pt[IDX(uaddr, PGSHIFT)] : NULL;
}

void *pml4_get_page(uint64_t *pml4, const void *uaddr) {
  if (!is_user_vaddr(uaddr))
    return NULL;
  uint64_t *pte = pml4e_walk(pml4, (uintptr_t)uaddr, false);
  if (pte == NULL || !(*pte & PTE_P))
    return NULL;
  return (uint8_t *)ptov(*pte & PTE_ADDR_MASK) + pg_ofs(uaddr);
}

/* Flushes UPAGE's TLB entry if PML4 is the active address space. */
static void flush_if_active(uint64_t *pml4, const void *upage) {
  if (rcr3() == vtop(pml4))
    tlb_flush_page(upage);
}

bool pml4_set_page(uint64_t *pml4, void *upage, void *kpage, bool writable) {
  ASSERT(pg_ofs(upage) == 0 && pg_ofs(kpage) == 0);
  ASSERT(is_user_vaddr(upage) && is_kernel_vaddr(kpage));
  uint64_t *pte = pml4e_walk(pml4, (uintptr_t)upage, true);
  if (pte == NULL)
    return false;
  *pte = vtop(kpage) | PTE_U | PTE_P | (writable ? PTE_W : 0);
  flush_if_active(pml4, upage);
  return true;
}

void pml4_clear_page(uint64_t *pml4, void *upage) {
  ASSERT(pg_ofs(upage) == 0);
  uint64_t *pte = pml4e_walk(pml4, (uintptr_t)upage, false);
  if (pte != NULL && (*pte & PTE_P)) {
    *pte &= ~PTE_P;
    flush_if_active(pml4, upage);
  }
}

/* Sets or clears BITS in UPAGE's PTE if present. */
static void update_pte(uint64_t *pml4, const void *upage, uint64_t bits, bool on) {
  uint64_t *pte = pml4e_walk(pml4, (uintptr_t)upage, false);
  if (pte == NULL || !(*pte & PTE_P))
    return;
  *pte = on ? *pte | bits : *pte & ~bits;
  flush_if_active(pml4, pg_round_down(upage));
}

static bool test_pte(uint64_t *pml4, const void *upage, uint64_t bits) {
  uint64_t *pte = pml4e_walk(pml4, (uintptr_t)upage, false);
  return pte != NULL && (*pte & PTE_P) && (*pte & bits);
}

bool pml4_is_dirty(uint64_t *pml4, const void *upage) { return test_pte(pml4, upage, PTE_D); }
bool pml4_is_accessed(uint64_t *pml4, const void *upage) { return test_pte(pml4, upage, PTE_A); }
void pml4_set_dirty(uint64_t *pml4, const void *upage, bool v) { update_pte(pml4, upage, PTE_D, v); }
void pml4_set_accessed(uint64_t *pml4, const void *upage, bool v) { update_pte(pml4, upage, PTE_A, v); }
void pml4_set_writable(uint64_t *pml4, const void *upage, bool v) { update_pte(pml4, upage, PTE_W, v); }
