//  vbus_worker.c — a worker serves one service: it announces itself (READY with its partitions
//  and credit), runs a handler per request, heartbeats both ways, reconnects with backoff when
//  the broker falls silent, and on stop drains: it tells the broker it leaves and answers every
//  request the broker already gave it before it returns.
#include "vbus_proto.h"
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_MAX_BACKOFF_MS 5000
#define WORKER_DRAIN_MAX_MS   10000

_Static_assert(sizeof ((vbus_defer_t *) 0)->token == VBUS_TOKEN_SIZE, "vbus_defer_t token size");

struct vbus_worker_s {
    char *endpoint;
    char *service;
    char *name;
    const vbus_method_t *methods;
    uint32_t partitions;
    uint32_t *owned;
    size_t owned_count;
    uint32_t credit;
    int heartbeat_ms;

    zsock_t *sock;
    void *handle;
    int64_t next_heartbeat;  //  monotonic ms: when we send our next HEARTBEAT
    int64_t broker_expiry;   //  monotonic ms: the broker is dead if silent until then
    int backoff_ms;          //  wait before the next reconnect
    volatile sig_atomic_t stop;
    bool draining;
    int64_t drain_deadline;
    int64_t sent_total;  //  requests the broker says it gave us (-1 = not told yet)
    uint64_t received;   //  requests received on this connection
    bool heard;          //  the broker spoke since the last timer check
    uint64_t handled;
    uint32_t generation;  //  counts connections: deferred replies to an older one are dropped
    size_t deferred;      //  requests deferred and not yet answered
    int watch_fd;         //  vbus_worker_watch: -1 when none
    void (*watch_fn) (void *arg);
    void *watch_arg;
};

static int64_t
s_now (void)
{
    return vbus_mono_us () / 1000;
}

static int
s_send_cmd (vbus_worker_t *self, int command)
{
    uint8_t cmd[4];
    vbus__cmd (cmd, command);
    return zmq_send (self->handle, cmd, 4, ZMQ_DONTWAIT) < 0 ? -VE_IO : 0;
}

static int
s_send_ready (vbus_worker_t *self)
{
    uint8_t cmd[4];
    vbus__cmd (cmd, VBUS_READY);
    char storage[512];
    vbuf_t ready;
    vbuf_init (&ready, storage, sizeof storage);
    vbus__ready_t r = { .partitions = self->partitions,
                        .owned = self->owned,
                        .owned_count = self->owned_count,
                        .credit = self->credit,
                        .name = self->name,
                        .name_len = (uint32_t) strlen (self->name),
                        .heartbeat_ms = (uint32_t) self->heartbeat_ms };
    int rc = vbus__ready_encode (&r, &ready);
    zmq_msg_t frames[2];
    if (rc == 0) {
        if (vbus__frame (&frames[0], cmd, 4, self->service, strlen (self->service), NULL, 0)
            || vbus__frame (&frames[1], ready.data, ready.len, NULL, 0, NULL, 0))
            rc = -VE_NOMEM;
        else if (vbus__send_frames (self->handle, frames, 2, ZMQ_DONTWAIT))
            rc = -VE_IO;
    }
    vbuf_free (&ready);
    self->received = 0;
    return rc;
}

//  (Re)creates the socket and announces the worker.
static int
s_connect (vbus_worker_t *self)
{
    zsock_destroy (&self->sock);
    self->generation++;
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock)
        return -VE_IO;
    self->handle = zsock_resolve (self->sock);
    zsock_set_linger (self->sock, 0);
    zsock_set_sndhwm (self->sock, 100000);
    zsock_set_rcvhwm (self->sock, 100000);
    if (zsock_connect (self->sock, "%s", self->endpoint) != 0)
        return -VE_INVAL;
    int64_t now = s_now ();
    self->next_heartbeat = now + self->heartbeat_ms;
    self->broker_expiry = now + 3 * self->heartbeat_ms;
    return s_send_ready (self);
}

vbus_worker_t *
vbus_worker_new (const vbus_worker_config_t *config)
{
    if (!config->endpoint || !config->service || !config->methods
        || !vbus__name_ok (config->service, strlen (config->service), VBUS_MAX_SERVICE)) {
        vbus_log ('E', "vbus", "worker: bad config (endpoint, service [a-z0-9_-], methods)");
        return NULL;
    }
    uint32_t partitions = config->partitions ? config->partitions : 1;
    if (partitions > VBUS_MAX_PARTITIONS) {
        vbus_log ('E', "vbus", "worker: partitions %u above %d", partitions, VBUS_MAX_PARTITIONS);
        return NULL;
    }
    for (size_t i = 0; config->owned && i < config->owned_count; i++)
        if (config->owned[i] >= partitions) {
            vbus_log ('E', "vbus", "worker: owns partition %u of only %u", config->owned[i],
                      partitions);
            return NULL;
        }
    for (const vbus_method_t *m = config->methods; m->name; m++)
        if (!vbus__name_ok (m->name, strlen (m->name), VBUS_MAX_METHOD) || !m->fn) {
            vbus_log ('E', "vbus", "worker: bad method name '%s'", m->name);
            return NULL;
        }
    vbus_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char host[64] = "host";
    gethostname (host, sizeof host - 1);
    char name[128];
    snprintf (name, sizeof name, "%s:%d", host, (int) getpid ());
    self->endpoint = strdup (config->endpoint);
    self->service = strdup (config->service);
    self->name = strdup (config->name ? config->name : name);
    self->methods = config->methods;
    self->partitions = partitions;
    self->owned_count = config->owned ? config->owned_count : 0;
    self->owned = calloc (self->owned_count + 1, sizeof *self->owned);
    if (self->owned_count)
        memcpy (self->owned, config->owned, self->owned_count * sizeof *self->owned);
    self->credit = config->credit ? config->credit : 64;
    self->heartbeat_ms = config->heartbeat_ms > 0 ? config->heartbeat_ms : 1000;
    self->backoff_ms = self->heartbeat_ms;
    self->sent_total = -1;
    self->watch_fd = -1;
    if (!self->endpoint || !self->service || !self->name || !self->owned || s_connect (self) != 0) {
        vbus_log ('E', "vbus", "worker: cannot connect to '%s'", config->endpoint);
        vbus_worker_destroy (&self);
        return NULL;
    }
    vbus_log ('I', self->service, "worker %s ready at %s (credit %u, partitions %zu of %u)",
              self->name, self->endpoint, self->credit,
              self->owned_count ? self->owned_count : self->partitions, self->partitions);
    return self;
}

void
vbus_worker_destroy (vbus_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vbus_worker_t *self = *self_p;
    zsock_destroy (&self->sock);
    free (self->endpoint);
    free (self->service);
    free (self->name);
    free (self->owned);
    free (self);
    *self_p = NULL;
}

static void
s_copy (char *dst, size_t size, const char *src, uint32_t len)
{
    size_t n = len < size - 1 ? len : size - 1;
    if (n)
        memcpy (dst, src, n);
    dst[n] = 0;
}

//  Sends one reply frame pair: the broker's return address, then the reply header and body.
static int
s_send_reply (vbus_worker_t *self, const uint8_t *token, uint64_t id, const char *method,
              int status, const char *message, const void *body, size_t body_len)
{
    char header[VBUS_MAX_HEADER];
    int hlen = vbus__reply_encode (id, status, message, status == VE_OK ? 0 : strlen (message),
                                   header, sizeof header);
    uint8_t cmd[4];
    vbus__cmd (cmd, VBUS_REPLY);
    zmq_msg_t reply[2];
    int made = 0;
    if (hlen >= 0 && vbus__frame (&reply[0], cmd, 4, token, VBUS_TOKEN_SIZE, NULL, 0) == 0 && ++made
        && vbus__frame (&reply[1], cmd, 4, header, (size_t) hlen, body, body_len) == 0)
        made++;
    if (made < 2)
        vbus__close (reply, made);
    if (made < 2 || vbus__send_frames (self->handle, reply, 2, ZMQ_DONTWAIT) != 0) {
        vbus_log ('W', self->service, "could not send the reply to %s", method);
        return -VE_IO;
    }
    return 0;
}

void
vbus_defer (const vbus_request_t *req, vbus_defer_t *out)
{
    memcpy (out->token, req->reply_to_, VBUS_TOKEN_SIZE);
    out->id = req->id;
    out->generation = req->generation_;
    out->deadline_ms = req->deadline_ms;
    snprintf (out->method, sizeof out->method, "%s", req->method);
}

int
vbus_worker_reply (vbus_worker_t *self, const vbus_defer_t *d, int status, const char *message,
                   const void *body, size_t body_len)
{
    if (status < 0 || status > VE_LAST_STATUS || body_len > VBUS_MAX_BODY)
        return -VE_INVAL;
    if (self->deferred)
        self->deferred--;
    if (d->generation != self->generation || !self->sock) {
        vbus_log ('W', self->service, "dropped a late reply to %s (reconnected since)", d->method);
        return 0;
    }
    if (status != VE_OK) {
        body_len = 0;
        if (!message)
            message = verr_str (status);
    }
    return s_send_reply (self, d->token, d->id, d->method, status, message ? message : "", body,
                         body_len);
}

size_t
vbus_worker_deferred (vbus_worker_t *self)
{
    return self->deferred;
}

void
vbus_worker_watch (vbus_worker_t *self, int fd, void (*fn) (void *arg), void *arg)
{
    self->watch_fd = fn ? fd : -1;
    self->watch_fn = fd >= 0 ? fn : NULL;
    self->watch_arg = arg;
}

//  Runs one request: decode the header, find the method, call it, send the reply.
static void
s_handle_request (vbus_worker_t *self, zmq_msg_t *frames)
{
    vbus__header_t h;
    const char *token = (const char *) zmq_msg_data (&frames[0]) + VBUS_CMD_SIZE;
    const char *data = zmq_msg_data (&frames[1]);
    size_t size = zmq_msg_size (&frames[1]), used;
    if (vbus__cmd_parse (data, size) != VBUS_REQUEST
        || vbus__header_decode (&h, data + VBUS_CMD_SIZE, size - VBUS_CMD_SIZE, &used) != 0) {
        vbus_log ('W', self->service, "dropped a request with a malformed header");
        return;
    }
    char method[VBUS_MAX_METHOD + 1], trace[VBUS_MAX_TRACE + 1], key[VBUS_MAX_KEY + 1];
    char user[VBUS_MAX_USER + 1];
    s_copy (method, sizeof method, h.method, h.method_len);
    s_copy (trace, sizeof trace, h.trace, h.trace_len);
    s_copy (key, sizeof key, h.key, h.key_len);
    s_copy (user, sizeof user, h.user, h.user_len);
    vbus_request_t req = {
        .service = self->service,
        .method = method,
        .id = h.id,
        .deadline_ms = h.deadline_ms,
        .trace_id = trace,
        .key = h.key ? key : NULL,
        .partition = h.partition >= 0 ? (uint32_t) h.partition
                     : h.key          ? vbus_partition (h.key, h.key_len, self->partitions)
                                      : 0,
        .caller = { .user_id = user, .roles = h.roles },
        .idempotent = (h.flags & VBUS_FLAG_IDEMPOTENT) != 0,
        .body = data + VBUS_CMD_SIZE + used,
        .body_len = size - VBUS_CMD_SIZE - used,
        .reply_to_ = (const uint8_t *) token,
        .generation_ = self->generation,
    };
    char storage[4096];
    vbus_out_t out;
    vbus_out_init (&out, storage, sizeof storage);

    const vbus_method_t *m = self->methods;
    while (m->name && strcmp (m->name, method) != 0)
        m++;
    int status;
    if (!m->name)
        status = vbus_out_error (&out, VE_NOT_FOUND, "no method '%s' in service '%s'", method,
                                 self->service);
    else if (h.deadline_ms <= vbus_now_ms ())
        status = vbus_out_error (&out, VE_TIMEOUT, "deadline passed before the worker began");
    else {
        status = m->fn (&req, &out, m->arg);
        //  VBUS_DEFERRED: answered later by vbus_worker_reply.
        if (status != VBUS_DEFERRED && (status < 0 || status > VE_LAST_STATUS)) {
            vbus_log ('E', self->service, "%s returned %d, not a status", method, status);
            status = vbus_out_error (&out, VE_INTERNAL, "handler failed");
        }
        else if (status != VBUS_DEFERRED && out.body.failed)
            status = vbus_out_error (&out, VE_INTERNAL, "reply too large");
    }
    if (status == VBUS_DEFERRED) {
        self->deferred++;
        vbuf_free (&out.body);
        self->handled++;
        return;
    }
    if (status != VE_OK) {
        vbuf_reset (&out.body);
        if (!out.message[0])
            snprintf (out.message, sizeof out.message, "%s", verr_str (status));
    }
    s_send_reply (self, (const uint8_t *) token, h.id, method, status, out.message, out.body.data,
                  out.body.len);
    vbuf_free (&out.body);
    self->handled++;
}

//  Handles one message from the broker. Returns 1 for a request handled, else 0.
static int
s_handle (vbus_worker_t *self, zmq_msg_t *frames, int count)
{
    int command = count >= 1
                      ? vbus__cmd_parse (zmq_msg_data (&frames[0]), zmq_msg_size (&frames[0]))
                      : -VE_PROTO;
    size_t arg_len = count >= 1 ? zmq_msg_size (&frames[0]) - VBUS_CMD_SIZE : 0;
    self->heard = true;
    if (command == VBUS_REQUEST && count == 2 && arg_len == VBUS_TOKEN_SIZE) {
        self->received++;
        s_handle_request (self, frames);
        return 1;
    }
    if (command == VBUS_HEARTBEAT && count == 1 && arg_len == 0)
        return 0;
    if (command == VBUS_DISCONNECT && count == 1 && arg_len == 0) {
        //  The broker does not know us (it restarted, or it declared us dead): announce again.
        if (!self->draining) {
            vbus_log ('I', self->service, "broker asked us to reconnect; sending READY");
            s_send_ready (self);
        }
        return 0;
    }
    if (command == VBUS_DISCONNECT && count == 2 && arg_len == 0 && self->draining) {
        vmp_reader_t r;
        uint64_t sent;
        vmp_reader_init (&r, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]));
        if (vmp_read_uint (&r, &sent) == 0)
            self->sent_total = (int64_t) sent;
        return 0;
    }
    vbus_log ('W', self->service, "dropped a malformed message from the broker");
    return 0;
}

static void
s_timers (vbus_worker_t *self)
{
    int64_t now = s_now ();
    //  Liveness is noted once per batch, not per message: one clock read.
    if (self->heard) {
        self->broker_expiry = now + 3 * self->heartbeat_ms;
        self->backoff_ms = self->heartbeat_ms;
        self->heard = false;
    }
    if (now >= self->broker_expiry && !self->draining) {
        vbus_log ('W', self->service, "broker silent for %d ms; reconnecting in %d ms",
                  3 * self->heartbeat_ms, self->backoff_ms);
        zsock_destroy (&self->sock);
        zclock_sleep (self->backoff_ms);
        self->backoff_ms = self->backoff_ms * 2 > WORKER_MAX_BACKOFF_MS ? WORKER_MAX_BACKOFF_MS
                                                                        : self->backoff_ms * 2;
        if (s_connect (self) != 0)
            vbus_log ('E', self->service, "reconnect to %s failed", self->endpoint);
        return;
    }
    if (now >= self->next_heartbeat) {
        s_send_cmd (self, VBUS_HEARTBEAT);
        self->next_heartbeat = now + self->heartbeat_ms;
    }
}

int
vbus_worker_poll (vbus_worker_t *self, int timeout_ms)
{
    int64_t wait = self->next_heartbeat - s_now ();
    if (wait < 0)
        wait = 0;
    if (timeout_ms < 0 || wait < timeout_ms)
        timeout_ms = (int) wait;
    zmq_pollitem_t items[2] = { { self->handle, 0, ZMQ_POLLIN, 0 },
                                { NULL, self->watch_fd, ZMQ_POLLIN, 0 } };
    int handled = 0;
    //  Under load requests are already waiting: skip the poll system call then.
    uint32_t events = 0;
    size_t events_size = sizeof events;
    zmq_getsockopt (self->handle, ZMQ_EVENTS, &events, &events_size);
    if ((events & ZMQ_POLLIN)
        || (zmq_poll (items, self->watch_fn ? 2 : 1, timeout_ms) > 0
            && (items[0].revents & ZMQ_POLLIN))) {
        zmq_msg_t frames[VBUS_MAX_FRAMES + 1];
        //  Bounded batch, so heartbeats still go out under a flood of requests.
        for (int i = 0; i < 1024; i++) {
            int count = vbus__recv (self->handle, frames, VBUS_MAX_FRAMES, ZMQ_DONTWAIT);
            if (count < 0)
                break;
            handled += s_handle (self, frames, count);
            vbus__close (frames, count > VBUS_MAX_FRAMES ? VBUS_MAX_FRAMES : count);
        }
    }
    if (self->watch_fn)
        self->watch_fn (self->watch_arg);
    s_timers (self);
    return handled;
}

void
vbus_worker_stop (vbus_worker_t *self)
{
    self->stop = 1;
}

uint64_t
vbus_worker_handled (vbus_worker_t *self)
{
    return self->handled;
}

bool
vbus_worker_stopping (vbus_worker_t *self)
{
    return self->stop || zsys_interrupted;
}

void *
vbus_worker_socket (vbus_worker_t *self)
{
    return self->handle;
}

void
vbus_worker_drain (vbus_worker_t *self)
{
    //  No new work from now on; answer what the broker already sent us.
    self->draining = true;
    self->drain_deadline = s_now () + WORKER_DRAIN_MAX_MS;
    s_send_cmd (self, VBUS_DISCONNECT);
    int64_t silent_until = s_now () + 3 * self->heartbeat_ms;
    while (s_now () < self->drain_deadline) {
        if (self->sent_total >= 0 && self->received >= (uint64_t) self->sent_total
            && !self->deferred)
            break;
        if (self->sent_total < 0 && s_now () > silent_until && !self->deferred)
            break;  //  no broker to answer: nothing more can arrive
        vbus_worker_poll (self, 50);
    }
    vbus_log ('I', self->service, "worker %s stopped after %llu requests", self->name,
              (unsigned long long) self->handled);
}

int
vbus_worker_run (vbus_worker_t *self)
{
    while (!vbus_worker_stopping (self))
        vbus_worker_poll (self, -1);
    vbus_worker_drain (self);
    return 0;
}
