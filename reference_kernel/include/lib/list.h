/* Intrusive doubly linked list with head and tail sentinels (as in Pintos). */
#ifndef LIB_LIST_H
#define LIB_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct list_elem {
  struct list_elem *prev, *next;
};

struct list {
  struct list_elem head, tail;
};

/* Converts a pointer to list element ELEM into a pointer to the structure
 * that ELEM is embedded inside, as member MEMBER. */
#define list_entry(ELEM, STRUCT, MEMBER)                                     \
  ((STRUCT *)((uint8_t *)&(ELEM)->next - offsetof(STRUCT, MEMBER.next)))

void list_init(struct list *);
struct list_elem *list_begin(struct list *);
struct list_elem *list_end(struct list *);
struct list_elem *list_next(struct list_elem *);
struct list_elem *list_front(struct list *);
struct list_elem *list_back(struct list *);
void list_insert(struct list_elem *before, struct list_elem *);
void list_push_front(struct list *, struct list_elem *);
void list_push_back(struct list *, struct list_elem *);
/* Removes ELEM and returns the element that followed it. */
struct list_elem *list_remove(struct list_elem *);
struct list_elem *list_pop_front(struct list *);
size_t list_size(struct list *);
bool list_empty(struct list *);

#endif
