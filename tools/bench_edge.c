//  bench_edge.c — vitrine-bench-edge: the HTTP edge end to end. Starts a broker, the catalog
//  writer, seeds the demo catalog (10,000 products by default) with vitrine-seed-catalog, a
//  catalog-read replica, the render actor (vitrine-render when built; otherwise a stand-in
//  worker serving one fixed JPEG, said so in the output), vitrine-edge with rate limits off,
//  and vitrine-bench-hello (a minimal libuv HTTP server: the ceiling). Then wrk, 10 s per
//  target with the same threads and connections: GET product by id (a Lua script cycling the
//  active ids), a search, a cached frame, and hello. Then an open-loop run at a fixed rate
//  (11,600 req/s) against product GET, with latencies measured from each request's intended
//  send time (so queueing counts). Last line:
//  "edge: product <P> req/s (<r> of ceiling), p99 at 11600 req/s <X> ms"
#include "vbus.h"
#include "vbus_util.h"
#include "vgen_catalog.h"
#include "vit.h"
#include "vit_http.h"
#include "vmsg.h"
#include "vview.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define ME      "vitrine-bench-edge"
#define KEY_HEX "7d1c0a9e8b2f4c6d5e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"
#define JPEG    "\xff\xd8\xff\xdb bench stand-in frame \xff\xd9"

static char s_dir[64];

//  ---------------------------------------------------------------- processes

static bool
s_exited (pid_t pid)
{
    return waitpid (pid, NULL, WNOHANG) == pid;
}

//  Waits until service has a worker; says so when it does not in time.
static bool
s_wait_workers (const vit_broker_t *b, const char *service, int seconds)
{
    if (vit_wait_workers (b, service, 1, seconds * 1000) == 0)
        return true;
    fprintf (stderr, ME ": %s did not start in %d s\n", service, seconds);
    return false;
}

//  ---------------------------------------------------------------- the render stand-in

static int
s_standin_frame (const vbus_request_t *req, vbus_out_t *out, void *arg)
{
    (void) arg;
    varena_t *arena = varena_new (0);
    const vmsg_value_t *v;
    if (vmsg_decode (vmsg_method_find ("render", "frame")->request, req->body, req->body_len, arena,
                     &v, out->message, sizeof out->message)) {
        varena_destroy (&arena);
        return VE_BAD_REQUEST;
    }
    vview_t view = { .yaw = (int) vmsg_float (v, "yaw", 0),
                     .pitch = (int) vmsg_float (v, "pitch", 15),
                     .zoom = (int) vmsg_float (v, "zoom", 1),
                     .width = (int) vmsg_uint (v, "w", 512),
                     .height = (int) vmsg_uint (v, "h", 512),
                     .quality = (int) vmsg_uint (v, "quality", 85) };
    vview_pack_frame (&out->pk, vmsg_str (v, "id"), &view, "0", "\"standin\"", true, JPEG,
                      sizeof JPEG - 1);
    varena_destroy (&arena);
    return VE_OK;
}

static int
s_standin (const char *endpoint)
{
    static const vbus_method_t methods[] = { { "frame", s_standin_frame, NULL }, { NULL } };
    vbus_worker_config_t config = { .endpoint = endpoint,
                                    .service = "render",
                                    .methods = methods,
                                    .name = "bench-render-standin" };
    vbus_worker_t *worker = vbus_worker_new (&config);
    if (!worker)
        return 1;
    int rc = vbus_worker_run (worker);
    vbus_worker_destroy (&worker);
    return rc;
}

//  ---------------------------------------------------------------- servers and a blocking GET

//  Starts prog with args, one of which is the buffer listen, on free loopback ports until one
//  accepts connections. Returns the port (and *pid), or 0 when none did.
static int
s_serve (const char *prog, const char *const *args, char *listen, const char *log, pid_t *pid)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        int port = 40000 + rand () % 20000;
        snprintf (listen, 64, "127.0.0.1:%d", port);
        *pid = vit_spawn_log (prog, args, log);
        for (int i = 0; i < 100 && !s_exited (*pid); i++) {
            int fd = vit_http_connect (port);
            if (fd >= 0) {
                close (fd);
                return port;
            }
            usleep (50000);
        }
        vit_stop (*pid, SIGTERM, 2000);
        *pid = 0;
    }
    return 0;
}

//  GET path with Connection: close; the status, and the body in out (NUL-terminated).
static int
s_get (int port, const char *path, char *out, size_t size)
{
    vit_http_resp_t r;
    int status = vit_http_request (port, "GET", path, "Connection: close\r\n", NULL, &r, 30000);
    snprintf (out, size, "%s", status > 0 ? r.body : "");
    vit_http_resp_free (&r);
    return status;
}

//  ---------------------------------------------------------------- wrk

typedef struct {
    double rps;
    double p50_ms, p99_ms;
    long non2xx;
} wrk_t;

static double
s_ms (const char *text)
{
    double v = atof (text);
    if (strstr (text, "us"))
        return v / 1000;
    if (strstr (text, "ms"))
        return v;
    if (strstr (text, "s"))
        return v * 1000;
    return v;
}

static int
s_wrk (const char *url, const char *script, const char *script_arg, int threads, int conns,
       int seconds, wrk_t *out)
{
    char t[16], c[16], d[16];
    snprintf (t, sizeof t, "-t%d", threads);
    snprintf (c, sizeof c, "-c%d", conns);
    snprintf (d, sizeof d, "-d%ds", seconds);
    const char *argv[16] = { "wrk", t, c, d, "--latency" };
    int n = 5;
    if (script) {
        argv[n++] = "-s";
        argv[n++] = script;
    }
    argv[n++] = url;
    if (script_arg) {
        argv[n++] = "--";
        argv[n++] = script_arg;
    }
    argv[n] = NULL;
    int pipefd[2];
    if (pipe (pipefd))
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (pipefd[1], 1);
        dup2 (pipefd[1], 2);
        close (pipefd[0]);
        execvp ("wrk", (char *const *) argv);
        _exit (127);
    }
    close (pipefd[1]);
    char output[16384];
    size_t len = 0;
    ssize_t got;
    while (len < sizeof output - 1
           && (got = read (pipefd[0], output + len, sizeof output - 1 - len)) > 0)
        len += (size_t) got;
    output[len] = 0;
    close (pipefd[0]);
    int status;
    waitpid (pid, &status, 0);
    memset (out, 0, sizeof *out);
    const char *rps = strstr (output, "Requests/sec:");
    const char *p50 = strstr (output, "     50%");
    const char *p99 = strstr (output, "     99%");
    const char *non2xx = strstr (output, "Non-2xx or 3xx responses:");
    if (!rps || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, ME ": wrk failed:\n%s\n", output);
        return -1;
    }
    out->rps = atof (rps + 13);
    out->p50_ms = p50 ? s_ms (p50 + 8) : 0;
    out->p99_ms = p99 ? s_ms (p99 + 8) : 0;
    out->non2xx = non2xx ? atol (non2xx + 26) : 0;
    return 0;
}

//  ---------------------------------------------------------------- the fixed-rate run

//  Open loop: request i is due at start + i / rate, whatever happened before; it goes out on
//  a free connection (or waits for one), and its latency runs from when it was due.
typedef struct gen_s gen_t;

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    gen_t *gen;
    bool connected, busy;
    uint64_t due_ns;
    char request[256];
    char *buf;
    size_t len, cap;
} lconn_t;

struct gen_s {
    uv_loop_t *loop;
    uv_poll_t tick;
    int tfd;
    lconn_t *conns;
    int nconns, free_count;
    int *free;  //  stack of idle connection indexes
    double rate;
    uint64_t start_ns, warmup_ns, end_ns;
    uint64_t total, scheduled, answered, errors;
    uint64_t *queue;  //  due times of requests waiting for a connection (a ring)
    uint64_t qhead, qtail;
    uint64_t *lat_ns;  //  latencies of requests due after the warm-up
    uint64_t nlat;
    const char **ids;
    size_t nids, next_id;
    int port;
    bool done;
};

static void s_gen_dispatch (gen_t *g);

static void
s_gen_alloc (uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void) suggested;
    lconn_t *c = handle->data;
    if (c->cap - c->len < 65536) {
        c->cap = c->len + 131072;
        c->buf = realloc (c->buf, c->cap);
    }
    *buf = uv_buf_init (c->buf + c->len, (unsigned) (c->cap - c->len));
}

static void
s_gen_finish (gen_t *g)
{
    if (g->done)
        return;
    g->done = true;
    uv_poll_stop (&g->tick);
    for (int i = 0; i < g->nconns; i++)
        if (!uv_is_closing ((uv_handle_t *) &g->conns[i].tcp))
            uv_close ((uv_handle_t *) &g->conns[i].tcp, NULL);
    uv_close ((uv_handle_t *) &g->tick, NULL);
}

static void
s_gen_read (uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void) buf;
    lconn_t *c = stream->data;
    gen_t *g = c->gen;
    if (nread < 0) {
        //  A connection lost mid-run: its request counts as an error; the run goes on.
        if (c->busy) {
            g->errors++;
            g->answered++;
        }
        c->busy = false;
        c->connected = false;
        uv_close ((uv_handle_t *) stream, NULL);
        return;
    }
    c->len += (size_t) nread;
    for (;;) {
        char *end = c->len ? memmem (c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (!end)
            return;
        size_t head = (size_t) (end - c->buf) + 4;
        const char *cl = memmem (c->buf, head, "Content-Length: ", 16);
        size_t body = cl ? strtoul (cl + 16, NULL, 10) : 0;
        if (c->len < head + body)
            return;
        uint64_t now = uv_hrtime ();
        if (strncmp (c->buf, "HTTP/1.1 200", 12) != 0)
            g->errors++;
        if (c->due_ns >= g->warmup_ns)
            g->lat_ns[g->nlat++] = now - c->due_ns;
        g->answered++;
        memmove (c->buf, c->buf + head + body, c->len - head - body);
        c->len -= head + body;
        c->busy = false;
        g->free[g->free_count++] = (int) (c - g->conns);
    }
}

static void
s_gen_send (gen_t *g, lconn_t *c, uint64_t due)
{
    const char *id = g->ids[g->next_id++ % g->nids];
    int n = snprintf (c->request, sizeof c->request,
                      "GET /api/v1/products/%s HTTP/1.1\r\nHost: bench\r\n\r\n", id);
    c->busy = true;
    c->due_ns = due;
    uv_buf_t b = uv_buf_init (c->request, (unsigned) n);
    int sent = uv_try_write ((uv_stream_t *) &c->tcp, &b, 1);
    if (sent == n)
        return;
    b = uv_buf_init (c->request + (sent > 0 ? sent : 0), (unsigned) (n - (sent > 0 ? sent : 0)));
    uv_write (&c->write, (uv_stream_t *) &c->tcp, &b, 1, NULL);
}

static void
s_gen_dispatch (gen_t *g)
{
    uint64_t now = uv_hrtime ();
    uint64_t due =
        now < g->start_ns ? 0 : (uint64_t) ((double) (now - g->start_ns) * g->rate / 1e9) + 1;
    if (due > g->total)
        due = g->total;
    for (; g->scheduled < due; g->scheduled++)
        g->queue[g->qtail++ % g->total] =
            g->start_ns + (uint64_t) ((double) g->scheduled * 1e9 / g->rate);
    while (g->qhead < g->qtail && g->free_count > 0) {
        lconn_t *c = &g->conns[g->free[--g->free_count]];
        if (!c->connected)
            continue;
        s_gen_send (g, c, g->queue[g->qhead++ % g->total]);
    }
    if ((g->answered >= g->total) || now > g->end_ns + 5000000000ull)
        s_gen_finish (g);
}

static void
s_gen_tick (uv_poll_t *handle, int status, int events)
{
    (void) status;
    (void) events;
    gen_t *g = handle->data;
    uint64_t expirations;
    if (read (g->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    s_gen_dispatch (g);
}

static void
s_gen_connected (uv_connect_t *req, int status)
{
    lconn_t *c = req->data;
    if (status < 0) {
        fprintf (stderr, ME ": fixed rate: connect: %s\n", uv_strerror (status));
        return;
    }
    c->connected = true;
    uv_tcp_nodelay (&c->tcp, 1);
    uv_read_start ((uv_stream_t *) &c->tcp, s_gen_alloc, s_gen_read);
    c->gen->free[c->gen->free_count++] = (int) (c - c->gen->conns);
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

typedef struct {
    double p50_ms, p99_ms, p999_ms, max_ms;
    uint64_t answered, errors, measured;
} fixed_t;

static int
s_fixed_rate (int port, double rate, int seconds, int conns, const char **ids, size_t nids,
              fixed_t *out)
{
    uv_loop_t loop;
    uv_loop_init (&loop);
    gen_t g = { .loop = &loop, .rate = rate, .ids = ids, .nids = nids, .port = port };
    g.total = (uint64_t) (rate * seconds);
    g.nconns = conns;
    g.conns = calloc ((size_t) conns, sizeof *g.conns);
    g.free = calloc ((size_t) conns, sizeof *g.free);
    g.queue = calloc (g.total, sizeof *g.queue);
    g.lat_ns = calloc (g.total, sizeof *g.lat_ns);
    struct sockaddr_in sa;
    uv_ip4_addr ("127.0.0.1", port, &sa);
    for (int i = 0; i < conns; i++) {
        lconn_t *c = &g.conns[i];
        c->gen = &g;
        uv_tcp_init (&loop, &c->tcp);
        c->tcp.data = c->connect.data = c;
        uv_tcp_connect (&c->connect, &c->tcp, (struct sockaddr *) &sa, s_gen_connected);
    }
    //  Connect everything first, so the run measures requests and not handshakes.
    for (int i = 0; i < 100 && g.free_count < conns; i++)
        uv_run (&loop, UV_RUN_NOWAIT), usleep (10000);
    //  A tick every 250 µs: a request waits at most that long past its due time to be sent,
    //  and that wait counts in its latency.
    g.tfd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = { .it_interval = { 0, 250000 }, .it_value = { 0, 250000 } };
    timerfd_settime (g.tfd, 0, &its, NULL);
    uv_poll_init (&loop, &g.tick, g.tfd);
    g.tick.data = &g;
    g.start_ns = uv_hrtime ();
    g.warmup_ns = g.start_ns + 1000000000ull;  //  the first second is not measured
    g.end_ns = g.start_ns + (uint64_t) seconds * 1000000000ull;
    uv_poll_start (&g.tick, UV_READABLE, s_gen_tick);
    uv_run (&loop, UV_RUN_DEFAULT);
    close (g.tfd);
    uv_loop_close (&loop);
    qsort (g.lat_ns, g.nlat, sizeof g.lat_ns[0], s_cmp_u64);
    memset (out, 0, sizeof *out);
    out->answered = g.answered;
    out->errors = g.errors + (g.total - g.answered);
    out->measured = g.nlat;
    if (g.nlat) {
        out->p50_ms = (double) g.lat_ns[g.nlat / 2] / 1e6;
        out->p99_ms = (double) g.lat_ns[(size_t) ((double) g.nlat * 0.99)] / 1e6;
        out->p999_ms = (double) g.lat_ns[(size_t) ((double) g.nlat * 0.999)] / 1e6;
        out->max_ms = (double) g.lat_ns[g.nlat - 1] / 1e6;
    }
    for (int i = 0; i < conns; i++)
        free (g.conns[i].buf);
    free (g.conns);
    free (g.free);
    free (g.queue);
    free (g.lat_ns);
    return g.nlat ? 0 : -1;
}

//  ---------------------------------------------------------------- main

int
main (int argc, char **argv)
{
    if (argc == 3 && strcmp (argv[1], "--render-standin") == 0)
        return s_standin (argv[2]);
    setenv ("VITRINE_CHECK_REPLIES", "0", 1);  //  measure the actors as they run in production
    long products = 10000, seconds = 10, conns = 64, threads = 1, rate = 11600;
    static const struct option opts[] = { { "products", 1, 0, 'p' },
                                          { "seconds", 1, 0, 's' },
                                          { "connections", 1, 0, 'c' },
                                          { "threads", 1, 0, 't' },
                                          { "rate", 1, 0, 'r' },
                                          { "help", 0, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    int opt;
    while ((opt = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'p': bad = vbus_arg_long (ME, "--products", optarg, 100, 10000000, &products); break;
        case 's': bad = vbus_arg_long (ME, "--seconds", optarg, 2, 3600, &seconds); break;
        case 'c': bad = vbus_arg_long (ME, "--connections", optarg, 1, 10000, &conns); break;
        case 't': bad = vbus_arg_long (ME, "--threads", optarg, 1, 64, &threads); break;
        case 'r': bad = vbus_arg_long (ME, "--rate", optarg, 1, 10000000, &rate); break;
        default:
            fprintf (stderr, "usage: " ME " [--products N] [--seconds S] [--connections C] "
                             "[--threads T] [--rate R]\n");
            return 2;
        }
        if (bad)
            return 2;
    }
    if (system ("command -v wrk > /dev/null 2>&1") != 0) {
        fprintf (stderr, ME ": wrk is not installed (apt-get install wrk)\n");
        return 2;
    }
    if (vit_tmpdir ("vitrine-bench-edge", s_dir, sizeof s_dir) != 0)
        return 1;
    srand ((unsigned) (getpid () ^ time (NULL)));
    signal (SIGPIPE, SIG_IGN);
    char data[PATH_MAX], edge_log[PATH_MAX], ids_path[PATH_MAX], www[PATH_MAX], quiet[PATH_MAX];
    snprintf (data, sizeof data, "%s/data", s_dir);
    snprintf (edge_log, sizeof edge_log, "%s/edge.log", s_dir);
    snprintf (ids_path, sizeof ids_path, "%s/ids.txt", s_dir);
    snprintf (www, sizeof www, "%s/www", s_dir);
    snprintf (quiet, sizeof quiet, "%s/actors.log", s_dir);
    mkdir (www, 0755);
    pid_t writer = 0, replica = 0, render = 0, edge = 0, hello = 0;
    vit_broker_t broker = { 0 };
    vbus_client_t *client = NULL;
    int rc = 1;
    //  The broker, on a free port (and the two after it).
    if (vit_broker_start (&broker, 0, (const char *const[]) { "--log-level", "E", NULL }) != 0)
        goto done;
    const char *endpoint = broker.endpoint;
    client = vbus_client_new (endpoint, 2000);
    //  The catalog: writer, seeded, then a replica that catches up from the writer's stream.
    const char *writer_args[] = { "--broker", endpoint, "--data", data, NULL };
    writer = vit_spawn_log ("vitrine-catalog", writer_args, quiet);
    if (!s_wait_workers (&broker, "catalog", 60))
        goto done;
    char count[32];
    snprintf (count, sizeof count, "%ld", products);
    const char *seed_args[] = { "--broker", endpoint, "--products", count, NULL };
    pid_t seed = vit_spawn_log ("vitrine-seed-catalog", seed_args, quiet);
    int status;
    if (waitpid (seed, &status, 0) != seed || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, ME ": seeding failed\n");
        goto done;
    }
    const char *replica_args[] = {
        "--broker", endpoint,           "--data", data, "--set", "service=catalog-read",
        "--set",    "follow=catalog/0", NULL
    };
    replica = vit_spawn_log ("vitrine-catalog", replica_args, quiet);
    //  The render actor if it is built, else the stand-in.
    bool real_render = access (vit_bin ("vitrine-render"), X_OK) == 0;
    if (real_render) {
        //  No pre-rendering: it would draw frames of 10,000 new products on the same cores
        //  while the edge is measured.
        const char *render_args[] = { "--broker", endpoint,      "--data", data,
                                      "--set",    "prerender=0", NULL };
        render = vit_spawn_log ("vitrine-render", render_args, quiet);
    }
    else {
        const char *standin_args[] = { "--render-standin", endpoint, NULL };
        render = vit_spawn_log (ME, standin_args, quiet);
    }
    if (!s_wait_workers (&broker, "catalog-read", 120) || !s_wait_workers (&broker, "render", 60))
        goto done;
    //  The active products (drafts and archived ones are not served to the public).
    FILE *idf = fopen (ids_path, "w");
    const char **ids = calloc ((size_t) products, sizeof *ids);
    size_t nids = 0;
    for (long i = 0; i < products; i++) {
        vgen_product_t p;
        vgen_product ((uint64_t) i, &p);
        if (p.active) {
            fprintf (idf, "%s\n", p.id);
            ids[nids++] = strdup (p.id);
        }
    }
    fclose (idf);
    //  The edge (rate limits off) and the hello server, on free ports.
    char listen[64];
    const char *edge_args[] = { "--broker", endpoint,     "--listen", listen,
                                "--www",    www,          "--set",    "token_key=" KEY_HEX,
                                "--set",    "rate_api=0", "--set",    "rate_auth=0",
                                NULL };
    int edge_port = s_serve ("vitrine-edge", edge_args, listen, edge_log, &edge);
    const char *hello_args[] = { "--listen", listen, NULL };
    int hello_port = s_serve ("vitrine-bench-hello", hello_args, listen, quiet, &hello);
    if (!edge_port || !hello_port) {
        fprintf (stderr, ME ": the edge or the hello server did not start\n");
        goto done;
    }
    //  The replica has caught up when the last product is there; the frame is then warmed.
    char body[1 << 16], path[512];
    snprintf (path, sizeof path, "/api/v1/products/%s", ids[nids - 1]);
    int got = 0;
    for (int i = 0; i < 1200 && got != 200; i++)
        if ((got = s_get (edge_port, path, body, sizeof body)) != 200)
            usleep (100000);
    if (got != 200) {
        fprintf (stderr, ME ": the catalog replica did not catch up\n");
        goto done;
    }
    snprintf (path, sizeof path, "/api/v1/products/%s", ids[0]);
    s_get (edge_port, path, body, sizeof body);
    char hash[80] = "";
    const char *h = strstr (body, "\"scene_hash\":\"");
    if (h)
        snprintf (hash, sizeof hash, "%.*s", (int) strcspn (h + 14, "\""), h + 14);
    char frame[512];
    snprintf (frame, sizeof frame,
              "/api/v1/products/%s/frame?yaw=30&pitch=15&zoom=1&w=512&h=512%s%s", ids[0],
              hash[0] ? "&v=" : "", hash);
    for (int i = 0; i < 600 && (got = s_get (edge_port, frame, body, sizeof body)) != 200; i++)
        usleep (100000);
    if (got != 200) {
        fprintf (stderr, ME ": the frame did not render (status %d)\n", got);
        goto done;
    }
    printf ("platform: %ld products (%zu active), render: %s\n", products, nids,
            real_render ? "vitrine-render (prerender off)"
                        : "a stand-in worker (vitrine-render is not built)");
    printf ("wrk: %ld thread(s), %ld connections, %ld s per target\n", threads, conns, seconds);
    fflush (stdout);
    //  Throughput.
    char url[1024];
    wrk_t product, search, cached, ceiling;
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", edge_port);
    if (s_wrk (url, BENCH_EDGE_LUA, ids_path, (int) threads, (int) conns, (int) seconds, &product))
        goto done;
    printf ("product GET:  %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %ld\n", product.rps,
            product.p50_ms, product.p99_ms, product.non2xx);
    fflush (stdout);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/api/v1/search?q=chair&limit=20", edge_port);
    if (s_wrk (url, NULL, NULL, (int) threads, (int) conns, (int) seconds, &search))
        goto done;
    printf ("search:       %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %ld\n", search.rps,
            search.p50_ms, search.p99_ms, search.non2xx);
    fflush (stdout);
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", edge_port, frame);
    if (s_wrk (url, NULL, NULL, (int) threads, (int) conns, (int) seconds, &cached))
        goto done;
    printf ("cached frame: %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %ld\n", cached.rps,
            cached.p50_ms, cached.p99_ms, cached.non2xx);
    fflush (stdout);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", hello_port);
    if (s_wrk (url, NULL, NULL, (int) threads, (int) conns, (int) seconds, &ceiling))
        goto done;
    printf ("hello:        %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  (the ceiling)\n", ceiling.rps,
            ceiling.p50_ms, ceiling.p99_ms);
    fflush (stdout);
    //  Latency at a fixed rate.
    fixed_t fixed;
    if (s_fixed_rate (edge_port, (double) rate, (int) seconds, (int) conns, ids, nids, &fixed))
        goto done;
    printf ("fixed rate %ld req/s, product GET, open loop: p50 %.2f ms  p99 %.2f ms  "
            "p99.9 %.2f ms  max %.2f ms  (%llu measured, %llu errors)\n",
            rate, fixed.p50_ms, fixed.p99_ms, fixed.p999_ms, fixed.max_ms,
            (unsigned long long) fixed.measured, (unsigned long long) fixed.errors);
    printf ("edge: product %.0f req/s (%.2f of ceiling), p99 at %ld req/s %.2f ms\n", product.rps,
            ceiling.rps > 0 ? product.rps / ceiling.rps : 0, rate, fixed.p99_ms);
    rc = product.non2xx || fixed.errors ? 1 : 0;
done:
    vit_stop (hello, SIGTERM, 10000);
    vit_stop (edge, SIGTERM, 10000);
    vit_stop (render, SIGTERM, 10000);
    vit_stop (replica, SIGTERM, 10000);
    vit_stop (writer, SIGTERM, 10000);
    vbus_client_destroy (&client);
    vit_stop (broker.pid, SIGTERM, 10000);
    vit_rmtree (s_dir);
    return rc;
}
