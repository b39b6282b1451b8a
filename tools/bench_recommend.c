//  bench_recommend.c — vitrine-bench-recommend: recommendation answers through the bus at the
//  issue's size. Starts a broker, vitrine-recommend on a fresh data directory and an echo
//  worker; publishes a synthetic history (default 10,000 products, 100,000 confirmed orders of
//  1 to 4 lines with a skewed popularity, and two views per order in sessions of 3 to 6 views)
//  and waits until every event is applied; then asks, one request in flight, Q times each:
//  bought_together and also_viewed for a product drawn by popularity, trending (the shop and
//  one category), for_user as a customer with a history. Reference in the same run: the bus's
//  round trip to an echo worker with a 16-byte text.
//  Last line: "recommend: p99 <X> ms at <P> products, <O> orders (bus round trip p99 <R> ms)",
//  X the worst method's p99.
#include "vbus.h"
#include "vbus_util.h"
#include "vit.h"
#include "vmsg.h"
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  xorshift64*: the same history on every run.
static uint64_t s_rng = 0x9E3779B97F4A7C15ull;
static double
s_uniform (void)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return (double) ((s_rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

//  A product index with a skewed popularity (a few sell a lot, most a little).
static long
s_product (long products)
{
    double u = s_uniform ();
    return (long) ((double) products * u * u * u) % products;
}

static const char *const s_categories[] = { "furniture/chairs", "furniture/tables",
                                            "lighting/lamps",   "fashion/shoes",
                                            "fashion/dresses",  "electronics/audio" };
#define NCAT (sizeof s_categories / sizeof s_categories[0])

static int
s_publish (vbus_pub_t *pub, const char *topic, const char *stream, uint64_t seq, const char *json)
{
    const vmsg_event_t *e = vmsg_event_find (topic);
    char storage[2048], err[200] = "";
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    int rc = vmsg_json_to_msgpack (e ? e->schema : NULL, json, strlen (json), &body, err,
                                   sizeof err);
    if (rc == 0)
        rc = vbus_pub_send (pub, topic, stream, seq, body.data, body.len);
    else
        fprintf (stderr, "vitrine-bench-recommend: bad %s: %s\n", topic, err);
    vbuf_free (&body);
    return rc;
}

//  Calls service.method with a JSON body q times (one in flight); p50/p99 in ms. Returns the
//  p99, or -1 when a call failed.
static double
s_measure (vbus_client_t *client, const char *service, const char *method, long q,
           const vbus_caller_t *caller, long products, bool by_product, const char *fixed,
           double *p50)
{
    double *lat = malloc ((size_t) q * sizeof *lat);
    int failed = 0;
    for (long i = 0; i < q && !failed; i++) {
        char json[200], storage[256], user[32];
        if (by_product)
            snprintf (json, sizeof json, "{\"product_id\":\"p-%05ld\",\"limit\":10}",
                      s_product (products));
        else
            snprintf (json, sizeof json, "%s", fixed);
        vbus_caller_t who = caller ? *caller : (vbus_caller_t) { NULL, 0 };
        if (caller && caller->roles == VBUS_ROLE_CUSTOMER) {
            snprintf (user, sizeof user, "u-%ld", (long) (s_uniform () * 20000));
            who.user_id = user;
        }
        vbuf_t body;
        vbuf_init (&body, storage, sizeof storage);
        vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0);
        vbus_opts_t opts = { .caller = &who, .timeout_ms = 10000 };
        vbus_msg_t *reply = NULL;
        int64_t t0 = vbus_mono_us ();
        int rc = vbus_client_call (client, service, method, body.data, body.len, &opts, &reply);
        lat[i] = (double) (vbus_mono_us () - t0) / 1000.0;
        if (rc || reply->status != VE_OK) {
            fprintf (stderr, "vitrine-bench-recommend: %s.%s: %s\n", service, method,
                     reply ? reply->message : verr_str (rc));
            failed = 1;
        }
        vbus_msg_destroy (&reply);
        vbuf_free (&body);
    }
    double p99 = failed ? -1 : vit_percentile (lat, (size_t) q, 0.99);
    *p50 = vit_percentile (lat, (size_t) q, 0.50);
    free (lat);
    return p99;
}

int
main (int argc, char **argv)
{
    long products = 10000, orders = 100000, queries = 5000;
    int opt;
    static const struct option longs[] = { { "products", required_argument, NULL, 'p' },
                                           { "orders", required_argument, NULL, 'o' },
                                           { "queries", required_argument, NULL, 'q' },
                                           { 0 } };
    while ((opt = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        if (opt == 'p')
            products = atol (optarg);
        else if (opt == 'o')
            orders = atol (optarg);
        else if (opt == 'q')
            queries = atol (optarg);
        else {
            fprintf (stderr, "usage: vitrine-bench-recommend [--products N] [--orders N] "
                             "[--queries N]\n");
            return 2;
        }
    }
    if (products < 10 || products > 99999 || orders < 1 || queries < 1) {
        fprintf (stderr, "vitrine-bench-recommend: --products 10..99999, --orders and "
                         "--queries at least 1\n");
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
    char dir[64], data[96];
    vit_broker_t broker;
    if (vit_tmpdir ("vitrine-bench-recommend", dir, sizeof dir) != 0
        || vit_broker_start (&broker, 0, NULL) != 0) {
        fprintf (stderr, "vitrine-bench-recommend: cannot start a broker\n");
        return 1;
    }
    snprintf (data, sizeof data, "%s/data", dir);
    const char *args[] = { "--data", data, "--log-level", "W", NULL };
    pid_t rec = vit_actor_start (&broker, "vitrine-recommend", "recommend", args, 20000);
    pid_t echo = vit_echo_start (&broker, "bench-echo", NULL);
    if (rec <= 0 || echo <= 0 || vit_wait_workers (&broker, "echo", 1, 10000) != 0) {
        fprintf (stderr, "vitrine-bench-recommend: recommend or echo did not start\n");
        return 1;
    }
    vbus_pub_t *pub = vbus_pub_new (broker.pub);
    vbus_client_t *client = vbus_client_new (broker.endpoint, 10000);
    usleep (500000);  //  the subscription reaches the broker
    int64_t applied0 = vit_events_applied (client, "recommend");

    //  The history: orders on one stream, views on another, paced so that the subscriber's
    //  high-water mark never drops any (a drop would be replayed, but the edge stream has no
    //  replay, and the orders stream's producer does not exist here).
    int64_t now = vbus_now_ms (), t0 = vbus_mono_us ();
    uint64_t oseq = 0, vseq = 0, sent = 0;
    const double rate = 20000;  //  events/s
    for (long i = 0; i < orders; i++) {
        char json[1400];
        int n = snprintf (json, sizeof json,
                          "{\"order_id\":\"b.%ld\",\"user_id\":\"u-%ld\",\"lines\":[", i,
                          (long) (s_uniform () * 20000));
        int lines = 1 + (int) (s_uniform () * 4);
        long first = s_product (products);
        for (int l = 0; l < lines; l++) {
            //  Lines after the first come from near it (the same kind of thing) or anywhere.
            long p = l == 0 || s_uniform () < 0.3
                         ? (l == 0 ? first : s_product (products))
                         : (first + 1 + (long) (s_uniform () * 20)) % products;
            n += snprintf (json + n, sizeof json - (size_t) n,
                           "%s{\"product_id\":\"p-%05ld\",\"sku\":\"S-%05ld\",\"title\":\"P\","
                           "\"qty\":1,\"unit_price\":1000,\"line_total\":1000}",
                           l ? "," : "", p, p);
        }
        snprintf (json + n, sizeof json - (size_t) n,
                  "],\"subtotal\":%d,\"total\":%d,\"currency\":\"EUR\",\"at\":%lld}",
                  lines * 1000, lines * 1000, (long long) (now - (orders - i) * 10));
        if (s_publish (pub, "order.confirmed", "bench-orders/0", ++oseq, json))
            return 1;
        sent++;
        //  Two views per order: a session of 3 to 6 products around one.
        if (i % 2 == 0) {
            long around = s_product (products);
            int views = 3 + (int) (s_uniform () * 4);
            for (int v = 0; v < views; v++) {
                long p = (around + (long) (s_uniform () * 10)) % products;
                snprintf (json, sizeof json,
                          "{\"product_id\":\"p-%05ld\",\"category\":\"%s\","
                          "\"session_id\":\"s%ld\"}",
                          p, s_categories[p % NCAT], i);
                if (s_publish (pub, "product.viewed", "bench-edge/0", ++vseq, json))
                    return 1;
                sent++;
            }
        }
        while ((double) sent > (double) (vbus_mono_us () - t0) * rate / 1e6)
            usleep (200);
    }
    int64_t applied = 0;
    for (int i = 0; i < 6000; i++) {
        applied = vit_events_applied (client, "recommend") - applied0;
        if (applied >= (int64_t) sent)
            break;
        usleep (100000);
    }
    double load_s = (double) (vbus_mono_us () - t0) / 1e6;
    printf ("history: %ld products, %ld orders, %llu views; %lld of %llu events applied in "
            "%.1f s\n",
            products, orders, (unsigned long long) vseq, (long long) applied,
            (unsigned long long) sent, load_s);
    if (applied < (int64_t) sent) {
        fprintf (stderr, "vitrine-bench-recommend: not every event was applied\n");
        return 1;
    }

    //  The answers, one in flight.
    static const vbus_caller_t customer = { NULL, VBUS_ROLE_CUSTOMER };
    struct {
        const char *method;
        const vbus_caller_t *caller;
        bool by_product;
        const char *body;
    } runs[] = { { "bought_together", NULL, true, NULL },
                 { "also_viewed", NULL, true, NULL },
                 { "trending", NULL, false, "{\"limit\":10}" },
                 { "trending", NULL, false, "{\"category\":\"lighting\",\"limit\":10}" },
                 { "for_user", &customer, false, "{\"limit\":10}" } };
    double worst = 0, p50;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        double p99 = s_measure (client, "recommend", runs[i].method, queries, runs[i].caller,
                                products, runs[i].by_product, runs[i].body, &p50);
        if (p99 < 0)
            return 1;
        printf ("%-16s %-40s p50 %.3f ms, p99 %.3f ms (%ld calls)\n", runs[i].method,
                runs[i].by_product ? "(a product by popularity)" : runs[i].body, p50, p99,
                queries);
        worst = p99 > worst ? p99 : worst;
    }
    double ref50, ref99 = s_measure (client, "echo", "echo", queries, NULL, products, false,
                                     "{\"text\":\"0123456789abcdef\"}", &ref50);
    printf ("reference: echo.echo round trip p50 %.3f ms, p99 %.3f ms\n", ref50, ref99);

    vbus_client_destroy (&client);
    vbus_pub_destroy (&pub);
    vit_stop (rec, SIGTERM, 60000);
    vit_stop (echo, SIGTERM, 10000);
    vit_stop (broker.pid, SIGTERM, 10000);
    vit_rmtree (dir);
    printf ("recommend: p99 %.3f ms at %ld products, %ld orders (bus round trip p99 %.3f ms)\n",
            worst, products, orders, ref99);
    return 0;
}
