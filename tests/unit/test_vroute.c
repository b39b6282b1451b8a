//  test_vroute.c — routing decisions: keyed to owners, unkeyed to the least loaded, credit and
//  draining respected; and the deadline heap the broker and client order requests by.
#include "vheap.h"
#include "vhist.h"
#include "vroute.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

static void
test_unkeyed_goes_to_least_loaded (void **state)
{
    (void) state;
    vroute_worker_t a = { .in_flight = 5, .credit = 10, .all = true };
    vroute_worker_t b = { .in_flight = 2, .credit = 10, .all = true };
    vroute_worker_t c = { .in_flight = 3, .credit = 100, .all = true };  //  3 % loaded
    vroute_worker_t *ws[] = { &a, &b, &c };
    assert_int_equal (vroute_pick (ws, 3, -1), 2);
    c.in_flight = 100;  //  full
    assert_int_equal (vroute_pick (ws, 3, -1), 1);
    b.draining = true;
    assert_int_equal (vroute_pick (ws, 3, -1), 0);
    a.in_flight = 10;
    assert_int_equal (vroute_pick (ws, 3, -1), -1);  //  nobody has credit
    assert_int_equal (vroute_pick (ws, 0, -1), -1);
}

static void
test_keyed_goes_to_owner (void **state)
{
    (void) state;
    uint8_t bits_a[1] = { 0x03 };  //  partitions 0, 1
    uint8_t bits_b[1] = { 0x0c };  //  partitions 2, 3
    vroute_worker_t a = { .credit = 4, .bits = bits_a };
    vroute_worker_t b = { .credit = 4, .bits = bits_b };
    vroute_worker_t *ws[] = { &a, &b };
    assert_int_equal (vroute_pick (ws, 2, 0), 0);
    assert_int_equal (vroute_pick (ws, 2, 1), 0);
    assert_int_equal (vroute_pick (ws, 2, 2), 1);
    assert_int_equal (vroute_pick (ws, 2, 3), 1);
    //  The owner is busy: wait for it, never hand the key to another partition's owner.
    a.in_flight = 4;
    assert_int_equal (vroute_pick (ws, 2, 0), -1);
    assert_true (vroute_covered (ws, 2, 0));
    //  Replicas of one partition share it by load.
    vroute_worker_t c = { .credit = 4, .in_flight = 1, .bits = bits_a };
    vroute_worker_t *ws3[] = { &a, &b, &c };
    assert_int_equal (vroute_pick (ws3, 3, 1), 2);
    //  Nobody owns partition 5.
    assert_false (vroute_covered (ws3, 3, 5));
}

static void
test_heap_orders_and_removes (void **state)
{
    (void) state;
    vheap_t h = { 0 };
    assert_int_equal (vheap_reserve (&h, 1000), 0);
    srand (7);
    int64_t keys[1000];
    for (uint32_t i = 0; i < 1000; i++) {
        keys[i] = rand () % 5000;
        vheap_push (&h, i, keys[i]);
    }
    for (uint32_t i = 0; i < 1000; i += 3)
        vheap_remove (&h, i);
    vheap_remove (&h, 0);  //  absent: nothing happens
    int64_t last = -1;
    uint32_t slot, n = 0;
    int64_t key;
    while (vheap_top (&h, &slot, &key)) {
        assert_true (key >= last);
        assert_int_equal (key, keys[slot]);
        assert_true (slot % 3 != 0);
        last = key;
        vheap_remove (&h, slot);
        n++;
    }
    assert_int_equal (n, 666);
    vheap_free (&h);
}

static void
test_hist_quantiles (void **state)
{
    (void) state;
    vhist_t h = { 0 };
    assert_int_equal (vhist_pct (&h, 0.5), 0);
    for (uint64_t v = 1; v <= 1000; v++)
        vhist_add (&h, v);
    //  Buckets are 4 per power of two: a quantile is within 25 % above the true value.
    uint64_t p50 = vhist_pct (&h, 0.50), p99 = vhist_pct (&h, 0.99);
    assert_true (p50 >= 500 && p50 <= 625);
    assert_true (p99 >= 990 && p99 <= 1000);   //  capped at the maximum seen
    assert_int_equal (h.max, 1000);
    vhist_add (&h, UINT64_MAX);   //  the top bucket takes anything
    assert_int_equal (vhist_pct (&h, 1.0), UINT64_MAX);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_unkeyed_goes_to_least_loaded),
        cmocka_unit_test (test_keyed_goes_to_owner),
        cmocka_unit_test (test_heap_orders_and_removes),
        cmocka_unit_test (test_hist_quantiles),
    };
    return cmocka_run_group_tests_name ("vroute", tests, NULL, NULL);
}
