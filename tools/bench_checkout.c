//  bench_checkout.c — vitrine-bench-checkout: durable checkouts end to end through the bus.
//  Starts a broker, catalog (+ read replica), cart, inventory (two processes), payments and
//  orders on a fresh data directory (the same harness as the integration tests), seeds products
//  and stock, then keeps --clients shoppers busy: each fills a fresh cart with 1-5 items and
//  checks out. Afterwards it checks that stock, orders and the payments ledger agree, and
//  measures the disk's synced single puts/s (kv.put_durable, one at a time and 64 in flight)
//  as the reference. The bus runs on unix sockets unless --transport tcp (loopback TCP).
//  Last line: "checkout: <N>/s, p99 <X> ms, violations <V>"
#include "vit.h"
#include "vmsg.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLIENTS  512
#define MAX_PRODUCTS 1000
#define PRICE(i)     (1000 + (int64_t) (i) *7)

static vbus_client_t *s_client;
static vit_broker_t s_broker;
static char s_data[128];
static const vbus_caller_t s_admin = { "admin", VBUS_ROLE_ADMIN };
static const vbus_caller_t s_service = { "bench", VBUS_ROLE_SERVICE };

static int
s_call (const char *service, const char *method, const char *json, const vbus_caller_t *caller,
        const char *key, varena_t *arena, const vmsg_value_t **out)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0))
        return -1;
    vbus_opts_t opts = { .caller = caller, .key = key, .timeout_ms = 30000 };
    vbus_msg_t *reply = NULL;
    int status = -1;
    if (vbus_client_call (s_client, service, method, body.data, body.len, &opts, &reply) == 0) {
        status = reply->status;
        if (status == VE_OK && out
            && vmsg_decode (vmsg_method_find (service, method)->reply, reply->body, reply->body_len,
                            arena, out, NULL, 0))
            status = -1;
    }
    vbus_msg_destroy (&reply);
    vbuf_free (&body);
    return status;
}

static pid_t
s_start (const char *program, const char *service, const char *const *extra)
{
    const char *args[16] = { "--data", s_data };
    size_t n = 2;
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return vit_actor_start (&s_broker, program, service, args, 30000);
}

//  ---------------------------------------------------------------- the shoppers

typedef struct {
    int slot;
    int seq;
    char user[32];
    int adds_left;
    int64_t started_us;
} s_shopper_t;

typedef struct {
    char order_id[96];
    bool confirmed, final;
    int64_t total;
    int nlines;
    int product[5];
    int qty[5];
} s_order_t;

static struct {
    s_shopper_t shoppers[MAX_CLIENTS];
    int products;
    bool running;
    int64_t *lat_us;
    size_t nlat, caplat;
    s_order_t *orders;
    size_t norders, caporders;
    uint64_t errors, confirmed, failed;
    unsigned seed;
} s;

static void s_next (s_shopper_t *sh);

static void
s_send (s_shopper_t *sh, const char *service, const char *method, const char *json, const char *key,
        vbus_reply_fn *fn)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0);
    vbus_caller_t who = { sh->user, VBUS_ROLE_CUSTOMER };
    vbus_opts_t opts = { .caller = &who, .key = key, .timeout_ms = 60000 };
    if (vbus_client_send (s_client, service, method, body.data, body.len, &opts, fn, sh, NULL))
        s.errors++;
    vbuf_free (&body);
}

static void
s_on_checkout (const vbus_reply_t *reply, void *arg)
{
    s_shopper_t *sh = arg;
    int64_t took = vbus_mono_us () - sh->started_us;
    varena_t *arena = varena_new (0);
    const vmsg_value_t *o;
    if (reply->status != VE_OK
        || vmsg_decode (vmsg_method_find ("orders", "checkout")->reply, reply->body,
                        reply->body_len, arena, &o, NULL, 0)) {
        s.errors++;
        fprintf (stderr, "checkout: %s %s\n", verr_name (reply->status), reply->message);
    }
    else {
        if (s.nlat == s.caplat) {
            s.caplat = s.caplat ? 2 * s.caplat : 4096;
            s.lat_us = realloc (s.lat_us, s.caplat * sizeof *s.lat_us);
        }
        s.lat_us[s.nlat++] = took;
        if (s.norders == s.caporders) {
            s.caporders = s.caporders ? 2 * s.caporders : 4096;
            s.orders = realloc (s.orders, s.caporders * sizeof *s.orders);
        }
        s_order_t *r = &s.orders[s.norders++];
        memset (r, 0, sizeof *r);
        snprintf (r->order_id, sizeof r->order_id, "%s", vmsg_str (o, "order_id"));
        const char *state = vmsg_str (o, "state");
        r->confirmed = strcmp (state, "confirmed") == 0;
        r->final = r->confirmed || strcmp (state, "failed") == 0;
        r->total = vmsg_int (o, "total", 0);
        const vmsg_value_t *lines = vmsg_get (o, "lines");
        for (uint32_t i = 0; i < vmsg_count (lines) && i < 5; i++) {
            r->product[i] = atoi (vmsg_str (vmsg_at (lines, i), "product_id") + 2);
            r->qty[i] = (int) vmsg_int (vmsg_at (lines, i), "qty", 0);
            r->nlines++;
        }
        if (r->confirmed)
            s.confirmed++;
        else
            s.failed++;
    }
    varena_destroy (&arena);
    s_next (sh);
}

static void
s_on_add (const vbus_reply_t *reply, void *arg)
{
    s_shopper_t *sh = arg;
    if (reply->status != VE_OK)
        s.errors++;
    s_next (sh);
}

//  A shopper's next move: another item, the checkout, or a new cart.
static void
s_next (s_shopper_t *sh)
{
    char json[1024], cart[64];
    if (sh->adds_left == 0) {
        if (!s.running)
            return;
        sh->seq++;
        snprintf (sh->user, sizeof sh->user, "b%d-%d", sh->slot, sh->seq);
        sh->adds_left = 1 + rand_r (&s.seed) % 5;
    }
    snprintf (cart, sizeof cart, "u:%s", sh->user);
    if (sh->adds_left > 0) {
        //  Distinct products per cart: consecutive ids from a random start.
        int product = (sh->seq * 7 + sh->adds_left * 13 + sh->slot) % s.products;
        snprintf (json, sizeof json, "{\"cart_id\":\"%s\",\"product_id\":\"p-%d\",\"qty\":%d}",
                  cart, product, 1 + rand_r (&s.seed) % 2);
        sh->adds_left--;
        if (sh->adds_left == 0)
            sh->adds_left = -1;  //  then check out
        s_send (sh, "cart", "add", json, cart, s_on_add);
        return;
    }
    sh->adds_left = 0;
    snprintf (json, sizeof json,
              "{\"shipping\":{\"name\":\"Bench\",\"line1\":\"1 Road\",\"city\":\"Paris\","
              "\"postcode\":\"75001\",\"country\":\"FR\"},\"card\":{\"number\":"
              "\"4242424242424242\",\"exp_month\":12,\"exp_year\":2031,\"cvc\":\"123\"},"
              "\"idempotency_key\":\"k\"}");
    sh->started_us = vbus_mono_us ();
    s_send (sh, "orders", "checkout", json, sh->user, s_on_checkout);
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

//  ---------------------------------------------------------------- calls per checkout

typedef struct {
    char name[64];
    uint64_t calls;
} s_method_calls_t;

//  Adds the per-method call counts of service's worker owning partition (through its stats)
//  into calls[] (summed by "service.method"), and its fsyncs into *syncs.
static void
s_count_calls (const char *service, uint32_t partition, varena_t *arena, s_method_calls_t *calls,
               size_t *n, size_t max, uint64_t *syncs)
{
    varena_reset (arena);
    const vmsg_value_t *stats = vit_stats (s_client, service, (int) partition, arena);
    const vmsg_value_t *ms = vmsg_get (stats, "methods");
    *syncs += vmsg_uint (stats, "syncs", 0);
    for (uint32_t i = 0; i < vmsg_count (ms); i++) {
        const vmsg_value_t *m = vmsg_at (ms, i);
        char name[64];
        snprintf (name, sizeof name, "%s.%s", service, vmsg_str (m, "name"));
        size_t k = 0;
        while (k < *n && strcmp (calls[k].name, name) != 0)
            k++;
        if (k == *n && *n < max) {
            snprintf (calls[k].name, sizeof calls[k].name, "%s", name);
            calls[(*n)++].calls = 0;
        }
        if (k < *n)
            calls[k].calls += vmsg_uint (m, "calls", 0);
    }
}

//  Prints the bus calls the actors served per checkout, by method, and the fsyncs of all of
//  them (seeding's included: a few hundred, against thousands of checkouts).
static void
s_print_calls (varena_t *arena, size_t checkouts)
{
    s_method_calls_t calls[64];
    size_t n = 0;
    uint64_t syncs = 0;
    s_count_calls ("catalog", 0, arena, calls, &n, 64, &syncs);
    s_count_calls ("catalog-read", 0, arena, calls, &n, 64, &syncs);
    s_count_calls ("cart", 0, arena, calls, &n, 64, &syncs);
    s_count_calls ("inventory", 0, arena, calls, &n, 64, &syncs);
    s_count_calls ("inventory", 7, arena, calls, &n, 64, &syncs);
    s_count_calls ("payments", 0, arena, calls, &n, 64, &syncs);
    s_count_calls ("orders", 0, arena, calls, &n, 64, &syncs);
    uint64_t total = 0;
    char line[1024] = "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp (strchr (calls[i].name, '.') + 1, "stats") == 0 || !calls[i].calls)
            continue;
        total += calls[i].calls;
        size_t len = strlen (line);
        snprintf (line + len, sizeof line - len, "%s%.63s %.1f", len ? ", " : "", calls[i].name,
                  checkouts ? (double) calls[i].calls / (double) checkouts : 0.0);
    }
    printf ("bus calls per checkout: %.1f (%s)\n",
            checkouts ? (double) total / (double) checkouts : 0.0, line);
    //  Group commit's share: each fsync serves every synced write of its round.
    printf ("fsyncs per checkout: %.2f\n", checkouts ? (double) syncs / (double) checkouts : 0.0);
}

//  ---------------------------------------------------------------- CPU per checkout

//  CPU time (user + system, all threads) a process has used so far, in ms; 0 when unknown.
static double
s_cpu_ms (pid_t pid)
{
    char path[64], text[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = 0;
    //  Fields 14 and 15 (utime, stime), counted after the command's closing parenthesis.
    const char *p = strrchr (text, ')');
    unsigned long long utime = 0, stime = 0;
    if (!p || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                      &stime) != 2)
        return 0;
    return (double) (utime + stime) * 1000.0 / (double) sysconf (_SC_CLK_TCK);
}

//  Where the machine's work goes: each process's CPU over the run per checkout, which the
//  machine's other load barely moves (the rate does), so it compares changes across runs.
static void
s_print_cpu (const char *const *names, const pid_t *pids, const double *before, int n,
             size_t checkouts)
{
    char line[1024] = "";
    double total = 0;
    for (int i = 0; i < n; i++) {
        double ms = (s_cpu_ms (pids[i]) - before[i]) / (double) (checkouts ? checkouts : 1);
        total += ms;
        size_t len = strlen (line);
        snprintf (line + len, sizeof line - len, "%s%s %.3f", len ? ", " : "", names[i], ms);
    }
    printf ("cpu per checkout: %.3f ms (%s)\n", total, line);
}

//  ---------------------------------------------------------------- the reference

static void
s_on_put (const vbus_reply_t *reply, void *arg)
{
    (void) reply;
    (*(int *) arg)++;
}

//  Synced kv puts per second over ms, with window requests in flight.
static double
s_puts_per_s (int window, int ms)
{
    int answered = 0, sent = 0;
    int64_t start = vbus_mono_us (), end = start + (int64_t) ms * 1000;
    while (vbus_mono_us () < end) {
        while (sent - answered < window) {
            char json[96];
            snprintf (json, sizeof json, "{\"key\":\"r%d-%d\",\"value\":\"v\"}", window, sent);
            vbuf_t body;
            vbuf_init (&body, NULL, 0);
            vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0);
            vbus_opts_t opts = { .caller = &s_service };
            vbus_client_send (s_client, "kv", "put_durable", body.data, body.len, &opts, s_on_put,
                              &answered, NULL);
            vbuf_free (&body);
            sent++;
        }
        vbus_client_poll (s_client, 10);
    }
    double secs = (double) (vbus_mono_us () - start) / 1e6;
    while (answered < sent)
        vbus_client_poll (s_client, 100);
    return answered / secs;
}

int
main (int argc, char **argv)
{
    long seconds = 20, clients = 48, products = 200, cart_view = 1;
    bool ipc = true;
    static const struct option longs[] = { { "seconds", 1, 0, 's' },
                                           { "clients", 1, 0, 'c' },
                                           { "products", 1, 0, 'p' },
                                           { "transport", 1, 0, 't' },
                                           { "cart-view", 1, 0, 'v' },
                                           { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "s:c:p:t:v:", longs, NULL)) != -1) {
        int rc = 0;
        if (c == 's')
            rc = vbus_arg_long ("vitrine-bench-checkout", "--seconds", optarg, 1, 3600, &seconds);
        else if (c == 'c')
            rc = vbus_arg_long ("vitrine-bench-checkout", "--clients", optarg, 1, MAX_CLIENTS,
                                &clients);
        else if (c == 'p')
            rc = vbus_arg_long ("vitrine-bench-checkout", "--products", optarg, 5, MAX_PRODUCTS,
                                &products);
        else if (c == 'v')
            rc = vbus_arg_long ("vitrine-bench-checkout", "--cart-view", optarg, 0, 1, &cart_view);
        else if (c == 't' && (strcmp (optarg, "ipc") == 0 || strcmp (optarg, "tcp") == 0))
            ipc = strcmp (optarg, "ipc") == 0;
        else
            rc = -1;
        if (rc) {
            fprintf (stderr, "usage: vitrine-bench-checkout [--seconds N] [--clients N] "
                             "[--products N] [--transport ipc|tcp] [--cart-view 0|1]\n");
            return 2;
        }
    }
    signal (SIGPIPE, SIG_IGN);
    vbus_log_level ('W');
    char dir[64];
    //  Every process on this machine: unix sockets by default (no loopback TCP in the kernel),
    //  --transport tcp for the figure a deployment across machines starts from.
    if (vit_tmpdir ("vitrine-bench-checkout", dir, sizeof dir)
        || (ipc ? vit_broker_start_ipc (&s_broker, dir, NULL)
                : vit_broker_start (&s_broker, 0, NULL)))
        return 1;
    printf ("bus: %s\n", s_broker.endpoint);
    snprintf (s_data, sizeof s_data, "%s/data", dir);
    s_client = vbus_client_new (s_broker.endpoint, 30000);
    const char *quiet[] = { "--log-level", "W", NULL };
    const char *replica[] = {
        "--set", "service=catalog-read", "--set", "follow=catalog/0", "--log-level", "W", NULL
    };
    const char *inv_a[] = { "--partitions", "8",           "--owns", "0,1,2,3", "--name",
                            "inv-a",        "--log-level", "W",      NULL };
    const char *inv_b[] = { "--partitions", "8",           "--owns", "4,5,6,7", "--name",
                            "inv-b",        "--log-level", "W",      NULL };
    const char *orders_args[] = { "--set", "credit=1024", "--log-level", "W", NULL };
    //  --cart-view 0: the cart without its product view (every lookup asks catalog-read).
    const char *cart_args[] = { "--set",       "credit=1024", "--log-level", "W",
                                cart_view ? NULL : "--set", "products_cached=0", NULL };
    pid_t pids[11] = { 0 };
    const char *names[11] = { "catalog", "catalog-read", "inventory-a", "inventory-b", "cart",
                              "payments", "orders", "kv", "broker", "bench" };
    int np = 0;
    pids[np++] = s_start ("vitrine-catalog", "catalog", quiet);
    pids[np++] = s_start ("vitrine-catalog", "catalog-read", replica);
    pids[np++] = s_start ("vitrine-inventory", "inventory", inv_a);
    const char *b_args[] = { "--broker", s_broker.endpoint, "--data", s_data,   inv_b[0],
                             inv_b[1],   inv_b[2],          inv_b[3], inv_b[4], inv_b[5],
                             inv_b[6],   inv_b[7],          NULL };
    pids[np++] = vit_spawn ("vitrine-inventory", b_args);
    vit_wait_workers (&s_broker, "inventory", 2, 30000);
    pids[np++] = s_start ("vitrine-cart", "cart", cart_args);
    pids[np++] = s_start ("vitrine-payments", "payments", quiet);
    pids[np++] = s_start ("vitrine-orders", "orders", orders_args);
    pids[np++] = s_start ("vitrine-kv", "kv", quiet);
    for (int i = 0; i < np; i++)
        if (pids[i] <= 0) {
            fprintf (stderr, "vitrine-bench-checkout: a process did not start\n");
            return 1;
        }

    //  Seed: products with plenty of stock (sold-out failures would measure little).
    varena_t *arena = varena_new (0);
    int64_t *on_hand = calloc ((size_t) products, sizeof *on_hand);
    for (long i = 0; i < products; i++) {
        char json[512], sku[32], id[32];
        snprintf (id, sizeof id, "p-%ld", i);
        snprintf (sku, sizeof sku, "SKU-%ld", i);
        snprintf (json, sizeof json,
                  "{\"id\":\"%s\",\"sku\":\"%s\",\"title\":\"Bench Item %ld\",\"brand\":\"B\","
                  "\"category\":\"furniture/tables\",\"price\":%lld,\"status\":\"active\"}",
                  id, sku, i, (long long) PRICE (i));
        s_call ("catalog", "create", json, &s_admin, NULL, arena, NULL);
        on_hand[i] = 1000000;
        snprintf (json, sizeof json,
                  "{\"sku\":\"%s\",\"product_id\":\"%s\",\"qty\":1000000,\"reason\":\"seed\"}", sku,
                  id);
        if (s_call ("inventory", "restock", json, &s_admin, sku, arena, NULL) != VE_OK)
            fprintf (stderr, "restock %s failed\n", sku);
        varena_reset (arena);
    }
    char last[64];
    snprintf (last, sizeof last, "{\"id\":\"p-%ld\"}", products - 1);
    for (int i = 0; i < 200 && s_call ("catalog-read", "get", last, NULL, NULL, arena, NULL); i++)
        usleep (50000);

    //  The run, with every process's CPU counted from here.
    pid_t counted_pids[11];
    double cpu_before[11];
    int ncounted = 0;
    for (int i = 0; i < np; i++)
        counted_pids[ncounted++] = pids[i];
    counted_pids[ncounted++] = s_broker.pid;
    counted_pids[ncounted++] = getpid ();
    for (int i = 0; i < ncounted; i++)
        cpu_before[i] = s_cpu_ms (counted_pids[i]);
    s.products = (int) products;
    s.seed = 42;
    s.running = true;
    for (long i = 0; i < clients; i++) {
        s.shoppers[i].slot = (int) i;
        s_next (&s.shoppers[i]);
    }
    int64_t start = vbus_mono_us (), end = start + seconds * 1000000;
    while (vbus_mono_us () < end)
        vbus_client_poll (s_client, 50);
    s.running = false;
    double elapsed = (double) (vbus_mono_us () - start) / 1e6;
    size_t counted = s.nlat;  //  checkouts answered within the run
    s_print_cpu (names, counted_pids, cpu_before, ncounted, counted);
    int64_t drain = vbus_mono_us () + 120 * 1000000LL;
    while (vbus_client_pending (s_client) && vbus_mono_us () < drain)
        vbus_client_poll (s_client, 100);
    qsort (s.lat_us, s.nlat, sizeof *s.lat_us, s_cmp);
    double p50 = s.nlat ? s.lat_us[s.nlat / 2] / 1000.0 : 0;
    double p99 = s.nlat ? s.lat_us[(size_t) (s.nlat * 0.99)] / 1000.0 : 0;
    double rate = counted / elapsed;
    printf ("checkouts: %zu in %.1f s (%llu confirmed, %llu failed, %llu errors), %d clients\n",
            counted, elapsed, (unsigned long long) s.confirmed, (unsigned long long) s.failed,
            (unsigned long long) s.errors, (int) clients);
    printf ("latency: p50 %.1f ms, p99 %.1f ms\n", p50, p99);
    s_print_calls (arena, s.norders);

    //  Verify: stock sold == confirmed lines; each confirmed order captured its total, each
    //  other captured nothing; nothing left reserved.
    uint64_t violations = s.errors;
    int64_t *sold = calloc ((size_t) products, sizeof *sold);
    for (size_t i = 0; i < s.norders; i++) {
        s_order_t *r = &s.orders[i];
        if (!r->final)
            violations++;
        if (r->confirmed)
            for (int l = 0; l < r->nlines; l++)
                sold[r->product[l]] += r->qty[l];
        char json[160];
        snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", r->order_id);
        const vmsg_value_t *v;
        varena_reset (arena);
        int64_t net = 0;
        if (s_call ("payments", "list", json, &s_service, r->order_id, arena, &v) != VE_OK) {
            violations++;
            continue;
        }
        const vmsg_value_t *ps = vmsg_get (v, "payments");
        for (uint32_t k = 0; k < vmsg_count (ps); k++)
            net += vmsg_int (vmsg_at (ps, k), "captured", 0)
                   - vmsg_int (vmsg_at (ps, k), "refunded", 0);
        if (net != (r->confirmed ? r->total : 0))
            violations++;
        if (s_call ("payments", "ledger", json, &s_service, r->order_id, arena, &v) != VE_OK
            || !vmsg_bool (v, "balanced", false))
            violations++;
    }
    for (long i = 0; i < products; i++) {
        char json[64], sku[32];
        snprintf (sku, sizeof sku, "SKU-%ld", i);
        snprintf (json, sizeof json, "{\"sku\":\"%s\"}", sku);
        const vmsg_value_t *v;
        varena_reset (arena);
        if (s_call ("inventory", "get", json, NULL, sku, arena, &v) != VE_OK
            || vmsg_int (v, "on_hand", -1) != on_hand[i] - sold[i]
            || vmsg_int (v, "reserved", -1) != 0)
            violations++;
    }
    printf ("verified: %zu orders, %ld SKUs: %llu violations\n", s.norders, products,
            (unsigned long long) violations);

    //  The reference: what this disk gives synced single puts through the same bus.
    double one = s_puts_per_s (1, 2000), many = s_puts_per_s (64, 2000);
    printf ("reference: kv.put_durable %.0f/s one at a time, %.0f/s with 64 in flight (group "
            "commit)\n",
            one, many);

    for (int i = np - 1; i >= 0; i--)
        vit_stop (pids[i], SIGTERM, 15000);
    vbus_client_destroy (&s_client);
    vit_stop (s_broker.pid, SIGTERM, 5000);
    vit_rmtree (dir);
    varena_destroy (&arena);
    printf ("checkout: %.0f/s, p99 %.1f ms, violations %llu\n", rate, p99,
            (unsigned long long) violations);
    free (sold);
    free (on_hand);
    free (s.lat_us);
    free (s.orders);
    return 0;
}
