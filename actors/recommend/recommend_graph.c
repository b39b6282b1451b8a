//  recommend_graph.c — the item-item tables in memory (see recommend_graph.h).
//
//  Products are interned (id → index, an open-addressing table); a pair (kind, a, b) is one
//  64-bit key in another open-addressing table whose value is the pair's slot in counts[];
//  each product keeps, per kind, the list of its pairs' slots (its partners), so a walk is a
//  pass over that list.
#include "recommend_graph.h"
#include "verr.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t *slots;  //  pair slots: partners[] and counts[] index
    uint32_t len, cap;
} s_list_t;

typedef struct {
    char id[REC_GRAPH_ID];
    int64_t count[2];  //  per kind
    s_list_t pairs[2];
} s_product_t;

struct rec_graph_s {
    s_product_t *products;
    size_t nproducts, capproducts;
    uint32_t *ids;  //  id hash index: 0 empty, else product index + 1
    size_t capids;  //  a power of two, at least twice nproducts
    uint64_t *keys;  //  pair table: 0 empty, else the pair's key (see s_pair_key)
    uint32_t *vals;  //  the pair's slot
    size_t capkeys;  //  a power of two, at least twice npairs
    uint32_t *partner;  //  per slot: the partner's product index
    int64_t *counts;    //  per slot: the pair's count
    size_t npairs, cappairs;
};

static uint64_t
s_hash_id (const char *s)
{
    uint64_t h = 1469598103934665603ull;  //  FNV-1a
    while (*s)
        h = (h ^ (uint8_t) *s++) * 1099511628211ull;
    return h;
}

static uint64_t
s_mix (uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

//  Never 0: index + 1 on both sides.
static uint64_t
s_pair_key (int kind, uint32_t a, uint32_t b)
{
    return ((uint64_t) kind << 63) | ((uint64_t) (a + 1) << 32) | (uint64_t) (b + 1);
}

rec_graph_t *
rec_graph_new (void)
{
    rec_graph_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capids = 1024;
    self->ids = calloc (self->capids, sizeof *self->ids);
    self->capkeys = 4096;
    self->keys = calloc (self->capkeys, sizeof *self->keys);
    self->vals = calloc (self->capkeys, sizeof *self->vals);
    if (!self->ids || !self->keys || !self->vals)
        rec_graph_destroy (&self);
    return self;
}

void
rec_graph_destroy (rec_graph_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rec_graph_t *self = *self_p;
    for (size_t i = 0; i < self->nproducts; i++)
        for (int k = 0; k < 2; k++)
            free (self->products[i].pairs[k].slots);
    free (self->products);
    free (self->ids);
    free (self->keys);
    free (self->vals);
    free (self->partner);
    free (self->counts);
    free (self);
    *self_p = NULL;
}

size_t
rec_graph_products (const rec_graph_t *self)
{
    return self->nproducts;
}

size_t
rec_graph_pairs (const rec_graph_t *self)
{
    return self->npairs;
}

//  The slot of id in the id index, or the empty one where it would go.
static size_t
s_id_slot (const rec_graph_t *self, const char *id)
{
    size_t mask = self->capids - 1, at = (size_t) s_hash_id (id) & mask;
    while (self->ids[at] && strcmp (self->products[self->ids[at] - 1].id, id) != 0)
        at = (at + 1) & mask;
    return at;
}

//  The index of product id, or -1; with create, added when missing (-2: out of memory).
static long
s_product (rec_graph_t *self, const char *id, bool create)
{
    if (strlen (id) >= REC_GRAPH_ID)
        return -1;
    size_t at = s_id_slot (self, id);
    if (self->ids[at])
        return (long) self->ids[at] - 1;
    if (!create)
        return -1;
    if (self->nproducts == self->capproducts) {
        size_t cap = self->capproducts ? self->capproducts * 2 : 256;
        s_product_t *p = realloc (self->products, cap * sizeof *p);
        if (!p)
            return -2;
        self->products = p;
        self->capproducts = cap;
    }
    if (2 * (self->nproducts + 1) > self->capids) {
        size_t cap = self->capids * 2;
        uint32_t *ids = calloc (cap, sizeof *ids);
        if (!ids)
            return -2;
        free (self->ids);
        self->ids = ids;
        self->capids = cap;
        for (size_t i = 0; i < self->nproducts; i++)
            self->ids[s_id_slot (self, self->products[i].id)] = (uint32_t) i + 1;
        at = s_id_slot (self, id);
    }
    s_product_t *p = &self->products[self->nproducts];
    memset (p, 0, sizeof *p);
    memcpy (p->id, id, strlen (id) + 1);
    self->ids[at] = (uint32_t) ++self->nproducts;
    return (long) self->nproducts - 1;
}

static size_t
s_key_slot (const rec_graph_t *self, uint64_t key)
{
    size_t mask = self->capkeys - 1, at = (size_t) s_mix (key) & mask;
    while (self->keys[at] && self->keys[at] != key)
        at = (at + 1) & mask;
    return at;
}

static int
s_grow_pairs (rec_graph_t *self)
{
    if (self->npairs == self->cappairs) {
        size_t cap = self->cappairs ? self->cappairs * 2 : 1024;
        uint32_t *partner = realloc (self->partner, cap * sizeof *partner);
        if (partner)
            self->partner = partner;
        int64_t *counts = partner ? realloc (self->counts, cap * sizeof *counts) : NULL;
        if (!counts)
            return -VE_NOMEM;
        self->counts = counts;
        self->cappairs = cap;
    }
    if (2 * (self->npairs + 1) > self->capkeys) {
        size_t cap = self->capkeys * 2;
        uint64_t *keys = calloc (cap, sizeof *keys);
        uint32_t *vals = keys ? calloc (cap, sizeof *vals) : NULL;
        if (!vals) {
            free (keys);
            return -VE_NOMEM;
        }
        uint64_t *old_keys = self->keys;
        uint32_t *old_vals = self->vals;
        size_t old_cap = self->capkeys;
        self->keys = keys, self->vals = vals, self->capkeys = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old_keys[i]) {
                size_t at = s_key_slot (self, old_keys[i]);
                self->keys[at] = old_keys[i];
                self->vals[at] = old_vals[i];
            }
        free (old_keys);
        free (old_vals);
    }
    return 0;
}

static int
s_list_add (s_list_t *l, uint32_t slot)
{
    if (l->len == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 4;
        uint32_t *s = realloc (l->slots, cap * sizeof *s);
        if (!s)
            return -VE_NOMEM;
        l->slots = s;
        l->cap = cap;
    }
    l->slots[l->len++] = slot;
    return 0;
}

int
rec_graph_set_pair (rec_graph_t *self, int kind, const char *a, const char *b, int64_t count)
{
    long ia = s_product (self, a, true), ib = ia >= 0 ? s_product (self, b, true) : ia;
    if (ia < 0 || ib < 0)
        return ia == -2 || ib == -2 ? -VE_NOMEM : -VE_INVAL;
    uint64_t key = s_pair_key (kind, (uint32_t) ia, (uint32_t) ib);
    size_t at = s_key_slot (self, key);
    if (self->keys[at]) {
        self->counts[self->vals[at]] = count;
        return 0;
    }
    if (s_grow_pairs (self))
        return -VE_NOMEM;
    at = s_key_slot (self, key);  //  the table may have grown
    uint32_t slot = (uint32_t) self->npairs;
    if (s_list_add (&self->products[ia].pairs[kind], slot))
        return -VE_NOMEM;
    self->partner[slot] = (uint32_t) ib;
    self->counts[slot] = count;
    self->keys[at] = key;
    self->vals[at] = slot;
    self->npairs++;
    return 0;
}

int
rec_graph_set_count (rec_graph_t *self, int kind, const char *p, int64_t count)
{
    long i = s_product (self, p, true);
    if (i < 0)
        return i == -2 ? -VE_NOMEM : -VE_INVAL;
    self->products[i].count[kind] = count;
    return 0;
}

int64_t
rec_graph_count (const rec_graph_t *self, int kind, const char *p)
{
    long i = s_product ((rec_graph_t *) self, p, false);
    return i >= 0 ? self->products[i].count[kind] : 0;
}

void
rec_graph_walk (const rec_graph_t *self, int kind, const char *p, rec_graph_fn *fn, void *arg)
{
    long i = s_product ((rec_graph_t *) self, p, false);
    if (i < 0)
        return;
    const s_list_t *l = &self->products[i].pairs[kind];
    for (uint32_t k = 0; k < l->len; k++) {
        uint32_t slot = l->slots[k];
        const s_product_t *q = &self->products[self->partner[slot]];
        if (!fn (q->id, self->counts[slot], q->count[kind], arg))
            break;
    }
}
