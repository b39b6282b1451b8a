//  vmap.c — chained hashing (FNV-1a), doubling at a load of 1 (vmap.h).
#include "vmap.h"
#include "vhash.h"
#include "verr.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_node_s {
    struct s_node_s *next;
    uint64_t hash;
    void *value;
    size_t len;
    unsigned char key[];
} s_node_t;

struct vmap_s {
    s_node_t **buckets;
    size_t nbuckets;  //  a power of two
    size_t size;
};

vmap_t *
vmap_new (void)
{
    vmap_t *self = calloc (1, sizeof *self);
    if (self) {
        self->nbuckets = 16;
        self->buckets = calloc (self->nbuckets, sizeof *self->buckets);
        if (!self->buckets) {
            free (self);
            self = NULL;
        }
    }
    return self;
}

void
vmap_destroy (vmap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vmap_t *self = *self_p;
    for (size_t i = 0; i < self->nbuckets; i++)
        for (s_node_t *n = self->buckets[i], *next; n; n = next) {
            next = n->next;
            free (n);
        }
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

//  The link that points at key's node (or at the NULL ending its chain).
static s_node_t **
s_find (vmap_t *self, const void *key, size_t len, uint64_t hash)
{
    s_node_t **link = &self->buckets[hash & (self->nbuckets - 1)];
    while (
        *link
        && !((*link)->hash == hash && (*link)->len == len && memcmp ((*link)->key, key, len) == 0))
        link = &(*link)->next;
    return link;
}

void *
vmap_get (vmap_t *self, const void *key, size_t len)
{
    s_node_t *n = *s_find (self, key, len, vhash_fnv1a (key, len));
    return n ? n->value : NULL;
}

static void
s_grow (vmap_t *self)
{
    size_t nb = self->nbuckets * 2;
    s_node_t **buckets = calloc (nb, sizeof *buckets);
    if (!buckets)
        return;  //  longer chains, still correct
    for (size_t i = 0; i < self->nbuckets; i++)
        for (s_node_t *n = self->buckets[i], *next; n; n = next) {
            next = n->next;
            n->next = buckets[n->hash & (nb - 1)];
            buckets[n->hash & (nb - 1)] = n;
        }
    free (self->buckets);
    self->buckets = buckets;
    self->nbuckets = nb;
}

int
vmap_put (vmap_t *self, const void *key, size_t len, void *value)
{
    uint64_t hash = vhash_fnv1a (key, len);
    s_node_t **link = s_find (self, key, len, hash);
    if (*link) {
        (*link)->value = value;
        return 0;
    }
    s_node_t *n = malloc (sizeof *n + len);
    if (!n)
        return -VE_NOMEM;
    n->next = NULL;
    n->hash = hash;
    n->value = value;
    n->len = len;
    memcpy (n->key, key, len);
    *link = n;
    if (++self->size > self->nbuckets)
        s_grow (self);
    return 0;
}

void *
vmap_remove (vmap_t *self, const void *key, size_t len)
{
    s_node_t **link = s_find (self, key, len, vhash_fnv1a (key, len));
    s_node_t *n = *link;
    if (!n)
        return NULL;
    *link = n->next;
    void *value = n->value;
    free (n);
    self->size--;
    return value;
}

size_t
vmap_size (const vmap_t *self)
{
    return self->size;
}
