//  runtime.schema.c — the methods every actor has, served by the actor runtime
//  (actors/runtime/vactor.c): <service>.replay (events of a partition's outbox, for consumers
//  filling gaps and replicas catching up) and <service>.stats (counters and latencies).
#include "vbus.h"
#include "vmsg.h"

//  ---------------------------------------------------------------- replay
static const vmsg_field_t s_replay_request_fields[] = {
    { "partition", VMSG_UINT, VMSG_REQUIRED, VMSG_MAX (VBUS_MAX_PARTITIONS - 1),
      .doc = "the partition whose outbox to read (send the request to that partition)" },
    { "from", VMSG_UINT, VMSG_REQUIRED, VMSG_MIN (1), .doc = "first sequence number wanted" },
    { "limit", VMSG_UINT, VMSG_RANGE (1, 1000), .doc = "events at most (default 500)" },
    { 0 }
};
static const vmsg_schema_t s_replay_request = { "runtime.replay.request", s_replay_request_fields,
                                                .doc = "Where to resume a stream." };
static const vmsg_field_t s_event_fields[] = {
    { "seq", VMSG_UINT, VMSG_REQUIRED, .doc = "sequence number in the stream" },
    { "topic", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, 128), .doc = "<domain>.<event>" },
    { "time_ms", VMSG_INT, VMSG_REQUIRED, .doc = "when it was committed" },
    { "body", VMSG_BYTES, VMSG_REQUIRED, VMSG_LEN (0, 1 << 20), .doc = "the event (msgpack)" },
    { 0 }
};
static const vmsg_schema_t s_event = { "runtime.event", s_event_fields,
                                       .doc = "One event of an outbox." };
static const vmsg_field_t s_replay_reply_fields[] = {
    { "stream", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, 128), .doc = "<service>/<partition>" },
    { "events", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 1000), .schema = &s_event,
      .doc = "in sequence order, from the first kept at or after 'from'" },
    { "last", VMSG_UINT, VMSG_REQUIRED, .doc = "the highest sequence number committed" },
    { "first", VMSG_UINT, VMSG_REQUIRED,
      .doc = "the lowest still kept (older ones fell to retention)" },
    { 0 }
};
static const vmsg_schema_t s_replay_reply = { "runtime.replay.reply", s_replay_reply_fields,
                                              .doc = "A page of the stream." };

//  ---------------------------------------------------------------- stats
static const vmsg_field_t s_method_stats_fields[] = {
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_METHOD), .doc = "the method" },
    { "calls", VMSG_UINT, VMSG_REQUIRED, .doc = "requests handled" },
    { "errors", VMSG_UINT, VMSG_REQUIRED, .doc = "calls answered with another status than ok" },
    { "p50_us", VMSG_UINT, VMSG_REQUIRED, .doc = "median handling time, µs" },
    { "p99_us", VMSG_UINT, VMSG_REQUIRED, .doc = "99th percentile, µs" },
    { "max_us", VMSG_UINT, VMSG_REQUIRED, .doc = "slowest, µs" },
    { 0 }
};
static const vmsg_schema_t s_method_stats = { "runtime.method_stats", s_method_stats_fields,
                                              .doc = "One method's counters." };
static const vmsg_field_t s_partition_stats_fields[] = {
    { "partition", VMSG_UINT, VMSG_REQUIRED, .doc = "the partition" },
    { "last_seq", VMSG_UINT, VMSG_REQUIRED, .doc = "highest event sequence committed" },
    { "published", VMSG_UINT, VMSG_REQUIRED, .doc = "highest event sequence published" },
    { 0 }
};
static const vmsg_schema_t s_partition_stats = { "runtime.partition_stats",
                                                 s_partition_stats_fields,
                                                 .doc = "One partition's outbox." };
static const vmsg_field_t s_stats_reply_fields[] = {
    { "service", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_SERVICE),
      .doc = "the service it serves" },
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 128), .doc = "this process's name" },
    { "uptime_ms", VMSG_UINT, VMSG_REQUIRED, .doc = "since the process started" },
    { "methods", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_method_stats,
      .doc = "every method, the runtime's included" },
    { "partitions", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_partition_stats,
      .doc = "every partition this process owns" },
    { "events_received", VMSG_UINT, VMSG_REQUIRED, .doc = "events the subscription delivered" },
    { "events_applied", VMSG_UINT, VMSG_REQUIRED, .doc = "events consumed and applied" },
    { "gaps", VMSG_UINT, VMSG_REQUIRED, .doc = "lost events noticed (a live event after a gap)" },
    { "gaps_filled", VMSG_UINT, VMSG_REQUIRED, .doc = "gaps closed by replay" },
    { "synced_commits", VMSG_UINT, VMSG_REQUIRED,
      .doc = "writes of sync methods and transactions (durable when answered)" },
    { "syncs", VMSG_UINT, VMSG_REQUIRED,
      .doc = "WAL fsyncs that made them durable (group commit: fewer than the writes)" },
    { 0 }
};
static const vmsg_schema_t s_stats_reply = { "runtime.stats.reply", s_stats_reply_fields,
                                             .doc = "One actor process's figures." };

static const vmsg_method_t s_methods[] = {
    { "runtime", "replay", &s_replay_request, &s_replay_reply, VMSG_ROLE_SERVICE,
      "Every actor's <service>.replay: a page of a partition's event stream." },
    { "runtime", "stats", &vmsg_empty, &s_stats_reply, VMSG_ROLE_SERVICE | VMSG_ROLE_ADMIN,
      "Every actor's <service>.stats: per-method counters and latencies, outbox positions." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_runtime = {
    "runtime", s_methods, NULL,
    "Methods every actor process serves through the runtime, under its own service name."
};
