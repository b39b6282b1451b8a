//  bench_hello.c — vitrine-bench-hello: the smallest keep-alive HTTP/1.1 server libuv makes,
//  answering every request with "hello". It is the ceiling vitrine-bench-edge measures the edge
//  against: the same loop library, the same client, no parsing beyond finding the end of each
//  request, no bus. Pipelined requests are answered in one write.
//  Usage: vitrine-bench-hello [--listen HOST:PORT]   (default 127.0.0.1:8081); SIGTERM stops it.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static const char s_response[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 5\r\n\r\nhello";
static char s_read_buf[64 << 10];

typedef struct {
    uv_tcp_t tcp;
    char tail[4];  //  the last bytes seen, for a request end split across reads
    int tail_len;
} conn_t;

typedef struct {
    uv_write_t req;
    uv_buf_t buf;
} write_t;

static void
s_on_close (uv_handle_t *handle)
{
    free (handle);
}

static void
s_alloc (uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void) handle;
    (void) suggested;
    *buf = uv_buf_init (s_read_buf, sizeof s_read_buf);
}

static void
s_on_write (uv_write_t *req, int status)
{
    (void) status;
    write_t *w = (write_t *) req;
    free (w->buf.base);
    free (w);
}

//  Requests completed in these bytes: each ends with an empty line (GET, no body).
static int
s_count (conn_t *c, const char *data, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        c->tail[0] = c->tail[1];
        c->tail[1] = c->tail[2];
        c->tail[2] = c->tail[3];
        c->tail[3] = data[i];
        if (memcmp (c->tail, "\r\n\r\n", 4) == 0)
            n++;
    }
    return n;
}

static void
s_on_read (uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = (conn_t *) stream;
    if (nread < 0) {
        uv_close ((uv_handle_t *) stream, s_on_close);
        return;
    }
    int n = s_count (c, buf->base, (size_t) nread);
    if (n == 0)
        return;
    size_t one = sizeof s_response - 1, total = one * (size_t) n;
    char stack[16 * (sizeof s_response)];
    char *out = total <= sizeof stack ? stack : malloc (total);
    for (int i = 0; i < n; i++)
        memcpy (out + one * (size_t) i, s_response, one);
    uv_buf_t b = uv_buf_init (out, (unsigned) total);
    int sent = uv_try_write (stream, &b, 1);
    if (sent == (int) total) {
        if (out != stack)
            free (out);
        return;
    }
    //  The socket is full: the rest goes through a write request.
    size_t done = sent > 0 ? (size_t) sent : 0;
    write_t *w = malloc (sizeof *w);
    w->buf = uv_buf_init (malloc (total - done), (unsigned) (total - done));
    memcpy (w->buf.base, out + done, total - done);
    if (out != stack)
        free (out);
    if (uv_write (&w->req, stream, &w->buf, 1, s_on_write) != 0) {
        free (w->buf.base);
        free (w);
        uv_close ((uv_handle_t *) stream, s_on_close);
    }
}

static void
s_on_connection (uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    conn_t *c = calloc (1, sizeof *c);
    uv_tcp_init (server->loop, &c->tcp);
    if (uv_accept (server, (uv_stream_t *) &c->tcp) != 0) {
        uv_close ((uv_handle_t *) &c->tcp, s_on_close);
        return;
    }
    uv_tcp_nodelay (&c->tcp, 1);
    uv_read_start ((uv_stream_t *) &c->tcp, s_alloc, s_on_read);
}

static void
s_on_signal (uv_signal_t *handle, int signum)
{
    (void) signum;
    uv_stop (handle->loop);
}

int
main (int argc, char **argv)
{
    const char *listen = "127.0.0.1:8081";
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else {
            fprintf (stderr, "usage: vitrine-bench-hello [--listen HOST:PORT]\n");
            return 2;
        }
    }
    char host[64];
    const char *colon = strrchr (listen, ':');
    int port = colon ? atoi (colon + 1) : 0;
    if (!colon || colon - listen >= (long) sizeof host || port <= 0 || port > 65535) {
        fprintf (stderr, "vitrine-bench-hello: --listen: expected HOST:PORT, got '%s'\n", listen);
        return 2;
    }
    snprintf (host, sizeof host, "%.*s", (int) (colon - listen), listen);
    signal (SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop ();
    uv_tcp_t server;
    struct sockaddr_in addr;
    if (uv_ip4_addr (host, port, &addr) != 0) {
        fprintf (stderr, "vitrine-bench-hello: --listen: '%s' is not an IPv4 address\n", host);
        return 2;
    }
    uv_tcp_init (loop, &server);
    int rc = uv_tcp_bind (&server, (const struct sockaddr *) &addr, 0);
    if (rc == 0)
        rc = uv_listen ((uv_stream_t *) &server, 1024, s_on_connection);
    if (rc) {
        fprintf (stderr, "vitrine-bench-hello: cannot listen on %s: %s\n", listen,
                 uv_strerror (rc));
        return 1;
    }
    uv_signal_t sigterm, sigint;
    uv_signal_init (loop, &sigterm);
    uv_signal_init (loop, &sigint);
    uv_signal_start (&sigterm, s_on_signal, SIGTERM);
    uv_signal_start (&sigint, s_on_signal, SIGINT);
    fprintf (stderr, "vitrine-bench-hello: listening on %s\n", listen);
    uv_run (loop, UV_RUN_DEFAULT);
    return 0;  //  connections die with the process: nothing of value is in flight
}
