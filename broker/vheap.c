//  vheap.c — indexed binary min-heap (see vheap.h).
#include "vheap.h"
#include "verr.h"
#include <assert.h>
#include <stdlib.h>
#include <string.h>

int
vheap_reserve (vheap_t *self, uint32_t cap)
{
    if (cap <= self->cap)
        return 0;
    vheap_node_t *nodes = realloc (self->nodes, cap * sizeof *nodes);
    if (!nodes)
        return -VE_NOMEM;
    self->nodes = nodes;
    uint32_t *pos = realloc (self->pos, cap * sizeof *pos);
    if (!pos)
        return -VE_NOMEM;
    memset (pos + self->cap, 0, (cap - self->cap) * sizeof *pos);
    self->pos = pos;
    self->cap = cap;
    return 0;
}

void
vheap_free (vheap_t *self)
{
    free (self->nodes);
    free (self->pos);
    memset (self, 0, sizeof *self);
}

static void
s_set (vheap_t *self, uint32_t i, vheap_node_t node)
{
    self->nodes[i] = node;
    self->pos[node.slot] = i + 1;
}

static void
s_sift_up (vheap_t *self, uint32_t i)
{
    vheap_node_t node = self->nodes[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (self->nodes[parent].key <= node.key)
            break;
        s_set (self, i, self->nodes[parent]);
        i = parent;
    }
    s_set (self, i, node);
}

static void
s_sift_down (vheap_t *self, uint32_t i)
{
    vheap_node_t node = self->nodes[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= self->len)
            break;
        if (child + 1 < self->len && self->nodes[child + 1].key < self->nodes[child].key)
            child++;
        if (node.key <= self->nodes[child].key)
            break;
        s_set (self, i, self->nodes[child]);
        i = child;
    }
    s_set (self, i, node);
}

void
vheap_push (vheap_t *self, uint32_t slot, int64_t key)
{
    assert (slot < self->cap && self->pos[slot] == 0);
    self->nodes[self->len] = (vheap_node_t) { key, slot };
    s_sift_up (self, self->len++);
}

void
vheap_remove (vheap_t *self, uint32_t slot)
{
    if (slot >= self->cap || self->pos[slot] == 0)
        return;
    uint32_t i = self->pos[slot] - 1;
    self->pos[slot] = 0;
    self->len--;
    if (i == self->len)
        return;
    int64_t old = self->nodes[i].key;
    self->nodes[i] = self->nodes[self->len];
    self->pos[self->nodes[i].slot] = i + 1;
    if (self->nodes[i].key < old)
        s_sift_up (self, i);
    else
        s_sift_down (self, i);
}

bool
vheap_top (const vheap_t *self, uint32_t *slot, int64_t *key)
{
    if (self->len == 0)
        return false;
    *slot = self->nodes[0].slot;
    *key = self->nodes[0].key;
    return true;
}
