//  edge_resp.c — the response writer of vitrine-edge: the status line and headers built in the
//  connection's own buffer, then header and body written with one uv_try_write (the usual
//  case: the socket takes it all and nothing is copied); what the socket does not take is
//  copied and handed to uv_write. The access log line is written here too, once per response.
//  It knows nothing of the loop: when a write ends later, or fails, it hands the connection
//  back through the server's write_done hook (edge_server.c).
#include "edge_resp.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHO "edge"

void
edge_resp_put (edge_conn_t *c, const char *text, size_t len)
{
    //  Headers are ours and short; the margin keeps room for the final lines.
    if (c->head_len + len > EDGE_HEAD_MAX - 96)
        return;
    memcpy (c->head + c->head_len, text, len);
    c->head_len += len;
}

static void
s_put_uint (edge_conn_t *c, uint64_t v)
{
    char digits[24];
    int n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    edge_resp_put (c, digits + sizeof digits - n, (size_t) n);
}

void
edge_resp_begin (edge_conn_t *c, int status)
{
    edge_server_t *s = c->server;
    c->head_len = 0;
    c->req.status = status;
    if (status == 200)
        EDGE_RESP_PUTS (c, "HTTP/1.1 200 OK\r\n");
    else {
        EDGE_RESP_PUTS (c, "HTTP/1.1 ");
        s_put_uint (c, (uint64_t) status);
        EDGE_RESP_PUTS (c, " ");
        const char *reason = edge_status_reason (status);
        edge_resp_put (c, reason, strlen (reason));
        EDGE_RESP_PUTS (c, "\r\n");
    }
    edge_resp_put (c, s->date, strlen (s->date));
    EDGE_RESP_PUTS (c, "X-Request-Id: ");
    edge_resp_put (c, c->req.rid, strlen (c->req.rid));
    EDGE_RESP_PUTS (c, "\r\nX-Content-Type-Options: nosniff\r\n");
}

void
edge_resp_header (edge_conn_t *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (line, sizeof line - 2, fmt, ap);
    va_end (ap);
    if (n < 0 || n >= (int) sizeof line - 2)
        return;
    line[n++] = '\r';
    line[n++] = '\n';
    edge_resp_put (c, line, (size_t) n);
}

static void
s_access_log (edge_conn_t *c)
{
    edge_req_t *r = &c->req;
    int64_t us = vbus_mono_us () - r->start_us;
    bool query = r->query_len && r->route && !(r->route->flags & EDGE_ROUTE_NO_QUERY_LOG);
    vbus_log ('I', WHO, "%s %.*s%s%.*s %d %zu B %lld us rid=%s", edge_parse_method_name (&c->parse),
              (int) (r->path_len > 512 ? 512 : r->path_len), r->path ? r->path : "-",
              query ? "?" : "", query ? (int) (r->query_len > 512 ? 512 : r->query_len) : 0,
              query ? r->query : "", r->status, r->bytes, (long long) us, r->rid);
}

static void
s_on_write (uv_write_t *req, int status)
{
    edge_conn_t *c = req->data;
    free (c->write_copy);
    c->write_copy = NULL;
    c->server->write_done (c, status);
}

//  Writes head + body: at once when the socket takes it all (the usual case), else the rest is
//  copied and handed to uv_write. Leaves the state DONE or WRITING (or closes on errors).
static void
s_write (edge_conn_t *c, const void *body, size_t len)
{
    uv_buf_t bufs[2] = { uv_buf_init (c->head, (unsigned) c->head_len),
                         uv_buf_init ((char *) body, (unsigned) len) };
    size_t total = c->head_len + len;
    int n = c->closing ? UV_EPIPE : uv_try_write ((uv_stream_t *) &c->tcp, bufs, len ? 2 : 1);
    if (n >= 0 && (size_t) n == total) {
        c->state = EDGE_CONN_DONE;
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        c->state = EDGE_CONN_DONE;
        c->close_after = true;
        c->server->write_done (c, n);
        return;
    }
    size_t done = n > 0 ? (size_t) n : 0, left = total - done;
    c->write_copy = malloc (left);
    if (!c->write_copy) {
        c->server->write_done (c, UV_ENOMEM);
        return;
    }
    size_t at = 0;
    if (done < c->head_len) {
        memcpy (c->write_copy, c->head + done, c->head_len - done);
        at = c->head_len - done;
        done = 0;
    }
    else
        done -= c->head_len;
    memcpy (c->write_copy + at, (const char *) body + done, len - done);
    uv_buf_t rest = uv_buf_init (c->write_copy, (unsigned) left);
    c->write_req.data = c;
    c->state = EDGE_CONN_WRITING;
    c->write_since = uv_now (c->server->loop);
    int rc = uv_write (&c->write_req, (uv_stream_t *) &c->tcp, &rest, 1, s_on_write);
    if (rc != 0) {
        free (c->write_copy);
        c->write_copy = NULL;
        c->state = EDGE_CONN_DONE;
        c->server->write_done (c, rc);
    }
}

void
edge_resp_send (edge_conn_t *c, const char *type, const void *body, size_t len)
{
    int status = c->req.status;
    bool no_body = status == 204 || status == 304 || status < 200;
    if (type && !no_body) {
        EDGE_RESP_PUTS (c, "Content-Type: ");
        edge_resp_put (c, type, strlen (type));
        EDGE_RESP_PUTS (c, "\r\n");
    }
    if (!no_body) {
        EDGE_RESP_PUTS (c, "Content-Length: ");
        s_put_uint (c, len);
        EDGE_RESP_PUTS (c, "\r\n");
    }
    if (c->server->stopping)
        c->close_after = true;
    if (c->close_after)
        EDGE_RESP_PUTS (c, "Connection: close\r\n");
    else if (edge_parse_minor (&c->parse) == 0)
        EDGE_RESP_PUTS (c, "Connection: keep-alive\r\n");
    EDGE_RESP_PUTS (c, "\r\n");
    if (no_body || c->req.head_only)
        len = 0;
    c->req.bytes = len;
    c->server->requests++;
    s_write (c, body, len);
    s_access_log (c);
}

//  Appends s as the inside of a JSON string.
static size_t
s_json_escape (char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (; s && *s && n + 8 < size; s++) {
        unsigned char ch = (unsigned char) *s;
        if (ch == '"' || ch == '\\') {
            out[n++] = '\\';
            out[n++] = (char) ch;
        }
        else if (ch < 0x20)
            n += (size_t) snprintf (out + n, size - n, "\\u%04x", ch);
        else
            out[n++] = (char) ch;
    }
    out[n] = 0;
    return n;
}

static void
s_html_error (edge_conn_t *c, int status, const char *message)
{
    const edge_file_t *f = NULL;
    edge_server_t *s = c->server;
    if (c->head_len == 0 || c->req.status != status)
        edge_resp_begin (c, status);
    EDGE_RESP_PUTS (c, "Cache-Control: no-cache\r\n");
    if (status == 404 && s->www && edge_static_get (s->www, "/404.html", 9, &f) == 0) {
        edge_resp_send (c, f->type, f->data, f->len);
        return;
    }
    vbuf_t page;
    char storage[1024];
    vbuf_init (&page, storage, sizeof storage);
    char head[256];
    int n = snprintf (head, sizeof head,
                      "<!doctype html><meta charset=utf-8><title>%d %s</title><h1>%d %s</h1><p>",
                      status, edge_status_reason (status), status, edge_status_reason (status));
    vbuf_append (&page, head, (size_t) n);
    vbuf_append (&page, "", 0);
    //  The message is ours or an actor's; escaped all the same.
    for (const char *m = message ? message : ""; *m; m++) {
        const char *e = *m == '<' ? "&lt;" : *m == '>' ? "&gt;" : *m == '&' ? "&amp;" : NULL;
        vbuf_append (&page, e ? e : m, e ? strlen (e) : 1);
    }
    vbuf_append (&page, "</p>\n", 5);
    edge_resp_send (c, "text/html; charset=utf-8", page.data, page.len);
    vbuf_free (&page);
}

void
edge_resp_error (edge_conn_t *c, int status, const char *code, const char *message)
{
    if (c->req.html) {
        s_html_error (c, status, message);
        return;
    }
    char body[1536], esc[1024];
    s_json_escape (esc, sizeof esc, message ? message : edge_status_reason (status));
    int n = snprintf (body, sizeof body,
                      "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"request_id\":\"%s\"}}",
                      code ? code : edge_status_code (status), esc, c->req.rid);
    if (c->head_len == 0 || c->req.status != status)
        edge_resp_begin (c, status);
    EDGE_RESP_PUTS (c, "Cache-Control: no-store\r\n");
    edge_resp_send (c, "application/json", body, (size_t) n);
}

//  ---------------------------------------------------------------- server-sent events

static bool
s_write_all (edge_conn_t *c, const char *a, size_t alen, const char *b, size_t blen)
{
    uv_buf_t bufs[2] = { uv_buf_init ((char *) a, (unsigned) alen),
                         uv_buf_init ((char *) b, (unsigned) blen) };
    int n = c->closing ? UV_EPIPE : uv_try_write ((uv_stream_t *) &c->tcp, bufs, blen ? 2 : 1);
    return n >= 0 && (size_t) n == alen + blen;
}

void
edge_resp_stream (edge_conn_t *c, const char *first, size_t len)
{
    EDGE_RESP_PUTS (c, "Content-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                       "Connection: close\r\n\r\n");
    c->close_after = true;
    c->req.bytes = len;
    c->server->requests++;
    s_access_log (c);
    c->state = EDGE_CONN_STREAMING;
    if (!s_write_all (c, c->head, c->head_len, first, first ? len : 0))
        c->server->write_done (c, UV_EAGAIN);
}

void
edge_resp_event (edge_conn_t *c, const char *data, size_t len)
{
    if (c->state == EDGE_CONN_STREAMING && !c->closing && !s_write_all (c, data, len, NULL, 0))
        c->server->write_done (c, UV_EAGAIN);
}
