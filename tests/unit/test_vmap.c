//  test_vmap.c — the byte-string hash map: put, get, replace, remove, growth past many
//  doublings, and keys that differ only in length or in bytes after a NUL.
#include "vmap.h"
#include "verr.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static void
test_put_get_replace_remove (void **state)
{
    (void) state;
    vmap_t *m = vmap_new ();
    assert_non_null (m);
    int a = 1, b = 2, c = 3;
    assert_int_equal (vmap_put (m, "oak", 3, &a), 0);
    assert_int_equal (vmap_put (m, "oak\0x", 5, &b), 0);  //  bytes after a NUL count
    assert_int_equal (vmap_put (m, "oa", 2, &c), 0);      //  a prefix is another key
    assert_int_equal (vmap_size (m), 3);
    assert_ptr_equal (vmap_get (m, "oak", 3), &a);
    assert_ptr_equal (vmap_get (m, "oak\0x", 5), &b);
    assert_ptr_equal (vmap_get (m, "oa", 2), &c);
    assert_null (vmap_get (m, "o", 1));
    assert_int_equal (vmap_put (m, "oak", 3, &c), 0);  //  replaces
    assert_int_equal (vmap_size (m), 3);
    assert_ptr_equal (vmap_get (m, "oak", 3), &c);
    assert_ptr_equal (vmap_remove (m, "oak", 3), &c);
    assert_null (vmap_remove (m, "oak", 3));
    assert_null (vmap_get (m, "oak", 3));
    assert_ptr_equal (vmap_get (m, "oak\0x", 5), &b);
    assert_int_equal (vmap_size (m), 2);
    vmap_destroy (&m);
    assert_null (m);
    vmap_destroy (&m);  //  NULL-safe
}

static void
test_many_keys (void **state)
{
    (void) state;
    enum { N = 50000 };
    static int values[N];
    vmap_t *m = vmap_new ();
    assert_non_null (m);
    char key[32];
    for (int i = 0; i < N; i++) {
        int len = snprintf (key, sizeof key, "query %d", i);
        assert_int_equal (vmap_put (m, key, (size_t) len, &values[i]), 0);
    }
    assert_int_equal (vmap_size (m), N);
    for (int i = 0; i < N; i += 2) {  //  every other one removed
        int len = snprintf (key, sizeof key, "query %d", i);
        assert_ptr_equal (vmap_remove (m, key, (size_t) len), &values[i]);
    }
    for (int i = 0; i < N; i++) {
        int len = snprintf (key, sizeof key, "query %d", i);
        if (i % 2)
            assert_ptr_equal (vmap_get (m, key, (size_t) len), &values[i]);
        else
            assert_null (vmap_get (m, key, (size_t) len));
    }
    assert_int_equal (vmap_size (m), N / 2);
    vmap_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_put_get_replace_remove),
        cmocka_unit_test (test_many_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
