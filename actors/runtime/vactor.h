//  vactor.h — what every actor links: config, its stores, the transactional outbox and the
//  replay method, the stream consumer, the clock, stats, logging and a clean SIGTERM. An actor
//  is a table of methods; a handler reads a validated request and writes a reply, and never
//  touches a socket or a transaction:
//
//      static const vactor_method_t s_methods[] = {
//          { "register", auth_register, false }, { "login", auth_login, false }, { 0 } };
//      static const vactor_def_t s_def = { .service = "auth", .methods = s_methods,
//                                          .column_families = s_cfs };
//      int main (int argc, char **argv) { return vactor_main (&s_def, argc, argv); }
//
//  Each method's request/reply schema and required role come from schemas/ (vmsg_method_find):
//  the runtime decodes and validates the body, checks the caller's role, runs the handler, and
//  when it returns VE_OK commits the call's batch — state and emitted events in one atomic
//  RocksDB write — before the reply leaves. So once a caller sees ok, a kill -9 loses nothing.
//  Everything here runs on the actor's one thread.
//
//  Group commit: a `sync` method's batch is written at once but fsync'ed later, once for every
//  call handled in the same round (the worker's batch of requests); its reply, and every reply
//  and event after it, wait until that fsync is done. Under load many calls share one sync.
//
//  An actor never waits on another actor: vactor_send calls one asynchronously and the reply
//  comes back on the actor's thread, where vactor_txn writes what it changes (state and events,
//  like a handler) and vactor_reply answers a deferred call.
#ifndef VACTOR_H
#define VACTOR_H

#include "vbus.h"
#include "vbus_util.h"
#include "vmsg.h"
#include "vstore.h"

typedef struct vactor_s vactor_t;

//  One request being handled. Every pointer is valid until the handler returns.
typedef struct vactor_call_s {
    vactor_t *actor;
    const vbus_request_t *req;  //  envelope: caller, trace id, key, partition, deadline
    const vmsg_value_t *body;   //  the request, validated against its schema
    varena_t *arena;            //  memory freed after the reply
    vstore_t *store;            //  the store of the request's partition
    uint32_t partition;
    vstore_batch_t *batch;  //  writes: committed only if the handler returns VE_OK
    vbus_out_t *out;        //  the reply: msgpack into out->pk; errors: vbus_out_error
    //  Set by the handler (vactor_after_commit): what to do once the batch is durable, such as
    //  updating an in-memory index. Not called when the call fails.
    void (*after_commit) (struct vactor_call_s *call, void *arg);
    void *after_arg;
    bool deferred;       //  set by vactor_defer
    bool keep_on_error;  //  set by vactor_keep_on_error
} vactor_call_t;

//  Commits the call's writes even though the handler returns an error: for a refusal that is
//  itself a result to remember (an idempotency record of a conflict, replayed later). The
//  reply still carries the error; durability is as for an ok of the same method. A call that
//  emitted events cannot keep its writes (logged; nothing is kept).
void vactor_keep_on_error (vactor_call_t *call);

//  Runs fn (call, arg) after the call's batch committed, before the reply leaves: in-memory
//  state derived from the store changes only once the store has.
void vactor_after_commit (vactor_call_t *call, void (*fn) (vactor_call_t *call, void *arg),
                          void *arg);

typedef int (vactor_handler_fn) (vactor_call_t *call);

typedef struct {
    const char *name;  //  NULL ends the table
    vactor_handler_fn *fn;
    bool sync;  //  commit with fsync before replying (money, orders)
} vactor_method_t;

typedef struct {
    const char *service;
    const vactor_method_t *methods;
    const char *const *column_families;  //  NULL-terminated; "outbox", "offsets", "meta" are
                                         //  the runtime's own and always present
    uint32_t partitions;                 //  the service's P when the config does not say
    const char *const *config_keys;      //  settings of its own it accepts (NULL-terminated)
    //  Called once the stores are open and the config read, before any request; non-zero
    //  stops the actor — log why: -VE_CONFIG exits 2 (bad configuration), anything else 1.
    //  May be NULL.
    int (*open) (vactor_t *actor);
    //  Called after the last request, before the stores close, whenever open succeeded.
    //  May be NULL.
    void (*close) (vactor_t *actor);
    //  Event streams to consume (topic prefixes, NULL-terminated) and the handler applying one
    //  event. It writes its derived state into batch; the runtime adds the stream's offset to
    //  the same batch and commits, so each event takes effect exactly once. One batch holds
    //  the events that arrived together (up to 512), and reads of store see what the events
    //  before in the batch wrote. A negative return drops this event's writes (not the
    //  others'), and the event comes again by replay; the handler must then leave its memory
    //  as it was too.
    const char *const *consumes;
    int (*on_event) (vactor_t *actor, const vbus_event_t *event, const vmsg_value_t *body,
                     vstore_t *store, vstore_batch_t *batch);
    //  Called before a batch of events commits: writes into batch what the handler kept in
    //  memory across the batch's events (sums to add, say). Non-zero: nothing of the batch
    //  commits and its events come again. May be NULL.
    int (*before_commit) (vactor_t *actor, vstore_t *store, vstore_batch_t *batch);
    //  Called after a batch of events was written (ok) or failed to be (its events come again
    //  by replay, while what handlers moved in memory stays moved). May be NULL.
    void (*after_commit) (vactor_t *actor, bool ok);
    //  Runs on the actor's thread soon after any thread called vactor_wake (and at least once
    //  a second): where work finished elsewhere is answered with vactor_reply. It keeps running
    //  during the SIGTERM drain until every deferred call is answered. May be NULL.
    void (*on_wake) (vactor_t *actor);
} vactor_def_t;

//  Parses config and flags, opens the stores, connects, serves until SIGTERM, drains, closes.
//  Returns the process exit status: 0 after a clean stop, 1 on a failure to start, 2 on bad
//  configuration (with a message naming the setting on stderr).
//  Flags: --config FILE, --broker EP, --data DIR, --partitions P, --owns 0,3, --name NAME,
//  --log-level D|I|W|E, --set key=value (any setting). The file holds "key = value" lines.
int vactor_main (const vactor_def_t *def, int argc, char **argv);

//  Appends an event to the call's batch (the outbox of the call's partition): it is published
//  after the commit, on stream "<service>/<partition>" with the next sequence number, and kept
//  for replay. body is msgpack (validated against the topic's schema when one exists).
//  Returns 0, -VE_INVAL (bad topic), -VE_BAD_REQUEST (body breaks the event's schema).
int vactor_emit (vactor_call_t *call, const char *topic, const void *body, size_t len);

//  Deferred calls, for work that must not block the actor's thread (rendering, a checkout
//  waiting on other actors): the handler copies the call's return address with vactor_defer
//  and returns VBUS_DEFERRED; later, on the actor's thread (on_wake, a vactor_send callback),
//  vactor_reply answers it. What the handler wrote commits as for any call; start the work the
//  call waits for in after_commit: when the commit fails the runtime answers the call with
//  internal and after_commit does not run.
void vactor_defer (vactor_call_t *call, vbus_defer_t *out);
//  Answers a deferred call (see vbus_worker_reply); held back until the group commit's fsync
//  when a synced write is pending. Actor thread only. Returns 0 or a negative code.
int vactor_reply (vactor_t *actor, const vbus_defer_t *d, int status, const char *message,
                  const void *body, size_t body_len);

//  A local transaction, for writes no request started (a reply from another actor, a sweep,
//  a timer): runs fn (call, arg) with a call whose req and body are NULL and whose out is a
//  scratch buffer (vbus_out_error sets the message that is logged). fn writes call->batch and
//  emits events exactly as a handler does; when it returns VE_OK they commit together (synced
//  through the group commit when sync) and the events are published; else nothing happened.
//  Not from inside a handler or another transaction. Returns 0, -status when fn failed,
//  -VE_INVAL (partition not owned here, or nested), -VE_INTERNAL when the store failed.
typedef int (vactor_txn_fn) (vactor_call_t *call, void *arg);
int vactor_txn (vactor_t *actor, uint32_t partition, bool sync, vactor_txn_fn *fn, void *arg);

//  Calls another actor without waiting: fn (actor, reply, arg) runs later on the actor's
//  thread, exactly once, with the reply or a local timeout (reply->status VE_TIMEOUT). opts
//  as for vbus_client_send (may be NULL); the caller defaults to this service with the
//  service role. Returns 0, or a negative code (fn is then never called).
typedef void (vactor_reply_fn) (vactor_t *actor, const vbus_reply_t *reply, void *arg);
int vactor_send (vactor_t *actor, const char *service, const char *method, const void *body,
                 size_t len, const vbus_opts_t *opts, vactor_reply_fn *fn, void *arg);
//  Makes the actor's thread run def->on_wake soon. Thread-safe and async-signal-safe.
void vactor_wake (vactor_t *actor);

//  The actor's clock, milliseconds since the epoch. Tests shift it with the setting
//  "clock_offset_ms" or replace it with vactor_set_clock.
int64_t vactor_now_ms (const vactor_t *actor);

//  The last sequence number of stream the consumer applied (staged in the current batch
//  included); 0 when none. In on_event: the event before this one.
uint64_t vactor_stream_applied (vactor_t *actor, const char *stream);
void vactor_set_clock (vactor_t *actor, int64_t (*now) (void *arg), void *arg);

//  A setting's value (NULL when unset); numbers parsed with a clear error on bad values.
const char *vactor_config (const vactor_t *actor, const char *key);
//  Reads a number setting in min..max (dflt when unset); on a bad value logs the setting and
//  returns -VE_CONFIG (open should then fail).
int vactor_config_long (const vactor_t *actor, const char *key, long min, long max, long dflt,
                        long *out);

//  The actor's own state (set in open, read in handlers).
void vactor_set_state (vactor_t *actor, void *state);
void *vactor_state (const vactor_t *actor);
//  The store of a partition this process owns (NULL otherwise), and the owned partitions.
vstore_t *vactor_store (const vactor_t *actor, uint32_t partition);
//  The store on_event writes into (the first owned partition's): where a handler reads the
//  state the streams built. NULL before the stores are open.
vstore_t *vactor_events_store (const vactor_t *actor);
size_t vactor_owned (const vactor_t *actor, const uint32_t **partitions);
uint32_t vactor_partitions (const vactor_t *actor);
//  A bus client for calling other actors synchronously from a handler (keep such calls short:
//  the worker's heartbeats wait meanwhile).
vbus_client_t *vactor_client (vactor_t *actor);
const char *vactor_service (const vactor_t *actor);

#endif
