//  render_scenes.h — the render actor's scenes in memory: product id -> the catalog's scene
//  hash and the compiled tape, at most `capacity` products, least recently used dropped first.
//  A product known to have no scene is kept too (tape NULL) until it expires, so a storefront
//  asking again and again does not ask the catalog each time. Single-threaded (actor thread);
//  tapes are reference-counted, so a job still rendering a dropped tape keeps it alive.
#ifndef RENDER_SCENES_H
#define RENDER_SCENES_H

#include "frame_cache.h"
#include "render_pool.h"
#include "vlru.h"
#include <stddef.h>
#include <stdint.h>

#define RENDER_HASH_MAX VLIM_SCENE_HASH  //  the catalog's scene hash (hex)

typedef struct render_scene_s {
    char id[FRAME_ID_MAX + 1];
    char scene_hash[RENDER_HASH_MAX + 1];  //  the catalog's; "" when the product has none
    render_tape_t *tape;                   //  NULL when the product has no scene
    int64_t expires_ms;                    //  0: never (only entries without a scene expire)
    vlru_node_t lru;                       //  recency, most recent first
} render_scene_t;

typedef struct render_scenes_s render_scenes_t;

//  A store for at most capacity products (>= 1); NULL when out of memory.
render_scenes_t *render_scenes_new (size_t capacity);
//  Frees every entry (dropping their tape references); NULL-safe.
void render_scenes_destroy (render_scenes_t **self_p);
//  The entry of a product, made the most recent; NULL when absent or expired at now_ms
//  (an expired entry is dropped).
render_scene_t *render_scenes_get (render_scenes_t *self, const char *id, int64_t now_ms);
//  Stores a product's scene, replacing what was held; tape's reference moves into the store
//  (*tape_p becomes NULL; NULL tape = no scene). Drops the least recent entry when full.
//  Returns the entry, or NULL (id too long, hash too long, out of memory: nothing stored and
//  the tape reference released).
render_scene_t *render_scenes_put (render_scenes_t *self, const char *id, const char *scene_hash,
                                   render_tape_t **tape_p, int64_t expires_ms);
//  Forgets a product; nothing when absent.
void render_scenes_drop (render_scenes_t *self, const char *id);
//  Entries held (with or without a scene).
size_t render_scenes_count (const render_scenes_t *self);

//  Decodes a scene document (MessagePack, untrusted) and compiles it into a new tape (one
//  reference, the caller's). Returns 0 or the codes of vscene_decode / vtape_compile with the
//  reason in err, or -VE_NOMEM. Thread-safe.
int render_scene_compile (const void *doc, size_t len, render_tape_t **out, char *err,
                          size_t errlen);

#endif
