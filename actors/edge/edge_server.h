//  edge_server.h — inside vitrine-edge: one libuv loop holds the listening socket, every client
//  connection, and the bus client (its fd in a uv_poll, its next deadline in a uv_timer).
//  edge_server.c owns connections (reading, parsing, limits, timeouts, writing, static files,
//  health); edge_api.c turns a routed request into a bus call and the reply into a response.
//  Everything runs on the loop's thread.
#ifndef EDGE_SERVER_H
#define EDGE_SERVER_H

#include "edge_config.h"
#include "edge_ident.h"
#include "edge_limit.h"
#include "edge_parse.h"
#include "edge_route.h"
#include "edge_static.h"
#include "vbus.h"
#include "vmsg.h"
#include <uv.h>

#define EDGE_HEAD_MAX  4096   //  bytes of a response's status line and headers
#define EDGE_WINDOW_MS 10000  //  the body-rate window

typedef struct edge_server_s edge_server_t;
typedef struct edge_conn_s edge_conn_t;

typedef enum {
    EDGE_CONN_READING,  //  waiting for (the rest of) a request
    EDGE_CONN_BUSY,     //  a request is being answered (bus call in flight)
    EDGE_CONN_WRITING,  //  the response is going out (uv_write pending)
    EDGE_CONN_DONE,     //  the response went out at once; the caller carries on
} edge_conn_state_t;

//  The request being answered.
typedef struct {
    const edge_route_t *route;
    edge_param_t params[EDGE_MAX_PARAMS];
    int nparams;
    const char *path, *query;
    size_t path_len, query_len;
    char rid[EDGE_RID_MAX + 1];
    int64_t start_us;
    bool head_only;       //  HEAD: headers as for GET, no body
    bool html;            //  errors as HTML pages (page and static paths), else JSON
    const char *frame_v;  //  a frame URL's v parameter (arena), for the caching decision
    bool identified;      //  claims hold a verified caller
    auth_token_claims_t claims;
    int status;    //  the HTTP status sent (for the access log)
    size_t bytes;  //  body bytes sent
} edge_req_t;

struct edge_conn_s {
    uv_tcp_t tcp;
    edge_server_t *server;
    edge_conn_t *prev, *next;
    edge_parse_t parse;
    edge_req_t req;
    varena_t *arena;  //  per request: decoded replies, scratch
    edge_conn_state_t state;
    bool reading;      //  uv_read_start is on
    bool closing;      //  uv_close called (or asked for)
    bool tcp_closed;   //  the close callback ran
    bool bus_pending;  //  a bus callback will still come: free only after it
    bool close_after;  //  close once this response is out
    bool sent_continue;
    //  Peer address, for rate limits, client_addr and logs.
    uint8_t addr[16];
    size_t addr_len;
    char addr_text[64];
    //  Timeouts (loop milliseconds).
    uint64_t idle_since;    //  last response out (or accept)
    uint64_t head_since;    //  first byte of the current request
    uint64_t window_start;  //  body-rate window
    uint64_t window_bytes;
    uint64_t write_since;
    //  Bytes read past the end of the current request (pipelining), kept until it is answered.
    char *rest;
    size_t rest_len, rest_off, rest_cap;
    //  The response.
    char head[EDGE_HEAD_MAX];
    size_t head_len;
    uv_write_t write_req;
    char *write_copy;  //  what uv_write still sends (ours once the response is not out at once)
};

struct edge_server_s {
    uv_loop_t *loop;
    const edge_config_t *cfg;
    uv_tcp_t listener;
    uv_signal_t sigterm, sigint;
    uv_timer_t sweep;
    uv_poll_t bus_poll;
    uv_timer_t bus_timer;
    uv_prepare_t bus_prepare;
    vbus_client_t *bus;
    bool bus_dirty;
    edge_static_t *www;
    edge_limit_t *limit_api, *limit_auth;
    edge_conn_t *conns;
    size_t nconns;
    bool stopping;
    uint64_t stop_deadline;
    char date[64];  //  "Date: ...\r\n", refreshed each second
    int64_t date_sec;
    uint64_t requests;
    vbuf_t json;  //  reply bodies as JSON, reused (a response is written before the next)
    char read_buf[64 << 10];
    int exit_code;
};

//  Runs the edge until SIGTERM; returns the process exit status (0 clean, 1 start failure).
int edge_server_run (const edge_config_t *cfg);

//  ---------------------------------------------------------------- responses (edge_server.c)
//  Starts a response: status line and the headers every response carries.
void edge_resp_begin (edge_conn_t *c, int status);
//  Adds a header line ("Name: value" without CRLF), printf-style.
void edge_resp_header (edge_conn_t *c, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
//  Ends the headers (Content-Type when type is not NULL, Content-Length), sends them and body
//  (borrowed: copied if it cannot go out at once; left out for HEAD), and logs the request.
void edge_resp_send (edge_conn_t *c, const char *type, const void *body, size_t len);
//  A JSON error {"error": {"code", "message", "request_id"}} (HTML for page routes).
void edge_resp_error (edge_conn_t *c, int status, const char *code, const char *message);
//  After a bus callback answered: carry on with the connection (next request, or close).
void edge_conn_resume (edge_conn_t *c);
//  Marks that the bus client has sent something: the loop dispatches before it sleeps.
void edge_bus_touch (edge_server_t *s);
//  Called first by every bus callback: the call is over. Returns false when the connection
//  was closed meanwhile (it is freed now: the callback must not touch it).
bool edge_conn_bus_done (edge_conn_t *c);

//  ---------------------------------------------------------------- API (edge_api.c)
//  Answers a request routed to a bus service (c->req.route has a service). Responds at once
//  (errors) or sends a bus call whose callback responds.
void edge_api_handle (edge_conn_t *c);

#endif
