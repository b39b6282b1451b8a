//  render_map.h — a hash map from byte strings to pointers, for the render actor's in-memory
//  indexes (scenes by product id, renders in flight by cache key). Keys are copied; values are
//  the caller's. Single-threaded.
#ifndef RENDER_MAP_H
#define RENDER_MAP_H

#include <stddef.h>

typedef struct render_map_s render_map_t;

//  An empty map; NULL when out of memory.
render_map_t *render_map_new (void);
//  Frees the map and its keys (not the values); NULL-safe.
void render_map_destroy (render_map_t **self_p);
//  The value stored under key, or NULL.
void *render_map_get (render_map_t *self, const void *key, size_t len);
//  Stores value (not NULL) under key, replacing any value there. Returns 0 or -VE_NOMEM.
int render_map_put (render_map_t *self, const void *key, size_t len, void *value);
//  Removes key; returns the value it had, or NULL.
void *render_map_remove (render_map_t *self, const void *key, size_t len);
//  Keys stored.
size_t render_map_size (const render_map_t *self);

#endif
