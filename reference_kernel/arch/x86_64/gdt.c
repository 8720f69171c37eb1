/* GDT with kernel/user segments and the TSS, plus syscall MSR set-up. */
#include "arch/gdt.h"

#include "arch/cpu.h"
#include "lib/string.h"

struct tss {
  uint32_t reserved0;
  uint64_t rsp0, rsp1, rsp2;
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3, iomap_base;
} __attribute__((packed));

static struct tss tss;
static uint64_t gdt[7];

/* Kernel stack the syscall entry stub switches to (syscall_entry.S). */
uint64_t syscall_kernel_rsp;

static uint64_t segment(uint32_t type_dpl_flags) {
  /* base 0, limit 0xfffff; TYPE_DPL_FLAGS holds access byte and flags. */
  return 0xffffULL | ((uint64_t)(type_dpl_flags & 0xff) << 40) |
         (0xfULL << 48) | ((uint64_t)(type_dpl_flags >> 8) << 52);
}

void gdt_init(void) {
  gdt[0] = 0;
  gdt[1] = segment(0x9a | (0xa << 8)); /* kernel code, L, G */
  gdt[2] = segment(0x92 | (0xc << 8)); /* kernel data */
  gdt[3] = segment(0xf2 | (0xc << 8)); /* user data, DPL 3 */
  gdt[4] = segment(0xfa | (0xa << 8)); /* user code, DPL 3, L */
  uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
  gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
           ((base >> 24 & 0xff) << 56);
  gdt[6] = base >> 32;
  tss.iomap_base = sizeof tss;

  struct {
    uint16_t limit;
    uint64_t base;
  } __attribute__((packed)) gdtr = {sizeof gdt - 1, (uint64_t)gdt};
  __asm__ volatile("lgdt %0\n"
                   "mov %1, %%ds\n mov %1, %%es\n mov %1, %%ss\n"
                   "pushq %2\n leaq 1f(%%rip), %%rax\n pushq %%rax\n lretq\n"
                   "1: ltr %w3"
                   :
                   : "m"(gdtr), "r"((uint64_t)SEL_KDSEG), "i"(SEL_KCSEG),
                     "r"((uint16_t)SEL_TSS)
                   : "rax", "memory");
}

void tss_set_kernel_stack(uintptr_t rsp0) {
  tss.rsp0 = rsp0;
  syscall_kernel_rsp = rsp0;
}
