//  broker.schema.c — the broker's own service (broker.*): what it reports about services,
//  workers and traffic. The broker encodes its replies to match these tables.
#include "vmsg.h"
#include "vbus.h"

//  ---------------------------------------------------------------- broker.ping
static const vmsg_field_t s_ping_reply_fields[] = {
    { "time_ms", VMSG_INT, VMSG_REQUIRED, .doc = "the broker's clock, ms since the Unix epoch" },
    { "version", VMSG_UINT, VMSG_REQUIRED, .doc = "bus protocol version (VBUS_VERSION)" },
    { 0 }
};
static const vmsg_schema_t s_ping_reply = { "broker.ping.reply", s_ping_reply_fields,
                                            .doc = "The broker is alive." };

//  ---------------------------------------------------------------- broker.services
static const vmsg_field_t s_service_fields[] = {
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_SERVICE), .doc = "service name" },
    { "partitions", VMSG_UINT, VMSG_REQUIRED, .doc = "partitions P of the service" },
    { "workers", VMSG_UINT, VMSG_REQUIRED, .doc = "workers connected" },
    { "queued", VMSG_UINT, VMSG_REQUIRED, .doc = "requests waiting for a worker" },
    { "in_flight", VMSG_UINT, VMSG_REQUIRED, .doc = "requests given to workers, not yet answered" },
    { 0 }
};
static const vmsg_schema_t s_service = { "broker.service", s_service_fields,
                                         .doc = "One service as the broker sees it." };
static const vmsg_field_t s_services_reply_fields[] = {
    { "services", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_service,
      .doc = "every service with at least one worker or one queued request" },
    { 0 }
};
static const vmsg_schema_t s_services_reply = { "broker.services.reply", s_services_reply_fields,
                                                .doc = "The services the broker knows." };

//  ---------------------------------------------------------------- broker.workers
static const vmsg_field_t s_workers_request_fields[] = {
    { "service", VMSG_STR, VMSG_LEN (1, VBUS_MAX_SERVICE),
      .doc = "only this service's workers (absent: all)" },
    { 0 }
};
static const vmsg_schema_t s_workers_request = { "broker.workers.request", s_workers_request_fields,
                                                 .doc = "Which workers to list." };
static const vmsg_field_t s_worker_fields[] = {
    { "service", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_SERVICE), .doc = "its service" },
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 128), .doc = "instance name (host:pid)" },
    { "partitions", VMSG_ARRAY, VMSG_UINT, VMSG_REQUIRED, VMSG_MAX (VBUS_MAX_PARTITIONS - 1),
      VMSG_COUNT (0, VBUS_MAX_PARTITIONS), .doc = "partitions it owns; empty = all" },
    { "credit", VMSG_UINT, VMSG_REQUIRED, .doc = "requests it takes at once" },
    { "in_flight", VMSG_UINT, VMSG_REQUIRED, .doc = "requests it holds now" },
    { "handled", VMSG_UINT, VMSG_REQUIRED, .doc = "requests it answered" },
    { "idle_ms", VMSG_UINT, VMSG_REQUIRED, .doc = "ms since the broker last heard from it" },
    { "draining", VMSG_BOOL, VMSG_REQUIRED, .doc = "leaving: takes no new requests" },
    { 0 }
};
static const vmsg_schema_t s_worker = { "broker.worker", s_worker_fields,
                                        .doc = "One connected worker." };
static const vmsg_field_t s_workers_reply_fields[] = { { "workers", VMSG_ARRAY, VMSG_MSG,
                                                         VMSG_REQUIRED, .schema = &s_worker,
                                                         .doc = "connected workers" },
                                                       { 0 } };
static const vmsg_schema_t s_workers_reply = { "broker.workers.reply", s_workers_reply_fields,
                                               .doc = "Workers per service." };

//  ---------------------------------------------------------------- broker.stats
static const vmsg_field_t s_service_stats_fields[] = {
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_SERVICE), .doc = "service name" },
    { "requests", VMSG_UINT, VMSG_REQUIRED, .doc = "requests received" },
    { "replies", VMSG_UINT, VMSG_REQUIRED, .doc = "replies relayed from workers" },
    { "errors", VMSG_UINT, VMSG_REQUIRED, .doc = "replies with a status other than ok" },
    { "timeouts", VMSG_UINT, VMSG_REQUIRED, .doc = "requests whose deadline passed" },
    { "busy", VMSG_UINT, VMSG_REQUIRED, .doc = "requests refused: queue full" },
    { "unavailable", VMSG_UINT, VMSG_REQUIRED, .doc = "requests refused: no worker" },
    { "queued", VMSG_UINT, VMSG_REQUIRED, .doc = "requests waiting now" },
    { "in_flight", VMSG_UINT, VMSG_REQUIRED, .doc = "requests at workers now" },
    { "p50_us", VMSG_UINT, VMSG_REQUIRED, .doc = "median latency, µs (broker in to reply out)" },
    { "p90_us", VMSG_UINT, VMSG_REQUIRED, .doc = "90th percentile latency, µs" },
    { "p99_us", VMSG_UINT, VMSG_REQUIRED, .doc = "99th percentile latency, µs" },
    { "max_us", VMSG_UINT, VMSG_REQUIRED, .doc = "highest latency, µs" },
    { 0 }
};
static const vmsg_schema_t s_service_stats = { "broker.service_stats", s_service_stats_fields,
                                               .doc = "Counters of one service." };
static const vmsg_field_t s_stats_reply_fields[] = {
    { "uptime_ms", VMSG_UINT, VMSG_REQUIRED, .doc = "ms since the broker started" },
    { "requests", VMSG_UINT, VMSG_REQUIRED, .doc = "requests received" },
    { "replies", VMSG_UINT, VMSG_REQUIRED, .doc = "replies sent to clients" },
    { "errors", VMSG_UINT, VMSG_REQUIRED, .doc = "replies with a status other than ok" },
    { "drops", VMSG_UINT, VMSG_REQUIRED, .doc = "messages that could not be delivered" },
    { "malformed", VMSG_UINT, VMSG_REQUIRED, .doc = "messages refused as malformed" },
    { "events_in", VMSG_UINT, VMSG_REQUIRED, .doc = "events received from publishers" },
    { "events_out", VMSG_UINT, VMSG_REQUIRED, .doc = "events sent to subscribers" },
    { "events_dropped", VMSG_UINT, VMSG_REQUIRED, .doc = "events dropped (slow subscribers)" },
    { "services", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_service_stats,
      .doc = "per service" },
    { 0 }
};
static const vmsg_schema_t s_stats_reply = { "broker.stats.reply", s_stats_reply_fields,
                                             .doc = "Traffic counters and latencies." };

//  ---------------------------------------------------------------- the domain
static const vmsg_method_t s_methods[] = {
    { "broker", "ping", &vmsg_empty, &s_ping_reply, VMSG_ROLE_PUBLIC,
      "Answers at once: a liveness check that needs no worker." },
    { "broker", "services", &vmsg_empty, &s_services_reply, VMSG_ROLE_SERVICE,
      "Lists services with their partitions, workers and queue depths." },
    { "broker", "workers", &s_workers_request, &s_workers_reply, VMSG_ROLE_SERVICE,
      "Lists connected workers, optionally of one service." },
    { "broker", "stats", &vmsg_empty, &s_stats_reply, VMSG_ROLE_SERVICE,
      "Request counts, errors and latency percentiles, overall and per service." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_broker = {
    "broker", s_methods, NULL,
    "The broker answers these itself: what it routes, to whom, and how fast."
};
