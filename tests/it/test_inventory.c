//  test_inventory.c — the inventory actor end to end: a real broker and two vitrine-inventory
//  processes owning different partitions (a: 0-3, b: 4-7) on a temporary data directory.
//  Stock, all-or-nothing and idempotent reservations, their transitions, 300 racing
//  reservations for 100 units, expiry with the injectable clock, events, bad input, kill -9.
#define _XOPEN_SOURCE 700
#include "vit.h"
#include "vmsg.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P 8  //  the service's partitions

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    varena_t *arena;
    char dir[64];
    pid_t a, b;  //  a owns 0-3, b owns 4-7
} fixture_t;

static fixture_t s_f;

static const vbus_caller_t s_admin = { "admin-1", VBUS_ROLE_ADMIN };
static const vbus_caller_t s_orders = { "orders", VBUS_ROLE_SERVICE };
static const vbus_caller_t s_customer = { "user-1", VBUS_ROLE_CUSTOMER };
static const vbus_caller_t s_anonymous = { "", 0 };

//  ---------------------------------------------------------------- processes
//  Starts the process owning partitions 0-3 (which 'a') or 4-7 ('b'), with an extra setting.
static pid_t
s_start (fixture_t *f, char which, const char *setting)
{
    char data[128];
    snprintf (data, sizeof data, "%s/data", f->dir);
    const char *owns = which == 'a' ? "0,1,2,3" : "4,5,6,7";
    const char *name = which == 'a' ? "inventory-a" : "inventory-b";
    const char *args[] = { "--data", data, "--partitions",           "8",     "--owns", owns,
                           "--name", name, setting ? "--set" : NULL, setting, NULL };
    return vit_actor_start (&f->broker, "vitrine-inventory", "inventory", args, 20000);
}

static void s_wait_partition (fixture_t *f, uint32_t partition);

//  Stops a process (SIGTERM: it must exit 0; SIGKILL: as a crash) and starts it again.
static void
s_restart (fixture_t *f, char which, int sig, const char *setting)
{
    pid_t *pid = which == 'a' ? &f->a : &f->b;
    int rc = vit_stop (*pid, sig, 10000);
    assert_int_equal (rc, sig == SIGKILL ? 128 + SIGKILL : 0);
    *pid = s_start (f, which, setting);
    assert_true (*pid > 0);
    s_wait_partition (f, which == 'a' ? 0 : 4);
}

static int
s_group_setup (void **state)
{
    fixture_t *f = &s_f;
    if (vit_tmpdir ("test_it_inventory", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0)
        return -1;
    f->client = vbus_client_new (f->broker.endpoint, 10000);
    f->arena = varena_new (0);
    f->a = s_start (f, 'a', NULL);
    f->b = f->a > 0 ? s_start (f, 'b', NULL) : -1;
    *state = f;
    if (f->b <= 0 || vit_wait_workers (&f->broker, "inventory", 2, 20000) != 0) {
        if (f->a > 0)
            vit_stop (f->a, SIGKILL, 2000);
        if (f->b > 0)
            vit_stop (f->b, SIGKILL, 2000);
        vit_stop (f->broker.pid, SIGKILL, 2000);  //  nothing is left running when setup fails
        return -1;
    }
    return 0;
}

static int
s_group_teardown (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (vit_stop (f->a, SIGTERM, 10000), 0);  //  clean exits on SIGTERM
    assert_int_equal (vit_stop (f->b, SIGTERM, 10000), 0);
    vbus_client_destroy (&f->client);
    vit_stop (f->broker.pid, SIGTERM, 5000);
    varena_destroy (&f->arena);
    assert_int_equal (vit_rmtree (f->dir), 0);  //  nothing left behind
    return 0;
}

//  ---------------------------------------------------------------- SKUs and partitions
//  A fresh SKU "<prefix>-<n>" that lives in partition p.
static void
s_sku (char *out, size_t size, const char *prefix, uint32_t p)
{
    for (int n = 0;; n++) {
        snprintf (out, size, "%s-%d", prefix, n);
        if (vbus_partition (out, strlen (out), P) == p)
            return;
    }
}

//  ---------------------------------------------------------------- calls
typedef struct {
    const char *key;  //  keyed by sku
    int partition;    //  >= 0: sent to this partition
    const vbus_caller_t *caller;
    bool raw;  //  the body is not checked against the schema here (bad input tests)
} s_how_t;

static vbus_msg_t *
s_call (fixture_t *f, const char *method, const char *json, s_how_t how)
{
    const vmsg_method_t *m = vmsg_method_find ("inventory", method);
    assert_non_null (m);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (how.raw ? NULL : m->request, json, strlen (json), &body, err,
                              sizeof err)
        != 0)
        fail_msg ("inventory.%s: bad test body %s: %s", method, json, err);
    vbus_opts_t opts = { .caller = how.caller ? how.caller : &s_orders,
                         .timeout_ms = 10000,
                         .key = how.key,
                         .to_partition = how.partition >= 0,
                         .partition = how.partition >= 0 ? (uint32_t) how.partition : 0 };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, "inventory", method, body.data, body.len, &opts, &reply), 0);
    vbuf_free (&body);
    return reply;
}

//  The reply's body, checked against the method's reply schema; frees the reply.
static const vmsg_value_t *
s_body (fixture_t *f, const char *method, vbus_msg_t *reply)
{
    if (reply->status != VE_OK)
        fail_msg ("inventory.%s: %s: %s", method, verr_name (reply->status), reply->message);
    const vmsg_method_t *m = vmsg_method_find ("inventory", method);
    const vmsg_value_t *v = NULL;
    char err[256] = "";
    if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, &v, err, sizeof err))
        fail_msg ("inventory.%s reply does not match its schema: %s", method, err);
    vbus_msg_destroy (&reply);
    return v;
}

static const vmsg_value_t *
s_ok (fixture_t *f, const char *method, const char *json, s_how_t how)
{
    return s_body (f, method, s_call (f, method, json, how));
}

static void
s_expect (fixture_t *f, const char *method, const char *json, s_how_t how, int status,
          const char *message_part)
{
    vbus_msg_t *reply = s_call (f, method, json, how);
    if (reply->status != status)
        fail_msg ("inventory.%s %s: expected %s, got %s: %s", method, json, verr_name (status),
                  verr_name (reply->status), reply->message);
    if (message_part && !strstr (reply->message, message_part))
        fail_msg ("inventory.%s: message '%s' does not say '%s'", method, reply->message,
                  message_part);
    vbus_msg_destroy (&reply);
}

static s_how_t
s_keyed (const char *sku)
{
    return (s_how_t) { .key = sku, .partition = -1 };
}

static s_how_t
s_to (uint32_t partition)
{
    return (s_how_t) { .partition = (int) partition };
}

static uint32_t
s_part (const char *sku)
{
    return vbus_partition (sku, strlen (sku), P);
}

typedef struct {
    int64_t on_hand, reserved, available, low_threshold;
    bool in_stock;
} s_stock_t;

static s_stock_t
s_get (fixture_t *f, const char *sku)
{
    char json[300];
    snprintf (json, sizeof json, "{\"sku\":\"%s\"}", sku);
    const vmsg_value_t *v = s_ok (f, "get", json, s_keyed (sku));
    assert_string_equal (vmsg_str (v, "sku"), sku);
    s_stock_t s = { vmsg_int (v, "on_hand", -1), vmsg_int (v, "reserved", -1),
                    vmsg_int (v, "available", -1), vmsg_int (v, "low_threshold", -1),
                    vmsg_bool (v, "in_stock", false) };
    //  The invariants, on every look.
    assert_true (s.reserved >= 0 && s.reserved <= s.on_hand);
    assert_int_equal (s.available, s.on_hand - s.reserved);
    assert_int_equal (s.in_stock, s.available > 0);
    return s;
}

static void
s_assert_stock (fixture_t *f, const char *sku, int64_t on_hand, int64_t reserved)
{
    s_stock_t s = s_get (f, sku);
    if (s.on_hand != on_hand || s.reserved != reserved)
        fail_msg ("%s: on hand %lld reserved %lld, expected %lld and %lld", sku,
                  (long long) s.on_hand, (long long) s.reserved, (long long) on_hand,
                  (long long) reserved);
}

static void
s_restock (fixture_t *f, const char *sku, int qty)
{
    char json[400];
    snprintf (json, sizeof json,
              "{\"sku\":\"%s\",\"product_id\":\"p-%s\",\"qty\":%d,\"reason\":\"received\"}", sku,
              sku, qty);
    s_ok (f, "restock", json, (s_how_t) { .key = sku, .partition = -1, .caller = &s_admin });
}

//  reserve: one line per (sku, qty) pair; returns the reply (in the arena).
static const vmsg_value_t *
s_reserve (fixture_t *f, const char *id, int ttl_ms, int nlines, ...)
{
    char json[2048];
    int len = snprintf (json, sizeof json, "{\"reservation_id\":\"%s\",\"lines\":[", id);
    va_list ap;
    va_start (ap, nlines);
    uint32_t partition = 0;
    for (int i = 0; i < nlines; i++) {
        const char *sku = va_arg (ap, const char *);
        int qty = va_arg (ap, int);
        partition = s_part (sku);
        len += snprintf (json + len, sizeof json - (size_t) len, "%s{\"sku\":\"%s\",\"qty\":%d}",
                         i ? "," : "", sku, qty);
    }
    va_end (ap);
    if (ttl_ms)
        snprintf (json + len, sizeof json - (size_t) len, "],\"ttl_ms\":%d}", ttl_ms);
    else
        snprintf (json + len, sizeof json - (size_t) len, "]}");
    return s_ok (f, "reserve", json, s_to (partition));
}

static const vmsg_value_t *
s_by_id (fixture_t *f, const char *method, const char *id, uint32_t partition)
{
    char json[300];
    snprintf (json, sizeof json, "{\"reservation_id\":\"%s\"}", id);
    return s_ok (f, method, json, s_to (partition));
}

static void
s_by_id_expect (fixture_t *f, const char *method, const char *id, uint32_t partition, int status,
                const char *message_part)
{
    char json[300];
    snprintf (json, sizeof json, "{\"reservation_id\":\"%s\"}", id);
    s_expect (f, method, json, s_to (partition), status, message_part);
}

//  Waits (10 s at most) until the process owning the partition answers: after a restart the
//  broker may still route to the old one until its heartbeats run out.
static void
s_wait_partition (fixture_t *f, uint32_t partition)
{
    char sku[64];
    s_sku (sku, sizeof sku, "probe", partition);
    char json[100];
    snprintf (json, sizeof json, "{\"sku\":\"%s\"}", sku);
    for (int i = 0; i < 100; i++) {
        vbus_msg_t *reply = NULL;
        vbus_opts_t opts = { .key = sku, .timeout_ms = 500 };
        vbuf_t body;
        vbuf_init (&body, NULL, 0);
        assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
        int rc =
            vbus_client_call (f->client, "inventory", "get", body.data, body.len, &opts, &reply);
        vbuf_free (&body);
        bool up = rc == 0 && reply->status == VE_NOT_FOUND;
        vbus_msg_destroy (&reply);
        if (up)
            return;
        usleep (100000);
    }
    fail_msg ("partition %u does not answer", partition);
}

//  ---------------------------------------------------------------- events
static vbus_sub_t *
s_subscribe (fixture_t *f)
{
    const char *topics[] = { "inventory.", NULL };
    vbus_sub_t *sub = vbus_sub_new (f->broker.sub, topics);
    assert_non_null (sub);
    usleep (300000);  //  the subscription reaches the broker before the events go out
    return sub;
}

//  Set while a test checks that an event does not happen: s_next_event fails when it skips
//  an event of this topic about this SKU.
static const char *s_forbidden_topic, *s_forbidden_sku;

//  The next event on topic about sku (or reservation id), skipping others; fails after 5 s.
static const vmsg_value_t *
s_next_event (fixture_t *f, vbus_sub_t *sub, const char *topic, const char *field,
              const char *value)
{
    int64_t deadline = vbus_now_ms () + 5000;
    while (vbus_now_ms () < deadline) {
        vbus_event_t ev;
        if (vbus_sub_recv (sub, &ev, 200) != 0)
            continue;
        bool forbidden = s_forbidden_topic && strcmp (ev.topic, s_forbidden_topic) == 0;
        if (strcmp (ev.topic, topic) != 0 && !forbidden)
            continue;
        const vmsg_value_t *body = NULL;
        char err[256] = "";
        if (vmsg_decode (vmsg_event_find (ev.topic)->schema, ev.body, ev.body_len, f->arena, &body,
                         err, sizeof err))
            fail_msg ("%s breaks its schema: %s", ev.topic, err);
        assert_non_null (strstr (ev.stream, "inventory/"));
        const char *about = vmsg_str (body, field), *sku = vmsg_str (body, "sku");
        if (strcmp (ev.topic, topic) == 0 && about && strcmp (about, value) == 0)
            return body;
        if (forbidden && sku && strcmp (sku, s_forbidden_sku) == 0)
            fail_msg ("%s for %s: not expected here", ev.topic, s_forbidden_sku);
    }
    fail_msg ("no %s for %s", topic, value);
    return NULL;
}

//  ---------------------------------------------------------------- tests
static void
test_restock_and_get (void **state)
{
    fixture_t *f = *state;
    char sku[64];
    s_sku (sku, sizeof sku, "chair", 2);
    s_how_t admin = { .key = sku, .partition = -1, .caller = &s_admin };
    char json[400];
    snprintf (json, sizeof json, "{\"sku\":\"%s\"}", sku);
    s_expect (f, "get", json, s_keyed (sku), VE_NOT_FOUND, "sku: '");

    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"qty\":5,\"reason\":\"received\"}", sku);
    s_expect (f, "restock", json, admin, VE_BAD_REQUEST, "product_id: required");
    snprintf (json, sizeof json,
              "{\"sku\":\"%s\",\"product_id\":\"p-chair\",\"qty\":5,\"reason\":\"received\"}", sku);
    const vmsg_value_t *v = s_ok (f, "restock", json, admin);
    assert_string_equal (vmsg_str (v, "product_id"), "p-chair");
    assert_int_equal (vmsg_int (v, "on_hand", 0), 5);
    //  Again, without the product: it is remembered; stock adds up.
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"qty\":7,\"reason\":\"received\"}", sku);
    assert_int_equal (vmsg_int (s_ok (f, "restock", json, admin), "available", 0), 12);
    snprintf (json, sizeof json,
              "{\"sku\":\"%s\",\"product_id\":\"p-other\",\"qty\":1,\"reason\":\"received\"}", sku);
    s_expect (f, "restock", json, admin, VE_CONFLICT, "belongs to product 'p-chair'");

    //  Anyone may look (the storefront shows stock).
    snprintf (json, sizeof json, "{\"sku\":\"%s\"}", sku);
    v = s_ok (f, "get", json, (s_how_t) { .key = sku, .partition = -1, .caller = &s_anonymous });
    assert_int_equal (vmsg_int (v, "on_hand", 0), 12);
    assert_int_equal (vmsg_int (v, "reserved", -1), 0);
    assert_true (vmsg_bool (v, "in_stock", false));

    //  A request keyed by something else than its sku lands on another partition: refused.
    char other[64];
    s_sku (other, sizeof other, "elsewhere", 6);
    s_expect (f, "get", json, s_keyed (other), VE_BAD_REQUEST,
              "sku: belongs to partition 2, not 6");

    //  adjust: down to a count, with its reason; threshold.
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"delta\":-2,\"reason\":\"stock count\"}", sku);
    assert_int_equal (vmsg_int (s_ok (f, "adjust", json, admin), "on_hand", 0), 10);
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"low_threshold\":3}", sku);
    assert_int_equal (vmsg_int (s_ok (f, "set_threshold", json, admin), "low_threshold", 0), 3);
    s_assert_stock (f, sku, 10, 0);
}

static void
test_reserve_all_or_nothing (void **state)
{
    fixture_t *f = *state;
    char x[64], y[64], never[64], far[64];
    s_sku (x, sizeof x, "lamp", 1);
    s_sku (y, sizeof y, "vase", 1);
    s_sku (never, sizeof never, "ghost", 1);
    s_sku (far, sizeof far, "rug", 5);
    s_restock (f, x, 5);
    s_restock (f, y, 2);

    //  y is short: nothing is reserved, not even x's three.
    const vmsg_value_t *v = s_reserve (f, "aon-1", 0, 2, x, 3, y, 3);
    assert_string_equal (vmsg_str (v, "state"), "short");
    const vmsg_value_t *shortage = vmsg_get (v, "short");
    assert_int_equal (vmsg_count (shortage), 1);
    assert_string_equal (vmsg_str (vmsg_at (shortage, 0), "sku"), y);
    assert_int_equal (vmsg_int (vmsg_at (shortage, 0), "requested", 0), 3);
    assert_int_equal (vmsg_int (vmsg_at (shortage, 0), "available", -1), 2);
    s_assert_stock (f, x, 5, 0);
    s_assert_stock (f, y, 2, 0);

    //  A SKU never stocked is short with nothing available.
    v = s_reserve (f, "aon-2", 0, 2, x, 1, never, 1);
    assert_string_equal (vmsg_str (v, "state"), "short");
    assert_string_equal (vmsg_str (vmsg_at (vmsg_get (v, "short"), 0), "sku"), never);
    assert_int_equal (vmsg_int (vmsg_at (vmsg_get (v, "short"), 0), "available", -1), 0);
    s_assert_stock (f, x, 5, 0);

    //  Nothing was stored: after a restock the same id succeeds.
    s_restock (f, y, 1);
    v = s_reserve (f, "aon-1", 0, 2, x, 3, y, 3);
    assert_string_equal (vmsg_str (v, "state"), "reserved");
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 2);
    assert_true (vmsg_int (v, "expires_at", 0) > vbus_now_ms () + 800000);  //  15 min default
    s_assert_stock (f, x, 5, 3);
    s_assert_stock (f, y, 3, 3);

    //  Every line's SKU must live in the partition the request went to.
    char json[400];
    snprintf (json, sizeof json,
              "{\"reservation_id\":\"aon-3\",\"lines\":[{\"sku\":\"%s\",\"qty\":1},"
              "{\"sku\":\"%s\",\"qty\":1}]}",
              x, far);
    s_expect (f, "reserve", json, s_to (1), VE_BAD_REQUEST,
              "lines[1].sku: belongs to partition 5, not 1");
    snprintf (json, sizeof json,
              "{\"reservation_id\":\"aon-3\",\"lines\":[{\"sku\":\"%s\",\"qty\":1},"
              "{\"sku\":\"%s\",\"qty\":1}]}",
              x, x);
    s_expect (f, "reserve", json, s_to (1), VE_BAD_REQUEST, "lines[1].sku: '");
    s_assert_stock (f, x, 5, 3);
}

static void
test_reserve_is_idempotent (void **state)
{
    fixture_t *f = *state;
    char x[64];
    s_sku (x, sizeof x, "desk", 3);
    s_restock (f, x, 10);
    assert_string_equal (vmsg_str (s_reserve (f, "idem-1", 0, 1, x, 4), "state"), "reserved");
    const vmsg_value_t *again = s_reserve (f, "idem-1", 0, 1, x, 4);
    assert_string_equal (vmsg_str (again, "state"), "reserved");
    s_assert_stock (f, x, 10, 4);  //  not twice
    char json[300];
    snprintf (json, sizeof json,
              "{\"reservation_id\":\"idem-1\",\"lines\":[{\"sku\":\"%s\",\"qty\":5}]}", x);
    s_expect (f, "reserve", json, s_to (3), VE_CONFLICT, "other lines");
    s_assert_stock (f, x, 10, 4);
    //  Once sold, a retry of the reserve answers sold.
    assert_string_equal (vmsg_str (s_by_id (f, "commit", "idem-1", 3), "state"), "sold");
    assert_string_equal (vmsg_str (s_reserve (f, "idem-1", 0, 1, x, 4), "state"), "sold");
    s_assert_stock (f, x, 6, 0);
}

static void
test_commit_release_restore (void **state)
{
    fixture_t *f = *state;
    char x[64];
    s_sku (x, sizeof x, "sofa", 4);  //  process b
    uint32_t p = 4;
    s_restock (f, x, 10);

    //  reserved → sold → restored, each idempotent.
    s_reserve (f, "tr-1", 0, 1, x, 3);
    s_assert_stock (f, x, 10, 3);
    const vmsg_value_t *v = s_by_id (f, "commit", "tr-1", p);
    assert_string_equal (vmsg_str (v, "state"), "sold");
    assert_string_equal (vmsg_str (v, "reservation_id"), "tr-1");
    s_assert_stock (f, x, 7, 0);
    assert_string_equal (vmsg_str (s_by_id (f, "commit", "tr-1", p), "state"), "sold");
    s_assert_stock (f, x, 7, 0);
    s_by_id_expect (f, "release", "tr-1", p, VE_CONFLICT, "was sold");
    assert_string_equal (vmsg_str (s_by_id (f, "restore", "tr-1", p), "state"), "restored");
    s_assert_stock (f, x, 10, 0);
    assert_string_equal (vmsg_str (s_by_id (f, "restore", "tr-1", p), "state"), "restored");
    s_assert_stock (f, x, 10, 0);
    s_by_id_expect (f, "commit", "tr-1", p, VE_CONFLICT, "restored");

    //  reserved → released: the units come back; no sale after.
    s_reserve (f, "tr-2", 0, 1, x, 4);
    s_assert_stock (f, x, 10, 4);
    assert_string_equal (vmsg_str (s_by_id (f, "release", "tr-2", p), "state"), "released");
    s_assert_stock (f, x, 10, 0);
    assert_string_equal (vmsg_str (s_by_id (f, "release", "tr-2", p), "state"), "released");
    s_assert_stock (f, x, 10, 0);
    s_by_id_expect (f, "commit", "tr-2", p, VE_CONFLICT, "reservation 'tr-2' was released");
    s_by_id_expect (f, "restore", "tr-2", p, VE_CONFLICT, "not sold");

    //  A release that overtakes its reserve: the late reserve holds nothing.
    v = s_by_id (f, "release", "tr-3", p);
    assert_string_equal (vmsg_str (v, "state"), "released");
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 0);
    v = s_reserve (f, "tr-3", 0, 1, x, 2);
    assert_string_equal (vmsg_str (v, "state"), "released");
    s_assert_stock (f, x, 10, 0);
    s_by_id_expect (f, "commit", "tr-3", p, VE_CONFLICT, "was released");

    //  Unknown ids, and the reservation's partition is where it lives.
    s_by_id_expect (f, "commit", "tr-none", p, VE_NOT_FOUND, "reservation_id: no reservation");
    s_by_id_expect (f, "restore", "tr-none", p, VE_NOT_FOUND, "reservation_id");
    s_reserve (f, "tr-4", 0, 1, x, 1);
    s_by_id_expect (f, "restore", "tr-4", p, VE_CONFLICT, "is reserved, not sold");
    s_by_id_expect (f, "commit", "tr-4", 5, VE_NOT_FOUND, "in partition 5");
    assert_string_equal (vmsg_str (s_by_id (f, "release", "tr-4", p), "state"), "released");
    s_assert_stock (f, x, 10, 0);
}

//  ---------------------------------------------------------------- the race
typedef struct {
    int done, reserved, shorted, other;
    char state[300][16];
} s_race_t;

typedef struct {
    s_race_t *race;
    int index;
    fixture_t *f;
} s_race_call_t;

static void
s_race_reply (const vbus_reply_t *reply, void *arg)
{
    s_race_call_t *c = arg;
    c->race->done++;
    if (reply->status != VE_OK) {
        c->race->other++;
        return;
    }
    varena_t *arena = varena_new (0);
    const vmsg_value_t *v = NULL;
    if (vmsg_decode (vmsg_method_find ("inventory", "reserve")->reply, reply->body, reply->body_len,
                     arena, &v, NULL, 0)
        == 0) {
        const char *st = vmsg_str (v, "state");
        snprintf (c->race->state[c->index], sizeof c->race->state[0], "%s", st);
        c->race->reserved += strcmp (st, "reserved") == 0;
        c->race->shorted += strcmp (st, "short") == 0;
    }
    else
        c->race->other++;
    varena_destroy (&arena);
}

static void
test_race_for_100_units (void **state)
{
    fixture_t *f = *state;
    char x[64];
    s_sku (x, sizeof x, "limited", 6);  //  process b
    s_restock (f, x, 100);
    vbus_sub_t *sub = s_subscribe (f);

    //  300 single-unit reservations from 3 clients, up to 32 in flight each.
    enum { CLIENTS = 3, EACH = 100, WINDOW = 32 };
    static s_race_t race;
    memset (&race, 0, sizeof race);
    static s_race_call_t calls[CLIENTS * EACH];
    vbus_client_t *clients[CLIENTS];
    int sent[CLIENTS] = { 0 };
    for (int c = 0; c < CLIENTS; c++)
        clients[c] = vbus_client_new (f->broker.endpoint, 20000);
    int64_t deadline = vbus_now_ms () + 60000;
    while (race.done < CLIENTS * EACH && vbus_now_ms () < deadline) {
        for (int c = 0; c < CLIENTS; c++) {
            while (sent[c] < EACH && (int) vbus_client_pending (clients[c]) < WINDOW) {
                int i = c * EACH + sent[c]++;
                calls[i] = (s_race_call_t) { &race, i, f };
                char json[300];
                snprintf (json, sizeof json,
                          "{\"reservation_id\":\"race-%d\",\"lines\":[{\"sku\":\"%s\",\"qty\":1}],"
                          "\"ttl_ms\":600000}",
                          i, x);
                vbuf_t body;
                vbuf_init (&body, NULL, 0);
                assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0),
                                  0);
                vbus_opts_t opts = { .caller = &s_orders, .to_partition = true, .partition = 6 };
                assert_int_equal (vbus_client_send (clients[c], "inventory", "reserve", body.data,
                                                    body.len, &opts, s_race_reply, &calls[i], NULL),
                                  0);
                vbuf_free (&body);
            }
            vbus_client_poll (clients[c], 5);
        }
    }
    for (int c = 0; c < CLIENTS; c++)
        vbus_client_destroy (&clients[c]);
    assert_int_equal (race.done, CLIENTS * EACH);
    assert_int_equal (race.other, 0);
    assert_int_equal (race.reserved, 100);  //  exactly the units there were
    assert_int_equal (race.shorted, 200);
    s_assert_stock (f, x, 100, 100);

    //  Half sold, half given back.
    int committed = 0, released = 0;
    for (int i = 0; i < CLIENTS * EACH; i++) {
        if (strcmp (race.state[i], "reserved") != 0)
            continue;
        char id[32];
        snprintf (id, sizeof id, "race-%d", i);
        if (committed < 50) {
            assert_string_equal (vmsg_str (s_by_id (f, "commit", id, 6), "state"), "sold");
            committed++;
        }
        else {
            assert_string_equal (vmsg_str (s_by_id (f, "release", id, 6), "state"), "released");
            released++;
        }
    }
    assert_int_equal (committed, 50);
    assert_int_equal (released, 50);
    s_assert_stock (f, x, 50, 0);

    //  Every availability the stream reported was 0..100, and the last one is 50.
    int64_t last = -1;
    int seen = 0;
    vbus_event_t ev;
    while (vbus_sub_recv (sub, &ev, 500) == 0) {
        if (strcmp (ev.topic, "inventory.stock_changed") != 0)
            continue;
        const vmsg_value_t *body = NULL;
        assert_int_equal (vmsg_decode (vmsg_event_find (ev.topic)->schema, ev.body, ev.body_len,
                                       f->arena, &body, NULL, 0),
                          0);
        if (strcmp (vmsg_str (body, "sku"), x) != 0)
            continue;
        last = vmsg_int (body, "available", -1);
        assert_true (last >= 0 && last <= 100);
        seen++;
    }
    assert_int_equal (last, 50);
    assert_int_equal (seen, 100 + 50);  //  one per reserve and per release; a sale keeps it
    vbus_sub_destroy (&sub);
}

//  ---------------------------------------------------------------- expiry
static void
test_expiry_releases_exactly_the_abandoned_units (void **state)
{
    fixture_t *f = *state;
    char x[64], y[64], z[64];
    s_sku (x, sizeof x, "shelf", 0);   //  process a
    s_sku (y, sizeof y, "stool", 0);   //  process a
    s_sku (z, sizeof z, "mirror", 7);  //  process b
    s_restock (f, x, 10);
    s_restock (f, y, 10);
    s_restock (f, z, 10);
    vbus_sub_t *sub = s_subscribe (f);

    //  Two abandoned reservations, one sold, one live for a day.
    s_reserve (f, "exp-1", 60000, 2, x, 3, y, 1);
    s_reserve (f, "exp-2", 60000, 1, x, 2);
    s_reserve (f, "exp-3", 60000, 1, x, 1);
    s_by_id (f, "commit", "exp-3", 0);
    s_reserve (f, "exp-4", 86400000, 1, y, 4);
    s_assert_stock (f, x, 9, 5);
    s_assert_stock (f, y, 10, 5);

    //  A minute later (the injectable clock, through a restart): the sweep gives back exactly
    //  the units of exp-1 and exp-2.
    s_restart (f, 'a', SIGTERM, "clock_offset_ms=61000");
    int64_t deadline = vbus_now_ms () + 5000;
    while (s_get (f, x).reserved != 0 && vbus_now_ms () < deadline)
        usleep (100000);
    s_assert_stock (f, x, 9, 0);
    s_assert_stock (f, y, 10, 4);
    const vmsg_value_t *ev = s_next_event (f, sub, "inventory.released", "reservation_id", "exp-1");
    assert_string_equal (vmsg_str (ev, "reason"), "expired");
    assert_int_equal (vmsg_count (vmsg_get (ev, "lines")), 2);
    ev = s_next_event (f, sub, "inventory.released", "reservation_id", "exp-2");
    assert_string_equal (vmsg_str (ev, "reason"), "expired");

    //  What the saga then sees.
    assert_string_equal (vmsg_str (s_reserve (f, "exp-1", 60000, 2, x, 3, y, 1), "state"),
                         "expired");
    s_by_id_expect (f, "commit", "exp-2", 0, VE_CONFLICT, "was released");
    assert_string_equal (vmsg_str (s_by_id (f, "release", "exp-2", 0), "state"), "released");
    assert_string_equal (vmsg_str (s_by_id (f, "commit", "exp-4", 0), "state"), "sold");
    s_assert_stock (f, x, 9, 0);
    s_assert_stock (f, y, 6, 0);

    //  And without a restart: a short ttl runs out while the process serves (sweep on_wake).
    s_reserve (f, "exp-5", 1000, 1, z, 6);
    s_assert_stock (f, z, 10, 6);
    ev = s_next_event (f, sub, "inventory.released", "reservation_id", "exp-5");
    assert_string_equal (vmsg_str (ev, "reason"), "expired");
    s_assert_stock (f, z, 10, 0);
    vbus_sub_destroy (&sub);
    s_restart (f, 'a', SIGTERM, NULL);  //  the real clock again for the tests after
}

//  ---------------------------------------------------------------- events
static void
test_events_report_availability (void **state)
{
    fixture_t *f = *state;
    char x[64];
    s_sku (x, sizeof x, "clock", 5);
    vbus_sub_t *sub = s_subscribe (f);
    s_how_t admin = { .key = x, .partition = -1, .caller = &s_admin };
    char json[400];
    snprintf (json, sizeof json,
              "{\"sku\":\"%s\",\"product_id\":\"p-clock\",\"qty\":6,\"reason\":\"first delivery\","
              "\"low_threshold\":2}",
              x);
    s_ok (f, "restock", json, admin);
    const vmsg_value_t *ev = s_next_event (f, sub, "inventory.restocked", "sku", x);
    assert_int_equal (vmsg_int (ev, "delta", 0), 6);
    assert_string_equal (vmsg_str (ev, "reason"), "first delivery");
    ev = s_next_event (f, sub, "inventory.stock_changed", "sku", x);
    assert_string_equal (vmsg_str (ev, "product_id"), "p-clock");
    assert_int_equal (vmsg_int (ev, "available", -1), 6);
    assert_true (vmsg_bool (ev, "in_stock", false));

    //  Down to 2 (the threshold): stock_changed, then low once; again to 0: no second low.
    s_reserve (f, "ev-1", 0, 1, x, 4);
    ev = s_next_event (f, sub, "inventory.reserved", "reservation_id", "ev-1");
    assert_string_equal (vmsg_str (vmsg_at (vmsg_get (ev, "lines"), 0), "product_id"), "p-clock");
    ev = s_next_event (f, sub, "inventory.stock_changed", "sku", x);
    assert_int_equal (vmsg_int (ev, "available", -1), 2);
    ev = s_next_event (f, sub, "inventory.low", "sku", x);
    assert_int_equal (vmsg_int (ev, "available", -1), 2);
    s_reserve (f, "ev-2", 0, 1, x, 2);
    ev = s_next_event (f, sub, "inventory.stock_changed", "sku", x);
    assert_int_equal (vmsg_int (ev, "available", -1), 0);
    assert_false (vmsg_bool (ev, "in_stock", true));
    const vmsg_value_t *low = s_ok (f, "list_low", "{}", s_to (5));
    bool listed = false;
    for (uint32_t i = 0; i < vmsg_count (vmsg_get (low, "stock")); i++)
        listed |= strcmp (vmsg_str (vmsg_at (vmsg_get (low, "stock"), i), "sku"), x) == 0;
    assert_true (listed);

    //  A sale keeps availability (no stock_changed); a release brings it back above the
    //  threshold, and the next crossing is reported again.
    s_by_id (f, "commit", "ev-2", 5);
    s_by_id (f, "release", "ev-1", 5);
    s_forbidden_topic = "inventory.low", s_forbidden_sku = x;  //  still the same crossing
    ev = s_next_event (f, sub, "inventory.sold", "reservation_id", "ev-2");
    s_forbidden_topic = NULL;
    ev = s_next_event (f, sub, "inventory.released", "reservation_id", "ev-1");
    assert_string_equal (vmsg_str (ev, "reason"), "released");
    ev = s_next_event (f, sub, "inventory.stock_changed", "sku", x);
    assert_int_equal (vmsg_int (ev, "available", -1), 4);  //  the release, not the sale
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"delta\":-3,\"reason\":\"damaged\"}", x);
    s_ok (f, "adjust", json, admin);
    ev = s_next_event (f, sub, "inventory.restocked", "sku", x);
    assert_int_equal (vmsg_int (ev, "delta", 0), -3);
    ev = s_next_event (f, sub, "inventory.low", "sku", x);
    assert_int_equal (vmsg_int (ev, "available", -1), 1);
    vbus_sub_destroy (&sub);
}

//  ---------------------------------------------------------------- bad input
static void
test_bad_input_names_the_field_and_changes_nothing (void **state)
{
    fixture_t *f = *state;
    char x[64], never[64];
    s_sku (x, sizeof x, "table", 2);
    s_sku (never, sizeof never, "unicorn", 2);
    s_restock (f, x, 5);
    s_reserve (f, "bad-0", 0, 1, x, 3);
    s_assert_stock (f, x, 5, 3);
    s_how_t raw = { .partition = 2, .raw = true };
    s_how_t admin = { .key = x, .partition = -1, .caller = &s_admin, .raw = true };
    char json[600];
#define RESERVE(qty, extra)                                                                        \
    snprintf (json, sizeof json,                                                                   \
              "{\"reservation_id\":\"bad-1\",\"lines\":[{\"sku\":\"%s\",\"qty\":%s}]%s}", x, qty,  \
              extra)
    RESERVE ("-1", "");
    s_expect (f, "reserve", json, raw, VE_BAD_REQUEST, "lines[0].qty: below 1");
    RESERVE ("0", "");
    s_expect (f, "reserve", json, raw, VE_BAD_REQUEST, "lines[0].qty: below 1");
    RESERVE ("10001", "");
    s_expect (f, "reserve", json, raw, VE_BAD_REQUEST, "lines[0].qty: above 10000");
    RESERVE ("4294967296", "");
    s_expect (f, "reserve", json, raw, VE_BAD_REQUEST, "lines[0].qty");
    RESERVE ("1.5", "");
    s_expect (f, "reserve", json, raw, VE_BAD_REQUEST, "lines[0].qty");
    RESERVE ("1", ",\"ttl_ms\":10");
    s_expect (f, "reserve", json, raw, VE_BAD_REQUEST, "ttl_ms: below 1000");
    s_expect (f, "reserve", "{\"reservation_id\":\"\",\"lines\":[{\"sku\":\"a\",\"qty\":1}]}", raw,
              VE_BAD_REQUEST, "reservation_id");
    s_expect (f, "reserve", "{\"reservation_id\":\"bad-2\",\"lines\":[]}", raw, VE_BAD_REQUEST,
              "lines");
    s_expect (f, "reserve", "{\"reservation_id\":\"bad-2\"}", raw, VE_BAD_REQUEST, "lines");

    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"qty\":-4,\"reason\":\"x\"}", x);
    s_expect (f, "restock", json, admin, VE_BAD_REQUEST, "qty: below 1");
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"qty\":2000000,\"reason\":\"x\"}", x);
    s_expect (f, "restock", json, admin, VE_BAD_REQUEST, "qty: above 1000000");
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"qty\":4}", x);
    s_expect (f, "restock", json, admin, VE_BAD_REQUEST, "reason");
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"delta\":0,\"reason\":\"x\"}", x);
    s_expect (f, "adjust", json, admin, VE_BAD_REQUEST, "delta: must not be 0");
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"delta\":-5000000,\"reason\":\"x\"}", x);
    s_expect (f, "adjust", json, admin, VE_BAD_REQUEST, "delta: below -1000000");
    //  Never below what reservations hold: 5 on hand, 3 reserved, -3 would leave 2.
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"delta\":-3,\"reason\":\"count\"}", x);
    s_expect (f, "adjust", json, admin, VE_CONFLICT,
              "delta: on hand would be 2, below the 3 units reserved");
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"delta\":-1,\"reason\":\"x\"}", never);
    s_expect (f, "adjust", json, (s_how_t) { .key = never, .partition = -1, .caller = &s_admin },
              VE_NOT_FOUND, "sku: '");
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"low_threshold\":1}", never);
    s_expect (f, "set_threshold", json,
              (s_how_t) { .key = never, .partition = -1, .caller = &s_admin }, VE_NOT_FOUND,
              "sku: '");

    //  Roles: signed-out callers and customers may look, not touch.
    snprintf (json, sizeof json, "{\"sku\":\"%s\",\"qty\":4,\"reason\":\"x\"}", x);
    s_expect (f, "restock", json, (s_how_t) { .key = x, .partition = -1, .caller = &s_customer },
              VE_FORBIDDEN, NULL);
    RESERVE ("1", "");
    s_expect (f, "reserve", json, (s_how_t) { .partition = 2, .caller = &s_anonymous },
              VE_UNAUTHORIZED, NULL);
    s_expect (f, "reserve", json, (s_how_t) { .partition = 2, .caller = &s_customer }, VE_FORBIDDEN,
              NULL);
#undef RESERVE
    //  Nothing changed.
    s_assert_stock (f, x, 5, 3);
    s_by_id_expect (f, "commit", "bad-1", 2, VE_NOT_FOUND, NULL);
}

//  ---------------------------------------------------------------- durability
static void
test_acknowledged_reserve_survives_kill9 (void **state)
{
    fixture_t *f = *state;
    char x[64];
    s_sku (x, sizeof x, "crate", 3);  //  process a
    s_restock (f, x, 8);
    assert_string_equal (vmsg_str (s_reserve (f, "dur-1", 0, 1, x, 5), "state"), "reserved");
    s_restart (f, 'a', SIGKILL, NULL);
    s_assert_stock (f, x, 8, 5);
    //  The retry finds it, and does not reserve twice.
    assert_string_equal (vmsg_str (s_reserve (f, "dur-1", 0, 1, x, 5), "state"), "reserved");
    s_assert_stock (f, x, 8, 5);
    assert_string_equal (vmsg_str (s_by_id (f, "commit", "dur-1", 3), "state"), "sold");
    s_assert_stock (f, x, 3, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_restock_and_get),
        cmocka_unit_test (test_reserve_all_or_nothing),
        cmocka_unit_test (test_reserve_is_idempotent),
        cmocka_unit_test (test_commit_release_restore),
        cmocka_unit_test (test_race_for_100_units),
        cmocka_unit_test (test_expiry_releases_exactly_the_abandoned_units),
        cmocka_unit_test (test_events_report_availability),
        cmocka_unit_test (test_bad_input_names_the_field_and_changes_nothing),
        cmocka_unit_test (test_acknowledged_reserve_survives_kill9),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("inventory integration", tests, s_group_setup,
                                        s_group_teardown);
}
