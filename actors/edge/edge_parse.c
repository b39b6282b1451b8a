//  edge_parse.c — requests out of a byte stream (see edge_parse.h). llhttp runs in strict mode,
//  which already refuses duplicate or malformed Content-Length, Content-Length beside
//  Transfer-Encoding and a final coding other than chunked; we add what it lets through:
//  folded header lines, codings other than a lone "chunked", blanks in header names, a missing
//  or repeated Host, and the size limits.
#include "edge_parse.h"
#include "verr.h"
#include <string.h>
#include <strings.h>

//  Bodies bigger than this are not kept between requests: one upload must not pin a megabyte
//  for the connection's life.
#define KEEP_BODY_CAP (64 << 10)

static llhttp_settings_t s_settings;
static bool s_settings_ready;

static int
s_refuse (edge_parse_t *self, int status, const char *why)
{
    if (!self->status) {
        self->status = status;
        self->why = why;
    }
    return -1;  //  stops llhttp_execute with HPE_USER
}

//  Raw header bytes so far, counting this buffer up to end.
static bool
s_head_over (const edge_parse_t *self, const char *end)
{
    return self->head_bytes + (size_t) (end - self->exec_start) > EDGE_MAX_HEAD;
}

static int
s_store (edge_parse_t *self, const char *at, size_t len)
{
    if (s_head_over (self, at + len) || self->head_len + len > EDGE_MAX_HEAD)
        return s_refuse (self, 431, "request header fields larger than 16 KiB");
    memcpy (self->head + self->head_len, at, len);
    self->head_len += (uint32_t) len;
    return 0;
}

static int
s_on_message_begin (llhttp_t *http)
{
    edge_parse_t *self = http->data;
    self->started = true;
    return 0;
}

static int
s_on_url (llhttp_t *http, const char *at, size_t len)
{
    edge_parse_t *self = http->data;
    self->started = true;
    int rc = s_store (self, at, len);
    if (rc == 0)
        self->url_len += (uint32_t) len;
    return rc;
}

static int
s_on_header_field (llhttp_t *http, const char *at, size_t len)
{
    edge_parse_t *self = http->data;
    if (!self->in_name) {  //  a new header; later chunks of the same name (split reads) append
        if (self->nheaders == EDGE_MAX_HEADERS)
            return s_refuse (self, 431, "more than 100 header fields");
        self->headers[self->nheaders++] = (edge_header_t) { .name = self->head_len };
        self->in_name = true;
    }
    if (s_store (self, at, len))
        return -1;
    self->headers[self->nheaders - 1].name_len += (uint32_t) len;
    return 0;
}

static bool
s_tchar (unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || (c && strchr ("!#$%&'*+-.^_`|~", c));
}

static int
s_on_header_field_complete (llhttp_t *http)
{
    edge_parse_t *self = http->data;
    const edge_header_t *h = &self->headers[self->nheaders - 1];
    //  llhttp lets "Host : x" through; a proxy may read that name differently (RFC 9112 §5.1).
    for (uint32_t i = 0; i < h->name_len; i++)
        if (!s_tchar ((unsigned char) self->head[h->name + i]))
            return s_refuse (self, 400, "invalid character in a header name");
    if (h->name_len == 0)
        return s_refuse (self, 400, "empty header name");
    self->in_name = false;
    self->headers[self->nheaders - 1].value = self->head_len;
    return 0;
}

static int
s_on_header_value (llhttp_t *http, const char *at, size_t len)
{
    edge_parse_t *self = http->data;
    if (s_store (self, at, len))
        return -1;
    self->headers[self->nheaders - 1].value_len += (uint32_t) len;
    return 0;
}

//  llhttp accepts obs-fold continuation lines (a line break followed by a blank) without a
//  trace in its callbacks; RFC 9112 §5.2 lets a server refuse them, and proxies disagree about
//  them, so we look at the raw header bytes for one. self->last_lf carries across buffers.
static bool
s_folded (edge_parse_t *self, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (self->last_lf && (p[i] == ' ' || p[i] == '\t'))
            return true;
        self->last_lf = p[i] == '\n';
    }
    return false;
}

static bool
s_name_is (const edge_parse_t *self, const edge_header_t *h, const char *name)
{
    size_t n = strlen (name);
    return h->name_len == n && strncasecmp (self->head + h->name, name, n) == 0;
}

static void
s_trim (const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static int
s_on_header_value_complete (llhttp_t *http)
{
    edge_parse_t *self = http->data;
    edge_header_t *h = &self->headers[self->nheaders - 1];
    const char *v = self->head + h->value;
    size_t len = h->value_len;
    s_trim (&v, &len);
    if (s_name_is (self, h, "transfer-encoding")) {
        //  Only "chunked", alone: another coding before it is a body we cannot decode, and
        //  proxies disagree about lists (request smuggling).
        if (len != 7 || strncasecmp (v, "chunked", 7) != 0)
            return s_refuse (self, 400, "unsupported Transfer-Encoding (only chunked)");
    }
    else if (s_name_is (self, h, "host")) {
        for (uint32_t i = 0; i + 1 < self->nheaders; i++)
            if (s_name_is (self, &self->headers[i], "host"))
                return s_refuse (self, 400, "more than one Host header");
    }
    else if (s_name_is (self, h, "expect")) {
        if (len == 12 && strncasecmp (v, "100-continue", 12) == 0)
            self->expect_continue = true;
        else
            return s_refuse (self, 417, "unsupported Expect");
    }
    return 0;
}

static int
s_on_headers_complete (llhttp_t *http)
{
    edge_parse_t *self = http->data;
    self->headers_done = true;
    if (http->method == HTTP_CONNECT)
        return s_refuse (self, 405, "CONNECT is not supported");
    if (http->http_major != 1)
        return s_refuse (self, 505, "HTTP version not supported");
    if (http->http_minor == 1 && !edge_parse_header (self, "host", NULL))
        return s_refuse (self, 400, "missing Host header");
    if ((http->flags & F_CONTENT_LENGTH) && http->content_length > EDGE_MAX_BODY)
        return s_refuse (self, 413, "body larger than 1 MiB");
    //  Pause, so that the feed loop learns exactly where the header section ended.
    return HPE_PAUSED;
}

static int
s_on_body (llhttp_t *http, const char *at, size_t len)
{
    edge_parse_t *self = http->data;
    if (self->body.len + len > EDGE_MAX_BODY)
        return s_refuse (self, 413, "body larger than 1 MiB");
    if (vbuf_append (&self->body, at, len))
        return s_refuse (self, 500, "out of memory");
    return 0;
}

static int
s_on_message_complete (llhttp_t *http)
{
    edge_parse_t *self = http->data;
    self->complete = true;
    return HPE_PAUSED;  //  one request at a time: the rest waits for edge_parse_next
}

static void
s_settings_init (void)
{
    if (s_settings_ready)
        return;
    llhttp_settings_init (&s_settings);
    s_settings.on_message_begin = s_on_message_begin;
    s_settings.on_url = s_on_url;
    s_settings.on_header_field = s_on_header_field;
    s_settings.on_header_field_complete = s_on_header_field_complete;
    s_settings.on_header_value = s_on_header_value;
    s_settings.on_header_value_complete = s_on_header_value_complete;
    s_settings.on_headers_complete = s_on_headers_complete;
    s_settings.on_body = s_on_body;
    s_settings.on_message_complete = s_on_message_complete;
    s_settings_ready = true;
}

void
edge_parse_init (edge_parse_t *self)
{
    s_settings_init ();
    memset (self, 0, offsetof (edge_parse_t, head));
    llhttp_init (&self->http, HTTP_REQUEST, &s_settings);
    self->http.data = self;
    self->head_len = self->head_bytes = self->url_len = self->nheaders = 0;
    vbuf_init (&self->body, NULL, 0);
    self->body.limit = EDGE_MAX_BODY;
    self->started = self->headers_done = self->complete = self->expect_continue = false;
    self->status = 0;
    self->why = NULL;
    self->in_name = self->last_lf = false;
}

void
edge_parse_free (edge_parse_t *self)
{
    vbuf_free (&self->body);
}

void
edge_parse_next (edge_parse_t *self)
{
    if (self->body.cap > KEEP_BODY_CAP) {
        vbuf_free (&self->body);
        vbuf_init (&self->body, NULL, 0);
        self->body.limit = EDGE_MAX_BODY;
    }
    else
        vbuf_reset (&self->body);
    self->head_len = self->head_bytes = self->url_len = self->nheaders = 0;
    self->started = self->headers_done = self->complete = self->expect_continue = false;
    self->in_name = self->last_lf = false;
    llhttp_reset (&self->http);
}

size_t
edge_parse_feed (edge_parse_t *self, const char *data, size_t len)
{
    size_t used = 0;
    if (self->status || self->complete)
        return 0;
    //  Loops only to resume after the pause at the end of the headers (which may also be the
    //  end of the request: a body-less request completes on an execute of zero bytes).
    for (;;) {
        self->exec_start = data + used;
        bool in_head = !self->headers_done;
        llhttp_errno_t rc = llhttp_execute (&self->http, data + used, len - used);
        size_t took = rc == HPE_OK ? len - used
                                   : (size_t) (llhttp_get_error_pos (&self->http) - (data + used));
        if (in_head && !self->status && s_folded (self, data + used, took)) {
            s_refuse (self, 400, "folded header line (obs-fold)");
            return used + took;
        }
        used += took;
        if (rc == HPE_OK) {
            if (!self->headers_done) {
                self->head_bytes += (uint32_t) took;
                if (self->head_bytes > EDGE_MAX_HEAD)
                    s_refuse (self, 431, "request header fields larger than 16 KiB");
            }
            return used;
        }
        if (rc == HPE_PAUSED && self->complete)
            return used;
        if (rc == HPE_PAUSED) {
            //  The header section just ended: count it, then go on with the body.
            self->head_bytes += (uint32_t) took;
            if (self->head_bytes > EDGE_MAX_HEAD) {
                s_refuse (self, 431, "request header fields larger than 16 KiB");
                return used;
            }
            llhttp_resume (&self->http);
            continue;
        }
        if (rc == HPE_PAUSED_UPGRADE) {
            //  An Upgrade request we answer as a plain one; the connection then closes
            //  (edge_parse_keep_alive says no).
            self->complete = true;
            return used;
        }
        if (!self->status)
            s_refuse (self, rc == HPE_INVALID_METHOD ? 501 : 400,
                      llhttp_get_error_reason (&self->http) ? llhttp_get_error_reason (&self->http)
                                                            : llhttp_errno_name (rc));
        return used;
    }
}

int
edge_parse_method (const edge_parse_t *self)
{
    return self->http.method;
}

const char *
edge_parse_method_name (const edge_parse_t *self)
{
    return llhttp_method_name ((llhttp_method_t) self->http.method);
}

void
edge_parse_target (const edge_parse_t *self, const char **path, size_t *path_len,
                   const char **query, size_t *query_len)
{
    const char *url = self->head;
    const char *q = memchr (url, '?', self->url_len);
    *path = url;
    *path_len = q ? (size_t) (q - url) : self->url_len;
    *query = q ? q + 1 : url + self->url_len;
    *query_len = q ? self->url_len - (size_t) (q + 1 - url) : 0;
}

const char *
edge_parse_header (const edge_parse_t *self, const char *name, size_t *len)
{
    for (uint32_t i = 0; i < self->nheaders; i++) {
        const edge_header_t *h = &self->headers[i];
        if (!s_name_is (self, h, name))
            continue;
        const char *v = self->head + h->value;
        size_t n = h->value_len;
        s_trim (&v, &n);
        if (len)
            *len = n;
        return v;
    }
    return NULL;
}

bool
edge_parse_keep_alive (const edge_parse_t *self)
{
    return !self->http.upgrade && llhttp_should_keep_alive (&self->http);
}

int
edge_parse_minor (const edge_parse_t *self)
{
    return self->http.http_minor;
}
