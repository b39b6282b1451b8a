//  bench_bus.c — vitrine-bench-bus: throughput of the Vitrine bus beside its ceiling, measured in
//  the same run: a minimal raw-ZeroMQ ROUTER/ROUTER relay with the same clients, workers, window
//  and payload. Clients and workers are threads of this process; the relay and the broker each
//  run as their own process. Last line: "bus: <R> req/s, raw zmq: <C> req/s, ratio <R/C>".
#include "vbus.h"
#include <czmq.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int clients, workers, window, seconds, payload;
    char endpoint[64];     //  where clients connect (relay front or broker)
    char backend[64];      //  raw relay only: where workers connect
    atomic_int stop;       //  1: threads finish
    atomic_int measuring;  //  1: count replies
    atomic_ullong replies;
} bench_t;

//  ---------------------------------------------------------------- raw ZeroMQ reference
static void
s_raw_relay (const char *front_ep, const char *back_ep, int workers)
{
    void *ctx = zmq_ctx_new ();
    void *front = zmq_socket (ctx, ZMQ_ROUTER);
    void *back = zmq_socket (ctx, ZMQ_ROUTER);
    int hwm = 100000;
    zmq_setsockopt (front, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (front, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (back, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (back, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind (front, front_ep) || zmq_bind (back, back_ep))
        _exit (1);
    //  Workers announce themselves with one message: their routing ids.
    zmq_msg_t ids[64];
    int n = 0;
    while (n < workers) {
        zmq_msg_init (&ids[n]);
        zmq_msg_recv (&ids[n], back, 0);
        zmq_msg_t ready;
        zmq_msg_init (&ready);
        zmq_msg_recv (&ready, back, 0);
        zmq_msg_close (&ready);
        n++;
    }
    zmq_pollitem_t items[2] = { { front, 0, ZMQ_POLLIN, 0 }, { back, 0, ZMQ_POLLIN, 0 } };
    int next = 0;
    for (;;) {
        if (zmq_poll (items, 2, -1) < 0)
            break;
        zmq_msg_t a, b;
        while (items[0].revents & ZMQ_POLLIN) {  //  [client][payload] → [worker][client][payload]
            zmq_msg_init (&a);
            if (zmq_msg_recv (&a, front, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&a);
                break;
            }
            zmq_msg_init (&b);
            zmq_msg_recv (&b, front, 0);
            zmq_msg_t id;
            zmq_msg_init (&id);
            zmq_msg_copy (&id, &ids[next]);
            next = (next + 1) % workers;
            zmq_msg_send (&id, back, ZMQ_SNDMORE);
            zmq_msg_send (&a, back, ZMQ_SNDMORE);
            zmq_msg_send (&b, back, 0);
        }
        while (items[1].revents & ZMQ_POLLIN) {  //  [worker][client][payload] → [client][payload]
            zmq_msg_t w;
            zmq_msg_init (&w);
            if (zmq_msg_recv (&w, back, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&w);
                break;
            }
            zmq_msg_close (&w);
            zmq_msg_init (&a);
            zmq_msg_recv (&a, back, 0);
            zmq_msg_init (&b);
            zmq_msg_recv (&b, back, 0);
            zmq_msg_send (&a, front, ZMQ_SNDMORE);
            zmq_msg_send (&b, front, 0);
        }
    }
    _exit (0);
}

static void *
s_raw_worker (void *arg)
{
    bench_t *b = arg;
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    void *s = zsock_resolve (sock);
    zsock_set_rcvtimeo (sock, 100);
    zsock_connect (sock, "%s", b->backend);
    zmq_send (s, "R", 1, 0);
    while (!atomic_load (&b->stop)) {
        zmq_msg_t id, body;
        zmq_msg_init (&id);
        if (zmq_msg_recv (&id, s, 0) < 0) {
            zmq_msg_close (&id);
            continue;
        }
        zmq_msg_init (&body);
        zmq_msg_recv (&body, s, 0);
        zmq_msg_send (&id, s, ZMQ_SNDMORE);
        zmq_msg_send (&body, s, 0);
    }
    zsock_destroy (&sock);
    return NULL;
}

static void *
s_raw_client (void *arg)
{
    bench_t *b = arg;
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    void *s = zsock_resolve (sock);
    zsock_set_rcvtimeo (sock, 100);
    zsock_set_sndhwm (sock, 100000);
    zsock_connect (sock, "%s", b->endpoint);
    char *payload = calloc (1, (size_t) b->payload);
    for (int i = 0; i < b->window; i++)
        zmq_send (s, payload, (size_t) b->payload, 0);
    char buf[65536];
    while (!atomic_load (&b->stop)) {
        if (zmq_recv (s, buf, sizeof buf, 0) < 0)
            continue;
        if (atomic_load (&b->measuring))
            atomic_fetch_add (&b->replies, 1);
        zmq_send (s, payload, (size_t) b->payload, 0);
    }
    free (payload);
    zsock_destroy (&sock);
    return NULL;
}

//  ---------------------------------------------------------------- Vitrine bus
static int
s_echo (const vbus_request_t *req, vbus_out_t *out, void *arg)
{
    (void) arg;
    vbuf_append (&out->body, req->body, req->body_len);
    return VE_OK;
}

static void *
s_bus_worker (void *arg)
{
    bench_t *b = arg;
    vbus_method_t methods[] = { { "echo", s_echo, NULL }, { NULL } };
    vbus_worker_config_t config = {
        .endpoint = b->endpoint, .service = "bench", .methods = methods, .credit = 256
    };
    vbus_worker_t *w = vbus_worker_new (&config);
    while (w && !atomic_load (&b->stop))
        vbus_worker_poll (w, 100);
    vbus_worker_destroy (&w);
    return NULL;
}

typedef struct {
    bench_t *b;
    vbus_client_t *client;
    const char *payload;
} s_bus_client_t;

static void
s_bus_reply (const vbus_reply_t *reply, void *arg)
{
    s_bus_client_t *c = arg;
    if (reply->status == VE_OK && atomic_load (&c->b->measuring))
        atomic_fetch_add (&c->b->replies, 1);
    if (!atomic_load (&c->b->stop))
        vbus_client_send (c->client, "bench", "echo", c->payload, (size_t) c->b->payload, NULL,
                          s_bus_reply, c, NULL);
}

static void *
s_bus_client (void *arg)
{
    bench_t *b = arg;
    char *payload = calloc (1, (size_t) b->payload);
    s_bus_client_t c = { b, vbus_client_new (b->endpoint, 10000), payload };
    for (int i = 0; i < b->window; i++)
        vbus_client_send (c.client, "bench", "echo", payload, (size_t) b->payload, NULL,
                          s_bus_reply, &c, NULL);
    while (!atomic_load (&b->stop) || vbus_client_pending (c.client))
        if (vbus_client_poll (c.client, 100) == 0 && atomic_load (&b->stop))
            break;
    vbus_client_destroy (&c.client);
    free (payload);
    return NULL;
}

//  ---------------------------------------------------------------- driver
static double
s_run (bench_t *b, void *(*worker) (void *), void *(*client) (void *) )
{
    pthread_t threads[256];
    int n = 0;
    atomic_store (&b->stop, 0);
    atomic_store (&b->measuring, 0);
    atomic_store (&b->replies, 0);
    for (int i = 0; i < b->workers; i++)
        pthread_create (&threads[n++], NULL, worker, b);
    usleep (300000);
    for (int i = 0; i < b->clients; i++)
        pthread_create (&threads[n++], NULL, client, b);
    usleep (500000);  //  warm up
    atomic_store (&b->measuring, 1);
    int64_t start = vbus_mono_us ();
    sleep ((unsigned) b->seconds);
    atomic_store (&b->measuring, 0);
    double elapsed = (double) (vbus_mono_us () - start) / 1e6;
    double rate = (double) atomic_load (&b->replies) / elapsed;
    atomic_store (&b->stop, 1);
    for (int i = 0; i < n; i++)
        pthread_join (threads[i], NULL);
    return rate;
}

static double
s_median (double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static pid_t
s_spawn_broker (const char *endpoint)
{
    char exe[PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 32);
    if (len < 0)
        return -1;
    exe[len] = 0;
    strcpy (strrchr (exe, '/') + 1, "vitrine-broker");
    pid_t pid = fork ();
    if (pid == 0) {
        execl (exe, exe, "--bind", endpoint, "--log-level", "W", (char *) NULL);
        _exit (127);
    }
    return pid;
}

int
main (int argc, char **argv)
{
    bench_t b = { .clients = 8, .workers = 2, .window = 64, .seconds = 5, .payload = 105 };
    int port = 0, rounds = 3;
    static const struct option opts[] = { { "clients", 1, 0, 'c' }, { "workers", 1, 0, 'w' },
                                          { "window", 1, 0, 'W' },  { "seconds", 1, 0, 's' },
                                          { "payload", 1, 0, 'p' }, { "port", 1, 0, 'P' },
                                          { "rounds", 1, 0, 'r' },  { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        int v = atoi (optarg);
        switch (c) {
        case 'c': b.clients = v; break;
        case 'w': b.workers = v; break;
        case 'W': b.window = v; break;
        case 's': b.seconds = v; break;
        case 'p': b.payload = v; break;
        case 'P': port = v; break;
        case 'r': rounds = v; break;
        default:
            fprintf (stderr, "usage: vitrine-bench-bus [--clients M] [--workers N] [--window W] "
                             "[--seconds S] [--payload BYTES] [--rounds R] [--port P]\n");
            return 2;
        }
    }
    if (b.clients < 1 || b.clients > 128 || b.workers < 1 || b.workers > 64 || b.window < 1
        || b.window > 10000 || b.seconds < 1 || b.payload < 0 || b.payload > 60000 || rounds < 1
        || rounds > 16) {
        fprintf (stderr, "vitrine-bench-bus: clients 1..128, workers 1..64, window 1..10000, "
                         "seconds >= 1, payload 0..60000, rounds 1..16\n");
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
    srand ((unsigned) getpid ());
    if (!port)
        port = 30000 + rand () % 10000 * 3;
    zsys_init ();
    zsys_handler_set (NULL);

    //  Rounds alternate the ceiling and ours, so drift in the machine's load hits both;
    //  the figures are medians over the rounds.
    double raws[16], buses[16];
    for (int round = 0; round < rounds; round++) {
        //  The ceiling: raw relay in its own process.
        snprintf (b.endpoint, sizeof b.endpoint, "tcp://127.0.0.1:%d", port + 3);
        snprintf (b.backend, sizeof b.backend, "tcp://127.0.0.1:%d", port + 4);
        pid_t relay = fork ();
        if (relay == 0)
            s_raw_relay (b.endpoint, b.backend, b.workers);
        usleep (200000);
        raws[round] = s_run (&b, s_raw_worker, s_raw_client);
        kill (relay, SIGKILL);
        waitpid (relay, NULL, 0);

        //  Ours: the broker process, vbus workers and clients.
        snprintf (b.endpoint, sizeof b.endpoint, "tcp://127.0.0.1:%d", port);
        pid_t broker = s_spawn_broker (b.endpoint);
        usleep (300000);
        buses[round] = s_run (&b, s_bus_worker, s_bus_client);
        kill (broker, SIGTERM);
        waitpid (broker, NULL, 0);
        printf ("round %d: raw zmq relay %.0f req/s, vitrine bus %.0f req/s, ratio %.2f\n",
                round + 1, raws[round], buses[round],
                raws[round] > 0 ? buses[round] / raws[round] : 0.0);
        fflush (stdout);
    }
    double raw = s_median (raws, rounds), bus = s_median (buses, rounds);
    printf ("shape: %d clients x window %d, %d workers, %d B payload, tcp loopback, %d rounds "
            "of %d s, medians\n",
            b.clients, b.window, b.workers, b.payload, rounds, b.seconds);
    printf ("bus: %.0f req/s, raw zmq: %.0f req/s, ratio %.2f\n", bus, raw,
            raw > 0 ? bus / raw : 0.0);
    return bus > 0 && raw > 0 ? 0 : 1;
}
