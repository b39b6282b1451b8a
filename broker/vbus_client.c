//  vbus_client.c — the bus client: many outstanding requests on one DEALER socket, matched to
//  their replies by request id. The id carries the pending slot's index and generation, so a
//  reply finds its slot in O(1) and a late reply to a slot already reused is recognised.
#include "vbus_proto.h"
#include "vheap.h"
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  The broker answers a request itself at its deadline; the client waits this much longer
//  before it gives up locally (broker gone, link cut).
#define CLIENT_GRACE_MS 250

typedef struct {
    uint32_t gen;
    bool used;
    vbus_reply_fn *cb;
    void *arg;
    int timeout_ms;
    uint32_t next_free;
} s_pending_t;

struct vbus_client_s {
    zsock_t *sock;
    void *handle;
    int default_timeout_ms;
    s_pending_t *slots;
    uint32_t nslots;
    uint32_t free_head;  //  UINT32_MAX = none
    size_t pending;
    vheap_t deadlines;  //  local deadlines, monotonic ms
    char trace_prefix[17];
    uint64_t trace_seq;
};

static void
s_random_hex (char *out, size_t bytes)
{
    uint8_t raw[16];
    FILE *f = fopen ("/dev/urandom", "rb");
    size_t got = f ? fread (raw, 1, bytes, f) : 0;
    if (f)
        fclose (f);
    for (size_t i = got; i < bytes; i++)
        raw[i] = (uint8_t) (getpid () * 31 + vbus_mono_us () * (int64_t) (i + 7));
    for (size_t i = 0; i < bytes; i++)
        sprintf (out + 2 * i, "%02x", raw[i]);
}

vbus_client_t *
vbus_client_new (const char *endpoint, int default_timeout_ms)
{
    vbus_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock) {
        free (self);
        return NULL;
    }
    self->handle = zsock_resolve (self->sock);
    zsock_set_sndhwm (self->sock, 100000);
    zsock_set_rcvhwm (self->sock, 100000);
    zsock_set_linger (self->sock, 0);
    if (zsock_connect (self->sock, "%s", endpoint) != 0) {
        vbus_log ('E', "vbus", "client: cannot connect to '%s'", endpoint);
        vbus_client_destroy (&self);
        return NULL;
    }
    self->default_timeout_ms = default_timeout_ms > 0 ? default_timeout_ms : 5000;
    self->free_head = UINT32_MAX;
    s_random_hex (self->trace_prefix, 8);
    return self;
}

void
vbus_client_destroy (vbus_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vbus_client_t *self = *self_p;
    zsock_destroy (&self->sock);
    vheap_free (&self->deadlines);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

static int
s_slot_alloc (vbus_client_t *self, uint32_t *index)
{
    if (self->free_head == UINT32_MAX) {
        uint32_t cap = self->nslots ? self->nslots * 2 : 64;
        s_pending_t *slots = realloc (self->slots, cap * sizeof *slots);
        if (!slots)
            return -VE_NOMEM;
        self->slots = slots;
        if (vheap_reserve (&self->deadlines, cap))
            return -VE_NOMEM;
        for (uint32_t i = cap; i-- > self->nslots;) {
            slots[i] = (s_pending_t) { .next_free = self->free_head };
            self->free_head = i;
        }
        self->nslots = cap;
    }
    *index = self->free_head;
    self->free_head = self->slots[*index].next_free;
    return 0;
}

//  "<16 hex of this client>-<hex counter>": unique without coordination; no printf on the
//  hot path.
static void
s_trace_id (vbus_client_t *self, char *out)
{
    memcpy (out, self->trace_prefix, 16);
    out[16] = '-';
    char digits[16];
    int n = 0;
    uint64_t seq = ++self->trace_seq;
    do {
        digits[n++] = "0123456789abcdef"[seq & 15];
        seq >>= 4;
    } while (seq);
    for (int i = 0; i < n; i++)
        out[17 + i] = digits[n - 1 - i];
    out[17 + n] = 0;
}

static void
s_slot_release (vbus_client_t *self, uint32_t index)
{
    s_pending_t *slot = &self->slots[index];
    slot->used = false;
    slot->gen++;
    slot->next_free = self->free_head;
    self->free_head = index;
    vheap_remove (&self->deadlines, index);
    self->pending--;
}

int
vbus_client_send (vbus_client_t *self, const char *service, const char *method, const void *body,
                  size_t body_len, const vbus_opts_t *opts, vbus_reply_fn *cb, void *arg,
                  uint64_t *id)
{
    static const vbus_opts_t no_opts;
    if (!opts)
        opts = &no_opts;
    if (!service || !method || !cb || !vbus__name_ok (service, strlen (service), VBUS_MAX_SERVICE)
        || !vbus__name_ok (method, strlen (method), VBUS_MAX_METHOD))
        return -VE_INVAL;
    if (body && body_len > VBUS_MAX_BODY)
        return -VE_TOOBIG;  //  the broker would cut the connection for it
    int timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : self->default_timeout_ms;
    uint32_t index;
    int rc = s_slot_alloc (self, &index);
    if (rc)
        return rc;
    s_pending_t *slot = &self->slots[index];

    char trace[VBUS_MAX_TRACE + 1];
    if (!opts->trace_id)
        s_trace_id (self, trace);
    vbus__header_t h = {
        .id = ((uint64_t) slot->gen << 32) | index,
        .service = service,
        .service_len = (uint32_t) strlen (service),
        .method = method,
        .method_len = (uint32_t) strlen (method),
        .deadline_ms = vbus_now_ms () + timeout_ms,
        .trace = opts->trace_id ? opts->trace_id : trace,
        .key = opts->key,
        .key_len = opts->key ? (uint32_t) strlen (opts->key) : 0,
        .user = opts->caller && opts->caller->user_id && *opts->caller->user_id
                    ? opts->caller->user_id
                    : NULL,
        .roles = opts->caller ? opts->caller->roles : 0,
        .flags = opts->idempotent ? VBUS_FLAG_IDEMPOTENT : 0,
        .partition = opts->to_partition ? (int64_t) opts->partition : -1,
    };
    h.trace_len = (uint32_t) strlen (h.trace);
    h.user_len = h.user ? (uint32_t) strlen (h.user) : 0;
    if (h.trace_len > VBUS_MAX_TRACE || h.key_len > VBUS_MAX_KEY || h.user_len > VBUS_MAX_USER)
        goto invalid;
    char header[VBUS_MAX_HEADER];
    int hlen = vbus__header_encode (&h, header, sizeof header);
    if (hlen < 0)
        goto invalid;
    uint8_t cmd[4];
    vbus__cmd (cmd, VBUS_REQUEST);
    zmq_msg_t frame;
    if (vbus__frame (&frame, cmd, 4, header, (size_t) hlen, body, body ? body_len : 0) != 0) {
        rc = -VE_NOMEM;
        goto release;
    }
    if (vbus__send_frames (self->handle, &frame, 1, ZMQ_DONTWAIT) != 0) {
        rc = errno == EAGAIN ? -VE_AGAIN : -VE_IO;
        goto release;
    }
    slot->used = true;
    slot->cb = cb;
    slot->arg = arg;
    slot->timeout_ms = timeout_ms;
    self->pending++;
    vheap_push (&self->deadlines, index, vbus_mono_us () / 1000 + timeout_ms + CLIENT_GRACE_MS);
    if (id)
        *id = h.id;
    return 0;
invalid:
    rc = -VE_INVAL;
release:
    self->pending++;  //  s_slot_release counts it down
    s_slot_release (self, index);
    return rc;
}

//  Hands one received message to its callback; malformed replies are dropped.
static int
s_handle (vbus_client_t *self, zmq_msg_t *frames, int count)
{
    uint64_t id;
    int status;
    const char *msg;
    uint32_t msg_len;
    size_t used;
    const char *data = zmq_msg_data (&frames[0]);
    size_t size = zmq_msg_size (&frames[0]);
    if (count != 1 || vbus__cmd_parse (data, size) != VBUS_REPLY
        || vbus__reply_decode (data + VBUS_CMD_SIZE, size - VBUS_CMD_SIZE, &id, &status, &msg,
                               &msg_len, &used)
               != 0) {
        vbus_log ('W', "vbus", "client: dropped a malformed message from the broker");
        return 0;
    }
    uint32_t index = (uint32_t) id;
    if (index >= self->nslots || !self->slots[index].used
        || self->slots[index].gen != (uint32_t) (id >> 32))
        return 0;  //  a reply after our local timeout: already answered
    s_pending_t slot = self->slots[index];
    s_slot_release (self, index);
    char message[512];
    size_t copy = msg_len < sizeof message - 1 ? msg_len : sizeof message - 1;
    memcpy (message, msg, copy);
    message[copy] = 0;
    vbus_reply_t reply = { .id = id,
                           .status = status,
                           .message = message,
                           .body = data + VBUS_CMD_SIZE + used,
                           .body_len = size - VBUS_CMD_SIZE - used };
    slot.cb (&reply, slot.arg);
    return 1;
}

static int
s_expire (vbus_client_t *self)
{
    int ran = 0;
    int64_t now = vbus_mono_us () / 1000;
    uint32_t index;
    int64_t key;
    while (vheap_top (&self->deadlines, &index, &key) && key <= now) {
        s_pending_t slot = self->slots[index];
        uint64_t id = ((uint64_t) slot.gen << 32) | index;
        s_slot_release (self, index);
        char message[128];
        snprintf (message, sizeof message, "no reply within %d ms", slot.timeout_ms);
        vbus_reply_t reply = { .id = id, .status = VE_TIMEOUT, .message = message };
        slot.cb (&reply, slot.arg);
        ran++;
    }
    return ran;
}

int
vbus_client_dispatch (vbus_client_t *self)
{
    int ran = 0;
    zmq_msg_t frames[VBUS_MAX_FRAMES + 1];
    for (;;) {
        int count = vbus__recv (self->handle, frames, VBUS_MAX_FRAMES, ZMQ_DONTWAIT);
        if (count < 0)
            break;
        ran += s_handle (self, frames, count);
        vbus__close (frames, count > VBUS_MAX_FRAMES ? VBUS_MAX_FRAMES : count);
    }
    return ran + s_expire (self);
}

int
vbus_client_next_timeout (vbus_client_t *self)
{
    uint32_t index;
    int64_t key;
    if (!vheap_top (&self->deadlines, &index, &key))
        return -1;
    int64_t left = key - vbus_mono_us () / 1000;
    return left < 0 ? 0 : (int) left;
}

int
vbus_client_poll (vbus_client_t *self, int timeout_ms)
{
    //  Under load replies are already waiting: take them without a poll system call.
    int ran = vbus_client_dispatch (self);
    if (ran)
        return ran;
    int next = vbus_client_next_timeout (self);
    if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
        timeout_ms = next;
    zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
    //  Dispatch even when polling failed: local deadlines still fire, so no caller hangs.
    int failed = zmq_poll (&item, 1, timeout_ms) < 0 && errno != EINTR;
    ran = vbus_client_dispatch (self);
    return failed ? -VE_IO : ran;
}

int
vbus_client_fd (vbus_client_t *self)
{
    return zsock_fd (self->sock);
}

size_t
vbus_client_pending (vbus_client_t *self)
{
    return self->pending;
}

//  A synchronous call is an async one whose callback keeps the reply.
typedef struct {
    bool done;
    vbus_msg_t *msg;
    int rc;
} s_sync_t;

static void
s_sync_reply (const vbus_reply_t *reply, void *arg)
{
    s_sync_t *sync = arg;
    sync->done = true;
    vbus_msg_t *msg = calloc (1, sizeof *msg);
    if (msg) {
        msg->id = reply->id;
        msg->status = reply->status;
        msg->message = strdup (reply->message);
        msg->body = malloc (reply->body_len ? reply->body_len : 1);
        msg->body_len = reply->body_len;
        if (msg->body && reply->body_len)
            memcpy (msg->body, reply->body, reply->body_len);
    }
    if (!msg || !msg->message || !msg->body) {
        vbus_msg_destroy (&msg);
        sync->rc = -VE_NOMEM;
    }
    sync->msg = msg;
}

int
vbus_client_call (vbus_client_t *self, const char *service, const char *method, const void *body,
                  size_t body_len, const vbus_opts_t *opts, vbus_msg_t **reply)
{
    *reply = NULL;
    s_sync_t sync = { 0 };
    int rc =
        vbus_client_send (self, service, method, body, body_len, opts, s_sync_reply, &sync, NULL);
    if (rc)
        return rc;
    //  Ends at the latest at the local deadline, which dispatch always honours.
    while (!sync.done)
        vbus_client_poll (self, -1);
    *reply = sync.msg;
    return sync.rc;
}
