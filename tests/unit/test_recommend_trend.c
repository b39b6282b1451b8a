//  test_recommend_trend.c — trending in memory: after any sequence of updates (new products,
//  rises, late scores, zeros), a walk gives every product with a score, best first, with the
//  decayed scores a brute force over the same records computes; categories are kept; the walk
//  stops when asked to.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommend_trend.h"
#include "verr.h"

#define N 300
#define H 3600000.0

typedef struct {
    double score;
    int64_t at;
    int category;
} s_rec_t;

typedef struct {
    char id[REC_TREND_ID];
    double score;
    char category[32];
} s_seen_t;

typedef struct {
    s_seen_t seen[N];
    size_t n, stop_after;
} s_walk_t;

static bool
s_collect (const char *id, const char *category, double score, void *arg)
{
    s_walk_t *w = arg;
    s_seen_t *s = &w->seen[w->n++];
    snprintf (s->id, sizeof s->id, "%s", id);
    snprintf (s->category, sizeof s->category, "%s", category);
    s->score = score;
    return w->n != w->stop_after;
}

static void
test_walk_equals_brute_force (void **state)
{
    (void) state;
    rec_trend_t *t = rec_trend_new (H);
    assert_non_null (t);
    s_rec_t recs[N] = { { 0 } };
    srand (7);
    int64_t now = 1800000000000LL;
    for (int round = 0; round < 40; round++) {
        //  A burst of updates, then a walk (so merges happen between and across bursts).
        for (int u = 0; u < 50; u++) {
            int i = rand () % N;
            int64_t at = now - (rand () % 7200000);
            double score = (rand () % 10 == 0) ? 0 : (double) (1 + rand () % 1000) / 10.0;
            recs[i] = (s_rec_t) { score, at, i % 4 };
            char id[16], cat[16];
            snprintf (id, sizeof id, "p-%03d", i);
            snprintf (cat, sizeof cat, "cat/%d", i % 4);
            assert_int_equal (rec_trend_set (t, id, cat, score, at), 0);
        }
        now += 60000;
        s_walk_t *w = calloc (1, sizeof *w);
        rec_trend_walk (t, now, s_collect, w);
        //  Brute force: every product with a score, decayed to now.
        size_t want = 0;
        for (int i = 0; i < N; i++)
            want += recs[i].score > 0;
        assert_int_equal (w->n, want);
        for (size_t k = 0; k < w->n; k++) {
            int i = atoi (w->seen[k].id + 2);
            double expect = recs[i].score * exp2 (-(double) (now - recs[i].at) / H);
            assert_true (fabs (w->seen[k].score - expect) <= 1e-9 * expect);
            char cat[16];
            snprintf (cat, sizeof cat, "cat/%d", i % 4);
            assert_string_equal (w->seen[k].category, cat);
            if (k > 0) {
                //  Best first; ties by id.
                assert_true (w->seen[k - 1].score >= w->seen[k].score * (1 - 1e-12));
            }
        }
        free (w);
    }
    assert_true (rec_trend_count (t) <= N);
    rec_trend_destroy (&t);
    assert_null (t);
}

static void
test_walk_stops_and_limits (void **state)
{
    (void) state;
    rec_trend_t *t = rec_trend_new (H);
    char id[REC_TREND_ID + 10];
    for (int i = 0; i < 20; i++) {
        snprintf (id, sizeof id, "p-%02d", i);
        assert_int_equal (rec_trend_set (t, id, "", (double) (i + 1), 0), 0);
    }
    s_walk_t w = { .stop_after = 3 };
    rec_trend_walk (t, 0, s_collect, &w);
    assert_int_equal (w.n, 3);
    assert_string_equal (w.seen[0].id, "p-19");
    assert_string_equal (w.seen[2].id, "p-17");
    //  A product's category stays when an update does not name one.
    assert_int_equal (rec_trend_set (t, "p-00", "lamps", 100, 0), 0);
    assert_int_equal (rec_trend_set (t, "p-00", NULL, 200, 0), 0);
    w = (s_walk_t) { .stop_after = 1 };
    rec_trend_walk (t, 0, s_collect, &w);
    assert_string_equal (w.seen[0].id, "p-00");
    assert_string_equal (w.seen[0].category, "lamps");
    //  Ids and categories past the limits are refused.
    memset (id, 'x', sizeof id - 1);
    id[sizeof id - 1] = 0;
    assert_int_equal (rec_trend_set (t, id, "", 1, 0), -VE_INVAL);
    rec_trend_destroy (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_walk_equals_brute_force),
        cmocka_unit_test (test_walk_stops_and_limits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
