//  vbus.h — the one public header of the Vitrine bus.
//  A client sends requests to services through the broker and gets replies (sync or async);
//  a worker serves one service's methods; a publisher and a subscriber carry event streams
//  through the broker's relay. The wire protocol is docs/protocol.md. Every object here is
//  single-threaded: use one per thread. Bodies are MessagePack bytes (schemas/vmsg.h).
#ifndef VBUS_H
#define VBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "verr.h"
#include "vmp.h"

#define VBUS_VERSION        1
#define VBUS_MAX_SERVICE    32          //  bytes in a service name: [a-z0-9_-]
#define VBUS_MAX_METHOD     48          //  bytes in a method name
#define VBUS_MAX_KEY        256         //  bytes in a partition key
#define VBUS_MAX_TRACE      64          //  bytes in a trace id
#define VBUS_MAX_USER       64          //  bytes in a caller's user id
#define VBUS_MAX_HEADER     1024        //  bytes in an encoded request/reply header
#define VBUS_MAX_PARTITIONS 4096        //  partitions a service may have
#define VBUS_MAX_MESSAGE    (16 << 20)  //  bytes in one request or reply frame (broker --max-msg)
#define VBUS_MAX_BODY       (VBUS_MAX_MESSAGE - VBUS_MAX_HEADER - 4)

//  Caller roles (a bit set): set by the edge or a tool after it verified who is calling.
#define VBUS_ROLE_CUSTOMER 0x1u
#define VBUS_ROLE_ADMIN    0x2u
#define VBUS_ROLE_SERVICE  0x4u  //  another actor or an internal tool

typedef struct vbus_client_s vbus_client_t;
typedef struct vbus_worker_s vbus_worker_t;
typedef struct vbus_pub_s vbus_pub_t;
typedef struct vbus_sub_s vbus_sub_t;

//  Who is calling; user_id NULL or "" = anonymous.
typedef struct {
    const char *user_id;
    uint32_t roles;
} vbus_caller_t;

//  Per-request options; a zeroed struct (or NULL) means: unkeyed, default timeout, fresh trace
//  id, anonymous, not idempotent.
typedef struct {
    const char *key;              //  partition key (NUL-terminated) or NULL
    int timeout_ms;               //  0 = the client's default
    const char *trace_id;         //  NULL = generate one
    const vbus_caller_t *caller;  //  NULL = anonymous
    bool idempotent;              //  the broker may retry it on another worker if one dies
    bool to_partition;            //  route to .partition rather than by key (replay and other
    uint32_t partition;           //  per-partition requests)
} vbus_opts_t;

//  A reply as seen inside a callback: every pointer is borrowed for the callback's duration.
typedef struct {
    uint64_t id;          //  the request id it answers
    int status;           //  VE_OK .. VE_LAST_STATUS
    const char *message;  //  NUL-terminated; "" when ok
    const void *body;     //  msgpack (may be empty: body_len 0)
    size_t body_len;
} vbus_reply_t;

//  A reply the caller owns (vbus_msg_destroy).
typedef struct {
    uint64_t id;
    int status;
    char *message;  //  never NULL
    void *body;
    size_t body_len;
} vbus_msg_t;

void vbus_msg_destroy (vbus_msg_t **self_p);

//  ---------------------------------------------------------------- endpoints
//  The broker binds three endpoints: requests (ROUTER), publish-in (XSUB) and subscribe-out
//  (XPUB). By convention the two event endpoints are the request port + 1 and + 2, or, on
//  unix sockets (processes on one machine: no loopback TCP), the request path + "-1" and "-2".
//  Writes "tcp://host:(port+offset)" or "ipc://path-offset" (offset 0: the path itself) into
//  out (size bytes); returns 0 or -VE_INVAL when the endpoint is neither tcp://host:port nor
//  ipc://path, or the result does not fit.
int vbus_endpoint_offset (const char *endpoint, int offset, char *out, size_t size);

//  The partition a key belongs to (FNV-1a 64 of the key bytes, mod partitions). Every process
//  uses this one function, so the broker and the actors agree.
uint32_t vbus_partition (const void *key, size_t len, uint32_t partitions);

//  Milliseconds since the Unix epoch (deadlines on the wire are absolute wall-clock times).
int64_t vbus_now_ms (void);
//  Monotonic microseconds, for latencies and timers (not comparable across processes).
int64_t vbus_mono_us (void);

//  ---------------------------------------------------------------- client
//  Creates a client connected to the broker's request endpoint. Returns NULL on a bad endpoint
//  (and logs why). default_timeout_ms 0 = 5000.
vbus_client_t *vbus_client_new (const char *endpoint, int default_timeout_ms);
void vbus_client_destroy (vbus_client_t **self_p);

//  Sends a request and waits for its reply, at most the request's timeout (+ a small grace for
//  the broker's own timeout reply). Returns 0 and sets *reply (caller owns it) whatever the
//  status, including a locally made VE_TIMEOUT when nothing came back; returns -VE_INVAL on bad
//  arguments (name too long, ...), -VE_NOMEM, -VE_IO when the socket failed. body may be NULL.
//  Replies to async requests that arrive meanwhile are dispatched to their callbacks.
int vbus_client_call (vbus_client_t *self, const char *service, const char *method,
                      const void *body, size_t body_len, const vbus_opts_t *opts,
                      vbus_msg_t **reply);

typedef void (vbus_reply_fn) (const vbus_reply_t *reply, void *arg);

//  Sends a request without waiting; cb is called exactly once from vbus_client_dispatch (or a
//  later call), with the reply or a local timeout. Returns 0 and sets *id (may be NULL), or a
//  negative code (cb is then never called).
int vbus_client_send (vbus_client_t *self, const char *service, const char *method,
                      const void *body, size_t body_len, const vbus_opts_t *opts, vbus_reply_fn *cb,
                      void *arg, uint64_t *id);

//  Handles every reply that has arrived and every local deadline that passed; never blocks.
//  Returns how many callbacks ran. Call it when the fd is readable and when the timeout from
//  vbus_client_next_timeout fires; it drains the socket (the fd is edge-triggered).
int vbus_client_dispatch (vbus_client_t *self);

//  Waits up to timeout_ms (-1 = until something happens) for replies, then dispatches.
//  Returns how many callbacks ran, or a negative code.
int vbus_client_poll (vbus_client_t *self, int timeout_ms);

//  For event loops (libuv): a file descriptor that becomes readable when the socket may have
//  something (edge-triggered), and the milliseconds until the next local deadline (-1 none).
//  Call vbus_client_dispatch on every wake-up (fd or timer) and after sending, then re-arm
//  the timer with vbus_client_next_timeout; tests/it/test_bus.c shows the loop.
int vbus_client_fd (vbus_client_t *self);
int vbus_client_next_timeout (vbus_client_t *self);
//  Requests sent and not yet answered.
size_t vbus_client_pending (vbus_client_t *self);

//  ---------------------------------------------------------------- worker
//  A request as the handler sees it; every pointer is borrowed for the handler's duration.
typedef struct {
    /* read-only */
    const char *service;
    const char *method;
    uint64_t id;          //  the caller's request id
    int64_t deadline_ms;  //  absolute, vbus_now_ms() clock
    const char *trace_id;
    const char *key;       //  NULL when unkeyed
    uint32_t partition;    //  vbus_partition(key) for keyed requests, else 0
    vbus_caller_t caller;  //  user_id "" when anonymous
    bool idempotent;
    const void *body;
    size_t body_len;
    /* private: the worker's; vbus_defer copies what a later reply needs */
    const uint8_t *reply_to_;  //  where the reply goes
    uint32_t generation_;      //  the worker's connection it came on
} vbus_request_t;

//  Where a handler writes its reply: a msgpack body (pack into pk) and, on errors, a message.
typedef struct {
    vbuf_t body;
    msgpack_packer pk;
    char message[256];
} vbus_out_t;

//  Starts an empty reply on caller storage (may be NULL, 0; it grows onto the heap, at most
//  VBUS_MAX_BODY): what the worker hands a handler, and what code that runs a handler itself
//  (a runtime transaction, a call handled again) hands it. Free with vbuf_free (&out->body).
void vbus_out_init (vbus_out_t *out, void *storage, size_t size);

//  Sets the error message (printf-style) and returns status, so a handler can
//  `return vbus_out_error (out, VE_BAD_REQUEST, "title: longer than %d characters", 200);`
int vbus_out_error (vbus_out_t *out, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  A method handler: reads req, writes out, returns a status (VE_OK .. VE_LAST_STATUS), or
//  VBUS_DEFERRED after vbus_defer (below) to answer later.
//  It runs on the worker's thread, which also heartbeats: a handler must return well inside
//  the heartbeat window (3 × heartbeat_ms) or the broker declares the worker dead.
typedef int (vbus_handler_fn) (const vbus_request_t *req, vbus_out_t *out, void *arg);

typedef struct {
    const char *name;
    vbus_handler_fn *fn;
    void *arg;
} vbus_method_t;

//  Deferred replies, for work that takes longer than a handler may block (rendering): the
//  handler copies the request's return address with vbus_defer and returns VBUS_DEFERRED; the
//  worker's thread answers later with vbus_worker_reply. The request keeps one unit of the
//  worker's credit until then, so the broker never gives a worker more than its credit. On
//  stop, the drain waits (at most 10 s) until every deferred request is answered.
#define VBUS_DEFERRED 1000

typedef struct {
    /* private: the broker's return address and the worker's connection; never change them */
    uint8_t token[8];
    uint32_t generation;
    /* read-only */
    uint64_t id;                       //  the caller's request id
    char method[VBUS_MAX_METHOD + 1];  //  for log lines (and the runtime's reply check)
    int64_t deadline_ms;               //  the caller's deadline (vbus_now_ms clock)
} vbus_defer_t;

//  Copies what a later reply to req needs into out (a plain value: keep it anywhere).
void vbus_defer (const vbus_request_t *req, vbus_defer_t *out);
//  Answers a deferred request: status VE_OK with body (msgpack, may be NULL), or an error
//  status with message (NULL = the status's text). A reply whose connection to the broker has
//  since been replaced is dropped (the broker already answered the caller). Call it on the
//  worker's thread, once per deferred request. Returns 0, -VE_INVAL (bad status, body over
//  VBUS_MAX_BODY), -VE_IO (the socket refused it).
int vbus_worker_reply (vbus_worker_t *self, const vbus_defer_t *d, int status, const char *message,
                       const void *body, size_t body_len);
//  Requests deferred and not yet answered.
size_t vbus_worker_deferred (vbus_worker_t *self);
//  Adds fd to what vbus_worker_poll waits on (an eventfd other threads write to, say): fn (arg)
//  runs on the worker's thread after every wake-up, whatever woke it. One watch per worker;
//  fd -1 removes it.
void vbus_worker_watch (vbus_worker_t *self, int fd, void (*fn) (void *arg), void *arg);

typedef struct {
    const char *endpoint;  //  the broker's request endpoint
    const char *service;
    const vbus_method_t *methods;  //  ends with { NULL }
    uint32_t partitions;           //  P for this service (0 = 1)
    const uint32_t *owned;         //  partitions this worker owns; NULL = all
    size_t owned_count;
    uint32_t credit;   //  requests the broker may give it at once (0 = 64)
    int heartbeat_ms;  //  0 = 1000; the peer is dead after 3 silent intervals
    const char *name;  //  instance name shown in stats (NULL = host:pid)
} vbus_worker_config_t;

//  Creates a worker and connects it (READY is sent at once). Returns NULL on bad config (logged).
vbus_worker_t *vbus_worker_new (const vbus_worker_config_t *config);
void vbus_worker_destroy (vbus_worker_t **self_p);
//  Serves until vbus_worker_stop, then drains: tells the broker it leaves, answers every request
//  already given to it, and returns 0. Heartbeats and reconnects (with backoff) happen inside.
int vbus_worker_run (vbus_worker_t *self);
//  One step for embedding in another loop: waits up to timeout_ms, handles what arrived,
//  heartbeats. Returns requests handled, or a negative code.
int vbus_worker_poll (vbus_worker_t *self, int timeout_ms);
//  Asks vbus_worker_run to finish. Async-signal-safe (sets a flag).
void vbus_worker_stop (vbus_worker_t *self);
//  True once vbus_worker_stop was called or SIGINT/SIGTERM arrived.
bool vbus_worker_stopping (vbus_worker_t *self);
//  Leaves cleanly: tells the broker, answers every request already given to this worker,
//  returns when none can still arrive (at most 10 s). vbus_worker_run ends with it; a loop
//  that embeds vbus_worker_poll calls it itself.
void vbus_worker_drain (vbus_worker_t *self);
//  The ZeroMQ socket, for a zmq_poll that waits on it beside other sockets.
void *vbus_worker_socket (vbus_worker_t *self);
//  Requests handled so far.
uint64_t vbus_worker_handled (vbus_worker_t *self);

//  ---------------------------------------------------------------- events
//  A publisher connects to the broker's publish-in endpoint (request port + 1).
//  Like every PUB socket it drops what it sends before its connection is up (ZeroMQ's slow
//  joiner): a short-lived publisher waits for the link first. Destroy lingers up to 2 s to
//  deliver what is queued.
vbus_pub_t *vbus_pub_new (const char *endpoint);
void vbus_pub_destroy (vbus_pub_t **self_p);
//  Publishes one event: topic "<domain>.<event>", stream "<service>/<partition>", seq the
//  stream's gapless sequence number (seq 0 = the publisher numbers this stream itself: 1, 2, …).
//  Each event also names the seq of the stream's previous event of its topic that this
//  publisher sent (vbus_event_t.prev), so events must go out in seq order per stream.
//  Returns 0 or a negative code (-VE_AGAIN when the link is full: the event was not sent).
int vbus_pub_send (vbus_pub_t *self, const char *topic, const char *stream, uint64_t seq,
                   const void *body, size_t body_len);
//  The same with prev given (below seq; 0 = not known): for a publisher that knows it from a
//  log of its own, and for tests that forge a lost event.
int vbus_pub_send_after (vbus_pub_t *self, const char *topic, const char *stream, uint64_t seq,
                         uint64_t prev, const void *body, size_t body_len);

typedef struct {
    const char *topic;
    const char *stream;
    uint64_t seq;
    uint64_t prev;    //  the stream's previous event of this topic, as its publisher saw it
                      //  (0: none, or not known: a publisher says 0 for its first of each
                      //  topic); a subscriber to one topic checks its gaps with it
    int64_t time_ms;  //  when it was published
    const void *body;
    size_t body_len;
    uint64_t gap_from;  //  > 0: events gap_from .. seq-1 of this stream were missed
    bool duplicate;     //  seq was already seen (at-least-once delivery)
} vbus_event_t;

//  A subscriber connects to the broker's subscribe-out endpoint (request port + 2) and receives
//  events whose topic starts with one of the prefixes (NULL-terminated list; "" or "*" = all;
//  a trailing '*' is ignored: "orders.*" = "orders.").
vbus_sub_t *vbus_sub_new (const char *endpoint, const char *const *prefixes);
void vbus_sub_destroy (vbus_sub_t **self_p);
//  Receives the next event, waiting up to timeout_ms (-1 forever). Returns 0 (ev valid until
//  the next call), -VE_TIMEOUT, or -VE_PROTO for a malformed event (skipped, counted).
int vbus_sub_recv (vbus_sub_t *self, vbus_event_t *ev, int timeout_ms);
//  Declares where a stream resumes (the next seq expected), e.g. from a stored offset.
int vbus_sub_expect (vbus_sub_t *self, const char *stream, uint64_t next_seq);
int vbus_sub_fd (vbus_sub_t *self);
//  The ZeroMQ socket, for zmq_poll.
void *vbus_sub_socket (vbus_sub_t *self);

#endif
