//  render_pool.c — render workers with two queues and a completion queue (render_pool.h).
//  Workers take the urgent queue; pre-render threads (SCHED_IDLE) take the background queue.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  //  SCHED_IDLE
#endif
#include "render_pool.h"
#include "vbus.h"
#include "vbus_util.h"
#include "vjpeg.h"
#include "vrender.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
    render_job_t *head, *tail;
} s_queue_t;

typedef struct {
    struct render_pool_s *pool;
    bool background;  //  a pre-render thread
    int slot;         //  its index in running (pre-render threads)
} s_thread_t;

struct render_pool_s {
    render_pool_config_t config;
    pthread_mutex_t lock;
    pthread_cond_t wake;     //  workers: an urgent job (or, without pre-render threads, any)
    pthread_cond_t wake_bg;  //  pre-render threads: a background job
    s_queue_t urgent, background, done;
    size_t busy;  //  queued + running
    uint64_t next_id;
    atomic_bool stop;
    atomic_int idle_threads;  //  pre-render threads that got SCHED_IDLE
    int bg_ready;             //  pre-render threads past their start (render_pool_new waits)
    pthread_cond_t ready;
    render_job_t **running;  //  per pre-render thread: its job, for render_pool_promote
    pthread_t *threads;
    s_thread_t *thread_args;
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

//  Encodes frame i of the job from rgb and stores it.
static void
s_encode (render_pool_t *self, render_job_t *job, int i, const uint8_t *rgb, vjpeg_t *coder)
{
    const vview_t *view = &job->views[i];
    double t = s_ms ();
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    if (vjpeg_encode (coder, rgb, view->width, view->height, view->quality, &out) == 0)
        job->jpeg[i] = (uint8_t *) vbuf_detach (&out, &job->jpeg_len[i]);
    vbuf_free (&out);
    job->encode_ms[i] = s_ms () - t;
    if (job->jpeg[i] && self->config.cache)
        job->stored[i] =
            frame_cache_put (self->config.cache, &job->keys[i], job->jpeg[i], job->jpeg_len[i])
            == 0;
}

//  Renders, encodes and stores the job's views from next_view on; rgb is the thread's buffer,
//  grown as needed. Returns true when a pre-render thread stopped early to hand the job on (a
//  caller waits for it: the rest is for a worker at the normal priority).
static bool
s_run (render_pool_t *self, const s_thread_t *me, render_job_t *job, vjpeg_t *coder, uint8_t **rgb,
       size_t *rgb_size)
{
    const vview_t *first = &job->views[0];
    size_t frame = (size_t) first->width * (size_t) first->height * 3;
    bool gpu = vrender_gpu_available ();
    int todo = job->n - job->next_view;
    size_t need = frame * (size_t) (gpu ? todo : 1);
    if (*rgb_size < need) {
        free (*rgb);
        *rgb_size = need;
        *rgb = malloc (*rgb_size);
        if (!*rgb) {
            *rgb_size = 0;
            job->status = -VE_NOMEM;
            return false;
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
    opts.threads = me->background ? self->config.background_cpu_threads : self->config.cpu_threads;
    bool handed_on = false;
    if (gpu) {
        //  One launch for every view left.
        double t0 = s_ms ();
        job->status = vrender_views (&job->tape->tape, &views[job->next_view], todo, &opts, *rgb,
                                     &job->used_gpu);
        job->render_total_ms += s_ms () - t0;
        for (int i = job->next_view; i < job->n && job->status == 0; i++)
            s_encode (self, job, i, *rgb + frame * (size_t) (i - job->next_view), coder);
        job->next_view = job->n;
    }
    else {
        //  On the CPU one view after another, each encoded at once: a stop ends a long job
        //  after the frame in progress, and a promoted job changes thread there.
        while (job->next_view < job->n && job->status == 0) {
            if (atomic_load (&self->stop)) {
                job->status = -VE_CLOSED;
                break;
            }
            if (me->background && atomic_load (&job->promoted)) {
                handed_on = true;
                break;
            }
            int i = job->next_view;
            double t0 = s_ms ();
            job->status = vrender_views (&job->tape->tape, &views[i], 1, &opts, *rgb, NULL);
            job->render_total_ms += s_ms () - t0;
            if (job->status == 0)
                s_encode (self, job, i, *rgb, coder);
            job->next_view++;
        }
    }
    int rendered = job->next_view ? job->next_view : 1;
    job->render_ms = job->render_total_ms / rendered;
    return handed_on;
}

//  Moves the calling pre-render thread to SCHED_IDLE, for good: an unprivileged thread may
//  enter it but not leave it, hence threads of their own. The CPU renderer's helper threads,
//  created by this one, inherit the policy. (glibc refuses SCHED_IDLE in thread attributes, so
//  the thread sets it on itself.) Where it is refused, nice 19 is the next best thing.
static bool
s_idle_priority (void)
{
    struct sched_param param = { .sched_priority = 0 };
    if (pthread_setschedparam (pthread_self (), SCHED_IDLE, &param) == 0)
        return true;
    setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 19);
    vbus_log ('W', "render",
              "a pre-render thread cannot have the idle priority (SCHED_IDLE): it "
              "runs at nice 19");
    return false;
}

//  The next job this thread may take (under the lock); NULL when none.
static render_job_t *
s_next (render_pool_t *self, const s_thread_t *me)
{
    if (me->background)
        return s_pop (&self->background);
    render_job_t *job = s_pop (&self->urgent);
    if (!job && self->config.background_workers == 0)
        job = s_pop (&self->background);
    return job;
}

static bool
s_has_work (render_pool_t *self, const s_thread_t *me)
{
    if (me->background)
        return self->background.head != NULL;
    return self->urgent.head || (self->config.background_workers == 0 && self->background.head);
}

static void *
s_worker (void *arg)
{
    s_thread_t *me = arg;
    render_pool_t *self = me->pool;
    if (me->background) {
        bool idle = s_idle_priority ();
        pthread_mutex_lock (&self->lock);
        atomic_fetch_add (&self->idle_threads, idle);
        self->bg_ready++;
        pthread_cond_broadcast (&self->ready);
        pthread_mutex_unlock (&self->lock);
    }
    pthread_cond_t *wake = me->background ? &self->wake_bg : &self->wake;
    vjpeg_t *coder = vjpeg_new ();
    uint8_t *rgb = NULL;
    size_t rgb_size = 0;
    pthread_mutex_lock (&self->lock);
    for (;;) {
        while (!atomic_load (&self->stop) && !s_has_work (self, me))
            pthread_cond_wait (wake, &self->lock);
        if (atomic_load (&self->stop))
            break;
        render_job_t *job = s_next (self, me);
        if (me->background)
            self->running[me->slot] = job;
        pthread_mutex_unlock (&self->lock);
        bool handed_on = false;
        if (coder)
            handed_on = s_run (self, me, job, coder, &rgb, &rgb_size);
        else
            job->status = -VE_NOMEM;
        pthread_mutex_lock (&self->lock);
        if (me->background)
            self->running[me->slot] = NULL;
        if (handed_on) {
            //  The rest of it goes to a worker, ahead of anything else queued.
            job->background = false;
            job->next = self->urgent.head;
            self->urgent.head = job;
            if (!self->urgent.tail)
                self->urgent.tail = job;
            pthread_cond_signal (&self->wake);
            continue;
        }
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
    int background = config->background_workers < 0 ? 0 : config->background_workers;
    int all = workers + background;
    if (!self || !(self->threads = calloc ((size_t) all, sizeof *self->threads))
        || !(self->thread_args = calloc ((size_t) all, sizeof *self->thread_args))
        || !(self->running = calloc ((size_t) background + 1, sizeof *self->running))) {
        if (self) {
            free (self->threads);
            free (self->thread_args);
        }
        free (self);
        return NULL;
    }
    self->config = *config;
    self->config.background_workers = background;
    atomic_init (&self->stop, false);
    atomic_init (&self->idle_threads, 0);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    pthread_cond_init (&self->wake_bg, NULL);
    pthread_cond_init (&self->ready, NULL);
    int workers_started = 0;
    for (int i = 0; i < all; i++) {
        s_thread_t *t = &self->thread_args[i];
        *t = (s_thread_t) { self, i >= workers, i - workers };
        bool ok = pthread_create (&self->threads[self->started], NULL, s_worker, t) == 0;
        if (ok) {
            self->started++;
            workers_started += i < workers;
        }
        else if (i >= workers) {
            //  Fewer pre-render threads; without any the workers take background jobs.
            pthread_mutex_lock (&self->lock);
            self->config.background_workers = i - workers;
            pthread_mutex_unlock (&self->lock);
            break;
        }
    }
    //  The pre-render threads' priority is known before this returns.
    pthread_mutex_lock (&self->lock);
    while (self->bg_ready < self->started - workers_started)
        pthread_cond_wait (&self->ready, &self->lock);
    pthread_mutex_unlock (&self->lock);
    if (workers_started == 0) {
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
    pthread_cond_broadcast (&self->wake_bg);
    pthread_mutex_unlock (&self->lock);
    for (int i = 0; i < self->started; i++)
        pthread_join (self->threads[i], NULL);
    s_free_queue (&self->urgent);
    s_free_queue (&self->background);
    s_free_queue (&self->done);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->wake);
    pthread_cond_destroy (&self->wake_bg);
    pthread_cond_destroy (&self->ready);
    free (self->threads);
    free (self->thread_args);
    free (self->running);
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
    if (job->background && self->config.background_workers)
        pthread_cond_signal (&self->wake_bg);
    else
        pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    return job->id;
}

bool
render_pool_promote (render_pool_t *self, uint64_t id)
{
    pthread_mutex_lock (&self->lock);
    render_job_t *job = s_remove (&self->background, id);
    bool found = job != NULL;
    if (job) {
        job->background = false;
        s_push (&self->urgent, job);
        pthread_cond_signal (&self->wake);
    }
    else {
        //  Running on a pre-render thread: it hands the job on after the frame in progress.
        for (int i = 0; i < self->config.background_workers && !found; i++) {
            render_job_t *running = self->running[i];
            if (running && running->id == id && !atomic_load (&running->promoted)) {
                atomic_store (&running->promoted, true);
                found = true;
            }
        }
    }
    pthread_mutex_unlock (&self->lock);
    return found;
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

int
render_pool_idle_threads (render_pool_t *self)
{
    return atomic_load (&self->idle_threads);
}
