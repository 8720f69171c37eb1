/* Intrusive doubly linked list (see lib/list.h). */
#include "lib/list.h"

#include "kernel/debug.h"

void list_init(struct list *l) {
  l->head.prev = NULL;
  l->head.next = &l->tail;
  l->tail.prev = &l->head;
  l->tail.next = NULL;
}

struct list_elem *list_begin(struct list *l) { return l->head.next; }
struct list_elem *list_end(struct list *l) { return &l->tail; }
struct list_elem *list_next(struct list_elem *e) { return e->next; }
bool list_empty(struct list *l) { return list_begin(l) == list_end(l); }

struct list_elem *list_front(struct list *l) {
  ASSERT(!list_empty(l));
  return l->head.next;
}

struct list_elem *list_back(struct list *l) {
  ASSERT(!list_empty(l));
  return l->tail.prev;
}

void list_insert(struct list_elem *before, struct list_elem *e) {
  ASSERT(before->prev != NULL);
  e->prev = before->prev;
  e->next = before;
  before->prev->next = e;
  before->prev = e;
}

void list_push_front(struct list *l, struct list_elem *e) {
  list_insert(list_begin(l), e);
}

void list_push_back(struct list *l, struct list_elem *e) {
  list_insert(list_end(l), e);
}

struct list_elem *list_remove(struct list_elem *e) {
  ASSERT(e->prev != NULL && e->next != NULL);
  e->prev->next = e->next;
  e->next->prev = e->prev;
  struct list_elem *next = e->next;
  e->prev = e->next = NULL;
  return next;
}

struct list_elem *list_pop_front(struct list *l) {
  struct list_elem *e = list_front(l);
  list_remove(e);
  return e;
}

size_t list_size(struct list *l) {
  size_t n = 0;
  for (struct list_elem *e = list_begin(l); e != list_end(l); e = e->next)
    n++;
  return n;
}
