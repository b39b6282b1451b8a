//  edge_server.h — inside vitrine-edge: one libuv loop holds the listening socket, every client
//  connection, and the bus client (its fd in a uv_poll, its next deadline in a uv_timer).
//  edge_server.c owns connections (reading, parsing, limits, timeouts, static files, health)
//  and the loop; edge_resp.c writes responses; edge_api.c turns a routed request into a bus
//  call and the reply into a response. The dependencies go one way: edge_server.c calls the
//  other two, edge_api.c calls edge_resp.c, and neither calls back into edge_server.c (the
//  server hands them its hooks: write_done, and the bus callback). Everything runs on the
//  loop's thread.
#ifndef EDGE_SERVER_H
#define EDGE_SERVER_H

#include "edge_config.h"
#include "edge_ident.h"
#include "edge_limit.h"
#include "edge_parse.h"
#include "edge_route.h"
#include "edge_static.h"
#include "vbus.h"
#include "vbus_util.h"
#include "vmsg.h"
#include <uv.h>

#define EDGE_HEAD_MAX   4096   //  bytes of a response's status line and headers
#define EDGE_STEP_GUEST 1      //  cart.new_guest is out (a guest without a cart cookie)
#define EDGE_STEP_MERGE 2      //  cart.merge is out (signed in with a guest cart cookie)
#define EDGE_WINDOW_MS  10000  //  the body-rate window

typedef struct edge_server_s edge_server_t;
typedef struct edge_conn_s edge_conn_t;

typedef enum {
    EDGE_CONN_READING,    //  waiting for (the rest of) a request
    EDGE_CONN_BUSY,       //  a request is being answered (bus call in flight)
    EDGE_CONN_WRITING,    //  the response is going out (uv_write pending)
    EDGE_CONN_DONE,       //  the response went out at once; the caller carries on
    EDGE_CONN_STREAMING,  //  server-sent events: the head is out, events follow until close
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
    //  A cart row's calls (EDGE_KEY_CART): the cart, and what the response does to vt_cart. A
    //  row may take two calls: cart.new_guest or cart.merge first, then its own (step).
    const char *cart_id;      //  arena
    const char *cart_set;     //  a new guest cart id to set as vt_cart (arena), or NULL
    bool cart_clear;          //  vt_cart goes (merged into the user's cart, or not a cart)
    char session[EDGE_SESSION_HEX + 1];  //  vt_sid for the events ("" until looked up)
    int step;                 //  0: the row's own call; EDGE_STEP_* while a first call is out
    vbus_reply_fn *on_reply;  //  the server's bus callback, for a row's second call
    int status;               //  the HTTP status sent (for the access log)
    size_t bytes;             //  body bytes sent
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
    const vmsg_method_t **methods;  //  per row of edge_routes: its schema entry (edge_api_open)
    //  Events the edge publishes for analytics (product.viewed, search.performed): fire and
    //  forget on stream "edge-<pid>/0", numbered by the publisher; NULL when the broker's
    //  publish endpoint cannot be derived (not tcp://host:port) or the schema is not built in.
    vbus_pub_t *pub;
    char pub_stream[32];
    uint64_t events_sent, events_dropped;
    //  analytics.live for the dashboard's server-sent events: one subscriber (its fd in a
    //  uv_poll), every event written to each EDGE_CONN_STREAMING connection; the last one is
    //  kept for a new stream's first frame.
    vbus_sub_t *live_sub;
    uv_poll_t live_poll;
    vbuf_t live_last;
    //  Called by the response writer when a write it handed to uv_write ends (status 0) or a
    //  write fails (status < 0): the connection carries on or closes (edge_server.c).
    void (*write_done) (edge_conn_t *c, int status);
    char read_buf[64 << 10];
    int exit_code;
};

//  Runs the edge until SIGTERM; returns the process exit status (0 clean, 1 start failure).
int edge_server_run (const edge_config_t *cfg);

//  ---------------------------------------------------------------- API (edge_api.c)
//  Resolves every route's schema entry once (s->methods, one per row of edge_routes), so that
//  no request looks one up. Call before the loop runs. Returns 0 or -VE_NOMEM.
int edge_api_open (edge_server_t *s);
//  Frees what edge_api_open made; does nothing when it made nothing.
void edge_api_close (edge_server_t *s);

//  Answers a request routed to a bus service (c->req.route has a service). Responds at once
//  (errors), or sends a bus call with on_reply as its callback and sets c->bus_pending. The
//  caller owns on_reply: it checks that the connection is still there, calls edge_api_reply,
//  then carries on with the connection.
void edge_api_handle (edge_conn_t *c, vbus_reply_fn *on_reply);

//  Answers c's request from the reply to the bus call edge_api_handle sent.
void edge_api_reply (edge_conn_t *c, const vbus_reply_t *reply);

//  An analytics.live event as a server-sent event ("data: <json>\n\n") appended to out.
//  Returns 0, or a negative code when the body does not match its schema.
int edge_api_live_event (edge_server_t *s, const vbus_event_t *ev, vbuf_t *out);

#endif
