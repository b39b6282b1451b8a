//  test_auth_limit.c — the brute-force limiter under a clock the test moves: the sliding window,
//  the lockout after 10 failures, the doubling backoff and its cap, decay, reset, eviction.
#include "auth_limit.h"
#include "verr.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#define MIN  (60 * 1000LL)
#define HOUR (60 * MIN)

static const int64_t s_t0 = 1780000000000;

//  Fails key n times, one second apart from *now; returns the last result.
static int
s_fail_n (auth_limit_t *lim, const char *key, int n, int64_t *now, int64_t *retry)
{
    int rc = 0;
    for (int i = 0; i < n; i++, *now += 1000)
        rc = auth_limit_fail (lim, key, *now, retry);
    *now -= 1000;
    return rc;
}

static void
test_ten_failures_lock_for_fifteen_minutes (void **state)
{
    (void) state;
    auth_limit_t *lim = auth_limit_new (NULL);
    int64_t now = s_t0, retry = 0;
    assert_int_equal (s_fail_n (lim, "a@b.com", 9, &now, &retry), 0);
    assert_int_equal (auth_limit_check (lim, "a@b.com", now, &retry), 0);
    now += 1000;
    assert_int_equal (auth_limit_fail (lim, "a@b.com", now, &retry), -VE_BUSY);
    assert_int_equal (retry, now + 15 * MIN);
    assert_int_equal (auth_limit_check (lim, "a@b.com", now + 15 * MIN - 1, &retry), -VE_BUSY);
    assert_int_equal (retry, now + 15 * MIN);
    //  Other keys are not affected.
    assert_int_equal (auth_limit_check (lim, "c@d.com", now, NULL), 0);
    //  Failures while locked are not counted and do not extend it.
    assert_int_equal (auth_limit_fail (lim, "a@b.com", now + MIN, &retry), -VE_BUSY);
    assert_int_equal (retry, now + 15 * MIN);
    //  Over: allowed again, with a fresh count.
    assert_int_equal (auth_limit_check (lim, "a@b.com", now + 15 * MIN, NULL), 0);
    now += 15 * MIN;
    assert_int_equal (s_fail_n (lim, "a@b.com", 9, &now, NULL), 0);
    auth_limit_destroy (&lim);
    assert_null (lim);
}

static void
test_window_slides (void **state)
{
    (void) state;
    auth_limit_t *lim = auth_limit_new (NULL);
    //  One failure every 2 minutes: at most 8 fall in any 15 minutes, so never locked.
    int64_t now = s_t0;
    for (int i = 0; i < 50; i++, now += 2 * MIN)
        assert_int_equal (auth_limit_fail (lim, "slow@x.com", now, NULL), 0);
    //  Ten within 15 minutes spread out: five at t .. t+4 s, five more up to t+14:59 → locked.
    now += HOUR;
    int64_t t = now;
    assert_int_equal (s_fail_n (lim, "k", 5, &now, NULL), 0);
    now = t + 15 * MIN - 5000;
    assert_int_equal (s_fail_n (lim, "k", 4, &now, NULL), 0);
    assert_int_equal (auth_limit_fail (lim, "k", t + 15 * MIN - 1, NULL), -VE_BUSY);
    //  The same spread over exactly 15 minutes is not locked: the oldest left the window.
    now += 2 * HOUR;
    int64_t start = now;
    assert_int_equal (s_fail_n (lim, "j", 5, &now, NULL), 0);
    now = start + 15 * MIN;
    assert_int_equal (s_fail_n (lim, "j", 5, &now, NULL), 0);
    auth_limit_destroy (&lim);
}

static void
test_backoff_doubles_and_caps (void **state)
{
    (void) state;
    auth_limit_t *lim = auth_limit_new (NULL);
    int64_t now = s_t0, retry = 0;
    int64_t expect = 15 * MIN;
    for (int round = 0; round < 10; round++) {
        assert_int_equal (s_fail_n (lim, "victim@x.com", 10, &now, &retry), -VE_BUSY);
        assert_int_equal (retry - now, expect);
        now = retry;  //  comes back exactly when allowed
        expect = expect * 2 > 24 * HOUR ? 24 * HOUR : expect * 2;
    }
    //  15, 30, 60 min, 2, 4, 8, 16 h, then 24 h: capped, never permanent.
    assert_int_equal (expect, 24 * HOUR);
    assert_int_equal (auth_limit_check (lim, "victim@x.com", now, NULL), 0);
    //  A quiet day after the last lockout ended brings the backoff back to 15 minutes.
    now += 24 * HOUR;
    assert_int_equal (s_fail_n (lim, "victim@x.com", 10, &now, &retry), -VE_BUSY);
    assert_int_equal (retry - now, 15 * MIN);
    auth_limit_destroy (&lim);
}

static void
test_reset_forgets (void **state)
{
    (void) state;
    auth_limit_t *lim = auth_limit_new (NULL);
    int64_t now = s_t0, retry;
    assert_int_equal (s_fail_n (lim, "a@b.com", 10, &now, &retry), -VE_BUSY);
    now = retry;
    assert_int_equal (s_fail_n (lim, "a@b.com", 9, &now, NULL), 0);
    auth_limit_reset (lim, "a@b.com");  //  a successful sign-in
    assert_int_equal (auth_limit_size (lim), 0);
    //  The count and the backoff level start again.
    assert_int_equal (s_fail_n (lim, "a@b.com", 9, &now, NULL), 0);
    now += 1000;
    assert_int_equal (auth_limit_fail (lim, "a@b.com", now, &retry), -VE_BUSY);
    assert_int_equal (retry - now, 15 * MIN);
    auth_limit_reset (lim, "unknown");  //  harmless
    auth_limit_destroy (&lim);
}

static void
test_bounded_memory (void **state)
{
    (void) state;
    auth_limit_config_t config = { .max_keys = 100 };
    auth_limit_t *lim = auth_limit_new (&config);
    int64_t now = s_t0, retry;
    //  A locked key survives a flood of other keys for as long as idle keys can be dropped.
    assert_int_equal (s_fail_n (lim, "locked", 10, &now, &retry), -VE_BUSY);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf (key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        now += 16 * MIN;  //  each earlier key is idle by now
        assert_int_equal (auth_limit_fail (lim, key, now, NULL), 0);
        assert_true (auth_limit_size (lim) <= 100);
        if (now < retry)
            assert_int_equal (auth_limit_check (lim, "locked", now, NULL), -VE_BUSY);
    }
    //  Full of active keys: the least recently active goes, the size stays bounded.
    for (int i = 0; i < 300; i++) {
        snprintf (key, sizeof key, "busy-%d", i);
        now += 1;
        auth_limit_fail (lim, key, now, NULL);
        assert_true (auth_limit_size (lim) <= 100);
    }
    auth_limit_destroy (&lim);
}

static void
test_config (void **state)
{
    (void) state;
    auth_limit_config_t config = { .failures = 3, .window_ms = 1000, .max_backoff_ms = 4000 };
    auth_limit_t *lim = auth_limit_new (&config);
    int64_t now = 0, retry;
    assert_int_equal (auth_limit_fail (lim, "x", now, NULL), 0);
    assert_int_equal (auth_limit_fail (lim, "x", now + 1, NULL), 0);
    assert_int_equal (auth_limit_fail (lim, "x", now + 2, &retry), -VE_BUSY);
    assert_int_equal (retry, now + 2 + 1000);
    auth_limit_destroy (&lim);
    config.failures = AUTH_LIMIT_MAX_FAILURES + 1;
    assert_null (auth_limit_new (&config));
    config = (auth_limit_config_t) { .window_ms = 10, .max_backoff_ms = 5 };
    assert_null (auth_limit_new (&config));
    auth_limit_destroy (&lim);  //  NULL-safe
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ten_failures_lock_for_fifteen_minutes),
        cmocka_unit_test (test_window_slides),
        cmocka_unit_test (test_backoff_doubles_and_caps),
        cmocka_unit_test (test_reset_forgets),
        cmocka_unit_test (test_bounded_memory),
        cmocka_unit_test (test_config),
    };
    return cmocka_run_group_tests_name ("auth_limit", tests, NULL, NULL);
}
