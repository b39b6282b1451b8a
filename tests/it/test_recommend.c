//  test_recommend.c — the recommend actor with real processes: a broker and vitrine-recommend,
//  fed with order.confirmed and product.viewed events on made-up streams. Scores are compared
//  with the formulas computed here from the events sent: co-purchase cosine with a minimum
//  support, co-views in a session, trending decay under a shifted clock, picks per shopper.
#include "vit.h"
#include "vmsg.h"
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    vbus_pub_t *pub;
    varena_t *arena;
    char dir[64], data[96];
    pid_t recommend;
    uint64_t order_seq, view_seq;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (vit_tmpdir ("vitrine-recommend", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0)
        return -1;
    snprintf (f->data, sizeof f->data, "%s/data", f->dir);
    f->client = vbus_client_new (f->broker.endpoint, 30000);
    f->pub = vbus_pub_new (f->broker.pub);
    f->arena = varena_new (0);
    usleep (300000);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    bool clean = f->recommend <= 0 || vit_stop (f->recommend, SIGTERM, 15000) == 0;
    vbus_pub_destroy (&f->pub);
    vbus_client_destroy (&f->client);
    vit_stop (f->broker.pid, SIGTERM, 5000);
    varena_destroy (&f->arena);
    clean &= vit_rmtree (f->dir) == 0;
    free (f);
    return clean ? 0 : -1;
}

static void
s_start (fixture_t *f, const char *const *extra)
{
    const char *args[16] = { "--data", f->data };
    size_t n = 2;
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    f->recommend = vit_actor_start (&f->broker, "vitrine-recommend", "recommend", args, 20000);
    assert_true (f->recommend > 0);
    usleep (300000);
}

static void
s_pub (fixture_t *f, const char *topic, const char *stream, uint64_t seq, const char *json)
{
    const vmsg_event_t *e = vmsg_event_find (topic);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (e->schema, json, strlen (json), &body, err, sizeof err))
        fail_msg ("bad event JSON %s: %s", json, err);
    assert_int_equal (vbus_pub_send (f->pub, topic, stream, seq, body.data, body.len), 0);
    vbuf_free (&body);
}

//  A confirmed order of user with the products (NULL-terminated).
static void
s_order (fixture_t *f, const char *user, const char *const *products)
{
    char lines[2000] = "", json[2400];
    size_t at = 0;
    for (int i = 0; products[i]; i++)
        at += (size_t) snprintf (lines + at, sizeof lines - at,
                                 "%s{\"product_id\":\"%s\",\"sku\":\"S\",\"title\":\"T\","
                                 "\"qty\":1,\"unit_price\":100,\"line_total\":100}",
                                 i ? "," : "", products[i]);
    f->order_seq++;
    snprintf (json, sizeof json,
              "{\"order_id\":\"%s.%llu\",\"user_id\":\"%s\",\"lines\":[%s],\"subtotal\":100,"
              "\"total\":100,\"currency\":\"EUR\",\"at\":%lld}",
              user, (unsigned long long) f->order_seq, user, lines, (long long) vbus_now_ms ());
    s_pub (f, "order.confirmed", "torders/0", f->order_seq, json);
}

static void
s_view (fixture_t *f, const char *product, const char *category, const char *user,
        const char *session)
{
    char json[400];
    int n = snprintf (json, sizeof json, "{\"product_id\":\"%s\"", product);
    if (category)
        n += snprintf (json + n, sizeof json - (size_t) n, ",\"category\":\"%s\"", category);
    if (user)
        n += snprintf (json + n, sizeof json - (size_t) n, ",\"user_id\":\"%s\"", user);
    if (session)
        n += snprintf (json + n, sizeof json - (size_t) n, ",\"session_id\":\"%s\"", session);
    snprintf (json + n, sizeof json - (size_t) n, "}");
    s_pub (f, "product.viewed", "edge-r/0", ++f->view_seq, json);
}

static const vmsg_value_t *
s_call (fixture_t *f, const char *method, const char *json, const vbus_caller_t *caller,
        int want)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
    vbus_opts_t opts = { .caller = caller, .timeout_ms = 30000 };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, "recommend", method, body.data, body.len, &opts, &reply), 0);
    vbuf_free (&body);
    if (reply->status != want)
        fail_msg ("recommend.%s: status %d (%s), want %d", method, reply->status, reply->message,
                  want);
    const vmsg_value_t *v = NULL;
    char err[200];
    if (want == VE_OK) {
        const vmsg_method_t *m = vmsg_method_find ("recommend", method);
        if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, &v, err, sizeof err))
            fail_msg ("recommend.%s reply does not match its schema: %s", method, err);
    }
    vbus_msg_destroy (&reply);
    return v;
}

//  Waits until method (json) answers n items; returns the reply.
static const vmsg_value_t *
s_wait_items (fixture_t *f, const char *method, const char *json, const vbus_caller_t *caller,
              uint32_t n)
{
    const vmsg_value_t *v = NULL;
    for (int i = 0; i < 100; i++) {
        varena_reset (f->arena);
        v = s_call (f, method, json, caller, VE_OK);
        if (vmsg_count (vmsg_get (v, "items")) == n)
            return v;
        usleep (100000);
    }
    fail_msg ("recommend.%s %s: %u items, want %u", method, json,
              vmsg_count (vmsg_get (v, "items")), n);
    return v;
}

static void
s_item_is (const vmsg_value_t *v, uint32_t i, const char *id, double score)
{
    const vmsg_value_t *it = vmsg_at (vmsg_get (v, "items"), i);
    assert_non_null (it);
    assert_string_equal (vmsg_str (it, "product_id"), id);
    if (fabs (vmsg_float (it, "score", -1) - score) > 1e-2 * (score > 1 ? score : 1))
        fail_msg ("%s: score %f, want %f", id, vmsg_float (it, "score", -1), score);
}

//  ---------------------------------------------------------------- tests

static void
test_bought_together_with_minimum_support (void **state)
{
    fixture_t *f = *state;
    const char *extra[] = { "--set", "min_support=2", NULL };
    s_start (f, extra);
    //  A with B three times, with D twice, with C once (under the support).
    const char *ab[] = { "A", "B", NULL }, *ad[] = { "A", "D", NULL }, *ac[] = { "A", "C", NULL };
    const char *b[] = { "B", NULL };
    for (int i = 0; i < 3; i++)
        s_order (f, "u1", ab);
    for (int i = 0; i < 2; i++)
        s_order (f, "u2", ad);
    s_order (f, "u3", ac);
    s_order (f, "u4", b);
    //  Orders holding A: 6; B: 4; D: 2. Cosine = together / sqrt(n_a n_b).
    const vmsg_value_t *v =
        s_wait_items (f, "bought_together", "{\"product_id\":\"A\",\"limit\":5}", NULL, 2);
    s_item_is (v, 0, "B", 3 / sqrt (6.0 * 4));
    s_item_is (v, 1, "D", 2 / sqrt (6.0 * 2));
    varena_reset (f->arena);
    v = s_call (f, "bought_together", "{\"product_id\":\"C\"}", NULL, VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "items")), 0);  //  support 1 < 2
    //  Lift after a restart with score=lift: together × N / (n_a n_b), N = 7 orders.
    assert_int_equal (vit_stop (f->recommend, SIGTERM, 15000), 0);
    const char *lift[] = { "--set", "min_support=2", "--set", "score=lift", NULL };
    s_start (f, lift);
    varena_reset (f->arena);
    v = s_call (f, "bought_together", "{\"product_id\":\"A\",\"limit\":1}", NULL, VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "items")), 1);
    s_item_is (v, 0, "D", 2.0 * 7 / (6.0 * 2));
}

static void
test_also_viewed_within_a_session (void **state)
{
    fixture_t *f = *state;
    s_start (f, NULL);
    //  s1: P1 P2; s2: P1 P3; s3: P1 P2 P1 (a reload adds nothing).
    s_view (f, "P1", NULL, NULL, "s1");
    s_view (f, "P2", NULL, NULL, "s1");
    s_view (f, "P1", NULL, NULL, "s2");
    s_view (f, "P3", NULL, NULL, "s2");
    s_view (f, "P1", NULL, NULL, "s3");
    s_view (f, "P2", NULL, NULL, "s3");
    s_view (f, "P1", NULL, NULL, "s3");
    //  Sessions viewing P1: 3, P2: 2, P3: 1.
    const vmsg_value_t *v = s_wait_items (f, "also_viewed", "{\"product_id\":\"P1\"}", NULL, 2);
    s_item_is (v, 0, "P2", 2 / sqrt (3.0 * 2));
    s_item_is (v, 1, "P3", 1 / sqrt (3.0 * 1));
}

static void
test_trending_decays_with_the_clock (void **state)
{
    fixture_t *f = *state;
    const char *extra[] = { "--set", "half_life_ms=3600000", NULL };
    s_start (f, extra);
    for (int i = 0; i < 8; i++)
        s_view (f, "T1", "lamps/desk", NULL, NULL);
    for (int i = 0; i < 3; i++)
        s_view (f, "T2", "chairs", NULL, NULL);
    const vmsg_value_t *v = s_wait_items (f, "trending", "{}", NULL, 2);
    s_item_is (v, 0, "T1", 8);
    s_item_is (v, 1, "T2", 3);
    varena_reset (f->arena);
    v = s_call (f, "trending", "{\"category\":\"lamps\"}", NULL, VE_OK);
    assert_int_equal (vmsg_count (vmsg_get (v, "items")), 1);
    //  One half-life later everything is worth half; two, a quarter.
    assert_int_equal (vit_stop (f->recommend, SIGTERM, 15000), 0);
    const char *later[] = { "--set", "half_life_ms=3600000", "--set", "clock_offset_ms=3600000",
                            NULL };
    s_start (f, later);
    varena_reset (f->arena);
    v = s_call (f, "trending", "{}", NULL, VE_OK);
    s_item_is (v, 0, "T1", 4);
    s_item_is (v, 1, "T2", 1.5);
    //  Events keep their own time: two half-lives on, a quarter.
    assert_int_equal (vit_stop (f->recommend, SIGTERM, 15000), 0);
    const char *much_later[] = { "--set", "half_life_ms=3600000", "--set",
                                 "clock_offset_ms=7200000", NULL };
    s_start (f, much_later);
    varena_reset (f->arena);
    v = s_call (f, "trending", "{}", NULL, VE_OK);
    s_item_is (v, 0, "T1", 2);
}

static void
test_for_user_leaves_out_what_they_bought_and_cold_start_trends (void **state)
{
    fixture_t *f = *state;
    const char *extra[] = { "--set", "min_support=1", NULL };
    s_start (f, extra);
    const char *ab[] = { "A", "B", NULL }, *ac[] = { "A", "C", NULL }, *a[] = { "A", NULL };
    s_order (f, "u1", ab);
    s_order (f, "u2", ac);
    s_order (f, "buyer", a);  //  buyer bought A: B and C come with it, A never
    s_view (f, "L1", "lamps/desk", "cold", NULL);
    for (int i = 0; i < 3; i++)
        s_view (f, "L2", "lamps/floor", NULL, NULL);
    for (int i = 0; i < 5; i++)
        s_view (f, "CH", "chairs", NULL, NULL);
    vbus_caller_t buyer = { "buyer", VBUS_ROLE_CUSTOMER };
    const vmsg_value_t *v = s_wait_items (f, "for_user", "{}", &buyer, 2);
    assert_string_equal (vmsg_str (v, "source"), "personal");
    //  Orders with A: 3, with B: 1, with C: 1; cosine 1/sqrt(3), doubled for a purchase.
    s_item_is (v, 0, "B", 2 / sqrt (3.0));
    s_item_is (v, 1, "C", 2 / sqrt (3.0));
    //  A shopper with a view only and no co-views: trending in their category (lamps/desk →
    //  lamps/desk only; the category is the viewed product's own).
    vbus_caller_t cold = { "cold", VBUS_ROLE_CUSTOMER };
    v = s_wait_items (f, "for_user", "{}", &cold, 1);
    assert_string_equal (vmsg_str (v, "source"), "trending");
    assert_string_equal (vmsg_str (vmsg_at (vmsg_get (v, "items"), 0), "product_id"), "L1");
    //  Nobody at all: trending everywhere.
    vbus_caller_t nobody = { "nobody", VBUS_ROLE_CUSTOMER };
    varena_reset (f->arena);
    v = s_call (f, "for_user", "{\"limit\":2}", &nobody, VE_OK);
    assert_string_equal (vmsg_str (v, "source"), "trending");
    assert_string_equal (vmsg_str (vmsg_at (vmsg_get (v, "items"), 0), "product_id"), "A");
    //  for_user needs a signed-in customer; the rest is public.
    s_call (f, "for_user", "{}", NULL, VE_UNAUTHORIZED);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_bought_together_with_minimum_support, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_also_viewed_within_a_session, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_trending_decays_with_the_clock, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (
            test_for_user_leaves_out_what_they_bought_and_cold_start_trends, s_setup, s_teardown),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("recommend", tests, NULL, NULL);
}
