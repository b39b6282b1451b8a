//  vbroker_internal.h — what the files of the broker daemon share (not a public API): its
//  state (broker_t with its services and workers) and the service "broker" that
//  vbroker_service.c answers. The routing itself, and the slots requests live in, stay in
//  vbroker.c.
#ifndef VBROKER_INTERNAL_H
#define VBROKER_INTERNAL_H

#include "vbus_proto.h"
#include "vheap.h"
#include "vhist.h"
#include "vroute.h"
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define WHO    "broker"
#define MAX_ID 255  //  bytes of a worker's routing id

typedef struct slot_s slot_t;  //  a request held by the broker (vbroker.c alone reads one)
typedef struct service_s service_t;
typedef struct worker_s worker_t;

//  A service: its workers, its queue (slots linked through prev/next) and its counters.
struct service_s {
    char name[VBUS_MAX_SERVICE + 1];
    size_t name_len;
    uint32_t partitions;
    worker_t **workers;
    size_t nworkers, capworkers;
    uint32_t queue_head, queue_tail;
    size_t queued;
    size_t in_flight;
    uint64_t requests, replies, errors, timeouts, busy, unavailable;
    vhist_t latency;
};

//  A worker, found by its routing id in broker_t.worker_hash; its requests in flight are
//  slots linked from inflight_head.
struct worker_s {
    vroute_worker_t route;
    uint8_t id[MAX_ID];
    size_t id_len;
    service_t *service;
    char name[129];
    int heartbeat_ms;
    int64_t last_seen;  //  monotonic ms
    int64_t next_heartbeat;
    uint32_t inflight_head;
    uint64_t handled, sent;
    uint8_t bits[VBUS_MAX_PARTITIONS / 8];
    worker_t *hash_next;
};

#define WORKER_BUCKETS 1024

//  A warning logged at most once a second, with how many happened since the last line.
typedef struct {
    int64_t logged_at;  //  monotonic ms of the last line (0 = none yet)
    uint64_t since;     //  events since then
} ratelog_t;

//  The daemon: one per process, on the stack of main.
typedef struct {
    //  config
    const char *bind, *pub_bind, *sub_bind;
    size_t max_queue;
    uint32_t max_slots;
    int64_t max_msg;
    //  sockets
    zsock_t *router_sock, *xsub_sock, *xpub_sock;
    void *router, *xsub, *xpub;
    //  state
    slot_t *slots;
    uint32_t free_head;
    vheap_t deadlines;
    service_t **services;
    size_t nservices, capservices;
    worker_t *worker_hash[WORKER_BUCKETS];
    int64_t started_ms;
    int64_t next_tick;
    //  counters
    uint64_t requests, replies, errors, drops, malformed;
    uint64_t events_in, events_out, events_dropped;
    ratelog_t malformed_log, refused_log;
    //  Random bytes for tokens, refilled from the kernel's generator when used up.
    uint8_t random[256];
    size_t random_at;
} broker_t;

//  Monotonic milliseconds (heartbeats, idle times, uptime).
static inline int64_t
vbroker__mono_ms (void)
{
    return vbus_mono_us () / 1000;
}

//  ---------------------------------------------------------------- vbroker_service.c
//  Answers method h->method of the service "broker" (ping, services, workers, stats): packs
//  the reply body into reply and returns VE_OK, or returns an error status with *error set
//  to its message (a static string). ping is open to anyone, the others need the service or
//  admin role. Reads the broker's tables and counters and changes none of them; the caller
//  sends the reply and counts it. Runs on the broker's thread, like everything here.
int vbroker__service (broker_t *self, const vbus__header_t *h, const void *body, size_t body_len,
                      vbuf_t *reply, const char **error);

#endif
