/* Intrusive hash table with separate chaining (lib/hash.c), in the style
 * of lib/list.h: the caller embeds a struct hash_elem in its own structure
 * and converts back with hash_entry().
 *
 * Layout (read by the harness over GDB, see docs/kernel-introspection.md):
 * `buckets` is an array of `bucket_cnt` chain heads (a power of two); each
 * chain is a NULL-terminated singly linked list through hash_elem.next.
 *
 * Not thread-safe: the owner serializes every call on one table. Only
 * hash_init and the table's growth allocate memory; a failed growth keeps
 * the table working (longer chains), so hash_insert never fails. */
#ifndef LIB_HASH_H
#define LIB_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hash_elem {
  struct hash_elem *next; /* next element of the same bucket, or NULL */
};

/* Converts a pointer to hash element ELEM into a pointer to the structure
 * that ELEM is embedded inside, as member MEMBER. */
#define hash_entry(ELEM, STRUCT, MEMBER)                                     \
  ((STRUCT *)((uint8_t *)(ELEM) - offsetof(STRUCT, MEMBER)))

/* Hash value of the key of E. */
typedef uint64_t hash_hash_func(const struct hash_elem *e);
/* True if A and B have equal keys. */
typedef bool hash_equal_func(const struct hash_elem *a,
                             const struct hash_elem *b);
/* Called on each element by hash_clear (may free the element). */
typedef void hash_action_func(struct hash_elem *e, void *aux);

struct hash {
  size_t elem_cnt;            /* elements in the table */
  size_t bucket_cnt;          /* a power of two */
  struct hash_elem **buckets; /* bucket_cnt chain heads */
  hash_hash_func *hash;
  hash_equal_func *equal;
};

/* Initializes H as an empty table; false if out of memory. */
bool hash_init(struct hash *h, hash_hash_func *, hash_equal_func *);
/* Removes every element, calling DESTRUCTOR (if not NULL) on each after
 * it is out of the table; the table stays usable. */
void hash_clear(struct hash *h, hash_action_func *destructor, void *aux);
/* hash_clear, then frees the bucket array; H must be re-initialized
 * before any further use. */
void hash_destroy(struct hash *h, hash_action_func *destructor, void *aux);

/* Inserts NEW unless an element with an equal key is present: returns
 * that element (NEW is not inserted), or NULL if NEW was inserted. */
struct hash_elem *hash_insert(struct hash *h, struct hash_elem *new);
/* The element with a key equal to E's, or NULL. */
struct hash_elem *hash_find(const struct hash *h, const struct hash_elem *e);
/* Removes and returns the element with a key equal to E's, or NULL. */
struct hash_elem *hash_delete(struct hash *h, const struct hash_elem *e);

size_t hash_size(const struct hash *h);
bool hash_empty(const struct hash *h);

/* Iteration, in no particular order. The table must not change during an
 * iteration (use hash_clear to remove everything):
 *   struct hash_iterator i;
 *   for (hash_first(&i, h); hash_next(&i) != NULL; )
 *     ... hash_cur(&i) ... */
struct hash_iterator {
  const struct hash *hash;
  size_t bucket;          /* bucket of `elem` */
  struct hash_elem *elem; /* current element, NULL before the first */
};

void hash_first(struct hash_iterator *i, const struct hash *h);
/* Advances to the next element and returns it; NULL at the end. */
struct hash_elem *hash_next(struct hash_iterator *i);
struct hash_elem *hash_cur(const struct hash_iterator *i);

/* Hash of an integer key (Fibonacci hashing on 64 bits). */
uint64_t hash_int(uint64_t key);

#endif
