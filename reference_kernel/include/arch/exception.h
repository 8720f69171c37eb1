/* CPU exception handlers (arch/x86_64/exception.c). */
#ifndef ARCH_EXCEPTION_H
#define ARCH_EXCEPTION_H

#include <stdint.h>

void exception_init(void);

/* Number of page faults taken since boot (a stable symbol). */
extern uint64_t vmcheck_page_fault_count;

#endif
