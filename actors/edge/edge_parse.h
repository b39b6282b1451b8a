//  edge_parse.h — one HTTP/1.1 request at a time out of a byte stream, with the edge's limits:
//  llhttp does the grammar; this module keeps what the handler needs (method, target, headers,
//  body) in bounded storage and refuses the shapes that smuggle requests past proxies.
//  No sockets here, so the unit tests drive it with byte strings (tests/unit/test_edge_parse.c).
//  One parser per connection; not thread-safe.
#ifndef EDGE_PARSE_H
#define EDGE_PARSE_H

#include "llhttp.h"
#include "vmp.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDGE_MAX_HEAD    (16 << 10)  //  request line + headers, bytes (431 above)
#define EDGE_MAX_HEADERS 100         //  header lines (431 above)
#define EDGE_MAX_BODY    (1 << 20)   //  body bytes after de-chunking (413 above)

typedef struct {
    uint32_t name, name_len;  //  offsets into the parser's head storage
    uint32_t value, value_len;
} edge_header_t;

typedef struct {
    llhttp_t http;
    //  The request so far: target and header bytes copied out of the read buffers.
    char head[EDGE_MAX_HEAD];
    uint32_t head_len;
    uint32_t head_bytes;  //  request line + header bytes as sent (for the 16 KiB limit)
    uint32_t url_len;     //  the target is head[0 .. url_len)
    edge_header_t headers[EDGE_MAX_HEADERS];
    uint32_t nheaders;
    vbuf_t body;
    //  Progress and verdicts.
    bool started;            //  a byte of this request arrived
    bool headers_done;       //  the header section is complete
    bool complete;           //  the whole request is here
    bool expect_continue;    //  the client waits for "100 Continue" before the body
    int status;              //  the HTTP error status once refused (400, 413, 431, 501), else 0
    const char *why;         //  what was wrong (static text, for the error body)
    bool in_name;            //  a header name has begun and not yet ended
    bool last_lf;            //  the last header byte seen was a line feed (obs-fold check)
    const char *exec_start;  //  the buffer of the current llhttp_execute
} edge_parse_t;

//  Prepares a parser (and its body buffer, which grows up to EDGE_MAX_BODY).
void edge_parse_init (edge_parse_t *self);
//  Frees the body buffer. The parser may be initialised again.
void edge_parse_free (edge_parse_t *self);
//  Forgets the current request, ready for the next one on the same connection.
void edge_parse_next (edge_parse_t *self);

//  Feeds len bytes. Returns how many were consumed: fewer than len when a request completed
//  in the middle (self->complete; the rest belongs to the next request: handle this one, call
//  edge_parse_next, then feed the rest) or when the request was refused (self->status set:
//  answer it and close the connection; feed no more).
size_t edge_parse_feed (edge_parse_t *self, const char *data, size_t len);

//  The request line's method (llhttp's enum) and name ("GET").
int edge_parse_method (const edge_parse_t *self);
const char *edge_parse_method_name (const edge_parse_t *self);
//  The request target: path (before '?') and query (after it, without the '?'; len 0 when none).
void edge_parse_target (const edge_parse_t *self, const char **path, size_t *path_len,
                        const char **query, size_t *query_len);
//  The first header with this name (case-insensitive), its value trimmed; NULL when absent.
const char *edge_parse_header (const edge_parse_t *self, const char *name, size_t *len);
//  True when the connection may carry another request after this one (HTTP/1.1 without
//  "Connection: close", or HTTP/1.0 with keep-alive).
bool edge_parse_keep_alive (const edge_parse_t *self);
//  The HTTP minor version (0 or 1).
int edge_parse_minor (const edge_parse_t *self);

#endif
