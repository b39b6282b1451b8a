//  render.c — the render actor: JPEG frames of products' 3D scenes on the canonical view grid
//  (schemas/vview.h). A hit is answered at once from the frame cache (frame_cache.h); a miss is
//  deferred and rendered by the pool (render_pool.h) — once, however many callers ask for the
//  same frame meanwhile (single flight: one in-flight entry per cache key, the callers wait on
//  it). Scenes come from the catalog, are compiled once per scene hash and kept in memory
//  (render_scenes.h); the catalog's product_changed events refresh them and pre-render the
//  default orbit ring in the background. docs/render.md tells the whole story.
#include "frame_cache.h"
#include "vmap.h"
#include "render_pool.h"
#include "render_scenes.h"
#include "vactor.h"
#include "vhist.h"
#include "vrender.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WHO             "render"
#define NO_SCENE_TTL_MS 5000  //  how long "this product has no scene" is believed
#define CATALOG_MS      2000  //  a scene fetch waits at most this long (the actor goes on)
//  Views per pre-render job: on the CPU a caller who arrives meanwhile waits for at most this
//  many frames per worker; on a GPU a launch of many views costs about as much as one.
#define RING_JOB_CPU 3
#define RING_JOB_GPU 24
//  Rings are expanded into jobs only while fewer pre-render frames than this are in the pool,
//  so a bulk load of products queues names, not millions of jobs; at most RING_PENDING_MAX
//  products wait (more are rendered when asked, not ahead).
#define RING_BACKLOG     288
#define RING_PENDING_MAX 100000

//  JPEG bytes shared by every caller a render answers.
typedef struct {
    int refs;
    size_t len;
    uint8_t *data;
} s_frame_t;

//  One view of a call: where its frame comes from.
typedef struct {
    vview_t view;
    char etag[FRAME_ETAG_SIZE];
    bool cached;       //  served from the cache (pin) rather than rendered (frame)
    frame_pin_t *pin;  //  a cache hit, pinned until the reply left
    s_frame_t *frame;  //  a rendered frame
} s_slot_t;

//  A deferred call: render.frame (one slot) or render.frames (one slot per view).
typedef struct {
    vbus_defer_t defer;
    bool many;  //  render.frames: the reply is {frames: [...]}
    char id[FRAME_ID_MAX + 1];
    char scene_hash[RENDER_HASH_MAX + 1];
    int status;  //  the first failure, VE_OK while none
    char message[200];
    int n, missing;
    s_slot_t slots[];
} s_call_t;

//  A caller waiting for a render in flight.
typedef struct s_waiter_s {
    struct s_waiter_s *next;
    s_call_t *call;
    int slot;
} s_waiter_t;

//  A product whose orbit ring waits to be pre-rendered.
typedef struct s_ring_s {
    struct s_ring_s *next;
    char id[FRAME_ID_MAX + 1];
} s_ring_t;

//  A frame being rendered: who waits for it, and by which job.
typedef struct s_flight_s {
    frame_key_t key;
    uint64_t job;
    bool background;  //  its job is still in the pool's background queue
    bool ahead;       //  made by pre-rendering (counted in prerender_frames until it lands)
    s_waiter_t *waiters;
    struct s_flight_s *prev, *next;  //  every flight, for the stop
} s_flight_t;

typedef struct {
    vactor_t *actor;
    frame_cache_t *cache;
    render_pool_t *pool;
    render_scenes_t *scenes;
    vmap_t *flights;  //  cache key -> s_flight_t
    vmap_t *fetches;  //  product id -> s_fetch_t: scenes asked of the catalog
    struct s_fetch_s *fetch_list;
    s_flight_t *flight_list;
    const char *version;  //  vrender_version ()
    const char *catalog;  //  the service scenes come from
    bool prerender;
    int prerender_size;
    bool gpu;
    int workers;
    uint64_t hits, misses, joined, prerendered, render_errors;
    uint64_t prerender_frames;  //  pre-render frames in the pool
    //  Products whose ring waits to be queued, oldest first (ids also in ring_ids).
    s_ring_t *ring_head, *ring_tail;
    vmap_t *ring_ids;
    size_t rings, rings_dropped;
    //  A pre-rendering run: from the first ring queued while none ran to the last frame landed.
    bool prerendering;
    int64_t prerender_since_ms;
    uint64_t prerendered_before;
    vhist_t render_us, encode_us;  //  per frame
} render_t;

//  ---------------------------------------------------------------- frames and calls

static void
s_frame_unref (s_frame_t **frame_p)
{
    s_frame_t *frame = *frame_p;
    if (frame && --frame->refs == 0) {
        free (frame->data);
        free (frame);
    }
    *frame_p = NULL;
}

static s_call_t *
s_call_new (const char *id, const char *scene_hash, int n, bool many)
{
    s_call_t *call = calloc (1, sizeof *call + (size_t) n * sizeof (s_slot_t));
    if (!call)
        return NULL;
    snprintf (call->id, sizeof call->id, "%s", id);
    snprintf (call->scene_hash, sizeof call->scene_hash, "%s", scene_hash);
    call->n = n;
    call->many = many;
    return call;
}

static void
s_call_destroy (s_call_t **call_p)
{
    s_call_t *call = *call_p;
    if (!call)
        return;
    for (int i = 0; i < call->n; i++) {
        frame_pin_release (&call->slots[i].pin);
        s_frame_unref (&call->slots[i].frame);
    }
    free (call);
    *call_p = NULL;
}

//  Packs one render.frame: the canonical view, the hashes, and the JPEG unless not_modified.
static void
s_pack_frame (msgpack_packer *pk, const char *id, const char *scene_hash, const s_slot_t *slot,
              const void *jpeg, size_t len, bool not_modified)
{
    vview_pack_frame (pk, id, &slot->view, scene_hash, slot->etag, slot->cached,
                      not_modified ? NULL : (jpeg ? jpeg : ""), len);
}

static void
s_pack_slot (msgpack_packer *pk, const s_call_t *call, const s_slot_t *slot)
{
    size_t len = 0;
    const void *jpeg = slot->pin ? frame_pin_data (slot->pin, &len) : slot->frame->data;
    if (!slot->pin)
        len = slot->frame->len;
    s_pack_frame (pk, call->id, call->scene_hash, slot, jpeg, len, false);
}

//  Answers a deferred call once its last frame is there, and frees it.
static void
s_finish (render_t *self, s_call_t **call_p)
{
    s_call_t *call = *call_p;
    if (call->status != VE_OK) {
        vactor_reply (self->actor, &call->defer, call->status, call->message, NULL, 0);
        s_call_destroy (call_p);
        return;
    }
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    body.limit = VBUS_MAX_BODY;
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    if (call->many) {
        msgpack_pack_map (&pk, 1);
        vmp_pack_cstr (&pk, "frames");
        msgpack_pack_array (&pk, (size_t) call->n);
    }
    for (int i = 0; i < call->n; i++)
        s_pack_slot (&pk, call, &call->slots[i]);
    if (body.failed)
        vactor_reply (self->actor, &call->defer, VE_INTERNAL, "reply: frames larger than a message",
                      NULL, 0);
    else
        vactor_reply (self->actor, &call->defer, VE_OK, NULL, body.data, body.len);
    vbuf_free (&body);
    s_call_destroy (call_p);
}

//  ---------------------------------------------------------------- scenes

//  A call that waits for its product's scene (render.frame or render.frames): the request as
//  it came, to be handled again once the scene is in memory.
typedef struct s_sceneq_s {
    struct s_sceneq_s *next;
    vbus_defer_t defer;
    vactor_handler_fn *fn;
    char method[VBUS_MAX_METHOD + 1];
    void *body;
    size_t len;
} s_sceneq_t;

//  A scene being fetched from the catalog: asked once, however many calls wait for it.
typedef struct s_fetch_s {
    render_t *self;
    char id[FRAME_ID_MAX + 1];
    bool ring;  //  queue its orbit ring once loaded (pre-rendering)
    s_sceneq_t *waiters;
    struct s_fetch_s *prev, *next;  //  every fetch out, for the stop
} s_fetch_t;

static void
s_fetch_unlink (render_t *self, s_fetch_t *f)
{
    vmap_remove (self->fetches, f->id, strlen (f->id));
    if (f->prev)
        f->prev->next = f->next;
    else
        self->fetch_list = f->next;
    if (f->next)
        f->next->prev = f->prev;
}

//  Puts the catalog's answer about a product's scene into memory. Returns the entry (tape NULL:
//  the product has no scene), or NULL with a status and message when the catalog could not say.
static render_scene_t *
s_scene_answer (render_t *self, const char *id, const vbus_reply_t *reply, int *status,
                char *message, size_t size)
{
    render_scene_t *e = NULL;
    int64_t now = vactor_now_ms (self->actor);
    if (reply->status == VE_NOT_FOUND) {
        *status = VE_NOT_FOUND;
        snprintf (message, size, "product '%s' has no 3D scene", id);
        e = render_scenes_put (self->scenes, id, "", NULL, now + NO_SCENE_TTL_MS);
    }
    else if (reply->status == VE_OK) {
        varena_t *arena = varena_new (0);
        const vmsg_method_t *m = vmsg_method_find ("catalog", "get_scene");
        const vmsg_value_t *v = NULL;
        char err[200] = "";
        size_t len = 0;
        const void *doc = NULL;
        render_tape_t *tape = NULL;
        if (arena && m
            && vmsg_decode (m->reply, reply->body, reply->body_len, arena, &v, err, sizeof err)
                   == 0)
            doc = vmsg_bytes (v, "scene", &len);
        if (doc && render_scene_compile (doc, len, &tape, err, sizeof err) == 0) {
            e = render_scenes_put (self->scenes, id, vmsg_str (v, "scene_hash"), &tape, 0);
            if (e)
                vbus_log ('I', WHO, "scene of %s loaded (%s, %d ops)", id, e->scene_hash,
                          e->tape->tape.nops);
        }
        else
            vbus_log ('E', WHO, "the catalog's scene of %s is unusable: %s", id, err);
        varena_destroy (&arena);
        if (!e) {
            *status = VE_INTERNAL;
            snprintf (message, size, "the scene of product '%s' could not be compiled", id);
        }
    }
    else {
        *status = VE_UNAVAILABLE;
        snprintf (message, size, "scenes: the catalog did not answer (%s)", reply->message);
    }
    return e;
}

static void s_ring_request (render_t *self, const char *id);
static void s_ring_refill (render_t *self);

//  Handles a waiting call again, now that its scene is in memory: the handler runs on a call
//  rebuilt from the saved request (the same return address), and what it answers at once is
//  sent with vactor_reply; a miss defers again and is answered when its frame is rendered.
static void
s_rerun (render_t *self, s_sceneq_t *q)
{
    const vmsg_method_t *m = vmsg_method_find ("render", q->method);
    varena_t *arena = varena_new (0);
    const vmsg_value_t *body = NULL;
    char err[256];
    if (!m || !arena || vmsg_decode (m->request, q->body, q->len, arena, &body, err, sizeof err)) {
        vactor_reply (self->actor, &q->defer, VE_INTERNAL, "could not handle it again", NULL, 0);
        varena_destroy (&arena);
        return;
    }
    vbus_request_t req = { .service = WHO,
                           .method = q->method,
                           .body = q->body,
                           .body_len = q->len,
                           .id = q->defer.id,
                           .deadline_ms = q->defer.deadline_ms,
                           .reply_to_ = q->defer.token,
                           .generation_ = q->defer.generation };
    char storage[4096];
    vbus_out_t out;
    vbus_out_init (&out, storage, sizeof storage);
    vactor_call_t call = { .actor = self->actor, .req = &req, .body = body, .arena = arena,
                           .out = &out };
    int status = q->fn (&call);
    if (status != VBUS_DEFERRED)
        vactor_reply (self->actor, &q->defer, status, status == VE_OK ? NULL : out.message,
                      status == VE_OK ? out.body.data : NULL, status == VE_OK ? out.body.len : 0);
    vbuf_free (&out.body);
    varena_destroy (&arena);
}

static void
s_on_scene (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    s_fetch_t *f = arg;
    render_t *self = f->self;
    s_fetch_unlink (self, f);
    int status = VE_OK;
    char message[200];
    render_scene_t *e = s_scene_answer (self, f->id, reply, &status, message, sizeof message);
    while (f->waiters) {
        s_sceneq_t *q = f->waiters;
        f->waiters = q->next;
        if (e)
            s_rerun (self, q);  //  the scene is held now (or known to be missing)
        else
            vactor_reply (self->actor, &q->defer, status, message, NULL, 0);
        free (q->body);
        free (q);
    }
    if (e && e->tape && f->ring && self->prerender) {
        s_ring_request (self, f->id);
        s_ring_refill (self);
    }
    free (f);
}

//  Asks the catalog for a product's scene without waiting (once per product at a time); ring:
//  pre-render its orbit ring once it is in. Returns the fetch, or NULL when it could not ask.
static s_fetch_t *
s_fetch_scene (render_t *self, const char *id, bool ring)
{
    s_fetch_t *f = vmap_get (self->fetches, id, strlen (id));
    if (f) {
        f->ring = f->ring || ring;
        return f;
    }
    if (!(f = calloc (1, sizeof *f)))
        return NULL;
    f->self = self;
    f->ring = ring;
    snprintf (f->id, sizeof f->id, "%s", id);
    char storage[128];
    vbuf_t req;
    vbuf_init (&req, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &req);
    msgpack_pack_map (&pk, 1);
    vmp_pack_kstr (&pk, "id", id);
    vbus_opts_t opts = { .timeout_ms = CATALOG_MS };
    int rc = vmap_put (self->fetches, f->id, strlen (f->id), f);
    if (rc == 0) {
        f->next = self->fetch_list;
        if (f->next)
            f->next->prev = f;
        self->fetch_list = f;
        rc = vactor_send (self->actor, self->catalog, "get_scene", req.data, req.len, &opts,
                          s_on_scene, f);
        if (rc)
            s_fetch_unlink (self, f);
    }
    vbuf_free (&req);
    if (rc) {
        vbus_log ('W', WHO, "cannot ask %s for the scene of %s: %s", self->catalog, id,
                  verr_str (rc));
        free (f);
        return NULL;
    }
    return f;
}

//  The product's scene when it is in memory. Otherwise NULL: with status VBUS_DEFERRED when
//  the call waits for it (the catalog is asked; the call is handled again when it answers), or
//  with a status and message when there is none.
static render_scene_t *
s_scene (render_t *self, vactor_call_t *call, vactor_handler_fn *fn, const char *id,
         int *status, char *message, size_t size)
{
    render_scene_t *e = render_scenes_get (self->scenes, id, vactor_now_ms (self->actor));
    if (!e) {
        s_fetch_t *f = s_fetch_scene (self, id, false);
        s_sceneq_t *q = f ? calloc (1, sizeof *q) : NULL;
        if (!q || !(q->body = malloc (call->req->body_len ? call->req->body_len : 1))) {
            free (q);
            *status = VE_UNAVAILABLE;
            snprintf (message, size, "scenes: the catalog cannot be asked");
            return NULL;
        }
        memcpy (q->body, call->req->body, call->req->body_len);
        q->len = call->req->body_len;
        q->fn = fn;
        snprintf (q->method, sizeof q->method, "%s", call->req->method);
        vactor_defer (call, &q->defer);
        q->next = f->waiters;
        f->waiters = q;
        *status = VBUS_DEFERRED;
        return NULL;
    }
    if (!e->tape) {
        *status = VE_NOT_FOUND;
        snprintf (message, size, "product '%s' has no 3D scene", id);
        return NULL;
    }
    return e;
}

//  ---------------------------------------------------------------- single flight

static s_flight_t *
s_flight_new (render_t *self, const frame_key_t *key, bool background)
{
    s_flight_t *flight = calloc (1, sizeof *flight);
    if (!flight)
        return NULL;
    flight->key = *key;
    flight->background = flight->ahead = background;
    if (vmap_put (self->flights, key->bytes, key->len, flight) != 0) {
        free (flight);
        return NULL;
    }
    flight->next = self->flight_list;
    if (self->flight_list)
        self->flight_list->prev = flight;
    self->flight_list = flight;
    return flight;
}

//  Takes the flight of a key out of the map and the list; NULL when there is none.
static s_flight_t *
s_flight_take (render_t *self, const frame_key_t *key)
{
    s_flight_t *flight = vmap_remove (self->flights, key->bytes, key->len);
    if (!flight)
        return NULL;
    if (flight->prev)
        flight->prev->next = flight->next;
    else
        self->flight_list = flight->next;
    if (flight->next)
        flight->next->prev = flight->prev;
    return flight;
}

//  Makes call's slot wait on the flight; a background flight becomes urgent unless the call
//  is a prefetch itself.
static int
s_join (render_t *self, s_flight_t *flight, s_call_t *call, int slot, bool urgent)
{
    s_waiter_t *w = malloc (sizeof *w);
    if (!w)
        return -VE_NOMEM;
    *w = (s_waiter_t) { flight->waiters, call, slot };
    flight->waiters = w;
    call->missing++;
    if (urgent && flight->background && render_pool_promote (self->pool, flight->job)) {
        //  Its whole job moves up: those frames are no longer waiting to be pre-rendered.
        flight->background = false;
    }
    return 0;
}

//  A frame landed (frame NULL: its render failed with status): every caller waiting on its
//  flight is answered from the same bytes; a call answers once its last frame is there.
static void
s_land (render_t *self, const frame_key_t *key, s_frame_t *frame, int status)
{
    s_flight_t *flight = s_flight_take (self, key);
    if (flight && flight->ahead) {
        self->prerender_frames--;
        self->prerendered += frame != NULL;
    }
    for (s_waiter_t *w = flight ? flight->waiters : NULL, *next; w; w = next) {
        next = w->next;
        s_call_t *call = w->call;
        if (frame) {
            call->slots[w->slot].frame = frame;
            frame->refs++;
        }
        else if (call->status == VE_OK) {
            call->status = status == -VE_CLOSED ? VE_UNAVAILABLE : VE_INTERNAL;
            snprintf (call->message, sizeof call->message, "render failed: %s",
                      verr_str (status ? status : -VE_NOMEM));
        }
        if (--call->missing == 0)
            s_finish (self, &call);
        free (w);
    }
    free (flight);
}

//  A finished job: its frames land, its timings go to the stats.
static void
s_complete (render_t *self, render_job_t *job)
{
    if (job->status == 0) {
        self->gpu = self->gpu || job->used_gpu;
        for (int i = 0; i < job->n; i++) {
            vhist_add (&self->render_us, (uint64_t) (job->render_ms * 1000.0));
            vhist_add (&self->encode_us, (uint64_t) (job->encode_ms[i] * 1000.0));
        }
    }
    else if (job->status != -VE_CLOSED) {
        self->render_errors++;
        vbus_log ('E', WHO, "render of %s failed: %s", (const char *) job->keys[0].bytes,
                  verr_str (job->status));
    }
    for (int i = 0; i < job->n; i++) {
        size_t len = 0;
        uint8_t *jpeg = render_job_take (job, i, &len);
        s_frame_t *frame = jpeg ? malloc (sizeof *frame) : NULL;
        if (frame)
            *frame = (s_frame_t) { 1, len, jpeg };
        else
            free (jpeg);
        s_land (self, &job->keys[i], frame, job->status);
        s_frame_unref (&frame);
    }
}

//  Misses gathered for the pool: one flight per view, already in the map.
typedef struct {
    int n;
    vview_t views[RENDER_JOB_VIEWS];
    frame_key_t keys[RENDER_JOB_VIEWS];
    s_flight_t *flights[RENDER_JOB_VIEWS];
} s_batch_t;

//  Adds a miss to the batch with a new flight. Returns the flight, or NULL (out of memory).
static s_flight_t *
s_batch_add (render_t *self, s_batch_t *batch, const frame_key_t *key, const vview_t *view,
             bool background)
{
    s_flight_t *flight = s_flight_new (self, key, background);
    if (flight) {
        batch->views[batch->n] = *view;
        batch->keys[batch->n] = *key;
        batch->flights[batch->n++] = flight;
    }
    return flight;
}

//  Submits the batch as jobs of at most per_job views each (a GPU renders a job in one launch;
//  on the CPU a job is one worker's, so smaller jobs spread over the workers).
static void
s_batch_submit (render_t *self, s_batch_t *batch, render_tape_t *tape, bool background, int per_job)
{
    for (int first = 0; first < batch->n; first += per_job) {
        int n = batch->n - first < per_job ? batch->n - first : per_job;
        render_job_t *job = render_job_new ();
        if (!job) {
            //  Nothing will render these: their callers hear it now.
            for (int i = first; i < batch->n; i++)
                s_land (self, &batch->keys[i], NULL, -VE_NOMEM);
            return;
        }
        job->background = background;
        job->tape = render_tape_ref (tape);
        job->n = n;
        memcpy (job->views, &batch->views[first], (size_t) n * sizeof job->views[0]);
        memcpy (job->keys, &batch->keys[first], (size_t) n * sizeof job->keys[0]);
        uint64_t id = render_pool_submit (self->pool, &job);
        for (int i = first; i < first + n; i++)
            batch->flights[i]->job = id;
    }
}

//  ---------------------------------------------------------------- pre-rendering

//  Queues the default orbit ring of a product as background jobs: every frame not cached and
//  not already being rendered.
static void
s_queue_ring (render_t *self, const render_scene_t *scene)
{
    s_batch_t batch;
    batch.n = 0;
    for (int i = 0; i < VVIEW_YAW_COUNT; i++) {
        vview_t view;
        vview_snap (i * VVIEW_YAW_STEP, VVIEW_PITCH_RING, 1, self->prerender_size,
                    self->prerender_size, VVIEW_QUALITY_DEFAULT, &view);
        frame_key_t key;
        if (frame_key_make (&key, scene->id, self->version, scene->tape->tape.hash, &view) != 0
            || vmap_get (self->flights, key.bytes, key.len)
            || frame_cache_has (self->cache, &key))
            continue;
        if (!s_batch_add (self, &batch, &key, &view, true))
            break;
    }
    if (batch.n && !self->prerendering) {
        self->prerendering = true;
        self->prerender_since_ms = vactor_now_ms (self->actor);
        self->prerendered_before = self->prerendered;
        vbus_log ('I', WHO, "pre-rendering started (%zu more products wait)", self->rings);
    }
    self->prerender_frames += (uint64_t) batch.n;
    s_batch_submit (self, &batch, scene->tape, true, self->gpu ? RING_JOB_GPU : RING_JOB_CPU);
    if (batch.n)
        vbus_log ('I', WHO, "orbit ring of %s queued: %d frames of %dx%d", scene->id, batch.n,
                  self->prerender_size, self->prerender_size);
}

//  Asks for a product's ring to be pre-rendered (once, however often asked before it is).
static void
s_ring_request (render_t *self, const char *id)
{
    if (vmap_get (self->ring_ids, id, strlen (id)))
        return;
    s_ring_t *ring = self->rings < RING_PENDING_MAX ? calloc (1, sizeof *ring) : NULL;
    if (!ring || vmap_put (self->ring_ids, id, strlen (id), ring) != 0) {
        free (ring);
        if (self->rings_dropped++ % 1000 == 0)
            vbus_log ('W', WHO, "%zu products wait for pre-rendering: %s and %zu more skipped",
                      self->rings, id, self->rings_dropped - 1);
        return;
    }
    snprintf (ring->id, sizeof ring->id, "%s", id);
    if (self->ring_tail)
        self->ring_tail->next = ring;
    else
        self->ring_head = ring;
    self->ring_tail = ring;
    self->rings++;
}

//  Turns waiting rings into pre-render jobs while the pool's background work runs low.
static void
s_ring_refill (render_t *self)
{
    while (self->ring_head && self->prerender_frames < RING_BACKLOG) {
        s_ring_t *ring = self->ring_head;
        self->ring_head = ring->next;
        if (!self->ring_head)
            self->ring_tail = NULL;
        self->rings--;
        vmap_remove (self->ring_ids, ring->id, strlen (ring->id));
        //  Its scene as it is now; fetched again (and the ring queued then) if it left the
        //  memory meanwhile.
        render_scene_t *scene =
            render_scenes_get (self->scenes, ring->id, vactor_now_ms (self->actor));
        if (scene && scene->tape)
            s_queue_ring (self, scene);
        else if (!scene)
            s_fetch_scene (self, ring->id, true);
        free (ring);
    }
}

//  Finished jobs are answered on the actor's thread; then more pre-rendering is queued.
static void
render_on_wake (vactor_t *actor)
{
    render_t *self = vactor_state (actor);
    render_job_t *job;
    while ((job = render_pool_done (self->pool))) {
        s_complete (self, job);
        render_job_destroy (&job);
    }
    s_ring_refill (self);
    if (self->prerendering && self->prerender_frames == 0 && !self->ring_head) {
        self->prerendering = false;
        vbus_log ('I', WHO, "pre-rendering finished: %llu frames in %.1f s",
                  (unsigned long long) (self->prerendered - self->prerendered_before),
                  (double) (vactor_now_ms (actor) - self->prerender_since_ms) / 1000.0);
    }
}

static void
s_notify (void *arg)
{
    vactor_wake (arg);
}

//  catalog.product_changed: a product whose scene changed (or a newly active one with a scene)
//  gets its new scene compiled and its default ring pre-rendered.
static int
render_on_event (vactor_t *actor, const vbus_event_t *event, const vmsg_value_t *body,
                 vstore_t *store, vstore_batch_t *batch)
{
    (void) store;
    (void) batch;
    render_t *self = vactor_state (actor);
    if (strcmp (event->topic, "catalog.product_changed") != 0)
        return 0;
    const vmsg_value_t *product = vmsg_get (body, "product");
    const char *id = vmsg_str (product, "id");
    const char *hash = vmsg_str (product, "scene_hash");
    const char *status = vmsg_str (product, "status");
    bool active = status && strcmp (status, "active") == 0;
    if (!id || strlen (id) > FRAME_ID_MAX)
        return 0;
    int64_t now = vactor_now_ms (actor);
    render_scene_t *held = render_scenes_get (self->scenes, id, now);
    if (held && strcmp (held->scene_hash, hash ? hash : "") == 0)
        return 0;  //  nothing a frame depends on changed
    if (held)
        render_scenes_drop (self->scenes, id);  //  its frames now have other keys
    if (!hash || (!held && !active))
        return 0;  //  loaded when first asked for
    //  The event carries the document when this change set it; otherwise ask the catalog.
    render_scene_t *e = NULL;
    size_t len = 0;
    const void *doc = vmsg_bytes (body, "scene", &len);
    char err[200] = "";
    if (doc) {
        render_tape_t *tape = NULL;
        if (render_scene_compile (doc, len, &tape, err, sizeof err) == 0
            && (e = render_scenes_put (self->scenes, id, hash, &tape, 0)))
            vbus_log ('I', WHO, "scene of %s loaded from the event (%s, %d ops)", id, hash,
                      e->tape->tape.nops);
        else
            vbus_log ('W', WHO, "scene of %s in the event is unusable: %s", id, err);
    }
    else {
        //  Asked without waiting; its ring is queued when the answer comes (s_on_scene).
        s_fetch_scene (self, id, active && self->prerender);
        return 0;
    }
    if (e && e->tape && active && self->prerender) {
        s_ring_request (self, id);
        s_ring_refill (self);
    }
    return 0;
}

//  ---------------------------------------------------------------- methods

//  A number field of a request or of one of its views; dflt when absent.
static double
s_num (const vmsg_value_t *v, const char *name, double dflt)
{
    return vmsg_has (v, name) ? vmsg_float (v, name, dflt) : dflt;
}

//  render.frame: a hit is answered now; a miss joins the render in flight or starts one.
static int
render_frame (vactor_call_t *call)
{
    render_t *self = vactor_state (call->actor);
    const vmsg_value_t *b = call->body;
    const char *id = vmsg_str (b, "id");
    s_slot_t slot = { .cached = true };
    vview_snap (s_num (b, "yaw", 0), s_num (b, "pitch", VVIEW_PITCH_RING), s_num (b, "zoom", 1),
                (long) vmsg_uint (b, "w", 0), (long) vmsg_uint (b, "h", 0),
                (long) vmsg_uint (b, "quality", 0), &slot.view);
    int status = VE_OK;
    char message[200];
    render_scene_t *scene = s_scene (self, call, render_frame, id, &status, message, sizeof message);
    if (!scene && status == VBUS_DEFERRED)
        return VBUS_DEFERRED;  //  handled again when the catalog has answered
    if (!scene)
        return vbus_out_error (call->out, status, "%s", message);
    frame_key_t key;
    if (frame_key_make (&key, id, self->version, scene->tape->tape.hash, &slot.view) != 0)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "id: longer than %d bytes", FRAME_ID_MAX);
    frame_key_etag (&key, slot.etag);
    const char *inm = vmsg_str (b, "if_none_match");
    if (inm && strcmp (inm, slot.etag) == 0) {
        //  The caller holds exactly these bytes: no need to read them.
        self->hits++;
        s_pack_frame (&call->out->pk, id, scene->scene_hash, &slot, NULL, 0, true);
        return VE_OK;
    }
    frame_pin_t *pin = NULL;
    if (frame_cache_get (self->cache, &key, &pin) == 0) {
        self->hits++;
        size_t len;
        const void *jpeg = frame_pin_data (pin, &len);
        s_pack_frame (&call->out->pk, id, scene->scene_hash, &slot, jpeg, len, false);
        frame_pin_release (&pin);
        return VE_OK;
    }
    //  A miss: answered when the frame is rendered.
    s_call_t *c = s_call_new (id, scene->scene_hash, 1, false);
    if (!c)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    c->slots[0] = slot;
    c->slots[0].cached = false;
    //  A prefetch renders in the background (the pre-render queue and threads): a shopper's
    //  exact frame never waits behind a viewer's guesses.
    bool prefetch = vmsg_bool (b, "prefetch", false);
    s_batch_t batch;
    batch.n = 0;
    s_flight_t *flight = vmap_get (self->flights, key.bytes, key.len);
    if (flight)
        self->joined++;
    else if ((flight = s_batch_add (self, &batch, &key, &slot.view, prefetch)))
        self->misses++;
    if (!flight || s_join (self, flight, c, 0, !prefetch) != 0) {
        s_call_destroy (&c);
        if (flight && batch.n)
            s_land (self, &key, NULL, -VE_NOMEM);
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    }
    vactor_defer (call, &c->defer);
    s_batch_submit (self, &batch, scene->tape, prefetch, 1);
    return VBUS_DEFERRED;
}

//  render.frames: the hits are pinned, the misses batched (one job, so one launch, on a GPU;
//  spread over the workers on the CPU); repeated views in the call join the first.
static int
render_frames (vactor_call_t *call)
{
    render_t *self = vactor_state (call->actor);
    const vmsg_value_t *b = call->body;
    const char *id = vmsg_str (b, "id");
    const vmsg_value_t *views = vmsg_get (b, "views");
    int n = (int) vmsg_count (views);
    int status = VE_OK;
    char message[200];
    render_scene_t *scene =
        s_scene (self, call, render_frames, id, &status, message, sizeof message);
    if (!scene && status == VBUS_DEFERRED)
        return VBUS_DEFERRED;  //  handled again when the catalog has answered
    if (!scene)
        return vbus_out_error (call->out, status, "%s", message);
    s_call_t *c = s_call_new (id, scene->scene_hash, n, true);
    if (!c)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    s_batch_t batch;
    batch.n = 0;
    int failed = 0;
    for (int i = 0; i < n && !failed; i++) {
        const vmsg_value_t *v = vmsg_at (views, (uint32_t) i);
        s_slot_t *slot = &c->slots[i];
        vview_snap (s_num (v, "yaw", 0), s_num (v, "pitch", VVIEW_PITCH_RING), s_num (v, "zoom", 1),
                    (long) vmsg_uint (b, "w", 0), (long) vmsg_uint (b, "h", 0),
                    (long) vmsg_uint (b, "quality", 0), &slot->view);
        frame_key_t key;
        if (frame_key_make (&key, id, self->version, scene->tape->tape.hash, &slot->view) != 0) {
            failed = VE_BAD_REQUEST;
            break;
        }
        frame_key_etag (&key, slot->etag);
        if (frame_cache_get (self->cache, &key, &slot->pin) == 0) {
            slot->cached = true;
            self->hits++;
            continue;
        }
        s_flight_t *flight = vmap_get (self->flights, key.bytes, key.len);
        if (flight)
            self->joined++;  //  in flight already, or asked twice in this call
        else if ((flight = s_batch_add (self, &batch, &key, &slot->view, false)))
            self->misses++;
        if (!flight || s_join (self, flight, c, i, true) != 0)
            failed = VE_INTERNAL;
    }
    if (failed) {
        //  Frames already joined still answer into this call; it fails as a whole.
        c->status = failed;
        snprintf (c->message, sizeof c->message, "%s",
                  failed == VE_BAD_REQUEST ? "id: too long" : "out of memory");
    }
    //  The batch goes to the pool whatever happened: callers may already wait on its flights.
    bool deferred = c->missing > 0;
    if (deferred)
        vactor_defer (call, &c->defer);
    //  One job on a GPU (one launch); on the CPU spread over the workers.
    int per_job = self->gpu ? RENDER_JOB_VIEWS : (batch.n + self->workers - 1) / self->workers;
    s_batch_submit (self, &batch, scene->tape, false, per_job > 0 ? per_job : 1);
    if (deferred)
        return VBUS_DEFERRED;  //  c may be answered and gone already
    if (failed) {
        s_call_destroy (&c);
        return vbus_out_error (call->out, failed, "%s",
                               failed == VE_BAD_REQUEST ? "id: too long" : "out of memory");
    }
    //  Every frame was a hit: answer now, straight from the pinned slices.
    msgpack_pack_map (&call->out->pk, 1);
    vmp_pack_cstr (&call->out->pk, "frames");
    msgpack_pack_array (&call->out->pk, (size_t) n);
    for (int i = 0; i < n; i++)
        s_pack_slot (&call->out->pk, c, &c->slots[i]);
    s_call_destroy (&c);
    return VE_OK;
}

static int
render_stats (vactor_call_t *call)
{
    render_t *self = vactor_state (call->actor);
    msgpack_packer *pk = &call->out->pk;
    uint64_t asked = self->hits + self->misses;
    msgpack_pack_map (pk, 14);
    vmp_pack_kuint (pk, "hits", self->hits);
    vmp_pack_kuint (pk, "misses", self->misses);
    vmp_pack_cstr (pk, "hit_ratio");
    msgpack_pack_double (pk, asked ? (double) self->hits / (double) asked : 0.0);
    vmp_pack_kuint (pk, "joined", self->joined);
    vmp_pack_kuint (pk, "prerendered", self->prerendered);
    vmp_pack_kuint (pk, "prerender_queue",
                    self->prerender_frames + (uint64_t) self->rings * VVIEW_YAW_COUNT);
    const char *names[] = { "render_ms_p50", "render_ms_p99", "encode_ms_p50", "encode_ms_p99" };
    const vhist_t *hists[] = { &self->render_us, &self->render_us, &self->encode_us,
                               &self->encode_us };
    for (int i = 0; i < 4; i++) {
        vmp_pack_cstr (pk, names[i]);
        msgpack_pack_double (pk, (double) vhist_pct (hists[i], i % 2 ? 0.99 : 0.50) / 1000.0);
    }
    vmp_pack_kuint (pk, "cache_bytes", frame_cache_bytes (self->cache));
    vmp_pack_kuint (pk, "cache_budget", frame_cache_budget (self->cache));
    vmp_pack_kuint (pk, "scenes", render_scenes_count (self->scenes));
    vmp_pack_cstr (pk, "gpu");
    self->gpu ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    return VE_OK;
}

//  ---------------------------------------------------------------- life cycle

static void render_close (vactor_t *actor);

static int
render_open (vactor_t *actor)
{
    long budget_mb, threads, block_mb, prerender, scene_cache, size;
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    cores = cores < 1 ? 1 : cores;
    if (vactor_config_long (actor, "cache_budget_mb", 1, 1L << 24, 1024, &budget_mb)
        || vactor_config_long (actor, "render_threads", 1, 256, cores, &threads)
        || vactor_config_long (actor, "block_cache_mb", 0, 1L << 20, 64, &block_mb)
        || vactor_config_long (actor, "prerender", 0, 1, 1, &prerender)
        || vactor_config_long (actor, "scene_cache", 1, 10000000, 10000, &scene_cache)
        || vactor_config_long (actor, "prerender_size", 256, 2048, VVIEW_SIZE_DEFAULT, &size))
        return -VE_CONFIG;
    render_t *self = calloc (1, sizeof *self);
    if (!self)
        return -VE_NOMEM;
    vactor_set_state (actor, self);
    self->actor = actor;
    self->version = vrender_version ();
    self->catalog = vactor_config (actor, "catalog_service")
                        ? vactor_config (actor, "catalog_service")
                        : "catalog";
    self->prerender = prerender != 0;
    self->workers = (int) threads;
    vview_t snapped;
    vview_snap (0, 0, 1, size, size, 0, &snapped);
    self->prerender_size = snapped.width;
    char dir[1024], err[512] = "";
    //  <data>/render-frames; a process serving only some partitions (several on one machine)
    //  gets a cache of its own, named after its first partition.
    const uint32_t *owned;
    size_t nowned = vactor_owned (actor, &owned);
    int at = snprintf (dir, sizeof dir, "%s/%s-frames", vactor_config (actor, "data"),
                       vactor_service (actor));
    if (nowned < vactor_partitions (actor) && at > 0 && (size_t) at < sizeof dir)
        snprintf (dir + at, sizeof dir - (size_t) at, "-p%u", owned[0]);
    self->cache = frame_cache_open (dir, (uint64_t) budget_mb << 20, (uint64_t) block_mb << 20, err,
                                    sizeof err);
    if (!self->cache) {
        vbus_log ('E', WHO, "cannot open the frame cache %s: %s", dir, err);
        render_close (actor);
        return -VE_IO;
    }
    vbus_log ('I', WHO, "frame cache %s: budget %ld MiB, block cache %ld MiB, %llu bytes held", dir,
              budget_mb, block_mb, (unsigned long long) frame_cache_bytes (self->cache));
    self->gpu = vrender_gpu_available ();
    //  On the CPU the workers share the cores: each render uses its share, so a lone miss
    //  still gets every core when render_threads is 1, and many misses do not oversubscribe.
    int cpu_threads = (int) (cores / threads) > 1 ? (int) (cores / threads) : 1;
    //  Pre-rendering has a thread of its own at the OS's idle priority, with every core for
    //  its renders: it takes what the callers' renders (and the rest of the machine) leave.
    render_pool_config_t pc = { .workers = (int) threads,
                                .cpu_threads = cpu_threads,
                                .background_workers = self->prerender ? 1 : 0,
                                .background_cpu_threads = (int) cores,
                                .cache = self->cache,
                                .notify = s_notify,
                                .notify_arg = actor };
    self->scenes = render_scenes_new ((size_t) scene_cache);
    self->flights = vmap_new ();
    self->fetches = vmap_new ();
    self->ring_ids = vmap_new ();
    self->pool = render_pool_new (&pc);
    if (!self->scenes || !self->flights || !self->fetches || !self->ring_ids || !self->pool) {
        vbus_log ('E', WHO, "out of memory starting %ld render workers", threads);
        render_close (actor);
        return -VE_NOMEM;
    }
    if (self->gpu)
        vbus_log ('I', WHO, "rendering on the GPU (%s); %ld workers encode", self->version,
                  threads);
    else
        vbus_log ('I', WHO, "rendering on the CPU (%s): %ld workers x %d threads", self->version,
                  threads, cpu_threads);
    if (self->prerender)
        vbus_log ('I', WHO, "pre-rendering: 1 thread, %s",
                  render_pool_idle_threads (self->pool) ? "at idle priority (SCHED_IDLE)"
                                                        : "at nice 19 (SCHED_IDLE refused)");
    return 0;
}

static void
render_close (vactor_t *actor)
{
    render_t *self = vactor_state (actor);
    if (!self)
        return;
    //  The workers first: they write into the cache. Pre-rendering waits for the next start.
    size_t dropped = self->pool ? render_pool_cancel_background (self->pool) : 0;
    if (dropped)
        vbus_log ('I', WHO, "%zu pre-render jobs dropped at the stop", dropped);
    render_pool_destroy (&self->pool);
    //  Calls still waiting (the drain gave up on them) are freed with their last waiter.
    size_t unanswered = 0;
    while (self->flight_list) {
        s_flight_t *flight = s_flight_take (self, &self->flight_list->key);
        for (s_waiter_t *w = flight->waiters, *next; w; w = next) {
            next = w->next;
            if (--w->call->missing == 0) {
                s_call_destroy (&w->call);
                unanswered++;
            }
            free (w);
        }
        free (flight);
    }
    if (unanswered)
        vbus_log ('W', WHO, "%zu calls left unanswered at the stop", unanswered);
    vmap_destroy (&self->flights);
    //  Scenes still asked for (the catalog did not answer before the stop): their calls were
    //  answered by the broker's deadline; free what is left.
    while (self->fetch_list) {
        s_fetch_t *f = self->fetch_list;
        s_fetch_unlink (self, f);
        while (f->waiters) {
            s_sceneq_t *q = f->waiters;
            f->waiters = q->next;
            free (q->body);
            free (q);
        }
        free (f);
    }
    vmap_destroy (&self->fetches);
    while (self->ring_head) {
        s_ring_t *ring = self->ring_head;
        self->ring_head = ring->next;
        free (ring);
    }
    vmap_destroy (&self->ring_ids);
    render_scenes_destroy (&self->scenes);
    frame_cache_close (&self->cache);
    vactor_set_state (actor, NULL);
    vbus_log ('I', WHO, "hits %llu, misses %llu, joined %llu, pre-rendered %llu",
              (unsigned long long) self->hits, (unsigned long long) self->misses,
              (unsigned long long) self->joined, (unsigned long long) self->prerendered);
    free (self);
}

static const vactor_method_t s_methods[] = { { "frame", render_frame, false },
                                             { "frames", render_frames, false },
                                             { "stats", render_stats, false },
                                             { 0 } };
static const char *const s_config_keys[] = { "cache_budget_mb", "render_threads",
                                             "block_cache_mb",  "prerender",
                                             "scene_cache",     "prerender_size",
                                             "catalog_service", NULL };
static const char *const s_consumes[] = { "catalog.", NULL };

static const vactor_def_t s_def = { .service = "render",
                                    .methods = s_methods,
                                    .config_keys = s_config_keys,
                                    .open = render_open,
                                    .close = render_close,
                                    .consumes = s_consumes,
                                    .on_event = render_on_event,
                                    .on_wake = render_on_wake };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
