//  test_recommend_graph.c — the item-item tables in memory: after many sets (new pairs,
//  overwritten counts, both kinds), a product's walk gives exactly its partners in that kind
//  with the last counts set and the partners' own counts; unknown products walk nothing; ids
//  past the limit are refused; growth keeps everything.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommend_graph.h"
#include "verr.h"

#define N 400

static int64_t s_pairs[2][N][N];  //  the brute force: count per kind, a, b (0: none)
static int64_t s_counts[2][N];

typedef struct {
    int kind, a;
    int seen;
    bool bad;
} s_check_t;

static bool
s_visit (const char *partner, int64_t pair, int64_t partner_count, void *arg)
{
    s_check_t *c = arg;
    int b = atoi (partner + 2);
    if (s_pairs[c->kind][c->a][b] != pair || s_counts[c->kind][b] != partner_count)
        c->bad = true;
    c->seen++;
    return true;
}

static void
test_walk_equals_brute_force (void **state)
{
    (void) state;
    rec_graph_t *g = rec_graph_new ();
    assert_non_null (g);
    srand (11);
    for (int i = 0; i < 60000; i++) {
        int kind = rand () % 2, a = rand () % N, b = rand () % N;
        if (a == b)
            continue;
        char ia[16], ib[16];
        snprintf (ia, sizeof ia, "p-%03d", a);
        snprintf (ib, sizeof ib, "p-%03d", b);
        int64_t count = 1 + rand () % 50;
        assert_int_equal (rec_graph_set_pair (g, kind, ia, ib, count), 0);
        s_pairs[kind][a][b] = count;
        if (rand () % 4 == 0) {
            int64_t own = rand () % 1000;
            assert_int_equal (rec_graph_set_count (g, kind, ib, own), 0);
            s_counts[kind][b] = own;
        }
    }
    for (int kind = 0; kind < 2; kind++)
        for (int a = 0; a < N; a++) {
            char ia[16];
            snprintf (ia, sizeof ia, "p-%03d", a);
            s_check_t c = { kind, a, 0, false };
            rec_graph_walk (g, kind, ia, s_visit, &c);
            int want = 0;
            for (int b = 0; b < N; b++)
                want += s_pairs[kind][a][b] != 0;
            assert_int_equal (c.seen, want);
            assert_false (c.bad);
            assert_int_equal (rec_graph_count (g, kind, ia), s_counts[kind][a]);
        }
    s_check_t none = { 0, 0, 0, false };
    rec_graph_walk (g, REC_CO, "p-unknown", s_visit, &none);
    assert_int_equal (none.seen, 0);
    assert_int_equal (rec_graph_count (g, REC_CO, "p-unknown"), 0);
    char long_id[REC_GRAPH_ID + 1];
    memset (long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal (rec_graph_set_pair (g, REC_CO, long_id, "p-001", 1), -VE_INVAL);
    assert_int_equal (rec_graph_set_count (g, REC_CO, long_id, 1), -VE_INVAL);
    assert_true (rec_graph_products (g) <= N);
    rec_graph_destroy (&g);
    assert_null (g);
}

static bool
s_stop_at_two (const char *partner, int64_t pair, int64_t partner_count, void *arg)
{
    (void) partner, (void) pair, (void) partner_count;
    return ++*(int *) arg < 2;
}

static void
test_walk_stops (void **state)
{
    (void) state;
    rec_graph_t *g = rec_graph_new ();
    for (int b = 0; b < 5; b++) {
        char ib[16];
        snprintf (ib, sizeof ib, "q-%d", b);
        assert_int_equal (rec_graph_set_pair (g, REC_COVIEW, "p", ib, 1), 0);
    }
    int n = 0;
    rec_graph_walk (g, REC_COVIEW, "p", s_stop_at_two, &n);
    assert_int_equal (n, 2);
    n = 0;
    rec_graph_walk (g, REC_CO, "p", s_stop_at_two, &n);  //  the other table: nothing
    assert_int_equal (n, 0);
    rec_graph_destroy (&g);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_walk_equals_brute_force),
        cmocka_unit_test (test_walk_stops),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
