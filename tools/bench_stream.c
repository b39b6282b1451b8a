//  bench_stream.c — vitrine-bench-stream: the event stream end to end. Starts a broker and the
//  analytics actor on a fresh data directory (its default settings: every event counted and
//  staged for the export, one RocksDB commit per batch of events that arrived together), then
//  publishes order.confirmed events from one publisher on one stream with gapless sequence
//  numbers, at fixed rates:
//    (a) lag: at 1,000 events/s, the time from publishing an event until a query through the
//        bus (analytics.stats, whose events_applied moves in the same commit as the counters
//        analytics.summary reads) shows it applied; p50/p99, polled every millisecond;
//    (b) the highest sustained rate: rates raised step by step, each for a few seconds, until
//        the consumer falls behind (lag p99 over 500 ms, or not all applied 1 s after the end);
//    (c) the reference in the same run: the bus's raw PUB → broker (XSUB/XPUB) → SUB rate, a
//        bare subscriber counting events from a publisher sending as fast as it can.
//  Last line: "stream: <E> events/s, lag p99 <X> ms" (E the highest sustained rate, X at 1,000/s).
#include "vbus.h"
#include "vbus_util.h"
#include "vit.h"
#include "vmsg.h"
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM "bench-orders/0"

typedef struct {
    vbus_pub_t *pub;
    vbus_client_t *client;
    vbuf_t body;
    uint64_t seq;     //  the stream's last sequence number sent
    int64_t applied0;  //  events_applied before the stream's first event
} bench_t;

//  Publishes at rate events/s for seconds; polls the applied count every millisecond and
//  records each event's lag (first poll that shows it, minus when it was sent). Returns the
//  lag p99 in ms (p50 into *p50), or -1 when the consumer fell behind: not all applied 1 s
//  after the last was sent.
static double
s_run (bench_t *b, double rate, double seconds, double *p50, double *sent_rate)
{
    size_t total = (size_t) (rate * seconds);
    double *sent_at = malloc (total * sizeof *sent_at), *lag = malloc (total * sizeof *lag);
    size_t nlag = 0, sent = 0, seen = 0;
    uint64_t first = b->seq + 1;
    int64_t t0 = vbus_mono_us (), last_poll = 0, end_by = 0;
    while (seen < total) {
        int64_t now = vbus_mono_us ();
        size_t due = (size_t) ((double) (now - t0) * rate / 1e6);
        if (due > total)
            due = total;
        while (sent < due) {
            sent_at[sent] = (double) vbus_mono_us ();
            vbus_pub_send (b->pub, "order.confirmed", STREAM, ++b->seq, b->body.data, b->body.len);
            sent++;
        }
        if (sent == total && !end_by)
            end_by = vbus_mono_us () + 1000000;
        if (end_by && vbus_mono_us () > end_by)
            break;
        if (now - last_poll >= 1000) {
            last_poll = now;
            int64_t applied = vit_events_applied (b->client, "analytics");
            double at = (double) vbus_mono_us ();
            if (applied >= 0) {
                //  Applied events of this run: the count past the baseline, minus earlier runs.
                int64_t mine = applied - b->applied0 - (int64_t) (first - 1);
                while (mine > 0 && seen < (size_t) mine && seen < sent) {
                    lag[nlag++] = (at - sent_at[seen]) / 1000.0;
                    seen++;
                }
            }
        }
        else
            usleep (100);
    }
    double elapsed = (double) (vbus_mono_us () - t0) / 1e6;
    *sent_rate = (double) sent / (elapsed > seconds ? seconds : elapsed);
    double p99 = seen == total ? vit_percentile (lag, nlag, 0.99) : -1;
    *p50 = vit_percentile (lag, nlag, 0.50);
    if (seen < total) {
        //  Wait for the backlog to drain before the next run (its count is the baseline).
        for (int i = 0; i < 600; i++) {
            int64_t applied = vit_events_applied (b->client, "analytics");
            if (applied - b->applied0 >= (int64_t) b->seq)
                break;
            usleep (100000);
        }
    }
    free (sent_at);
    free (lag);
    return p99;
}

//  ---------------------------------------------------------------- the raw bus reference

typedef struct {
    const char *endpoint;
    uint64_t want, got;
    int64_t first_us, last_us;
    volatile int ready;
} raw_t;

static void *
s_raw_sub (void *arg)
{
    raw_t *r = arg;
    const char *topics[] = { "bench.raw", NULL };
    vbus_sub_t *sub = vbus_sub_new (r->endpoint, topics);
    r->ready = 1;
    vbus_event_t ev;
    while (sub && r->got < r->want && vbus_sub_recv (sub, &ev, 1000) == 0) {
        r->last_us = vbus_mono_us ();
        if (!r->got++)
            r->first_us = r->last_us;
    }
    vbus_sub_destroy (&sub);
    return NULL;
}

static double
s_raw_rate (const vit_broker_t *broker, const vbuf_t *body, uint64_t n, uint64_t *got)
{
    raw_t r = { .endpoint = broker->sub, .want = n };
    pthread_t t;
    pthread_create (&t, NULL, s_raw_sub, &r);
    while (!r.ready)
        usleep (1000);
    usleep (300000);  //  the subscription reaches the broker
    vbus_pub_t *pub = vbus_pub_new (broker->pub);
    usleep (300000);
    for (uint64_t i = 1; i <= n; i++)
        vbus_pub_send (pub, "bench.raw", "bench-raw/0", i, body->data, body->len);
    pthread_join (t, NULL);
    vbus_pub_destroy (&pub);
    *got = r.got;
    return r.got > 1 ? (double) (r.got - 1) * 1e6 / (double) (r.last_us - r.first_us) : 0;
}

int
main (int argc, char **argv)
{
    double seconds = 3;
    long max_rate = 400000;
    int opt;
    static const struct option longs[] = { { "seconds", required_argument, NULL, 's' },
                                           { "max-rate", required_argument, NULL, 'm' },
                                           { 0 } };
    while ((opt = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        if (opt == 's')
            seconds = atof (optarg);
        else if (opt == 'm')
            max_rate = atol (optarg);
        else {
            fprintf (stderr, "usage: vitrine-bench-stream [--seconds S] [--max-rate R]\n");
            return 2;
        }
    }
    signal (SIGPIPE, SIG_IGN);
    char dir[64], data[96];
    vit_broker_t broker;
    if (vit_tmpdir ("vitrine-bench-stream", dir, sizeof dir) != 0
        || vit_broker_start (&broker, 0, NULL) != 0) {
        fprintf (stderr, "vitrine-bench-stream: cannot start a broker\n");
        return 1;
    }
    snprintf (data, sizeof data, "%s/data", dir);
    const char *args[] = { "--data", data, "--log-level", "W", NULL };
    pid_t analytics = vit_actor_start (&broker, "vitrine-analytics", "analytics", args, 20000);
    if (analytics <= 0) {
        fprintf (stderr, "vitrine-bench-stream: analytics did not start\n");
        return 1;
    }
    bench_t b = { .pub = vbus_pub_new (broker.pub),
                  .client = vbus_client_new (broker.endpoint, 10000) };
    usleep (500000);  //  the subscriptions reach the broker
    //  One order of two lines, as the orders actor confirms them.
    char json[600];
    snprintf (json, sizeof json,
              "{\"order_id\":\"bench.1\",\"user_id\":\"u1\",\"lines\":["
              "{\"product_id\":\"p-oak\",\"sku\":\"S1\",\"title\":\"Oak chair\",\"qty\":2,"
              "\"unit_price\":4900,\"line_total\":9800},"
              "{\"product_id\":\"p-lamp\",\"sku\":\"S2\",\"title\":\"Lamp\",\"qty\":1,"
              "\"unit_price\":2500,\"line_total\":2500}],"
              "\"subtotal\":12300,\"total\":12300,\"currency\":\"EUR\",\"at\":%lld}",
              (long long) vbus_now_ms ());
    vbuf_init (&b.body, NULL, 0);
    const vmsg_event_t *e = vmsg_event_find ("order.confirmed");
    char err[200];
    if (!e || vmsg_json_to_msgpack (e->schema, json, strlen (json), &b.body, err, sizeof err)) {
        fprintf (stderr, "vitrine-bench-stream: bad event: %s\n", err);
        return 1;
    }
    b.applied0 = vit_events_applied (b.client, "analytics");
    printf ("analytics: %zu-byte order.confirmed events on stream %s, one commit per batch\n",
            b.body.len, STREAM);

    //  (a) the lag at 1,000 events/s.
    double p50, lag_p99, sent_rate;
    lag_p99 = s_run (&b, 1000, seconds, &p50, &sent_rate);
    printf ("lag at 1000/s: p50 %.2f ms, p99 %.2f ms (%.0f s)\n", p50, lag_p99, seconds);

    //  (b) the highest sustained rate.
    static const long rates[] = { 2000,  5000,   10000,  20000,  30000, 50000,
                                  75000, 100000, 150000, 200000, 300000, 400000 };
    long best = lag_p99 >= 0 ? 1000 : 0;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0] && rates[i] <= max_rate; i++) {
        double p99 = s_run (&b, (double) rates[i], seconds, &p50, &sent_rate);
        if (p99 >= 0 && p99 <= 500)
            printf ("rate %6ld/s: kept up (sent %.0f/s), lag p50 %.1f ms, p99 %.1f ms\n", rates[i],
                    sent_rate, p50, p99);
        else
            printf ("rate %6ld/s: fell behind (sent %.0f/s, lag p50 %.1f ms%s)\n", rates[i],
                    sent_rate, p50, p99 < 0 ? ", not all applied 1 s after the end" : "");
        if (p99 < 0 || p99 > 500)
            break;
        best = rates[i];
    }

    //  (c) the reference: the bus alone.
    uint64_t got;
    double raw = s_raw_rate (&broker, &b.body, 1000000, &got);
    printf ("reference: raw PUB -> broker -> SUB %.0f events/s (%llu of 1000000 received)\n", raw,
            (unsigned long long) got);

    vbuf_free (&b.body);
    vbus_client_destroy (&b.client);
    vbus_pub_destroy (&b.pub);
    vit_stop (analytics, SIGTERM, 60000);
    vit_stop (broker.pid, SIGTERM, 10000);
    vit_rmtree (dir);
    printf ("stream: %ld events/s, lag p99 %.2f ms\n", best, lag_p99);
    return 0;
}
