//  bench_render.c — vitrine-bench-render: the render service's figures.
//    1. CPU, this machine: ms per 512² frame of a demo scene with all cores on one frame
//       (render only, render + JPEG), and frames/s with every core rendering its own frames
//       (what the actor's workers do).
//    2. Through the bus: a broker, the catalog and vitrine-render started here (tests/it/vit.c),
//       a product with the demo scene, a set of frames warmed into the cache, then cache hits
//       asked by several clients with requests in flight: hit rate, p50/p99 and hits/s.
//    3. GPU, when vrender_gpu_available: frames/s at 512² and 1024², render only (one launch
//       of many views, read-back included) and end to end (+ JPEG on every host core,
//       overlapped with the next launch).
//    4. A miss with pre-rendering running: vitrine-render with pre-rendering on, the median
//       latency of cache misses (render.frame of views never rendered) first with nothing else
//       to do, then while it pre-renders the orbit rings of new products (at the OS's idle
//       priority): both figures and their ratio (the goal: at most 1.5).
//  Last line: "render: cpu512 <F> fps, gpu512 <G|none> fps, hit p99 <X> ms, hits <H>/s,
//  miss <I> ms idle <P> ms pre-rendering (x<R>)".
#include "vit.h"
#include "vjpeg.h"
#include "vmsg.h"
#include "vrender.h"
#include "vscene.h"
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *scene;
    int frames;   //  CPU frames per measurement
    int seconds;  //  bus measurement
    int clients;  //  bus clients (threads)
    int window;   //  requests in flight per client
    int views;    //  frames warmed and then asked for
    int size;     //  bus frame size
    bool bus, gpu, miss;
} s_opts_t;

static double
s_ms (void)
{
    return (double) vbus_mono_us () / 1000.0;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static int
s_cores (void)
{
    long n = sysconf (_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int) n;
}

//  ---------------------------------------------------------------- CPU

typedef struct {
    const vtape_t *tape;
    int size, frames, first;
    double encode_ms;
} s_cpu_job_t;

//  One core's share of the throughput run: render (one thread) + encode its frames.
static void *
s_cpu_thread (void *arg)
{
    s_cpu_job_t *job = arg;
    vrender_opts_t opts;
    vrender_opts_default (&opts);
    opts.width = opts.height = job->size;
    opts.threads = 1;
    uint8_t *rgb = malloc ((size_t) job->size * (size_t) job->size * 3);
    vjpeg_t *coder = vjpeg_new ();
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    for (int i = 0; rgb && coder && i < job->frames; i++) {
        vrender_view_t v = { (float) ((job->first + i) * 5 % 360), 15, 1 };
        vrender_cpu (job->tape, &v, &opts, rgb);
        double t = s_ms ();
        vbuf_reset (&out);
        vjpeg_encode (coder, rgb, job->size, job->size, 85, &out);
        job->encode_ms += s_ms () - t;
    }
    vbuf_free (&out);
    vjpeg_destroy (&coder);
    free (rgb);
    return NULL;
}

//  Returns frames/s of render + encode with one frame per core at a time.
static double
s_bench_cpu (const vtape_t *tape, const s_opts_t *o)
{
    int size = 512;
    vrender_opts_t opts;
    vrender_opts_default (&opts);
    uint8_t *rgb = malloc ((size_t) size * size * 3);
    vjpeg_t *coder = vjpeg_new ();
    double *render = calloc ((size_t) o->frames, sizeof *render);
    double *encode = calloc ((size_t) o->frames, sizeof *encode);
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    vrender_view_t warm = { 0, 15, 1 };
    vrender_cpu (tape, &warm, &opts, rgb);
    for (int i = 0; i < o->frames; i++) {
        vrender_view_t v = { (float) (i * 5 % 360), 15, 1 };
        double t0 = s_ms ();
        vrender_cpu (tape, &v, &opts, rgb);
        double t1 = s_ms ();
        vbuf_reset (&out);
        vjpeg_encode (coder, rgb, size, size, 85, &out);
        render[i] = t1 - t0;
        encode[i] = s_ms () - t1;
    }
    qsort (render, (size_t) o->frames, sizeof *render, s_cmp);
    qsort (encode, (size_t) o->frames, sizeof *encode, s_cmp);
    double r = render[o->frames / 2], e = encode[o->frames / 2];
    printf ("cpu 512x512, all %d cores on a frame: %7.1f ms render, %7.1f ms render + jpeg q85 "
            "(encode %.2f ms, %zu KiB)\n",
            s_cores (), r, r + e, e, out.len >> 10);
    vbuf_free (&out);
    free (render);
    free (encode);
    vjpeg_destroy (&coder);
    free (rgb);

    //  Throughput: every core renders and encodes frames of its own.
    int cores = s_cores ();
    pthread_t th[256];
    s_cpu_job_t jobs[256];
    double t0 = s_ms ();
    for (int i = 0; i < cores; i++) {
        jobs[i] = (s_cpu_job_t) { tape, size, (o->frames + cores - 1) / cores, i * 7, 0 };
        pthread_create (&th[i], NULL, s_cpu_thread, &jobs[i]);
    }
    int total = 0;
    for (int i = 0; i < cores; i++) {
        pthread_join (th[i], NULL);
        total += jobs[i].frames;
    }
    double elapsed = s_ms () - t0;
    double fps = total * 1e3 / elapsed;
    printf ("cpu 512x512, %d cores x 1 frame each:  %7.2f frames/s render + jpeg (%d frames in "
            "%.0f ms)\n",
            cores, fps, total, elapsed);
    return fps;
}

//  ---------------------------------------------------------------- GPU

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const uint8_t *rgb;  //  the batch being encoded
    int n, size, generation, workers_done, workers;
    atomic_int next;
    bool stop;
} s_encoders_t;

static void *
s_encoder (void *arg)
{
    s_encoders_t *e = arg;
    vjpeg_t *coder = vjpeg_new ();
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    int seen = 0;
    pthread_mutex_lock (&e->lock);
    for (;;) {
        while (!e->stop && e->generation == seen)
            pthread_cond_wait (&e->cond, &e->lock);
        if (e->stop)
            break;
        seen = e->generation;
        pthread_mutex_unlock (&e->lock);
        size_t frame = (size_t) e->size * (size_t) e->size * 3;
        for (int i; (i = atomic_fetch_add (&e->next, 1)) < e->n;) {
            vbuf_reset (&out);
            vjpeg_encode (coder, e->rgb + frame * (size_t) i, e->size, e->size, 85, &out);
        }
        pthread_mutex_lock (&e->lock);
        if (++e->workers_done == e->workers)
            pthread_cond_broadcast (&e->cond);
    }
    pthread_mutex_unlock (&e->lock);
    vbuf_free (&out);
    vjpeg_destroy (&coder);
    return NULL;
}

//  Frames/s at size: render only, and render + encode with the encoders on every host core
//  working on batch k while the GPU renders batch k + 1.
static void
s_bench_gpu_size (const vtape_t *tape, int size, int batch, double *render_fps, double *e2e_fps)
{
    vrender_opts_t opts;
    vrender_opts_default (&opts);
    opts.width = opts.height = size;
    size_t bytes = (size_t) size * size * 3 * (size_t) batch;
    uint8_t *rgb[2] = { malloc (bytes), malloc (bytes) };
    vrender_view_t *views = calloc ((size_t) batch, sizeof *views);
    for (int i = 0; i < batch; i++)
        views[i] = (vrender_view_t) { (float) (i * 5 % 360), 15, 1 };
    vrender_gpu (tape, views, batch, &opts, rgb[0]);  //  warm-up: buffers sized
    int launches = 10;
    double t0 = s_ms ();
    for (int i = 0; i < launches; i++)
        vrender_gpu (tape, views, batch, &opts, rgb[0]);
    *render_fps = launches * batch * 1e3 / (s_ms () - t0);

    s_encoders_t e = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    e.workers = s_cores ();
    e.size = size;
    pthread_t th[256];
    for (int i = 0; i < e.workers; i++)
        pthread_create (&th[i], NULL, s_encoder, &e);
    t0 = s_ms ();
    vrender_gpu (tape, views, batch, &opts, rgb[0]);
    for (int k = 0; k < launches; k++) {
        //  Hand batch k to the encoders, render batch k + 1 meanwhile, then wait for them.
        pthread_mutex_lock (&e.lock);
        e.rgb = rgb[k % 2];
        e.n = batch;
        atomic_store (&e.next, 0);
        e.workers_done = 0;
        e.generation++;
        pthread_cond_broadcast (&e.cond);
        pthread_mutex_unlock (&e.lock);
        if (k + 1 < launches)
            vrender_gpu (tape, views, batch, &opts, rgb[(k + 1) % 2]);
        pthread_mutex_lock (&e.lock);
        while (e.workers_done < e.workers)
            pthread_cond_wait (&e.cond, &e.lock);
        pthread_mutex_unlock (&e.lock);
    }
    *e2e_fps = launches * batch * 1e3 / (s_ms () - t0);
    pthread_mutex_lock (&e.lock);
    e.stop = true;
    pthread_cond_broadcast (&e.cond);
    pthread_mutex_unlock (&e.lock);
    for (int i = 0; i < e.workers; i++)
        pthread_join (th[i], NULL);
    free (views);
    free (rgb[0]);
    free (rgb[1]);
}

static double
s_bench_gpu (const vtape_t *tape)
{
    double r512, e512, r1024, e1024;
    s_bench_gpu_size (tape, 512, 72, &r512, &e512);
    printf ("gpu 512x512, 72 views/launch:   %8.1f frames/s render only, %8.1f frames/s + jpeg "
            "on %d cores\n",
            r512, e512, s_cores ());
    s_bench_gpu_size (tape, 1024, 72, &r1024, &e1024);
    printf ("gpu 1024x1024, 72 views/launch: %8.1f frames/s render only, %8.1f frames/s + jpeg "
            "on %d cores\n",
            r1024, e1024, s_cores ());
    return r512;
}

//  ---------------------------------------------------------------- the bus

typedef struct {
    const char *endpoint;
    const s_opts_t *o;
    const uint8_t *const *bodies;  //  one request per warmed view
    const size_t *lens;
    atomic_int *measuring, *stop;
    double *lat;  //  ms of each reply while measuring
    size_t nlat, caplat;
    uint64_t ok, cached, errors;
} s_client_t;

typedef struct {
    s_client_t *client;
    double sent;
} s_slot_t;

static void
s_on_hit (const vbus_reply_t *reply, void *arg)
{
    s_slot_t *slot = arg;
    s_client_t *c = slot->client;
    double ms = s_ms () - slot->sent;
    slot->sent = -1;
    if (reply->status != VE_OK) {
        c->errors++;
        return;
    }
    //  The reply's "cached" flag without decoding the whole frame: find the key.
    static const char key[] = "\xa6"
                              "cached";
    const char *p = memmem (reply->body, reply->body_len, key, sizeof key - 1);
    bool cached = p && (size_t) (p - (const char *) reply->body) + sizeof key - 1 < reply->body_len
                  && (uint8_t) p[sizeof key - 1] == 0xc3;
    if (!atomic_load (c->measuring))
        return;
    c->ok++;
    c->cached += cached;
    if (c->nlat == c->caplat) {
        c->caplat = c->caplat ? c->caplat * 2 : 65536;
        c->lat = realloc (c->lat, c->caplat * sizeof *c->lat);
    }
    c->lat[c->nlat++] = ms;
}

static void *
s_client_thread (void *arg)
{
    s_client_t *c = arg;
    vbus_client_t *client = vbus_client_new (c->endpoint, 10000);
    s_slot_t *slots = calloc ((size_t) c->o->window, sizeof *slots);
    unsigned next = (unsigned) (uintptr_t) c * 2654435761u;
    for (int i = 0; i < c->o->window; i++)
        slots[i] = (s_slot_t) { c, -1 };
    while (!atomic_load (c->stop)) {
        for (int i = 0; i < c->o->window; i++) {
            if (slots[i].sent >= 0)
                continue;
            int v = (int) (next++ % (unsigned) c->o->views);
            slots[i].sent = s_ms ();
            if (vbus_client_send (client, "render", "frame", c->bodies[v], c->lens[v], NULL,
                                  s_on_hit, &slots[i], NULL)
                != 0) {
                slots[i].sent = -1;
                c->errors++;
            }
        }
        vbus_client_poll (client, 10);
    }
    //  Collect what is still in flight before the slots go away.
    for (int i = 0; i < 500 && vbus_client_pending (client); i++)
        vbus_client_poll (client, 10);
    vbus_client_destroy (&client);
    free (slots);
    return NULL;
}

static int
s_call (vbus_client_t *client, const char *service, const char *method, const void *body,
        size_t len, const vbus_caller_t *caller, int timeout_ms, vbus_msg_t **reply)
{
    vbus_opts_t opts = { .caller = caller, .timeout_ms = timeout_ms };
    if (vbus_client_call (client, service, method, body, len, &opts, reply) != 0)
        return -1;
    if ((*reply)->status != VE_OK) {
        fprintf (stderr, "bench: %s.%s: %s %s\n", service, method, verr_name ((*reply)->status),
                 (*reply)->message);
        return -1;
    }
    return 0;
}

//  Starts the platform's three processes, makes the product, warms the frames, measures.
//  Returns 0 with *p99_ms and *hits_s, or -1.
static int
s_bench_bus (const s_opts_t *o, double *p99_ms, double *hits_s)
{
    char dir[64], data[128], cdata[128];
    vit_broker_t broker = { 0 };
    pid_t catalog = 0, render = 0;
    int rc = -1;
    vbus_client_t *client = NULL;
    vbus_msg_t *reply = NULL;
    vbuf_t body, scene;
    vbuf_init (&body, NULL, 0);
    vbuf_init (&scene, NULL, 0);
    uint8_t *bodies[72] = { 0 };
    size_t lens[72] = { 0 };
    s_client_t clients[64];
    memset (clients, 0, sizeof clients);
    if (vit_tmpdir ("vitrine-bench-render", dir, sizeof dir) != 0
        || vit_broker_start (&broker, 0, (const char *const[]) { "--log-level", "W", NULL }) != 0) {
        fprintf (stderr, "bench: cannot start a broker\n");
        return -1;
    }
    snprintf (cdata, sizeof cdata, "%s/catalog", dir);
    snprintf (data, sizeof data, "%s/render", dir);
    const char *cargs[] = {
        "--broker", broker.endpoint, "--data", cdata, "--log-level", "W", NULL
    };
    const char *rargs[] = { "--broker", broker.endpoint, "--data",      data,
                            "--set",    "prerender=0",   "--log-level", "W",
                            "--set",    "credit=1024",   NULL };
    catalog = vit_spawn ("vitrine-catalog", cargs);
    render = vit_spawn ("vitrine-render", rargs);
    if (vit_wait_workers (&broker, "catalog", 1, 20000)
        || vit_wait_workers (&broker, "render", 1, 20000)) {
        fprintf (stderr, "bench: catalog or render did not start\n");
        goto done;
    }
    client = vbus_client_new (broker.endpoint, 10000);
    vbus_caller_t admin = { "bench", VBUS_ROLE_ADMIN }, service = { "bench", VBUS_ROLE_SERVICE };
    const char *product = "{\"id\":\"bench-1\",\"sku\":\"B1\",\"title\":\"Bench chair\","
                          "\"brand\":\"Acme\",\"category\":\"bench/render\",\"price\":1,"
                          "\"status\":\"active\"}";
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    if (vmsg_json_to_msgpack (NULL, product, strlen (product), &body, NULL, 0)
        || s_call (client, "catalog", "create", body.data, body.len, &admin, 10000, &reply))
        goto done;
    vbus_msg_destroy (&reply);
    vbuf_reset (&body);
    if (vrender_demo_scene (o->scene, 1, &scene) != 0)
        goto done;
    msgpack_pack_map (&pk, 2);
    vmp_pack_kstr (&pk, "id", "bench-1");
    vmp_pack_cstr (&pk, "scene");
    msgpack_pack_bin (&pk, scene.len);
    msgpack_pack_bin_body (&pk, scene.data, scene.len);
    if (s_call (client, "catalog", "put_scene", body.data, body.len, &admin, 10000, &reply))
        goto done;
    vbus_msg_destroy (&reply);

    //  Warm: every view rendered once (one render.frames call: one job).
    vbuf_reset (&body);
    msgpack_pack_map (&pk, 4);
    vmp_pack_kstr (&pk, "id", "bench-1");
    vmp_pack_kuint (&pk, "w", (uint64_t) o->size);
    vmp_pack_kuint (&pk, "h", (uint64_t) o->size);
    vmp_pack_cstr (&pk, "views");
    msgpack_pack_array (&pk, (size_t) o->views);
    for (int i = 0; i < o->views; i++) {
        msgpack_pack_map (&pk, 1);
        vmp_pack_cstr (&pk, "yaw");
        msgpack_pack_double (&pk, i * 360.0 / o->views);
        //  The request render.frame sends for this view, made once.
        vbuf_t r;
        vbuf_init (&r, NULL, 0);
        msgpack_packer rpk;
        vmp_packer_init (&rpk, &r);
        msgpack_pack_map (&rpk, 4);
        vmp_pack_kstr (&rpk, "id", "bench-1");
        vmp_pack_cstr (&rpk, "yaw");
        msgpack_pack_double (&rpk, i * 360.0 / o->views);
        vmp_pack_kuint (&rpk, "w", (uint64_t) o->size);
        vmp_pack_kuint (&rpk, "h", (uint64_t) o->size);
        bodies[i] = (uint8_t *) vbuf_detach (&r, &lens[i]);
    }
    double t0 = s_ms ();
    if (s_call (client, "render", "frames", body.data, body.len, &service, 600000, &reply))
        goto done;
    printf ("bus: %d frames of %dx%d warmed in %.0f ms (%zu KiB reply)\n", o->views, o->size,
            o->size, s_ms () - t0, reply->body_len >> 10);
    vbus_msg_destroy (&reply);
    if (s_call (client, "render", "stats", NULL, 0, &service, 10000, &reply))
        goto done;
    varena_t *arena = varena_new (0);
    const vmsg_value_t *st;
    const vmsg_method_t *m = vmsg_method_find ("render", "stats");
    uint64_t hits_before = 0;
    if (vmsg_decode (m->reply, reply->body, reply->body_len, arena, &st, NULL, 0) == 0)
        hits_before = vmsg_uint (st, "hits", 0);
    vbus_msg_destroy (&reply);

    //  Measure: clients keep `window` hits in flight each; a second of warm-up first.
    atomic_int measuring = 0, stop = 0;
    int nclients = o->clients < 64 ? o->clients : 64;
    pthread_t th[64];
    for (int i = 0; i < nclients; i++) {
        clients[i] = (s_client_t) { .endpoint = broker.endpoint,
                                    .o = o,
                                    .bodies = (const uint8_t *const *) bodies,
                                    .lens = lens,
                                    .measuring = &measuring,
                                    .stop = &stop };
        pthread_create (&th[i], NULL, s_client_thread, &clients[i]);
    }
    usleep (1000000);
    atomic_store (&measuring, 1);
    t0 = s_ms ();
    usleep ((useconds_t) o->seconds * 1000000);
    atomic_store (&measuring, 0);
    double elapsed = s_ms () - t0;
    atomic_store (&stop, 1);
    size_t n = 0;
    uint64_t ok = 0, cached = 0, errors = 0;
    for (int i = 0; i < nclients; i++) {
        pthread_join (th[i], NULL);
        n += clients[i].nlat;
        ok += clients[i].ok;
        cached += clients[i].cached;
        errors += clients[i].errors;
    }
    double *lat = malloc ((n ? n : 1) * sizeof *lat);
    for (int i = 0, k = 0; i < nclients; i++)
        for (size_t j = 0; j < clients[i].nlat; j++)
            lat[k++] = clients[i].lat[j];
    qsort (lat, n, sizeof *lat, s_cmp);
    double p50 = n ? lat[n / 2] : 0, p99 = n ? lat[(size_t) ((double) n * 0.99)] : 0;
    free (lat);
    *hits_s = (double) ok * 1e3 / elapsed;
    *p99_ms = p99;
    if (s_call (client, "render", "stats", NULL, 0, &service, 10000, &reply) == 0
        && vmsg_decode (m->reply, reply->body, reply->body_len, arena, &st, NULL, 0) == 0)
        printf ("bus: render.stats: +%llu hits, hit ratio %.3f, cache %llu KiB\n",
                (unsigned long long) (vmsg_uint (st, "hits", 0) - hits_before),
                vmsg_float (st, "hit_ratio", 0),
                (unsigned long long) vmsg_uint (st, "cache_bytes", 0) >> 10);
    vbus_msg_destroy (&reply);
    varena_destroy (&arena);
    printf ("bus: cache hits %dx%d, %d clients x %d in flight, %d s: %.0f hits/s, hit rate "
            "%.4f, p50 %.3f ms, p99 %.3f ms, %llu errors\n",
            o->size, o->size, nclients, o->window, o->seconds, *hits_s,
            ok ? (double) cached / (double) ok : 0.0, p50, p99, (unsigned long long) errors);
    rc = errors || !ok ? -1 : 0;
done:
    for (int i = 0; i < 64; i++)
        free (clients[i].lat);
    for (int i = 0; i < 72; i++)
        free (bodies[i]);
    vbus_msg_destroy (&reply);
    vbus_client_destroy (&client);
    vbuf_free (&body);
    vbuf_free (&scene);
    if (render > 0)
        vit_stop (render, SIGTERM, 20000);
    if (catalog > 0)
        vit_stop (catalog, SIGTERM, 10000);
    vit_stop (broker.pid, SIGTERM, 5000);
    vit_rmtree (dir);
    return rc;
}

//  ---------------------------------------------------------------- a miss while pre-rendering

#define MISS_N        8  //  misses per measurement
#define MISS_PRODUCTS 6  //  products whose rings are pre-rendered meanwhile (72 frames each)
#define MISS_GAP_MS   150

//  Creates a product with the demo scene; active ones get their orbit ring pre-rendered.
static int
s_make_product (vbus_client_t *client, const char *id, const char *status, const char *hint,
                int seed)
{
    const vbus_caller_t admin = { "bench", VBUS_ROLE_ADMIN };
    char json[512];
    snprintf (json, sizeof json,
              "{\"id\":\"%s\",\"sku\":\"S-%s\",\"title\":\"Bench %s\",\"brand\":\"Acme\","
              "\"category\":\"bench/render\",\"price\":1,\"status\":\"%s\"}",
              id, id, hint, status);
    vbuf_t body, scene;
    vbuf_init (&body, NULL, 0);
    vbuf_init (&scene, NULL, 0);
    vbus_msg_t *reply = NULL;
    int rc = -1;
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0)
        || s_call (client, "catalog", "create", body.data, body.len, &admin, 10000, &reply))
        goto done;
    vbus_msg_destroy (&reply);
    vbuf_reset (&body);
    if (vrender_demo_scene (hint, (uint64_t) seed, &scene) != 0)
        goto done;
    msgpack_pack_map (&pk, 2);
    vmp_pack_kstr (&pk, "id", id);
    vmp_pack_cstr (&pk, "scene");
    msgpack_pack_bin (&pk, scene.len);
    msgpack_pack_bin_body (&pk, scene.data, scene.len);
    rc = s_call (client, "catalog", "put_scene", body.data, body.len, &admin, 10000, &reply);
done:
    vbus_msg_destroy (&reply);
    vbuf_free (&body);
    vbuf_free (&scene);
    return rc;
}

//  render.stats' field; -1 when it cannot be read.
static double
s_render_stat (vbus_client_t *client, const char *name)
{
    const vbus_caller_t service = { "bench", VBUS_ROLE_SERVICE };
    vbus_msg_t *reply = NULL;
    double v = -1;
    const vmsg_method_t *m = vmsg_method_find ("render", "stats");
    varena_t *arena = varena_new (0);
    const vmsg_value_t *st;
    if (arena && s_call (client, "render", "stats", NULL, 0, &service, 10000, &reply) == 0
        && vmsg_decode (m->reply, reply->body, reply->body_len, arena, &st, NULL, 0) == 0)
        v = vmsg_float (st, name, -1);
    vbus_msg_destroy (&reply);
    varena_destroy (&arena);
    return v;
}

//  The median of MISS_N misses of one product, one at a time, MISS_GAP_MS apart (as a shopper
//  turns a product; it lets pre-rendering run between them, so each miss arrives while it is
//  in the middle of a frame): views at pitch 45 (never pre-rendered), yaws first, first + 45…
static double
s_misses (vbus_client_t *client, const char *id, int size, int first_yaw)
{
    const vbus_caller_t service = { "bench", VBUS_ROLE_SERVICE };
    double ms[MISS_N];
    for (int i = 0; i < MISS_N; i++) {
        vbuf_t body;
        vbuf_init (&body, NULL, 0);
        msgpack_packer pk;
        vmp_packer_init (&pk, &body);
        msgpack_pack_map (&pk, 5);
        vmp_pack_kstr (&pk, "id", id);
        vmp_pack_kint (&pk, "yaw", first_yaw + i * 45);
        vmp_pack_kint (&pk, "pitch", 45);
        vmp_pack_kuint (&pk, "w", (uint64_t) size);
        vmp_pack_kuint (&pk, "h", (uint64_t) size);
        vbus_msg_t *reply = NULL;
        double t0 = s_ms ();
        int rc = s_call (client, "render", "frame", body.data, body.len, &service, 60000, &reply);
        ms[i] = s_ms () - t0;
        vbus_msg_destroy (&reply);
        vbuf_free (&body);
        if (rc)
            return -1;
        usleep (MISS_GAP_MS * 1000);
    }
    qsort (ms, MISS_N, sizeof ms[0], s_cmp);
    return (ms[MISS_N / 2 - 1] + ms[MISS_N / 2]) / 2;
}

//  Returns 0 with the idle and the pre-rendering medians, or -1.
static int
s_bench_miss (const s_opts_t *o, double *idle_ms, double *busy_ms)
{
    char dir[64], data[128], cdata[128];
    vit_broker_t broker = { 0 };
    pid_t catalog = 0, render = 0;
    int rc = -1;
    vbus_client_t *client = NULL;
    if (vit_tmpdir ("vitrine-bench-miss", dir, sizeof dir) != 0
        || vit_broker_start (&broker, 0, (const char *const[]) { "--log-level", "W", NULL }) != 0) {
        fprintf (stderr, "bench: cannot start a broker\n");
        return -1;
    }
    snprintf (cdata, sizeof cdata, "%s/catalog", dir);
    snprintf (data, sizeof data, "%s/render", dir);
    const char *cargs[] = {
        "--broker", broker.endpoint, "--data", cdata, "--log-level", "W", NULL
    };
    char psize[32];
    snprintf (psize, sizeof psize, "prerender_size=%d", o->size);
    const char *rargs[] = { "--broker",    broker.endpoint, "--data", data,          "--set",
                            "prerender=1", "--set",         psize,    "--log-level", "I",
                            NULL };
    catalog = vit_spawn ("vitrine-catalog", cargs);
    render = vit_spawn ("vitrine-render", rargs);
    if (vit_wait_workers (&broker, "catalog", 1, 20000)
        || vit_wait_workers (&broker, "render", 1, 20000)) {
        fprintf (stderr, "bench: catalog or render did not start\n");
        goto done;
    }
    client = vbus_client_new (broker.endpoint, 10000);
    //  A draft product: its ring is not pre-rendered, so the idle misses have the machine.
    if (s_make_product (client, "miss-0", "draft", o->scene, 1))
        goto done;
    s_misses (client, "miss-0", o->size, 0);  //  loads the scene; warms the code paths
    *idle_ms = s_misses (client, "miss-0", o->size, 5);
    double queued = s_render_stat (client, "prerender_queue");
    if (*idle_ms < 0 || queued != 0) {
        fprintf (stderr, "bench: idle misses failed (pre-render queue %.0f)\n", queued);
        goto done;
    }
    //  Active products: their rings keep the pre-render thread busy for a while.
    const char *const *hints = vrender_demo_hints ();
    for (int i = 0, h = 0; i < MISS_PRODUCTS; i++, h = hints[h + 1] ? h + 1 : 0) {
        char id[32];
        snprintf (id, sizeof id, "miss-%d", i + 1);
        if (s_make_product (client, id, "active", hints[h], i + 2))
            goto done;
    }
    for (int i = 0; i < 200 && s_render_stat (client, "prerender_queue") <= 0; i++)
        usleep (50000);
    double before = s_render_stat (client, "prerendered");
    queued = s_render_stat (client, "prerender_queue");
    *busy_ms = s_misses (client, "miss-0", o->size, 10);
    double after = s_render_stat (client, "prerendered");
    double left = s_render_stat (client, "prerender_queue");
    printf ("miss %dx%d: pre-render queue %.0f frames before the misses, %.0f after; %.0f frames "
            "pre-rendered meanwhile\n",
            o->size, o->size, queued, left, after - before);
    if (*busy_ms < 0 || queued <= 0 || left <= 0) {
        fprintf (stderr, "bench: pre-rendering did not run all through the misses\n");
        goto done;
    }
    rc = 0;
done:
    vbus_client_destroy (&client);
    if (render > 0)
        vit_stop (render, SIGTERM, 20000);
    if (catalog > 0)
        vit_stop (catalog, SIGTERM, 10000);
    vit_stop (broker.pid, SIGTERM, 5000);
    vit_rmtree (dir);
    return rc;
}

//  ---------------------------------------------------------------- main

int
main (int argc, char **argv)
{
    setenv ("VITRINE_CHECK_REPLIES", "0", 1);  //  measure the actors as they run in production
    //  Two clients with four hits each in flight: a storefront's load, not a flood (more in
    //  flight buys throughput with latency: --clients 4 --window 16).
    s_opts_t o = { "chair", 24, 5, 2, 4, 24, 512, true, true, true };
    static const struct option opts[] = {
        { "scene", 1, 0, 's' },   { "frames", 1, 0, 'f' }, { "seconds", 1, 0, 't' },
        { "clients", 1, 0, 'c' }, { "window", 1, 0, 'w' }, { "views", 1, 0, 'v' },
        { "size", 1, 0, 'z' },    { "no-bus", 0, 0, 'B' }, { "no-gpu", 0, 0, 'G' },
        { "no-miss", 0, 0, 'M' }, { 0, 0, 0, 0 }
    };
    int c;
    long v;
    const char *me = "vitrine-bench-render";
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': o.scene = optarg; break;
        case 'f':
            if (vbus_arg_long (me, "frames", optarg, 1, 10000, &v))
                return 2;
            o.frames = (int) v;
            break;
        case 't':
            if (vbus_arg_long (me, "seconds", optarg, 1, 600, &v))
                return 2;
            o.seconds = (int) v;
            break;
        case 'c':
            if (vbus_arg_long (me, "clients", optarg, 1, 64, &v))
                return 2;
            o.clients = (int) v;
            break;
        case 'w':
            if (vbus_arg_long (me, "window", optarg, 1, 1000, &v))
                return 2;
            o.window = (int) v;
            break;
        case 'v':
            if (vbus_arg_long (me, "views", optarg, 1, 72, &v))
                return 2;
            o.views = (int) v;
            break;
        case 'z':
            if (vbus_arg_long (me, "size", optarg, 256, 1024, &v) || v % 256)
                return fprintf (stderr, "%s: size: expected 256, 512, 768 or 1024\n", me), 2;
            o.size = (int) v;
            break;
        case 'B': o.bus = false; break;
        case 'G': o.gpu = false; break;
        case 'M': o.miss = false; break;
        default:
            fprintf (stderr,
                     "usage: %s [--scene HINT] [--frames N] [--seconds S] [--clients C] "
                     "[--window W] [--views V] [--size 512] [--no-bus] [--no-gpu] [--no-miss]\n",
                     me);
            return 2;
        }
    }
    vbus_log_level ('W');
    static vscene_t scene;
    static vtape_t tape;
    char err[256] = "";
    if (vrender_demo_build (o.scene, 1, &scene) != 0
        || vtape_compile (&scene, &tape, err, sizeof err) != 0) {
        fprintf (stderr, "%s: scene: unknown demo '%s' %s\n", me, o.scene, err);
        return 2;
    }
    printf ("scene %s: %d nodes, %d ops; renderer %s; %d cores\n", o.scene, scene.count, tape.nops,
            vrender_version (), s_cores ());
    fflush (stdout);
    double cpu = s_bench_cpu (&tape, &o);
    fflush (stdout);
    char gpu[32] = "none";
    if (o.gpu && vrender_gpu_available ())
        snprintf (gpu, sizeof gpu, "%.0f", s_bench_gpu (&tape));
    else
        printf ("gpu: none (%s)\n", o.gpu ? "no CUDA device" : "--no-gpu");
    fflush (stdout);
    double p99 = 0, hits = 0;
    if (o.bus && s_bench_bus (&o, &p99, &hits) != 0) {
        fprintf (stderr, "%s: the bus measurement failed\n", me);
        return 1;
    }
    fflush (stdout);
    double idle = 0, busy = 0;
    if (o.miss) {
        if (s_bench_miss (&o, &idle, &busy) != 0) {
            fprintf (stderr, "%s: the miss measurement failed\n", me);
            return 1;
        }
        printf ("miss %dx%d, median of %d: %.1f ms idle, %.1f ms while pre-rendering: x%.2f "
                "(goal <= 1.5)\n",
                o.size, o.size, MISS_N, idle, busy, busy / idle);
    }
    printf ("render: cpu512 %.1f fps, gpu512 %s fps, hit p99 %.3f ms, hits %.0f/s, miss %.1f ms "
            "idle %.1f ms pre-rendering (x%.2f)\n",
            cpu, gpu, p99, hits, idle, busy, idle > 0 ? busy / idle : 0.0);
    return 0;
}
