/* Kernel heap over kernel-pool pages. Blocks of up to 2 KiB come from
 * power-of-two size classes; larger ones are whole pages. */
#ifndef KERNEL_MALLOC_H
#define KERNEL_MALLOC_H

#include <stddef.h>

void malloc_init(void);
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);
/* Blocks allocated and not yet freed (a leak check compares two counts). */
size_t malloc_blocks_in_use(void);

#endif
