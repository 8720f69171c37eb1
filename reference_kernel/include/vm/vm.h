/* Boundary between the architecture's page-fault handler and the VM
 * subsystem. The arch layer decodes the x86 error code once into a
 * struct page_fault; VM code never sees raw bits. */
#ifndef VM_VM_H
#define VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/intr.h"

struct page_fault {
  void *addr;       /* CR2 */
  bool not_present; /* false: protection violation */
  bool write;       /* false: read (or fetch) */
  bool user;        /* fault raised in user mode */
  struct intr_frame *frame;
};

enum fault_result {
  FAULT_RESOLVED,     /* page is now mapped; retry the instruction */
  FAULT_INVALID,      /* illegal access: kill the process */
  FAULT_OUT_OF_MEMORY /* legal, but no frame or swap: kill the process */
};

#include <stddef.h>

void vm_init(void);
/* Swap slots on the swap disk (0/0 without swap), for leak checks. */
size_t vm_swap_slots_total(void);
size_t vm_swap_slots_free(void);
enum fault_result vm_try_handle_fault(const struct page_fault *);

#endif
