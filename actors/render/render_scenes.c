//  render_scenes.c — a bounded LRU of compiled scenes (render_scenes.h).
#include "render_scenes.h"
#include "vmap.h"
#include "verr.h"
#include "vscene.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct render_scenes_s {
    vmap_t *map;  //  id -> render_scene_t
    vlru_t lru;  //  render_scene_t by recency
    size_t capacity;
};

render_scenes_t *
render_scenes_new (size_t capacity)
{
    render_scenes_t *self = calloc (1, sizeof *self);
    if (self && !(self->map = vmap_new ())) {
        free (self);
        self = NULL;
    }
    if (self)
        self->capacity = capacity ? capacity : 1;
    return self;
}

static void
s_drop (render_scenes_t *self, render_scene_t *e)
{
    vlru_unlink (&self->lru, &e->lru);
    vmap_remove (self->map, e->id, strlen (e->id));
    render_tape_unref (&e->tape);
    free (e);
}

void
render_scenes_destroy (render_scenes_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    render_scenes_t *self = *self_p;
    while (self->lru.head)
        s_drop (self, VLRU_ENTRY (self->lru.head, render_scene_t, lru));
    vmap_destroy (&self->map);
    free (self);
    *self_p = NULL;
}

render_scene_t *
render_scenes_get (render_scenes_t *self, const char *id, int64_t now_ms)
{
    render_scene_t *e = vmap_get (self->map, id, strlen (id));
    if (!e)
        return NULL;
    if (e->expires_ms && now_ms >= e->expires_ms) {
        s_drop (self, e);
        return NULL;
    }
    vlru_touch (&self->lru, &e->lru);
    return e;
}

render_scene_t *
render_scenes_put (render_scenes_t *self, const char *id, const char *scene_hash,
                   render_tape_t **tape_p, int64_t expires_ms)
{
    render_tape_t *tape = tape_p ? *tape_p : NULL;
    if (tape_p)
        *tape_p = NULL;
    size_t idlen = strlen (id);
    if (idlen == 0 || idlen > FRAME_ID_MAX || strlen (scene_hash) > RENDER_HASH_MAX) {
        render_tape_unref (&tape);
        return NULL;
    }
    render_scene_t *e = vmap_get (self->map, id, idlen);
    if (e)
        vlru_unlink (&self->lru, &e->lru);
    else {
        if (!(e = calloc (1, sizeof *e)) || vmap_put (self->map, id, idlen, e) != 0) {
            free (e);
            render_tape_unref (&tape);
            return NULL;
        }
        memcpy (e->id, id, idlen + 1);
    }
    render_tape_unref (&e->tape);
    e->tape = tape;
    snprintf (e->scene_hash, sizeof e->scene_hash, "%s", scene_hash);
    e->expires_ms = expires_ms;
    vlru_push_front (&self->lru, &e->lru);
    while (vmap_size (self->map) > self->capacity && self->lru.tail != &e->lru)
        s_drop (self, VLRU_ENTRY (self->lru.tail, render_scene_t, lru));
    return e;
}

void
render_scenes_drop (render_scenes_t *self, const char *id)
{
    render_scene_t *e = vmap_get (self->map, id, strlen (id));
    if (e)
        s_drop (self, e);
}

size_t
render_scenes_count (const render_scenes_t *self)
{
    return vmap_size (self->map);
}

int
render_scene_compile (const void *doc, size_t len, render_tape_t **out, char *err, size_t errlen)
{
    *out = NULL;
    //  Both are plain values of tens of KiB: the heap, not a worker's stack.
    vscene_t *scene = malloc (sizeof *scene);
    render_tape_t *tape = render_tape_new ();
    int rc = scene && tape ? vscene_decode (doc, len, scene, err, errlen) : -VE_NOMEM;
    if (rc == 0)
        rc = vtape_compile (scene, &tape->tape, err, errlen);
    free (scene);
    if (rc)
        render_tape_unref (&tape);
    *out = tape;
    return rc;
}
