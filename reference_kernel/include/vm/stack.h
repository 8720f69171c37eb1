/* User stack growth (vm/stack.c). The stack may grow to USER_STACK_LIMIT
 * (1 MB) below USER_STACK; a fault grows it when the address is in that
 * range and at or above rsp - 8 (a push faults 8 bytes below rsp). In a
 * system call, rsp is the user rsp saved at syscall entry. */
#ifndef VM_STACK_H
#define VM_STACK_H

#include <stdbool.h>

#include "vm/spt.h"
#include "vm/vm.h"

/* True if fault PF, on an address with no page, is a legal stack access
 * by the running thread. */
bool stack_growth_allowed(const struct page_fault *pf);

/* Adds the zero-filled stack page UPAGE to SPT (not yet resident); NULL
 * if out of memory. */
struct page *stack_grow(struct supplemental_page_table *spt, void *upage);

/* Registers and claims the first stack page, the one ending at
 * USER_STACK. False if out of memory. */
bool vm_setup_stack(struct supplemental_page_table *spt);

#endif
