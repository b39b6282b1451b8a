//  vit_http.h — a small blocking HTTP/1.1 client over a raw loopback socket, for the tests and
//  benchmarks that talk to vitrine-edge: bytes go out exactly as given (smuggling shapes,
//  slow bodies, pipelining), and responses are read back one at a time with a deadline.
//  Not thread-safe: one connection per thread.
#ifndef VIT_HTTP_H
#define VIT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

//  A connection: the socket and the bytes read from it but not yet taken by vit_http_read.
typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
} vit_http_t;

//  One response. body is NUL-terminated (body_len bytes before the NUL) and owned by the
//  response: vit_http_resp_free.
typedef struct {
    int status;
    char head[16384];  //  the status line and header block, NUL-terminated (cut if longer)
    char *body;
    size_t body_len;
} vit_http_resp_t;

//  Connects to 127.0.0.1:port (TCP_NODELAY on). Returns the socket, or -1.
int vit_http_connect (int port);

//  Opens a connection to 127.0.0.1:port. Returns it (caller owns it: vit_http_destroy) or
//  NULL when nothing accepts on the port.
vit_http_t *vit_http_new (int port);

//  Closes the connection and frees it; sets *self_p to NULL. Does nothing when it is NULL.
void vit_http_destroy (vit_http_t **self_p);

//  Sends len bytes as they are. Stops quietly when the server closes early (a refusal):
//  reading the connection tells what happened.
void vit_http_send (vit_http_t *self, const void *data, size_t len);
//  The same for a NUL-terminated text.
void vit_http_sends (vit_http_t *self, const char *text);

//  Reads whatever bytes come within timeout_ms into the connection's buffer. Returns how many,
//  0 when the server closed (or reset) the connection, -1 at the timeout or on an error.
ssize_t vit_http_fill (vit_http_t *self, int timeout_ms);

//  Reads one response (its Content-Length says how much body; none for HEAD, 204 and 304),
//  waiting at most timeout_ms for each piece. Bytes after it stay for the next call.
//  Returns 0, or -1 when the connection closed or nothing came in time (*r is then empty).
int vit_http_read (vit_http_t *self, vit_http_resp_t *r, bool head_request, int timeout_ms);

//  True when the server closes the connection, sending nothing more, within timeout_ms.
bool vit_http_closed (vit_http_t *self, int timeout_ms);

//  One request on a fresh connection: "method path HTTP/1.1", Host, the extra header lines
//  (each ending in \r\n; may be NULL), and body with its Content-Length when not NULL.
//  Returns the response's status (and fills *r), or -1 when it could not connect or no
//  response came within timeout_ms.
int vit_http_request (int port, const char *method, const char *path, const char *extra,
                      const char *body, vit_http_resp_t *r, int timeout_ms);

//  The value of the first header called name (any case), without leading spaces; NULL when
//  absent. The text lives in one of 4 static buffers, used in turn: it stays valid for the
//  next 3 calls.
const char *vit_http_header (const vit_http_resp_t *r, const char *name);

//  Frees the response's body; the response may be read into again.
void vit_http_resp_free (vit_http_resp_t *r);

#endif
