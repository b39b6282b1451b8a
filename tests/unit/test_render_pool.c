//  test_render_pool.c — the render actor's workers and scenes: a job's frames are JPEGs of the
//  asked size, stored in the frame cache; callers' jobs overtake pre-rendering, a promoted job
//  overtakes its queue, cancelled ones come back empty; pre-render threads run at the OS's idle
//  priority, never delay a caller's job and hand on a job a caller starts to wait for; the
//  scene store compiles documents,
//  keeps the most recent products and forgets "no scene" after a while.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "render_pool.h"
#include "render_scenes.h"
#include "verr.h"
#include "vjpeg.h"
#include "vscene.h"

//  ---------------------------------------------------------------- helpers

//  A demo product's scene document compiled into a tape.
static render_tape_t *
s_tape (const char *hint, uint64_t seed)
{
    vbuf_t doc;
    vbuf_init (&doc, NULL, 0);
    assert_int_equal (vrender_demo_scene (hint, seed, &doc), 0);
    render_tape_t *tape = NULL;
    char err[256] = "";
    assert_int_equal (render_scene_compile (doc.data, doc.len, &tape, err, sizeof err), 0);
    vbuf_free (&doc);
    assert_non_null (tape);
    return tape;
}

//  A notify callback the test can hold shut: while held, the worker that finished a job waits
//  inside it, so the test can queue jobs behind it without racing the worker.
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int notified;
    bool hold;
} s_gate_t;

static void
s_notify (void *arg)
{
    s_gate_t *g = arg;
    pthread_mutex_lock (&g->lock);
    g->notified++;
    pthread_cond_broadcast (&g->cond);
    while (g->hold)
        pthread_cond_wait (&g->cond, &g->lock);
    pthread_mutex_unlock (&g->lock);
}

//  Waits (at most 60 s) until notify ran n times; false at the deadline.
static bool
s_wait_notified (s_gate_t *g, int n)
{
    struct timespec deadline;
    clock_gettime (CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock (&g->lock);
    int rc = 0;
    while (g->notified < n && rc == 0)
        rc = pthread_cond_timedwait (&g->cond, &g->lock, &deadline);
    bool ok = g->notified >= n;
    pthread_mutex_unlock (&g->lock);
    return ok;
}

static void
s_release (s_gate_t *g)
{
    pthread_mutex_lock (&g->lock);
    g->hold = false;
    pthread_cond_broadcast (&g->cond);
    pthread_mutex_unlock (&g->lock);
}

static render_job_t *
s_job (render_tape_t *tape, int n, int size, bool background)
{
    render_job_t *job = render_job_new ();
    assert_non_null (job);
    job->tape = render_tape_ref (tape);
    job->background = background;
    for (int i = 0; i < n; i++) {
        vview_snap (i * 90, 15, 1, size, size, 75, &job->views[i]);
        assert_int_equal (
            frame_key_make (&job->keys[i], "p-1", "test", tape->tape.hash, &job->views[i]), 0);
    }
    job->n = n;
    return job;
}

static int
s_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    return remove (path);
}

//  ---------------------------------------------------------------- the pool

static void
test_job_frames (void **state)
{
    (void) state;
    char dir[64] = "/tmp/vitrine-pool-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char err[256];
    frame_cache_t *cache = frame_cache_open (dir, 16 << 20, 0, err, sizeof err);
    assert_non_null (cache);
    s_gate_t gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false };
    render_pool_config_t pc = {
        .workers = 2, .cpu_threads = 1, .cache = cache, .notify = s_notify, .notify_arg = &gate
    };
    render_pool_t *pool = render_pool_new (&pc);
    assert_non_null (pool);
    render_tape_t *tape = s_tape ("chair", 1);
    render_job_t *job = s_job (tape, 2, 256, false);
    //  The job holds its own reference: the scene may be replaced while it renders.
    render_tape_unref (&tape);
    uint64_t id = render_pool_submit (pool, &job);
    assert_null (job);
    assert_true (id > 0);
    assert_true (s_wait_notified (&gate, 1));
    job = render_pool_done (pool);
    assert_non_null (job);
    assert_null (render_pool_done (pool));
    assert_int_equal (job->id, id);
    assert_int_equal (job->status, 0);
    assert_true (job->render_ms > 0);
    vjpeg_t *coder = vjpeg_new ();
    for (int i = 0; i < 2; i++) {
        assert_non_null (job->jpeg[i]);
        uint8_t *rgb = NULL;
        int w = 0, h = 0;
        assert_int_equal (vjpeg_decode (coder, job->jpeg[i], job->jpeg_len[i], &rgb, &w, &h), 0);
        assert_int_equal (w, 256);
        assert_int_equal (h, 256);
        free (rgb);
        //  Stored under its key, the same bytes.
        assert_true (job->stored[i]);
        frame_pin_t *pin = NULL;
        assert_int_equal (frame_cache_get (cache, &job->keys[i], &pin), 0);
        size_t len;
        const void *data = frame_pin_data (pin, &len);
        assert_int_equal (len, job->jpeg_len[i]);
        assert_memory_equal (data, job->jpeg[i], len);
        frame_pin_release (&pin);
    }
    //  Two views of a chair from 90° apart are two pictures.
    assert_false (job->jpeg_len[0] == job->jpeg_len[1]
                  && memcmp (job->jpeg[0], job->jpeg[1], job->jpeg_len[0]) == 0);
    size_t len = 0;
    uint8_t *taken = render_job_take (job, 0, &len);
    assert_non_null (taken);
    assert_null (job->jpeg[0]);
    assert_null (render_job_take (job, 0, &len));
    free (taken);
    render_job_destroy (&job);
    assert_int_equal (render_pool_busy (pool), 0);
    vjpeg_destroy (&coder);
    render_pool_destroy (&pool);
    assert_null (pool);
    frame_cache_close (&cache);
    nftw (dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

//  Collects n finished jobs' ids in order.
static void
s_collect (render_pool_t *pool, uint64_t *ids, int n, int *statuses)
{
    for (int i = 0; i < n; i++) {
        render_job_t *job = render_pool_done (pool);
        assert_non_null (job);
        ids[i] = job->id;
        if (statuses)
            statuses[i] = job->status;
        render_job_destroy (&job);
    }
}

static void
test_priorities (void **state)
{
    (void) state;
    s_gate_t gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, true };
    render_pool_config_t pc = {
        .workers = 1, .cpu_threads = 1, .notify = s_notify, .notify_arg = &gate
    };
    render_pool_t *pool = render_pool_new (&pc);
    render_tape_t *tape = s_tape ("bulb", 2);
    render_job_t *job = s_job (tape, 1, 256, false);
    uint64_t first = render_pool_submit (pool, &job);
    assert_true (s_wait_notified (&gate, 1));  //  the worker now waits in notify
    job = s_job (tape, 1, 256, true);
    uint64_t bg1 = render_pool_submit (pool, &job);
    job = s_job (tape, 1, 256, true);
    uint64_t bg2 = render_pool_submit (pool, &job);
    job = s_job (tape, 1, 256, false);
    uint64_t urgent = render_pool_submit (pool, &job);
    assert_int_equal (render_pool_busy (pool), 3);
    s_release (&gate);
    assert_true (s_wait_notified (&gate, 4));
    uint64_t ids[4];
    s_collect (pool, ids, 4, NULL);
    //  The caller's job overtook the two pre-render jobs queued before it.
    assert_int_equal (ids[0], first);
    assert_int_equal (ids[1], urgent);
    assert_int_equal (ids[2], bg1);
    assert_int_equal (ids[3], bg2);
    render_pool_destroy (&pool);
    render_tape_unref (&tape);
}

static void
test_promote_and_cancel (void **state)
{
    (void) state;
    s_gate_t gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, true };
    render_pool_config_t pc = {
        .workers = 1, .cpu_threads = 1, .notify = s_notify, .notify_arg = &gate
    };
    render_pool_t *pool = render_pool_new (&pc);
    render_tape_t *tape = s_tape ("lamp", 3);
    render_job_t *job = s_job (tape, 1, 256, false);
    uint64_t first = render_pool_submit (pool, &job);
    assert_true (s_wait_notified (&gate, 1));
    job = s_job (tape, 1, 256, true);
    uint64_t bg1 = render_pool_submit (pool, &job);
    job = s_job (tape, 1, 256, true);
    uint64_t bg2 = render_pool_submit (pool, &job);
    job = s_job (tape, 1, 256, true);
    uint64_t bg3 = render_pool_submit (pool, &job);
    assert_true (render_pool_promote (pool, bg2));
    assert_false (render_pool_promote (pool, bg2));    //  no longer in the background queue
    assert_false (render_pool_promote (pool, first));  //  done already
    assert_false (render_pool_promote (pool, 999));
    //  The rest of the background is dropped: it comes back empty.
    assert_int_equal (render_pool_cancel_background (pool), 2);
    assert_int_equal (render_pool_busy (pool), 1);
    s_release (&gate);
    assert_true (s_wait_notified (&gate, 2));
    uint64_t ids[4];
    int statuses[4];
    s_collect (pool, ids, 4, statuses);
    assert_int_equal (ids[0], first);
    assert_int_equal (ids[1], bg1);
    assert_int_equal (statuses[1], -VE_CLOSED);
    assert_int_equal (ids[2], bg3);
    assert_int_equal (statuses[2], -VE_CLOSED);
    assert_int_equal (ids[3], bg2);
    assert_int_equal (statuses[3], 0);
    assert_null (render_pool_done (pool));
    render_pool_destroy (&pool);
    render_tape_unref (&tape);
}

//  Records the scheduling policy of each thread that finished a job, in order; holds only the
//  first one (while gate.hold), the others pass.
typedef struct {
    s_gate_t gate;
    int policies[8];
} s_policy_gate_t;

static void
s_notify_policy (void *arg)
{
    s_policy_gate_t *g = arg;
    int policy = sched_getscheduler (0);
    pthread_mutex_lock (&g->gate.lock);
    int n = g->gate.notified++;
    if (n < 8)
        g->policies[n] = policy;
    pthread_cond_broadcast (&g->gate.cond);
    while (n == 0 && g->gate.hold)
        pthread_cond_wait (&g->gate.cond, &g->gate.lock);
    pthread_mutex_unlock (&g->gate.lock);
}

static void
test_prerender_threads (void **state)
{
    (void) state;
    char dir[64] = "/tmp/vitrine-pool-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char err[256];
    frame_cache_t *cache = frame_cache_open (dir, 64 << 20, 0, err, sizeof err);
    assert_non_null (cache);
    s_policy_gate_t g = { { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, true }, { 0 } };
    render_pool_config_t pc = { .workers = 1,
                                .cpu_threads = 1,
                                .background_workers = 1,
                                .background_cpu_threads = 1,
                                .cache = cache,
                                .notify = s_notify_policy,
                                .notify_arg = &g };
    render_pool_t *pool = render_pool_new (&pc);
    assert_non_null (pool);
    bool idle = render_pool_idle_threads (pool) == 1;
    if (!idle)
        printf ("note: this system refused SCHED_IDLE; the policy checks are skipped\n");
    render_tape_t *tape = s_tape ("chair", 7);
    //  A pre-render job: the pre-render thread finishes it and is then held in notify.
    render_job_t *job = s_job (tape, 1, 256, true);
    uint64_t bg1 = render_pool_submit (pool, &job);
    assert_true (s_wait_notified (&g.gate, 1));
    //  With it held, callers' jobs are still rendered (by the worker), and a second pre-render
    //  job is left to the pre-render thread: the worker, free between the two, never takes it.
    job = s_job (tape, 1, 256, true);
    uint64_t bg2 = render_pool_submit (pool, &job);
    job = s_job (tape, 1, 256, false);
    uint64_t urgent = render_pool_submit (pool, &job);
    assert_true (s_wait_notified (&g.gate, 2));
    job = s_job (tape, 1, 256, false);
    uint64_t urgent2 = render_pool_submit (pool, &job);
    assert_true (s_wait_notified (&g.gate, 3));
    assert_int_equal (render_pool_busy (pool), 1);  //  bg2, still queued
    if (idle) {
        assert_int_equal (g.policies[0], SCHED_IDLE);
        assert_int_equal (g.policies[1], SCHED_OTHER);
    }
    uint64_t ids[3];
    int statuses[3];
    s_collect (pool, ids, 3, statuses);
    assert_int_equal (ids[0], bg1);
    assert_int_equal (ids[1], urgent);
    assert_int_equal (ids[2], urgent2);
    assert_int_equal (statuses[1], 0);
    s_release (&g.gate);
    assert_true (s_wait_notified (&g.gate, 4));
    s_collect (pool, ids, 1, statuses);
    assert_int_equal (ids[0], bg2);
    assert_int_equal (statuses[0], 0);
    if (idle)
        assert_int_equal (g.policies[3], SCHED_IDLE);

    //  A long pre-render job a caller starts to wait for while it runs: the pre-render thread
    //  hands the rest of it to a worker after the frame in progress.
    job = render_job_new ();
    assert_non_null (job);
    job->tape = render_tape_ref (tape);
    job->background = true;
    job->n = 24;
    for (int i = 0; i < job->n; i++) {
        vview_snap (i * 15, 30, 1, 256, 256, 75, &job->views[i]);
        assert_int_equal (
            frame_key_make (&job->keys[i], "p-2", "test", tape->tape.hash, &job->views[i]), 0);
    }
    frame_key_t first_key = job->keys[0];
    uint64_t ring = render_pool_submit (pool, &job);
    //  Running once its first frame is in the cache.
    for (int i = 0; i < 60000 && !frame_cache_has (cache, &first_key); i++)
        usleep (1000);
    assert_true (frame_cache_has (cache, &first_key));
    assert_true (render_pool_promote (pool, ring));
    assert_false (render_pool_promote (pool, ring));  //  once
    assert_true (s_wait_notified (&g.gate, 5));
    job = render_pool_done (pool);
    assert_non_null (job);
    assert_int_equal (job->id, ring);
    assert_int_equal (job->status, 0);
    assert_false (job->background);  //  handed on, not finished by the pre-render thread
    for (int i = 0; i < job->n; i++) {
        assert_non_null (job->jpeg[i]);
        assert_true (job->stored[i]);
    }
    if (idle)
        assert_int_equal (g.policies[4], SCHED_OTHER);
    render_job_destroy (&job);
    assert_int_equal (render_pool_busy (pool), 0);
    render_pool_destroy (&pool);
    render_tape_unref (&tape);
    frame_cache_close (&cache);
    nftw (dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

static void
test_destroy_busy (void **state)
{
    (void) state;
    //  Stopping with jobs queued, running and finished frees them all (ASan checks).
    render_pool_config_t pc = { .workers = 2, .cpu_threads = 1, .background_workers = 1 };
    render_pool_t *pool = render_pool_new (&pc);
    render_tape_t *tape = s_tape ("sofa", 4);
    for (int i = 0; i < 6; i++) {
        render_job_t *job = s_job (tape, 2, 256, i % 2);
        render_pool_submit (pool, &job);
    }
    render_tape_unref (&tape);
    render_pool_destroy (&pool);
    assert_null (pool);
    render_pool_destroy (&pool);
}

//  ---------------------------------------------------------------- scenes

static void
test_compile (void **state)
{
    (void) state;
    render_tape_t *a = s_tape ("chair", 1), *b = s_tape ("chair", 1), *c = s_tape ("chair", 2);
    //  The same document compiles to the same hash; another document to another.
    assert_true (a->tape.hash == b->tape.hash);
    assert_true (a->tape.hash != c->tape.hash);
    assert_true (a->tape.nops > 1);
    render_tape_t *bad = (render_tape_t *) 1;
    char err[256] = "";
    assert_int_not_equal (render_scene_compile ("\x81\xa4root\xc0", 7, &bad, err, sizeof err), 0);
    assert_null (bad);
    assert_int_not_equal (render_scene_compile ("\xc1", 1, &bad, err, sizeof err), 0);
    assert_null (bad);
    render_tape_unref (&a);
    render_tape_unref (&b);
    render_tape_unref (&c);
    assert_null (a);
}

static void
test_scene_store (void **state)
{
    (void) state;
    render_scenes_t *scenes = render_scenes_new (2);
    render_tape_t *t1 = s_tape ("chair", 1), *t2 = s_tape ("bulb", 1), *t3 = s_tape ("lamp", 1);
    render_tape_t *keep = render_tape_ref (t1);
    render_scene_t *e = render_scenes_put (scenes, "a", "00000000000000aa", &t1, 0);
    assert_non_null (e);
    assert_null (t1);  //  the reference moved in
    assert_string_equal (e->scene_hash, "00000000000000aa");
    assert_ptr_equal (e->tape, keep);
    assert_non_null (render_scenes_put (scenes, "b", "bb", &t2, 0));
    assert_non_null (render_scenes_get (scenes, "a", 0));  //  a is now the most recent
    assert_non_null (render_scenes_put (scenes, "c", "cc", &t3, 0));
    assert_int_equal (render_scenes_count (scenes), 2);
    assert_null (render_scenes_get (scenes, "b", 0));  //  the least recent went
    assert_non_null (render_scenes_get (scenes, "a", 0));
    assert_non_null (render_scenes_get (scenes, "c", 0));
    //  Replacing a product's scene drops the old tape's reference; ours keeps it alive.
    render_tape_t *t4 = s_tape ("chair", 2);
    e = render_scenes_put (scenes, "a", "a2", &t4, 0);
    assert_string_equal (e->scene_hash, "a2");
    assert_int_equal (atomic_load (&keep->refs), 1);
    render_tape_unref (&keep);
    //  "No scene" entries expire.
    e = render_scenes_put (scenes, "n", "", NULL, 1000);
    assert_non_null (e);
    assert_null (e->tape);
    assert_non_null (render_scenes_get (scenes, "n", 999));
    assert_null (render_scenes_get (scenes, "n", 1000));
    assert_int_equal (render_scenes_count (scenes), 1);
    render_scenes_drop (scenes, "a");
    render_scenes_drop (scenes, "zz");
    assert_int_equal (render_scenes_count (scenes), 0);
    //  Refusals release the tape passed in.
    char long_id[FRAME_ID_MAX + 2];
    memset (long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    render_tape_t *t5 = s_tape ("bulb", 5);
    assert_null (render_scenes_put (scenes, long_id, "h", &t5, 0));
    assert_null (t5);
    render_scenes_destroy (&scenes);
    assert_null (scenes);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_job_frames),         cmocka_unit_test (test_priorities),
        cmocka_unit_test (test_promote_and_cancel), cmocka_unit_test (test_prerender_threads),
        cmocka_unit_test (test_destroy_busy),       cmocka_unit_test (test_compile),
        cmocka_unit_test (test_scene_store),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
