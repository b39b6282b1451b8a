//  edge_resp.h — writing a response on a connection of vitrine-edge (edge_resp.c): a status
//  line and the headers every response carries, headers the handler adds, then the headers
//  and body sent together. Used by the connection code (edge_server.c) and the API layer
//  (edge_api.c) alike; it calls neither, so either can be built and tested without the other.
//  When a write finishes later or fails, the connection goes back to the loop through the
//  server's write_done hook. Everything runs on the loop's thread.
#ifndef EDGE_RESP_H
#define EDGE_RESP_H

#include "edge_server.h"

//  Starts a response: status line and the headers every response carries (Date,
//  X-Request-Id, X-Content-Type-Options). Sets c->req.status.
void edge_resp_begin (edge_conn_t *c, int status);

//  Adds a header line ("Name: value" without CRLF), printf-style. A line over 1 KiB is left
//  out, as is anything that would leave the head without room for the final lines.
void edge_resp_header (edge_conn_t *c, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Adds bytes to the head as they are: whole header lines, each with its CRLF. For literal
//  lines, EDGE_RESP_PUTS (c, "Vary: Accept-Encoding\r\n") spares the formatting.
void edge_resp_put (edge_conn_t *c, const char *text, size_t len);
#define EDGE_RESP_PUTS(c, literal) edge_resp_put ((c), (literal), sizeof (literal) - 1)

//  Ends the headers (Content-Type when type is not NULL, Content-Length), sends them and body
//  (borrowed: copied if it cannot go out at once; left out for HEAD), and logs the request.
//  Leaves c->state DONE (the response is out) or WRITING (write_done will follow), or the
//  connection closing.
void edge_resp_send (edge_conn_t *c, const char *type, const void *body, size_t len);

//  Ends the headers of a stream of server-sent events (Content-Type text/event-stream, no
//  length: the body ends when the connection closes), sends them and first (may be NULL),
//  logs the request and leaves c->state STREAMING. A socket that does not take it all at
//  once closes.
void edge_resp_stream (edge_conn_t *c, const char *first, size_t len);
//  Sends one event on a STREAMING connection. A client that does not keep up (the socket
//  does not take it at once) is closed: EventSource reconnects and gets the next one.
void edge_resp_event (edge_conn_t *c, const char *data, size_t len);

//  A JSON error {"error": {"code", "message", "request_id"}} (HTML for page routes). code NULL
//  means the HTTP status's own (edge_status_code), message NULL its reason phrase. Headers
//  added since edge_resp_begin with the same status are kept.
void edge_resp_error (edge_conn_t *c, int status, const char *code, const char *message);

#endif
