/* IDT, 8259 PIC and interrupt dispatch. */
#include "arch/intr.h"

#include "arch/cpu.h"
#include "arch/gdt.h"
#include "arch/mmu.h"
#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/thread.h"

#define IDT_CNT 256
#define PIC_IRQ_BASE 0x20

struct idt_gate {
  uint16_t off_lo, sel;
  uint8_t ist, type_attr;
  uint16_t off_mid;
  uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_gate idt[IDT_CNT];
static intr_handler_func *handlers[IDT_CNT];
static const char *names[IDT_CNT];
static bool in_external;
static bool yield_on_return;

extern char intr_stubs_start[];

static void set_gate(int vec, int dpl) {
  uint64_t addr = (uint64_t)(intr_stubs_start + 16 * vec);
  idt[vec] = (struct idt_gate){
      .off_lo = addr & 0xffff, .sel = SEL_KCSEG, .ist = 0,
      .type_attr = (uint8_t)(0x8e | (dpl << 5)), /* interrupt gate */
      .off_mid = (addr >> 16) & 0xffff, .off_hi = addr >> 32};
}

#define MSR_APIC_BASE 0x1b
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360

/* Puts the local APIC in virtual-wire mode: LINT0 delivers the 8259's
 * interrupts (ExtINT), LINT1 NMIs. SeaBIOS does this; qboot does not, and
 * QEMU drops PIC interrupts while LINT0 is masked. */
static void lapic_virtual_wire(void) {
  uintptr_t base = rdmsr(MSR_APIC_BASE) & ~0xfffULL;
  volatile uint32_t *lapic = mmu_map_mmio(base);
  lapic[LAPIC_SVR / 4] = 0x1ff;          /* software enable, spurious 0xff */
  lapic[LAPIC_LVT_LINT0 / 4] = 0x700;    /* ExtINT, unmasked */
  lapic[LAPIC_LVT_LINT1 / 4] = 0x400;    /* NMI */
}

/* Programs the 8259 PICs: IRQs at 0x20..0x2f, all masked. */
static void pic_init(void) {
  lapic_virtual_wire();
  outb(0x21, 0xff); /* mask all */
  outb(0xa1, 0xff);
  outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
  outb(0x21, PIC_IRQ_BASE);
  outb(0x21, 0x04);
  outb(0x21, 0x01);
  outb(0xa0, 0x11);
  outb(0xa1, PIC_IRQ_BASE + 8);
  outb(0xa1, 0x02);
  outb(0xa1, 0x01);
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
}

static void pic_unmask(int irq) {
  uint16_t port = irq < 8 ? 0x21 : 0xa1;
  outb(port, inb(port) & ~(1 << (irq & 7)));
  if (irq >= 8)
    outb(0x21, inb(0x21) & ~(1 << 2));
}

static void pic_eoi(int vec) {
  if (vec >= PIC_IRQ_BASE + 8)
    outb(0xa0, 0x20);
  outb(0x20, 0x20);
}

void intr_init(void) {
  pic_init();
  for (int i = 0; i < IDT_CNT; i++)
    set_gate(i, 0);
  struct {
    uint16_t limit;
    uint64_t base;
  } __attribute__((packed)) idtr = {sizeof idt - 1, (uint64_t)idt};
  __asm__ volatile("lidt %0" : : "m"(idtr));
}

void intr_register_ext(uint8_t vec, intr_handler_func *h, const char *name) {
  ASSERT(vec >= PIC_IRQ_BASE && vec < PIC_IRQ_BASE + 16);
  handlers[vec] = h;
  names[vec] = name;
  pic_unmask(vec - PIC_IRQ_BASE);
}

void intr_register_int(uint8_t vec, int dpl, intr_handler_func *h,
                       const char *name) {
  handlers[vec] = h;
  names[vec] = name;
  set_gate(vec, dpl);
}

enum intr_level intr_get_level(void) {
  uint64_t flags;
  __asm__ volatile("pushfq; pop %0" : "=g"(flags));
  return flags & FLAG_IF ? INTR_ON : INTR_OFF;
}

enum intr_level intr_enable(void) {
  enum intr_level old = intr_get_level();
  ASSERT(!intr_context());
  __asm__ volatile("sti" : : : "memory");
  return old;
}

enum intr_level intr_disable(void) {
  enum intr_level old = intr_get_level();
  __asm__ volatile("cli" : : : "memory");
  return old;
}

enum intr_level intr_set_level(enum intr_level level) {
  return level == INTR_ON ? intr_enable() : intr_disable();
}

bool intr_context(void) { return in_external; }

void intr_yield_on_return(void) {
  ASSERT(intr_context());
  yield_on_return = true;
}

void intr_dump_frame(const struct intr_frame *f) {
  printf("  vec=0x%lx err=0x%lx rip=0x%lx cs=0x%lx rflags=0x%lx rsp=0x%lx\n"
         "  rax=0x%lx rbx=0x%lx rcx=0x%lx rdx=0x%lx rsi=0x%lx rdi=0x%lx\n",
         f->vec_no, f->error_code, f->rip, f->cs, f->rflags, f->rsp,
         f->R.rax, f->R.rbx, f->R.rcx, f->R.rdx, f->R.rsi, f->R.rdi);
}

/* Called by intr_entry (intr_stubs.S) for every interrupt and exception. */
void intr_handler(struct intr_frame *f) {
  int vec = (int)f->vec_no;
  bool external = vec >= PIC_IRQ_BASE && vec < PIC_IRQ_BASE + 16;
  if (external) {
    ASSERT(intr_get_level() == INTR_OFF);
    in_external = true;
    yield_on_return = false;
  }
  if (handlers[vec] != NULL)
    handlers[vec](f);
  else if (!(external && (vec == 0x27 || vec == 0x2f)) && vec != 0xff)
    /* 0x27, 0x2f: spurious PIC IRQs; 0xff: spurious APIC vector. */
    PANIC("unexpected interrupt 0x%x (%s) rip=0x%lx", vec,
          names[vec] ? names[vec] : "unknown", f->rip);
  if (external) {
    in_external = false;
    pic_eoi(vec);
    if (yield_on_return)
      thread_yield();
  }
}
