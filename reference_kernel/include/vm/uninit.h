/* Uninit pages (vm/uninit.c): registered but never loaded. The first
 * fault fills the frame from the page's source and turns the page into
 * its target type, as Pintos-KAIST's uninit_initialize does. */
#ifndef VM_UNINIT_H
#define VM_UNINIT_H

#include "vm/page.h"

extern const struct page_operations uninit_ops;

/* Makes PAGE (not in an SPT yet) an uninit page that becomes TARGET with
 * contents from SOURCE (NULL: zeros), taking a reference to its file. */
void uninit_init(struct page *page, enum vm_type target,
                 const struct page_source *source);

/* Fills KVA with READ_BYTES bytes of SOURCE's file and zeros after them.
 * False on a short read or an injected file_read failure (the hook gets
 * UPAGE). Called without locks. */
bool page_source_read(const struct page_source *source, void *upage,
                      void *kva);

#endif
