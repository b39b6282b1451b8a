//  vactor.c — the actor runtime (see vactor.h): config, stores, the request path with its
//  commit-before-reply rule, the transactional outbox with replay, the stream consumer with
//  exactly-once offsets, stats, and a clean stop.
#include "vactor.h"
#include "vhist.h"
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_SETTINGS 64
#define REPLAY_PAGE  500
#define TRIM_WALK     1000  //  outbox events a housekeeping round looks at for their age
#define CONSUME_BATCH 512  //  events in one consumer commit at most
#define S_TOPIC_MAX   128  //  bytes of a topic or family the consumer subscribes to
#define S_STOP_CALLS_MS 5000  //  at a stop, how long calls still out may take to come back

enum { KIND_METHOD, KIND_REPLAY, KIND_STATS };

typedef struct {
    vactor_t *actor;
    int kind;
    const vactor_method_t *method;  //  KIND_METHOD
    const vmsg_method_t *schema;    //  request/reply schemas and role
    const char *name;
    uint64_t calls, errors;
    vhist_t latency;
} s_binding_t;

typedef struct {
    uint32_t partition;
    vstore_t *store;
    uint64_t next_seq;   //  the next outbox sequence number to give
    uint64_t published;  //  the highest one published
    uint64_t marked;     //  the published mark last written to the store
    uint64_t kept;       //  the oldest sequence number the outbox still holds (0: not known)
    bool dirty;          //  holds commits not yet fsync'ed (group commit)
} s_part_t;

typedef struct {
    s_part_t *part;
    uint64_t seq;
    char *topic;
    void *body;
    size_t len;
} s_pending_t;

//  A consumer's position in a stream: in the whole stream (topic "", for the families it takes
//  whole), or in one topic of it (a topic it takes alone, see s_subscriptions).
typedef struct {
    char stream[129];
    char topic[129];
    uint64_t applied;    //  the last sequence number applied (maybe staged in cbatch only)
    uint64_t committed;  //  the last one committed: applied != committed while staged
    bool unsaved;        //  made from the stream's position, not stored yet
} s_offset_t;

//  A reply or an event waiting for the group commit's fsync (s_flush). Heap copies: the call's
//  arena and the worker's reply buffer are gone by then.
typedef struct {
    s_part_t *part;  //  an event: its partition; a reply: NULL
    uint64_t seq;
    char *topic;
    vbus_defer_t defer;  //  a reply: where it goes
    int status;
    char *message;
    void *body;
    size_t len;
} s_held_t;

//  An asynchronous call's callback and its argument (vactor_send).
typedef struct {
    vactor_t *actor;
    vactor_reply_fn *fn;
    void *arg;
} s_async_t;

//  A call to another actor waiting for the group commit's fsync: it must not leave before the
//  state that made it is durable (a saga's next step after its stored progress).
typedef struct {
    char service[VBUS_MAX_SERVICE + 1], method[VBUS_MAX_METHOD + 1];
    char key[VBUS_MAX_KEY + 1], trace[VBUS_MAX_TRACE + 1], user[VBUS_MAX_USER + 1];
    vbus_opts_t opts;  //  its pointers are re-aimed at the copies above when it is sent
    vbus_caller_t caller;
    bool has_key, has_trace;
    void *body;
    size_t len;
    s_async_t *async;
} s_send_t;

struct vactor_s {
    const vactor_def_t *def;
    const char *service;  //  the name it registers under (setting "service", else the def's)
    char *keys[MAX_SETTINGS];
    char *values[MAX_SETTINGS];
    size_t nsettings;
    const char *broker;
    uint32_t partitions;
    uint32_t *owned;
    size_t nowned;
    s_part_t *parts;
    int cf_outbox, cf_offsets, cf_meta;
    vbus_worker_t *worker;
    vbus_pub_t *pub;
    vbus_client_t *client;
    vbus_sub_t *sub;
    varena_t *arena;
    vstore_batch_t *batch;
    s_pending_t *pending;
    size_t npending, cappending;
    int64_t (*clock) (void *arg);
    void *clock_arg;
    long clock_offset;
    void *state;
    s_binding_t *bindings;
    size_t nbindings;
    long outbox_keep;
    long outbox_keep_ms;
    int64_t started_ms;
    s_offset_t **offsets;  //  one per stream seen; each allocated alone, so a pointer to one
    size_t noffsets, capoffsets;  //  stays good while more are added
    uint64_t events_received, events_applied, gaps, gaps_filled;
    //  The consumer's batch: many events, one commit (s_consume_commit); indexed, so that an
    //  event's handler reads what the events before it in the batch wrote.
    vstore_batch_t *cbatch;
    uint64_t events_staged;  //  applied into cbatch, not committed yet
    int wake_fd;        //  eventfd behind vactor_wake and the worker's watch
    atomic_bool woken;  //  set after each write to wake_fd: read it only then
    //  Group commit: synced writes commit without fsync and set dirty; every reply and event
    //  from then on waits in held until s_flush has fsync'ed each dirty store once.
    bool dirty;
    s_held_t *held;
    size_t nheld, capheld;
    s_send_t *sends;  //  vactor_send calls held behind the same fsync
    size_t nsends, capsends;
    uint64_t syncs, synced_commits;
    vstore_syncer_t *syncer;  //  syncs the dirty partitions in parallel (more than one owned)
    bool in_call;             //  a handler or a transaction is running (they do not nest)
    bool holding;             //  a call is in progress: vactor_reply holds (see s_call)
    bool check_replies;       //  validate every reply against its schema (debug, tests)
    varena_t *txn_arena;      //  vactor_txn's memory
    vbus_client_t *async;     //  vactor_send's client (made on first use)
};

static const char *const s_common_keys[] = {
    "broker",          "data",   "partitions",   "owns",        "name",
    "log_level",       "credit", "heartbeat_ms", "outbox_keep", "outbox_keep_ms",
    "clock_offset_ms", "follow", "service",      NULL
};

//  ---------------------------------------------------------------- config

static int
s_set (vactor_t *self, const char *key, size_t klen, const char *value)
{
    bool known = false;
    for (const char *const *k = s_common_keys; *k && !known; k++)
        known = strlen (*k) == klen && strncmp (*k, key, klen) == 0;
    for (const char *const *k = self->def->config_keys; k && *k && !known; k++)
        known = strlen (*k) == klen && strncmp (*k, key, klen) == 0;
    if (!known) {
        fprintf (stderr, "vitrine-%s: unknown setting '%.*s'\n", self->def->service, (int) klen,
                 key);
        return -VE_CONFIG;
    }
    for (size_t i = 0; i < self->nsettings; i++)
        if (strlen (self->keys[i]) == klen && strncmp (self->keys[i], key, klen) == 0) {
            free (self->values[i]);
            self->values[i] = strdup (value);
            return 0;
        }
    if (self->nsettings == MAX_SETTINGS)
        return -VE_CONFIG;
    self->keys[self->nsettings] = strndup (key, klen);
    self->values[self->nsettings++] = strdup (value);
    return 0;
}

//  vbus_config_file's callback.
static int
s_set_line (void *self, const char *key, size_t klen, const char *value)
{
    return s_set (self, key, klen, value);
}

const char *
vactor_config (const vactor_t *self, const char *key)
{
    for (size_t i = 0; i < self->nsettings; i++)
        if (strcmp (self->keys[i], key) == 0)
            return self->values[i];
    return NULL;
}

int
vactor_config_long (const vactor_t *self, const char *key, long min, long max, long dflt, long *out)
{
    const char *v = vactor_config (self, key);
    char program[64];
    snprintf (program, sizeof program, "vitrine-%s", self->def->service);
    if (!v) {
        *out = dflt;
        return 0;
    }
    return vbus_arg_long (program, key, v, min, max, out);
}

//  Parses the flags over the file's settings. Returns 0 or -VE_CONFIG (message printed).
static int
s_configure (vactor_t *self, int argc, char **argv)
{
    static const struct option opts[] = { { "config", 1, 0, 'c' },    { "broker", 1, 0, 'b' },
                                          { "data", 1, 0, 'd' },      { "partitions", 1, 0, 'p' },
                                          { "owns", 1, 0, 'o' },      { "name", 1, 0, 'n' },
                                          { "log-level", 1, 0, 'l' }, { "set", 1, 0, 's' },
                                          { "help", 0, 0, 'h' },      { 0, 0, 0, 0 } };
    //  The file first, so flags override it.
    char program[64];
    snprintf (program, sizeof program, "vitrine-%s", self->def->service);
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp (argv[i], "--config") == 0
            && vbus_config_file (program, argv[i + 1], s_set_line, self))
            return -VE_CONFIG;
    int c, rc = 0;
    optind = 1;
    while (rc == 0 && (c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': break;
        case 'b': rc = s_set (self, "broker", 6, optarg); break;
        case 'd': rc = s_set (self, "data", 4, optarg); break;
        case 'p': rc = s_set (self, "partitions", 10, optarg); break;
        case 'o': rc = s_set (self, "owns", 4, optarg); break;
        case 'n': rc = s_set (self, "name", 4, optarg); break;
        case 'l': rc = s_set (self, "log_level", 9, optarg); break;
        case 's': {
            const char *eq = strchr (optarg, '=');
            if (!eq) {
                fprintf (stderr, "vitrine-%s: --set: expected key=value\n", self->def->service);
                return -VE_CONFIG;
            }
            rc = s_set (self, optarg, (size_t) (eq - optarg), eq + 1);
            break;
        }
        case 'h':
        default:
            fprintf (stderr,
                     "usage: vitrine-%s [--config FILE] [--broker EP] [--data DIR] "
                     "[--partitions P] [--owns 0,3] [--name NAME] [--log-level L] "
                     "[--set key=value]\n",
                     self->def->service);
            return -VE_CONFIG;
        }
    }
    if (rc)
        return rc;
    if (optind < argc) {
        fprintf (stderr, "vitrine-%s: unexpected argument '%s'\n", self->def->service,
                 argv[optind]);
        return -VE_CONFIG;
    }
    //  Defaults from the environment.
    if (!vactor_config (self, "broker"))
        s_set (self, "broker", 6,
               getenv ("VITRINE_BROKER") ? getenv ("VITRINE_BROKER") : "tcp://127.0.0.1:7700");
    if (!vactor_config (self, "data"))
        s_set (self, "data", 4,
               getenv ("VITRINE_DATA") ? getenv ("VITRINE_DATA") : ".vitrine/data");
    self->broker = vactor_config (self, "broker");
    self->service =
        vactor_config (self, "service") ? vactor_config (self, "service") : self->def->service;
    long p, v;
    if (vactor_config_long (self, "partitions", 1, VBUS_MAX_PARTITIONS,
                            self->def->partitions ? self->def->partitions : 1, &p)
        || vactor_config_long (self, "outbox_keep", 1, 1L << 40, 1000000, &self->outbox_keep)
        || vactor_config_long (self, "outbox_keep_ms", 1000, 1L << 40, 7L * 86400 * 1000,
                               &self->outbox_keep_ms)
        || vactor_config_long (self, "clock_offset_ms", -(1L << 40), 1L << 40, 0,
                               &self->clock_offset)
        || vactor_config_long (self, "credit", 1, 100000, 64, &v)
        || vactor_config_long (self, "heartbeat_ms", 10, 600000, 1000, &v))
        return -VE_CONFIG;
    self->partitions = (uint32_t) p;
    const char *level = vactor_config (self, "log_level");
    if (level) {
        if (strlen (level) != 1 || !strchr ("DIWE", level[0])) {
            fprintf (stderr, "vitrine-%s: log_level: expected D, I, W or E\n", self->def->service);
            return -VE_CONFIG;
        }
        vbus_log_level (level[0]);
    }
    self->owned = calloc (self->partitions, sizeof *self->owned);
    const char *owns = vactor_config (self, "owns");
    if (!owns) {
        for (uint32_t i = 0; i < self->partitions; i++)
            self->owned[self->nowned++] = i;
        return 0;
    }
    for (const char *q = owns; *q;) {
        char *end;
        long n = strtol (q, &end, 10);
        if (end == q || n < 0 || n >= (long) self->partitions || self->nowned == self->partitions
            || (*end && *end != ',')) {
            fprintf (stderr, "vitrine-%s: owns: expected partition numbers below %u like 0,3\n",
                     self->def->service, self->partitions);
            return -VE_CONFIG;
        }
        self->owned[self->nowned++] = (uint32_t) n;
        q = *end ? end + 1 : end;
    }
    return 0;
}

//  ---------------------------------------------------------------- accessors

int64_t
vactor_now_ms (const vactor_t *self)
{
    return self->clock ? self->clock (self->clock_arg) : vbus_now_ms () + self->clock_offset;
}

void
vactor_set_clock (vactor_t *self, int64_t (*now) (void *arg), void *arg)
{
    self->clock = now;
    self->clock_arg = arg;
}

void
vactor_set_state (vactor_t *self, void *state)
{
    self->state = state;
}

void *
vactor_state (const vactor_t *self)
{
    return self->state;
}

static s_part_t *
s_part (const vactor_t *self, uint32_t partition)
{
    for (size_t i = 0; i < self->nowned; i++)
        if (self->parts[i].partition == partition)
            return &self->parts[i];
    return NULL;
}

vstore_t *
vactor_store (const vactor_t *self, uint32_t partition)
{
    s_part_t *part = s_part (self, partition);
    return part ? part->store : NULL;
}

vstore_t *
vactor_events_store (const vactor_t *self)
{
    return self->parts && self->nowned ? self->parts[0].store : NULL;
}

size_t
vactor_owned (const vactor_t *self, const uint32_t **partitions)
{
    *partitions = self->owned;
    return self->nowned;
}

uint32_t
vactor_partitions (const vactor_t *self)
{
    return self->partitions;
}

const char *
vactor_service (const vactor_t *self)
{
    return self->service;
}

vbus_client_t *
vactor_client (vactor_t *self)
{
    if (!self->client)
        self->client = vbus_client_new (self->broker, 5000);
    return self->client;
}

//  ---------------------------------------------------------------- outbox

//  The stored record of an event: [topic, time_ms, body (bin)].
static int
s_pack_event (vbuf_t *buf, const char *topic, int64_t time_ms, const void *body, size_t len)
{
    msgpack_packer pk;
    vmp_packer_init (&pk, buf);
    msgpack_pack_array (&pk, 3);
    vmp_pack_cstr (&pk, topic);
    msgpack_pack_int64 (&pk, time_ms);
    msgpack_pack_bin (&pk, len);
    msgpack_pack_bin_body (&pk, body, len);
    return buf->failed ? -VE_NOMEM : 0;
}

static int
s_unpack_event (const char *data, size_t len, const char **topic, uint32_t *tlen, int64_t *time_ms,
                const char **body, uint32_t *blen)
{
    vmp_reader_t r;
    vmp_reader_init (&r, data, len);
    uint32_t n;
    vmp_item_t it;
    if (vmp_read_array (&r, &n) || n < 3 || vmp_read_str (&r, topic, tlen)
        || vmp_read_int (&r, time_ms) || vmp_read (&r, &it) || it.kind != VMP_BIN)
        return -VE_PROTO;
    *body = it.v.ptr;
    *blen = it.len;
    return 0;
}

int
vactor_emit (vactor_call_t *call, const char *topic, const void *body, size_t len)
{
    vactor_t *self = call->actor;
    if (!topic || !strchr (topic, '.') || strlen (topic) > 128)
        return -VE_INVAL;
    const vmsg_event_t *e = vmsg_event_find (topic);
    char err[200];
    if (e && vmsg_validate (e->schema, body, len, err, sizeof err) != 0) {
        vbus_log ('E', self->service, "event %s does not match its schema: %s", topic, err);
        return -VE_BAD_REQUEST;
    }
    s_part_t *part = s_part (self, call->partition);
    if (self->npending == self->cappending) {
        size_t cap = self->cappending ? self->cappending * 2 : 8;
        s_pending_t *pending = realloc (self->pending, cap * sizeof *pending);
        if (!pending)
            return -VE_NOMEM;
        self->pending = pending;
        self->cappending = cap;
    }
    uint64_t seq = part->next_seq++;
    char storage[512];
    vbuf_t rec;
    vbuf_init (&rec, storage, sizeof storage);
    int rc = s_pack_event (&rec, topic, vactor_now_ms (self), body, len);
    uint8_t key[8];
    vstore_be64 (key, seq);
    if (rc == 0)
        vstore_batch_put (call->batch, part->store, self->cf_outbox, key, 8, rec.data, rec.len);
    vbuf_free (&rec);
    s_pending_t *p = &self->pending[self->npending++];
    p->part = part;
    p->seq = seq;
    p->topic = varena_strdup (call->arena, topic);
    p->body = varena_alloc (call->arena, len ? len : 1);
    p->len = len;
    if (!p->topic || !p->body)
        return -VE_NOMEM;
    memcpy (p->body, body, len);
    return rc;
}

static void
s_stream_name (const vactor_t *self, uint32_t partition, char *out, size_t size)
{
    snprintf (out, size, "%s/%u", self->service, partition);
}

static void
s_publish (vactor_t *self, s_part_t *part, const char *topic, uint64_t seq, const void *body,
           size_t len)
{
    char stream[160];
    s_stream_name (self, part->partition, stream, sizeof stream);
    if (vbus_pub_send (self->pub, topic, stream, seq, body, len) == 0)
        part->published = seq;
    else
        vbus_log ('W', self->service, "could not publish %s #%llu (replay has it)", topic,
                  (unsigned long long) seq);
}

//  A free entry at the end of held (NULL when out of memory).
static s_held_t *
s_held_add (vactor_t *self)
{
    if (self->nheld == self->capheld) {
        size_t cap = self->capheld ? self->capheld * 2 : 16;
        s_held_t *held = realloc (self->held, cap * sizeof *held);
        if (!held)
            return NULL;
        self->held = held;
        self->capheld = cap;
    }
    s_held_t *h = &self->held[self->nheld++];
    memset (h, 0, sizeof *h);
    return h;
}

static void *
s_memdup (const void *data, size_t len)
{
    void *copy = malloc (len ? len : 1);
    if (copy && len)
        memcpy (copy, data, len);
    return copy;
}

//  Publishes what the last commit wrote. While a synced write waits for its fsync the events
//  wait too (in order, behind it): a consumer must never apply an event that a crash could
//  still take back, since its sequence number would then be given again.
static void
s_publish_pending (vactor_t *self)
{
    for (size_t i = 0; i < self->npending; i++) {
        s_pending_t *p = &self->pending[i];
        s_held_t *h = self->dirty ? s_held_add (self) : NULL;
        if (!h) {
            //  Not dirty; or no memory to hold it: then the backlog publishes it after a
            //  restart and consumers fill the gap by replay.
            if (!self->dirty)
                s_publish (self, p->part, p->topic, p->seq, p->body, p->len);
            continue;
        }
        h->part = p->part;
        h->seq = p->seq;
        h->topic = strdup (p->topic);
        h->body = s_memdup (p->body, p->len);
        h->len = p->len;
    }
    self->npending = 0;
}

//  Holds a reply until the next s_flush. Returns 0 or -VE_NOMEM.
static int
s_hold_reply (vactor_t *self, const vbus_defer_t *d, int status, const char *message,
              const void *body, size_t len)
{
    s_held_t *h = s_held_add (self);
    if (!h)
        return -VE_NOMEM;
    h->defer = *d;
    h->status = status;
    h->message = message ? strdup (message) : NULL;
    h->body = s_memdup (body, len);
    h->len = len;
    return 0;
}

//  The group commit: one fsync per dirty store makes every write since the last flush
//  durable; then the events and replies that waited for it go out, in the order they came.
//  Runs on the actor's thread after each batch of requests (the worker's watch), so under load
//  many calls share one fsync, and alone a call waits for just its own.
static void s_send_now (vactor_t *self, s_send_t *send);

static void
s_flush (vactor_t *self)
{
    if (!self->dirty && !self->nheld && !self->nsends)
        return;
    vstore_t *dirty[self->nowned ? self->nowned : 1];
    size_t ndirty = 0;
    for (size_t i = 0; i < self->nowned; i++)
        if (self->parts[i].dirty) {
            dirty[ndirty++] = self->parts[i].store;
            self->parts[i].dirty = false;
        }
    bool ok = vstore_syncer_run (self->syncer, dirty, ndirty) == 0;
    self->syncs += ndirty;
    self->dirty = false;
    //  What runs from here (a failed send's callback) may hold new replies and sends: they
    //  go into fresh lists, for the next flush.
    s_send_t *sends = self->sends;
    size_t nsends = self->nsends;
    self->sends = NULL;
    self->nsends = self->capsends = 0;
    for (size_t i = 0; i < nsends; i++)
        s_send_now (self, &sends[i]);
    free (sends);
    for (size_t i = 0; i < self->nheld; i++) {
        s_held_t *h = &self->held[i];
        if (h->part && ok)
            s_publish (self, h->part, h->topic, h->seq, h->body, h->len);
        else if (!h->part && ok)
            vbus_worker_reply (self->worker, &h->defer, h->status, h->message, h->body, h->len);
        else if (!h->part)
            vbus_worker_reply (self->worker, &h->defer, VE_INTERNAL, "the store could not sync",
                               NULL, 0);
        free (h->topic);
        free (h->message);
        free (h->body);
    }
    self->nheld = 0;
}

//  Undoes what a failed call or transaction staged: nothing of it happened, no state, no
//  events, no sequence number used.
static void
s_discard (vactor_t *self, s_part_t *part, uint64_t seq_before)
{
    vstore_batch_clear (self->batch);
    part->next_seq = seq_before;
    self->npending = 0;
}

//  After a call's or a transaction's commit: its events go out (or wait behind the group
//  commit), then its after_commit runs. Events first: after_commit may run a transaction,
//  which starts an event list of its own.
static void
s_committed (vactor_t *self, vactor_call_t *call)
{
    s_publish_pending (self);
    if (call->after_commit)
        call->after_commit (call, call->after_arg);
}

//  Commits the running call's batch to part. A synced one is written without fsync and marks
//  the store dirty: s_flush syncs it before anything that depends on it leaves the process.
static int
s_commit (vactor_t *self, s_part_t *part, bool sync)
{
    if (!vstore_batch_count (self->batch))
        return 0;
    if (vstore_commit (part->store, self->batch, false) != 0)
        return -VE_IO;
    if (sync) {
        part->dirty = self->dirty = true;
        self->synced_commits++;
    }
    return 0;
}

//  Publishes committed events not yet published (after a crash between commit and publish);
//  consumers drop what they already had by sequence number.
static void
s_publish_backlog (vactor_t *self, s_part_t *part)
{
    uint8_t start[8];
    vstore_be64 (start, part->published + 1);
    vstore_iter_t *it = vstore_iter_new (part->store, self->cf_outbox, NULL, 0, start, 8);
    const char *key, *val;
    size_t klen, vlen;
    char stream[160];
    s_stream_name (self, part->partition, stream, sizeof stream);
    size_t n = 0;
    while (it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        const char *topic, *body;
        uint32_t tlen, blen;
        int64_t time_ms;
        if (klen != 8 || s_unpack_event (val, vlen, &topic, &tlen, &time_ms, &body, &blen))
            continue;
        char t[129];
        snprintf (t, sizeof t, "%.*s", (int) tlen, topic);
        vbus_pub_send (self->pub, t, stream, vstore_from_be64 (key), body, blen);
        part->published = vstore_from_be64 (key);
        n++;
    }
    vstore_iter_destroy (&it);
    if (n)
        vbus_log ('I', self->service, "published %zu events committed before a restart", n);
}

//  Persists the published marks and trims the outboxes to their retention.
//  The oldest sequence number part's outbox holds (0: none). The seek starts at the oldest the
//  trim kept, past everything it deleted.
static uint64_t
s_outbox_first (vactor_t *self, s_part_t *part)
{
    uint8_t kept[8];
    vstore_be64 (kept, part->kept);
    vstore_iter_t *it = vstore_iter_new (part->store, self->cf_outbox, NULL, 0,
                                         part->kept ? kept : NULL, part->kept ? 8 : 0);
    const char *key, *val;
    size_t klen, vlen;
    uint64_t first = it && vstore_iter_next (it, &key, &klen, &val, &vlen) && klen == 8
                         ? vstore_from_be64 (key)
                         : 0;
    vstore_iter_destroy (&it);
    return first;
}

static void
s_housekeeping (vactor_t *self)
{
    int64_t oldest_ms = vactor_now_ms (self) - self->outbox_keep_ms;
    for (size_t i = 0; i < self->nowned; i++) {
        s_part_t *part = &self->parts[i];
        if (part->published != part->marked) {
            uint8_t v[8];
            vstore_be64 (v, part->published);
            vstore_batch_put (self->batch, part->store, self->cf_meta, "published", 9, v, 8);
        }
        //  The trim: the events beyond the newest outbox_keep go at once (their numbers say
        //  so), then the older than outbox_keep_ms, a bounded walk each round; never one not
        //  yet published (a consumer could not get it otherwise). One range tombstone from
        //  the oldest kept, which is remembered: no round walks what an earlier one deleted.
        uint64_t last = part->next_seq - 1;
        uint64_t from = part->kept ? part->kept : s_outbox_first (self, part);
        if (!from)
            from = part->next_seq;  //  empty
        const char *key, *val;
        size_t klen, vlen;
        uint64_t end = from;  //  the first kept after this round
        if (last >= (uint64_t) self->outbox_keep && last - (uint64_t) self->outbox_keep + 1 > end)
            end = last - (uint64_t) self->outbox_keep + 1;
        if (end > part->published + 1)
            end = part->published + 1;
        if (end < from)
            end = from;
        uint8_t start[8], stop[8];
        vstore_be64 (start, end);
        vstore_iter_t *it = vstore_iter_new (part->store, self->cf_outbox, NULL, 0, start, 8);
        for (int n = 0; n < TRIM_WALK && it && vstore_iter_next (it, &key, &klen, &val, &vlen);
             n++) {
            const char *topic, *body;
            uint32_t tlen, blen;
            int64_t time_ms;
            uint64_t seq = klen == 8 ? vstore_from_be64 (key) : 0;
            if (seq < end || seq > part->published
                || s_unpack_event (val, vlen, &topic, &tlen, &time_ms, &body, &blen) != 0
                || time_ms >= oldest_ms)
                break;
            end = seq + 1;
        }
        vstore_iter_destroy (&it);
        if (end > from) {
            vstore_be64 (start, from);
            vstore_be64 (stop, end);
            vstore_batch_delete_range (self->batch, part->store, self->cf_outbox, start, 8, stop,
                                       8);
        }
        if (vstore_commit (part->store, self->batch, false) == 0) {
            part->marked = part->published;
            part->kept = end;
        }
    }
}

//  ---------------------------------------------------------------- runtime methods

static int
s_replay (vactor_t *self, const vmsg_value_t *body, vbus_out_t *out)
{
    uint32_t partition = (uint32_t) vmsg_uint (body, "partition", 0);
    s_part_t *part = s_part (self, partition);
    if (!part)
        return vbus_out_error (out, VE_UNAVAILABLE, "partition %u is not served here", partition);
    uint64_t from = vmsg_uint (body, "from", 1);
    uint64_t limit = vmsg_uint (body, "limit", REPLAY_PAGE);
    uint8_t start[8];
    vstore_be64 (start, from);
    //  Two passes: count, then pack (msgpack arrays carry their length up front).
    const char *key, *val;
    size_t klen, vlen;
    uint32_t n = 0;
    uint64_t first = s_outbox_first (self, part);
    vstore_iter_t *it = vstore_iter_new (part->store, self->cf_outbox, NULL, 0, start, 8);
    while (n < limit && it && vstore_iter_next (it, &key, &klen, &val, &vlen))
        n++;
    vstore_iter_destroy (&it);
    char stream[160];
    s_stream_name (self, partition, stream, sizeof stream);
    msgpack_packer *pk = &out->pk;
    msgpack_pack_map (pk, 4);
    vmp_pack_kstr (pk, "stream", stream);
    vmp_pack_kuint (pk, "last", part->next_seq - 1);
    vmp_pack_kuint (pk, "first", first);
    vmp_pack_cstr (pk, "events");
    msgpack_pack_array (pk, n);
    it = vstore_iter_new (part->store, self->cf_outbox, NULL, 0, start, 8);
    for (uint32_t i = 0; i < n && vstore_iter_next (it, &key, &klen, &val, &vlen); i++) {
        const char *topic, *ebody;
        uint32_t tlen, blen;
        int64_t time_ms = 0;
        if (s_unpack_event (val, vlen, &topic, &tlen, &time_ms, &ebody, &blen)) {
            topic = "invalid.record";
            tlen = 14;
            ebody = "";
            blen = 0;
        }
        msgpack_pack_map (pk, 4);
        vmp_pack_kuint (pk, "seq", vstore_from_be64 (key));
        vmp_pack_cstr (pk, "topic");
        msgpack_pack_str (pk, tlen);
        msgpack_pack_str_body (pk, topic, tlen);
        vmp_pack_kint (pk, "time_ms", time_ms);
        vmp_pack_cstr (pk, "body");
        msgpack_pack_bin (pk, blen);
        msgpack_pack_bin_body (pk, ebody, blen);
    }
    vstore_iter_destroy (&it);
    return VE_OK;
}

static int
s_stats (vactor_t *self, vbus_out_t *out)
{
    msgpack_packer *pk = &out->pk;
    const char *name = vactor_config (self, "name");
    msgpack_pack_map (pk, 11);
    vmp_pack_kstr (pk, "service", self->service);
    vmp_pack_kstr (pk, "name", name ? name : "");
    vmp_pack_kuint (pk, "uptime_ms", (uint64_t) (vbus_now_ms () - self->started_ms));
    vmp_pack_cstr (pk, "methods");
    msgpack_pack_array (pk, self->nbindings);
    for (size_t i = 0; i < self->nbindings; i++) {
        s_binding_t *b = &self->bindings[i];
        msgpack_pack_map (pk, 6);
        vmp_pack_kstr (pk, "name", b->name);
        vmp_pack_kuint (pk, "calls", b->calls);
        vmp_pack_kuint (pk, "errors", b->errors);
        vmp_pack_kuint (pk, "p50_us", vhist_pct (&b->latency, 0.50));
        vmp_pack_kuint (pk, "p99_us", vhist_pct (&b->latency, 0.99));
        vmp_pack_kuint (pk, "max_us", b->latency.max);
    }
    vmp_pack_cstr (pk, "partitions");
    msgpack_pack_array (pk, self->nowned);
    for (size_t i = 0; i < self->nowned; i++) {
        msgpack_pack_map (pk, 3);
        vmp_pack_kuint (pk, "partition", self->parts[i].partition);
        vmp_pack_kuint (pk, "last_seq", self->parts[i].next_seq - 1);
        vmp_pack_kuint (pk, "published", self->parts[i].published);
    }
    vmp_pack_kuint (pk, "events_received", self->events_received);
    vmp_pack_kuint (pk, "events_applied", self->events_applied);
    vmp_pack_kuint (pk, "gaps", self->gaps);
    vmp_pack_kuint (pk, "gaps_filled", self->gaps_filled);
    vmp_pack_kuint (pk, "synced_commits", self->synced_commits);
    vmp_pack_kuint (pk, "syncs", self->syncs);
    return VE_OK;
}

//  ---------------------------------------------------------------- the request path

static int
s_call (vactor_t *self, s_binding_t *b, const vbus_request_t *req, vbus_out_t *out)
{
    const vmsg_method_t *m = b->schema;
    if (!vmsg_role_allows (m->role, req->caller.roles)) {
        bool anonymous = !req->caller.user_id[0] && !req->caller.roles;
        return vbus_out_error (out, anonymous ? VE_UNAUTHORIZED : VE_FORBIDDEN, "%s.%s: %s",
                               req->service, req->method,
                               anonymous ? "sign in first" : "your role does not allow it");
    }
    varena_reset (self->arena);
    const vmsg_value_t *body;
    char err[256];
    if (vmsg_decode (m->request, req->body, req->body_len, self->arena, &body, err, sizeof err))
        return vbus_out_error (out, VE_BAD_REQUEST, "%s", err);
    if (b->kind == KIND_REPLAY)
        return s_replay (self, body, out);
    if (b->kind == KIND_STATS)
        return s_stats (self, out);

    uint32_t partition = req->key || req->partition ? req->partition : self->owned[0];
    s_part_t *part = s_part (self, partition);
    if (!part)
        return vbus_out_error (out, VE_UNAVAILABLE, "partition %u is not served here", partition);
    vactor_call_t call = { .actor = self,
                           .req = req,
                           .body = body,
                           .arena = self->arena,
                           .store = part->store,
                           .partition = partition,
                           .batch = self->batch,
                           .out = out };
    uint64_t seq_before = part->next_seq;
    self->npending = 0;
    self->in_call = true;
    //  Until the worker has counted this call as deferred, an answer to it (from after_commit,
    //  say) must wait: the worker would otherwise count the answer before the deferral.
    self->holding = true;
    int status = b->method->fn (&call);
    self->in_call = false;
    bool deferred = status == VBUS_DEFERRED;
    if (deferred && !call.deferred) {
        vbus_log ('E', self->service, "%s returned VBUS_DEFERRED without vactor_defer",
                  req->method);
        deferred = false;
        status = vbus_out_error (out, VE_INTERNAL, "handler failed");
    }
    //  A deferred call's writes commit now, like any call's; its handler starts the work it
    //  waits for in after_commit, which a failed commit skips: the worker then answers the
    //  call with the error, and the handler's copy of the return address is never used.
    if ((status == VE_OK || deferred) && s_commit (self, part, b->method->sync) != 0) {
        status = vbus_out_error (out, VE_INTERNAL, "the store could not write");
        deferred = false;
    }
    if (status != VE_OK && !deferred && call.keep_on_error && self->npending)
        vbus_log ('E', self->service, "%s: a failed call kept its writes but emitted events",
                  req->method);
    else if (status != VE_OK && !deferred && call.keep_on_error
             && s_commit (self, part, b->method->sync) == 0) {
        //  A refusal to remember: its writes stand, the error is the reply (behind the sync).
        self->holding = false;
        vbus_defer_t d;
        vbus_defer (req, &d);
        if (self->dirty && s_hold_reply (self, &d, status, out->message, NULL, 0) == 0)
            return VBUS_DEFERRED;
        s_flush (self);
        return status;
    }
    if (status != VE_OK && !deferred) {
        s_discard (self, part, seq_before);
        self->holding = false;
        return status;
    }
    s_committed (self, &call);
    self->holding = false;
    if (deferred)
        return VBUS_DEFERRED;
    if (self->check_replies && vmsg_validate (m->reply, out->body.data, out->body.len, err,
                                              sizeof err) != 0) {
        //  Loud on purpose: in debug and test builds a reply that breaks its own schema is a
        //  bug in the handler, and the caller sees it at once rather than a client later.
        vbus_log ('E', self->service, "%s.%s: reply breaks %s: %s", self->service, req->method,
                  m->reply->name, err);
        return vbus_out_error (out, VE_INTERNAL, "reply breaks %s: %s", m->reply->name, err);
    }
    if (self->dirty && !out->body.failed) {
        //  Behind a synced write that is not yet on disk: the reply waits for the flush.
        vbus_defer_t d;
        vbus_defer (req, &d);
        if (s_hold_reply (self, &d, VE_OK, NULL, out->body.data, out->body.len) == 0)
            return VBUS_DEFERRED;
        s_flush (self);  //  no memory to hold it: sync now, then answer
    }
    return VE_OK;
}

void
vactor_defer (vactor_call_t *call, vbus_defer_t *out)
{
    vbus_defer (call->req, out);
    call->deferred = true;
}

int
vactor_reply (vactor_t *self, const vbus_defer_t *d, int status, const char *message,
              const void *body, size_t body_len)
{
    char err[256];
    const vmsg_method_t *m = self->check_replies && status == VE_OK
                                 ? vmsg_method_find (self->def->service, d->method)
                                 : NULL;
    if (m && vmsg_validate (m->reply, body, body_len, err, sizeof err) != 0) {
        //  As loud as for a direct reply (s_call): a deferred one is checked the same way.
        vbus_log ('E', self->service, "%s.%s: reply breaks %s: %s", self->service, d->method,
                  m->reply->name, err);
        status = VE_INTERNAL;
        message = "reply breaks its schema";
        body = NULL;
        body_len = 0;
    }
    if ((self->dirty || self->holding) && s_hold_reply (self, d, status, message, body, body_len) == 0)
        return 0;
    s_flush (self);
    return vbus_worker_reply (self->worker, d, status, message, body, body_len);
}

int
vactor_txn (vactor_t *self, uint32_t partition, bool sync, vactor_txn_fn *fn, void *arg)
{
    s_part_t *part = s_part (self, partition);
    if (!part)
        return -VE_INVAL;
    if (self->in_call) {
        vbus_log ('E', self->service, "vactor_txn inside a handler or a transaction");
        return -VE_INVAL;
    }
    varena_reset (self->txn_arena);
    char storage[256];
    vbus_out_t out;
    vbus_out_init (&out, storage, sizeof storage);
    vactor_call_t call = { .actor = self,
                           .arena = self->txn_arena,
                           .store = part->store,
                           .partition = partition,
                           .batch = self->batch,
                           .out = &out };
    uint64_t seq_before = part->next_seq;
    self->npending = 0;
    self->in_call = true;
    int status = fn (&call, arg);
    self->in_call = false;
    if (status == VE_OK && s_commit (self, part, sync) != 0)
        status = vbus_out_error (&out, VE_INTERNAL, "the store could not write");
    if (status != VE_OK) {
        s_discard (self, part, seq_before);
        if (status != VE_CONFLICT && status != VE_NOT_FOUND)
            vbus_log ('W', self->service, "transaction on partition %u failed: %s", partition,
                      out.message[0] ? out.message : verr_str (status));
    }
    else
        s_committed (self, &call);
    vbuf_free (&out.body);
    return status == VE_OK ? 0 : -status;
}

static void
s_async_reply (const vbus_reply_t *reply, void *arg)
{
    s_async_t *a = arg;
    a->fn (a->actor, reply, a->arg);
    free (a);
}

int
vactor_send (vactor_t *self, const char *service, const char *method, const void *body,
             size_t len, const vbus_opts_t *opts, vactor_reply_fn *fn, void *arg)
{
    if (!self->async && !(self->async = vbus_client_new (self->broker, 5000)))
        return -VE_IO;
    vbus_caller_t caller = { self->service, VBUS_ROLE_SERVICE };
    vbus_opts_t o = opts ? *opts : (vbus_opts_t) { 0 };
    if (!o.caller)
        o.caller = &caller;
    s_async_t *a = malloc (sizeof *a);
    if (!a)
        return -VE_NOMEM;
    *a = (s_async_t) { self, fn, arg };
    if (!self->dirty) {
        int rc = vbus_client_send (self->async, service, method, body, len, &o, s_async_reply, a,
                                   NULL);
        if (rc)
            free (a);
        return rc;
    }
    //  Behind a synced write not yet on disk: the call waits for the flush, as replies do.
    //  Arguments are checked now, so the caller still hears of a bad one at once.
    if (strlen (service) > VBUS_MAX_SERVICE || strlen (method) > VBUS_MAX_METHOD
        || (o.key && strlen (o.key) > VBUS_MAX_KEY)
        || (o.trace_id && strlen (o.trace_id) > VBUS_MAX_TRACE)
        || (o.caller->user_id && strlen (o.caller->user_id) > VBUS_MAX_USER) || len > VBUS_MAX_BODY) {
        free (a);
        return -VE_INVAL;
    }
    if (self->nsends == self->capsends) {
        size_t cap = self->capsends ? self->capsends * 2 : 16;
        s_send_t *sends = realloc (self->sends, cap * sizeof *sends);
        if (!sends) {
            free (a);
            return -VE_NOMEM;
        }
        self->sends = sends;
        self->capsends = cap;
    }
    s_send_t *s = &self->sends[self->nsends];
    memset (s, 0, sizeof *s);
    snprintf (s->service, sizeof s->service, "%s", service);
    snprintf (s->method, sizeof s->method, "%s", method);
    s->has_key = o.key != NULL;
    snprintf (s->key, sizeof s->key, "%s", o.key ? o.key : "");
    s->has_trace = o.trace_id != NULL;
    snprintf (s->trace, sizeof s->trace, "%s", o.trace_id ? o.trace_id : "");
    snprintf (s->user, sizeof s->user, "%s", o.caller->user_id ? o.caller->user_id : "");
    s->caller = *o.caller;
    s->opts = o;
    s->body = s_memdup (body, len);
    s->len = len;
    s->async = a;
    if (!s->body) {
        free (a);
        return -VE_NOMEM;
    }
    self->nsends++;
    return 0;
}

//  Sends a held call; when the bus refuses it, its callback hears so (exactly once, as ever).
static void
s_send_now (vactor_t *self, s_send_t *s)
{
    s->caller.user_id = s->user;
    s->opts.caller = &s->caller;
    s->opts.key = s->has_key ? s->key : NULL;
    s->opts.trace_id = s->has_trace ? s->trace : NULL;
    int rc = vbus_client_send (self->async, s->service, s->method, s->body, s->len, &s->opts,
                               s_async_reply, s->async, NULL);
    if (rc) {
        vbus_reply_t failed = { .status = VE_UNAVAILABLE, .message = verr_str (rc) };
        s_async_reply (&failed, s->async);
    }
    free (s->body);
}

void
vactor_wake (vactor_t *self)
{
    uint64_t one = 1;
    if (self->wake_fd >= 0 && write (self->wake_fd, &one, sizeof one) < 0) {
        //  EAGAIN: the counter is saturated, a wake-up is pending anyway.
    }
    //  After the write: whenever the fd is readable the flag is (or is about to be) set.
    atomic_store (&self->woken, true);
}

//  The worker's watch, after every batch of requests: empties the eventfd, runs the replies of
//  asynchronous calls and the actor's on_wake, then the group commit's fsync.
static void
s_on_wake (void *arg)
{
    vactor_t *self = arg;
    //  The worker calls this after every poll: empty the eventfd only when it was written, so
    //  a busy actor makes no system call here.
    uint64_t count;
    if (atomic_exchange (&self->woken, false) && read (self->wake_fd, &count, sizeof count) < 0) {
        //  EAGAIN: a second wake-up's count was read with the first.
    }
    if (self->async && vbus_client_pending (self->async))
        vbus_client_dispatch (self->async);
    if (self->def->on_wake)
        self->def->on_wake (self);
    s_flush (self);
}

void
vactor_keep_on_error (vactor_call_t *call)
{
    call->keep_on_error = true;
}

void
vactor_after_commit (vactor_call_t *call, void (*fn) (vactor_call_t *call, void *arg), void *arg)
{
    call->after_commit = fn;
    call->after_arg = arg;
}

static int
s_handle (const vbus_request_t *req, vbus_out_t *out, void *arg)
{
    s_binding_t *b = arg;
    int64_t start = vbus_mono_us ();
    int status = s_call (b->actor, b, req, out);
    b->calls++;
    if (status != VE_OK)
        b->errors++;
    vhist_add (&b->latency, (uint64_t) (vbus_mono_us () - start));
    return status;
}

//  ---------------------------------------------------------------- consumer
//  Events arrive on a subscription (PUB/SUB: fast, but a slow or restarted subscriber loses
//  messages) and carry their stream's gapless sequence number. The consumer keeps, per stream,
//  the last number it applied, in the same store as the state the events build; it turns
//  "at most once" delivery into "exactly once" effects by asking the producer's replay for
//  whatever it missed (s_catch_up) and ignoring whatever it already had (s_apply).

//  The position in stream (topic NULL or ""), or in one topic of it.
static s_offset_t *
s_offset (vactor_t *self, const char *stream, const char *topic, bool create)
{
    //  A linear walk: an actor follows a handful of producers' partitions (plus one stream per
    //  edge process for views), and the walk is cheap next to applying the event.
    if (!topic)
        topic = "";
    for (size_t i = 0; i < self->noffsets; i++)
        if (strcmp (self->offsets[i]->stream, stream) == 0
            && strcmp (self->offsets[i]->topic, topic) == 0)
            return self->offsets[i];
    if (!create)
        return NULL;
    if (strlen (stream) > 128 || strlen (topic) > 128 || strchr (stream, '#')) {
        vbus_log ('W', self->service, "stream '%.40s' or topic '%.40s' too long or with a '#': "
                  "events of it dropped", stream, topic);
        return NULL;
    }
    if (self->noffsets == self->capoffsets) {
        size_t cap = self->capoffsets ? self->capoffsets * 2 : 16;
        s_offset_t **offsets = realloc (self->offsets, cap * sizeof *offsets);
        if (!offsets)
            return NULL;
        self->offsets = offsets;
        self->capoffsets = cap;
    }
    s_offset_t *o = calloc (1, sizeof *o);
    if (!o)
        return NULL;
    snprintf (o->stream, sizeof o->stream, "%s", stream);
    snprintf (o->topic, sizeof o->topic, "%s", topic);
    self->offsets[self->noffsets++] = o;
    return o;
}

uint64_t
vactor_stream_applied (vactor_t *actor, const char *stream)
{
    s_offset_t *o = s_offset (actor, stream, NULL, false);
    return o ? o->applied : 0;
}

//  What an actor consumes (def->consumes) is of two kinds. A family, "catalog." or "orders.*"
//  (or a name without a dot), takes every topic that starts with it, and the consumer follows
//  the whole stream: one position per stream, moved by every event, so that a number skipped
//  is a lost event. A topic named alone, "inventory.stock_changed", when no family consumed
//  covers it, is subscribed to alone: the other topics of its streams never reach the
//  consumer, nor cost the broker a send. Its position is its own, per stream and topic, and a
//  lost event shows as an event whose prev (the stream's previous event of the topic, sent
//  with each event) is past that position. (Before, a topic was always followed with its
//  whole family: the cart and the catalog received eight inventory events per checkout to use
//  the three stock changes.)
static bool
s_is_family (const char *entry)
{
    size_t len = strlen (entry);
    return !strchr (entry, '.') || (len && (entry[len - 1] == '.' || entry[len - 1] == '*'));
}

//  True when a family the actor consumes covers topic.
static bool
s_in_family (const vactor_t *self, const char *topic)
{
    for (const char *const *c = self->def->consumes; c && *c; c++) {
        size_t len = strlen (*c);
        if (!s_is_family (*c))
            continue;
        if (len && (*c)[len - 1] == '*')
            len--;
        if (strncmp (topic, *c, len) == 0)
            return true;
    }
    return false;
}

//  True when the actor names topic itself in consumes.
static bool
s_named (const vactor_t *self, const char *topic)
{
    for (const char *const *c = self->def->consumes; c && *c; c++)
        if (!s_is_family (*c) && strcmp (*c, topic) == 0)
            return true;
    return false;
}

//  True when topic is consumed alone (named, and no family consumed covers it).
static bool
s_alone (const vactor_t *self, const char *topic)
{
    return s_named (self, topic) && !s_in_family (self, topic);
}

//  True when topic is one the actor consumes (in a family it consumes, or named).
static bool
s_consumed (const vactor_t *self, const char *topic)
{
    return s_in_family (self, topic) || s_named (self, topic);
}

//  The subscription: each family consumed ("orders.*" as "orders."), and each topic consumed
//  alone. Fills out[] (at most max - 1 entries, NULL-terminated; the strings live in storage).
static void
s_subscriptions (const vactor_t *self, const char **out, char (*storage)[S_TOPIC_MAX + 1],
                 size_t max)
{
    size_t n = 0;
    for (const char *const *c = self->def->consumes; c && *c && n + 1 < max; c++) {
        size_t len = strlen (*c);
        if (s_is_family (*c) && len && (*c)[len - 1] == '*')
            len--;
        else if (!s_is_family (*c) && !s_alone (self, *c))
            continue;  //  a family consumed covers it
        if (len > S_TOPIC_MAX)
            len = S_TOPIC_MAX;
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strlen (out[i]) == len && strncmp (out[i], *c, len) == 0;
        if (seen)
            continue;
        memcpy (storage[n], *c, len);
        storage[n][len] = 0;
        out[n] = storage[n];
        n++;
    }
    out[n] = NULL;
}

//  Commits the events staged in cbatch with their streams' offsets. When the write fails,
//  nothing of them happened: the offsets go back to the stored ones, and the events come
//  again (the next live event shows a gap). Returns 0 or -VE_IO.
static int
s_consume_commit (vactor_t *self)
{
    if (!self->events_staged)
        return 0;
    vstore_t *store = self->parts[0].store;
    int rc = self->def->before_commit ? self->def->before_commit (self, store, self->cbatch) : 0;
    for (size_t i = 0; rc == 0 && i < self->noffsets; i++) {
        s_offset_t *o = self->offsets[i];
        if (o->applied == o->committed && !o->unsaved)
            continue;
        uint8_t v[8];
        vstore_be64 (v, o->applied);
        char key[sizeof o->stream + sizeof o->topic + 1];
        int klen = snprintf (key, sizeof key, "%s%s%s", o->stream, *o->topic ? "#" : "", o->topic);
        vstore_batch_put (self->cbatch, store, self->cf_offsets, key, (size_t) klen, v, 8);
    }
    if (rc == 0)
        rc = vstore_commit (store, self->cbatch, false);
    vstore_batch_clear (self->cbatch);
    vstore_read_through (store, NULL);
    if (rc == 0)
        self->events_applied += self->events_staged;
    else
        vbus_log ('E', self->service, "%llu events not committed: %s; they come again",
                  (unsigned long long) self->events_staged, verr_str (rc));
    if (self->def->after_commit)
        self->def->after_commit (self, rc == 0);
    for (size_t i = 0; i < self->noffsets; i++) {
        s_offset_t *o = self->offsets[i];
        if (rc == 0) {
            o->committed = o->applied;
            o->unsaved = false;
        }
        else
            o->applied = o->committed;
    }
    self->events_staged = 0;
    return rc ? -VE_IO : 0;
}

//  Applies one event exactly once: derived state and the stream's offset in one commit.
//
//  Why it is shaped like this: the handler's writes and the new offset go into one batch and
//  one RocksDB write, so a crash leaves either both or neither; the event comes again (replay
//  or redelivery) and the seq test drops it or applies it, never twice. The batch (cbatch)
//  holds many events: what arrived together commits together (s_consume_commit), which is
//  what lets a consumer keep up with tens of thousands of events a second; it is indexed and
//  read through, so a handler sees the writes of the events before it as if each had
//  committed alone. The commit is not fsync'ed: an event lost with a machine crash loses its
//  offset with it, and is replayed. An event that does not decode against its topic's schema
//  is logged and skipped, but its offset still moves: a poison event must not stop the stream
//  for good. A handler error drops that event's writes alone (rolled back to the mark set
//  before it), so the offset stays behind the event: the next event then shows a gap, and the
//  replay brings this one again.
//  Decodes one consumed event and hands it to on_event, its writes into cbatch after a mark
//  (rolled back when the handler fails). An event that does not decode is logged and counts
//  as handled. Returns 0 or the handler's negative code.
static int
s_handle_event (vactor_t *self, const char *stream, uint64_t seq, const char *topic,
                int64_t time_ms, const void *body, size_t len)
{
    const vmsg_event_t *e = vmsg_event_find (topic);
    varena_reset (self->arena);
    const vmsg_value_t *value;
    char err[200];
    if (vmsg_decode (e ? e->schema : NULL, body, len, self->arena, &value, err, sizeof err)) {
        vbus_log ('W', self->service, "%s #%llu from %s skipped: %s", topic,
                  (unsigned long long) seq, stream, err);
        return 0;
    }
    s_part_t *part = &self->parts[0];
    vbus_event_t ev = { .topic = topic,
                        .stream = stream,
                        .seq = seq,
                        .time_ms = time_ms,
                        .body = body,
                        .body_len = len };
    vstore_read_through (part->store, self->cbatch);
    vstore_batch_mark (self->cbatch);
    int rc = self->def->on_event (self, &ev, value, part->store, self->cbatch);
    if (rc)
        vstore_batch_rollback (self->cbatch);
    return rc;
}

//  True when the position o handles an event of topic: its own topic for a position in one
//  topic; for a position in the whole stream, what the actor consumes, except a topic
//  consumed alone that has a position of its own in this stream already (so an event is
//  handled by one position only; until it has one, as in a store from before topics were
//  followed alone, the stream's position handles it, as it did).
static bool
s_handles (vactor_t *self, const s_offset_t *o, const char *topic)
{
    if (*o->topic)
        return strcmp (o->topic, topic) == 0;
    return s_consumed (self, topic)
           && !(s_alone (self, topic) && s_offset (self, o->stream, topic, false));
}

static int
s_apply (vactor_t *self, s_offset_t *o, uint64_t seq, const char *topic, int64_t time_ms,
         const void *body, size_t len)
{
    if (seq <= o->applied)
        return 0;  //  already applied: at-least-once delivery, exactly-once effect
    //  What the position does not handle (another topic of a stream followed whole, or met in
    //  a replay) is skipped, but the position moves past it all the same.
    int rc = s_handles (self, o, topic)
                 ? s_handle_event (self, o->stream, seq, topic, time_ms, body, len)
                 : 0;
    if (rc)
        return rc;
    o->applied = seq;
    self->events_staged++;
    if (self->events_staged >= CONSUME_BATCH)
        return s_consume_commit (self);
    return 0;
}

//  Asks a stream's producer for its events from o->applied + 1 up to until (0 = all it has).
//
//  Why it is shaped like this: it is a blocking call on the actor's own thread: events must
//  be applied in order, and nothing else (requests, live events) runs until the gap is
//  filled. The call names the producer's partition (to_partition) rather than a key:
//  the stream "service/N" is the log of partition N, and only its owner holds it. It asks in
//  pages of REPLAY_PAGE events, so that one reply stays bounded however far behind it is, and
//  stops at until, so that the live event that revealed the gap is applied by its caller.
//  When the first event of a page is later than the one asked for, the producer no longer
//  keeps the missing ones (retention): that is logged and the stream goes on from there.
static int
s_catch_up (vactor_t *self, s_offset_t *o, uint64_t until)
{
    const char *stream = o->stream;
    const char *slash = strrchr (stream, '/');
    char service[VBUS_MAX_SERVICE + 1];
    char *end;
    if (!slash || slash == stream || (size_t) (slash - stream) > VBUS_MAX_SERVICE)
        return -VE_INVAL;
    long partition = strtol (slash + 1, &end, 10);
    if (*end || partition < 0 || partition >= VBUS_MAX_PARTITIONS)
        return -VE_INVAL;
    snprintf (service, sizeof service, "%.*s", (int) (slash - stream), stream);
    vbus_client_t *client = vactor_client (self);
    vbus_caller_t caller = { self->service, VBUS_ROLE_SERVICE };
    for (;;) {
        if (until && o->applied >= until)
            return 0;
        char storage[64];
        vbuf_t req;
        vbuf_init (&req, storage, sizeof storage);
        msgpack_packer pk;
        vmp_packer_init (&pk, &req);
        msgpack_pack_map (&pk, 3);
        vmp_pack_kuint (&pk, "partition", (uint32_t) partition);
        vmp_pack_kuint (&pk, "from", o->applied + 1);
        vmp_pack_kuint (&pk, "limit", REPLAY_PAGE);
        vbus_opts_t opts = { .caller = &caller,
                             .to_partition = true,
                             .partition = (uint32_t) partition,
                             .timeout_ms = 10000 };
        vbus_msg_t *reply = NULL;
        int rc = vbus_client_call (client, service, "replay", req.data, req.len, &opts, &reply);
        vbuf_free (&req);
        if (rc || reply->status != VE_OK) {
            vbus_log ('W', self->service, "replay of %s failed: %s", stream,
                      reply ? reply->message : verr_str (rc));
            vbus_msg_destroy (&reply);
            return -VE_UNAVAILABLE;
        }
        //  The reply is decoded generically: a page of {seq, topic, time_ms, body}.
        varena_t *arena = varena_new (0);
        const vmsg_value_t *page;
        const vmsg_method_t *m = vmsg_method_find ("runtime", "replay");
        rc = vmsg_decode (m->reply, reply->body, reply->body_len, arena, &page, NULL, 0);
        const vmsg_value_t *events = rc ? NULL : vmsg_get (page, "events");
        uint32_t n = vmsg_count (events);
        if (n && vmsg_uint (page, "first", 0) > o->applied + 1)
            vbus_log ('W', self->service, "%s: events %llu..%llu fell to retention", stream,
                      (unsigned long long) o->applied + 1,
                      (unsigned long long) vmsg_uint (page, "first", 0) - 1);
        for (uint32_t i = 0; i < n && rc == 0; i++) {
            const vmsg_value_t *e = vmsg_at (events, i);
            uint64_t seq = vmsg_uint (e, "seq", 0);
            if (until && seq > until)
                break;
            size_t blen;
            const void *body = vmsg_bytes (e, "body", &blen);
            //  s_apply resets the runtime arena; the page lives in its own.
            rc = s_apply (self, o, seq, vmsg_str (e, "topic"), vmsg_int (e, "time_ms", 0), body,
                          blen);
        }
        if (rc == 0)
            rc = s_consume_commit (self);  //  a page, one commit
        varena_destroy (&arena);
        vbus_msg_destroy (&reply);
        if (rc)
            return rc;
        if (n < REPLAY_PAGE)
            return 0;
    }
}

//  One live event from the subscription.
//
//  Why it is shaped like this: a gap is noticed only when a later event arrives (the number
//  jumps); it is filled first, so that events are applied in order. A stream with nothing
//  applied yet (applied 0) is joined where it is: the streams named in "follow", and those
//  with a stored offset, are the ones caught up from where they stand when the runtime opens
//  (s_catch_up with until 0), before it serves. The results are not checked here: a failed apply keeps its
//  offset (the next event shows the gap again, see s_apply); a failed replay (the producer is
//  unreachable) is logged by s_catch_up, and the live event is then applied anyway, so the
//  offset moves past the events that were not fetched.
static void
s_consume (vactor_t *self, const vbus_event_t *ev)
{
    self->events_received++;
    //  An actor never consumes its own outbox.
    size_t own = strlen (self->service);
    if (strncmp (ev->stream, self->service, own) == 0 && ev->stream[own] == '/')
        return;
    s_offset_t *o;
    bool gap;
    if (s_alone (self, ev->topic)) {
        o = s_offset (self, ev->stream, ev->topic, false);
        if (!o) {
            //  The topic's first event from this stream: it starts where the stream's position
            //  is, when there is one (a store from before topics were followed alone).
            s_offset_t *whole = s_offset (self, ev->stream, NULL, false);
            if (!(o = s_offset (self, ev->stream, ev->topic, true)))
                return;
            if (whole) {
                o->applied = o->committed = whole->applied;
                o->unsaved = true;
            }
        }
        //  The other topics of the stream never come: what was lost is what prev names past
        //  the position (prev 0, not known, falls back to the stream's numbering).
        gap = o->applied
              && (ev->prev ? ev->prev > o->applied : ev->seq > o->applied + 1);
    }
    else if (s_in_family (self, ev->topic)) {
        if (!(o = s_offset (self, ev->stream, NULL, true)))
            return;
        gap = o->applied && ev->seq > o->applied + 1;
    }
    else
        return;  //  a longer topic that a topic subscribed to alone is a prefix of
    if (gap) {
        self->gaps++;
        if (s_catch_up (self, o, ev->seq - 1) == 0)
            self->gaps_filled++;  //  the missing events, from the producer, before this one
    }
    s_apply (self, o, ev->seq, ev->topic, ev->time_ms, ev->body, ev->body_len);
}

static void
s_load_offsets (vactor_t *self)
{
    vstore_iter_t *it = vstore_iter_new (self->parts[0].store, self->cf_offsets, NULL, 0, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    while (it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        //  "<stream>" or "<stream>#<topic>"
        char name[260];
        if (klen >= sizeof name || vlen != 8)
            continue;
        snprintf (name, sizeof name, "%.*s", (int) klen, key);
        char *hash = strchr (name, '#');
        if (hash)
            *hash = 0;
        s_offset_t *o = s_offset (self, name, hash ? hash + 1 : NULL, true);
        if (o)
            o->applied = o->committed = vstore_from_be64 (val);
    }
    vstore_iter_destroy (&it);
}

//  ---------------------------------------------------------------- life cycle

static int
s_open_stores (vactor_t *self)
{
    const char *cfs[VSTORE_MAX_CF];
    size_t n = 0;
    for (const char *const *c = self->def->column_families; c && *c && n < VSTORE_MAX_CF - 3; c++)
        cfs[n++] = *c;
    cfs[n++] = "outbox";
    cfs[n++] = "offsets";
    cfs[n++] = "meta";
    self->parts = calloc (self->nowned, sizeof *self->parts);
    if (!self->parts)
        return -VE_NOMEM;
    //  One helper per owned partition but the first (the actor's thread syncs one), at most 7.
    if (self->nowned > 1
        && !(self->syncer = vstore_syncer_new (self->nowned - 1 < 7 ? self->nowned - 1 : 7)))
        return -VE_NOMEM;
    for (size_t i = 0; i < self->nowned; i++) {
        s_part_t *part = &self->parts[i];
        part->partition = self->owned[i];
        char dir[1024], err[512];
        snprintf (dir, sizeof dir, "%s/%s/p%u", vactor_config (self, "data"), self->service,
                  part->partition);
        part->store = vstore_open (dir, cfs, n, err, sizeof err);
        if (!part->store) {
            vbus_log ('E', self->service, "cannot open store %s: %s", dir, err);
            return -VE_IO;
        }
        self->cf_outbox = vstore_cf (part->store, "outbox");
        self->cf_offsets = vstore_cf (part->store, "offsets");
        self->cf_meta = vstore_cf (part->store, "meta");
        //  The outbox's last key is the last sequence number given.
        vstore_iter_t *it = vstore_iter_new (part->store, self->cf_outbox, NULL, 0, NULL, 0);
        vstore_iter_last (it);
        const char *key, *val;
        size_t klen, vlen;
        part->next_seq = 1;
        if (vstore_iter_next (it, &key, &klen, &val, &vlen) && klen == 8)
            part->next_seq = vstore_from_be64 (key) + 1;
        vstore_iter_destroy (&it);
        char *mark = NULL;
        size_t mlen = 0;
        vstore_get (part->store, self->cf_meta, "published", 9, &mark, &mlen);
        part->published = part->marked = mark && mlen == 8 ? vstore_from_be64 (mark) : 0;
        free (mark);
    }
    return 0;
}

static int
s_bind_methods (vactor_t *self, vbus_method_t **vmethods)
{
    size_t n = 0;
    for (const vactor_method_t *m = self->def->methods; m && m->name; m++)
        n++;
    self->bindings = calloc (n + 2, sizeof *self->bindings);
    *vmethods = calloc (n + 3, sizeof **vmethods);
    if (!self->bindings || !*vmethods)
        return -VE_NOMEM;
    for (size_t i = 0; i < n + 2; i++) {
        s_binding_t *b = &self->bindings[i];
        b->actor = self;
        if (i < n) {
            b->kind = KIND_METHOD;
            b->method = &self->def->methods[i];
            b->name = b->method->name;
        }
        else {
            b->kind = i == n ? KIND_REPLAY : KIND_STATS;
            b->name = i == n ? "replay" : "stats";
        }
        b->schema = vmsg_method_find (self->def->service, b->name);
        if (!b->schema && b->kind != KIND_METHOD)
            b->schema = vmsg_method_find ("runtime", b->name);
        if (!b->schema) {
            vbus_log ('E', self->service, "no schema for %s.%s in schemas/", self->def->service,
                      b->name);
            return -VE_CONFIG;
        }
        (*vmethods)[i] = (vbus_method_t) { b->name, s_handle, b };
    }
    self->nbindings = n + 2;
    return 0;
}

static void
s_destroy (vactor_t *self)
{
    for (size_t i = 0; self->parts && i < self->nowned; i++)
        vstore_close (&self->parts[i].store);
    free (self->parts);
    vstore_syncer_destroy (&self->syncer);
    vbus_worker_destroy (&self->worker);
    vbus_sub_destroy (&self->sub);
    vbus_pub_destroy (&self->pub);
    vbus_client_destroy (&self->client);
    vbus_client_destroy (&self->async);
    varena_destroy (&self->arena);
    varena_destroy (&self->txn_arena);
    for (size_t i = 0; i < self->nheld; i++) {
        free (self->held[i].topic);
        free (self->held[i].message);
        free (self->held[i].body);
    }
    free (self->held);
    for (size_t i = 0; i < self->nsends; i++) {
        free (self->sends[i].body);
        free (self->sends[i].async);
    }
    free (self->sends);
    for (size_t i = 0; i < self->noffsets; i++)
        free (self->offsets[i]);
    free (self->offsets);
    vstore_batch_destroy (&self->batch);
    vstore_batch_destroy (&self->cbatch);
    free (self->pending);
    free (self->bindings);
    free (self->owned);
    if (self->wake_fd >= 0)
        close (self->wake_fd);
    for (size_t i = 0; i < self->nsettings; i++) {
        free (self->keys[i]);
        free (self->values[i]);
    }
}

int
vactor_main (const vactor_def_t *def, int argc, char **argv)
{
    vactor_t self_ = { .def = def, .wake_fd = -1 }, *self = &self_;
    zsys_init ();
    zsys_set_logstream (NULL);
    if (s_configure (self, argc, argv) != 0) {
        s_destroy (self);
        return 2;
    }
    const char *who = self->service;
    self->started_ms = vbus_now_ms ();
    self->arena = varena_new (0);
    self->txn_arena = varena_new (0);
    self->batch = vstore_batch_new ();
#ifndef NDEBUG
    self->check_replies = true;
#endif
    //  On in debug builds; VITRINE_CHECK_REPLIES=1 or 0 decides elsewhere (the test harness
    //  sets 1, benchmarks 0).
    if (getenv ("VITRINE_CHECK_REPLIES"))
        self->check_replies = *getenv ("VITRINE_CHECK_REPLIES") == '1';
    char pub_ep[256], sub_ep[256];
    vbus_method_t *vmethods = NULL;
    int rc = 1;
    bool opened = false;
    if (!self->arena || !self->txn_arena || !self->batch || s_open_stores (self) != 0)
        goto done;
    if (vbus_endpoint_offset (self->broker, 1, pub_ep, sizeof pub_ep)
        || vbus_endpoint_offset (self->broker, 2, sub_ep, sizeof sub_ep)) {
        fprintf (stderr, "vitrine-%s: broker: expected tcp://host:port or ipc://path, got '%s'\n",
                 who, self->broker);
        rc = 2;
        goto done;
    }
    self->pub = vbus_pub_new (pub_ep);
    if (!self->pub || s_bind_methods (self, &vmethods) != 0)
        goto done;
    if (def->open) {
        int orc = def->open (self);
        if (orc != 0) {
            vbus_log ('E', who, "could not start (see above)");
            rc = orc == -VE_CONFIG ? 2 : 1;
            goto done;
        }
        opened = true;
    }
    //  Consumers subscribe first, then catch up on what they missed, then serve: a replica
    //  answers reads only once it has caught up.
    if (def->consumes && def->on_event) {
        self->cbatch = vstore_batch_new_indexed ();
        const char *families[33];
        char storage[32][S_TOPIC_MAX + 1];
        s_subscriptions (self, families, storage, 33);
        self->sub = vbus_sub_new (sub_ep, families);
        s_load_offsets (self);
        const char *follow = vactor_config (self, "follow");
        for (const char *p = follow; p && *p;) {
            const char *comma = strchr (p, ',');
            size_t len = comma ? (size_t) (comma - p) : strlen (p);
            char stream[129];
            snprintf (stream, sizeof stream, "%.*s", (int) len, p);
            s_offset (self, stream, NULL, true);
            p = comma ? comma + 1 : p + len;
        }
        for (size_t i = 0; i < self->noffsets; i++)
            if (s_catch_up (self, self->offsets[i], 0) == 0)
                vbus_log ('I', who, "caught up on %s%s%s at #%llu", self->offsets[i]->stream,
                          *self->offsets[i]->topic ? " for " : "", self->offsets[i]->topic,
                          (unsigned long long) self->offsets[i]->applied);
    }
    //  The delay lets the publisher's connection settle before the backlog goes out.
    zclock_sleep (100);
    for (size_t i = 0; i < self->nowned; i++)
        s_publish_backlog (self, &self->parts[i]);

    long credit, heartbeat;
    vactor_config_long (self, "credit", 1, 100000, 64, &credit);
    vactor_config_long (self, "heartbeat_ms", 10, 600000, 1000, &heartbeat);
    vbus_worker_config_t wc = { .endpoint = self->broker,
                                .service = who,
                                .methods = vmethods,
                                .partitions = self->partitions,
                                .owned = vactor_config (self, "owns") ? self->owned : NULL,
                                .owned_count = vactor_config (self, "owns") ? self->nowned : 0,
                                .credit = (uint32_t) credit,
                                .heartbeat_ms = (int) heartbeat,
                                .name = vactor_config (self, "name") };
    self->worker = vbus_worker_new (&wc);
    if (!self->worker)
        goto done;
    vbus_log ('I', who, "serving %zu partitions of %u from %s", self->nowned, self->partitions,
              vactor_config (self, "data"));

    //  The watch runs after every batch of requests: the group commit's flush, the replies of
    //  asynchronous calls, on_wake.
    self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->wake_fd < 0) {
        vbus_log ('E', who, "eventfd: %s", strerror (errno));
        goto done;
    }
    vbus_worker_watch (self->worker, self->wake_fd, s_on_wake, self);
    int64_t next_housekeeping = vbus_mono_us () / 1000 + 1000;
    while (!vbus_worker_stopping (self->worker)) {
        //  The client's fd is edge-triggered, and a send can swallow the edge of a reply that
        //  arrived meanwhile: take what is there before sleeping on it, else such a reply
        //  waits for the poll's timeout (a saga step stalled up to 100 ms at low load).
        while (self->async && vbus_client_pending (self->async)
               && vbus_client_dispatch (self->async) > 0)
            s_flush (self);
        //  The worker's socket, the wake-up fd, the subscriber and the asynchronous calls'
        //  client (when there are ones); the worker refreshes its socket when it reconnects.
        zmq_pollitem_t items[4] = { { vbus_worker_socket (self->worker), 0, ZMQ_POLLIN, 0 },
                                    { NULL, self->wake_fd, ZMQ_POLLIN, 0 } };
        int nitems = 2, timeout = 100;
        if (self->sub)
            items[nitems++] = (zmq_pollitem_t) { vbus_sub_socket (self->sub), 0, ZMQ_POLLIN, 0 };
        if (self->async && vbus_client_pending (self->async)) {
            items[nitems++] = (zmq_pollitem_t) { NULL, vbus_client_fd (self->async), ZMQ_POLLIN,
                                                 0 };
            int next = vbus_client_next_timeout (self->async);
            timeout = next >= 0 && next < timeout ? next : timeout;
        }
        zmq_poll (items, nitems, timeout);
        vbus_worker_poll (self->worker, 0);
        vbus_event_t ev;
        //  What arrived together is applied together: one commit for the lot.
        for (int i = 0;
             self->sub && i < CONSUME_BATCH && vbus_sub_recv (self->sub, &ev, 0) != -VE_TIMEOUT;
             i++)
            if (!ev.duplicate && ev.topic)
                s_consume (self, &ev);
        s_consume_commit (self);
        if (vbus_mono_us () / 1000 >= next_housekeeping) {
            s_housekeeping (self);
            next_housekeeping = vbus_mono_us () / 1000 + 1000;
        }
    }
    vbus_worker_drain (self->worker);
    s_flush (self);
    //  Calls still out (a background poll, a saga's step) get their reply or their local
    //  timeout before the stores close, so each callback runs exactly once; a callback may
    //  send again, so this is bounded.
    for (int64_t end = vbus_mono_us () / 1000 + S_STOP_CALLS_MS;
         self->async && vbus_client_pending (self->async) && vbus_mono_us () / 1000 < end;) {
        zmq_pollitem_t item = { NULL, vbus_client_fd (self->async), ZMQ_POLLIN, 0 };
        int next = vbus_client_next_timeout (self->async);
        zmq_poll (&item, 1, next >= 0 && next < 100 ? next : 100);
        vbus_client_dispatch (self->async);
        s_flush (self);
    }
    if (self->async && vbus_client_pending (self->async))
        vbus_log ('W', who, "stopping with calls still out (no reply in %d ms)", S_STOP_CALLS_MS);
    s_housekeeping (self);
    rc = 0;
done:
    if (def->close && opened)
        def->close (self);
    free (vmethods);
    vbus_log ('I', who, "stopped");
    s_destroy (self);
    return rc;
}
