//  test_cart.c — the cart actor with real processes: a broker, the catalog writer and a
//  catalog-read replica holding products made here (admin role), and vitrine-cart on a
//  temporary RocksDB. Totals are checked by recomputing them from the catalog's own prices.
//  Inventory is not started: the cart must work without it (lines then carry no stock).
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

#define LIMIT_LINES 50  //  schemas/cart.schema.c: lines per cart
#define LIMIT_QTY   99  //  and units per line

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    varena_t *arena;
    char dir[64];
    pid_t catalog, replica, cart;
    pid_t inventory;  //  only while the stock test runs (stopped by it, or by the cleanup)
    char message[512];  //  the last error's message
} fixture_t;

static const vbus_caller_t s_admin = { "admin-1", VBUS_ROLE_ADMIN };
static const vbus_caller_t s_service = { "orders", VBUS_ROLE_SERVICE };
static const vbus_caller_t s_alice = { "alice", VBUS_ROLE_CUSTOMER };
static const vbus_caller_t s_bob = { "bob", VBUS_ROLE_CUSTOMER };

//  ---------------------------------------------------------------- processes

static pid_t
s_start_catalog (fixture_t *f, const char *service)
{
    char data[128], svc[64];
    snprintf (data, sizeof data, "%s/%s", f->dir, service);
    snprintf (svc, sizeof svc, "service=%s", service);
    bool replica = strcmp (service, "catalog") != 0;
    const char *args[] = { "--data",           data, "--set", svc, replica ? "--set" : NULL,
                           "follow=catalog/0", NULL };
    return vit_actor_start (&f->broker, "vitrine-catalog", service, args, 20000);
}

//  A lookup timeout well above what a local call takes, and well below the test client's.
static pid_t
s_start_cart (fixture_t *f)
{
    char data[128];
    snprintf (data, sizeof data, "%s/cart", f->dir);
    const char *args[] = { "--data", data, "--set", "lookup_timeout_ms=3000", NULL };
    return vit_actor_start (&f->broker, "vitrine-cart", "cart", args, 20000);
}

//  ---------------------------------------------------------------- calls

//  Calls service.method with a JSON body, keyed by key (may be NULL), as caller (NULL:
//  anonymous). An ok reply is decoded with the method's reply schema into *out (may be NULL);
//  an error's message is kept in f->message. Returns the status.
static int
s_call (fixture_t *f, const char *service, const char *method, const char *key,
        const vbus_caller_t *caller, const vmsg_value_t **out, const char *fmt, ...)
{
    char json[2048];
    va_list args;
    va_start (args, fmt);
    vsnprintf (json, sizeof json, fmt, args);
    va_end (args);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, err, sizeof err))
        fail_msg ("bad test JSON %s: %s", json, err);
    vbus_opts_t opts = { .caller = caller, .key = key };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, service, method, body.data, body.len, &opts, &reply), 0);
    vbuf_free (&body);
    int status = reply->status;
    snprintf (f->message, sizeof f->message, "%s", reply->message);
    if (status == VE_OK && out) {
        const char *domain = strcmp (service, "catalog-read") == 0 ? "catalog" : service;
        const vmsg_method_t *m = vmsg_method_find (domain, method);
        if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, out, err, sizeof err))
            fail_msg ("%s.%s reply does not match its schema: %s", service, method, err);
    }
    vbus_msg_destroy (&reply);
    return status;
}

//  A cart method on cart_id, keyed by it as every cart call must be.
#define s_cart(f, method, cart_id, caller, out, ...)                                               \
    s_call (f, "cart", method, cart_id, caller, out, __VA_ARGS__)

static void
s_expect_message (fixture_t *f, const char *part)
{
    if (!strstr (f->message, part))
        fail_msg ("expected '%s' in the error message, got '%s'", part, f->message);
}

//  The line of product_id in a priced cart, or NULL.
static const vmsg_value_t *
s_line (const vmsg_value_t *cart, const char *product_id)
{
    const vmsg_value_t *lines = vmsg_get (cart, "lines");
    for (uint32_t i = 0; i < vmsg_count (lines); i++)
        if (strcmp (vmsg_str (vmsg_at (lines, i), "product_id"), product_id) == 0)
            return vmsg_at (lines, i);
    return NULL;
}

//  The catalog's price of a product now, as an admin sees it.
static int64_t
s_catalog_price (fixture_t *f, const char *id)
{
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "catalog-read", "get", NULL, &s_admin, &v, "{\"id\":\"%s\"}", id),
                      VE_OK);
    return vmsg_int (v, "price", -1);
}

//  Checks a priced cart's arithmetic against the catalog: every line's unit price is the
//  catalog's, line_total = unit_price × qty, item_count the sum of qty and subtotal the sum of
//  the line totals of the lines that can be bought (ok or short). Returns the subtotal.
static int64_t
s_check_totals (fixture_t *f, const vmsg_value_t *cart)
{
    const vmsg_value_t *lines = vmsg_get (cart, "lines");
    int64_t subtotal = 0;
    uint64_t items = 0;
    for (uint32_t i = 0; i < vmsg_count (lines); i++) {
        const vmsg_value_t *l = vmsg_at (lines, i);
        int64_t qty = vmsg_int (l, "qty", 0);
        items += (uint64_t) qty;
        const char *status = vmsg_str (l, "status");
        if (!vmsg_has (l, "unit_price")) {
            assert_string_equal (status, "unavailable");
            continue;
        }
        int64_t unit = vmsg_int (l, "unit_price", -1);
        assert_int_equal (unit, s_catalog_price (f, vmsg_str (l, "product_id")));
        assert_int_equal (vmsg_int (l, "line_total", -1), unit * qty);
        if (strcmp (status, "ok") == 0 || strcmp (status, "short") == 0)
            subtotal += unit * qty;
    }
    assert_int_equal (vmsg_uint (cart, "item_count", 0), items);
    assert_int_equal (vmsg_int (cart, "subtotal", -1), subtotal);
    return subtotal;
}

//  ---------------------------------------------------------------- fixture

static int
s_create (fixture_t *f, const char *id, int64_t price, const char *currency, const char *status)
{
    return s_call (
        f, "catalog", "create", NULL, &s_admin, NULL,
        "{\"id\":\"%s\",\"sku\":\"SKU-%s\",\"title\":\"Test %s\",\"brand\":\"Testbrand\","
        "\"category\":\"home/lamps\",\"price\":%lld,\"currency\":\"%s\","
        "\"status\":\"%s\"}",
        id, id, id, (long long) price, currency, status);
}

//  Waits until catalog-read shows product id with the given status (it follows the writer).
static void
s_wait_replica (fixture_t *f, const char *id, const char *status)
{
    for (int i = 0; i < 500; i++) {
        const vmsg_value_t *v;
        if (s_call (f, "catalog-read", "get", NULL, &s_admin, &v, "{\"id\":\"%s\"}", id) == VE_OK
            && strcmp (vmsg_str (v, "status"), status) == 0)
            return;
        usleep (10000);
    }
    fail_msg ("catalog-read never showed %s as %s", id, status);
}

static bool
s_cleanup (fixture_t *f)
{
    bool clean = true;
    if (f->cart > 0)
        clean &= vit_stop (f->cart, SIGTERM, 15000) == 0;
    if (f->inventory > 0)
        clean &= vit_stop (f->inventory, SIGTERM, 15000) == 0;
    if (f->replica > 0) {
        kill (f->replica, SIGCONT);
        clean &= vit_stop (f->replica, SIGTERM, 10000) == 0;
    }
    if (f->catalog > 0)
        clean &= vit_stop (f->catalog, SIGTERM, 10000) == 0;
    vbus_client_destroy (&f->client);
    if (f->broker.pid > 0)
        vit_stop (f->broker.pid, SIGTERM, 5000);
    varena_destroy (&f->arena);
    clean &= vit_rmtree (f->dir) == 0;
    free (f);
    return clean;
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (vit_tmpdir ("vitrine-cart", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0) {
        free (f);
        return -1;
    }
    f->client = vbus_client_new (f->broker.endpoint, 10000);
    f->arena = varena_new (0);
    f->catalog = s_start_catalog (f, "catalog");
    f->replica = f->catalog > 0 ? s_start_catalog (f, "catalog-read") : -1;
    f->cart = f->replica > 0 ? s_start_cart (f) : -1;
    if (f->cart <= 0) {
        s_cleanup (f);  //  nothing is left running when a setup fails
        return -1;
    }
    bool made = s_create (f, "p-a", 1999, "EUR", "active") == VE_OK
                && s_create (f, "p-b", 250, "EUR", "active") == VE_OK
                && s_create (f, "p-c", 7, "EUR", "active") == VE_OK
                && s_create (f, "p-usd", 1000, "USD", "active") == VE_OK
                && s_create (f, "p-arch", 500, "EUR", "active") == VE_OK
                && s_create (f, "p-draft", 300, "EUR", "draft") == VE_OK;
    for (int i = 0; made && i <= LIMIT_LINES; i++) {
        char id[16];
        snprintf (id, sizeof id, "p-l%02d", i);
        made = s_create (f, id, 100 + i, "EUR", "active") == VE_OK;
    }
    if (!made) {
        s_cleanup (f);
        return -1;
    }
    *state = f;
    s_wait_replica (f, "p-l50", "active");
    return 0;
}

static int
s_teardown (void **state)
{
    return s_cleanup (*state) ? 0 : -1;  //  clean exits on SIGTERM, directory gone
}

//  ---------------------------------------------------------------- tests

static void
test_add_and_get_price_every_line_from_the_catalog (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:alice";
    assert_int_equal (s_cart (f, "get", cart, &s_alice, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 0);
    assert_false (vmsg_has (v, "currency"));
    assert_int_equal (s_cart (f, "add", cart, &s_alice, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":2}", cart),
                      VE_OK);
    assert_string_equal (vmsg_str (v, "currency"), "EUR");
    assert_string_equal (vmsg_str (v, "user_id"), "alice");
    assert_int_equal (s_cart (f, "add", cart, &s_alice, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":3}", cart),
                      VE_OK);
    //  Adding what is there adds to its line.
    assert_int_equal (s_cart (f, "add", cart, &s_alice, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 2);
    assert_int_equal (vmsg_int (s_line (v, "p-a"), "qty", 0), 3);
    assert_int_equal (s_check_totals (f, v), 3 * 1999 + 3 * 250);
    //  get answers the same, priced again; without inventory every line is ok.
    assert_int_equal (s_cart (f, "get", cart, &s_alice, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_uint (v, "item_count", 0), 6);
    assert_int_equal (s_check_totals (f, v), 3 * 1999 + 3 * 250);
    assert_string_equal (vmsg_str (s_line (v, "p-b"), "status"), "ok");
    assert_string_equal (vmsg_str (s_line (v, "p-b"), "sku"), "SKU-p-b");
    assert_string_equal (vmsg_str (s_line (v, "p-b"), "title"), "Test p-b");
    //  A price change shows at the next read: the price seen when added is not used.
    assert_int_equal (
        s_call (f, "catalog", "update", NULL, &s_admin, NULL, "{\"id\":\"p-c\",\"price\":9}"),
        VE_OK);
    assert_int_equal (s_cart (f, "add", cart, &s_alice, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-c\",\"qty\":5}", cart),
                      VE_OK);
    assert_int_equal (
        s_call (f, "catalog", "update", NULL, &s_admin, NULL, "{\"id\":\"p-c\",\"price\":11}"),
        VE_OK);
    for (int i = 0; i < 500 && s_catalog_price (f, "p-c") != 11; i++)
        usleep (10000);
    assert_int_equal (s_cart (f, "get", cart, &s_alice, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_int (s_line (v, "p-c"), "unit_price", 0), 11);
    assert_int_equal (s_check_totals (f, v), 3 * 1999 + 3 * 250 + 5 * 11);
    //  The changes went out as events, in the cart's partition's stream.
    vbus_opts_t opts = { .caller = &s_service,
                         .to_partition = true,
                         .partition = vbus_partition (cart, strlen (cart), 4) };
    char body[64], replay[64];
    snprintf (replay, sizeof replay, "{\"partition\":%u,\"from\":1}", opts.partition);
    vbuf_t buf;
    vbuf_init (&buf, body, sizeof body);
    assert_int_equal (vmsg_json_to_msgpack (NULL, replay, strlen (replay), &buf, NULL, 0), 0);
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, "cart", "replay", buf.data, buf.len, &opts, &reply), 0);
    assert_int_equal (reply->status, VE_OK);
    const vmsg_value_t *page;
    assert_int_equal (vmsg_decode (NULL, reply->body, reply->body_len, f->arena, &page, NULL, 0),
                      0);
    const vmsg_value_t *events = vmsg_get (page, "events");
    int64_t added = 0;
    for (uint32_t i = 0; i < vmsg_count (events); i++) {
        const vmsg_value_t *e = vmsg_at (events, i), *ev;
        const vmsg_event_t *schema = vmsg_event_find (vmsg_str (e, "topic"));
        assert_non_null (schema);
        size_t len;
        const void *bytes = vmsg_bytes (e, "body", &len);
        assert_int_equal (vmsg_decode (schema->schema, bytes, len, f->arena, &ev, NULL, 0), 0);
        if (strcmp (vmsg_str (e, "topic"), "cart.line_added") == 0
            && strcmp (vmsg_str (ev, "cart_id"), cart) == 0)
            added += vmsg_int (ev, "qty", 0);
    }
    assert_int_equal (added, 3 + 3 + 5);  //  every unit added, as it was added
    vbus_msg_destroy (&reply);
    vbuf_free (&buf);
}

static void
test_set_qty_remove_and_clear (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:carol";
    const vbus_caller_t carol = { "carol", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_cart (f, "add", cart, &carol, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (s_cart (f, "add", cart, &carol, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (s_cart (f, "set_qty", cart, &carol, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":7}", cart),
                      VE_OK);
    assert_int_equal (vmsg_int (s_line (v, "p-a"), "qty", 0), 7);
    assert_int_equal (s_check_totals (f, v), 7 * 1999 + 250);
    //  0 removes the line.
    assert_int_equal (s_cart (f, "set_qty", cart, &carol, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":0}", cart),
                      VE_OK);
    assert_null (s_line (v, "p-b"));
    assert_int_equal (s_check_totals (f, v), 7 * 1999);
    //  A line that is not there cannot be set (add puts it in).
    assert_int_equal (s_cart (f, "set_qty", cart, &carol, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":2}", cart),
                      VE_NOT_FOUND);
    s_expect_message (f, "product_id");
    //  remove of the last line leaves an empty cart, currency free again.
    assert_int_equal (
        s_cart (f, "remove", cart, &carol, &v, "{\"cart_id\":\"%s\",\"product_id\":\"p-a\"}", cart),
        VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 0);
    assert_false (vmsg_has (v, "currency"));
    assert_int_equal (
        s_cart (f, "remove", cart, &carol, &v, "{\"cart_id\":\"%s\",\"product_id\":\"p-a\"}", cart),
        VE_OK);
    assert_int_equal (s_cart (f, "add", cart, &carol, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-usd\",\"qty\":2}", cart),
                      VE_OK);
    assert_string_equal (vmsg_str (v, "currency"), "USD");
    assert_int_equal (s_cart (f, "clear", cart, &carol, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 0);
    assert_int_equal (s_cart (f, "get", cart, &carol, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 0);
    assert_int_equal (vmsg_int (v, "subtotal", -1), 0);
}

static void
test_quantity_limits_refuse_and_change_nothing (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:dave";
    const vbus_caller_t dave = { "dave", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_cart (f, "add", cart, &dave, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":98}", cart),
                      VE_OK);
    //  98 + 2 would pass the limit of a line: refused, naming qty and the limit.
    assert_int_equal (s_cart (f, "add", cart, &dave, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":2}", cart),
                      VE_BAD_REQUEST);
    s_expect_message (f, "qty");
    s_expect_message (f, "99");
    assert_int_equal (s_cart (f, "add", cart, &dave, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (vmsg_int (s_line (v, "p-a"), "qty", 0), LIMIT_QTY);
    //  Negative, zero and huge quantities: refused by the schema, naming the field.
    const char *bad[] = { "-1", "0", "100", "1000000000000", "1.5", "\"3\"" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (s_cart (f, "add", cart, &dave, NULL,
                                  "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":%s}", cart,
                                  bad[i]),
                          VE_BAD_REQUEST);
        s_expect_message (f, "qty");
    }
    assert_int_equal (s_cart (f, "set_qty", cart, &dave, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":100}", cart),
                      VE_BAD_REQUEST);
    s_expect_message (f, "qty");
    assert_int_equal (s_cart (f, "set_qty", cart, &dave, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":-3}", cart),
                      VE_BAD_REQUEST);
    //  Nothing changed.
    assert_int_equal (s_cart (f, "get", cart, &dave, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 1);
    assert_int_equal (vmsg_int (s_line (v, "p-a"), "qty", 0), LIMIT_QTY);
    assert_int_equal (s_check_totals (f, v), LIMIT_QTY * 1999);
}

static void
test_line_limit_refuses_the_51st_and_merge_drops_it (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:erin";
    const vbus_caller_t erin = { "erin", VBUS_ROLE_CUSTOMER };
    int64_t expected = 0;
    for (int i = 0; i < LIMIT_LINES; i++) {
        varena_reset (f->arena);
        assert_int_equal (s_cart (f, "add", cart, &erin, &v,
                                  "{\"cart_id\":\"%s\",\"product_id\":\"p-l%02d\",\"qty\":2}", cart,
                                  i),
                          VE_OK);
        expected += 2 * (100 + i);
    }
    assert_int_equal (s_cart (f, "add", cart, &erin, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-l50\",\"qty\":1}", cart),
                      VE_BAD_REQUEST);
    s_expect_message (f, "50");
    //  A line already there still takes more units.
    assert_int_equal (s_cart (f, "add", cart, &erin, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-l00\",\"qty\":1}", cart),
                      VE_OK);
    expected += 100;
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), LIMIT_LINES);
    assert_null (s_line (v, "p-l50"));
    assert_int_equal (s_check_totals (f, v), expected);
    //  A guest cart merged into the full cart: its new line is dropped and said so; a line
    //  already there gets its units.
    assert_int_equal (s_call (f, "cart", "new_guest", NULL, NULL, &v, "{}"), VE_OK);
    char guest[64];
    snprintf (guest, sizeof guest, "%s", vmsg_str (v, "cart_id"));
    assert_int_equal (s_cart (f, "add", guest, NULL, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-l50\",\"qty\":1}", guest),
                      VE_OK);
    assert_int_equal (s_cart (f, "add", guest, NULL, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-l01\",\"qty\":4}", guest),
                      VE_OK);
    assert_int_equal (s_cart (f, "merge", cart, &erin, &v,
                              "{\"cart_id\":\"%s\",\"guest_cart_id\":\"%s\"}", cart, guest),
                      VE_OK);
    expected += 4 * 101;
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), LIMIT_LINES);
    assert_null (s_line (v, "p-l50"));
    assert_int_equal (vmsg_int (s_line (v, "p-l01"), "qty", 0), 6);
    assert_int_equal (vmsg_count (vmsg_get (v, "notes")), 1);
    assert_non_null (strstr (vmsg_str (vmsg_at (vmsg_get (v, "notes"), 0), NULL), "p-l50"));
    assert_int_equal (s_check_totals (f, v), expected);
}

static void
test_mixed_currency_unknown_product_and_bad_ids_are_refused (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:frank";
    const vbus_caller_t frank = { "frank", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_cart (f, "add", cart, &frank, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (s_cart (f, "add", cart, &frank, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-usd\",\"qty\":1}", cart),
                      VE_BAD_REQUEST);
    s_expect_message (f, "currency: the cart is in EUR, this product is in USD");
    assert_int_equal (s_cart (f, "add", cart, &frank, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"nope\",\"qty\":1}", cart),
                      VE_BAD_REQUEST);
    s_expect_message (f, "product_id: no product 'nope'");
    //  A draft is not for sale.
    assert_int_equal (s_cart (f, "add", cart, &frank, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-draft\",\"qty\":1}", cart),
                      VE_BAD_REQUEST);
    s_expect_message (f, "product_id");
    //  Malformed cart ids, and a request not keyed by its cart id.
    assert_int_equal (s_cart (f, "get", "x:1", &frank, NULL, "{\"cart_id\":\"x:1\"}"),
                      VE_BAD_REQUEST);
    s_expect_message (f, "cart_id");
    assert_int_equal (s_cart (f, "get", "g:short", NULL, NULL, "{\"cart_id\":\"g:short\"}"),
                      VE_BAD_REQUEST);
    s_expect_message (f, "cart_id");
    int misrouted = 0;
    for (int i = 0; i < 8; i++) {
        char key[16];
        snprintf (key, sizeof key, "k%d", i);
        if (vbus_partition (key, strlen (key), 4) == vbus_partition (cart, strlen (cart), 4))
            continue;
        assert_int_equal (s_cart (f, "get", key, &frank, NULL, "{\"cart_id\":\"%s\"}", cart),
                          VE_BAD_REQUEST);
        s_expect_message (f, "cart_id: key the request");
        misrouted++;
    }
    assert_true (misrouted > 0);
    assert_int_equal (s_cart (f, "get", cart, &frank, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 1);
    assert_int_equal (s_check_totals (f, v), 1999);
}

static void
test_archived_product_is_flagged_at_get (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:gina";
    const vbus_caller_t gina = { "gina", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_cart (f, "add", cart, &gina, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-arch\",\"qty\":2}", cart),
                      VE_OK);
    assert_int_equal (s_cart (f, "add", cart, &gina, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (s_check_totals (f, v), 2 * 500 + 250);
    assert_int_equal (s_call (f, "catalog", "archive", NULL, &s_admin, NULL, "{\"id\":\"p-arch\"}"),
                      VE_OK);
    s_wait_replica (f, "p-arch", "archived");
    //  The cart's product view has it from the catalog's stream too (polled: the two follow
    //  the stream each at their own pace).
    const vmsg_value_t *line = NULL;
    for (int i = 0; i < 500; i++) {
        assert_int_equal (s_cart (f, "get", cart, &gina, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
        line = s_line (v, "p-arch");
        if (strcmp (vmsg_str (line, "status"), "archived") == 0)
            break;
        usleep (10000);
    }
    assert_string_equal (vmsg_str (line, "status"), "archived");
    assert_int_equal (vmsg_int (line, "qty", 0), 2);
    //  Shown, but not counted.
    assert_int_equal (s_check_totals (f, v), 250);
    assert_int_equal (vmsg_uint (v, "item_count", 0), 3);
    //  And no more can be added.
    assert_int_equal (s_cart (f, "add", cart, &gina, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-arch\",\"qty\":1}", cart),
                      VE_BAD_REQUEST);
    s_expect_message (f, "product_id");
}

static void
test_guest_cart_merges_into_the_users_cart (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:hank";
    const vbus_caller_t hank = { "hank", VBUS_ROLE_CUSTOMER };
    char guest[64], guest2[64];
    assert_int_equal (s_call (f, "cart", "new_guest", NULL, NULL, &v, "{}"), VE_OK);
    snprintf (guest, sizeof guest, "%s", vmsg_str (v, "cart_id"));
    assert_int_equal (strlen (guest), 24);
    assert_int_equal (strncmp (guest, "g:", 2), 0);
    assert_int_equal (s_call (f, "cart", "new_guest", NULL, NULL, &v, "{}"), VE_OK);
    snprintf (guest2, sizeof guest2, "%s", vmsg_str (v, "cart_id"));
    assert_string_not_equal (guest, guest2);
    //  A guest cart is anyone's who holds its id, signed in or not.
    assert_int_equal (s_cart (f, "add", guest, NULL, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":60}", guest),
                      VE_OK);
    assert_int_equal (s_cart (f, "add", guest, &s_bob, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":2}", guest),
                      VE_OK);
    assert_int_equal (s_cart (f, "get", guest, NULL, &v, "{\"cart_id\":\"%s\"}", guest), VE_OK);
    assert_false (vmsg_has (v, "user_id"));
    assert_int_equal (s_check_totals (f, v), 60 * 1999 + 2 * 250);
    //  The user's cart has some already.
    assert_int_equal (s_cart (f, "add", cart, &hank, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":50}", cart),
                      VE_OK);
    assert_int_equal (s_cart (f, "add", cart, &hank, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-c\",\"qty\":1}", cart),
                      VE_OK);
    //  Merging needs a signed-in caller, into their own cart.
    assert_int_equal (s_cart (f, "merge", cart, NULL, NULL,
                              "{\"cart_id\":\"%s\",\"guest_cart_id\":\"%s\"}", cart, guest),
                      VE_UNAUTHORIZED);
    assert_int_equal (s_cart (f, "merge", cart, &s_bob, NULL,
                              "{\"cart_id\":\"%s\",\"guest_cart_id\":\"%s\"}", cart, guest),
                      VE_NOT_FOUND);
    assert_int_equal (s_cart (f, "take", guest, &hank, NULL, "{\"cart_id\":\"%s\"}", guest),
                      VE_FORBIDDEN);
    assert_int_equal (s_cart (f, "merge", cart, &hank, &v,
                              "{\"cart_id\":\"%s\",\"guest_cart_id\":\"%s\"}", cart, guest),
                      VE_OK);
    //  Quantities added, capped at the line limit, and the cap said.
    assert_int_equal (vmsg_int (s_line (v, "p-a"), "qty", 0), LIMIT_QTY);
    assert_int_equal (vmsg_int (s_line (v, "p-b"), "qty", 0), 2);
    assert_int_equal (vmsg_int (s_line (v, "p-c"), "qty", 0), 1);
    assert_int_equal (vmsg_count (vmsg_get (v, "notes")), 1);
    assert_non_null (strstr (vmsg_str (vmsg_at (vmsg_get (v, "notes"), 0), NULL), "capped"));
    assert_int_equal (s_check_totals (f, v), LIMIT_QTY * 1999 + 2 * 250 + 11);
    //  The guest cart is gone, and merging it again adds nothing.
    assert_int_equal (s_cart (f, "get", guest, NULL, &v, "{\"cart_id\":\"%s\"}", guest), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 0);
    assert_int_equal (s_cart (f, "merge", cart, &hank, &v,
                              "{\"cart_id\":\"%s\",\"guest_cart_id\":\"%s\"}", cart, guest),
                      VE_OK);
    assert_int_equal (vmsg_int (s_line (v, "p-b"), "qty", 0), 2);
    assert_int_equal (s_check_totals (f, v), LIMIT_QTY * 1999 + 2 * 250 + 11);
    //  A guest cart in another currency: its lines are dropped with a note.
    assert_int_equal (s_cart (f, "add", guest2, NULL, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-usd\",\"qty\":1}", guest2),
                      VE_OK);
    assert_int_equal (s_cart (f, "merge", cart, &hank, &v,
                              "{\"cart_id\":\"%s\",\"guest_cart_id\":\"%s\"}", cart, guest2),
                      VE_OK);
    assert_null (s_line (v, "p-usd"));
    assert_non_null (strstr (vmsg_str (vmsg_at (vmsg_get (v, "notes"), 0), NULL), "USD"));
    //  Into an empty user cart, the guest's currency comes along.
    const char *empty = "u:ivy";
    const vbus_caller_t ivy = { "ivy", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_call (f, "cart", "new_guest", NULL, NULL, &v, "{}"), VE_OK);
    snprintf (guest, sizeof guest, "%s", vmsg_str (v, "cart_id"));
    assert_int_equal (s_cart (f, "add", guest, NULL, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-usd\",\"qty\":3}", guest),
                      VE_OK);
    assert_int_equal (s_cart (f, "merge", empty, &ivy, &v,
                              "{\"cart_id\":\"%s\",\"guest_cart_id\":\"%s\"}", empty, guest),
                      VE_OK);
    assert_string_equal (vmsg_str (v, "currency"), "USD");
    assert_int_equal (s_check_totals (f, v), 3 * 1000);
    assert_false (vmsg_has (v, "notes"));
}

static void
test_only_the_owner_reads_or_changes_a_users_cart (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:alice-2";
    const vbus_caller_t alice = { "alice-2", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_cart (f, "add", cart, &alice, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":2}", cart),
                      VE_OK);
    //  Bob, and anyone not signed in, are told there is no such cart, for reads and writes.
    const vbus_caller_t *others[] = { &s_bob, NULL };
    for (size_t i = 0; i < 2; i++) {
        const vbus_caller_t *who = others[i];
        assert_int_equal (s_cart (f, "get", cart, who, NULL, "{\"cart_id\":\"%s\"}", cart),
                          VE_NOT_FOUND);
        s_expect_message (f, "cart_id");
        assert_int_equal (s_cart (f, "add", cart, who, NULL,
                                  "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":1}", cart),
                          VE_NOT_FOUND);
        assert_int_equal (s_cart (f, "set_qty", cart, who, NULL,
                                  "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":9}", cart),
                          VE_NOT_FOUND);
        assert_int_equal (s_cart (f, "remove", cart, who, NULL,
                                  "{\"cart_id\":\"%s\",\"product_id\":\"p-a\"}", cart),
                          VE_NOT_FOUND);
        assert_int_equal (s_cart (f, "clear", cart, who, NULL, "{\"cart_id\":\"%s\"}", cart),
                          VE_NOT_FOUND);
    }
    //  A user id that only starts like hers is someone else.
    const vbus_caller_t alice_like = { "alice", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_cart (f, "get", cart, &alice_like, NULL, "{\"cart_id\":\"%s\"}", cart),
                      VE_NOT_FOUND);
    //  Her cart is as she left it; admins and services may read it.
    assert_int_equal (s_cart (f, "get", cart, &alice, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_int (s_line (v, "p-a"), "qty", 0), 2);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 1);
    assert_int_equal (s_cart (f, "get", cart, &s_admin, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (s_cart (f, "get", cart, &s_service, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (s_check_totals (f, v), 2 * 1999);
}

static void
test_acknowledged_add_survives_kill9 (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:jack";
    const vbus_caller_t jack = { "jack", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_cart (f, "add", cart, &jack, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":4}", cart),
                      VE_OK);
    assert_int_equal (vit_stop (f->cart, SIGKILL, 2000), 128 + SIGKILL);
    f->cart = 0;
    assert_int_equal (vit_wait_workers (&f->broker, "cart", 0, 10000), 0);
    f->cart = s_start_cart (f);
    assert_true (f->cart > 0);
    assert_int_equal (s_cart (f, "get", cart, &jack, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_int (s_line (v, "p-b"), "qty", 0), 4);
    assert_int_equal (s_check_totals (f, v), 4 * 250);
}

static void
s_on_reply (const vbus_reply_t *reply, void *arg)
{
    *(int *) arg = reply->status;
}

//  The status (and available units) of product_id's line in cart_id, priced now.
static const char *
s_line_status (fixture_t *f, const char *cart_id, const vbus_caller_t *who, const char *product,
               int64_t *available)
{
    const vmsg_value_t *v;
    assert_int_equal (s_cart (f, "get", cart_id, who, &v, "{\"cart_id\":\"%s\"}", cart_id),
                      VE_OK);
    const vmsg_value_t *line = s_line (v, product);
    assert_non_null (line);
    *available = vmsg_int (line, "available", -1);
    return vmsg_str (line, "status");
}

//  Polls until product_id's line shows status (the stock view follows inventory's events).
static void
s_wait_line (fixture_t *f, const char *cart_id, const vbus_caller_t *who, const char *product,
             const char *status, int64_t available)
{
    int64_t got = -1;
    const char *now = "";
    for (int i = 0; i < 300; i++) {
        now = s_line_status (f, cart_id, who, product, &got);
        if (strcmp (now, status) == 0 && got == available)
            return;
        usleep (10000);
    }
    fail_msg ("%s: line %s is %s (%lld available), expected %s (%lld)", cart_id, product, now,
              (long long) got, status, (long long) available);
}

//  Calls of service.method served so far (its stats).
static uint64_t
s_calls (fixture_t *f, const char *service, const char *method)
{
    const vmsg_value_t *v = vit_stats (f->client, service, -1, f->arena);
    assert_non_null (v);
    return vit_stats_calls (v, method);
}

//  An add asks the catalog once, and only for products the cart's product view does not hold:
//  one get_many of the product and of the cart's lines, which vets the product and prices the
//  cart the add answers; once held, adding and pricing ask nothing.
static void
test_add_asks_the_catalog_only_for_products_it_has_not_seen (void **state)
{
    fixture_t *f = *state;
    const char *cart = "u:nils";
    const vbus_caller_t nils = { "nils", VBUS_ROLE_CUSTOMER };
    const vmsg_value_t *v;
    assert_int_equal (s_create (f, "p-n1", 1999, "EUR", "active"), VE_OK);
    assert_int_equal (s_create (f, "p-n2", 250, "EUR", "active"), VE_OK);
    s_wait_replica (f, "p-n2", "active");
    uint64_t many = s_calls (f, "catalog-read", "get_many"), gets = s_calls (f, "catalog-read", "get");
    assert_int_equal (s_cart (f, "add", cart, &nils, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-n1\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (s_calls (f, "catalog-read", "get_many") - many, 1);
    assert_int_equal (s_cart (f, "add", cart, &nils, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-n2\",\"qty\":2}", cart),
                      VE_OK);
    assert_int_equal (s_calls (f, "catalog-read", "get_many") - many, 2);
    assert_int_equal (s_cart (f, "add", cart, &nils, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-n1\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (s_cart (f, "get", cart, &nils, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (s_calls (f, "catalog-read", "get_many") - many, 2);
    assert_int_equal (s_calls (f, "catalog-read", "get"), gets);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 2);
    assert_int_equal (s_check_totals (f, v), 2 * 1999 + 2 * 250);  //  (it asks the catalog itself)
}

//  The product view follows the catalog's stream: a new price, an archived product show at the
//  next get, without the cart asking the catalog.
static void
test_product_view_follows_the_catalog (void **state)
{
    fixture_t *f = *state;
    const char *cart = "u:olga";
    const vbus_caller_t olga = { "olga", VBUS_ROLE_CUSTOMER };
    const vmsg_value_t *v;
    assert_int_equal (s_create (f, "p-o1", 1200, "EUR", "active"), VE_OK);
    assert_int_equal (s_create (f, "p-o2", 300, "EUR", "active"), VE_OK);
    s_wait_replica (f, "p-o2", "active");
    assert_int_equal (s_cart (f, "add", cart, &olga, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-o1\",\"qty\":1}", cart),
                      VE_OK);
    assert_int_equal (s_cart (f, "add", cart, &olga, &v,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-o2\",\"qty\":3}", cart),
                      VE_OK);
    assert_int_equal (vmsg_int (v, "subtotal", 0), 1200 + 3 * 300);
    uint64_t many = s_calls (f, "catalog-read", "get_many");
    assert_int_equal (s_call (f, "catalog", "update", NULL, &s_admin, NULL,
                              "{\"id\":\"p-o1\",\"price\":1450}"),
                      VE_OK);
    assert_int_equal (s_call (f, "catalog", "archive", NULL, &s_admin, NULL, "{\"id\":\"p-o2\"}"),
                      VE_OK);
    bool seen = false;
    for (int i = 0; i < 500 && !seen; i++) {
        varena_reset (f->arena);
        assert_int_equal (s_cart (f, "get", cart, &olga, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
        seen = vmsg_int (s_line (v, "p-o1"), "unit_price", 0) == 1450
               && strcmp (vmsg_str (s_line (v, "p-o2"), "status"), "archived") == 0;
        if (!seen)
            usleep (10000);
    }
    assert_true (seen);
    assert_int_equal (vmsg_int (v, "subtotal", 0), 1450);
    assert_int_equal (s_calls (f, "catalog-read", "get_many"), many);
}

//  Stock flags come from inventory's stock_changed events (the cart's stock view): a line is
//  short, then sold out, then ok as inventory moves; a SKU whose events the cart never saw
//  (changed while it was down, no follow) is asked of inventory and flagged as well.
static void
test_stock_flags_follow_inventory (void **state)
{
    fixture_t *f = *state;
    char data[128];
    snprintf (data, sizeof data, "%s/inventory", f->dir);
    const char *args[] = { "--data", data, "--partitions", "2", NULL };
    f->inventory = vit_actor_start (&f->broker, "vitrine-inventory", "inventory", args, 20000);
    assert_true (f->inventory > 0);
    usleep (300000);  //  the cart's subscription sees inventory's stream from its first event
    const char *cart = "u:mia";
    const vbus_caller_t mia = { "mia", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_call (f, "inventory", "restock", "SKU-p-a", &s_admin, NULL,
                              "{\"sku\":\"SKU-p-a\",\"product_id\":\"p-a\",\"qty\":2,"
                              "\"reason\":\"received\"}"),
                      VE_OK);
    assert_int_equal (s_cart (f, "add", cart, &mia, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-a\",\"qty\":5}", cart),
                      VE_OK);
    s_wait_line (f, cart, &mia, "p-a", "short", 2);
    assert_int_equal (s_call (f, "inventory", "adjust", "SKU-p-a", &s_admin, NULL,
                              "{\"sku\":\"SKU-p-a\",\"delta\":-2,\"reason\":\"damaged\"}"),
                      VE_OK);
    s_wait_line (f, cart, &mia, "p-a", "out_of_stock", 0);
    assert_int_equal (s_call (f, "inventory", "restock", "SKU-p-a", &s_admin, NULL,
                              "{\"sku\":\"SKU-p-a\",\"qty\":10,\"reason\":\"received\"}"),
                      VE_OK);
    s_wait_line (f, cart, &mia, "p-a", "ok", -1);
    //  Priced from the view: inventory is not asked.
    uint64_t gets = s_calls (f, "inventory", "get");
    int64_t units = 0;
    assert_string_equal (s_line_status (f, cart, &mia, "p-a", &units), "ok");
    assert_int_equal (s_calls (f, "inventory", "get"), gets);
    //  inventory's stream also carries restocked and low events the cart does not consume:
    //  they are no gaps to it, so it never asked for a replay.
    assert_int_equal (s_calls (f, "inventory", "replay"), 0);
    //  A SKU stocked while the cart was down: not in its view, asked of inventory.
    assert_int_equal (vit_stop (f->cart, SIGTERM, 10000), 0);
    f->cart = 0;
    assert_int_equal (s_call (f, "inventory", "restock", "SKU-p-b", &s_admin, NULL,
                              "{\"sku\":\"SKU-p-b\",\"product_id\":\"p-b\",\"qty\":1,"
                              "\"reason\":\"received\"}"),
                      VE_OK);
    f->cart = s_start_cart (f);
    assert_true (f->cart > 0);
    assert_int_equal (s_cart (f, "add", cart, &mia, NULL,
                              "{\"cart_id\":\"%s\",\"product_id\":\"p-b\",\"qty\":3}", cart),
                      VE_OK);
    int64_t available = -1;
    assert_string_equal (s_line_status (f, cart, &mia, "p-b", &available), "short");
    assert_int_equal (available, 1);
    assert_int_equal (vit_stop (f->inventory, SIGTERM, 10000), 0);
    f->inventory = 0;
}

//  While a lookup waits on a catalog that does not answer, the actor serves other calls.
static void
test_actor_serves_while_a_lookup_is_outstanding (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    const char *cart = "u:kim", *other = "u:lee";
    const vbus_caller_t kim = { "kim", VBUS_ROLE_CUSTOMER }, lee = { "lee", VBUS_ROLE_CUSTOMER };
    //  A product the cart's view does not hold: the add must ask catalog-read.
    assert_int_equal (s_create (f, "p-slow", 900, "EUR", "active"), VE_OK);
    s_wait_replica (f, "p-slow", "active");
    assert_int_equal (kill (f->replica, SIGSTOP), 0);
    char json[128];
    snprintf (json, sizeof json, "{\"cart_id\":\"%s\",\"product_id\":\"p-slow\",\"qty\":1}", cart);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
    vbus_opts_t opts = { .caller = &kim, .key = cart };
    int added = -1;
    assert_int_equal (vbus_client_send (f->client, "cart", "add", body.data, body.len, &opts,
                                        s_on_reply, &added, NULL),
                      0);
    vbuf_free (&body);
    usleep (100000);  //  the add is at the actor, waiting on catalog-read
    int64_t start = vbus_mono_us ();
    assert_int_equal (s_cart (f, "get", other, &lee, &v, "{\"cart_id\":\"%s\"}", other), VE_OK);
    int64_t took_ms = (vbus_mono_us () - start) / 1000;
    print_message ("get answered in %lld ms while the add waited\n", (long long) took_ms);
    assert_int_equal (added, -1);  //  still waiting
    assert_true (took_ms < 1000);
    //  The add gives up on the catalog (lookup_timeout_ms 3000) and changes nothing.
    for (int64_t end = vbus_mono_us () + 15000000; added == -1 && vbus_mono_us () < end;)
        vbus_client_poll (f->client, 100);
    assert_int_equal (added, VE_UNAVAILABLE);
    assert_int_equal (kill (f->replica, SIGCONT), 0);
    assert_int_equal (s_cart (f, "get", cart, &kim, &v, "{\"cart_id\":\"%s\"}", cart), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "lines")), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_add_and_get_price_every_line_from_the_catalog),
        cmocka_unit_test (test_set_qty_remove_and_clear),
        cmocka_unit_test (test_quantity_limits_refuse_and_change_nothing),
        cmocka_unit_test (test_line_limit_refuses_the_51st_and_merge_drops_it),
        cmocka_unit_test (test_mixed_currency_unknown_product_and_bad_ids_are_refused),
        cmocka_unit_test (test_archived_product_is_flagged_at_get),
        cmocka_unit_test (test_guest_cart_merges_into_the_users_cart),
        cmocka_unit_test (test_only_the_owner_reads_or_changes_a_users_cart),
        cmocka_unit_test (test_acknowledged_add_survives_kill9),
        cmocka_unit_test (test_stock_flags_follow_inventory),
        cmocka_unit_test (test_add_asks_the_catalog_only_for_products_it_has_not_seen),
        cmocka_unit_test (test_product_view_follows_the_catalog),
        //  Last: it stops catalog-read for a while.
        cmocka_unit_test (test_actor_serves_while_a_lookup_is_outstanding),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("cart", tests, s_setup, s_teardown);
}
