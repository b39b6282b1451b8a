//  test_edge_limit.c — per-address token buckets under a clock the test moves: the burst, the
//  steady rate, the wait it announces, addresses kept apart, and bounded memory.
#include "edge_limit.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

static const uint8_t s_a[4] = { 10, 0, 0, 1 }, s_b[4] = { 10, 0, 0, 2 };

static void
test_burst_then_rate (void **state)
{
    (void) state;
    edge_limit_t *lim = edge_limit_new (100, 200, 0);  //  the API's default: 100/s, burst 2x
    int64_t now = 1000000, retry = -1;
    for (int i = 0; i < 200; i++)
        assert_true (edge_limit_take (lim, s_a, 4, now, &retry));
    assert_false (edge_limit_take (lim, s_a, 4, now, &retry));
    assert_int_equal (retry, 10);  //  one token every 10 ms
    //  Another address has its own bucket.
    assert_true (edge_limit_take (lim, s_b, 4, now, NULL));
    //  After 10 ms one more, not two.
    assert_true (edge_limit_take (lim, s_a, 4, now + 10, NULL));
    assert_false (edge_limit_take (lim, s_a, 4, now + 10, NULL));
    //  Over a second at the rate: about 100 pass.
    int passed = 0;
    for (int64_t t = now + 11; t < now + 1011; t++)
        passed += edge_limit_take (lim, s_a, 4, t, NULL) + edge_limit_take (lim, s_a, 4, t, NULL);
    assert_in_range (passed, 99, 101);
    //  Idle long enough: the full burst again, never more.
    now += 60000;
    for (int i = 0; i < 200; i++)
        assert_true (edge_limit_take (lim, s_a, 4, now, NULL));
    assert_false (edge_limit_take (lim, s_a, 4, now, NULL));
    edge_limit_destroy (&lim);
    assert_null (lim);
    edge_limit_destroy (&lim);
}

static void
test_strict_limiter (void **state)
{
    (void) state;
    //  login and register: 10 a minute per address.
    edge_limit_t *lim = edge_limit_new (10.0 / 60.0, 10, 0);
    int64_t now = 5000, retry;
    for (int i = 0; i < 10; i++)
        assert_true (edge_limit_take (lim, s_a, 4, now, NULL));
    assert_false (edge_limit_take (lim, s_a, 4, now, &retry));
    assert_int_equal (retry, 6000);
    assert_false (edge_limit_take (lim, s_a, 4, now + 5999, NULL));
    assert_true (edge_limit_take (lim, s_a, 4, now + 6000, NULL));
    edge_limit_destroy (&lim);
}

static void
test_bounded_memory (void **state)
{
    (void) state;
    //  16 slots: thousands of addresses pass (each new one gets a full bucket), and an
    //  address that stays busy keeps its state because the idlest bucket is the one reused.
    edge_limit_t *lim = edge_limit_new (0.001, 1, 16);
    int64_t now = 0;
    uint8_t busy[16] = { 0xfe, 0x80, 1 };
    assert_true (edge_limit_take (lim, busy, 16, now, NULL));
    for (uint32_t i = 0; i < 5000; i++) {
        uint8_t addr[4];
        memcpy (addr, &i, 4);
        assert_true (edge_limit_take (lim, addr, 4, now++, NULL));
        assert_false (edge_limit_take (lim, busy, 16, now, NULL));  //  still empty
    }
    edge_limit_destroy (&lim);
    assert_null (edge_limit_new (0, 1, 0));
    assert_null (edge_limit_new (1, 0.5, 0));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_burst_then_rate),
        cmocka_unit_test (test_strict_limiter),
        cmocka_unit_test (test_bounded_memory),
    };
    return cmocka_run_group_tests_name ("edge_limit", tests, NULL, NULL);
}
