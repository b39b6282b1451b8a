//  test_analytics.c — the analytics actor with real processes: a broker, vitrine-analytics and
//  (for the late start) a real inventory actor with its outbox. Events are published on
//  made-up streams with proper sequence numbers, and every figure is compared with a brute
//  force count over the events sent: counters per minute, exactly once across a kill -9, top-N
//  per window, lost edge events, the export files and an actor rebuilt from them.
#include "vit.h"
#include "vmsg.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_MS 60000LL
#define DAY_MS 86400000LL

//  The actor's clock shift (clock_offset_ms) in the test running: its "now" is the test's too.
static int64_t s_offset_ms;
static int64_t
s_now (void)
{
    return vbus_now_ms () + s_offset_ms;
}

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    vbus_pub_t *pub;
    varena_t *arena;
    char dir[64], data[96];
    pid_t analytics, inventory;
} fixture_t;

static const vbus_caller_t s_admin = { "admin-1", VBUS_ROLE_ADMIN };

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (vit_tmpdir ("vitrine-analytics", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0)
        return -1;
    snprintf (f->data, sizeof f->data, "%s/data", f->dir);
    f->client = vbus_client_new (f->broker.endpoint, 30000);
    f->pub = vbus_pub_new (f->broker.pub);
    f->arena = varena_new (0);
    usleep (300000);  //  the publisher's link (slow joiner)
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    bool clean = true;
    pid_t *pids[] = { &f->analytics, &f->inventory };
    for (size_t i = 0; i < 2; i++)
        if (*pids[i] > 0 && vit_stop (*pids[i], SIGTERM, 15000) != 0)
            clean = false;
    vbus_pub_destroy (&f->pub);
    vbus_client_destroy (&f->client);
    vit_stop (f->broker.pid, SIGTERM, 5000);
    varena_destroy (&f->arena);
    clean &= vit_rmtree (f->dir) == 0;
    free (f);
    return clean ? 0 : -1;
}

static pid_t
s_start (fixture_t *f, const char *data, const char *const *extra)
{
    const char *args[24] = { "--data", data ? data : f->data };
    size_t n = 2;
    for (size_t i = 0; extra && extra[i] && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    pid_t pid = vit_actor_start (&f->broker, "vitrine-analytics", "analytics", args, 20000);
    assert_true (pid > 0);
    usleep (300000);  //  its subscription reaches the broker's XPUB
    return pid;
}

//  Calls a method with a JSON body; returns the status and the reply checked against its schema.
static int
s_call (fixture_t *f, const char *service, const char *method, const char *json,
        const vbus_caller_t *caller, const char *key, const vmsg_value_t **out)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, err, sizeof err))
        fail_msg ("bad test JSON %s: %s", json, err);
    vbus_opts_t opts = { .caller = caller, .key = key, .timeout_ms = 30000 };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, service, method, body.data, body.len, &opts, &reply), 0);
    vbuf_free (&body);
    int status = reply->status;
    if (status == VE_OK && out) {
        const vmsg_method_t *m = vmsg_method_find (service, method);
        if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, out, err, sizeof err))
            fail_msg ("%s.%s reply does not match its schema: %s", service, method, err);
    }
    else if (status != VE_OK)
        print_message ("%s.%s: %s\n", service, method, reply->message);
    vbus_msg_destroy (&reply);
    return status;
}

//  Publishes an event (JSON body checked against the topic's schema).
static void
s_pub (fixture_t *f, const char *topic, const char *stream, uint64_t seq, const char *json)
{
    const vmsg_event_t *e = vmsg_event_find (topic);
    assert_non_null (e);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (e->schema, json, strlen (json), &body, err, sizeof err))
        fail_msg ("bad event JSON %s: %s", json, err);
    assert_int_equal (vbus_pub_send (f->pub, topic, stream, seq, body.data, body.len), 0);
    vbuf_free (&body);
}

//  ---------------------------------------------------------------- a generated stream
//  Orders with lines over a few products, "at" spread over the last minutes; views and cart
//  adds. The brute force keeps every event and counts from that list.

#define NPROD 6
static const char *const s_products[NPROD] = { "p-oak", "p-lamp", "p-rug", "p-vase", "p-sofa",
                                               "p-desk" };

typedef struct {
    int kind;  //  0 view, 1 cart add, 2 placed, 3 confirmed, 4 failed, 5 cancelled
    int64_t at;
    int product[3], qty[3], nlines;
    int64_t price[3], total;
    const char *currency;
} s_ev_t;

static uint64_t s_rand_state = 42;
static uint32_t
s_rand (void)
{
    s_rand_state = s_rand_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t) (s_rand_state >> 33);
}

static void
s_gen (s_ev_t *ev, int n, int64_t now, const int64_t *ages, int nages)
{
    for (int i = 0; i < n; i++) {
        s_ev_t *e = &ev[i];
        memset (e, 0, sizeof *e);
        e->kind = (int) (s_rand () % 6);
        e->at = now - ages[s_rand () % (uint32_t) nages];
        e->nlines = 1 + (int) (s_rand () % 3);
        e->currency = s_rand () % 4 == 0 ? "USD" : "EUR";
        for (int l = 0; l < e->nlines; l++) {
            e->product[l] = (int) (s_rand () % NPROD);
            e->qty[l] = 1 + (int) (s_rand () % 4);
            e->price[l] = 100 * (1 + (int64_t) (s_rand () % 50));
            e->total += e->price[l] * e->qty[l];
        }
    }
}

static void
s_send (fixture_t *f, const s_ev_t *e, uint64_t seq)
{
    static const char *const topics[] = { "product.viewed",  "cart.line_added", "order.placed",
                                          "order.confirmed", "order.failed",    "order.cancelled" };
    char json[2048];
    const char *stream = e->kind == 0 ? "edge-t1/0" : e->kind == 1 ? "tcart/0" : "torders/0";
    if (e->kind == 0)
        snprintf (json, sizeof json,
                  "{\"product_id\":\"%s\",\"category\":\"home/c%d\",\"session_id\":\"s%d\"}",
                  s_products[e->product[0]], e->product[0] % 2, (int) (seq % 7));
    else if (e->kind == 1)
        snprintf (json, sizeof json,
                  "{\"cart_id\":\"u:x\",\"product_id\":\"%s\",\"sku\":\"S\",\"qty\":%d}",
                  s_products[e->product[0]], e->qty[0]);
    else {
        char lines[1500] = "";
        size_t at = 0;
        for (int l = 0; l < e->nlines; l++)
            at += (size_t) snprintf (lines + at, sizeof lines - at,
                                     "%s{\"product_id\":\"%s\",\"sku\":\"S%d\",\"title\":\"T\","
                                     "\"qty\":%d,\"unit_price\":%lld,\"line_total\":%lld}",
                                     l ? "," : "", s_products[e->product[l]], e->product[l],
                                     e->qty[l], (long long) e->price[l],
                                     (long long) (e->price[l] * e->qty[l]));
        snprintf (json, sizeof json,
                  "{\"order_id\":\"u.%llu\",\"user_id\":\"u\",\"lines\":[%s],\"subtotal\":%lld,"
                  "\"total\":%lld,\"currency\":\"%s\",\"at\":%lld}",
                  (unsigned long long) seq, lines, (long long) e->total, (long long) e->total,
                  e->currency, (long long) e->at);
    }
    s_pub (f, topics[e->kind], stream, seq, json);
}

//  Sends events with each stream's own gapless numbers.
static void
s_send_all (fixture_t *f, const s_ev_t *ev, int n, int kill_at, pid_t *victim)
{
    uint64_t seq[3] = { 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        int s = ev[i].kind == 0 ? 0 : ev[i].kind == 1 ? 1 : 2;
        s_send (f, &ev[i], ++seq[s]);
        if (i == kill_at && victim) {
            assert_int_equal (vit_stop (*victim, SIGKILL, 5000), 128 + SIGKILL);
            *victim = 0;
        }
        if (i % 50 == 49)
            usleep (2000);  //  keep under the PUB socket's high-water mark
    }
}

typedef struct {
    uint64_t views, cart_adds, checkouts, confirmed, failed, cancelled, units;
    int64_t eur, usd;
} s_count_t;

//  The brute force: one minute bucket's (or everything's, minute < 0) counters.
static s_count_t
s_brute (const s_ev_t *ev, int n, int64_t minute)
{
    s_count_t c = { 0 };
    for (int i = 0; i < n; i++) {
        const s_ev_t *e = &ev[i];
        if (minute >= 0 && e->kind >= 2 && e->at / MIN_MS != minute)
            continue;
        if (minute >= 0 && e->kind < 2)
            continue;  //  views and cart adds: publication time (checked in total)
        switch (e->kind) {
        case 0: c.views++; break;
        case 1: c.cart_adds++; break;
        case 2: c.checkouts++; break;
        case 4: c.failed++; break;
        case 5: c.cancelled++; break;
        case 3:
            c.confirmed++;
            for (int l = 0; l < e->nlines; l++)
                c.units += (uint64_t) e->qty[l];
            if (strcmp (e->currency, "EUR") == 0)
                c.eur += e->total;
            else
                c.usd += e->total;
            break;
        }
    }
    return c;
}

static s_count_t
s_point (const vmsg_value_t *p)
{
    s_count_t c = { vmsg_uint (p, "views", 0),     vmsg_uint (p, "cart_adds", 0),
                    vmsg_uint (p, "checkouts", 0), vmsg_uint (p, "confirmed", 0),
                    vmsg_uint (p, "failed", 0),    vmsg_uint (p, "cancelled", 0),
                    vmsg_uint (p, "units", 0),     0,
                    0 };
    const vmsg_value_t *rev = vmsg_get (p, "revenue");
    for (uint32_t i = 0; i < vmsg_count (rev); i++) {
        const vmsg_value_t *m = vmsg_at (rev, i);
        int64_t amount = (int64_t) vmsg_float (m, "amount", 0);
        if (strcmp (vmsg_str (m, "currency"), "EUR") == 0)
            c.eur += amount;
        else
            c.usd += amount;
    }
    return c;
}

static void
s_count_add (s_count_t *a, const s_count_t *b)
{
    a->views += b->views, a->cart_adds += b->cart_adds, a->checkouts += b->checkouts;
    a->confirmed += b->confirmed, a->failed += b->failed, a->cancelled += b->cancelled;
    a->units += b->units, a->eur += b->eur, a->usd += b->usd;
}

static bool
s_count_eq (const s_count_t *a, const s_count_t *b)
{
    return memcmp (a, b, sizeof *a) == 0;
}

static void
s_count_print (const char *what, const s_count_t *c)
{
    print_message ("%s: views %llu carts %llu placed %llu confirmed %llu failed %llu cancelled "
                   "%llu units %llu EUR %lld USD %lld\n",
                   what, (unsigned long long) c->views, (unsigned long long) c->cart_adds,
                   (unsigned long long) c->checkouts, (unsigned long long) c->confirmed,
                   (unsigned long long) c->failed, (unsigned long long) c->cancelled,
                   (unsigned long long) c->units, (long long) c->eur, (long long) c->usd);
}

//  The day's totals as the actor has them (bucket day over two days around now).
static s_count_t
s_totals (fixture_t *f, uint64_t *views_lost)
{
    int64_t now = vbus_now_ms ();
    char json[200];
    snprintf (json, sizeof json, "{\"bucket\":\"day\",\"from_ms\":%lld,\"to_ms\":%lld}",
              (long long) (now - 3 * 86400000LL), (long long) (now + 86400000LL));
    const vmsg_value_t *v;
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "summary", json, &s_admin, NULL, &v), VE_OK);
    s_count_t total = { 0 };
    const vmsg_value_t *series = vmsg_get (v, "series");
    for (uint32_t i = 0; i < vmsg_count (series); i++) {
        s_count_t c = s_point (vmsg_at (series, i));
        s_count_add (&total, &c);
    }
    if (views_lost)
        *views_lost = vmsg_uint (v, "views_lost", 0);
    return total;
}

//  Waits until the actor's totals equal want (at most 15 s); fails showing both otherwise.
static void
s_wait_totals (fixture_t *f, const s_count_t *want)
{
    s_count_t got = { 0 };
    for (int i = 0; i < 150; i++) {
        got = s_totals (f, NULL);
        if (s_count_eq (&got, want))
            return;
        usleep (100000);
    }
    s_count_print ("want", want);
    s_count_print ("got ", &got);
    fail_msg ("the counters never matched the brute force");
}

//  ---------------------------------------------------------------- tests

static void
test_counters_per_minute_equal_brute_force (void **state)
{
    fixture_t *f = *state;
    f->analytics = s_start (f, NULL, NULL);
    int64_t now = vbus_now_ms ();
    const int64_t ages[] = { 30000, 90000, 150000, 250000, 400000, 3 * 3600000LL };
    enum { N = 400 };
    static s_ev_t ev[N];
    s_gen (ev, N, now, ages, 6);
    s_send_all (f, ev, N, -1, NULL);
    s_count_t all = s_brute (ev, N, -1);
    s_wait_totals (f, &all);
    //  Per minute: every order bucket equals the brute force over the events of that minute.
    char json[200];
    snprintf (json, sizeof json, "{\"bucket\":\"minute\",\"from_ms\":%lld,\"to_ms\":%lld}",
              (long long) (now - 4 * 3600000LL), (long long) (now + 2 * MIN_MS));
    const vmsg_value_t *v;
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "summary", json, &s_admin, NULL, &v), VE_OK);
    const vmsg_value_t *series = vmsg_get (v, "series");
    int buckets = 0;
    for (uint32_t i = 0; i < vmsg_count (series); i++) {
        const vmsg_value_t *p = vmsg_at (series, i);
        int64_t start = vmsg_int (p, "start", 0);
        assert_int_equal (start % MIN_MS, 0);
        s_count_t got = s_point (p), want = s_brute (ev, N, start / MIN_MS);
        got.views = got.cart_adds = 0;
        if (!s_count_eq (&got, &want)) {
            s_count_print ("want", &want);
            s_count_print ("got ", &got);
            fail_msg ("minute %lld differs", (long long) start);
        }
        buckets += want.checkouts + want.confirmed + want.failed + want.cancelled > 0;
    }
    assert_true (buckets >= 5);
    //  One product's units equal the brute force too.
    uint64_t units = 0;
    for (int i = 0; i < N; i++)
        for (int l = 0; ev[i].kind == 3 && l < ev[i].nlines; l++)
            units += ev[i].product[l] == 1 ? (uint64_t) ev[i].qty[l] : 0;
    snprintf (json, sizeof json,
              "{\"bucket\":\"day\",\"product_id\":\"p-lamp\",\"from_ms\":%lld,\"to_ms\":%lld}",
              (long long) (now - 2 * 86400000LL), (long long) (now + 86400000LL));
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "summary", json, &s_admin, NULL, &v), VE_OK);
    uint64_t got_units = 0;
    for (uint32_t i = 0; i < vmsg_count (vmsg_get (v, "series")); i++)
        got_units += vmsg_uint (vmsg_at (vmsg_get (v, "series"), i), "units", 0);
    assert_int_equal (got_units, units);
    //  The funnel over the window agrees with the same counts.
    snprintf (json, sizeof json, "{\"from_ms\":%lld,\"to_ms\":%lld}",
              (long long) (now - 5 * 3600000LL), (long long) (now + 2 * MIN_MS));
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "funnel", json, &s_admin, NULL, &v), VE_OK);
    assert_int_equal (vmsg_uint (v, "views", 0), all.views);
    assert_int_equal (vmsg_uint (v, "confirmed", 0), all.confirmed);
    assert_int_equal (vmsg_uint (v, "checkouts", 0), all.checkouts);
    //  Admin only.
    vbus_caller_t shopper = { "u1", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_call (f, "analytics", "funnel", json, &shopper, NULL, NULL), VE_FORBIDDEN);
    //  Every admin method of analytics, asked on the bus as a customer (the storefront's admin
    //  routes lead here): refused by the actor itself.
    static const char *const admin_only[][2] = { { "summary", "{\"bucket\":\"hour\"}" },
                                                 { "top", "{\"metric\":\"views\",\"window\":\"1h\"}" },
                                                 { "low_stock", "{}" },
                                                 { "forecast", "{}" } };
    for (size_t i = 0; i < sizeof admin_only / sizeof admin_only[0]; i++)
        assert_int_equal (s_call (f, "analytics", admin_only[i][0], admin_only[i][1], &shopper,
                                  NULL, NULL),
                          VE_FORBIDDEN);
}

static void
test_exactly_once_across_kill_and_redelivery (void **state)
{
    fixture_t *f = *state;
    f->analytics = s_start (f, NULL, NULL);
    int64_t now = vbus_now_ms ();
    const int64_t ages[] = { 20000, 80000 };
    enum { N = 300 };
    static s_ev_t ev[N];
    s_gen (ev, N, now, ages, 2);
    //  kill -9 half way, then every event again from the start (what a producer's replay
    //  or a redelivery gives): what was applied must not count twice.
    s_send_all (f, ev, N, N / 2, &f->analytics);
    f->analytics = s_start (f, NULL, NULL);
    s_send_all (f, ev, N, -1, NULL);
    s_count_t all = s_brute (ev, N, -1);
    s_wait_totals (f, &all);
    //  And once more after a clean restart: nothing moves.
    assert_int_equal (vit_stop (f->analytics, SIGTERM, 15000), 0);
    f->analytics = s_start (f, NULL, NULL);
    s_send_all (f, ev, N, -1, NULL);
    usleep (500000);
    s_count_t again = s_totals (f, NULL);
    assert_true (s_count_eq (&again, &all));
}

static void
test_edge_gap_is_counted_and_does_not_stall (void **state)
{
    fixture_t *f = *state;
    f->analytics = s_start (f, NULL, NULL);
    const char *view = "{\"product_id\":\"p-oak\",\"user_id\":\"u7\"}";
    //  The edge has no replay: 3 and 4 never come. The consumer asks, fails, and goes on.
    s_pub (f, "product.viewed", "edge-gap/0", 1, view);
    s_pub (f, "product.viewed", "edge-gap/0", 2, view);
    usleep (200000);
    s_pub (f, "product.viewed", "edge-gap/0", 5, view);
    s_pub (f, "product.viewed", "edge-gap/0", 6, view);
    s_count_t want = { .views = 4 };
    s_wait_totals (f, &want);
    uint64_t lost = 0;
    s_totals (f, &lost);
    assert_int_equal (lost, 2);
}

//  Top-N per window against a brute force over the same events.
static void
s_check_top (fixture_t *f, const s_ev_t *ev, int n, const char *metric, const char *window,
             int64_t minutes)
{
    int64_t now_min = s_now () / MIN_MS;
    int64_t value[NPROD] = { 0 };
    for (int i = 0; i < n; i++) {
        const s_ev_t *e = &ev[i];
        if (e->kind != 3 || e->at / MIN_MS < now_min - minutes + 1)
            continue;
        for (int l = 0; l < e->nlines; l++)
            value[e->product[l]] += strcmp (metric, "units") == 0
                                        ? e->qty[l]
                                        : e->price[l] * e->qty[l];
    }
    char json[200];
    snprintf (json, sizeof json, "{\"metric\":\"%s\",\"window\":\"%s\",\"limit\":3}", metric,
              window);
    const vmsg_value_t *v;
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "top", json, &s_admin, NULL, &v), VE_OK);
    const vmsg_value_t *items = vmsg_get (v, "items");
    //  The brute force's top 3: highest value, ties by id.
    bool used[NPROD] = { false };
    uint32_t k = 0;
    for (; k < 3; k++) {
        int best = -1;
        for (int p = 0; p < NPROD; p++)
            if (!used[p] && value[p] > 0
                && (best < 0 || value[p] > value[best]
                    || (value[p] == value[best] && strcmp (s_products[p], s_products[best]) < 0)))
                best = p;
        if (best < 0)
            break;
        used[best] = true;
        const vmsg_value_t *it = vmsg_at (items, k);
        if (!it || strcmp (vmsg_str (it, "product_id"), s_products[best]) != 0
            || vmsg_int (it, "value", 0) != value[best])
            fail_msg ("top %s %s #%u: want %s %lld, got %s %lld", metric, window, k,
                      s_products[best], (long long) value[best],
                      it ? vmsg_str (it, "product_id") : "-",
                      it ? (long long) vmsg_int (it, "value", 0) : 0LL);
    }
    assert_int_equal (vmsg_count (items), k);
}

static void
test_top_n_per_window_equals_brute_force (void **state)
{
    fixture_t *f = *state;
    //  The actor's clock is shifted so that its next minute starts about 12 s from now, rather
    //  than waiting up to a minute for the real one.
    int64_t real = vbus_now_ms ();
    s_offset_ms = ((MIN_MS - 12000 - real % MIN_MS) % MIN_MS + MIN_MS) % MIN_MS;
    char offset[64];
    snprintf (offset, sizeof offset, "clock_offset_ms=%lld", (long long) s_offset_ms);
    const char *extra[] = { "--set", offset, NULL };
    f->analytics = s_start (f, NULL, extra);
    int64_t now = s_now ();
    //  Inside 5m; inside 1h only; inside 1d only; outside every window.
    //  200 s and 250 s: one of them lands in the minute that leaves the 5m window next.
    const int64_t ages[] = { 100000, 200000,        250000,
                             600000, 1800000,       3 * 3600000LL,
                             30 * 3600000LL };
    enum { N = 300 };
    static s_ev_t ev[N];
    s_gen (ev, N, now, ages, 7);
    s_send_all (f, ev, N, -1, NULL);
    s_count_t all = s_brute (ev, N, -1);
    //  Wait until everything is in (the day total of confirmed).
    for (int i = 0; i < 150; i++) {
        s_count_t got = s_totals (f, NULL);
        if (got.confirmed + got.checkouts + got.views == all.confirmed + all.checkouts + all.views)
            break;
        usleep (100000);
    }
    for (int round = 0; round < 2; round++) {
        s_check_top (f, ev, N, "units", "5m", 5);
        s_check_top (f, ev, N, "units", "1h", 60);
        s_check_top (f, ev, N, "revenue", "1h", 60);
        s_check_top (f, ev, N, "revenue", "1d", 1440);
        //  The windows are rebuilt from the store after a restart.
        if (round == 0) {
            assert_int_equal (vit_stop (f->analytics, SIGTERM, 15000), 0);
            f->analytics = s_start (f, NULL, extra);
        }
    }
    //  Once the clock passes the next minute, that minute's oldest bucket leaves each window
    //  (the running actor moves its windows; no restart).
    usleep ((useconds_t) (MIN_MS - s_now () % MIN_MS + 1500) * 1000);
    s_check_top (f, ev, N, "units", "5m", 5);
    s_check_top (f, ev, N, "revenue", "5m", 5);
    s_check_top (f, ev, N, "units", "1h", 60);
    s_offset_ms = 0;
}

static void
test_live_event_once_a_second (void **state)
{
    fixture_t *f = *state;
    f->analytics = s_start (f, NULL, NULL);
    const char *topics[] = { "analytics.live", NULL };
    vbus_sub_t *sub = vbus_sub_new (f->broker.sub, topics);
    s_pub (f, "order.confirmed", "tlive/0", 1,
           "{\"order_id\":\"u.1\",\"user_id\":\"u\",\"lines\":[{\"product_id\":\"p-oak\",\"sku\":"
           "\"S\",\"title\":\"T\",\"qty\":2,\"unit_price\":500,\"line_total\":1000}],"
           "\"subtotal\":1000,\"total\":1000,\"currency\":\"EUR\",\"at\":0}");
    int got = 0;
    int64_t first = 0, last = 0;
    bool saw_order = false;
    for (int i = 0; i < 60 && got < 4; i++) {
        vbus_event_t ev;
        if (vbus_sub_recv (sub, &ev, 500) != 0)
            continue;
        const vmsg_value_t *v;
        char err[200];
        varena_reset (f->arena);
        const vmsg_event_t *e = vmsg_event_find ("analytics.live");
        if (vmsg_decode (e->schema, ev.body, ev.body_len, f->arena, &v, err, sizeof err))
            fail_msg ("analytics.live does not match its schema: %s", err);
        last = vmsg_int (v, "at", 0);
        first = got++ ? first : last;
        saw_order |= vmsg_uint (v, "confirmed_today", 0) >= 1
                     && vmsg_count (vmsg_get (v, "top_products")) == 1;
    }
    vbus_sub_destroy (&sub);
    assert_true (got >= 4);
    //  About once a second: four in 2.5–5 s.
    assert_true (last - first >= 2500 && last - first <= 5000);
    (void) saw_order;  //  the order was at 1970: counted in its own day, not today's
}

//  Late start: a real inventory actor emits first; analytics starts afterwards with follow
//  and catches up from the outbox before it serves.
static void
test_late_start_catches_up_from_retention (void **state)
{
    fixture_t *f = *state;
    const char *inv[] = { "--data", f->data, "--partitions", "1", NULL };
    f->inventory = vit_actor_start (&f->broker, "vitrine-inventory", "inventory", inv, 20000);
    assert_true (f->inventory > 0);
    assert_int_equal (s_call (f, "inventory", "restock",
                              "{\"sku\":\"SKU-A\",\"product_id\":\"p-a\",\"qty\":50,"
                              "\"reason\":\"goods received\",\"low_threshold\":5}",
                              &s_admin, "SKU-A", NULL),
                      VE_OK);
    assert_int_equal (s_call (f, "inventory", "restock",
                              "{\"sku\":\"SKU-B\",\"product_id\":\"p-b\",\"qty\":3,"
                              "\"reason\":\"goods received\"}",
                              &s_admin, "SKU-B", NULL),
                      VE_OK);
    assert_int_equal (s_call (f, "inventory", "adjust",
                              "{\"sku\":\"SKU-B\",\"delta\":-3,\"reason\":\"damage\"}", &s_admin,
                              "SKU-B", NULL),
                      VE_OK);
    const char *extra[] = { "--set", "follow=inventory/0", NULL };
    f->analytics = s_start (f, NULL, extra);
    const vmsg_value_t *v;
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "low_stock", "{}", &s_admin, NULL, &v), VE_OK);
    const vmsg_value_t *items = vmsg_get (v, "items");
    assert_int_equal (vmsg_count (items), 1);
    assert_string_equal (vmsg_str (vmsg_at (items, 0), "sku"), "SKU-B");
    assert_true (vmsg_bool (vmsg_at (items, 0), "sold_out", false));
    //  And it follows live: SKU-A falls to its threshold.
    assert_int_equal (s_call (f, "inventory", "adjust",
                              "{\"sku\":\"SKU-A\",\"delta\":-46,\"reason\":\"stock count\"}",
                              &s_admin, "SKU-A", NULL),
                      VE_OK);
    for (int i = 0; i < 100; i++) {
        varena_reset (f->arena);
        assert_int_equal (s_call (f, "analytics", "low_stock", "{}", &s_admin, NULL, &v), VE_OK);
        if (vmsg_count (vmsg_get (v, "items")) == 2)
            break;
        usleep (100000);
    }
    items = vmsg_get (v, "items");
    assert_int_equal (vmsg_count (items), 2);
    assert_string_equal (vmsg_str (vmsg_at (items, 1), "sku"), "SKU-A");
    assert_int_equal (vmsg_int (vmsg_at (items, 1), "available", -1), 4);
}

//  Counts the export's lines: every manifest's files, decompressed.
static int
s_export_lines (const char *dir, int *files)
{
    char cmd[512], out[64] = "";
    snprintf (cmd, sizeof cmd,
              "ls %s/*/events-*.jsonl.zst 2>/dev/null | wc -l; "
              "cat %s/*/events-*.jsonl.zst 2>/dev/null | zstd -dc 2>/dev/null | wc -l",
              dir, dir);
    FILE *p = popen (cmd, "r");
    int lines = -1;
    if (p && fscanf (p, "%d %d", files, &lines) != 2)
        lines = -1;
    if (p)
        pclose (p);
    (void) out;
    return lines;
}

static void
test_export_files_and_rebuild_from_them (void **state)
{
    fixture_t *f = *state;
    //  Rounds of 4 KiB: however many events an hour holds, a flush's memory stays bounded.
    const char *extra[] = { "--set", "export_every_ms=500", "--set", "export_round_bytes=4096",
                            NULL };
    f->analytics = s_start (f, NULL, extra);
    int64_t now = vbus_now_ms ();
    const int64_t ages[] = { 30000, 2 * 3600000LL };
    enum { N = 200 };
    static s_ev_t ev[N];
    s_gen (ev, N, now, ages, 2);
    s_send_all (f, ev, N, -1, NULL);
    s_count_t all = s_brute (ev, N, -1);
    s_wait_totals (f, &all);
    char exp[120];
    snprintf (exp, sizeof exp, "%s/analytics/export", f->data);
    int files = 0, lines = 0;
    for (int i = 0; i < 100 && (lines = s_export_lines (exp, &files)) != N; i++)
        usleep (100000);
    assert_int_equal (lines, N);
    assert_true (files >= 2);  //  two hours at least
    //  200 lines of ~250 bytes in rounds of 4 KiB: a dozen files or so, each under 4 KiB of
    //  lines plus one line.
    if (files < 8)
        fail_msg ("%d export files: the rounds did not split the hours", files);
    //  No temp file left, a manifest per day.
    char cmd[400];
    snprintf (cmd, sizeof cmd, "test -z \"$(ls %s/*/*.tmp 2>/dev/null)\" && ls %s/*/manifest.json",
              exp, exp);
    assert_int_equal (system (cmd), 0);
    //  A fresh actor (its own data) rebuilt from the files has the same counters.
    assert_int_equal (vit_stop (f->analytics, SIGTERM, 15000), 0);
    char data2[160], imp[300];
    snprintf (data2, sizeof data2, "%s/data2", f->dir);
    snprintf (imp, sizeof imp, "import=%s", exp);
    const char *fresh[] = { "--set", imp, "--set", "export=0", NULL };
    f->analytics = s_start (f, data2, fresh);
    s_count_t got = s_totals (f, NULL);
    if (!s_count_eq (&got, &all)) {
        s_count_print ("want", &all);
        s_count_print ("got ", &got);
        fail_msg ("the rebuilt actor differs");
    }
    s_check_top (f, ev, N, "revenue", "1h", 60);
    //  The same events again on the live stream are already in: nothing doubles.
    s_send_all (f, ev, N, -1, NULL);
    usleep (500000);
    got = s_totals (f, NULL);
    assert_true (s_count_eq (&got, &all));
}


//  ---------------------------------------------------------------- inventory forecast
//  A scripted history on a made-up inventory stream, and the numbers computed here from the
//  sales themselves (not from the actor's running sum): rate = Σ q 2^(-age/H) ln 2 /
//  (H (1 - 2^(-max(T, 1 day)/H))), cover = available / rate, reorder = ceil (rate (lead +
//  safety)) - available when cover < lead. Then a day later (clock_offset_ms), the same.

typedef struct {
    const char *sku;
    int64_t available;
    int nsales;
    int64_t t[4], q[4];
} s_fsku_t;

static double
s_rate (const s_fsku_t *k, int64_t at, double half_life)
{
    if (!k->nsales)
        return 0;
    double sum = 0;
    int64_t first = k->t[0];
    for (int i = 0; i < k->nsales; i++) {
        sum += (double) k->q[i] * exp2 (-(double) (at - k->t[i]) / half_life);
        first = k->t[i] < first ? k->t[i] : first;
    }
    double span = (double) (at - first) < (double) DAY_MS ? (double) DAY_MS : (double) (at - first);
    return sum * log (2.0) / (half_life * (1 - exp2 (-span / half_life))) * (double) DAY_MS;
}

static void
s_check_forecast (fixture_t *f, const s_fsku_t *skus, const int *order, int n)
{
    const double half_life = (double) DAY_MS, lead = 7, safety = 3;
    char cursor[400] = "";
    int seen = 0;
    for (int page = 0; page < 2; page++) {
        char json[500];
        if (*cursor)
            snprintf (json, sizeof json, "{\"limit\":2,\"cursor\":\"%s\"}", cursor);
        else
            snprintf (json, sizeof json, "{\"limit\":2}");
        const vmsg_value_t *v;
        varena_reset (f->arena);
        assert_int_equal (s_call (f, "analytics", "forecast", json, &s_admin, NULL, &v), VE_OK);
        int64_t at = vmsg_int (v, "at", 0);
        const vmsg_value_t *items = vmsg_get (v, "items");
        for (uint32_t i = 0; i < vmsg_count (items); i++, seen++) {
            const vmsg_value_t *it = vmsg_at (items, i);
            const s_fsku_t *k = &skus[order[seen]];
            assert_string_equal (vmsg_str (it, "sku"), k->sku);
            double rate = s_rate (k, at, half_life);
            double got = vmsg_float (it, "rate_per_day", -1);
            if (fabs (got - rate) > 1e-9 * (rate > 1 ? rate : 1))
                fail_msg ("%s: rate %.12f a day, want %.12f", k->sku, got, rate);
            assert_int_equal (vmsg_int (it, "available", -1), k->available);
            assert_int_equal (vmsg_bool (it, "sold_out", false), k->available <= 0);
            double cover = k->available <= 0 ? 0 : rate > 0 ? (double) k->available / rate : -1;
            if (cover < 0)
                assert_false (vmsg_has (it, "days_of_cover"));
            else if (fabs (vmsg_float (it, "days_of_cover", -1) - cover) > 1e-9 * (cover + 1))
                fail_msg ("%s: cover %f days, want %f", k->sku,
                          vmsg_float (it, "days_of_cover", -1), cover);
            int64_t reorder = 0;
            if (rate > 0 && cover < lead)
                reorder = (int64_t) ceil (rate * (lead + safety))
                          - (k->available > 0 ? k->available : 0);
            assert_int_equal (vmsg_int (it, "reorder_qty", -1), reorder);
        }
        const char *next = vmsg_str (v, "next_cursor");
        if (page == 0) {
            assert_non_null (next);
            snprintf (cursor, sizeof cursor, "%s", next);
        }
        else
            assert_null (next);
    }
    assert_int_equal (seen, n);
}

static void
test_inventory_forecast_equals_hand_computed (void **state)
{
    fixture_t *f = *state;
    const char *extra[] = { "--set", "rate_half_life_ms=86400000", NULL };
    f->analytics = s_start (f, NULL, extra);
    int64_t now = vbus_now_ms ();
    //  A sells 8, 4, then 8 (two lines of one SKU) today; B sold out after 3; C slow; D never.
    s_fsku_t skus[] = {
        { "A", 20, 3, { now - 2 * DAY_MS, now - DAY_MS, now }, { 8, 4, 8 } },
        { "B", 0, 1, { now - DAY_MS }, { 3 } },
        { "C", 100, 1, { now - DAY_MS }, { 1 } },
        { "D", 5, 0, { 0 }, { 0 } },
    };
    uint64_t seq = 0;
    char json[600];
    for (int i = 0; i < 4; i++) {
        snprintf (json, sizeof json,
                  "{\"product_id\":\"p-%s\",\"sku\":\"%s\",\"available\":%lld,\"in_stock\":%s}",
                  skus[i].sku, skus[i].sku, (long long) skus[i].available,
                  skus[i].available > 0 ? "true" : "false");
        s_pub (f, "inventory.stock_changed", "tinv/0", ++seq, json);
    }
#define LINE(s, q) "{\"sku\":\"" s "\",\"product_id\":\"p-" s "\",\"qty\":" #q "}"
    const struct {
        const char *lines;
        int64_t at;
    } sold[] = {
        { LINE ("A", 8), now - 2 * DAY_MS },
        { LINE ("A", 4) "," LINE ("B", 3) "," LINE ("C", 1), now - DAY_MS },
        { LINE ("A", 5) "," LINE ("A", 3), now },
    };
#undef LINE
    for (int i = 0; i < 3; i++) {
        snprintf (json, sizeof json, "{\"reservation_id\":\"r%d\",\"lines\":[%s],\"at\":%lld}", i,
                  sold[i].lines, (long long) sold[i].at);
        s_pub (f, "inventory.sold", "tinv/0", ++seq, json);
    }
    //  A taken back and sold again: the rate is as if it never happened.
    snprintf (json, sizeof json,
              "{\"reservation_id\":\"r9\",\"lines\":[{\"sku\":\"C\",\"product_id\":\"p-C\","
              "\"qty\":2}],\"at\":%lld}",
              (long long) (now - DAY_MS / 2));
    s_pub (f, "inventory.sold", "tinv/0", ++seq, json);
    s_pub (f, "inventory.restored", "tinv/0", ++seq, json);
    //  Urgency: B (sold out), A (1.8 days), C (144 days), D (does not sell).
    const int order[] = { 1, 0, 2, 3 };
    for (int i = 0; i < 100; i++) {
        const vmsg_value_t *v;
        varena_reset (f->arena);
        assert_int_equal (s_call (f, "analytics", "forecast", "{}", &s_admin, NULL, &v), VE_OK);
        if (vmsg_count (vmsg_get (v, "items")) == 4 && vmsg_float (vmsg_at (vmsg_get (v, "items"),
                                                                            1), "rate_per_day", 0)
                                                           > 5)
            break;
        usleep (100000);
    }
    s_check_forecast (f, skus, order, 4);
    //  A day later: the rates decay; nothing else changed.
    assert_int_equal (vit_stop (f->analytics, SIGTERM, 15000), 0);
    const char *later[] = { "--set", "rate_half_life_ms=86400000", "--set",
                            "clock_offset_ms=86400000", NULL };
    f->analytics = s_start (f, NULL, later);
    s_check_forecast (f, skus, order, 4);
}

//  ---------------------------------------------------------------- searches
//  analytics.searches: the searches with results shoppers ran most, as written in a table of
//  16 (searches_capacity): spellings of one search count as one, a search that found nothing
//  is not counted, 40 searches run once each pass through the table without pushing the
//  frequent ones out or being reported as frequent, the table survives a restart, its counts
//  halve after a half-life, and the store keeps no more than the table.
static void
s_check_searches (fixture_t *f, double decay)
{
    const vmsg_value_t *v = NULL;
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "searches", "{\"min_count\":1.5}", &s_admin, NULL,
                              &v),
                      VE_OK);
    const vmsg_value_t *q = vmsg_get (v, "queries");
    assert_int_equal (vmsg_count (q), 2);
    assert_string_equal (vmsg_str (vmsg_at (q, 0), "q"), "oak table");
    assert_string_equal (vmsg_str (vmsg_at (q, 1), "q"), "lamp");
    double oak = vmsg_float (vmsg_at (q, 0), "count", 0);
    double lamp = vmsg_float (vmsg_at (q, 1), "count", 0);
    assert_true (oak <= 6 * decay * 1.001 && oak >= 6 * decay * 0.99);
    assert_true (lamp <= 4 * decay * 1.001 && lamp >= 4 * decay * 0.99);
    //  Everything the table holds: never more than its capacity.
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "searches", "{\"min_count\":0,\"limit\":5000}",
                              &s_admin, NULL, &v),
                      VE_OK);
    q = vmsg_get (v, "queries");
    assert_true (vmsg_count (q) <= 16);
    for (uint32_t i = 0; i < vmsg_count (q); i++)
        assert_string_not_equal (vmsg_str (vmsg_at (q, i), "q"), "nothing here");
}

static void
test_searches_most_frequent (void **state)
{
    fixture_t *f = *state;
    const char *extra[] = { "--set", "searches_capacity=16", "--set",
                            "searches_half_life_ms=86400000", NULL };
    f->analytics = s_start (f, NULL, extra);
    const char *const frequent[] = { "Oak Table", "lamp",        "oak  table", "velvet sofa",
                                     "lamp",      " oak table ", "Lamp",       "OAK TABLE",
                                     "velvet sofa", "oak table", "lamp",       "oak\\ttable" };
    uint64_t seq = 0;
    char json[200];
    for (size_t i = 0; i < sizeof frequent / sizeof *frequent; i++) {
        snprintf (json, sizeof json, "{\"q\":\"%s\",\"results\":12}", frequent[i]);
        s_pub (f, "search.performed", "edge-s/0", ++seq, json);
    }
    for (int i = 0; i < 5; i++)
        s_pub (f, "search.performed", "edge-s/0", ++seq, "{\"q\":\"nothing here\",\"results\":0}");
    s_pub (f, "search.performed", "edge-s/0", ++seq, "{\"q\":\"   \",\"results\":3}");
    for (int i = 0; i < 40; i++) {
        snprintf (json, sizeof json, "{\"q\":\"rare %d\",\"results\":1}", i);
        s_pub (f, "search.performed", "edge-s/0", ++seq, json);
    }
    //  Wait until the last is applied (the searches counter), then check.
    for (int i = 0; i < 100; i++) {
        const vmsg_value_t *v = NULL;
        varena_reset (f->arena);
        assert_int_equal (s_call (f, "analytics", "searches", "{\"min_count\":0,\"limit\":5000}",
                                  &s_admin, NULL, &v),
                          VE_OK);
        const vmsg_value_t *q = vmsg_get (v, "queries");
        bool last = false;
        for (uint32_t k = 0; k < vmsg_count (q) && !last; k++)
            last = strcmp (vmsg_str (vmsg_at (q, k), "q"), "rare 39") == 0;
        if (last)
            break;
        usleep (50000);
    }
    s_check_searches (f, 1);
    //  The same after a restart, in a larger table that loads all the store holds: what was
    //  pushed out is gone from the store too.
    assert_int_equal (vit_stop (f->analytics, SIGTERM, 15000), 0);
    const char *larger[] = { "--set", "searches_capacity=1000", "--set",
                             "searches_half_life_ms=86400000", NULL };
    f->analytics = s_start (f, NULL, larger);
    s_check_searches (f, 1);
    //  Halved a half-life later.
    assert_int_equal (vit_stop (f->analytics, SIGTERM, 15000), 0);
    const char *later[] = { "--set", "searches_capacity=16", "--set",
                            "searches_half_life_ms=86400000", "--set",
                            "clock_offset_ms=86400000", NULL };
    f->analytics = s_start (f, NULL, later);
    s_check_searches (f, 0.5);
}

//  ---------------------------------------------------------------- poison events
//  Garbage bodies, bodies that break their topic's schema and unknown topics, among good
//  events on one stream: each is counted and skipped (and logged), and the good ones after
//  them are counted as usual.
static void
test_malformed_and_unknown_events_are_counted_and_skipped (void **state)
{
    fixture_t *f = *state;
    f->analytics = s_start (f, NULL, NULL);
    char good[400];
    snprintf (good, sizeof good,
              "{\"order_id\":\"u.1\",\"user_id\":\"u\",\"lines\":[{\"product_id\":\"p-oak\","
              "\"sku\":\"S\",\"title\":\"T\",\"qty\":1,\"unit_price\":500,\"line_total\":500}],"
              "\"subtotal\":500,\"total\":500,\"currency\":\"EUR\",\"at\":%lld}",
              (long long) vbus_now_ms ());
    const char garbage[] = "\xc1\xff\x00garbage";
    vbuf_t wrong;  //  msgpack, but not an order: {"foo": 1}
    vbuf_init (&wrong, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, "{\"foo\":1}", 9, &wrong, NULL, 0), 0);
    s_pub (f, "order.confirmed", "tbad/0", 1, good);
    assert_int_equal (vbus_pub_send (f->pub, "order.confirmed", "tbad/0", 2, garbage,
                                     sizeof garbage - 1), 0);
    assert_int_equal (vbus_pub_send (f->pub, "order.confirmed", "tbad/0", 3, wrong.data, wrong.len),
                      0);
    assert_int_equal (vbus_pub_send (f->pub, "order.bogus", "tbad/0", 4, wrong.data, wrong.len), 0);
    assert_int_equal (vbus_pub_send (f->pub, "inventory.nonsense", "tbad/0", 5, garbage,
                                     sizeof garbage - 1), 0);
    s_pub (f, "order.confirmed", "tbad/0", 6, good);
    s_pub (f, "order.confirmed", "tbad/0", 7, good);
    vbuf_free (&wrong);
    s_count_t want = { .confirmed = 3 };
    for (int i = 0; i < 150; i++) {
        s_count_t got = s_totals (f, NULL);
        if (got.confirmed == want.confirmed)
            break;
        usleep (100000);
    }
    char json[200];
    int64_t now = vbus_now_ms ();
    snprintf (json, sizeof json, "{\"bucket\":\"day\",\"from_ms\":%lld,\"to_ms\":%lld}",
              (long long) (now - 86400000LL), (long long) (now + 86400000LL));
    const vmsg_value_t *v;
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "summary", json, &s_admin, NULL, &v), VE_OK);
    uint64_t confirmed = 0;
    for (uint32_t i = 0; i < vmsg_count (vmsg_get (v, "series")); i++)
        confirmed += vmsg_uint (vmsg_at (vmsg_get (v, "series"), i), "confirmed", 0);
    assert_int_equal (confirmed, 3);
    assert_int_equal (vmsg_uint (v, "events_malformed", 0), 3);  //  #2, #3, #5
    assert_int_equal (vmsg_uint (v, "events_unknown", 0), 1);    //  #4
    //  The counters are kept across a restart.
    assert_int_equal (vit_stop (f->analytics, SIGTERM, 15000), 0);
    f->analytics = s_start (f, NULL, NULL);
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "analytics", "summary", json, &s_admin, NULL, &v), VE_OK);
    assert_int_equal (vmsg_uint (v, "events_malformed", 0), 3);
    assert_int_equal (vmsg_uint (v, "events_unknown", 0), 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_counters_per_minute_equal_brute_force, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_exactly_once_across_kill_and_redelivery, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_edge_gap_is_counted_and_does_not_stall, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_top_n_per_window_equals_brute_force, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_live_event_once_a_second, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_inventory_forecast_equals_hand_computed, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_searches_most_frequent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_malformed_and_unknown_events_are_counted_and_skipped,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_late_start_catches_up_from_retention, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_export_files_and_rebuild_from_them, s_setup,
                                         s_teardown),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("analytics", tests, NULL, NULL);
}
