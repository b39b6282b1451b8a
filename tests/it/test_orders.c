//  test_orders.c — the orders actor and the checkout saga with real processes: a broker, the
//  catalog (writer and read replica), cart, inventory (two processes, four partitions each),
//  payments and orders, each on real RocksDB in one temporary directory. Stock, orders and the
//  payments ledger are checked against each other after every scenario.
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

#define CARD_OK        VIT_CARD_OK
#define CARD_DECLINE   VIT_CARD_DECLINE
#define CARD_FUNDS     VIT_CARD_FUNDS
#define CARD_NOCAPTURE VIT_CARD_NOCAPTURE

static vit_shop_t *g;
static const vbus_caller_t s_admin = { "admin-1", VBUS_ROLE_ADMIN };
static const vbus_caller_t s_service = { "test", VBUS_ROLE_SERVICE };
static const char *const s_orders_args[] = { "--set", "step_timeout_ms=5000", NULL };

//  Calls service.method with a JSON body; returns the status and, when ok, the reply decoded
//  against its schema (a reply that breaks it fails the test). message gets the error text.
static int
s_call_opts (const char *service, const char *method, const char *json, const vbus_opts_t *opts,
             const vmsg_value_t **out, char *message, size_t msize)
{
    char why[300];
    if (!message) {
        message = why;
        msize = sizeof why;
    }
    int status = vit_shop_call (g, service, method, json, opts, out, message, msize);
    if (status < 0)
        fail_msg ("%s", message);
    return status;
}

static int
s_call (const char *service, const char *method, const char *json, const vbus_caller_t *caller,
        const char *key, const vmsg_value_t **out)
{
    vbus_opts_t opts = { .caller = caller, .key = key, .timeout_ms = 30000 };
    return s_call_opts (service, method, json, &opts, out, NULL, 0);
}

static int
s_group_setup (void **state)
{
    (void) state;
    g = calloc (1, sizeof *g);
    if (!g || vit_shop_start (g, "vitrine-orders", s_orders_args) != 0
        || vit_shop_product (g, "t-oak", "OAK-1", "Oak Side Table", 12900, 20)
        || vit_shop_product (g, "t-lamp", "LAMP-1", "Brass Desk Lamp", 4500, 500)
        || vit_shop_product (g, "t-rug", "RUG-1", "Wool Rug", 8000, 2)
        || vit_shop_product (g, "t-race", "RACE-1", "Limited Print", 1000, 100)
        || vit_shop_product (g, "t-crash", "CRASH-1", "Crash Chair", 2000, 1000))
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

static void
s_fill_cart (const char *user, const char *product, int qty)
{
    assert_int_equal (vit_shop_fill_cart (g, user, product, qty), 0);
}

static void
s_checkout_json (char *json, size_t size, const char *card, const char *key)
{
    vit_shop_checkout_json (json, size, card, key);
}

//  Checks out user's cart; returns the status and the order in *out.
static int
s_checkout (const char *user, const char *card, const char *key, const vmsg_value_t **out)
{
    char json[1024];
    s_checkout_json (json, sizeof json, card, key);
    vbus_caller_t who = { user, VBUS_ROLE_CUSTOMER };
    return s_call ("orders", "checkout", json, &who, user, out);
}

static const vmsg_value_t *
s_stock (const char *sku)
{
    char json[256];
    snprintf (json, sizeof json, "{\"sku\":\"%s\"}", sku);
    const vmsg_value_t *v;
    assert_int_equal (s_call ("inventory", "get", json, NULL, sku, &v), VE_OK);
    return v;
}

//  The order's user id: the part before its last '.'.
static void
s_user_of (const char *order_id, char *user, size_t size)
{
    snprintf (user, size, "%.*s", (int) (strrchr (order_id, '.') - order_id), order_id);
}

//  The payments side of an order: captured minus refunded over its intents, and whether its
//  ledger balances.
static int64_t
s_charged (const char *order_id, bool *balanced)
{
    char json[256];
    snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", order_id);
    const vmsg_value_t *v;
    int64_t net = 0;
    assert_int_equal (s_call ("payments", "list", json, &s_service, order_id, &v), VE_OK);
    const vmsg_value_t *ps = vmsg_get (v, "payments");
    for (uint32_t i = 0; i < vmsg_count (ps); i++)
        net +=
            vmsg_int (vmsg_at (ps, i), "captured", 0) - vmsg_int (vmsg_at (ps, i), "refunded", 0);
    assert_int_equal (s_call ("payments", "ledger", json, &s_service, order_id, &v), VE_OK);
    *balanced = vmsg_bool (v, "balanced", false);
    return net;
}

//  ---------------------------------------------------------------- tests

static void
test_checkout_confirms_or_fails_with_a_reason (void **state)
{
    (void) state;
    const vmsg_value_t *o;
    int64_t before = vmsg_int (s_stock ("OAK-1"), "on_hand", 0);
    s_fill_cart ("alice", "t-oak", 2);
    s_fill_cart ("alice", "t-lamp", 1);
    assert_int_equal (s_checkout ("alice", CARD_OK, "k-alice-1", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "state"), "confirmed");
    assert_false (vmsg_has (o, "reason"));
    assert_int_equal (vmsg_count (vmsg_get (o, "lines")), 2);
    assert_int_equal (vmsg_int (o, "total", 0), 2 * 12900 + 4500);
    assert_string_equal (vmsg_str (o, "currency"), "EUR");
    char id[96];
    snprintf (id, sizeof id, "%s", vmsg_str (o, "order_id"));
    assert_int_equal (strncmp (id, "alice.", 6), 0);
    bool balanced;
    assert_int_equal (s_charged (id, &balanced), 2 * 12900 + 4500);
    assert_true (balanced);
    const vmsg_value_t *stock = s_stock ("OAK-1");
    assert_int_equal (vmsg_int (stock, "on_hand", 0), before - 2);
    assert_int_equal (vmsg_int (stock, "reserved", -1), 0);
    //  The bought cart is emptied (fire and forget: give it a moment).
    const vmsg_value_t *cart = NULL;
    for (int i = 0; i < 50; i++) {
        assert_int_equal (
            s_call ("cart", "get", "{\"cart_id\":\"u:alice\"}", &s_service, "u:alice", &cart),
            VE_OK);
        if (vmsg_count (vmsg_get (cart, "lines")) == 0)
            break;
        usleep (50000);
    }
    assert_int_equal (vmsg_count (vmsg_get (cart, "lines")), 0);

    //  Declines: failed with the provider's words; nothing held, nothing charged.
    const char *cards[] = { CARD_DECLINE, CARD_FUNDS, CARD_NOCAPTURE };
    const char *users[] = { "bob", "carol", "dan" };
    for (int i = 0; i < 3; i++) {
        s_fill_cart (users[i], "t-oak", 1);
        assert_int_equal (s_checkout (users[i], cards[i], "k1", &o), VE_OK);
        assert_string_equal (vmsg_str (o, "state"), "failed");
        print_message ("%s: %s\n", users[i], vmsg_str (o, "reason"));
        if (i == 2)
            assert_non_null (strstr (vmsg_str (o, "reason"), "could not be completed"));
        else
            assert_non_null (strstr (vmsg_str (o, "reason"), i == 0 ? "declined" : "funds"));
        assert_int_equal (s_charged (vmsg_str (o, "order_id"), &balanced), 0);
        assert_true (balanced);
    }
    stock = s_stock ("OAK-1");
    assert_int_equal (vmsg_int (stock, "on_hand", 0), before - 2);
    assert_int_equal (vmsg_int (stock, "reserved", -1), 0);

    //  More than there is: "only 2 left of Wool Rug".
    s_fill_cart ("erin", "t-rug", 5);
    assert_int_equal (s_checkout ("erin", CARD_OK, "k1", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "state"), "failed");
    assert_string_equal (vmsg_str (o, "reason"), "only 2 left of Wool Rug");
    assert_int_equal (vmsg_int (s_stock ("RUG-1"), "available", 0), 2);
    //  Nothing in the cart.
    assert_int_equal (s_checkout ("frank", CARD_OK, "k1", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "state"), "failed");
    assert_string_equal (vmsg_str (o, "reason"), "your cart is empty");
}

static void
test_idempotency_and_ownership (void **state)
{
    (void) state;
    const vmsg_value_t *o;
    s_fill_cart ("gina", "t-lamp", 1);
    assert_int_equal (s_checkout ("gina", CARD_OK, "same-key", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "state"), "confirmed");
    char id[96], json[256];
    snprintf (id, sizeof id, "%s", vmsg_str (o, "order_id"));
    //  The same key again: the same order, not a second charge.
    s_fill_cart ("gina", "t-lamp", 1);
    assert_int_equal (s_checkout ("gina", CARD_OK, "same-key", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "order_id"), id);
    bool balanced;
    assert_int_equal (s_charged (id, &balanced), 4500);
    //  Another user's key of the same text is another order.
    s_fill_cart ("hugo", "t-lamp", 1);
    assert_int_equal (s_checkout ("hugo", CARD_OK, "same-key", &o), VE_OK);
    assert_string_not_equal (vmsg_str (o, "order_id"), id);

    //  Only the owner (or staff) sees it; anyone else is told it does not exist.
    vbus_caller_t gina = { "gina", VBUS_ROLE_CUSTOMER }, hugo = { "hugo", VBUS_ROLE_CUSTOMER };
    snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", id);
    assert_int_equal (s_call ("orders", "get", json, &gina, "gina", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "user_id"), "gina");
    assert_int_equal (s_call ("orders", "get", json, &hugo, "gina", NULL), VE_NOT_FOUND);
    assert_int_equal (s_call ("orders", "cancel", json, &hugo, "gina", NULL), VE_NOT_FOUND);
    assert_int_equal (s_call ("orders", "get", json, &s_admin, "gina", NULL), VE_OK);
    assert_int_equal (s_call ("orders", "get", json, NULL, "gina", NULL), VE_UNAUTHORIZED);
    //  History: newest first, paged.
    s_fill_cart ("gina", "t-lamp", 2);
    assert_int_equal (s_checkout ("gina", CARD_OK, "second", &o), VE_OK);
    char newest[96];
    snprintf (newest, sizeof newest, "%s", vmsg_str (o, "order_id"));
    assert_int_equal (s_call ("orders", "list", "{\"limit\":1}", &gina, "gina", &o), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (o, "orders")), 1);
    assert_string_equal (vmsg_str (vmsg_at (vmsg_get (o, "orders"), 0), "order_id"), newest);
    snprintf (json, sizeof json, "{\"limit\":1,\"cursor\":\"%s\"}", vmsg_str (o, "next_cursor"));
    assert_int_equal (s_call ("orders", "list", json, &gina, "gina", &o), VE_OK);
    assert_string_equal (vmsg_str (vmsg_at (vmsg_get (o, "orders"), 0), "order_id"), id);
    assert_false (vmsg_has (o, "next_cursor"));
    assert_int_equal (s_call ("orders", "list", "{}", &hugo, "hugo", &o), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (o, "orders")), 1);
}

static void
test_bad_input_names_the_field (void **state)
{
    (void) state;
    vbus_caller_t ivy = { "ivy", VBUS_ROLE_CUSTOMER };
    s_fill_cart ("ivy", "t-lamp", 1);
    char json[1024], message[256];
    vbus_opts_t opts = { .caller = &ivy, .key = "ivy", .timeout_ms = 30000 };
    s_checkout_json (json, sizeof json, CARD_OK, "k1");
    char *country = strstr (json, "\"GB\"");
    memcpy (country, "\"gb\"", 4);
    assert_int_equal (
        s_call_opts ("orders", "checkout", json, &opts, NULL, message, sizeof message),
        VE_BAD_REQUEST);
    assert_non_null (strstr (message, "shipping.country"));
    s_checkout_json (json, sizeof json, "4242424242424241", "k1");
    assert_int_equal (
        s_call_opts ("orders", "checkout", json, &opts, NULL, message, sizeof message),
        VE_BAD_REQUEST);
    assert_non_null (strstr (message, "card.number"));
    assert_int_equal (s_call_opts ("orders", "checkout", "{\"idempotency_key\":\"k\"}", &opts, NULL,
                                   message, sizeof message),
                      VE_BAD_REQUEST);
    assert_non_null (strstr (message, "shipping"));
    //  Keyed by someone else's id: refused, not stored in the wrong partition.
    opts.key = "somebody-else";
    s_checkout_json (json, sizeof json, CARD_OK, "k1");
    int status = s_call_opts ("orders", "checkout", json, &opts, NULL, message, sizeof message);
    if (status != VE_BAD_REQUEST)  //  the two keys may share a partition
        assert_int_equal (status, VE_OK);
    else
        assert_non_null (strstr (message, "key"));
    opts.key = "ivy";
    assert_int_equal (s_call_opts ("orders", "list_by_state", "{\"state\":\"lost\"}",
                                   &(vbus_opts_t) { .caller = &s_admin, .to_partition = true },
                                   NULL, message, sizeof message),
                      VE_BAD_REQUEST);
    assert_non_null (strstr (message, "state"));
    //  Nothing was made by the refused calls.
    const vmsg_value_t *o;
    assert_int_equal (s_call ("orders", "list", "{}", &ivy, "ivy", &o), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (o, "orders")), status == VE_OK ? 1 : 0);
}

static void
test_cancel_refunds_and_restocks_and_shipping (void **state)
{
    (void) state;
    const vmsg_value_t *o;
    vbus_caller_t jo = { "jo", VBUS_ROLE_CUSTOMER };
    int64_t before = vmsg_int (s_stock ("OAK-1"), "on_hand", 0);
    s_fill_cart ("jo", "t-oak", 3);
    assert_int_equal (s_checkout ("jo", CARD_OK, "k1", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "state"), "confirmed");
    char json[256];
    snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", vmsg_str (o, "order_id"));
    char id[96];
    snprintf (id, sizeof id, "%s", vmsg_str (o, "order_id"));
    assert_int_equal (vmsg_int (s_stock ("OAK-1"), "on_hand", 0), before - 3);
    assert_int_equal (s_call ("orders", "cancel", json, &jo, "jo", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "state"), "cancelled");
    assert_int_equal (vmsg_int (s_stock ("OAK-1"), "on_hand", 0), before);
    bool balanced;
    assert_int_equal (s_charged (id, &balanced), 0);
    assert_true (balanced);
    assert_int_equal (s_call ("orders", "cancel", json, &jo, "jo", &o), VE_OK);  //  again: same
    assert_int_equal (s_call ("orders", "ship", json, &s_admin, "jo", NULL), VE_CONFLICT);
    //  Shipped orders cannot be cancelled; customers cannot ship.
    s_fill_cart ("jo", "t-lamp", 1);
    assert_int_equal (s_checkout ("jo", CARD_OK, "k2", &o), VE_OK);
    snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", vmsg_str (o, "order_id"));
    assert_int_equal (s_call ("orders", "ship", json, &jo, "jo", NULL), VE_FORBIDDEN);
    assert_int_equal (s_call ("orders", "deliver", json, &s_admin, "jo", NULL), VE_CONFLICT);
    assert_int_equal (s_call ("orders", "ship", json, &s_admin, "jo", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "state"), "shipped");
    assert_int_equal (s_call ("orders", "cancel", json, &jo, "jo", NULL), VE_CONFLICT);
    assert_int_equal (s_call ("orders", "deliver", json, &s_admin, "jo", &o), VE_OK);
    assert_string_equal (vmsg_str (o, "state"), "delivered");
}

typedef vit_shop_checkout_t s_result_t;

static void
s_send_checkout (const char *user, const char *key, s_result_t *r)
{
    assert_int_equal (vit_shop_checkout_send (g, user, CARD_OK, key, r), 0);
}

static int
s_answered (const s_result_t *r, int n)
{
    return vit_shop_answered (r, n);
}

#define RACERS 150

//  150 shoppers, one unit each, 100 units: exactly 100 sold, the rest told it is sold out.
static void
test_race_for_the_last_units (void **state)
{
    (void) state;
    static s_result_t r[RACERS];
    char user[32];
    for (int i = 0; i < RACERS; i++) {
        snprintf (user, sizeof user, "racer-%03d", i);
        s_fill_cart (user, "t-race", 1);
    }
    for (int i = 0; i < RACERS; i++) {
        snprintf (user, sizeof user, "racer-%03d", i);
        s_send_checkout (user, "race", &r[i]);
    }
    int64_t deadline = vbus_mono_us () + 90 * 1000000LL;
    while (s_answered (r, RACERS) < RACERS && vbus_mono_us () < deadline)
        vbus_client_poll (g->client, 100);
    int confirmed = 0, failed = 0;
    int64_t captured = 0;
    for (int i = 0; i < RACERS; i++) {
        assert_int_equal (r[i].status, VE_OK);
        bool balanced;
        int64_t net = s_charged (r[i].order_id, &balanced);
        assert_true (balanced);
        captured += net;
        varena_reset (g->arena);
        if (strcmp (r[i].state, "confirmed") == 0) {
            confirmed++;
            assert_int_equal (net, 1000);
        }
        else {
            assert_string_equal (r[i].state, "failed");
            assert_int_equal (net, 0);
            assert_true (strcmp (r[i].reason, "Limited Print is sold out") == 0
                         || strncmp (r[i].reason, "only ", 5) == 0);
            failed++;
        }
    }
    print_message ("race: %d confirmed, %d failed, captured %lld\n", confirmed, failed,
                   (long long) captured);
    assert_int_equal (confirmed, 100);
    assert_int_equal (failed, RACERS - 100);
    assert_int_equal (captured, 100 * 1000);
    const vmsg_value_t *stock = s_stock ("RACE-1");
    assert_int_equal (vmsg_int (stock, "on_hand", -1), 0);
    assert_int_equal (vmsg_int (stock, "reserved", -1), 0);
    assert_int_equal (vmsg_int (stock, "available", -1), 0);
}

//  The same key twice at once: the second arrives before the first order is stored (its
//  first state is stored only once the cart is priced), and still gets the same order, paid
//  once.
static void
test_same_key_at_once_is_one_order (void **state)
{
    (void) state;
    static s_result_t r[2];
    s_fill_cart ("ivy", "t-lamp", 1);
    s_send_checkout ("ivy", "at-once", &r[0]);
    s_send_checkout ("ivy", "at-once", &r[1]);
    assert_int_equal (vit_shop_wait_answers (g, r, 2, 30000), 0);
    assert_int_equal (r[0].status, VE_OK);
    assert_int_equal (r[1].status, VE_OK);
    assert_string_equal (r[0].state, "confirmed");
    assert_string_equal (r[1].order_id, r[0].order_id);
    assert_string_equal (r[1].state, "confirmed");
    bool balanced;
    assert_int_equal (s_charged (r[0].order_id, &balanced), 4500);
    assert_true (balanced);
}

//  Payments frozen for 2 s while a checkout waits on its authorisation: the orders actor
//  still answers other shoppers at once.
static void
test_slow_payments_do_not_block_orders (void **state)
{
    (void) state;
    s_fill_cart ("kim", "t-lamp", 1);
    s_fill_cart ("lou", "t-lamp", 1);
    const vmsg_value_t *o;
    assert_int_equal (s_checkout ("lou", CARD_OK, "k1", &o), VE_OK);
    char json[256];
    snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", vmsg_str (o, "order_id"));
    assert_int_equal (kill (g->payments, SIGSTOP), 0);
    s_result_t r = { .status = -1 };
    s_send_checkout ("kim", "k1", &r);
    //  Wait until kim's order is authorising (its call to payments is out).
    vbus_caller_t kim = { "kim", VBUS_ROLE_CUSTOMER }, lou = { "lou", VBUS_ROLE_CUSTOMER };
    bool authorizing = false;
    for (int i = 0; i < 100 && !authorizing; i++) {
        vbus_client_poll (g->client, 10);
        varena_reset (g->arena);
        if (s_call ("orders", "list", "{}", &kim, "kim", &o) == VE_OK
            && vmsg_count (vmsg_get (o, "orders")) == 1)
            authorizing =
                strcmp (vmsg_str (vmsg_at (vmsg_get (o, "orders"), 0), "state"), "authorizing")
                == 0;
        usleep (20000);
    }
    assert_true (authorizing);
    int64_t start = vbus_mono_us ();
    for (int i = 0; i < 20; i++) {
        assert_int_equal (s_call ("orders", "get", json, &lou, "lou", NULL), VE_OK);
        assert_int_equal (s_call ("orders", "list", "{}", &lou, "lou", NULL), VE_OK);
    }
    int64_t took_ms = (vbus_mono_us () - start) / 1000;
    print_message ("40 reads while payments is stopped: %lld ms\n", (long long) took_ms);
    assert_true (took_ms < 1000);
    assert_int_equal (r.status, -1);  //  kim still waits
    usleep (2000000 - (useconds_t) took_ms * 1000);
    assert_int_equal (kill (g->payments, SIGCONT), 0);
    int64_t deadline = vbus_mono_us () + 30 * 1000000LL;
    while (r.status == -1 && vbus_mono_us () < deadline)
        vbus_client_poll (g->client, 100);
    assert_int_equal (r.status, VE_OK);
    assert_string_equal (r.state, "confirmed");
}

#define CRASHERS 40

//  kill -9 of orders with checkouts in flight; a restart finishes every one of them.
static void
test_crash_mid_checkout_resumes (void **state)
{
    (void) state;
    static s_result_t r[CRASHERS];
    static char names[CRASHERS][32];
    const char *users[CRASHERS];
    char user[32];
    vit_shop_sku_t sku = { "CRASH-1", 0 };
    assert_int_equal (vit_shop_snapshot (g, &sku, 1), 0);
    for (int i = 0; i < CRASHERS; i++) {
        snprintf (names[i], sizeof names[i], "crash-%02d", i);
        users[i] = names[i];
        s_fill_cart (users[i], "t-crash", 1 + i % 3);
    }
    //  Half wait on a frozen payments (authorizing, the card only in memory), half on a frozen
    //  inventory partition (reserving); then orders is killed and the others thawed.
    assert_int_equal (kill (g->payments, SIGSTOP), 0);
    for (int i = 0; i < CRASHERS / 2; i++) {
        snprintf (user, sizeof user, "crash-%02d", i);
        s_send_checkout (user, "crash", &r[i]);
    }
    int64_t deadline = vbus_mono_us () + 400000;
    while (vbus_mono_us () < deadline)
        vbus_client_poll (g->client, 10);
    pid_t inv = vbus_partition ("CRASH-1", 7, 8) < 4 ? g->inv_a : g->inv_b;
    assert_int_equal (kill (inv, SIGSTOP), 0);
    for (int i = CRASHERS / 2; i < CRASHERS; i++) {
        snprintf (user, sizeof user, "crash-%02d", i);
        s_send_checkout (user, "crash", &r[i]);
    }
    deadline = vbus_mono_us () + 400000;
    while (vbus_mono_us () < deadline)
        vbus_client_poll (g->client, 10);
    int answered = s_answered (r, CRASHERS);
    assert_int_equal (vit_stop (g->orders, SIGKILL, 2000), 128 + SIGKILL);
    g->orders = 0;
    assert_int_equal (kill (g->payments, SIGCONT), 0);
    assert_int_equal (kill (inv, SIGCONT), 0);
    print_message ("killed orders with %d of %d checkouts answered\n", answered, CRASHERS);
    assert_true (answered < CRASHERS);
    assert_int_equal (vit_wait_workers (&g->broker, "orders", 0, 10000), 0);
    assert_true (vit_shop_start_orders (g, s_orders_args) > 0);
    //  Every order final, its money and the stock as the audit expects (vit_shop.h).
    assert_int_equal (vit_shop_settle (g, 60000), 0);
    vit_shop_audit_t audit;
    assert_int_equal (vit_shop_audit (g, users, CRASHERS, &sku, 1, &audit), 0);
    print_message ("after the crash: %d confirmed, %d failed, %lld units sold\n", audit.confirmed,
                   audit.failed, (long long) audit.units_sold);
    assert_int_equal (audit.orders, CRASHERS);
    //  Those answered before the crash kept their answer.
    for (int i = 0; i < CRASHERS; i++)
        if (r[i].status == VE_OK && strcmp (r[i].state, "confirmed") == 0) {
            char json[256];
            snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", r[i].order_id);
            char owner[64];
            s_user_of (r[i].order_id, owner, sizeof owner);
            const vmsg_value_t *o;
            varena_reset (g->arena);
            assert_int_equal (s_call ("orders", "get", json, &s_service, owner, &o), VE_OK);
            assert_string_equal (vmsg_str (o, "state"), "confirmed");
        }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_checkout_confirms_or_fails_with_a_reason),
        cmocka_unit_test (test_idempotency_and_ownership),
        cmocka_unit_test (test_bad_input_names_the_field),
        cmocka_unit_test (test_cancel_refunds_and_restocks_and_shipping),
        cmocka_unit_test (test_race_for_the_last_units),
        cmocka_unit_test (test_same_key_at_once_is_one_order),
        cmocka_unit_test (test_slow_payments_do_not_block_orders),
        cmocka_unit_test (test_crash_mid_checkout_resumes),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("orders", tests, s_group_setup, s_group_teardown);
}
