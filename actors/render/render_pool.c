//  render_pool.c — render workers with two queues and a completion queue (render_pool.h).
#include "render_pool.h"
#include "vbus.h"
#include "vjpeg.h"
#include "vrender.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    render_job_t *head, *tail;
} s_queue_t;

struct render_pool_s {
    render_pool_config_t config;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    s_queue_t urgent, background, done;
    size_t busy;  //  queued + running
    uint64_t next_id;
    atomic_bool stop;
    pthread_t *threads;
    int started;
};

//  ---------------------------------------------------------------- tapes and jobs

render_tape_t *
render_tape_new (void)
{
    render_tape_t *tape = calloc (1, sizeof *tape);
    if (tape)
        atomic_init (&tape->refs, 1);
    return tape;
}

render_tape_t *
render_tape_ref (render_tape_t *tape)
{
    atomic_fetch_add (&tape->refs, 1);
    return tape;
}

void
render_tape_unref (render_tape_t **tape_p)
{
    if (!tape_p || !*tape_p)
        return;
    if (atomic_fetch_sub (&(*tape_p)->refs, 1) == 1)
        free (*tape_p);
    *tape_p = NULL;
}

render_job_t *
render_job_new (void)
{
    return calloc (1, sizeof (render_job_t));
}

void
render_job_destroy (render_job_t **job_p)
{
    if (!job_p || !*job_p)
        return;
    render_job_t *job = *job_p;
    for (int i = 0; i < job->n; i++)
        free (job->jpeg[i]);
    render_tape_unref (&job->tape);
    free (job);
    *job_p = NULL;
}

uint8_t *
render_job_take (render_job_t *job, int i, size_t *len)
{
    if (i < 0 || i >= job->n || !job->jpeg[i])
        return NULL;
    uint8_t *jpeg = job->jpeg[i];
    *len = job->jpeg_len[i];
    job->jpeg[i] = NULL;
    return jpeg;
}

//  ---------------------------------------------------------------- queues (under the lock)

static void
s_push (s_queue_t *q, render_job_t *job)
{
    job->next = NULL;
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
}

static render_job_t *
s_pop (s_queue_t *q)
{
    render_job_t *job = q->head;
    if (job) {
        q->head = job->next;
        if (!q->head)
            q->tail = NULL;
        job->next = NULL;
    }
    return job;
}

//  Unlinks the job with this id; NULL when it is not in q.
static render_job_t *
s_remove (s_queue_t *q, uint64_t id)
{
    render_job_t *prev = NULL;
    for (render_job_t *job = q->head; job; prev = job, job = job->next) {
        if (job->id != id)
            continue;
        if (prev)
            prev->next = job->next;
        else
            q->head = job->next;
        if (q->tail == job)
            q->tail = prev;
        job->next = NULL;
        return job;
    }
    return NULL;
}

static void
s_free_queue (s_queue_t *q)
{
    render_job_t *job;
    while ((job = s_pop (q)))
        render_job_destroy (&job);
}

//  ---------------------------------------------------------------- workers

static double
s_ms (void)
{
    return (double) vbus_mono_us () / 1000.0;
}

//  Renders, encodes and stores one job; rgb is the worker's buffer, grown as needed.
static void
s_run (render_pool_t *self, render_job_t *job, vjpeg_t *coder, uint8_t **rgb, size_t *rgb_size)
{
    const vview_t *first = &job->views[0];
    size_t frame = (size_t) first->width * (size_t) first->height * 3;
    if (*rgb_size < frame * (size_t) job->n) {
        free (*rgb);
        *rgb_size = frame * (size_t) job->n;
        *rgb = malloc (*rgb_size);
        if (!*rgb) {
            *rgb_size = 0;
            job->status = -VE_NOMEM;
            return;
        }
    }
    vrender_view_t views[RENDER_JOB_VIEWS];
    for (int i = 0; i < job->n; i++)
        views[i] = (vrender_view_t) { (float) job->views[i].yaw, (float) job->views[i].pitch,
                                      vview_zoom_factor (job->views[i].zoom) };
    vrender_opts_t opts;
    vrender_opts_default (&opts);
    opts.width = first->width;
    opts.height = first->height;
    opts.threads = self->config.cpu_threads;
    double t0 = s_ms ();
    if (vrender_gpu_available ())
        job->status = vrender_views (&job->tape->tape, views, job->n, &opts, *rgb, &job->used_gpu);
    else {
        //  On the CPU views are rendered one after another anyway: one call each lets a stop
        //  end a long job after the frame in progress.
        for (int i = 0; i < job->n && job->status == 0; i++)
            job->status = atomic_load (&self->stop)
                              ? -VE_CLOSED
                              : vrender_views (&job->tape->tape, &views[i], 1, &opts,
                                               *rgb + frame * (size_t) i, NULL);
    }
    job->render_ms = (s_ms () - t0) / job->n;
    if (job->status)
        return;
    vbuf_t out;
    for (int i = 0; i < job->n; i++) {
        double t1 = s_ms ();
        vbuf_init (&out, NULL, 0);
        if (vjpeg_encode (coder, *rgb + frame * (size_t) i, first->width, first->height,
                          job->views[i].quality, &out)
            == 0)
            job->jpeg[i] = (uint8_t *) vbuf_detach (&out, &job->jpeg_len[i]);
        vbuf_free (&out);
        job->encode_ms[i] = s_ms () - t1;
        if (job->jpeg[i] && self->config.cache)
            job->stored[i] =
                frame_cache_put (self->config.cache, &job->keys[i], job->jpeg[i], job->jpeg_len[i])
                == 0;
    }
}

static void *
s_worker (void *arg)
{
    render_pool_t *self = arg;
    vjpeg_t *coder = vjpeg_new ();
    uint8_t *rgb = NULL;
    size_t rgb_size = 0;
    pthread_mutex_lock (&self->lock);
    for (;;) {
        while (!atomic_load (&self->stop) && !self->urgent.head && !self->background.head)
            pthread_cond_wait (&self->wake, &self->lock);
        if (atomic_load (&self->stop))
            break;
        render_job_t *job = s_pop (&self->urgent);
        if (!job)
            job = s_pop (&self->background);
        pthread_mutex_unlock (&self->lock);
        if (coder)
            s_run (self, job, coder, &rgb, &rgb_size);
        else
            job->status = -VE_NOMEM;
        pthread_mutex_lock (&self->lock);
        s_push (&self->done, job);
        self->busy--;
        pthread_mutex_unlock (&self->lock);
        if (self->config.notify)
            self->config.notify (self->config.notify_arg);
        pthread_mutex_lock (&self->lock);
    }
    pthread_mutex_unlock (&self->lock);
    free (rgb);
    vjpeg_destroy (&coder);
    return NULL;
}

//  ---------------------------------------------------------------- the pool

render_pool_t *
render_pool_new (const render_pool_config_t *config)
{
    render_pool_t *self = calloc (1, sizeof *self);
    int workers = config->workers < 1 ? 1 : config->workers;
    if (!self || !(self->threads = calloc ((size_t) workers, sizeof *self->threads))) {
        free (self);
        return NULL;
    }
    self->config = *config;
    atomic_init (&self->stop, false);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    for (int i = 0; i < workers; i++)
        if (pthread_create (&self->threads[self->started], NULL, s_worker, self) == 0)
            self->started++;
    if (self->started == 0) {
        render_pool_destroy (&self);
        return NULL;
    }
    return self;
}

void
render_pool_destroy (render_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    render_pool_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    atomic_store (&self->stop, true);
    pthread_cond_broadcast (&self->wake);
    pthread_mutex_unlock (&self->lock);
    for (int i = 0; i < self->started; i++)
        pthread_join (self->threads[i], NULL);
    s_free_queue (&self->urgent);
    s_free_queue (&self->background);
    s_free_queue (&self->done);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->wake);
    free (self->threads);
    free (self);
    *self_p = NULL;
}

uint64_t
render_pool_submit (render_pool_t *self, render_job_t **job_p)
{
    render_job_t *job = *job_p;
    *job_p = NULL;
    pthread_mutex_lock (&self->lock);
    job->id = ++self->next_id;
    s_push (job->background ? &self->background : &self->urgent, job);
    self->busy++;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    return job->id;
}

bool
render_pool_promote (render_pool_t *self, uint64_t id)
{
    pthread_mutex_lock (&self->lock);
    render_job_t *job = s_remove (&self->background, id);
    if (job) {
        job->background = false;
        s_push (&self->urgent, job);
    }
    pthread_mutex_unlock (&self->lock);
    return job != NULL;
}

size_t
render_pool_cancel_background (render_pool_t *self)
{
    size_t n = 0;
    pthread_mutex_lock (&self->lock);
    render_job_t *job;
    while ((job = s_pop (&self->background))) {
        job->status = -VE_CLOSED;
        s_push (&self->done, job);
        self->busy--;
        n++;
    }
    pthread_mutex_unlock (&self->lock);
    return n;
}

render_job_t *
render_pool_done (render_pool_t *self)
{
    pthread_mutex_lock (&self->lock);
    render_job_t *job = s_pop (&self->done);
    pthread_mutex_unlock (&self->lock);
    return job;
}

size_t
render_pool_busy (render_pool_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t busy = self->busy;
    pthread_mutex_unlock (&self->lock);
    return busy;
}
