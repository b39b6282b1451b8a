//  test_orders_faults.c — the checkout saga under faults, on the whole commerce platform
//  (vit_shop.h): each forward step failed in turn by the orders actor's test hook (fail_step:
//  the call refused; fail_after: the call done but its reply lost), then kill -9 of inventory
//  and of payments with many checkouts in flight. After each, one audit (vit_shop_audit):
//  every order final, no capture without a confirmed order, nothing left authorised, no
//  leaked reservation, on hand lower by exactly the confirmed units, every ledger balanced.
//  (kill -9 of orders is tests/it/test_orders.c's test_crash_mid_checkout_resumes, with the
//  same audit.)
#include "vit_shop.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Short step timeouts: a fault's compensation that waits for an authorize's deadline (step
//  timeout + 2 s) stays short, and a dead peer is given up on quickly.
#define S_STEP_TIMEOUT "step_timeout_ms=1000"
#define S_SHOPPERS     4   //  checkouts per step fault
#define S_CRASHERS     30  //  checkouts in flight at a kill -9

static vit_shop_t *g;
//  Two SKUs, one in each inventory process (partitions 0-3 and 4-7), so that every order
//  holds two reservations and a crash of either process catches all of them.
static char s_sku_a[32], s_sku_b[32];

static int
s_group_setup (void **state)
{
    (void) state;
    for (int i = 0; !s_sku_a[0] || !s_sku_b[0]; i++) {
        char sku[32];
        snprintf (sku, sizeof sku, "FAULT-%d", i);
        char *slot = vbus_partition (sku, strlen (sku), 8) < 4 ? s_sku_a : s_sku_b;
        if (!slot[0])
            snprintf (slot, sizeof s_sku_a, "%s", sku);
    }
    const char *orders_args[] = { "--set", S_STEP_TIMEOUT, NULL };
    g = calloc (1, sizeof *g);
    if (!g || vit_shop_start (g, "vitrine-faults", orders_args) != 0
        || vit_shop_product (g, "f-chair", s_sku_a, "Fault Chair", 3000, 100000)
        || vit_shop_product (g, "f-cup", s_sku_b, "Fault Cup", 700, 100000))
        return -1;
    return 0;
}

static int
s_group_teardown (void **state)
{
    (void) state;
    int rc = vit_shop_stop (g);
    free (g);
    return rc;
}

//  ---------------------------------------------------------------- helpers

typedef struct {
    char names[S_CRASHERS][32];
    const char *users[S_CRASHERS];
    vit_shop_checkout_t results[S_CRASHERS];
    vit_shop_sku_t skus[2];
    int n;
} s_scenario_t;

//  n shoppers "<tag>-NN", each with a cart over both SKUs; the stock as it is now.
static void
s_scenario (s_scenario_t *sc, const char *tag, int n)
{
    memset (sc, 0, sizeof *sc);
    sc->n = n;
    sc->skus[0] = (vit_shop_sku_t) { s_sku_a, 0 };
    sc->skus[1] = (vit_shop_sku_t) { s_sku_b, 0 };
    assert_int_equal (vit_shop_snapshot (g, sc->skus, 2), 0);
    for (int i = 0; i < n; i++) {
        snprintf (sc->names[i], sizeof sc->names[i], "%s-%02d", tag, i);
        sc->users[i] = sc->names[i];
        assert_int_equal (vit_shop_fill_cart (g, sc->users[i], "f-chair", 1 + i % 2), 0);
        assert_int_equal (vit_shop_fill_cart (g, sc->users[i], "f-cup", 1), 0);
    }
}

static void
s_send_all (s_scenario_t *sc)
{
    for (int i = 0; i < sc->n; i++)
        assert_int_equal (
            vit_shop_checkout_send (g, sc->users[i], VIT_CARD_OK, "k1", &sc->results[i]), 0);
}

//  Waits for every answer and for every order to be final, then audits: no violation.
static vit_shop_audit_t
s_settle_and_audit (s_scenario_t *sc)
{
    assert_int_equal (vit_shop_wait_answers (g, sc->results, sc->n, 60000), 0);
    for (int i = 0; i < sc->n; i++)
        assert_int_equal (sc->results[i].status, VE_OK);
    assert_int_equal (vit_shop_settle (g, 30000), 0);
    vit_shop_audit_t a;
    int violations = vit_shop_audit (g, sc->users, (size_t) sc->n, sc->skus, 2, &a);
    print_message ("  %d orders: %d confirmed, %d failed, %lld units sold; %d intents, %d "
                   "canceled, %d refunded; %d violations\n",
                   a.orders, a.confirmed, a.failed, (long long) a.units_sold, a.intents, a.canceled,
                   a.refunded, violations);
    assert_int_equal (violations, 0);
    assert_int_equal (a.orders, sc->n);
    return a;
}

//  What a step fault must leave at payments: per order, `intents` intents, of which
//  `canceled` voided and `refunded` refunded in full.
typedef struct {
    const char *setting;  //  "fail_step=reserve", ...
    int intents, canceled, refunded;
} s_fault_t;

//  Restarts orders with the fault on, checks out S_SHOPPERS carts: every one fails (the step
//  fails for every order), and the compensations leave nothing behind.
static void
s_step_fault (const s_fault_t *f)
{
    const char *args[] = { "--set", f->setting, "--set", S_STEP_TIMEOUT, NULL };
    assert_int_equal (vit_shop_restart_orders (g, args), 0);
    char tag[32];
    snprintf (tag, sizeof tag, "%s", f->setting);
    for (char *c = tag; *c; c++)
        if (*c == '=' || *c == '_')
            *c = '-';
    static s_scenario_t sc;  //  the client writes answers into it, even after a failed test
    s_scenario (&sc, tag, S_SHOPPERS);
    int64_t start = vbus_mono_us ();
    s_send_all (&sc);
    assert_int_equal (vit_shop_wait_answers (g, sc.results, sc.n, 60000), 0);
    print_message ("%s: answered in %lld ms: %s\n", f->setting,
                   (long long) (vbus_mono_us () - start) / 1000, sc.results[0].reason);
    for (int i = 0; i < sc.n; i++) {
        assert_string_equal (sc.results[i].state, "failed");
        assert_true (sc.results[i].reason[0] != 0);
    }
    vit_shop_audit_t a = s_settle_and_audit (&sc);
    assert_int_equal (a.failed, sc.n);
    //  The compensations that ran: what payments shows of each order.
    assert_int_equal (a.intents, f->intents * sc.n);
    assert_int_equal (a.canceled, f->canceled * sc.n);
    assert_int_equal (a.refunded, f->refunded * sc.n);
}

//  ---------------------------------------------------------------- step faults

//  cart.get refused: failed before anything is held.
static void
test_fail_cart (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_step=cart", 0, 0, 0 });
}

//  inventory.reserve refused: the other reservation of the order is released.
static void
test_fail_reserve (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_step=reserve", 0, 0, 0 });
}

//  inventory.reserve done but its replies lost: both reservations released.
static void
test_fail_after_reserve (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_after=reserve", 0, 0, 0 });
}

//  payments.authorize refused: after its deadline payments.list finds nothing; released.
static void
test_fail_authorize (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_step=authorize", 0, 0, 0 });
}

//  payments.authorize done, its reply lost: payments.list after the deadline finds the hold,
//  which is voided; released.
static void
test_fail_after_authorize (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_after=authorize", 1, 1, 0 });
}

//  inventory.commit refused: released, the hold voided.
static void
test_fail_commit (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_step=commit", 1, 1, 0 });
}

//  inventory.commit done (sold), its replies lost: release finds it sold and restores the
//  units; the hold voided.
static void
test_fail_after_commit (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_after=commit", 1, 1, 0 });
}

//  payments.capture refused: restored, the hold voided.
static void
test_fail_capture (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_step=capture", 1, 1, 0 });
}

//  payments.capture done (the money taken), its reply lost: the cancel finds it captured and
//  refunds it in full; restored. The case "no capture without a confirmed order" is about.
static void
test_fail_after_capture (void **state)
{
    (void) state;
    s_step_fault (&(s_fault_t) { "fail_after=capture", 1, 0, 1 });
}

//  ---------------------------------------------------------------- crashes

//  kill -9 of a process in the middle of a stream of S_CRASHERS checkouts (one every 2 ms,
//  about the time a step takes here): half started before the kill (at every step of the saga
//  by then), the rest while it is down. It stays down 3 s, longer than orders' one retry of a step (step_retries=1: 1 s
//  timeout, 400 ms backoff, 1 s), so sagas waiting on it give up and compensate against a
//  peer that may or may not have done what was asked (the compensations retry until it is
//  back); then it restarts on the same data directory.
//  Every order ends final, and the audit is clean.
static void
s_crash (const char *tag, pid_t *victim, pid_t (*restart) (vit_shop_t *shop))
{
    const char *args[] = { "--set", S_STEP_TIMEOUT, "--set", "step_retries=1", NULL };
    assert_int_equal (vit_shop_restart_orders (g, args), 0);
    static s_scenario_t sc;  //  the client writes answers into it, even after a failed test
    s_scenario (&sc, tag, S_CRASHERS);
    int64_t killed_at = 0;
    int answered = 0;
    for (int i = 0; i < sc.n; i++) {
        assert_int_equal (
            vit_shop_checkout_send (g, sc.users[i], VIT_CARD_OK, "k1", &sc.results[i]), 0);
        int64_t next = vbus_mono_us () + 2000;
        while (vbus_mono_us () < next)
            vbus_client_poll (g->client, 1);
        if (i == sc.n / 2) {
            answered = vit_shop_answered (sc.results, i + 1);
            assert_int_equal (vit_stop (*victim, SIGKILL, 2000), 128 + SIGKILL);
            *victim = 0;
            killed_at = vbus_mono_us ();
        }
    }
    while (vbus_mono_us () < killed_at + 3000000)
        vbus_client_poll (g->client, 10);
    print_message ("%s: killed with %d of %d started checkouts answered; restarting\n", tag,
                   answered, sc.n / 2 + 1);
    assert_true (restart (g) > 0);
    vit_shop_audit_t a = s_settle_and_audit (&sc);
    assert_int_equal (a.confirmed + a.failed, sc.n);
}

static pid_t
s_restart_inv_b (vit_shop_t *shop)
{
    return vit_shop_start_inventory (shop, true);
}

static void
test_kill_inventory_mid_checkout (void **state)
{
    (void) state;
    s_crash ("crash-inv", &g->inv_b, s_restart_inv_b);
}

static void
test_kill_payments_mid_checkout (void **state)
{
    (void) state;
    s_crash ("crash-pay", &g->payments, vit_shop_start_payments);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fail_cart),
        cmocka_unit_test (test_fail_reserve),
        cmocka_unit_test (test_fail_after_reserve),
        cmocka_unit_test (test_fail_authorize),
        cmocka_unit_test (test_fail_after_authorize),
        cmocka_unit_test (test_fail_commit),
        cmocka_unit_test (test_fail_after_commit),
        cmocka_unit_test (test_fail_capture),
        cmocka_unit_test (test_fail_after_capture),
        cmocka_unit_test (test_kill_inventory_mid_checkout),
        cmocka_unit_test (test_kill_payments_mid_checkout),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("orders_faults", tests, s_group_setup, s_group_teardown);
}
