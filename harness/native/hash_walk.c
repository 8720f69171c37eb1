/* The hot loop of a state capture, over the guest's RAM mapped into the
 * harness (harness/machine/guest_ram.py): a kernel hash table walked link
 * by link, each entry's bytes gathered into one flat buffer. Loaded with
 * ctypes by harness/debug/native_walk.py; built by `make native` into
 * build/native/libvmcheck_hash_walk.so. Without it the harness does the same in
 * Python (harness/debug/typed_memory.py decode_hash).
 *
 * Virtual addresses translate as harness/debug/guest_memory.py
 * MappedMemory does (present bits and page sizes; no permission or
 * reserved-bit checks). Anything the Python path would not read from the
 * mapping (an address that is not canonical or not mapped, a page outside
 * RAM or in the legacy window [0xA0000, 0x100000)), a NULL link or too
 * many entries ends the walk with a negative code: the caller then walks
 * in Python, which reads through the stub or reports the error as before.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAGE 4096ULL
#define PTE_P 1ULL
#define PTE_PS (1ULL << 7)
#define ADDRESS_MASK 0x000FFFFFFFFFF000ULL
#define HOLE_START 0xA0000ULL
#define HOLE_END 0x100000ULL
#define NO_FRAME UINT64_MAX

enum { WALK_NOT_LOCAL = -1, WALK_BROKEN = -2, WALK_FULL = -3 };

struct ram {
  const uint8_t *base;
  uint64_t size;
  uint64_t pml4;        /* physical address of the page-table root */
};

/* Whether [address, address + length) is RAM as the CPU sees it. */
static int in_ram(const struct ram *r, uint64_t address, uint64_t length) {
  uint64_t end = address + length;
  return end >= address && end <= r->size && (end <= HOLE_START || address >= HOLE_END);
}

static uint64_t load_u64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);      /* x86-64 and the guest are both little-endian */
  return v;
}

/* The physical page of VA's page, NO_FRAME if it is not mapped onto RAM
 * (guest_memory.py MappedMemory._walk, then local_page's test). */
static uint64_t translate(const struct ram *r, uint64_t va) {
  int64_t s = (int64_t)va;
  if (s < -(1LL << 47) || s >= (1LL << 47))
    return NO_FRAME;            /* not canonical */
  uint64_t table = r->pml4;
  for (int level = 4; level >= 1; level--) {
    int shift = 12 + 9 * (level - 1);
    uint64_t entry_at = table + 8 * ((va >> shift) & 511);
    if (!in_ram(r, entry_at, 8))
      return NO_FRAME;
    uint64_t entry = load_u64(r->base + entry_at);
    if (!(entry & PTE_P))
      return NO_FRAME;
    if ((level == 3 || level == 2) && (entry & PTE_PS)) {
      uint64_t span = 1ULL << shift;
      table = (entry & ADDRESS_MASK & ~(span - 1)) + (va & (span - 1) & ~(PAGE - 1));
      break;
    }
    table = entry & ADDRESS_MASK;
  }
  return in_ram(r, table, PAGE) ? table : NO_FRAME;
}

/* Copies LENGTH bytes at VA into OUT, page by page; -1 if a page is not
 * local (nothing is read then from the stub: the caller falls back). */
static int copy_virt(const struct ram *r, uint64_t va, uint64_t length, uint8_t *out) {
  while (length > 0) {
    uint64_t offset = va & (PAGE - 1);
    uint64_t piece = PAGE - offset < length ? PAGE - offset : length;
    uint64_t frame = translate(r, va - offset);
    if (frame == NO_FRAME)
      return -1;
    memcpy(out, r->base + frame + offset, piece);
    out += piece;
    va += piece;
    length -= piece;
  }
  return 0;
}

/* Walks the chains of a hash table: bucket i's chain starts at link
 * HEADS[i] and ends at link ENDS[i] (NULL for a chain, the list's tail for
 * a Pintos list). An entry is at link - ELEM_OFFSET, ENTRY_SIZE bytes; the
 * next link is the 8 bytes at LINK_OFFSET in it. The entries' addresses go
 * to ADDRESSES and their bytes, one after another, to OUT (room for
 * CAPACITY entries). Returns the number of entries, or WALK_NOT_LOCAL,
 * WALK_BROKEN (a NULL link before a chain's end, or more than MAX_ITEMS
 * entries), WALK_FULL (more than CAPACITY entries). */
long vmcheck_walk_hash(const uint8_t *ram, uint64_t ram_size, uint64_t pml4,
                       const uint64_t *heads, const uint64_t *ends, uint64_t buckets,
                       uint64_t elem_offset, uint64_t link_offset, uint64_t entry_size,
                       uint64_t max_items, uint64_t *addresses, uint8_t *out,
                       uint64_t capacity) {
  struct ram r = {ram, ram_size, pml4};
  uint64_t count = 0;
  if (link_offset + 8 > entry_size)
    return WALK_BROKEN;
  for (uint64_t i = 0; i < buckets; i++) {
    for (uint64_t link = heads[i]; link != ends[i];) {
      if (link == 0 || count == max_items)
        return WALK_BROKEN;
      if (count == capacity)
        return WALK_FULL;
      uint8_t *entry = out + count * entry_size;
      if (copy_virt(&r, link - elem_offset, entry_size, entry) < 0)
        return WALK_NOT_LOCAL;
      addresses[count++] = link - elem_offset;
      link = load_u64(entry + link_offset);
    }
  }
  return (long)count;
}
