//  vlru.h — an intrusive recency list for bounded caches: entries in the order they were last
//  used, most recent first, the least recent at the tail to drop (render's scenes, the cart's
//  products). An entry embeds a vlru_node_t; the list never allocates. Single-threaded.
#ifndef VLRU_H
#define VLRU_H

#include <stddef.h>

typedef struct vlru_node_s {
    struct vlru_node_s *prev, *next;
} vlru_node_t;

typedef struct {
    vlru_node_t *head, *tail;
} vlru_t;

//  The entry of type that embeds node as member (NULL for NULL).
#define VLRU_ENTRY(node, type, member)                                                             \
    ((node) ? (type *) (void *) ((char *) (node) - offsetof (type, member)) : (type *) NULL)

//  Takes n out of the list.
static inline void
vlru_unlink (vlru_t *l, vlru_node_t *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

//  Puts n (not in the list) first: the most recent.
static inline void
vlru_push_front (vlru_t *l, vlru_node_t *n)
{
    n->prev = NULL;
    n->next = l->head;
    if (l->head)
        l->head->prev = n;
    l->head = n;
    if (!l->tail)
        l->tail = n;
}

//  Makes n (in the list) the most recent.
static inline void
vlru_touch (vlru_t *l, vlru_node_t *n)
{
    vlru_unlink (l, n);
    vlru_push_front (l, n);
}

#endif
