//  render_pool.h — the render actor's workers: threads that render jobs (one product's tape and
//  1..72 views of one size and quality: one vrender_views call, so one GPU launch when a GPU
//  exists), JPEG-encode each frame with their own coder, store the frames in the frame cache
//  and hand the finished job back. Two queues: frames someone waits for go first, pre-rendering
//  after. The actor thread submits and collects; the workers only ever touch their job.
//
//  Pre-rendering runs on threads of its own at the operating system's idle priority (Linux
//  SCHED_IDLE, which the CPU renderer's helper threads inherit): they get a core only when
//  nothing else on the machine wants it, so a shopper's miss never shares the cores with them.
//  Dedicated threads rather than workers that switch policy per job, because an unprivileged
//  thread may enter SCHED_IDLE but not leave it. A job a pre-render thread is running when a
//  caller starts to wait for it (render_pool_promote) is handed to the workers after the frame
//  in progress (CPU), so no caller waits on an idle-priority thread for more than one frame.
#ifndef RENDER_POOL_H
#define RENDER_POOL_H

#include "frame_cache.h"
#include "vtape.h"
#include "vview.h"
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RENDER_JOB_VIEWS 72  //  views in one job: one orbit ring

//  A compiled scene shared by the scene store and the jobs that render it (about 70 KiB):
//  reference-counted so a scene replaced while it renders lives until its jobs finish.
typedef struct {
    atomic_int refs;
    vtape_t tape;
} render_tape_t;

//  A zeroed tape with one reference; NULL when out of memory.
render_tape_t *render_tape_new (void);
//  Takes another reference; returns tape. Any thread.
render_tape_t *render_tape_ref (render_tape_t *tape);
//  Drops a reference (freeing the tape with the last) and sets *tape_p to NULL. NULL-safe.
void render_tape_unref (render_tape_t **tape_p);

//  One job. The submitter fills the first part; the worker fills the results.
typedef struct render_job_s {
    uint64_t id;          //  set by render_pool_submit
    bool background;      //  pre-rendering: runs only when no caller waits
    render_tape_t *tape;  //  a reference the job owns (released by render_job_destroy)
    int n;                //  views, 1..RENDER_JOB_VIEWS, all of one size and quality
    vview_t views[RENDER_JOB_VIEWS];
    frame_key_t keys[RENDER_JOB_VIEWS];  //  where each frame goes in the cache
    //  Results.
    int status;  //  0, or the negative code of the render (no frames then)
    bool used_gpu;
    double render_ms;  //  per frame (the batch's time / n)
    double encode_ms[RENDER_JOB_VIEWS];
    uint8_t *jpeg[RENDER_JOB_VIEWS];  //  malloc'ed; NULL when that encode failed
    size_t jpeg_len[RENDER_JOB_VIEWS];
    bool stored[RENDER_JOB_VIEWS];  //  written to the frame cache
    struct render_job_s *next;      //  the pool's queues
    //  Private to the pool.
    int next_view;           //  views done: a job handed on resumes here
    double render_total_ms;  //  render time over every worker that had the job
    atomic_bool promoted;    //  a caller waits for it: a pre-render thread hands it on
} render_job_t;

//  A zeroed job; NULL when out of memory.
render_job_t *render_job_new (void);
//  Frees the job, its frames still in it and its tape reference; NULL-safe.
void render_job_destroy (render_job_t **job_p);
//  Takes frame i out of the job (the caller frees it); NULL when there is none.
uint8_t *render_job_take (render_job_t *job, int i, size_t *len);

typedef struct render_pool_s render_pool_t;

typedef struct {
    int workers;      //  threads for the jobs callers wait for (>= 1)
    int cpu_threads;  //  threads per CPU render (0 = one per online core)
    //  Pre-render threads at the OS's idle priority, which run only background jobs (the
    //  workers then never do). 0: none; the workers run background jobs when no other waits.
    int background_workers;
    int background_cpu_threads;  //  threads per CPU render on those (0 = one per core)
    frame_cache_t *cache;        //  where frames are stored (NULL: not stored)
    //  Called from a worker thread after a job was finished (render_pool_done has it).
    void (*notify) (void *arg);
    void *notify_arg;
} render_pool_config_t;

//  Starts the workers. Returns NULL when out of memory or no thread could start (a pre-render
//  thread that cannot get the idle priority runs at nice 19, with a warning logged).
render_pool_t *render_pool_new (const render_pool_config_t *config);
//  Stops the workers: queued jobs are dropped, running ones end after the frame in progress
//  (CPU) or their launch (GPU), finished ones not yet collected are freed. NULL-safe.
void render_pool_destroy (render_pool_t **self_p);

//  Queues a job (ownership moves: *job_p becomes NULL) and returns its id (> 0).
//  Actor thread (any one thread).
uint64_t render_pool_submit (render_pool_t *self, render_job_t **job_p);
//  Makes a background job urgent (a caller now waits for it): a queued one moves to the front
//  queue; one a pre-render thread runs is handed to the workers after its frame in progress
//  (CPU; a GPU launch ends first). Returns true when it was found so; false when it runs on a
//  worker already, was promoted before, or is done.
bool render_pool_promote (render_pool_t *self, uint64_t id);
//  Drops every queued background job: they come back through render_pool_done with status
//  -VE_CLOSED and no frames. Returns how many.
size_t render_pool_cancel_background (render_pool_t *self);
//  The next finished job (the caller owns it: render_job_destroy), or NULL.
render_job_t *render_pool_done (render_pool_t *self);
//  Jobs queued or running.
size_t render_pool_busy (render_pool_t *self);
//  How many pre-render threads run at the OS's idle priority (the others could not get it).
int render_pool_idle_threads (render_pool_t *self);

#endif
