/* Anonymous pages (vm/anon.c): zero-filled or private data, saved to a
 * swap slot when evicted. */
#ifndef VM_ANON_H
#define VM_ANON_H

#include "vm/page.h"

extern const struct page_operations anon_ops;

/* Makes PAGE an anonymous page holding what is in its frame now (no swap
 * slot). The caller has made PAGE busy or owns it exclusively. */
void anon_become(struct page *page);

#endif
