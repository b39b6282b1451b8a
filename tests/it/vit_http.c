//  vit_http.c — the blocking HTTP/1.1 test client (see vit_http.h).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  //  memmem
#endif
#include "vit_http.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int
vit_http_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    inet_pton (AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close (fd);
        return -1;
    }
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

vit_http_t *
vit_http_new (int port)
{
    vit_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = vit_http_connect (port);
    if (self->fd < 0) {
        free (self);
        return NULL;
    }
    return self;
}

void
vit_http_destroy (vit_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vit_http_t *self = *self_p;
    if (self->fd >= 0)
        close (self->fd);
    free (self->buf);
    free (self);
    *self_p = NULL;
}

void
vit_http_send (vit_http_t *self, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send (self->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;  //  the server may close early (refusals): reading tells
        p += n;
        len -= (size_t) n;
    }
}

void
vit_http_sends (vit_http_t *self, const char *text)
{
    vit_http_send (self, text, strlen (text));
}

ssize_t
vit_http_fill (vit_http_t *self, int timeout_ms)
{
    struct pollfd p = { self->fd, POLLIN, 0 };
    if (poll (&p, 1, timeout_ms) <= 0)
        return -1;
    if (self->len + 65536 > self->cap) {
        size_t cap = self->len + 65536 * 2;
        char *buf = realloc (self->buf, cap);
        if (!buf)
            return -1;
        self->buf = buf;
        self->cap = cap;
    }
    ssize_t n = recv (self->fd, self->buf + self->len, self->cap - self->len, 0);
    if (n > 0)
        self->len += (size_t) n;
    return n < 0 ? (errno == ECONNRESET ? 0 : -1) : n;
}

const char *
vit_http_header (const vit_http_resp_t *r, const char *name)
{
    static char value[4][8192];
    static int turn;
    size_t nlen = strlen (name);
    for (const char *line = strstr (r->head, "\r\n"); line && line[2];
         line = strstr (line + 2, "\r\n")) {
        const char *p = line + 2;
        if (strncasecmp (p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            const char *end = strstr (v, "\r\n");
            char *out = value[turn++ % 4];
            snprintf (out, sizeof value[0], "%.*s", (int) (end - v), v);
            return out;
        }
    }
    return NULL;
}

int
vit_http_read (vit_http_t *self, vit_http_resp_t *r, bool head_request, int timeout_ms)
{
    memset (r, 0, sizeof *r);
    char *end;
    while (!(self->len && (end = memmem (self->buf, self->len, "\r\n\r\n", 4))))
        if (vit_http_fill (self, timeout_ms) <= 0)
            return -1;
    size_t hlen = (size_t) (end - self->buf) + 4;
    snprintf (r->head, sizeof r->head, "%.*s",
              (int) (hlen < sizeof r->head ? hlen : sizeof r->head - 1), self->buf);
    if (sscanf (r->head, "HTTP/1.1 %d", &r->status) != 1)
        return -1;
    const char *cl = vit_http_header (r, "content-length");
    size_t blen =
        cl && !head_request && r->status != 304 && r->status != 204 ? strtoul (cl, NULL, 10) : 0;
    while (self->len < hlen + blen)
        if (vit_http_fill (self, timeout_ms) <= 0)
            return -1;
    r->body = malloc (blen + 1);
    if (!r->body)
        return -1;
    memcpy (r->body, self->buf + hlen, blen);
    r->body[blen] = 0;
    r->body_len = blen;
    memmove (self->buf, self->buf + hlen + blen, self->len - hlen - blen);
    self->len -= hlen + blen;
    return 0;
}

bool
vit_http_closed (vit_http_t *self, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        ssize_t n = vit_http_fill (self, 100);
        if (n == 0)
            return true;
        if (n > 0)
            return false;
    }
    return false;
}

int
vit_http_request (int port, const char *method, const char *path, const char *extra,
                  const char *body, vit_http_resp_t *r, int timeout_ms)
{
    memset (r, 0, sizeof *r);
    vit_http_t *c = vit_http_new (port);
    if (!c)
        return -1;
    char head[8192];
    snprintf (head, sizeof head, "%s %s HTTP/1.1\r\nHost: test\r\n%s\r\n", method, path,
              extra ? extra : "");
    if (body) {
        size_t n = strlen (head) - 2;  //  Content-Length goes before the blank line
        snprintf (head + n, sizeof head - n, "Content-Length: %zu\r\n\r\n", strlen (body));
    }
    vit_http_sends (c, head);
    if (body)
        vit_http_sends (c, body);
    int rc = vit_http_read (c, r, strcmp (method, "HEAD") == 0, timeout_ms);
    vit_http_destroy (&c);
    return rc ? -1 : r->status;
}

void
vit_http_resp_free (vit_http_resp_t *r)
{
    free (r->body);
    r->body = NULL;
}
