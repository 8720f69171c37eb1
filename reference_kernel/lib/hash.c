/* Intrusive chained hash table (lib/hash.h). The bucket array grows by 4x
 * when the table holds more than two elements per bucket on average. */
#include "lib/hash.h"

#include "kernel/debug.h"
#include "kernel/malloc.h"

#define MIN_BUCKETS 16
#define MAX_LOAD 2     /* average elements per bucket before growing */
#define GROWTH 4

uint64_t hash_int(uint64_t key) {
  /* 2^64 / golden ratio; the high bits mix best, so fold them down. */
  uint64_t h = key * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

static struct hash_elem **bucket_of(const struct hash *h,
                                    const struct hash_elem *e) {
  return &h->buckets[h->hash(e) & (h->bucket_cnt - 1)];
}

bool hash_init(struct hash *h, hash_hash_func *hash, hash_equal_func *equal) {
  h->elem_cnt = 0;
  h->bucket_cnt = MIN_BUCKETS;
  h->hash = hash;
  h->equal = equal;
  h->buckets = calloc(MIN_BUCKETS, sizeof *h->buckets);
  return h->buckets != NULL;
}

void hash_clear(struct hash *h, hash_action_func *destructor, void *aux) {
  for (size_t b = 0; b < h->bucket_cnt; b++)
    while (h->buckets[b] != NULL) {
      struct hash_elem *e = h->buckets[b];
      h->buckets[b] = e->next;
      h->elem_cnt--;
      e->next = NULL;
      if (destructor != NULL)
        destructor(e, aux);
    }
  ASSERT(h->elem_cnt == 0);
}

void hash_destroy(struct hash *h, hash_action_func *destructor, void *aux) {
  if (h->buckets == NULL)
    return;
  hash_clear(h, destructor, aux);
  free(h->buckets);
  h->buckets = NULL;
  h->bucket_cnt = 0;
}

/* Moves every element into a bucket array GROWTH times larger; keeps the
 * old array if the new one cannot be allocated. */
static void grow(struct hash *h) {
  size_t new_cnt = h->bucket_cnt * GROWTH;
  struct hash_elem **new_buckets = calloc(new_cnt, sizeof *new_buckets);
  if (new_buckets == NULL)
    return;
  struct hash_elem **old_buckets = h->buckets;
  size_t old_cnt = h->bucket_cnt;
  h->buckets = new_buckets;
  h->bucket_cnt = new_cnt;
  for (size_t b = 0; b < old_cnt; b++)
    while (old_buckets[b] != NULL) {
      struct hash_elem *e = old_buckets[b];
      old_buckets[b] = e->next;
      struct hash_elem **head = bucket_of(h, e);
      e->next = *head;
      *head = e;
    }
  free(old_buckets);
}

/* The link that points at the element equal to E in its bucket, or at the
 * NULL that ends the bucket. */
static struct hash_elem **find_link(const struct hash *h,
                                    const struct hash_elem *e) {
  struct hash_elem **link = bucket_of(h, e);
  while (*link != NULL && !h->equal(*link, e))
    link = &(*link)->next;
  return link;
}

struct hash_elem *hash_insert(struct hash *h, struct hash_elem *new) {
  struct hash_elem **link = find_link(h, new);
  if (*link != NULL)
    return *link;
  new->next = NULL;
  *link = new;
  h->elem_cnt++;
  if (h->elem_cnt > h->bucket_cnt * MAX_LOAD)
    grow(h);
  return NULL;
}

struct hash_elem *hash_find(const struct hash *h, const struct hash_elem *e) {
  return *find_link(h, e);
}

struct hash_elem *hash_delete(struct hash *h, const struct hash_elem *e) {
  struct hash_elem **link = find_link(h, e);
  struct hash_elem *found = *link;
  if (found != NULL) {
    *link = found->next;
    found->next = NULL;
    h->elem_cnt--;
  }
  return found;
}

size_t hash_size(const struct hash *h) { return h->elem_cnt; }
bool hash_empty(const struct hash *h) { return h->elem_cnt == 0; }

void hash_first(struct hash_iterator *i, const struct hash *h) {
  i->hash = h;
  i->bucket = 0;
  i->elem = NULL;
}

struct hash_elem *hash_next(struct hash_iterator *i) {
  const struct hash *h = i->hash;
  if (i->elem != NULL && i->elem->next != NULL)
    return i->elem = i->elem->next;
  size_t b = i->elem != NULL ? i->bucket + 1 : i->bucket;
  while (b < h->bucket_cnt && h->buckets[b] == NULL)
    b++;
  i->bucket = b;
  i->elem = b < h->bucket_cnt ? h->buckets[b] : NULL;
  return i->elem;
}

struct hash_elem *hash_cur(const struct hash_iterator *i) { return i->elem; }
