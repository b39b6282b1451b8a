//  vheap.h — an indexed binary min-heap of (deadline, slot) pairs. Slots are small dense
//  integers owned by the caller (a pool index); the heap remembers where each slot sits, so a
//  slot can be removed in O(log n) when its request is answered before its deadline.
#ifndef VHEAP_H
#define VHEAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t key;
    uint32_t slot;
} vheap_node_t;

typedef struct {
    vheap_node_t *nodes;
    uint32_t *pos;  //  pos[slot] = index in nodes + 1; 0 = not in the heap
    uint32_t len;
    uint32_t cap;  //  slots 0..cap-1 may be pushed
} vheap_t;

//  Sizes the heap for slots 0..cap-1 (grows, keeps contents). Returns 0 or -VE_NOMEM.
int vheap_reserve (vheap_t *self, uint32_t cap);
void vheap_free (vheap_t *self);
//  Adds slot with key; the slot must not be in the heap.
void vheap_push (vheap_t *self, uint32_t slot, int64_t key);
//  Removes slot if it is in the heap.
void vheap_remove (vheap_t *self, uint32_t slot);
//  The smallest key's slot; false when empty.
bool vheap_top (const vheap_t *self, uint32_t *slot, int64_t *key);

#endif
