//  test_vstore.c — the store's batches: an indexed batch is read back through the store before
//  it commits (get, has, iterators, deletes included), a rollback drops what came after the
//  last mark and nothing before it, a plain batch stays unseen until it commits, and a syncer
//  has synced every store of its list when it returns.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verr.h"
#include "vstore.h"

typedef struct {
    char dir[64];
    vstore_t *store;
} fixture_t;

static const char *const s_cfs[] = { "things" };

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/test_vstore-XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    f->store = vstore_open (f->dir, s_cfs, 1, NULL, 0);
    assert_non_null (f->store);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    vstore_close (&f->store);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    return 0;
}

//  The value of key, or NULL (a static copy, good until the next call).
static const char *
s_get (vstore_t *store, const char *key)
{
    static char copy[64];
    char *val = NULL;
    size_t len = 0;
    assert_int_equal (vstore_get (store, 0, key, strlen (key), &val, &len), 0);
    if (!val)
        return NULL;
    snprintf (copy, sizeof copy, "%.*s", (int) len, val);
    free (val);
    return copy;
}

static void
s_put (vstore_batch_t *b, vstore_t *store, const char *key, const char *val)
{
    vstore_batch_put (b, store, 0, key, strlen (key), val, strlen (val));
}

//  The keys under prefix, as "k=v,k=v".
static const char *
s_scan (vstore_t *store, const char *prefix)
{
    static char out[256];
    out[0] = 0;
    vstore_iter_t *it = vstore_iter_new (store, 0, prefix, strlen (prefix), NULL, 0);
    const char *k, *v;
    size_t kl, vl;
    while (vstore_iter_next (it, &k, &kl, &v, &vl))
        snprintf (out + strlen (out), sizeof out - strlen (out), "%s%.*s=%.*s", *out ? "," : "",
                  (int) kl, k, (int) vl, v);
    vstore_iter_destroy (&it);
    return out;
}

static void
test_indexed_batch_is_read_through (void **state)
{
    fixture_t *f = *state;
    vstore_batch_t *b = vstore_batch_new ();
    s_put (b, f->store, "a:1", "old");
    s_put (b, f->store, "a:3", "three");
    assert_int_equal (vstore_commit (f->store, b, false), 0);
    vstore_batch_destroy (&b);

    vstore_batch_t *ib = vstore_batch_new_indexed ();
    vstore_read_through (f->store, ib);
    s_put (ib, f->store, "a:1", "new");
    s_put (ib, f->store, "a:2", "two");
    vstore_batch_delete (ib, f->store, 0, "a:3", 3);
    assert_string_equal (s_get (f->store, "a:1"), "new");
    assert_string_equal (s_get (f->store, "a:2"), "two");
    assert_null (s_get (f->store, "a:3"));
    assert_true (vstore_has (f->store, 0, "a:2", 3));
    assert_false (vstore_has (f->store, 0, "a:3", 3));
    assert_string_equal (s_scan (f->store, "a:"), "a:1=new,a:2=two");
    //  Not read through: the committed state only.
    vstore_read_through (f->store, NULL);
    assert_string_equal (s_get (f->store, "a:1"), "old");
    assert_null (s_get (f->store, "a:2"));
    assert_string_equal (s_scan (f->store, "a:"), "a:1=old,a:3=three");
    //  Committed: the same as what was read through.
    assert_int_equal (vstore_batch_count (ib), 3);
    assert_int_equal (vstore_commit (f->store, ib, false), 0);
    assert_int_equal (vstore_batch_count (ib), 0);
    assert_string_equal (s_scan (f->store, "a:"), "a:1=new,a:2=two");
    vstore_batch_destroy (&ib);
}

static void
test_rollback_drops_only_after_the_mark (void **state)
{
    fixture_t *f = *state;
    vstore_batch_t *ib = vstore_batch_new_indexed ();
    vstore_read_through (f->store, ib);
    vstore_batch_mark (ib);
    s_put (ib, f->store, "e:1", "first");
    vstore_batch_mark (ib);
    s_put (ib, f->store, "e:1", "second");
    s_put (ib, f->store, "e:2", "second");
    assert_string_equal (s_get (f->store, "e:1"), "second");
    vstore_batch_rollback (ib);
    assert_string_equal (s_get (f->store, "e:1"), "first");
    assert_null (s_get (f->store, "e:2"));
    assert_int_equal (vstore_batch_count (ib), 1);
    //  Marks stack: the next rollback goes back to the first one.
    vstore_batch_rollback (ib);
    assert_null (s_get (f->store, "e:1"));
    assert_int_equal (vstore_batch_count (ib), 0);
    vstore_read_through (f->store, NULL);
    vstore_batch_destroy (&ib);

    //  A plain batch rolls back the same way.
    vstore_batch_t *b = vstore_batch_new ();
    s_put (b, f->store, "p:1", "kept");
    vstore_batch_mark (b);
    s_put (b, f->store, "p:2", "dropped");
    vstore_batch_rollback (b);
    assert_int_equal (vstore_commit (f->store, b, false), 0);
    assert_string_equal (s_scan (f->store, "p:"), "p:1=kept");
    vstore_batch_destroy (&b);
}

static void
test_plain_batch_is_not_read_through (void **state)
{
    fixture_t *f = *state;
    vstore_batch_t *b = vstore_batch_new ();
    vstore_read_through (f->store, b);  //  not indexed: reads stay plain
    s_put (b, f->store, "q:1", "staged");
    assert_null (s_get (f->store, "q:1"));
    assert_int_equal (vstore_commit (f->store, b, true), 0);
    assert_string_equal (s_get (f->store, "q:1"), "staged");
    vstore_read_through (f->store, NULL);
    vstore_batch_destroy (&b);
}

//  A range delete takes [from, to) and nothing else; an indexed batch refuses it.
static void
test_range_delete (void **state)
{
    fixture_t *f = *state;
    vstore_batch_t *b = vstore_batch_new ();
    const char *keys[] = { "r:1", "r:2", "r:3", "r:4", "r:5" };
    for (int i = 0; i < 5; i++)
        s_put (b, f->store, keys[i], "v");
    assert_int_equal (vstore_commit (f->store, b, true), 0);
    assert_int_equal (vstore_batch_delete_range (b, f->store, 0, "r:2", 3, "r:4", 3), 0);
    assert_int_equal (vstore_commit (f->store, b, true), 0);
    assert_string_equal (s_scan (f->store, "r:"), "r:1=v,r:4=v,r:5=v");
    vstore_batch_destroy (&b);
    vstore_batch_t *wi = vstore_batch_new_indexed ();
    assert_int_equal (vstore_batch_delete_range (wi, f->store, 0, "r:1", 3, "r:9", 3), -VE_INVAL);
    assert_int_equal (vstore_batch_count (wi), 0);
    vstore_batch_destroy (&wi);
}

//  Round after round of random subsets of four stores: when run returns, each store of the
//  round has been synced once more and none other, with helpers, with none, and with no
//  syncer at all.
static void
test_syncer_syncs_every_store (void **state)
{
    fixture_t *f = *state;
    enum { N = 4 };
    vstore_t *stores[N];
    uint64_t expect[N] = { 0 };
    for (int i = 0; i < N; i++) {
        char dir[128];
        snprintf (dir, sizeof dir, "%s/s%d", f->dir, i);
        assert_non_null (stores[i] = vstore_open (dir, s_cfs, 1, NULL, 0));
    }
    vstore_batch_t *b = vstore_batch_new ();
    vstore_syncer_t *helped = vstore_syncer_new (3), *alone = vstore_syncer_new (0);
    assert_non_null (helped);
    assert_non_null (alone);
    unsigned seed = 7;
    for (int round = 0; round < 600; round++) {
        vstore_t *list[N];
        size_t n = 0;
        int mask = 1 + rand_r (&seed) % ((1 << N) - 1);
        for (int i = 0; i < N; i++)
            if (mask & (1 << i)) {
                s_put (b, stores[i], "k", "v");
                assert_int_equal (vstore_commit (stores[i], b, false), 0);
                list[n++] = stores[i];
                expect[i]++;
            }
        vstore_syncer_t *syncer = round % 3 == 0 ? helped : round % 3 == 1 ? alone : NULL;
        assert_int_equal (vstore_syncer_run (syncer, list, n), 0);
        for (int i = 0; i < N; i++)
            assert_int_equal (vstore_syncs (stores[i]), expect[i]);
    }
    assert_int_equal (vstore_syncer_run (helped, stores, 0), 0);
    vstore_syncer_destroy (&helped);
    vstore_syncer_destroy (&alone);
    assert_null (helped);
    vstore_batch_destroy (&b);
    for (int i = 0; i < N; i++)
        vstore_close (&stores[i]);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_indexed_batch_is_read_through, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rollback_drops_only_after_the_mark, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_range_delete, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_plain_batch_is_not_read_through, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_syncer_syncs_every_store, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
