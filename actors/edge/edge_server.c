//  edge_server.c — the loop of vitrine-edge: the listener (SO_REUSEPORT, so several edges can
//  share a port), connections with their limits and timeouts, static files, /healthz, the bus
//  client polled in the loop, and a clean stop on SIGTERM (stop accepting, finish what is in
//  flight, exit 0). Responses are written by edge_resp.c, bus routes answered by edge_api.c.
#include "edge_server.h"
#include "edge_resp.h"
#include "edge_shapes.h"
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define WHO      "edge"
#define SWEEP_MS 250
#define REST_CAP (256 << 10)  //  pipelined bytes kept while a request is answered
#define STOP_MS  15000        //  the most a stop waits for requests in flight

static void s_conn_close (edge_conn_t *c);
static void s_conn_continue (edge_conn_t *c);
static void s_maybe_finish (edge_server_t *s, bool force);
static void s_on_bus_timer (uv_timer_t *handle);
static void s_on_bus_reply (const vbus_reply_t *reply, void *arg);
static void s_live_drain (edge_server_t *s);

//  ---------------------------------------------------------------- static files and health

static bool
s_accepts_gzip (const edge_conn_t *c)
{
    size_t len;
    const char *ae = edge_parse_header (&c->parse, "accept-encoding", &len);
    for (const char *p = ae; p && (size_t) (p - ae) + 4 <= len; p++) {
        if (strncasecmp (p, "gzip", 4) != 0 || (p > ae && p[-1] != ' ' && p[-1] != ','))
            continue;
        const char *q = p + 4;
        while ((size_t) (q - ae) < len && *q == ' ')
            q++;
        //  "gzip;q=0" refuses it.
        if ((size_t) (q - ae) + 4 <= len && strncmp (q, ";q=0", 4) == 0
            && ((size_t) (q - ae) + 4 == len || q[4] == ',' || q[4] == ' '
                || (q[4] == '.' && strspn (q + 5, "0") > 0)))
            return false;
        return true;
    }
    return false;
}

static void
s_static (edge_conn_t *c)
{
    edge_server_t *s = c->server;
    edge_req_t *r = &c->req;
    int method = edge_parse_method (&c->parse);
    if (method != HTTP_GET && method != HTTP_HEAD) {
        edge_resp_begin (c, 405);
        EDGE_RESP_PUTS (c, "Allow: GET, HEAD\r\n");
        edge_resp_error (c, 405, NULL, "static files are read with GET or HEAD");
        return;
    }
    const edge_file_t *f = NULL;
    int rc = s->www ? edge_static_get (s->www, r->path, r->path_len, &f) : -VE_NOT_FOUND;
    if (rc == -VE_BAD_REQUEST) {
        edge_resp_error (c, 400, NULL, "this path is not allowed");
        return;
    }
    if (rc) {
        edge_resp_error (c, 404, NULL, "no such page");
        return;
    }
    bool gz = f->gz && s_accepts_gzip (c);
    const char *tag = gz ? f->etag_gz : f->etag;
    size_t inm_len;
    const char *inm = edge_parse_header (&c->parse, "if-none-match", &inm_len);
    bool fresh =
        inm
        && (edge_etag_match (inm, inm_len, f->etag) || edge_etag_match (inm, inm_len, f->etag_gz));
    edge_resp_begin (c, fresh ? 304 : 200);
    edge_resp_header (c, "ETag: %s", tag);
    edge_resp_header (c, "Cache-Control: %s", f->cache_control);
    if (f->gz)
        EDGE_RESP_PUTS (c, "Vary: Accept-Encoding\r\n");
    if (gz && !fresh)
        EDGE_RESP_PUTS (c, "Content-Encoding: gzip\r\n");
    if (fresh)
        edge_resp_send (c, NULL, NULL, 0);
    else
        edge_resp_send (c, f->type, gz ? f->gz : f->data, gz ? f->gz_len : f->len);
}

static void
s_health (edge_conn_t *c)
{
    static const char body[] = "{\"status\":\"ok\"}";
    edge_resp_begin (c, 200);
    EDGE_RESP_PUTS (c, "Cache-Control: no-store\r\n");
    edge_resp_send (c, "application/json", body, sizeof body - 1);
}

//  ---------------------------------------------------------------- one request

static bool
s_rate_ok (edge_conn_t *c)
{
    edge_server_t *s = c->server;
    const edge_route_t *route = c->req.route;
    int64_t retry = 0, now = (int64_t) uv_now (s->loop);
    bool ok = !s->limit_api || edge_limit_take (s->limit_api, c->addr, c->addr_len, now, &retry);
    if (ok && (route->flags & EDGE_ROUTE_STRICT) && s->limit_auth)
        ok = edge_limit_take (s->limit_auth, c->addr, c->addr_len, now, &retry);
    if (ok)
        return true;
    edge_resp_begin (c, 429);
    edge_resp_header (c, "Retry-After: %lld", (long long) (retry + 999) / 1000);
    edge_resp_error (c, 429, NULL, "too many requests from this address; slow down");
    return false;
}

//  One parsed request: its id, its row of the route table, then who answers it.
//
//  Why the order is this: the request id comes first, so that every answer, refusals
//  included, carries one (a client's own X-Request-Id when it is well-formed, to follow a
//  request across services). The route table is matched on the raw path (edge_route_match:
//  a linear walk over a dozen patterns, cheaper than any index at this size, and percent
//  escapes are decoded per parameter later, so "%2F" in an id never splits a segment). A miss
//  is told apart three ways: another method matches (405 with Allow, as HTTP requires), the
//  path is under /api/ (a JSON 404: API clients never get a page), or it is a static file.
//  /healthz is answered before the rate limit (a probe is never throttled), and /readyz skips
//  it too; everything else takes a token from the per-address limiter, and rows marked
//  STRICT (sign-in) one from the stricter limiter, before any bus call is made.
static void
s_handle (edge_conn_t *c)
{
    edge_server_t *s = c->server;
    edge_req_t *r = &c->req;
    r->start_us = vbus_mono_us ();
    size_t len;
    const char *rid = edge_parse_header (&c->parse, "x-request-id", &len);
    if (rid && edge_rid_ok (rid, len)) {
        memcpy (r->rid, rid, len);
        r->rid[len] = 0;
    }
    else
        edge_rid_new (r->rid);
    edge_parse_target (&c->parse, &r->path, &r->path_len, &r->query, &r->query_len);
    r->head_only = edge_parse_method (&c->parse) == HTTP_HEAD;
    if (!edge_parse_keep_alive (&c->parse) || s->stopping)
        c->close_after = true;
    c->state = EDGE_CONN_BUSY;
    bool api = r->path_len >= 5 && memcmp (r->path, "/api/", 5) == 0;
    char allow[32];
    r->route = edge_route_match (edge_parse_method_name (&c->parse), r->path, r->path_len,
                                 r->params, &r->nparams, allow, sizeof allow);
    r->html = !api && (!r->route || (r->route->flags & EDGE_ROUTE_PAGE));
    if (!r->route) {
        if (allow[0]) {
            edge_resp_begin (c, 405);
            edge_resp_header (c, "Allow: %s", allow);
            edge_resp_error (c, 405, NULL, "this method is not allowed here");
        }
        else if (api)
            edge_resp_error (c, 404, NULL, "no such API path");
        else
            s_static (c);
        return;
    }
    unsigned flags = r->route->flags;
    if (flags & EDGE_ROUTE_HEALTH) {
        s_health (c);
        return;
    }
    if (!(flags & EDGE_ROUTE_READY) && !s_rate_ok (c))
        return;
    edge_api_handle (c, s_on_bus_reply);
    if (c->bus_pending)
        s->bus_dirty = true;  //  the bus client has sent: the loop dispatches before it sleeps
}

//  ---------------------------------------------------------------- connections

static void
s_read_stop (edge_conn_t *c)
{
    if (c->reading) {
        uv_read_stop ((uv_stream_t *) &c->tcp);
        c->reading = false;
    }
}

static void s_on_read (uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void
s_alloc (uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void) suggested;
    edge_conn_t *c = handle->data;
    //  One buffer for every connection: what a read brings is parsed (and copied where it must
    //  be kept) before the next read.
    *buf = uv_buf_init (c->server->read_buf, sizeof c->server->read_buf);
}

static void
s_read_start (edge_conn_t *c)
{
    if (!c->reading && !c->closing) {
        if (uv_read_start ((uv_stream_t *) &c->tcp, s_alloc, s_on_read) == 0)
            c->reading = true;
        else
            s_conn_close (c);
    }
}

static void
s_conn_free (edge_conn_t *c)
{
    edge_server_t *s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    edge_parse_free (&c->parse);
    varena_destroy (&c->arena);
    free (c->rest);
    free (c->write_copy);
    free (c);
    s_maybe_finish (s, false);
}

static void
s_on_close (uv_handle_t *handle)
{
    edge_conn_t *c = handle->data;
    c->tcp_closed = true;
    if (!c->bus_pending)
        s_conn_free (c);
}

static void
s_conn_close (edge_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    s_read_stop (c);
    uv_close ((uv_handle_t *) &c->tcp, s_on_close);
}

//  The response writer's hook (s->write_done): a write handed to uv_write ended, or a write
//  failed. The connection carries on with its next request, or closes.
static void
s_write_done (edge_conn_t *c, int status)
{
    if (status < 0 || c->closing) {
        s_conn_close (c);
        return;
    }
    c->state = EDGE_CONN_DONE;
    s_conn_continue (c);
}

//  The callback of every bus call the API layer sends: the call is over. A connection closed
//  meanwhile is freed now (its close callback waited for this one) and not touched again;
//  otherwise the API layer answers and the connection carries on.
static void
s_on_bus_reply (const vbus_reply_t *reply, void *arg)
{
    edge_conn_t *c = arg;
    c->bus_pending = false;
    if (c->closing) {
        if (c->tcp_closed)
            s_conn_free (c);
        return;  //  the client left while we waited
    }
    edge_api_reply (c, reply);
    if (c->state == EDGE_CONN_DONE)
        s_conn_continue (c);
}

//  Keeps bytes that arrived past the current request (or while it is answered).
static bool
s_keep_rest (edge_conn_t *c, const char *data, size_t len)
{
    if (c->rest_off) {
        //  Keep only what is not parsed yet (nothing points into it between callbacks).
        memmove (c->rest, c->rest + c->rest_off, c->rest_len - c->rest_off);
        c->rest_len -= c->rest_off;
        c->rest_off = 0;
    }
    if (c->rest_len + len > c->rest_cap) {
        size_t cap = c->rest_cap ? c->rest_cap : 4096;
        while (cap < c->rest_len + len)
            cap *= 2;
        char *rest = realloc (c->rest, cap);
        if (!rest)
            return false;
        c->rest = rest;
        c->rest_cap = cap;
    }
    memcpy (c->rest + c->rest_len, data, len);
    c->rest_len += len;
    return true;
}

//  Parses bytes of the current request. from_rest: they are c->rest's (consumed in place).
static void
s_feed (edge_conn_t *c, const char *data, size_t len, bool from_rest)
{
    uint64_t now = uv_now (c->server->loop);
    bool started = c->parse.started, headers = c->parse.headers_done;
    size_t used = edge_parse_feed (&c->parse, data, len);
    if (!started && (c->parse.started || used))
        c->head_since = now;
    if (c->parse.headers_done) {
        if (!headers) {
            c->window_start = now;
            c->window_bytes = 0;
        }
        c->window_bytes += used;
    }
    if (from_rest)
        c->rest_off += used;
    if (c->parse.status) {
        //  Refused: answer and close; nothing after it can be trusted to be a request.
        s_read_stop (c);
        c->close_after = true;
        c->state = EDGE_CONN_BUSY;
        edge_req_t *r = &c->req;
        r->start_us = vbus_mono_us ();
        edge_rid_new (r->rid);
        r->path = "-";
        r->path_len = 1;
        vbus_log ('I', WHO, "refused a request from %s: %d %s", c->addr_text, c->parse.status,
                  c->parse.why ? c->parse.why : "");
        edge_resp_error (c, c->parse.status, NULL, c->parse.why);
        return;
    }
    if (c->parse.complete) {
        if (!from_rest && used < len && !s_keep_rest (c, data + used, len - used)) {
            s_conn_close (c);
            return;
        }
        s_handle (c);
        return;
    }
    if (c->parse.headers_done && c->parse.expect_continue && !c->sent_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        uv_buf_t b = uv_buf_init ((char *) cont, sizeof cont - 1);
        c->sent_continue = true;
        uv_try_write ((uv_stream_t *) &c->tcp, &b, 1);
    }
}

//  The response is out (or the request needs more bytes): next request, pipelined bytes
//  first, then the socket. Loops rather than recursing when responses go out at once.
static void
s_conn_continue (edge_conn_t *c)
{
    edge_server_t *s = c->server;
    for (;;) {
        if (c->closing || c->state == EDGE_CONN_BUSY || c->state == EDGE_CONN_WRITING
            || c->state == EDGE_CONN_STREAMING)
            return;
        if (c->state == EDGE_CONN_DONE) {
            if (c->close_after) {
                s_conn_close (c);
                return;
            }
            edge_parse_next (&c->parse);
            varena_reset (c->arena);
            memset (&c->req, 0, sizeof c->req);
            c->head_len = 0;
            c->sent_continue = false;
            c->state = EDGE_CONN_READING;
            c->idle_since = uv_now (s->loop);
        }
        if (c->rest_off < c->rest_len) {
            s_feed (c, c->rest + c->rest_off, c->rest_len - c->rest_off, true);
            if (c->state == EDGE_CONN_READING)
                break;  //  the request goes on in bytes still to come
            continue;
        }
        break;
    }
    if (c->rest_off == c->rest_len)
        c->rest_off = c->rest_len = 0;
    s_read_start (c);
}

static void
s_on_read (uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    edge_conn_t *c = stream->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        //  The peer closed (or reset). A request being answered may still be written: a
        //  half-closed client can read it; otherwise there is nothing to wait for.
        if (nread == UV_EOF && (c->state == EDGE_CONN_BUSY || c->state == EDGE_CONN_WRITING)) {
            s_read_stop (c);
            c->close_after = true;
            return;
        }
        s_conn_close (c);
        return;
    }
    if (c->state != EDGE_CONN_READING) {
        //  Pipelined while we answer: kept (bounded) for after the response.
        if (!s_keep_rest (c, buf->base, (size_t) nread)) {
            s_conn_close (c);
            return;
        }
        if (c->rest_len - c->rest_off > REST_CAP)
            s_read_stop (c);
        return;
    }
    s_feed (c, buf->base, (size_t) nread, false);
    if (c->state == EDGE_CONN_DONE)
        s_conn_continue (c);
}

static void
s_on_close_free (uv_handle_t *handle)
{
    free (handle->data);
}

static void
s_on_connection (uv_stream_t *listener, int status)
{
    edge_server_t *s = listener->data;
    if (status < 0) {
        vbus_log ('W', WHO, "accept: %s", uv_strerror (status));
        return;
    }
    edge_conn_t *c = calloc (1, sizeof *c);
    if (!c || !(c->arena = varena_new (16 << 10))) {
        free (c);
        return;
    }
    c->server = s;
    uv_tcp_init (s->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept (listener, (uv_stream_t *) &c->tcp) != 0) {
        varena_destroy (&c->arena);
        c->closing = true;
        uv_close ((uv_handle_t *) &c->tcp, s_on_close_free);
        return;
    }
    uv_tcp_nodelay (&c->tcp, 1);
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    snprintf (c->addr_text, sizeof c->addr_text, "?");
    if (uv_tcp_getpeername (&c->tcp, (struct sockaddr *) &ss, &sslen) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *) &ss;
            memcpy (c->addr, &in->sin_addr, 4);
            c->addr_len = 4;
            uv_ip4_name (in, c->addr_text, sizeof c->addr_text);
        }
        else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
            memcpy (c->addr, &in6->sin6_addr, 16);
            c->addr_len = 16;
            uv_ip6_name (in6, c->addr_text, sizeof c->addr_text);
        }
    }
    edge_parse_init (&c->parse);
    c->state = EDGE_CONN_READING;
    c->idle_since = uv_now (s->loop);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    s_read_start (c);
}

//  ---------------------------------------------------------------- timeouts

static void
s_date_refresh (edge_server_t *s)
{
    time_t now = time (NULL);
    if (now == s->date_sec)
        return;
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (s->date, sizeof s->date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    s->date_sec = now;
}

static void
s_timeout (edge_conn_t *c, const char *why)
{
    vbus_log ('I', WHO, "closed a connection from %s: %s", c->addr_text, why);
    if (c->state == EDGE_CONN_READING && c->parse.started) {
        //  A request was under way: say why before closing.
        c->close_after = true;
        c->state = EDGE_CONN_BUSY;
        edge_rid_new (c->req.rid);
        c->req.start_us = vbus_mono_us ();
        c->req.path = "-";
        c->req.path_len = 1;
        edge_resp_error (c, 408, NULL, why);
        if (c->state == EDGE_CONN_WRITING)
            return;  //  closes when written (or at the write timeout)
    }
    s_conn_close (c);
}

static void
s_on_sweep (uv_timer_t *timer)
{
    edge_server_t *s = timer->data;
    const edge_config_t *cfg = s->cfg;
    uint64_t now = uv_now (s->loop);
    s_date_refresh (s);
    s_live_drain (s);
    edge_conn_t *next;
    for (edge_conn_t *c = s->conns; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        if (s->stopping && now >= s->stop_deadline) {
            s_conn_close (c);
            continue;
        }
        if (c->state == EDGE_CONN_WRITING
            && now - c->write_since >= (uint64_t) cfg->idle_timeout_ms)
            s_conn_close (c);  //  the client stopped reading
        if (c->state != EDGE_CONN_READING)
            continue;
        if (!c->parse.started) {
            if (now - c->idle_since >= (uint64_t) cfg->idle_timeout_ms)
                s_conn_close (c);
        }
        else if (!c->parse.headers_done) {
            if (now - c->head_since >= (uint64_t) cfg->header_timeout_ms)
                s_timeout (c, "request headers not complete in time");
        }
        else if (now - c->window_start >= EDGE_WINDOW_MS) {
            //  The body must keep up body_min_rate over each window.
            if (c->window_bytes < (uint64_t) cfg->body_min_rate * EDGE_WINDOW_MS / 1000)
                s_timeout (c, "request body too slow");
            else {
                c->window_start = now;
                c->window_bytes = 0;
            }
        }
    }
    if (s->stopping && now >= s->stop_deadline + 5000) {
        //  Whatever still waits for the bus gives up now.
        s_maybe_finish (s, true);
    }
}

//  ---------------------------------------------------------------- the bus in the loop

static void
s_bus_kick (edge_server_t *s)
{
    if (!s->bus)
        return;
    //  Callbacks may send again (the next pipelined request): dispatch until quiet, so that
    //  no reply waits behind an edge the fd will not signal again.
    for (int i = 0; i < 8; i++) {
        s->bus_dirty = false;
        vbus_client_dispatch (s->bus);
        if (!s->bus_dirty)
            break;
    }
    int next = s->bus_dirty ? 0 : vbus_client_next_timeout (s->bus);
    if (next >= 0)
        uv_timer_start (&s->bus_timer, s_on_bus_timer, (uint64_t) next, 0);
    else
        uv_timer_stop (&s->bus_timer);
}

static void
s_on_bus_poll (uv_poll_t *handle, int status, int events)
{
    (void) status;
    (void) events;
    s_bus_kick (handle->data);
}

static void
s_on_bus_timer (uv_timer_t *handle)
{
    s_bus_kick (handle->data);
}

//  Before the loop sleeps: replies the sends of this iteration may have brought, and the log
//  lines of this iteration in one write (stderr is fully buffered, see edge_server_run).
static void
s_on_prepare (uv_prepare_t *handle)
{
    edge_server_t *s = handle->data;
    if (s->bus_dirty)
        s_bus_kick (s);
    fflush (stderr);
}

//  ---------------------------------------------------------------- analytics.live

//  Every event waiting on the subscriber, to every stream. The descriptor is edge-triggered
//  (ZeroMQ's): drain until nothing is left, here and on each sweep.
static void
s_live_drain (edge_server_t *s)
{
    vbus_event_t ev;
    while (s->live_sub && vbus_sub_recv (s->live_sub, &ev, 0) == 0) {
        if (strcmp (ev.topic, "analytics.live") != 0)
            continue;
        vbuf_reset (&s->live_last);
        if (edge_api_live_event (s, &ev, &s->live_last) != 0) {
            vbuf_reset (&s->live_last);
            continue;
        }
        edge_conn_t *next;
        for (edge_conn_t *c = s->conns; c; c = next) {
            next = c->next;  //  a slow client is closed (and unlinked later, on its callback)
            if (c->state == EDGE_CONN_STREAMING)
                edge_resp_event (c, s->live_last.data, s->live_last.len);
        }
    }
}

static void
s_on_live_poll (uv_poll_t *handle, int status, int events)
{
    (void) status;
    (void) events;
    s_live_drain (handle->data);
}

//  The subscribe-out endpoint is the broker's request port + 2 (docs/protocol.md).
static void
s_live_open (edge_server_t *s)
{
    const char *ep = s->cfg->broker, *colon = strrchr (ep, ':');
    long port = colon ? strtol (colon + 1, NULL, 10) : 0;
    if (strncmp (ep, "tcp://", 6) != 0 || port <= 0 || port >= 65534
        || !vmsg_event_find ("analytics.live"))
        return;
    char sub[300];
    snprintf (sub, sizeof sub, "%.*s:%ld", (int) (colon - ep), ep, port + 2);
    const char *prefixes[] = { "analytics.live", NULL };
    s->live_sub = vbus_sub_new (sub, prefixes);
    if (!s->live_sub)
        return;
    uv_poll_init (s->loop, &s->live_poll, vbus_sub_fd (s->live_sub));
    s->live_poll.data = s;
    uv_poll_start (&s->live_poll, UV_READABLE, s_on_live_poll);
}

//  ---------------------------------------------------------------- start and stop

//  Ends the loop once no connection is left (force: also those still waiting for a reply).
static void
s_maybe_finish (edge_server_t *s, bool force)
{
    if (!s->stopping || (s->nconns > 0 && !force) || uv_is_closing ((uv_handle_t *) &s->sweep))
        return;
    vbus_log ('I', WHO, "stopped after %llu requests", (unsigned long long) s->requests);
    uv_close ((uv_handle_t *) &s->sweep, NULL);
    uv_close ((uv_handle_t *) &s->bus_poll, NULL);
    uv_close ((uv_handle_t *) &s->bus_timer, NULL);
    uv_close ((uv_handle_t *) &s->bus_prepare, NULL);
    if (s->live_sub)
        uv_close ((uv_handle_t *) &s->live_poll, NULL);
    uv_close ((uv_handle_t *) &s->sigterm, NULL);
    uv_close ((uv_handle_t *) &s->sigint, NULL);
}

static void
s_on_signal (uv_signal_t *handle, int signum)
{
    edge_server_t *s = handle->data;
    if (s->stopping)
        return;
    s->stopping = true;
    s->stop_deadline = uv_now (s->loop) + STOP_MS;
    vbus_log ('I', WHO, "%s: no new connections; finishing %zu", strsignal (signum), s->nconns);
    uv_close ((uv_handle_t *) &s->listener, NULL);
    edge_conn_t *next;
    for (edge_conn_t *c = s->conns; c; c = next) {
        next = c->next;
        //  Idle keep-alive connections and event streams go now; the others after their
        //  response.
        if ((c->state == EDGE_CONN_READING && !c->parse.started) || c->state == EDGE_CONN_STREAMING)
            s_conn_close (c);
        else
            c->close_after = true;
    }
    s_maybe_finish (s, false);
}

static int
s_listen (edge_server_t *s)
{
    const edge_config_t *cfg = s->cfg;
    struct sockaddr_storage ss;
    bool v6 = strchr (cfg->host, ':') != NULL;
    int rc = v6 ? uv_ip6_addr (cfg->host, cfg->port, (struct sockaddr_in6 *) &ss)
                : uv_ip4_addr (cfg->host, cfg->port, (struct sockaddr_in *) &ss);
    if (rc) {
        fprintf (stderr, "vitrine-edge: listen: '%s' is not an IP address\n", cfg->host);
        return -VE_CONFIG;
    }
    uv_tcp_init_ex (s->loop, &s->listener, v6 ? AF_INET6 : AF_INET);
    s->listener.data = s;
    uv_os_fd_t fd;
    int one = 1;
    //  Several edges may listen on one port; the kernel spreads connections over them.
    if (uv_fileno ((uv_handle_t *) &s->listener, &fd) == 0)
        setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    rc = uv_tcp_bind (&s->listener, (struct sockaddr *) &ss, 0);
    if (rc == 0)
        rc = uv_listen ((uv_stream_t *) &s->listener, 1024, s_on_connection);
    if (rc) {
        vbus_log ('E', WHO, "cannot listen on %s:%d: %s", cfg->host, cfg->port, uv_strerror (rc));
        return -VE_IO;
    }
    int len = sizeof ss;
    uv_tcp_getsockname (&s->listener, (struct sockaddr *) &ss, &len);
    int port = ss.ss_family == AF_INET6 ? ntohs (((struct sockaddr_in6 *) &ss)->sin6_port)
                                        : ntohs (((struct sockaddr_in *) &ss)->sin_port);
    vbus_log ('I', WHO, "listening on http://%s%s%s:%d/ (broker %s, www %s)", v6 ? "[" : "",
              cfg->host, v6 ? "]" : "", port, cfg->broker, cfg->www[0] ? cfg->www : "(none)");
    return 0;
}

int
edge_server_run (const edge_config_t *cfg)
{
    edge_server_t *s = calloc (1, sizeof *s);
    if (!s)
        return 1;
    uv_loop_t loop;
    uv_loop_init (&loop);
    s->loop = &loop;
    s->cfg = cfg;
    signal (SIGPIPE, SIG_IGN);
    //  An access line per request: written in one go per loop iteration, not one write each.
    //  Lines stay whole (the buffer is far larger than an iteration's lines).
    static char log_buffer[1 << 20];
    setvbuf (stderr, log_buffer, _IOFBF, sizeof log_buffer);
    vbuf_init (&s->json, NULL, 0);
    vbuf_init (&s->live_last, NULL, 0);
    s->write_done = s_write_done;
    s_date_refresh (s);
    int rc = 1;
    if (edge_api_open (s) != 0)
        goto done;
    if (cfg->www[0] && !(s->www = edge_static_new (cfg->www)))
        vbus_log ('W', WHO, "www: '%s' is not a readable directory; serving no files", cfg->www);
    if (s->www) {
        //  The grid and the lists the pages must agree on, made from their one definition.
        vbuf_t js;
        vbuf_init (&js, NULL, 0);
        if (edge_shapes_js (&js) || edge_static_put (s->www, "shapes.js", js.data, js.len))
            vbus_log ('W', WHO, "cannot make /shapes.js: the pages' viewer and sorts fail");
        vbuf_free (&js);
    }
    if (cfg->rate_api)
        s->limit_api = edge_limit_new ((double) cfg->rate_api, 2.0 * (double) cfg->rate_api, 0);
    if (cfg->rate_auth)
        s->limit_auth = edge_limit_new ((double) cfg->rate_auth / 60.0, (double) cfg->rate_auth, 0);
    s->bus = vbus_client_new (cfg->broker, (int) cfg->bus_timeout_ms);
    if (!s->bus || (cfg->rate_api && !s->limit_api) || (cfg->rate_auth && !s->limit_auth))
        goto done;
    //  The bus client (czmq) installs its own SIGINT/SIGTERM handlers; ours replace them.
    uv_signal_init (&loop, &s->sigterm);
    uv_signal_init (&loop, &s->sigint);
    s->sigterm.data = s->sigint.data = s;
    uv_signal_start (&s->sigterm, s_on_signal, SIGTERM);
    uv_signal_start (&s->sigint, s_on_signal, SIGINT);
    if ((rc = s_listen (s)) != 0) {
        rc = rc == -VE_CONFIG ? 2 : 1;
        uv_close ((uv_handle_t *) &s->sigterm, NULL);
        uv_close ((uv_handle_t *) &s->sigint, NULL);
        if (s->listener.loop)
            uv_close ((uv_handle_t *) &s->listener, NULL);
        uv_run (&loop, UV_RUN_DEFAULT);
        goto done;
    }
    uv_poll_init (&loop, &s->bus_poll, vbus_client_fd (s->bus));
    uv_timer_init (&loop, &s->bus_timer);
    uv_prepare_init (&loop, &s->bus_prepare);
    uv_timer_init (&loop, &s->sweep);
    s->bus_poll.data = s->bus_timer.data = s->bus_prepare.data = s->sweep.data = s;
    uv_poll_start (&s->bus_poll, UV_READABLE, s_on_bus_poll);
    uv_prepare_start (&s->bus_prepare, s_on_prepare);
    uv_timer_start (&s->sweep, s_on_sweep, SWEEP_MS, SWEEP_MS);
    s_live_open (s);
    uv_run (&loop, UV_RUN_DEFAULT);
    rc = 0;
done:
    vbus_client_destroy (&s->bus);
    vbus_sub_destroy (&s->live_sub);
    vbuf_free (&s->live_last);
    //  Connections that still waited for a reply that can no longer come.
    while (s->conns) {
        edge_conn_t *c = s->conns;
        s->conns = c->next;
        edge_parse_free (&c->parse);
        varena_destroy (&c->arena);
        free (c->rest);
        free (c->write_copy);
        free (c);
    }
    edge_static_destroy (&s->www);
    edge_api_close (s);
    vbuf_free (&s->json);
    edge_limit_destroy (&s->limit_api);
    edge_limit_destroy (&s->limit_auth);
    if (uv_loop_close (&loop) != 0)
        vbus_log ('W', WHO, "the loop still had handles at exit");
    free (s);
    fflush (stderr);
    setvbuf (stderr, NULL, _IONBF, 0);
    return rc;
}
