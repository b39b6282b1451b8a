//  vmap.h — a hash map from byte strings to pointers, for actors' in-memory indexes (render:
//  scenes by product id, renders in flight by cache key; analytics: searches by their text).
//  Keys are copied; values are the caller's. Single-threaded.
#ifndef VMAP_H
#define VMAP_H

#include <stddef.h>

typedef struct vmap_s vmap_t;

//  An empty map; NULL when out of memory.
vmap_t *vmap_new (void);
//  Frees the map and its keys (not the values); NULL-safe.
void vmap_destroy (vmap_t **self_p);
//  The value stored under key, or NULL.
void *vmap_get (vmap_t *self, const void *key, size_t len);
//  Stores value (not NULL) under key, replacing any value there. Returns 0 or -VE_NOMEM.
int vmap_put (vmap_t *self, const void *key, size_t len, void *value);
//  Removes key; returns the value it had, or NULL.
void *vmap_remove (vmap_t *self, const void *key, size_t len);
//  Keys stored.
size_t vmap_size (const vmap_t *self);

#endif
