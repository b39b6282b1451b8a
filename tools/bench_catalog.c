//  bench_catalog.c — vitrine-bench-catalog: the catalog end to end through the bus. Starts a
//  broker and a catalog writer on a fresh data directory, loads the demo catalog through the
//  API (vitrine-seed-catalog), restarts the catalog to time the index rebuild from RocksDB,
//  then runs a fixed mix of searches (one-word, two-word, prefix, typo, filtered; top 20 with
//  exact facets) one at a time for latency and with requests in flight for throughput, and
//  product gets by id, and suggestions as typed (catalog.suggest: prefixes of 2-5 letters, a
//  word then a prefix, a prefix with a typo). Last line:
//  "catalog: search p99 <X> ms, suggest p99 <S> ms, <Q> queries/s, get <G>/s, rss <M> MiB"
#include "vbus.h"
#include "vbus_util.h"
#include "vit.h"
#include "vgen_catalog.h"
#include "vmsg.h"
#include <czmq.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KINDS 5
static const char *const s_kinds[KINDS] = { "one-word", "two-word", "prefix", "typo", "filtered" };

static long
s_rss_mib (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen (path, "r");
    long kb = 0;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kb = atol (line + 6);
    if (f)
        fclose (f);
    return kb / 1024;
}

//  Waits until the catalog answers (its index is built before it registers).
static bool
s_wait_catalog (vbus_client_t *client, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        vbus_msg_t *reply = NULL;
        vbus_opts_t opts = { .timeout_ms = 100 };
        if (vbus_client_call (client, "catalog", "categories", NULL, 0, &opts, &reply) == 0
            && reply->status == VE_OK) {
            vbus_msg_destroy (&reply);
            return true;
        }
        vbus_msg_destroy (&reply);
        usleep (100000);
    }
    return false;
}

//  The query mix: deterministic, built from the demo catalog's own words.
typedef struct {
    int kind;
    char json[512];
} query_t;

static void
s_make_query (uint64_t i, query_t *q)
{
    vgen_product_t p;
    vgen_product (i * 7919 % 100000, &p);
    char words[8][64];
    int n = 0;
    char title[128];
    snprintf (title, sizeof title, "%s", p.title);
    for (char *w = strtok (title, " "); w && n < 8; w = strtok (NULL, " "))
        snprintf (words[n++], sizeof words[0], "%s", w);
    const char *noun = words[n - 1];
    q->kind = (int) (i % KINDS);
    switch (q->kind) {
    case 0: snprintf (q->json, sizeof q->json, "{\"q\":\"%s\"}", noun); break;
    case 1:
        snprintf (q->json, sizeof q->json, "{\"q\":\"%s %s\"}", words[n > 2 ? n - 2 : 0], noun);
        break;
    case 2: snprintf (q->json, sizeof q->json, "{\"q\":\"%.3s\"}", noun); break;
    case 3: {
        char typo[64];
        snprintf (typo, sizeof typo, "%s", strlen (noun) >= 5 ? noun : p.brand);
        size_t k = strlen (typo) / 2;
        char c = typo[k];
        typo[k] = typo[k + 1];
        typo[k + 1] = c;  //  a transposition: one edit away
        snprintf (q->json, sizeof q->json, "{\"q\":\"%s\"}", typo);
        break;
    }
    default: {
        char top[64];
        snprintf (top, sizeof top, "%s", p.category);
        char *slash = strchr (top, '/');
        if (slash)
            *slash = 0;
        snprintf (q->json, sizeof q->json,
                  "{\"q\":\"%s\",\"category\":\"%s\",\"price_max\":%lld,\"in_stock\":true}", noun,
                  top, (long long) p.price_minor * 2);
    }
    }
}

static int
s_body (const char *json, vbuf_t *buf)
{
    return vmsg_json_to_msgpack (NULL, json, strlen (json), buf, NULL, 0);
}

typedef struct {
    uint64_t done, ok, sent, end;
    vbus_client_t *client;
    const char *method;
    bool search;
} load_t;

static void s_load_next (load_t *l);

static void
s_load_reply (const vbus_reply_t *r, void *arg)
{
    load_t *l = arg;
    l->done++;
    l->ok += r->status == VE_OK;
    s_load_next (l);
}

static void
s_load_next (load_t *l)
{
    if (l->sent >= l->end)
        return;
    char json[600];
    if (l->search) {
        query_t q;
        s_make_query (l->sent, &q);
        snprintf (json, sizeof json, "%s", q.json);
    }
    else {
        vgen_product_t p;
        vgen_product (l->sent * 104729 % 1000, &p);
        snprintf (json, sizeof json, "{\"id\":\"%s\"}", p.id);
    }
    l->sent++;
    char storage[1024];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    s_body (json, &body);
    vbus_client_send (l->client, "catalog", l->method, body.data, body.len, NULL, s_load_reply, l,
                      NULL);
    vbuf_free (&body);
}

//  Runs count requests with window in flight; returns requests per second.
static double
s_throughput (vbus_client_t *client, const char *method, bool search, uint64_t count, int window)
{
    load_t l = { .client = client, .method = method, .search = search, .end = count };
    int64_t start = vbus_now_ms ();
    for (int i = 0; i < window; i++)
        s_load_next (&l);
    while (l.done < count && !zsys_interrupted)
        vbus_client_poll (client, 1000);
    double secs = (double) (vbus_now_ms () - start) / 1000.0;
    return secs > 0 ? (double) l.ok / secs : 0;
}

int
main (int argc, char **argv)
{
    setenv ("VITRINE_CHECK_REPLIES", "0", 1);  //  measure the actors as they run in production
    long products = 100000, queries = 2000;
    static const struct option opts[] = { { "products", 1, 0, 'n' },
                                          { "queries", 1, 0, 'q' },
                                          { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        if (c == 'n'
            && vbus_arg_long ("vitrine-bench-catalog", "--products", optarg, 100, 100000000,
                              &products)
                   == 0)
            continue;
        if (c == 'q'
            && vbus_arg_long ("vitrine-bench-catalog", "--queries", optarg, 10, 1000000, &queries)
                   == 0)
            continue;
        fprintf (stderr, "usage: vitrine-bench-catalog [--products N] [--queries Q]\n");
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
    zsys_init ();
    zsys_set_logstream (NULL);
    char data[64], n[32];
    snprintf (n, sizeof n, "%ld", products);
    vit_broker_t broker = { 0 };
    if (vit_tmpdir ("vitrine-bench-catalog", data, sizeof data) != 0
        || vit_broker_start (&broker, 0, (const char *const[]) { "--log-level", "W", NULL }) != 0) {
        fprintf (stderr, "vitrine-bench-catalog: cannot start a broker\n");
        return 1;
    }
    const char *ep = broker.endpoint;
    const char *cargs[] = { "--broker", ep, "--data", data, "--log-level", "W", NULL };
    pid_t catalog = vit_spawn ("vitrine-catalog", cargs);
    vbus_client_t *client = vbus_client_new (ep, 30000);
    if (!s_wait_catalog (client, 30)) {
        fprintf (stderr, "vitrine-bench-catalog: the catalog did not start\n");
        return 1;
    }

    //  Load through the API.
    int64_t t0 = vbus_now_ms ();
    //  Products only: this measures the catalog, not the scene documents the seeder can add.
    const char *sargs[] = {
        "--broker", ep, "--products", n, "--window", "128", "--no-scenes", NULL
    };
    pid_t seeder = vit_spawn ("vitrine-seed-catalog", sargs);
    int status;
    waitpid (seeder, &status, 0);
    double load_s = (double) (vbus_now_ms () - t0) / 1000.0;
    printf ("load: %ld products through catalog.create in %.1f s (%.0f/s)\n", products, load_s,
            (double) products / load_s);

    //  Restart: the index is rebuilt from RocksDB.
    vit_stop (catalog, SIGTERM, 600000);
    t0 = vbus_now_ms ();
    catalog = vit_spawn ("vitrine-catalog", cargs);
    if (!s_wait_catalog (client, 600))
        return 1;
    double rebuild_s = (double) (vbus_now_ms () - t0) / 1000.0;
    long rss = s_rss_mib (catalog);
    printf ("restart: index rebuilt from the store in %.1f s; catalog rss %ld MiB\n", rebuild_s,
            rss);

    //  Latency: one query at a time.
    double *lat[KINDS], *all = calloc ((size_t) queries, sizeof *all);
    size_t nlat[KINDS] = { 0 }, nall = 0;
    for (int k = 0; k < KINDS; k++)
        lat[k] = calloc ((size_t) queries, sizeof (double));
    uint64_t total_hits = 0;
    double first_max = 0;  //  the slowest of the first 100 queries after the restart
    for (long i = 0; i < queries; i++) {
        query_t q;
        s_make_query ((uint64_t) i, &q);
        char storage[1024];
        vbuf_t body;
        vbuf_init (&body, storage, sizeof storage);
        s_body (q.json, &body);
        vbus_msg_t *reply = NULL;
        int64_t start = vbus_now_ms ();
        struct timespec a, b;
        clock_gettime (CLOCK_MONOTONIC, &a);
        vbus_client_call (client, "catalog", "search", body.data, body.len, NULL, &reply);
        clock_gettime (CLOCK_MONOTONIC, &b);
        (void) start;
        double ms = (double) (b.tv_sec - a.tv_sec) * 1e3 + (double) (b.tv_nsec - a.tv_nsec) / 1e6;
        if (i < 100 && ms > first_max)
            first_max = ms;
        if (reply && reply->status == VE_OK) {
            lat[q.kind][nlat[q.kind]++] = ms;
            all[nall++] = ms;
            total_hits++;
        }
        vbus_msg_destroy (&reply);
        vbuf_free (&body);
    }
    for (int k = 0; k < KINDS; k++)
        printf ("search %-8s: p50 %.2f ms, p99 %.2f ms (%zu queries)\n", s_kinds[k],
                vit_percentile (lat[k], nlat[k], 0.50), vit_percentile (lat[k], nlat[k], 0.99), nlat[k]);
    double p50 = vit_percentile (all, nall, 0.50), p99 = vit_percentile (all, nall, 0.99);
    printf ("search all     : p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu of %ld ok); the first "
            "100 after the restart: max %.2f ms\n",
            p50, p99, nall ? all[nall - 1] : 0.0, nall, queries, first_max);

    //  Suggestions: one at a time, as a search box asks them.
    double *sug = calloc ((size_t) queries, sizeof *sug);
    size_t nsug = 0;
    for (long i = 0; i < queries && sug; i++) {
        char text[128], json[256], storage[512];
        vgen_suggest_text ((uint64_t) i, text, sizeof text);
        snprintf (json, sizeof json, "{\"q\":\"%s\"}", text);  //  letters and spaces
        vbuf_t body;
        vbuf_init (&body, storage, sizeof storage);
        s_body (json, &body);
        vbus_msg_t *reply = NULL;
        struct timespec a, b;
        clock_gettime (CLOCK_MONOTONIC, &a);
        vbus_client_call (client, "catalog", "suggest", body.data, body.len, NULL, &reply);
        clock_gettime (CLOCK_MONOTONIC, &b);
        if (reply && reply->status == VE_OK)
            sug[nsug++] =
                (double) (b.tv_sec - a.tv_sec) * 1e3 + (double) (b.tv_nsec - a.tv_nsec) / 1e6;
        vbus_msg_destroy (&reply);
        vbuf_free (&body);
    }
    double sug_p50 = vit_percentile (sug, nsug, 0.50), sug_p99 = vit_percentile (sug, nsug, 0.99);
    printf ("suggest all    : p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu of %ld ok)\n", sug_p50,
            sug_p99, nsug ? sug[nsug - 1] : 0.0, nsug, queries);
    free (sug);

    //  Throughput: requests in flight keep the catalog's core busy.
    double qps = s_throughput (client, "search", true, (uint64_t) queries, 8);
    double gets = s_throughput (client, "get", false, 50000, 64);
    printf ("throughput: search %.0f queries/s (8 in flight), get %.0f/s (64 in flight)\n", qps,
            gets);
    rss = s_rss_mib (catalog);
    vit_stop (catalog, SIGTERM, 600000);
    vit_stop (broker.pid, SIGTERM, 10000);
    if (vit_rmtree (data) != 0)
        fprintf (stderr, "vitrine-bench-catalog: could not remove %s\n", data);
    printf ("catalog: search p99 %.2f ms, suggest p99 %.2f ms, %.0f queries/s, get %.0f/s, rss %ld "
            "MiB\n",
            p99, sug_p99, qps, gets, rss);
    vbus_client_destroy (&client);
    for (int k = 0; k < KINDS; k++)
        free (lat[k]);
    free (all);
    return nall ? 0 : 1;
}
