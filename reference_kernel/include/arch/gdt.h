/* Segment selectors, GDT and TSS. */
#ifndef ARCH_GDT_H
#define ARCH_GDT_H


#define SEL_NULL 0x00
#define SEL_KCSEG 0x08 /* kernel code */
#define SEL_KDSEG 0x10 /* kernel data */
#define SEL_UDSEG 0x1b /* user data (0x18 | RPL 3); order needed by sysret */
#define SEL_UCSEG 0x23 /* user code (0x20 | RPL 3) */
#define SEL_TSS 0x28

#ifndef __ASSEMBLER__
#include <stdint.h>

void gdt_init(void);
/* Sets the kernel stack used on entry from user mode (TSS rsp0 and the
 * syscall stub's stack). */
void tss_set_kernel_stack(uintptr_t rsp0);
#endif

#endif
