//  vbroker.c — the Vitrine broker daemon. One thread, one poll loop:
//  - a ROUTER where clients send requests and workers announce themselves and reply; requests
//    are routed by service (and partition key) to workers with credit, queued (bounded) when
//    none has any, and answered by the broker itself when they cannot be delivered;
//  - an XSUB/XPUB relay for event streams;
//  - the service "broker" (ping, services, workers, stats), answered in vbroker_service.c.
//  The broker reads only the small request header, never the body, and moves zmq_msg_t frames
//  without copying; request state lives in a preallocated slot pool.
//  A reply is forwarded only when it is the one the slot waits for: its token is that of the
//  slot's current delivery, it comes from the worker that delivery went to, and it carries the
//  request's id. Anything else is dropped, counted and logged (rate-limited).
#include "vbroker_internal.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NONE  UINT32_MAX
#define BATCH 256

//  Slots a broker may hold (--max-requests): the slot index must fit its bits of the token.
#define MAX_SLOTS 4000000
_Static_assert(MAX_SLOTS <= 1u << VBUS_TOKEN_INDEX_BITS, "slot index does not fit the token");
#define TOKEN_INDEX_MASK ((1u << VBUS_TOKEN_INDEX_BITS) - 1)

enum { SLOT_FREE, SLOT_QUEUED, SLOT_INFLIGHT };

//  A request the broker holds, queued or in flight: one entry of the pool s_setup allocates.
struct slot_s {
    //  The token of the slot's latest delivery to a worker (layout in vbus_proto.h). 8 bytes
    //  hold the index (22 bits, for up to MAX_SLOTS), so the generation gets the 10 left of
    //  the first word: a late reply to this slot is refused for certain during the next 1,023
    //  deliveries of it, and after that by the 32 random bits (odds 2^-32) and the request id.
    //  The random part is also what keeps a peer that never saw a token from making one.
    uint8_t token[VBUS_TOKEN_SIZE];
    uint8_t state;
    bool answered;  //  the client already has its reply (timeout); await the worker's
    bool idempotent;
    bool has_payload;   //  the request frame is held here
    zmq_msg_t client;   //  the client's routing id (valid until answered)
    zmq_msg_t request;  //  header and body, as the client sent them
    uint64_t id;        //  the client's request id
    int64_t deadline;   //  epoch ms
    int64_t start_us;   //  monotonic, for latency
    int64_t partition;  //  -1 unkeyed
    service_t *service;
    worker_t *worker;
    uint32_t prev, next;  //  in the service queue or the worker's in-flight list
};

//  ---------------------------------------------------------------- helpers

//  Logs a drop at most once a second (a flood must not flood the log).
static void
s_log_rated (ratelog_t *log, const char *what, const char *why)
{
    log->since++;
    int64_t now = vbroker__mono_ms ();
    if (log->logged_at == 0 || now - log->logged_at >= 1000) {
        vbus_log ('W', WHO, "dropped %s: %s (%llu dropped since last report)", what, why,
                  (unsigned long long) log->since);
        log->logged_at = now;
        log->since = 0;
    }
}

//  Counts and logs a message that does not parse.
static void
s_malformed (broker_t *self, const char *why)
{
    self->malformed++;
    s_log_rated (&self->malformed_log, "malformed message", why);
}

//  Counts and logs a well-formed reply that answers nothing in flight at its worker: a bug
//  in the worker (a duplicate, a mixed-up id) or a peer that guesses tokens.
static void
s_refused_reply (broker_t *self, const char *why)
{
    self->drops++;
    s_log_rated (&self->refused_log, "reply", why);
}

//  Four random bytes. They come from the kernel's generator (getrandom), so a token does not
//  tell the next one, and in batches: one system call per 64 tokens, none per message.
//  getrandom fills up to 256 bytes whole and uninterrupted once its pool is ready, which
//  s_setup's first fill waited for; were it still to fail, the old bytes serve again and
//  tokens stay correct (index and generation), only less secret.
static uint32_t
s_random32 (broker_t *self)
{
    if (self->random_at + 4 > sizeof self->random) {
        if (getrandom (self->random, sizeof self->random, 0) != (ssize_t) sizeof self->random)
            vbus_log ('E', WHO, "getrandom failed: %s; reusing random bytes", strerror (errno));
        self->random_at = 0;
    }
    uint32_t r;
    memcpy (&r, self->random + self->random_at, sizeof r);
    self->random_at += sizeof r;
    return r;
}

//  ---------------------------------------------------------------- services and workers

static service_t *
s_service_find (broker_t *self, const void *name, size_t len)
{
    for (size_t i = 0; i < self->nservices; i++) {
        service_t *s = self->services[i];
        if (s->name_len == len && memcmp (s->name, name, len) == 0)
            return s;
    }
    return NULL;
}

static service_t *
s_service_require (broker_t *self, const char *name, size_t len, uint32_t partitions)
{
    service_t *s = s_service_find (self, name, len);
    if (s)
        return s;
    if (self->nservices == self->capservices) {
        size_t cap = self->capservices ? self->capservices * 2 : 16;
        service_t **services = realloc (self->services, cap * sizeof *services);
        if (!services)
            return NULL;
        self->services = services;
        self->capservices = cap;
    }
    s = calloc (1, sizeof *s);
    if (!s)
        return NULL;
    memcpy (s->name, name, len);
    s->name_len = len;
    s->partitions = partitions;
    s->queue_head = s->queue_tail = NONE;
    self->services[self->nservices++] = s;
    vbus_log ('I', WHO, "service '%s' registered (%u partitions)", s->name, partitions);
    return s;
}

static uint32_t
s_id_hash (const void *id, size_t len)
{
    return vbus_partition (id, len, WORKER_BUCKETS);
}

static worker_t *
s_worker_find (broker_t *self, const void *id, size_t len)
{
    for (worker_t *w = self->worker_hash[s_id_hash (id, len)]; w; w = w->hash_next)
        if (w->id_len == len && memcmp (w->id, id, len) == 0)
            return w;
    return NULL;
}

//  ---------------------------------------------------------------- slots

static uint32_t
s_slot_index (broker_t *self, slot_t *slot)
{
    return (uint32_t) (slot - self->slots);
}

static slot_t *
s_slot_alloc (broker_t *self)
{
    if (self->free_head == NONE)
        return NULL;
    slot_t *slot = &self->slots[self->free_head];
    self->free_head = slot->next;
    slot->state = SLOT_QUEUED;
    slot->answered = slot->idempotent = slot->has_payload = false;
    slot->worker = NULL;
    slot->prev = slot->next = NONE;
    zmq_msg_init (&slot->client);
    zmq_msg_init (&slot->request);
    return slot;
}

static void
s_slot_free (broker_t *self, slot_t *slot)
{
    zmq_msg_close (&slot->client);
    zmq_msg_close (&slot->request);
    vheap_remove (&self->deadlines, s_slot_index (self, slot));
    slot->state = SLOT_FREE;
    slot->next = self->free_head;
    self->free_head = s_slot_index (self, slot);
}

//  Intrusive doubly-linked lists through slot prev/next; head/tail by reference.
static void
s_list_push (broker_t *self, uint32_t *head, uint32_t *tail, slot_t *slot, bool front)
{
    uint32_t i = s_slot_index (self, slot);
    if (front) {
        slot->prev = NONE;
        slot->next = *head;
        if (*head != NONE)
            self->slots[*head].prev = i;
        *head = i;
        if (tail && *tail == NONE)
            *tail = i;
    }
    else {
        slot->next = NONE;
        slot->prev = *tail;
        if (*tail != NONE)
            self->slots[*tail].next = i;
        *tail = i;
        if (*head == NONE)
            *head = i;
    }
}

static void
s_list_remove (broker_t *self, uint32_t *head, uint32_t *tail, slot_t *slot)
{
    if (slot->prev != NONE)
        self->slots[slot->prev].next = slot->next;
    else
        *head = slot->next;
    if (slot->next != NONE)
        self->slots[slot->next].prev = slot->prev;
    else if (tail)
        *tail = slot->prev;
    slot->prev = slot->next = NONE;
}

//  ---------------------------------------------------------------- replies to clients

//  Sends [client][reply] to a client; the routing id is consumed. reply is the worker's reply
//  frame (moved) or, when NULL, one made of cmd + header + raw_body. Returns 0 or -1 (a drop).
static int
s_send_client (broker_t *self, zmq_msg_t *client, zmq_msg_t *reply, const char *header, size_t hlen,
               const void *raw_body, size_t raw_len)
{
    uint8_t cmd[4];
    vbus__cmd (cmd, VBUS_REPLY);
    if (zmq_msg_send (client, self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        self->drops++;
        return -1;
    }
    zmq_msg_t made;
    if (!reply) {
        if (vbus__frame (&made, cmd, 4, header, hlen, raw_body, raw_len) != 0)
            vbus__frame (&made, cmd, 4, header, hlen, NULL, 0);  //  at least the status
        reply = &made;
    }
    zmq_msg_send (reply, self->router, 0);
    return 0;
}

static void
s_count_status (broker_t *self, service_t *s, int status)
{
    if (status == VE_OK) {
        self->replies++;
        if (s)
            s->replies++;
        return;
    }
    self->errors++;
    if (!s)
        return;
    s->errors++;
    if (status == VE_TIMEOUT)
        s->timeouts++;
    else if (status == VE_BUSY)
        s->busy++;
    else if (status == VE_UNAVAILABLE)
        s->unavailable++;
}

//  Answers a request the broker itself could not deliver, from a client id and request id.
static void
s_answer_error (broker_t *self, zmq_msg_t *client, uint64_t id, service_t *s, int status,
                const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    char header[VBUS_MAX_HEADER];
    int hlen = vbus__reply_encode (id, status, message, strlen (message), header, sizeof header);
    s_count_status (self, s, status);
    s_send_client (self, client, NULL, header, (size_t) hlen, NULL, 0);
}

//  Answers a slot's request with an error and frees the slot (or, when a worker still has it,
//  marks it answered so the worker's late reply is dropped and its credit comes back then).
static void
s_slot_fail (broker_t *self, slot_t *slot, int status, const char *message)
{
    if (!slot->answered)
        s_answer_error (self, &slot->client, slot->id, slot->service, status, "%s", message);
    slot->answered = true;
    if (slot->state == SLOT_QUEUED) {
        service_t *s = slot->service;
        s_list_remove (self, &s->queue_head, &s->queue_tail, slot);
        s->queued--;
        s_slot_free (self, slot);
    }
    else
        vheap_remove (&self->deadlines, s_slot_index (self, slot));
}

//  ---------------------------------------------------------------- dispatch

//  Gives the slot a new token for its next delivery: the next generation and fresh random
//  bits. Each delivery gets its own, so a reply to an earlier one (before the slot was freed
//  and taken again, or before an idempotent request moved to another worker) never matches.
static void
s_slot_token_new (broker_t *self, slot_t *slot)
{
    uint32_t word[2];
    memcpy (word, slot->token, sizeof word);
    uint32_t gen = (word[0] >> VBUS_TOKEN_INDEX_BITS) + 1;  //  wraps within its 10 bits
    word[0] = s_slot_index (self, slot) | gen << VBUS_TOKEN_INDEX_BITS;
    word[1] = s_random32 (self);
    memcpy (slot->token, word, sizeof word);
}

//  Gives a slot's request to worker w: [worker][cmd token][request]. Returns 0, or -1 when w
//  is unreachable (the slot is untouched and the caller removes w).
static int
s_send_worker (broker_t *self, worker_t *w, slot_t *slot)
{
    uint8_t head[VBUS_CMD_SIZE + VBUS_TOKEN_SIZE];
    vbus__cmd (head, VBUS_REQUEST);
    if (zmq_send (self->router, w->id, w->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    s_slot_token_new (self, slot);
    memcpy (head + VBUS_CMD_SIZE, slot->token, VBUS_TOKEN_SIZE);
    zmq_send (self->router, head, sizeof head, ZMQ_SNDMORE);
    if (slot->idempotent) {
        //  Keep the request: it may have to go to another worker.
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, &slot->request);
        zmq_msg_send (&copy, self->router, 0);
    }
    else {
        zmq_msg_send (&slot->request, self->router, 0);
        slot->has_payload = false;
    }
    slot->state = SLOT_INFLIGHT;
    slot->worker = w;
    s_list_push (self, &w->inflight_head, NULL, slot, true);
    w->route.in_flight++;
    w->sent++;
    slot->service->in_flight++;
    return 0;
}

static void s_worker_remove (broker_t *self, worker_t *w, const char *why);

//  Tries to give slot to a worker of its service now. Returns true when dispatched.
static bool
s_try_dispatch (broker_t *self, slot_t *slot)
{
    service_t *s = slot->service;
    for (;;) {
        int i = vroute_pick ((vroute_worker_t *const *) s->workers, s->nworkers, slot->partition);
        if (i < 0)
            return false;
        worker_t *w = s->workers[i];
        if (s_send_worker (self, w, slot) == 0)
            return true;
        s_worker_remove (self, w, "unreachable");
    }
}

//  Dispatches queued requests of s, oldest first, while any worker has credit. A keyed
//  request whose partition's owners are all busy keeps its place; later ones may pass it.
//
//  Why it is shaped like this. It runs whenever credit may have appeared: a reply came back
//  (s_on_reply, when anything is queued), a worker joined (s_on_ready), or a request was
//  queued behind others (s_on_request: a new request goes straight to a worker only when the
//  queue is empty, so it never overtakes older ones). So it must be cheap when there is
//  nothing to do, and the queue may hold up to --queue requests:
//  - the loop's own test asks whether any worker has credit at all (partition -1); once none
//    has, the walk stops, instead of visiting every queued request to find each one blocked;
//  - a request is offered only when a worker that owns its partition has credit, so a keyed
//    request stuck on a busy partition does not hold up the unkeyed or other-keyed requests
//    behind it (no head-of-line blocking), while each partition still goes oldest first;
//  - next is read before the slot moves: dispatching unlinks it, and a failed dispatch
//    (every worker it tried was unreachable and is gone) puts it back at the front, where
//    s_worker_remove also puts the idempotent requests it retries: the oldest go first.
static void
s_drain_queue (broker_t *self, service_t *s)
{
    uint32_t i = s->queue_head;
    while (i != NONE && vroute_pick ((vroute_worker_t *const *) s->workers, s->nworkers, -1) >= 0) {
        slot_t *slot = &self->slots[i];
        uint32_t next = slot->next;
        if (vroute_pick ((vroute_worker_t *const *) s->workers, s->nworkers, slot->partition)
            >= 0) {
            s_list_remove (self, &s->queue_head, &s->queue_tail, slot);
            s->queued--;
            if (!s_try_dispatch (self, slot)) {
                s_list_push (self, &s->queue_head, &s->queue_tail, slot, true);
                s->queued++;
            }
        }
        i = next;
    }
}

//  ---------------------------------------------------------------- workers

static void
s_worker_remove (broker_t *self, worker_t *w, const char *why)
{
    service_t *s = w->service;
    vbus_log ('I', WHO, "worker %s of '%s' removed: %s (%u in flight)", w->name, s->name, why,
              w->route.in_flight);
    //  Unlink from the hash and the service first, so retries cannot pick it.
    worker_t **pp = &self->worker_hash[s_id_hash (w->id, w->id_len)];
    while (*pp != w)
        pp = &(*pp)->hash_next;
    *pp = w->hash_next;
    for (size_t i = 0; i < s->nworkers; i++)
        if (s->workers[i] == w) {
            s->workers[i] = s->workers[--s->nworkers];
            break;
        }
    //  Its requests: retried elsewhere when idempotent, else answered unavailable.
    uint32_t i = w->inflight_head;
    while (i != NONE) {
        slot_t *slot = &self->slots[i];
        i = slot->next;
        s->in_flight--;
        slot->worker = NULL;
        if (!slot->answered && slot->idempotent && slot->has_payload) {
            slot->state = SLOT_QUEUED;
            if (!s_try_dispatch (self, slot)) {
                s_list_push (self, &s->queue_head, &s->queue_tail, slot, true);
                s->queued++;
            }
            continue;
        }
        if (!slot->answered)
            s_answer_error (self, &slot->client, slot->id, s, VE_UNAVAILABLE,
                            "worker %s of '%s' %s with the request in hand", w->name, s->name,
                            strcmp (why, "leaving") == 0 ? "left" : "died");
        s_slot_free (self, slot);
    }
    free (w);
}

static void
s_send_worker_cmd (broker_t *self, const void *id, size_t id_len, int command, const void *extra,
                   size_t extra_len)
{
    uint8_t cmd[4];
    vbus__cmd (cmd, command);
    if (zmq_send (self->router, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        self->drops++;
        return;
    }
    zmq_send (self->router, cmd, 4, extra ? ZMQ_SNDMORE : 0);
    if (extra)
        zmq_send (self->router, extra, extra_len, 0);
}

static void
s_on_ready (broker_t *self, zmq_msg_t *frames)
{
    const void *id = zmq_msg_data (&frames[0]);
    size_t id_len = zmq_msg_size (&frames[0]);
    const char *name = (const char *) zmq_msg_data (&frames[1]) + VBUS_CMD_SIZE;
    size_t name_len = zmq_msg_size (&frames[1]) - VBUS_CMD_SIZE;
    if (!vbus__name_ok (name, name_len, VBUS_MAX_SERVICE) || id_len > MAX_ID) {
        s_malformed (self, "READY with a bad service name");
        return;
    }
    worker_t *w = calloc (1, sizeof *w);
    if (!w)
        return;
    vbus__ready_t ready;
    bool all;
    int rc = vbus__ready_decode (zmq_msg_data (&frames[2]), zmq_msg_size (&frames[2]), &ready,
                                 w->bits, sizeof w->bits, &all);
    if (rc) {
        free (w);
        s_malformed (self, "READY payload");
        return;
    }
    worker_t *old = s_worker_find (self, id, id_len);
    if (old)
        s_worker_remove (self, old, "announced itself again");
    service_t *s = s_service_require (self, name, name_len, ready.partitions);
    if (!s) {
        free (w);
        return;
    }
    if (s->nworkers == 0)
        s->partitions = ready.partitions;
    if (ready.partitions != s->partitions) {
        vbus_log ('E', WHO, "worker of '%s' says %u partitions, the service has %u: refused",
                  s->name, ready.partitions, s->partitions);
        free (w);
        s_send_worker_cmd (self, id, id_len, VBUS_DISCONNECT, NULL, 0);
        return;
    }
    if (s->nworkers == s->capworkers) {
        size_t cap = s->capworkers ? s->capworkers * 2 : 8;
        worker_t **workers = realloc (s->workers, cap * sizeof *workers);
        if (!workers) {
            free (w);
            return;
        }
        s->workers = workers;
        s->capworkers = cap;
    }
    memcpy (w->id, id, id_len);
    w->id_len = id_len;
    w->service = s;
    w->route = (vroute_worker_t) { .credit = ready.credit, .all = all, .bits = w->bits };
    snprintf (w->name, sizeof w->name, "%.*s", (int) ready.name_len, ready.name);
    w->heartbeat_ms = (int) ready.heartbeat_ms;
    w->last_seen = vbroker__mono_ms ();
    w->next_heartbeat = w->last_seen + w->heartbeat_ms;
    w->inflight_head = NONE;
    uint32_t h = s_id_hash (id, id_len);
    w->hash_next = self->worker_hash[h];
    self->worker_hash[h] = w;
    s->workers[s->nworkers++] = w;
    vbus_log ('I', WHO, "worker %s joined '%s' (credit %u, %s partitions)", w->name, s->name,
              ready.credit, all ? "all" : "some");
    s_drain_queue (self, s);
}

static void
s_on_reply (broker_t *self, worker_t *w, zmq_msg_t *frames)
{
    const uint8_t *token = (const uint8_t *) zmq_msg_data (&frames[1]) + VBUS_CMD_SIZE;
    uint32_t index;
    memcpy (&index, token, sizeof index);
    index &= TOKEN_INDEX_MASK;
    uint64_t id;
    int status;
    const char *msg;
    uint32_t msg_len;
    size_t used;
    if (index >= self->max_slots
        || vbus__reply_decode ((const char *) zmq_msg_data (&frames[2]) + VBUS_CMD_SIZE,
                               zmq_msg_size (&frames[2]) - VBUS_CMD_SIZE, &id, &status, &msg,
                               &msg_len, &used)
               != 0) {
        s_malformed (self, "REPLY header");
        return;
    }
    slot_t *slot = &self->slots[index];
    //  One comparison of the whole token (generation and random part together): as two,
    //  each would hide the other's loss from every test.
    if (slot->state != SLOT_INFLIGHT || slot->worker != w
        || memcmp (token, slot->token, VBUS_TOKEN_SIZE) != 0) {
        s_refused_reply (self, "its token is of no request in flight at its worker");
        return;
    }
    if (id != slot->id) {
        s_refused_reply (self, "its id is not its request's");
        return;  //  the slot still waits: for the right reply, or its deadline
    }
    service_t *s = w->service;
    s_list_remove (self, &w->inflight_head, NULL, slot);
    w->route.in_flight--;
    w->handled++;
    s->in_flight--;
    if (!slot->answered) {
        s_count_status (self, s, status);
        vhist_add (&s->latency, (uint64_t) (vbus_mono_us () - slot->start_us));
        s_send_client (self, &slot->client, &frames[2], NULL, 0, NULL, 0);
    }
    else
        self->drops++;  //  late: the client already got a timeout
    s_slot_free (self, slot);
    if (w->route.draining && w->route.in_flight == 0)
        s_worker_remove (self, w, "leaving");
    else if (s->queued)
        s_drain_queue (self, s);
}

//  ---------------------------------------------------------------- the broker service

//  Answers a request to the service "broker" (vbroker__service says what), counted and sent
//  as every other answer the broker makes itself.
static void
s_broker_service (broker_t *self, zmq_msg_t *client, const vbus__header_t *h, const void *body,
                  size_t body_len)
{
    char storage[8192];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    const char *error = "";
    int status = vbroker__service (self, h, body, body_len, &buf, &error);
    char header[VBUS_MAX_HEADER];
    int hlen = vbus__reply_encode (h->id, status, error, strlen (error), header, sizeof header);
    s_count_status (self, NULL, status);
    s_send_client (self, client, NULL, header, (size_t) hlen, status == VE_OK ? buf.data : NULL,
                   status == VE_OK ? buf.len : 0);
    vbuf_free (&buf);
}

//  A client's REQUEST: [id][cmd header body].
static void
s_on_request (broker_t *self, zmq_msg_t *frames)
{
    vbus__header_t h;
    size_t used;
    const char *data = (const char *) zmq_msg_data (&frames[1]) + VBUS_CMD_SIZE;
    size_t size = zmq_msg_size (&frames[1]) - VBUS_CMD_SIZE;
    if (vbus__header_decode (&h, data, size, &used) != 0) {
        s_malformed (self, "request header");
        return;
    }
    self->requests++;
    const char *name = h.service;
    size_t name_len = h.service_len;
    if (!vbus__name_ok (name, name_len, VBUS_MAX_SERVICE)) {
        s_answer_error (self, &frames[0], h.id, NULL, VE_BAD_REQUEST,
                        "service name: 1..%d characters of a-z 0-9 _ -", VBUS_MAX_SERVICE);
        return;
    }
    if (name_len == 6 && memcmp (name, "broker", 6) == 0) {
        s_broker_service (self, &frames[0], &h, data + used, size - used);
        return;
    }
    service_t *s = s_service_find (self, name, name_len);
    if (!s) {
        s_answer_error (self, &frames[0], h.id, NULL, VE_UNAVAILABLE, "unknown service '%.*s'",
                        (int) name_len, name);
        return;
    }
    s->requests++;
    if (h.deadline_ms <= vbus_now_ms ()) {
        s_answer_error (self, &frames[0], h.id, s, VE_TIMEOUT, "deadline passed before routing");
        return;
    }
    if (h.partition >= (int64_t) s->partitions) {
        s_answer_error (self, &frames[0], h.id, s, VE_BAD_REQUEST,
                        "partition %lld: '%s' has %u partitions", (long long) h.partition, s->name,
                        s->partitions);
        return;
    }
    slot_t *slot = s->queued < self->max_queue ? s_slot_alloc (self) : NULL;
    if (!slot) {
        s_answer_error (self, &frames[0], h.id, s, VE_BUSY, "queue of '%s' is full (%zu)", s->name,
                        s->queued);
        return;
    }
    zmq_msg_move (&slot->client, &frames[0]);
    zmq_msg_move (&slot->request, &frames[1]);
    slot->has_payload = true;
    slot->service = s;
    slot->id = h.id;
    slot->deadline = h.deadline_ms;
    slot->start_us = vbus_mono_us ();
    slot->idempotent = (h.flags & VBUS_FLAG_IDEMPOTENT) != 0;
    slot->partition = h.partition >= 0 ? h.partition
                      : h.key          ? (int64_t) vbus_partition (h.key, h.key_len, s->partitions)
                                       : -1;
    vheap_push (&self->deadlines, s_slot_index (self, slot), slot->deadline);
    if (s->queued == 0 && s_try_dispatch (self, slot))
        return;
    s_list_push (self, &s->queue_head, &s->queue_tail, slot, false);
    s->queued++;
    if (s->queued > 1)
        s_drain_queue (self, s);
}

static void
s_on_router (broker_t *self, zmq_msg_t *frames, int count)
{
    if (count < 2 || count > VBUS_MAX_FRAMES) {
        s_malformed (self, "frame count");
        return;
    }
    int command = vbus__cmd_parse (zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]));
    size_t arg_len = zmq_msg_size (&frames[1]) - (command > 0 ? VBUS_CMD_SIZE : 0);
    worker_t *w = s_worker_find (self, zmq_msg_data (&frames[0]), zmq_msg_size (&frames[0]));
    if (w)
        w->last_seen = vbroker__mono_ms ();
    if (command > 0 && command != VBUS_REQUEST && command != VBUS_READY && command != VBUS_REPLY
        && arg_len != 0) {
        s_malformed (self, "command frame with an argument it does not take");
        return;
    }
    switch (command) {
    case VBUS_REQUEST:
        if (count == 2)
            s_on_request (self, frames);
        else
            s_malformed (self, "REQUEST frames");
        return;
    case VBUS_READY:
        if (count == 3)
            s_on_ready (self, frames);
        else
            s_malformed (self, "READY frames");
        return;
    case VBUS_REPLY:
        if (count != 3 || arg_len != VBUS_TOKEN_SIZE
            || vbus__cmd_parse (zmq_msg_data (&frames[2]), zmq_msg_size (&frames[2])) != VBUS_REPLY)
            s_malformed (self, "REPLY frames");
        else if (w)
            s_on_reply (self, w, frames);
        else {
            self->drops++;
            s_send_worker_cmd (self, zmq_msg_data (&frames[0]), zmq_msg_size (&frames[0]),
                               VBUS_DISCONNECT, NULL, 0);
        }
        return;
    case VBUS_HEARTBEAT:
        if (count != 2)
            s_malformed (self, "HEARTBEAT frames");
        else if (!w)  //  we do not know it (we restarted): ask it to announce itself again
            s_send_worker_cmd (self, zmq_msg_data (&frames[0]), zmq_msg_size (&frames[0]),
                               VBUS_DISCONNECT, NULL, 0);
        return;
    case VBUS_DISCONNECT:
        if (count != 2)
            s_malformed (self, "DISCONNECT frames");
        else if (w && !w->route.draining) {
            w->route.draining = true;
            char sent[16];
            vbuf_t buf;
            vbuf_init (&buf, sent, sizeof sent);
            msgpack_packer pk;
            vmp_packer_init (&pk, &buf);
            msgpack_pack_uint64 (&pk, w->sent);
            s_send_worker_cmd (self, w->id, w->id_len, VBUS_DISCONNECT, buf.data, buf.len);
            vbus_log ('I', WHO, "worker %s of '%s' is leaving (%u in flight)", w->name,
                      w->service->name, w->route.in_flight);
            if (w->route.in_flight == 0)
                s_worker_remove (self, w, "leaving");
        }
        return;
    default: s_malformed (self, "command frame (tag, version or command)");
    }
}

//  ---------------------------------------------------------------- timers

static void
s_expire (broker_t *self)
{
    int64_t now = vbus_now_ms ();
    uint32_t i;
    int64_t key;
    while (vheap_top (&self->deadlines, &i, &key) && key <= now) {
        slot_t *slot = &self->slots[i];
        service_t *s = slot->service;
        if (slot->state == SLOT_QUEUED
            && !vroute_covered ((vroute_worker_t *const *) s->workers, s->nworkers,
                                slot->partition)) {
            char message[160];
            snprintf (message, sizeof message, "no worker of '%s'%s within the deadline", s->name,
                      slot->partition >= 0 ? " for this key" : "");
            s_slot_fail (self, slot, VE_UNAVAILABLE, message);
        }
        else
            s_slot_fail (self, slot, VE_TIMEOUT,
                         slot->state == SLOT_QUEUED ? "deadline passed in the queue"
                                                    : "deadline passed at the worker");
    }
}

static void
s_tick (broker_t *self)
{
    int64_t now = vbroker__mono_ms ();
    for (size_t i = 0; i < self->nservices; i++) {
        service_t *s = self->services[i];
        for (size_t j = 0; j < s->nworkers;) {
            worker_t *w = s->workers[j];
            if (now - w->last_seen > 3 * (int64_t) w->heartbeat_ms) {
                s_worker_remove (self, w, "silent for 3 heartbeats");
                continue;  //  the last worker moved into slot j
            }
            if (now >= w->next_heartbeat) {
                s_send_worker_cmd (self, w->id, w->id_len, VBUS_HEARTBEAT, NULL, 0);
                w->next_heartbeat = now + w->heartbeat_ms;
            }
            j++;
        }
    }
}

//  ---------------------------------------------------------------- events

static void
s_relay_events (broker_t *self)
{
    zmq_msg_t frames[VBUS_MAX_FRAMES + 1];
    for (int n = 0; n < BATCH; n++) {
        int count = vbus__recv (self->xsub, frames, VBUS_MAX_FRAMES, ZMQ_DONTWAIT);
        if (count < 0)
            return;
        int kept = count > VBUS_MAX_FRAMES ? VBUS_MAX_FRAMES : count;
        if (count != 3 || zmq_msg_size (&frames[0]) > 128 || zmq_msg_size (&frames[0]) == 0
            || vmp_check (zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]), 2) != 0) {
            s_malformed (self, "event frames");
            vbus__close (frames, kept);
            continue;
        }
        self->events_in++;
        //  XPUB_NODROP: a full subscriber makes the send fail rather than vanish silently.
        if (zmq_msg_send (&frames[0], self->xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            self->events_dropped++;
            vbus__close (frames, 3);
            continue;
        }
        zmq_msg_send (&frames[1], self->xpub, ZMQ_SNDMORE);
        zmq_msg_send (&frames[2], self->xpub, 0);
        self->events_out++;
    }
}

static void
s_relay_subscriptions (broker_t *self)
{
    for (int n = 0; n < BATCH; n++) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->xpub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return;
        }
        zmq_msg_send (&msg, self->xsub, ZMQ_DONTWAIT);
        zmq_msg_close (&msg);
    }
}

//  ---------------------------------------------------------------- main loop

//  Creates a socket with the broker's options and binds it. Options must come before the
//  bind: a listener copies them when it is made, and accepted connections get that copy.
static int
s_bind (broker_t *self, zsock_t **sock, void **handle, int type, const char *endpoint,
        const char *what)
{
    *sock = zsock_new (type);
    if (!*sock)
        return -1;
    *handle = zsock_resolve (*sock);
    int on = 1, hwm = 100000;
    zsock_set_linger (*sock, 0);
    zmq_setsockopt (*handle, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (*handle, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (*handle, ZMQ_MAXMSGSIZE, &self->max_msg, sizeof self->max_msg);
    if (type == ZMQ_ROUTER) {
        zmq_setsockopt (*handle, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
        zmq_setsockopt (*handle, ZMQ_ROUTER_HANDOVER, &on, sizeof on);
    }
    if (type == ZMQ_XPUB)
        zmq_setsockopt (*handle, ZMQ_XPUB_NODROP, &on, sizeof on);
    if (zsock_bind (*sock, "%s", endpoint) < 0) {
        vbus_log ('E', WHO, "cannot bind %s endpoint '%s': %s", what, endpoint,
                  zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

static int
s_setup (broker_t *self)
{
    if (s_bind (self, &self->router_sock, &self->router, ZMQ_ROUTER, self->bind, "request")
        || s_bind (self, &self->xsub_sock, &self->xsub, ZMQ_XSUB, self->pub_bind, "publish")
        || s_bind (self, &self->xpub_sock, &self->xpub, ZMQ_XPUB, self->sub_bind, "subscribe"))
        return -1;
    self->slots = calloc (self->max_slots, sizeof *self->slots);
    if (!self->slots || vheap_reserve (&self->deadlines, self->max_slots))
        return -1;
    //  The first fill may wait for the kernel's pool at boot; later ones never do.
    if (getrandom (self->random, sizeof self->random, 0) != (ssize_t) sizeof self->random) {
        vbus_log ('E', WHO, "getrandom failed: %s", strerror (errno));
        return -1;
    }
    for (uint32_t i = self->max_slots; i-- > 0;) {
        self->slots[i].next = self->free_head;
        self->free_head = i;
    }
    self->started_ms = vbroker__mono_ms ();
    return 0;
}

static void
s_shutdown (broker_t *self)
{
    //  Nobody is left waiting: every pending request gets an answer before we go.
    for (uint32_t i = 0; self->slots && i < self->max_slots; i++) {
        slot_t *slot = &self->slots[i];
        if (slot->state != SLOT_FREE && !slot->answered)
            s_answer_error (self, &slot->client, slot->id, slot->service, VE_UNAVAILABLE,
                            "broker shutting down");
        if (slot->state != SLOT_FREE) {
            zmq_msg_close (&slot->client);
            zmq_msg_close (&slot->request);
        }
    }
    for (size_t i = 0; i < self->nservices; i++) {
        service_t *s = self->services[i];
        for (size_t j = 0; j < s->nworkers; j++)
            free (s->workers[j]);
        free (s->workers);
        free (s);
    }
    free (self->services);
    free (self->slots);
    vheap_free (&self->deadlines);
    zsock_destroy (&self->router_sock);
    zsock_destroy (&self->xsub_sock);
    zsock_destroy (&self->xpub_sock);
}

static void
s_run (broker_t *self)
{
    zmq_pollitem_t items[3] = { { self->router, 0, ZMQ_POLLIN, 0 },
                                { self->xsub, 0, ZMQ_POLLIN, 0 },
                                { self->xpub, 0, ZMQ_POLLIN, 0 } };
    zmq_msg_t frames[VBUS_MAX_FRAMES + 1];
    self->next_tick = vbroker__mono_ms ();
    while (!zsys_interrupted) {
        int64_t timeout = self->next_tick - vbroker__mono_ms ();
        uint32_t slot;
        int64_t deadline;
        if (vheap_top (&self->deadlines, &slot, &deadline)) {
            int64_t left = deadline - vbus_now_ms ();
            if (left < timeout)
                timeout = left;
        }
        if (timeout < 0)
            timeout = 0;
        if (zmq_poll (items, 3, (long) timeout) < 0) {
            if (errno == EINTR)
                continue;
            vbus_log ('E', WHO, "poll failed: %s", zmq_strerror (errno));
            break;
        }
        if (items[0].revents & ZMQ_POLLIN)
            for (int n = 0; n < BATCH; n++) {
                int count = vbus__recv (self->router, frames, VBUS_MAX_FRAMES, ZMQ_DONTWAIT);
                if (count < 0)
                    break;
                s_on_router (self, frames, count);
                vbus__close (frames, count > VBUS_MAX_FRAMES ? VBUS_MAX_FRAMES : count);
            }
        if (items[1].revents & ZMQ_POLLIN)
            s_relay_events (self);
        if (items[2].revents & ZMQ_POLLIN)
            s_relay_subscriptions (self);
        s_expire (self);
        if (vbroker__mono_ms () >= self->next_tick) {
            s_tick (self);
            self->next_tick = vbroker__mono_ms () + 20;
        }
    }
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: vitrine-broker [options]\n"
                  "  --bind EP         request endpoint (default tcp://127.0.0.1:7700; env "
                  "VITRINE_BROKER_BIND)\n"
                  "  --pub-bind EP     publish-in endpoint (default: request port + 1)\n"
                  "  --sub-bind EP     subscribe-out endpoint (default: request port + 2)\n"
                  "  --queue N         queued requests per service before 'busy' (default 10000)\n"
                  "  --max-requests N  requests held at once, queued or in flight (default 65536)\n"
                  "  --max-msg BYTES   largest message accepted (default 16777216)\n"
                  "  --log-level L     D, I, W or E (default I)\n");
}

int
main (int argc, char **argv)
{
    broker_t self = {
        .max_queue = 10000, .max_slots = 65536, .max_msg = VBUS_MAX_MESSAGE, .free_head = NONE
    };
    self.bind = getenv ("VITRINE_BROKER_BIND");
    if (!self.bind)
        self.bind = "tcp://127.0.0.1:7700";
    static const struct option opts[] = {
        { "bind", 1, 0, 'b' },      { "pub-bind", 1, 0, 'p' },     { "sub-bind", 1, 0, 's' },
        { "queue", 1, 0, 'q' },     { "max-requests", 1, 0, 'r' }, { "max-msg", 1, 0, 'm' },
        { "log-level", 1, 0, 'l' }, { "help", 0, 0, 'h' },         { 0, 0, 0, 0 }
    };
    int c;
    long v;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': self.bind = optarg; break;
        case 'p': self.pub_bind = optarg; break;
        case 's': self.sub_bind = optarg; break;
        case 'q':
            if (vbus_arg_long ("vitrine-broker", "--queue", optarg, 1, 1000000, &v))
                return 2;
            self.max_queue = (size_t) v;
            break;
        case 'r':
            if (vbus_arg_long ("vitrine-broker", "--max-requests", optarg, 16, MAX_SLOTS, &v))
                return 2;
            self.max_slots = (uint32_t) v;
            break;
        case 'm':
            if (vbus_arg_long ("vitrine-broker", "--max-msg", optarg, 4096, 1L << 30, &v))
                return 2;
            self.max_msg = v;
            break;
        case 'l':
            if (strlen (optarg) != 1 || !strchr ("DIWE", optarg[0])) {
                fprintf (stderr, "vitrine-broker: --log-level: expected D, I, W or E\n");
                return 2;
            }
            vbus_log_level (optarg[0]);
            break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "vitrine-broker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char pub[256], sub[256];
    if (!self.pub_bind || !self.sub_bind) {
        if (vbus_endpoint_offset (self.bind, 1, pub, sizeof pub)
            || vbus_endpoint_offset (self.bind, 2, sub, sizeof sub)) {
            fprintf (stderr,
                     "vitrine-broker: --bind '%s' is not tcp://host:port or ipc://path; give "
                     "--pub-bind and --sub-bind too\n",
                     self.bind);
            return 2;
        }
        if (!self.pub_bind)
            self.pub_bind = pub;
        if (!self.sub_bind)
            self.sub_bind = sub;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    if (s_setup (&self) != 0) {
        s_shutdown (&self);
        return 1;
    }
    vbus_log ('I', WHO,
              "listening: requests %s, publish %s, subscribe %s (queue %zu, "
              "max requests %u)",
              self.bind, self.pub_bind, self.sub_bind, self.max_queue, self.max_slots);
    s_run (&self);
    vbus_log ('I', WHO,
              "stopping: %llu requests, %llu replies, %llu errors, %llu drops, "
              "%llu malformed",
              (unsigned long long) self.requests, (unsigned long long) self.replies,
              (unsigned long long) self.errors, (unsigned long long) self.drops,
              (unsigned long long) self.malformed);
    s_shutdown (&self);
    return 0;
}
