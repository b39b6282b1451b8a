//  test_catalog.c — the catalog actor with real processes: a broker, the catalog writer on a
//  temporary RocksDB, the demo catalog loaded by the real seeding tool, and a read replica.
//  Search results and facets are checked against the generator (the known catalog).
#include "vgen_catalog.h"
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

#define PRODUCTS 400

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    varena_t *arena;
    char dir[64];
    pid_t writer, replica, analytics;
} fixture_t;

static const vbus_caller_t s_admin = { "admin-1", VBUS_ROLE_ADMIN };
static const vbus_caller_t s_customer = { "u-1", VBUS_ROLE_CUSTOMER };

//  Starts the writer ("catalog") or a replica, with extra settings ("key=value", NULL-ended;
//  may be NULL).
static pid_t
s_start_with (fixture_t *f, const char *service, const char *const *settings)
{
    char data[128], svc[64];
    snprintf (data, sizeof data, "%s/%s", f->dir, service);
    snprintf (svc, sizeof svc, "service=%s", service);
    const char *args[24] = { "--data", data, "--set", svc };
    size_t n = 4;
    if (strcmp (service, "catalog") != 0) {
        args[n++] = "--set";
        args[n++] = "follow=catalog/0";
    }
    for (size_t i = 0; settings && settings[i] && n < 22; i++) {
        args[n++] = "--set";
        args[n++] = settings[i];
    }
    args[n] = NULL;
    return vit_actor_start (&f->broker, "vitrine-catalog", service, args, 20000);
}

static pid_t
s_start (fixture_t *f, const char *service)
{
    return s_start_with (f, service, NULL);
}

//  Stops what the fixture started and removes its directory; true when all went cleanly.
static bool
s_cleanup (fixture_t *f)
{
    bool clean = true;
    if (f->analytics > 0)
        clean &= vit_stop (f->analytics, SIGTERM, 10000) == 0;
    if (f->replica > 0)
        clean &= vit_stop (f->replica, SIGTERM, 10000) == 0;
    if (f->writer > 0)
        clean &= vit_stop (f->writer, SIGTERM, 10000) == 0;
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
    if (vit_tmpdir ("vitrine-catalog", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0)
        return -1;
    f->client = vbus_client_new (f->broker.endpoint, 10000);
    f->arena = varena_new (0);
    f->writer = s_start (f, "catalog");
    char n[16];
    snprintf (n, sizeof n, "%d", PRODUCTS);
    const char *args[] = { "--broker", f->broker.endpoint, "--products", n, NULL };
    char out[512];
    if (f->writer <= 0
        || vit_run ("vitrine-seed-catalog", args, out, sizeof out, NULL, 0, 60000) != 0) {
        s_cleanup (f);  //  nothing is left running when a setup fails
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    assert_true (s_cleanup (*state));  //  clean exits on SIGTERM, directory gone
    return 0;
}

static int
s_call (fixture_t *f, const char *service, const char *method, const char *json,
        const vbus_caller_t *caller, const vmsg_value_t **out)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, err, sizeof err))
        fail_msg ("bad test JSON %s: %s", json, err);
    vbus_opts_t opts = { .caller = caller };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, service, method, body.data, body.len, &opts, &reply), 0);
    vbuf_free (&body);
    int status = reply->status;
    if (status == VE_OK && out) {
        const vmsg_method_t *m = vmsg_method_find ("catalog", method);
        if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, out, err, sizeof err))
            fail_msg ("catalog.%s reply does not match its schema: %s", method, err);
    }
    vbus_msg_destroy (&reply);
    return status;
}

//  The first active product of the demo catalog with a title of 3+ words.
static void
s_known (vgen_product_t *p)
{
    for (uint64_t i = 0; i < PRODUCTS; i++) {
        vgen_product (i, p);
        if (p->active && strchr (strchr (p->title, ' ') + 1, ' '))
            return;
    }
    fail_msg ("no active product in the demo catalog");
}

static void
test_search_finds_known_products_with_exact_facets (void **state)
{
    fixture_t *f = *state;
    vgen_product_t p;
    s_known (&p);
    const vmsg_value_t *v;
    char json[512];
    snprintf (json, sizeof json, "{\"q\":\"%s\",\"limit\":100}", p.title);
    assert_int_equal (s_call (f, "catalog", "search", json, NULL, &v), VE_OK);
    bool found = false;
    const vmsg_value_t *hits = vmsg_get (v, "hits");
    for (uint32_t i = 0; i < vmsg_count (hits); i++)
        found |= strcmp (vmsg_str (vmsg_at (hits, i), "id"), p.id) == 0;
    assert_true (found);
    //  get returns the product as seeded, attributes included.
    char get[96];
    snprintf (get, sizeof get, "{\"id\":\"%s\"}", p.id);
    assert_int_equal (s_call (f, "catalog", "get", get, NULL, &v), VE_OK);
    assert_string_equal (vmsg_str (v, "title"), p.title);
    assert_int_equal (vmsg_int (v, "price", 0), p.price_minor);
    const vmsg_value_t *attrs = vmsg_get (v, "attributes");
    assert_int_equal (vmsg_count (attrs), p.nattrs);
    for (size_t i = 0; i < p.nattrs; i++)
        assert_string_equal (vmsg_str (vmsg_get (attrs, p.attr_keys[i]), NULL), p.attr_values[i]);
    //  Facets are exact over all matches: the top-level categories add up to the total.
    uint64_t total = vmsg_uint (v, "total", 0), sum = 0;
    const vmsg_value_t *cats = vmsg_get (vmsg_get (v, "facets"), "categories");
    for (uint32_t i = 0; i < vmsg_count (cats); i++)
        sum += vmsg_uint (vmsg_at (cats, i), "count", 0);
    assert_int_equal (sum, total);
    //  A typo in a long word still finds it, and says so.
    char typo[128];
    const char *word = strrchr (p.title, ' ') + 1;  //  the last word (the product noun)
    snprintf (typo, sizeof typo, "%s", word);
    if (strlen (typo) >= 5) {
        typo[1] = typo[1] == 'x' ? 'y' : 'x';
        snprintf (json, sizeof json, "{\"q\":\"%s %s\",\"limit\":100}", p.brand, typo);
        assert_int_equal (s_call (f, "catalog", "search", json, NULL, &v), VE_OK);
        assert_true (vmsg_uint (v, "total", 0) > 0);
        assert_true (vmsg_bool (v, "corrected", false));
    }
    //  A category filter keeps to the category, and the brand facet counts match a brand
    //  filter's total.
    snprintf (json, sizeof json, "{\"category\":\"%s\",\"limit\":100}", p.category);
    assert_int_equal (s_call (f, "catalog", "search", json, NULL, &v), VE_OK);
    hits = vmsg_get (v, "hits");
    for (uint32_t i = 0; i < vmsg_count (hits); i++)
        assert_string_equal (vmsg_str (vmsg_at (hits, i), "category"), p.category);
    const vmsg_value_t *brand = vmsg_at (vmsg_get (vmsg_get (v, "facets"), "brands"), 0);
    uint64_t brand_count = vmsg_uint (brand, "count", 0);
    snprintf (json, sizeof json, "{\"category\":\"%s\",\"brand\":\"%s\"}", p.category,
              vmsg_str (brand, "name"));
    assert_int_equal (s_call (f, "catalog", "search", json, NULL, &v), VE_OK);
    assert_int_equal (vmsg_uint (v, "total", 0), brand_count);
    //  Bad input is refused with the field named.
    assert_int_equal (s_call (f, "catalog", "search", "{\"sort\":\"cheapest\"}", NULL, NULL),
                      VE_BAD_REQUEST);
}

static void
test_list_pages_through_a_category (void **state)
{
    fixture_t *f = *state;
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "catalog", "categories", "{}", NULL, &v), VE_OK);
    const vmsg_value_t *cats = vmsg_get (v, "categories");
    assert_true (vmsg_count (cats) > 3);
    //  The first top-level category and its count.
    const char *category = NULL;
    uint64_t expected = 0;
    for (uint32_t i = 0; i < vmsg_count (cats) && !category; i++)
        if (!strchr (vmsg_str (vmsg_at (cats, i), "name"), '/')) {
            category = vmsg_str (vmsg_at (cats, i), "name");
            expected = vmsg_uint (vmsg_at (cats, i), "count", 0);
        }
    assert_non_null (category);
    char cat[64];
    snprintf (cat, sizeof cat, "%s", category);
    uint64_t seen = 0;
    char cursor[512] = "";
    char last_id[64] = "";
    for (int page = 0; page < 100; page++) {
        char json[700];
        snprintf (json, sizeof json, "{\"category\":\"%s\",\"limit\":7,\"cursor\":\"%s\"}", cat,
                  cursor);
        varena_reset (f->arena);
        assert_int_equal (s_call (f, "catalog", "list", json, NULL, &v), VE_OK);
        const vmsg_value_t *products = vmsg_get (v, "products");
        for (uint32_t i = 0; i < vmsg_count (products); i++) {
            const vmsg_value_t *p = vmsg_at (products, i);
            assert_int_equal (strncmp (vmsg_str (p, "category"), cat, strlen (cat)), 0);
            assert_string_equal (vmsg_str (p, "status"), "active");
            assert_string_not_equal (vmsg_str (p, "id"), last_id);
            snprintf (last_id, sizeof last_id, "%s", vmsg_str (p, "id"));
            seen++;
        }
        if (!vmsg_has (v, "next_cursor"))
            break;
        snprintf (cursor, sizeof cursor, "%s", vmsg_str (v, "next_cursor"));
    }
    assert_int_equal (seen, expected);
}

static void
test_writes_are_admin_only_and_visible_at_once (void **state)
{
    fixture_t *f = *state;
    const char *chair = "{\"id\":\"t-1\",\"sku\":\"T-1\",\"title\":\"Zyzzyva Lounge Chair\","
                        "\"brand\":\"Testbrand\",\"category\":\"furniture/chairs\","
                        "\"price\":12900,\"status\":\"active\"}";
    assert_int_equal (s_call (f, "catalog", "create", chair, NULL, NULL), VE_UNAUTHORIZED);
    assert_int_equal (s_call (f, "catalog", "create", chair, &s_customer, NULL), VE_FORBIDDEN);
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "catalog", "create", chair, &s_admin, &v), VE_OK);
    assert_string_equal (vmsg_str (v, "currency"), "EUR");
    assert_int_equal (s_call (f, "catalog", "create", chair, &s_admin, NULL), VE_CONFLICT);
    assert_int_equal (s_call (f, "catalog", "create",
                              "{\"sku\":\"x\",\"title\":\"x\",\"brand\":\"x\","
                              "\"category\":\"Bad Path\",\"price\":1}",
                              &s_admin, NULL),
                      VE_BAD_REQUEST);
    assert_int_equal (s_call (f, "catalog", "search", "{\"q\":\"zyzzyva\"}", NULL, &v), VE_OK);
    assert_int_equal (vmsg_uint (v, "total", 0), 1);
    assert_int_equal (
        s_call (f, "catalog", "update", "{\"id\":\"t-1\",\"price\":9900}", &s_admin, &v), VE_OK);
    assert_int_equal (s_call (f, "catalog", "get", "{\"id\":\"t-1\"}", NULL, &v), VE_OK);
    assert_int_equal (vmsg_int (v, "price", 0), 9900);
    assert_string_equal (vmsg_str (v, "title"), "Zyzzyva Lounge Chair");
    assert_int_equal (s_call (f, "catalog", "archive", "{\"id\":\"t-1\"}", &s_admin, NULL), VE_OK);
    assert_int_equal (s_call (f, "catalog", "get", "{\"id\":\"t-1\"}", NULL, NULL), VE_NOT_FOUND);
    assert_int_equal (s_call (f, "catalog", "get", "{\"id\":\"t-1\"}", &s_admin, &v), VE_OK);
    assert_string_equal (vmsg_str (v, "status"), "archived");
    assert_int_equal (s_call (f, "catalog", "search", "{\"q\":\"zyzzyva\"}", NULL, &v), VE_OK);
    assert_int_equal (vmsg_uint (v, "total", 0), 0);
    //  get_many reads each id as get does: the archived one is missing except for admins.
    vgen_product_t known;
    s_known (&known);
    char many[256];
    snprintf (many, sizeof many, "{\"ids\":[\"%s\",\"t-1\",\"no-such\"]}", known.id);
    assert_int_equal (s_call (f, "catalog", "get_many", many, NULL, &v), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "products")), 1);
    assert_string_equal (vmsg_str (vmsg_at (vmsg_get (v, "products"), 0), "id"), known.id);
    assert_int_equal (vmsg_count (vmsg_get (v, "missing")), 2);
    assert_string_equal (vmsg_str (vmsg_at (vmsg_get (v, "missing"), 0), NULL), "t-1");
    assert_int_equal (s_call (f, "catalog", "get_many", many, &s_admin, &v), VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "products")), 2);
    assert_int_equal (s_call (f, "catalog", "get_many", "{\"ids\":[]}", NULL, NULL),
                      VE_BAD_REQUEST);
}

static void
test_acknowledged_create_survives_kill9 (void **state)
{
    fixture_t *f = *state;
    const char *lamp = "{\"id\":\"t-2\",\"sku\":\"T-2\",\"title\":\"Quokkalight Desk Lamp\","
                       "\"brand\":\"Testbrand\",\"category\":\"furniture/lighting\","
                       "\"price\":4900,\"status\":\"active\"}";
    assert_int_equal (s_call (f, "catalog", "create", lamp, &s_admin, NULL), VE_OK);
    assert_int_equal (vit_stop (f->writer, SIGKILL, 2000), 128 + SIGKILL);
    assert_int_equal (vit_wait_workers (&f->broker, "catalog", 0, 10000), 0);
    f->writer = s_start (f, "catalog");
    assert_true (f->writer > 0);
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "catalog", "get", "{\"id\":\"t-2\"}", NULL, &v), VE_OK);
    assert_int_equal (s_call (f, "catalog", "search", "{\"q\":\"quokkalight\"}", NULL, &v), VE_OK);
    assert_int_equal (vmsg_uint (v, "total", 0), 1);
}

//  A start indexes the store in batches of 1,024 read on a second thread: with 3,000 products
//  (three batches and a part) every product is found again, the last ones included.
static void
test_restart_indexes_every_product (void **state)
{
    fixture_t *f = *state;
    const char *args[] = { "--broker", f->broker.endpoint, "--products", "3000", NULL };
    char out[512];
    assert_int_equal (vit_run ("vitrine-seed-catalog", args, out, sizeof out, NULL, 0, 60000), 0);
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "catalog", "search", "{}", NULL, &v), VE_OK);
    uint64_t before = vmsg_uint (v, "total", 0);
    assert_true (before > 2048);
    assert_int_equal (vit_stop (f->writer, SIGTERM, 10000), 0);
    f->writer = s_start (f, "catalog");
    assert_true (f->writer > 0);
    varena_reset (f->arena);
    assert_int_equal (s_call (f, "catalog", "search", "{}", NULL, &v), VE_OK);
    assert_int_equal (vmsg_uint (v, "total", 0), before);
    //  The store's last product (ids sort as text), after the last full batch.
    assert_int_equal (s_call (f, "catalog", "get", "{\"id\":\"p00000002999\"}", NULL, &v), VE_OK);
}

static void
test_replica_started_late_serves_the_same (void **state)
{
    fixture_t *f = *state;
    f->replica = s_start (f, "catalog-read");
    assert_true (f->replica > 0);
    const vmsg_value_t *a, *b;
    assert_int_equal (s_call (f, "catalog", "search", "{\"q\":\"chair\"}", NULL, &a), VE_OK);
    assert_int_equal (s_call (f, "catalog-read", "search", "{\"q\":\"chair\"}", NULL, &b), VE_OK);
    assert_true (vmsg_uint (a, "total", 0) > 0);
    assert_int_equal (vmsg_uint (a, "total", 0), vmsg_uint (b, "total", 1));
    //  It follows new writes, and refuses writes itself.
    const char *sofa = "{\"id\":\"t-3\",\"sku\":\"T-3\",\"title\":\"Wombatique Sofa\","
                       "\"brand\":\"Testbrand\",\"category\":\"furniture/sofas\","
                       "\"price\":99900,\"status\":\"active\"}";
    assert_int_equal (s_call (f, "catalog", "create", sofa, &s_admin, NULL), VE_OK);
    int status = VE_NOT_FOUND;
    for (int i = 0; i < 100 && status != VE_OK; i++)
        if ((status = s_call (f, "catalog-read", "get", "{\"id\":\"t-3\"}", NULL, NULL)) != VE_OK)
            usleep (50000);
    assert_int_equal (status, VE_OK);
    assert_int_equal (s_call (f, "catalog-read", "create", sofa, &s_admin, NULL), VE_FORBIDDEN);
}

//  Publishes inventory.stock_changed for a product, repeating (with the next sequence
//  number) until the catalog shows the flag: a new publisher's first events may go out before
//  its connection is up.
static void
s_set_stock (fixture_t *f, vbus_pub_t *pub, uint64_t *seq, const char *service, const char *id,
             bool in_stock)
{
    char json[256], get[96];
    snprintf (json, sizeof json,
              "{\"product_id\":\"%s\",\"sku\":\"x\",\"available\":%d,\"in_stock\":%s}", id,
              in_stock ? 5 : 0, in_stock ? "true" : "false");
    snprintf (get, sizeof get, "{\"id\":\"%s\"}", id);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        assert_int_equal (vbus_pub_send (pub, "inventory.stock_changed", "inventory/0", ++*seq,
                                         body.data, body.len),
                          0);
        usleep (50000);
        const vmsg_value_t *v;
        varena_reset (f->arena);
        seen = s_call (f, service, "get", get, NULL, &v) == VE_OK
               && vmsg_bool (v, "in_stock", !in_stock) == in_stock;
    }
    vbuf_free (&body);
    assert_true (seen);
}

//  True when a search (json, on the writer) has a hit for id with this price and stock flag.
static bool
s_hit_shows (fixture_t *f, const char *json, const char *id, int64_t price, bool in_stock)
{
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "catalog", "search", json, NULL, &v), VE_OK);
    const vmsg_value_t *hits = vmsg_get (v, "hits");
    for (uint32_t i = 0; i < vmsg_count (hits); i++) {
        const vmsg_value_t *h = vmsg_at (hits, i);
        if (strcmp (vmsg_str (h, "id"), id) == 0)
            return vmsg_int (h, "price", -1) == price && vmsg_bool (h, "in_stock", !in_stock) == in_stock;
    }
    return false;
}

static void
test_inventory_stream_sets_in_stock (void **state)
{
    fixture_t *f = *state;
    f->replica = s_start (f, "catalog-read");
    assert_true (f->replica > 0);
    vgen_product_t p;
    s_known (&p);
    vbus_pub_t *pub = vbus_pub_new (f->broker.pub);
    uint64_t seq = 0;
    s_set_stock (f, pub, &seq, "catalog", p.id, false);
    s_set_stock (f, pub, &seq, "catalog-read", p.id, false);  //  replicas follow it too
    //  The in-stock filter leaves it out; without the filter it is found.
    char json[512];
    snprintf (json, sizeof json, "{\"q\":\"%s\",\"in_stock\":true,\"limit\":100}", p.title);
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "catalog", "search", json, NULL, &v), VE_OK);
    const vmsg_value_t *hits = vmsg_get (v, "hits");
    for (uint32_t i = 0; i < vmsg_count (hits); i++)
        assert_string_not_equal (vmsg_str (vmsg_at (hits, i), "id"), p.id);
    //  An update by the writer keeps the flag; stock coming back restores it.
    char update[128];
    snprintf (update, sizeof update, "{\"id\":\"%s\",\"price\":1234}", p.id);
    assert_int_equal (s_call (f, "catalog", "update", update, &s_admin, &v), VE_OK);
    assert_false (vmsg_bool (v, "in_stock", true));
    //  Hits carry what the product is now: the new price, out of stock.
    snprintf (json, sizeof json, "{\"q\":\"%s\",\"limit\":100}", p.title);
    assert_true (s_hit_shows (f, json, p.id, 1234, false));
    s_set_stock (f, pub, &seq, "catalog", p.id, true);
    assert_true (s_hit_shows (f, json, p.id, 1234, true));
    vbus_pub_destroy (&pub);
}

//  The consumer counters of the catalog's stats: events received, applied, gaps noticed.
static void
s_consumer_counts (fixture_t *f, uint64_t *received, uint64_t *applied, uint64_t *gaps)
{
    varena_reset (f->arena);
    const vmsg_value_t *v = vit_stats (f->client, "catalog", 0, f->arena);
    assert_non_null (v);
    *received = vmsg_uint (v, "events_received", 0);
    *applied = vmsg_uint (v, "events_applied", 0);
    *gaps = vmsg_uint (v, "gaps", 0);
}

//  The catalog takes inventory.stock_changed alone: the stream's other topics never reach it,
//  an event whose prev is its position is no gap though the stream's numbers jumped, and one
//  whose prev is past its position is (no inventory runs here: the replay fails, and the
//  event is applied all the same).
static void
test_stock_changes_followed_alone (void **state)
{
    fixture_t *f = *state;
    vgen_product_t p;
    s_known (&p);
    vbus_pub_t *pub = vbus_pub_new (f->broker.pub);
    uint64_t seq = 0;
    s_set_stock (f, pub, &seq, "catalog", p.id, false);
    uint64_t received, applied, gaps;
    s_consumer_counts (f, &received, &applied, &gaps);
    //  Three reservations on the stream between two stock changes.
    const char *reserved = "{\"reservation_id\":\"r1\",\"lines\":[],\"expires_at\":1,\"at\":1}";
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, reserved, strlen (reserved), &body, NULL, 0), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal (vbus_pub_send (pub, "inventory.reserved", "inventory/0", ++seq,
                                         body.data, body.len),
                          0);
    s_set_stock (f, pub, &seq, "catalog", p.id, true);
    uint64_t received2, applied2, gaps2;
    s_consumer_counts (f, &received2, &applied2, &gaps2);
    assert_true (applied2 > applied);
    assert_int_equal (received2 - received, applied2 - applied);  //  no reservation came
    assert_int_equal (gaps2, gaps);
    //  A stock change lost: the next one names it as its prev.
    char json[256];
    snprintf (json, sizeof json,
              "{\"product_id\":\"%s\",\"sku\":\"x\",\"available\":0,\"in_stock\":false}",
              p.id);
    vbuf_reset (&body);
    assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
    seq += 2;
    assert_int_equal (vbus_pub_send_after (pub, "inventory.stock_changed", "inventory/0", seq,
                                           seq - 1, body.data, body.len),
                      0);
    char get[96];
    snprintf (get, sizeof get, "{\"id\":\"%s\"}", p.id);
    bool out = false;
    for (int i = 0; i < 100 && !out; i++) {
        const vmsg_value_t *v;
        varena_reset (f->arena);
        out = s_call (f, "catalog", "get", get, NULL, &v) == VE_OK && !vmsg_bool (v, "in_stock", true);
        if (!out)
            usleep (50000);
    }
    assert_true (out);
    s_consumer_counts (f, &received2, &applied2, &gaps2);
    assert_int_equal (gaps2, gaps + 1);
    vbuf_free (&body);
    vbus_pub_destroy (&pub);
}

//  Calls catalog.put_scene with raw scene bytes; returns the status, the message in msg.
static int
s_put_scene (fixture_t *f, const char *id, const void *scene, size_t len,
             const vbus_caller_t *caller, char *msg, size_t msglen)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, 2);
    vmp_pack_kstr (&pk, "id", id);
    vmp_pack_cstr (&pk, "scene");
    msgpack_pack_bin (&pk, len);
    msgpack_pack_bin_body (&pk, scene, len);
    vbus_opts_t opts = { .caller = caller };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, "catalog", "put_scene", body.data, body.len, &opts, &reply),
        0);
    vbuf_free (&body);
    int status = reply->status;
    snprintf (msg, msglen, "%s", reply->message);
    vbus_msg_destroy (&reply);
    return status;
}

//  The seeder gave every product its demo scene; put_scene validates, hashes canonically and
//  reaches the replicas with the event; get_scene is for services and admins.
static void
test_scenes_are_stored_validated_and_replicated (void **state)
{
    fixture_t *f = *state;
    vgen_product_t p;
    s_known (&p);
    const vmsg_value_t *v;
    char json[256], msg[256];
    snprintf (json, sizeof json, "{\"id\":\"%s\"}", p.id);
    assert_int_equal (s_call (f, "catalog", "get", json, NULL, &v), VE_OK);
    const char *hash = vmsg_str (v, "scene_hash");
    assert_non_null (hash);
    assert_int_equal (strlen (hash), 16);
    const vbus_caller_t service = { "render-1", VBUS_ROLE_SERVICE };
    assert_int_equal (s_call (f, "catalog", "get_scene", json, &service, &v), VE_OK);
    assert_string_equal (vmsg_str (v, "scene_hash"), hash);
    size_t len;
    const void *doc = vmsg_bytes (v, "scene", &len);
    assert_true (len > 10);
    //  Anonymous callers and customers do not get scene documents.
    assert_int_equal (s_call (f, "catalog", "get_scene", json, NULL, NULL), VE_UNAUTHORIZED);
    assert_int_equal (s_call (f, "catalog", "get_scene", json, &s_customer, NULL), VE_FORBIDDEN);

    //  The same document again changes nothing; a customer may not set one.
    char *copy = malloc (len);
    memcpy (copy, doc, len);
    assert_int_equal (s_put_scene (f, p.id, copy, len, &s_admin, msg, sizeof msg), VE_OK);
    assert_int_equal (s_put_scene (f, p.id, copy, len, &s_customer, msg, sizeof msg), VE_FORBIDDEN);
    //  A broken scene is refused with the node path named, and the old one stays.
    const char bad[] = "\x81\xa4"
                       "type"
                       "\xa4"
                       "blob";
    assert_int_equal (s_put_scene (f, p.id, bad, sizeof bad - 1, &s_admin, msg, sizeof msg),
                      VE_BAD_REQUEST);
    assert_non_null (strstr (msg, "scene"));
    assert_int_equal (s_put_scene (f, "no-such-product", copy, len, &s_admin, msg, sizeof msg),
                      VE_NOT_FOUND);
    assert_int_equal (s_call (f, "catalog", "get", json, NULL, &v), VE_OK);
    assert_string_equal (vmsg_str (v, "scene_hash"), hash);

    //  Another product's scene on this one: a new hash, on the writer and on a replica.
    vgen_product_t other;
    uint64_t index = strtoull (p.id + 1, NULL, 10);  //  ids are "p" and the index
    vgen_product ((index + 1) % PRODUCTS, &other);
    snprintf (json, sizeof json, "{\"id\":\"%s\"}", other.id);
    assert_int_equal (s_call (f, "catalog", "get_scene", json, &service, &v), VE_OK);
    const void *odoc = vmsg_bytes (v, "scene", &len);
    char *ocopy = malloc (len);
    memcpy (ocopy, odoc, len);
    char ohash[17];
    snprintf (ohash, sizeof ohash, "%s", vmsg_str (v, "scene_hash"));
    assert_int_equal (s_put_scene (f, p.id, ocopy, len, &s_admin, msg, sizeof msg), VE_OK);
    f->replica = s_start (f, "catalog-read");
    assert_true (f->replica > 0);
    snprintf (json, sizeof json, "{\"id\":\"%s\"}", p.id);
    assert_int_equal (s_call (f, "catalog-read", "get_scene", json, &service, &v), VE_OK);
    if (strcmp (ohash, hash) != 0)  //  two demo products may share a scene
        assert_string_not_equal (vmsg_str (v, "scene_hash"), hash);
    assert_string_equal (vmsg_str (v, "scene_hash"), ohash);
    //  Search hits carry it too (the storefront's thumbnails use it for versioned URLs).
    snprintf (json, sizeof json, "{\"q\":\"%s\",\"limit\":100}", p.title);
    assert_int_equal (s_call (f, "catalog", "search", json, NULL, &v), VE_OK);
    const vmsg_value_t *hits = vmsg_get (v, "hits");
    bool found = false;
    for (uint32_t i = 0; i < vmsg_count (hits); i++)
        if (strcmp (vmsg_str (vmsg_at (hits, i), "id"), p.id) == 0) {
            assert_string_equal (vmsg_str (vmsg_at (hits, i), "scene_hash"), ohash);
            found = true;
        }
    assert_true (found);
    free (copy);
    free (ocopy);
}

//  catalog.suggest through the broker: a public caller gets completions of a half-typed word
//  of a known product and that product among a few, with the matched parts marked; bad input
//  is refused as a bad request.
static void
test_suggest_completes_and_marks (void **state)
{
    fixture_t *f = *state;
    vgen_product_t p;
    s_known (&p);
    char word[64], json[256];
    snprintf (word, sizeof word, "%.*s", (int) strcspn (p.title, " "), p.title);
    for (char *c = word; *c; c++)
        *c = (char) (*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    size_t typed = strlen (word) > 3 ? strlen (word) - 1 : strlen (word);
    snprintf (json, sizeof json, "{\"q\":\"%.*s\",\"limit\":8}", (int) typed, word);
    const vbus_caller_t anyone = { "", 0 };  //  a visitor: no role
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "catalog", "suggest", json, &anyone, &v), VE_OK);
    const vmsg_value_t *comps = vmsg_get (v, "completions");
    assert_true (vmsg_count (comps) >= 1 && vmsg_count (comps) <= 8);
    bool found = false;
    for (uint32_t i = 0; i < vmsg_count (comps); i++) {
        const vmsg_value_t *c = vmsg_at (comps, i);
        assert_memory_equal (vmsg_str (c, "text"), word, typed);
        const vmsg_value_t *mark = vmsg_at (vmsg_get (c, "marks"), 0);
        assert_int_equal (vmsg_uint (mark, "start", 9), 0);
        assert_int_equal (vmsg_uint (mark, "len", 0), typed);
        found |= strcmp (vmsg_str (c, "text"), word) == 0;
    }
    assert_true (found);
    const vmsg_value_t *products = vmsg_get (v, "products");
    assert_true (vmsg_count (products) >= 1 && vmsg_count (products) <= 4);
    const vmsg_value_t *first = vmsg_at (products, 0);
    assert_non_null (vmsg_str (first, "currency"));
    const vmsg_value_t *mark = vmsg_at (vmsg_get (first, "marks"), 0);
    assert_non_null (mark);
    assert_true (vmsg_uint (mark, "len", 0) >= typed);
    //  Bad input: no text, text over the limit, a limit out of range.
    assert_int_equal (s_call (f, "catalog", "suggest", "{\"q\":\"\"}", &anyone, NULL),
                      VE_BAD_REQUEST);
    assert_int_equal (s_call (f, "catalog", "suggest", "{\"q\":\"ch\",\"limit\":9}", &anyone,
                              NULL),
                      VE_BAD_REQUEST);
    char big[200] = "{\"q\":\"";
    memset (big + 6, 'a', 129);
    strcpy (big + 135, "\"}");
    assert_int_equal (s_call (f, "catalog", "suggest", big, &anyone, NULL), VE_BAD_REQUEST);
}

//  What shoppers searched, through real processes: searches published as the edge does reach a
//  real analytics actor, the catalog asks it (every 200 ms here) and offers those run at least
//  searches_min (2) times, marked searched, in their normal form; a search naming a word no
//  product has, one run once and one that found nothing are not offered.
static void
test_suggest_offers_what_shoppers_searched (void **state)
{
    fixture_t *f = *state;
    char data[128];
    snprintf (data, sizeof data, "%s/analytics", f->dir);
    const char *aargs[] = { "--data", data, NULL };
    f->analytics = vit_actor_start (&f->broker, "vitrine-analytics", "analytics", aargs, 20000);
    assert_true (f->analytics > 0);
    assert_int_equal (vit_stop (f->writer, SIGTERM, 10000), 0);
    const char *settings[] = { "searches_every_ms=200", "searches_min=2", NULL };
    f->writer = s_start_with (f, "catalog", settings);
    assert_true (f->writer > 0);
    //  The known product's first three words, as the index reads them.
    vgen_product_t p;
    s_known (&p);
    char w[3][64];
    const char *t = p.title;
    for (int i = 0; i < 3; i++) {
        size_t n = 0;
        while (*t && !((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9')))
            t++;
        while (*t && ((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9')) && n < 63)
            w[i][n++] = (char) (*t >= 'A' && *t <= 'Z' ? *t++ + 32 : *t++);
        w[i][n] = 0;
    }
    vbus_pub_t *pub = vbus_pub_new (f->broker.pub);
    assert_non_null (pub);
    usleep (300000);  //  the publisher's link (slow joiner)
    char two[200], three[200], junk[200];
    snprintf (two, sizeof two, "%s %s", w[0], w[1]);
    snprintf (three, sizeof three, "%s %s %s", w[0], w[1], w[2]);
    snprintf (junk, sizeof junk, "%s zzqxv", w[0]);
    struct {
        const char *q;
        int results, times;
    } searches[] = { { three, 2, 1 }, { junk, 1, 3 }, { three, 0, 4 }, { two, 7, 3 } };
    //  In that order: once "two" is offered, the catalog's table holds what came before.
    uint64_t seq = 0;
    for (size_t i = 0; i < sizeof searches / sizeof *searches; i++)
        for (int k = 0; k < searches[i].times; k++) {
            char json[300];
            snprintf (json, sizeof json, "{\"q\":\"%s\",\"results\":%d}", searches[i].q,
                      searches[i].results);
            vbuf_t body;
            vbuf_init (&body, NULL, 0);
            char err[200];
            assert_int_equal (vmsg_json_to_msgpack (vmsg_event_find ("search.performed")->schema,
                                                    json, strlen (json), &body, err, sizeof err),
                              0);
            assert_int_equal (vbus_pub_send (pub, "search.performed", "edge-t/0", ++seq,
                                             body.data, body.len),
                              0);
            vbuf_free (&body);
        }
    //  Typed: the first word and the second's first letter.
    char json[300];
    snprintf (json, sizeof json, "{\"q\":\"%s %c\",\"limit\":8}", w[0], w[1][0]);
    const vbus_caller_t anyone = { "", 0 };
    const vmsg_value_t *v = NULL, *offered = NULL;
    for (int round = 0; round < 100 && !offered; round++) {
        varena_reset (f->arena);
        assert_int_equal (s_call (f, "catalog", "suggest", json, &anyone, &v), VE_OK);
        const vmsg_value_t *comps = vmsg_get (v, "completions");
        for (uint32_t i = 0; i < vmsg_count (comps) && !offered; i++)
            if (vmsg_bool (vmsg_at (comps, i), "searched", false))
                offered = vmsg_at (comps, i);
        if (!offered)
            usleep (100000);
    }
    assert_non_null (offered);
    assert_string_equal (vmsg_str (offered, "text"), two);
    const vmsg_value_t *mark = vmsg_at (vmsg_get (offered, "marks"), 0);
    assert_int_equal (vmsg_uint (mark, "start", 9), 0);
    assert_int_equal (vmsg_uint (mark, "len", 0), strlen (w[0]) + 2);
    assert_ptr_equal (vmsg_at (vmsg_get (v, "completions"), 0), offered);  //  searched first
    const vmsg_value_t *comps = vmsg_get (v, "completions");
    for (uint32_t i = 0; i < vmsg_count (comps); i++) {
        const vmsg_value_t *c = vmsg_at (comps, i);
        assert_null (strstr (vmsg_str (c, "text"), "zzqxv"));
        if (vmsg_bool (c, "searched", false))
            assert_string_not_equal (vmsg_str (c, "text"), three);
    }
    vbus_pub_destroy (&pub);
    //  A stop while its call to analytics is out (analytics stopped, so no reply comes): the
    //  catalog waits for the call's timeout, runs its callback and exits cleanly (in the
    //  sanitizer build: nothing of the call leaks).
    assert_int_equal (kill (f->analytics, SIGSTOP), 0);
    usleep (700000);  //  a poll goes out (every 200 ms) and waits
    assert_int_equal (vit_stop (f->writer, SIGTERM, 10000), 0);
    f->writer = -1;
    assert_int_equal (kill (f->analytics, SIGCONT), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_suggest_completes_and_marks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_suggest_offers_what_shoppers_searched, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_search_finds_known_products_with_exact_facets,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_list_pages_through_a_category, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_writes_are_admin_only_and_visible_at_once, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_acknowledged_create_survives_kill9, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_restart_indexes_every_product, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_replica_started_late_serves_the_same, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_inventory_stream_sets_in_stock, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stock_changes_followed_alone, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_scenes_are_stored_validated_and_replicated, s_setup,
                                         s_teardown),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("catalog", tests, NULL, NULL);
}
