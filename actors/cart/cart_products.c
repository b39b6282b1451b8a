//  cart_products.c — the cart's view of the catalog's products: the products it priced
//  lately, as catalog-read.get_many gave them, kept current by the catalog's own stream
//  (catalog.product_changed), so that adding to and pricing a cart asks the catalog only for
//  products it has not seen. docs/cart.md "The product view" is the design.
//
//  Bounded three ways: at most capacity products (the least recently used leave first), each
//  for at most ttl_ms after it was fetched or changed (a change the stream never delivered is
//  read again soon), and a reply is kept only when no change came while it was on its way
//  (the generation): a reply may predate a change the stream already applied.
#include "cart.h"
#include "vlru.h"
#include "vmap.h"
#include <stdlib.h>
#include <string.h>

typedef struct s_entry_s {
    vlru_node_t lru;                //  most recently used first
    int64_t at;                     //  fetched or changed then
    size_t idlen, len;
    char *id;                       //  in data, NUL-terminated
    unsigned char data[];           //  id, then len bytes of catalog.product msgpack
} s_entry_t;

struct cart_products_s {
    vmap_t *by_id;
    vlru_t lru;  //  the entries by recency
    size_t n, capacity;
    int64_t ttl_ms;
    uint64_t generation;
};

cart_products_t *
cart_products_new (size_t capacity, int64_t ttl_ms)
{
    cart_products_t *self = calloc (1, sizeof *self);
    if (self && !(self->by_id = vmap_new ())) {
        free (self);
        return NULL;
    }
    if (self) {
        self->capacity = capacity;
        self->ttl_ms = ttl_ms;
    }
    return self;
}

void
cart_products_destroy (cart_products_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cart_products_t *self = *self_p;
    for (vlru_node_t *n = self->lru.head, *next; n; n = next) {
        next = n->next;
        free (VLRU_ENTRY (n, s_entry_t, lru));
    }
    vmap_destroy (&self->by_id);
    free (self);
    *self_p = NULL;
}

static void
s_drop (cart_products_t *self, s_entry_t *e)
{
    vlru_unlink (&self->lru, &e->lru);
    vmap_remove (self->by_id, e->id, e->idlen);
    self->n--;
    free (e);
}

const void *
cart_products_get (cart_products_t *self, const char *id, int64_t now, size_t *len)
{
    if (!self || self->capacity == 0)
        return NULL;
    s_entry_t *e = vmap_get (self->by_id, id, strlen (id));
    if (!e)
        return NULL;
    if (now - e->at >= self->ttl_ms) {
        s_drop (self, e);
        return NULL;
    }
    vlru_touch (&self->lru, &e->lru);
    *len = e->len;
    return e->data + e->idlen + 1;
}

//  Replaces (or, add: adds) id's entry. Returns 0 or -VE_NOMEM (then id is not held at all).
static int
s_put (cart_products_t *self, const char *id, const void *bytes, size_t len, int64_t now, bool add)
{
    size_t idlen = strlen (id);
    s_entry_t *old = vmap_get (self->by_id, id, idlen);
    if (!old && !add)
        return 0;
    if (old)
        s_drop (self, old);
    if (!bytes)
        return 0;  //  forgotten
    s_entry_t *e = malloc (sizeof *e + idlen + 1 + len);
    if (!e)
        return -VE_NOMEM;
    *e = (s_entry_t) { .at = now, .idlen = idlen, .len = len, .id = (char *) e->data };
    memcpy (e->data, id, idlen + 1);
    memcpy (e->data + idlen + 1, bytes, len);
    if (vmap_put (self->by_id, e->id, idlen, e)) {
        free (e);
        return -VE_NOMEM;
    }
    vlru_push_front (&self->lru, &e->lru);
    self->n++;
    while (self->n > self->capacity)
        s_drop (self, VLRU_ENTRY (self->lru.tail, s_entry_t, lru));
    return 0;
}

int
cart_products_put (cart_products_t *self, uint64_t generation, const char *id, const void *bytes,
                   size_t len, int64_t now)
{
    if (!self || self->capacity == 0 || generation != self->generation)
        return 0;
    return s_put (self, id, bytes, len, now, true);
}

int
cart_products_changed (cart_products_t *self, const char *id, const void *bytes, size_t len,
                       int64_t now)
{
    if (!self || self->capacity == 0)
        return 0;
    self->generation++;
    return s_put (self, id, bytes, len, now, false);
}

uint64_t
cart_products_generation (const cart_products_t *self)
{
    return self ? self->generation : 0;
}
