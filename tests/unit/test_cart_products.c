//  test_cart_products.c — the cart's product view (actors/cart/cart_products.c): held products
//  come back as stored, the least recently used leave beyond the capacity, an entry expires
//  after its time to live, a change from the stream replaces (or forgets) a held product and
//  is never undone by a reply that was on its way meanwhile, and capacity 0 holds nothing.
#include "cart.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static const char *
s_get (cart_products_t *v, const char *id, int64_t now)
{
    static char out[64];
    size_t len = 0;
    const void *p = cart_products_get (v, id, now, &len);
    if (!p)
        return NULL;
    assert_true (len < sizeof out);
    memcpy (out, p, len);
    out[len] = 0;
    return out;
}

static void
s_put (cart_products_t *v, const char *id, const char *bytes, int64_t now)
{
    assert_int_equal (cart_products_put (v, cart_products_generation (v), id, bytes,
                                         strlen (bytes), now),
                      0);
}

static void
test_least_recently_used_leave_first (void **state)
{
    (void) state;
    cart_products_t *v = cart_products_new (2, 1000);
    assert_non_null (v);
    s_put (v, "a", "A1", 0);
    s_put (v, "b", "B1", 0);
    assert_string_equal (s_get (v, "a", 1), "A1");  //  a is now the more recent
    s_put (v, "c", "C1", 2);                         //  b leaves
    assert_null (s_get (v, "b", 3));
    assert_string_equal (s_get (v, "a", 3), "A1");
    assert_string_equal (s_get (v, "c", 3), "C1");
    s_put (v, "c", "C2", 4);  //  a replaced entry is one entry
    assert_string_equal (s_get (v, "a", 4), "A1");
    assert_string_equal (s_get (v, "c", 4), "C2");
    cart_products_destroy (&v);
    assert_null (v);
}

static void
test_entries_expire (void **state)
{
    (void) state;
    cart_products_t *v = cart_products_new (10, 100);
    s_put (v, "a", "A1", 1000);
    assert_string_equal (s_get (v, "a", 1099), "A1");
    assert_null (s_get (v, "a", 1100));
    assert_null (s_get (v, "a", 1000));  //  gone, not hidden
    cart_products_destroy (&v);
}

static void
test_changes_replace_and_win_over_replies_in_flight (void **state)
{
    (void) state;
    cart_products_t *v = cart_products_new (10, 1000);
    s_put (v, "a", "A1", 0);
    //  A change of a held product replaces it; of one not held, adds nothing.
    assert_int_equal (cart_products_changed (v, "a", "A2", 2, 5), 0);
    assert_int_equal (cart_products_changed (v, "b", "B2", 2, 5), 0);
    assert_string_equal (s_get (v, "a", 6), "A2");
    assert_null (s_get (v, "b", 6));
    //  A lookup goes out, a change of b comes by the stream, then the lookup's older answer
    //  arrives: it is not kept.
    uint64_t sent = cart_products_generation (v);
    assert_int_equal (cart_products_changed (v, "b", "B3", 2, 7), 0);
    assert_int_equal (cart_products_put (v, sent, "b", "B2", 2, 8), 0);
    assert_null (s_get (v, "b", 9));
    //  A change that cannot be kept forgets the product.
    assert_int_equal (cart_products_changed (v, "a", NULL, 0, 10), 0);
    assert_null (s_get (v, "a", 11));
    cart_products_destroy (&v);
}

static void
test_capacity_zero_holds_nothing (void **state)
{
    (void) state;
    cart_products_t *v = cart_products_new (0, 1000);
    s_put (v, "a", "A1", 0);
    assert_null (s_get (v, "a", 1));
    cart_products_destroy (&v);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_least_recently_used_leave_first),
        cmocka_unit_test (test_entries_expire),
        cmocka_unit_test (test_changes_replace_and_win_over_replies_in_flight),
        cmocka_unit_test (test_capacity_zero_holds_nothing),
    };
    return cmocka_run_group_tests_name ("cart_products", tests, NULL, NULL);
}
