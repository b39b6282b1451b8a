//  vrender.c — the CPU renderer (pthreads pulling tiles off an atomic counter) and the GPU
//  dispatch: the CUDA part is called when it was built and a device exists at run time.
#include "vrender.h"
#include "vrender_eval.h"
#include "verr.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAX_THREADS 64

void
vrender_opts_default (vrender_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->width = opts->height = 512;
    opts->aa = VRENDER_AA_EDGES;
}

const char *
vrender_version (void)
{
#define S_STR2(x) #x
#define S_STR(x)  S_STR2 (x)
    return "vrender-2/tape-" S_STR (VTAPE_VERSION);
}

static int
s_check (const vtape_t *tape, const vrender_opts_t *o)
{
    if (!tape || !o || o->width < 8 || o->height < 8 || o->width > VRENDER_MAX_SIZE
        || o->height > VRENDER_MAX_SIZE || (int) o->aa < 0 || o->aa > VRENDER_AA_FULL
        || o->threads < 0 || o->tile < 0 || tape->nops < 1 || tape->nops > VTAPE_MAX_OPS
        || tape->nmats < 1 || tape->nmats > VTAPE_MAX_MATERIALS || !(tape->radius > 0))
        return -VE_INVAL;
    return 0;
}

typedef struct {
    const vtape_t *tape;
    vr_camera_t cam;
    const vrender_opts_t *opts;
    int tile, tiles_x, ntiles;
    atomic_int next;
    uint8_t *rgb;
    vr_key_t *keys;  //  EDGES: the first pass's keys (the whole frame)
    bool edges;      //  the second pass of EDGES
} s_job_t;

static void *
s_worker (void *arg)
{
    s_job_t *job = (s_job_t *) arg;
    const vrender_opts_t *o = job->opts;
    for (;;) {
        int i = atomic_fetch_add (&job->next, 1);
        if (i >= job->ntiles)
            break;
        if (o->reverse_tiles)
            i = job->ntiles - 1 - i;
        int x0 = (i % job->tiles_x) * job->tile, y0 = (i / job->tiles_x) * job->tile;
        int x1 = x0 + job->tile < o->width ? x0 + job->tile : o->width;
        int y1 = y0 + job->tile < o->height ? y0 + job->tile : o->height;
        if (job->edges)
            vr_block_edges (job->tape, &job->cam, x0, y0, x1, y1, o->width, o->height, job->rgb,
                            job->keys);
        else
            vr_block (job->tape, &job->cam, x0, y0, x1, y1, o->width, o->height,
                      o->aa == VRENDER_AA_FULL ? 2 : 1, job->rgb, job->keys);
    }
    return NULL;
}

static int
s_cores (void)
{
    long n = sysconf (_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > S_MAX_THREADS ? S_MAX_THREADS : (int) n;
}

int
vrender_cpu (const vtape_t *tape, const vrender_view_t *view, const vrender_opts_t *opts,
             uint8_t *rgb)
{
    int rc = s_check (tape, opts);
    if (rc || !view || !rgb)
        return rc ? rc : -VE_INVAL;
    s_job_t job;
    memset (&job, 0, sizeof job);
    job.tape = tape;
    job.cam = vr_camera (tape, view->yaw, view->pitch, view->zoom);
    job.opts = opts;
    job.tile = opts->tile ? opts->tile : 32;
    job.tiles_x = (opts->width + job.tile - 1) / job.tile;
    job.ntiles = job.tiles_x * ((opts->height + job.tile - 1) / job.tile);
    job.rgb = rgb;
    if (opts->aa == VRENDER_AA_EDGES) {
        job.keys = malloc ((size_t) opts->width * (size_t) opts->height * sizeof *job.keys);
        if (!job.keys)
            return -VE_NOMEM;
    }
    int nthreads = opts->threads ? opts->threads : s_cores ();
    if (nthreads > S_MAX_THREADS)
        nthreads = S_MAX_THREADS;
    if (nthreads > job.ntiles)
        nthreads = job.ntiles;
    //  One pass, or two with EDGES: the second needs every key of the first (a tile's edge
    //  pixels look at their neighbours in the next tile), so the threads meet in between.
    for (int pass = 0; pass < (job.keys ? 2 : 1); pass++) {
        atomic_store (&job.next, 0);
        job.edges = pass == 1;
        pthread_t th[S_MAX_THREADS];
        int started = 0;
        for (int i = 1; i < nthreads; i++) {
            if (pthread_create (&th[started], NULL, s_worker, &job) != 0)
                break;  //  fewer threads: the ones running (and this one) take every tile
            started++;
        }
        s_worker (&job);
        for (int i = 0; i < started; i++)
            pthread_join (th[i], NULL);
    }
    free (job.keys);
    return 0;
}

//  ---------------------------------------------------------------- GPU dispatch
static pthread_once_t s_gpu_once = PTHREAD_ONCE_INIT;
static bool s_gpu_ok;
static pthread_mutex_t s_gpu_lock = PTHREAD_MUTEX_INITIALIZER;

static void
s_gpu_probe (void)
{
#ifdef VRENDER_HAVE_CUDA
    int n = vrender__cuda_device_count ();
    s_gpu_ok = n > 0;
    if (!s_gpu_ok)
        fprintf (stderr, "vrender: no CUDA device (cudaGetDeviceCount: %d), rendering on the CPU\n",
                 n);
#else
    s_gpu_ok = false;
    fprintf (stderr, "vrender: built without CUDA, rendering on the CPU\n");
#endif
}

bool
vrender_gpu_available (void)
{
    pthread_once (&s_gpu_once, s_gpu_probe);
    return s_gpu_ok;
}

int
vrender_gpu (const vtape_t *tape, const vrender_view_t *views, int n, const vrender_opts_t *opts,
             uint8_t *rgb)
{
    int rc = s_check (tape, opts);
    if (rc || !views || !rgb || n < 1 || n > VRENDER_MAX_VIEWS)
        return rc ? rc : -VE_INVAL;
    if (!vrender_gpu_available ())
        return -VE_UNAVAILABLE;
#ifdef VRENDER_HAVE_CUDA
    char err[160] = "";
    pthread_mutex_lock (&s_gpu_lock);
    rc = vrender__cuda_render (tape, views, n, opts->width, opts->height, (int) opts->aa, rgb, err,
                               (int) sizeof err);
    pthread_mutex_unlock (&s_gpu_lock);
    if (rc)
        fprintf (stderr, "vrender: CUDA render failed: %s\n", err);
    return rc;
#else
    (void) s_gpu_lock;
    return -VE_UNAVAILABLE;
#endif
}

int
vrender_views (const vtape_t *tape, const vrender_view_t *views, int n, const vrender_opts_t *opts,
               uint8_t *rgb, bool *used_gpu)
{
    int rc = s_check (tape, opts);
    if (rc || !views || !rgb || n < 1 || n > VRENDER_MAX_VIEWS)
        return rc ? rc : -VE_INVAL;
    if (used_gpu)
        *used_gpu = false;
    if (vrender_gpu_available () && vrender_gpu (tape, views, n, opts, rgb) == 0) {
        if (used_gpu)
            *used_gpu = true;
        return 0;
    }
    size_t frame = (size_t) opts->width * (size_t) opts->height * 3;
    for (int i = 0; i < n; i++)
        if ((rc = vrender_cpu (tape, &views[i], opts, rgb + frame * (size_t) i)))
            return rc;
    return 0;
}
