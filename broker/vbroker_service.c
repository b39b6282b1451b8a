//  vbroker_service.c — the service "broker", answered by the broker itself rather than routed:
//  ping (anyone), services, workers and stats (the service or admin role), for vtctl, the
//  edge's /readyz and the operators. Everything it says is read from the broker's own tables;
//  it changes nothing, so it can never disturb the routing beside it (vbroker.c).
#include "vbroker_internal.h"
#include <string.h>

static int
s_pack_service_stats (msgpack_packer *pk, service_t *s)
{
    msgpack_pack_map (pk, 14);
    vmp_pack_kstr (pk, "name", s->name);
    vmp_pack_kuint (pk, "requests", s->requests);
    vmp_pack_kuint (pk, "replies", s->replies);
    vmp_pack_kuint (pk, "errors", s->errors);
    vmp_pack_kuint (pk, "timeouts", s->timeouts);
    vmp_pack_kuint (pk, "busy", s->busy);
    vmp_pack_kuint (pk, "unavailable", s->unavailable);
    vmp_pack_kuint (pk, "queued", s->queued);
    vmp_pack_kuint (pk, "in_flight", s->in_flight);
    vmp_pack_kuint (pk, "p50_us", vhist_pct (&s->latency, 0.50));
    vmp_pack_kuint (pk, "p90_us", vhist_pct (&s->latency, 0.90));
    vmp_pack_kuint (pk, "p99_us", vhist_pct (&s->latency, 0.99));
    vmp_pack_kuint (pk, "max_us", s->latency.max);
    vmp_pack_kuint (pk, "workers", s->nworkers);
    return 0;
}

static void
s_pack_worker (msgpack_packer *pk, worker_t *w)
{
    msgpack_pack_map (pk, 8);
    vmp_pack_kstr (pk, "service", w->service->name);
    vmp_pack_kstr (pk, "name", w->name);
    vmp_pack_cstr (pk, "partitions");
    uint32_t owned = 0;
    for (uint32_t p = 0; !w->route.all && p < w->service->partitions; p++)
        owned += vroute_owns (&w->route, p);
    msgpack_pack_array (pk, owned);
    for (uint32_t p = 0; !w->route.all && p < w->service->partitions; p++)
        if (vroute_owns (&w->route, p))
            msgpack_pack_uint32 (pk, p);
    vmp_pack_kuint (pk, "credit", w->route.credit);
    vmp_pack_kuint (pk, "in_flight", w->route.in_flight);
    vmp_pack_kuint (pk, "handled", w->handled);
    vmp_pack_kuint (pk, "idle_ms", (uint64_t) (vbroker__mono_ms () - w->last_seen));
    vmp_pack_cstr (pk, "draining");
    w->route.draining ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
}

//  Reads the optional "service" field of broker.workers; *len 0 when absent.
static int
s_read_service_filter (const void *body, size_t body_len, const char **name, uint32_t *len)
{
    *len = 0;
    if (body_len == 0)
        return 0;
    vmp_reader_t r;
    vmp_reader_init (&r, body, body_len);
    uint32_t n;
    if (vmp_check (body, body_len, 8) != 0 || vmp_read_map (&r, &n) != 0)
        return -VE_BAD_REQUEST;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        if (vmp_read_str (&r, &k, &klen) != 0)
            return -VE_BAD_REQUEST;
        if (klen == 7 && memcmp (k, "service", 7) == 0) {
            if (vmp_read_str (&r, name, len) != 0 || *len > VBUS_MAX_SERVICE)
                return -VE_BAD_REQUEST;
        }
        else if (vmp_skip (&r, 8) != 0)
            return -VE_BAD_REQUEST;
    }
    return 0;
}

int
vbroker__service (broker_t *self, const vbus__header_t *h, const void *body, size_t body_len,
                  vbuf_t *reply, const char **error)
{
    msgpack_packer pk;
    vmp_packer_init (&pk, reply);
    int status = VE_OK;
    *error = "";
    bool is_ping = h->method_len == 4 && memcmp (h->method, "ping", 4) == 0;
    if (!is_ping && !(h->roles & (VBUS_ROLE_SERVICE | VBUS_ROLE_ADMIN))) {
        status = VE_FORBIDDEN;
        *error = "broker.* needs the service or admin role";
    }
    else if (is_ping) {
        msgpack_pack_map (&pk, 2);
        vmp_pack_kint (&pk, "time_ms", vbus_now_ms ());
        vmp_pack_kuint (&pk, "version", VBUS_VERSION);
    }
    else if (h->method_len == 8 && memcmp (h->method, "services", 8) == 0) {
        msgpack_pack_map (&pk, 1);
        vmp_pack_cstr (&pk, "services");
        msgpack_pack_array (&pk, self->nservices);
        for (size_t i = 0; i < self->nservices; i++) {
            service_t *s = self->services[i];
            msgpack_pack_map (&pk, 5);
            vmp_pack_kstr (&pk, "name", s->name);
            vmp_pack_kuint (&pk, "partitions", s->partitions);
            vmp_pack_kuint (&pk, "workers", s->nworkers);
            vmp_pack_kuint (&pk, "queued", s->queued);
            vmp_pack_kuint (&pk, "in_flight", s->in_flight);
        }
    }
    else if (h->method_len == 7 && memcmp (h->method, "workers", 7) == 0) {
        const char *filter;
        uint32_t filter_len;
        if (s_read_service_filter (body, body_len, &filter, &filter_len)) {
            status = VE_BAD_REQUEST;
            *error = "service: a string of at most 32 bytes";
        }
        else {
            size_t total = 0;
            for (size_t i = 0; i < self->nservices; i++) {
                service_t *s = self->services[i];
                if (!filter_len
                    || (s->name_len == filter_len && !memcmp (s->name, filter, filter_len)))
                    total += s->nworkers;
            }
            msgpack_pack_map (&pk, 1);
            vmp_pack_cstr (&pk, "workers");
            msgpack_pack_array (&pk, total);
            for (size_t i = 0; i < self->nservices; i++) {
                service_t *s = self->services[i];
                if (!filter_len
                    || (s->name_len == filter_len && !memcmp (s->name, filter, filter_len)))
                    for (size_t j = 0; j < s->nworkers; j++)
                        s_pack_worker (&pk, s->workers[j]);
            }
        }
    }
    else if (h->method_len == 5 && memcmp (h->method, "stats", 5) == 0) {
        msgpack_pack_map (&pk, 10);
        vmp_pack_kuint (&pk, "uptime_ms", (uint64_t) (vbroker__mono_ms () - self->started_ms));
        vmp_pack_kuint (&pk, "requests", self->requests);
        vmp_pack_kuint (&pk, "replies", self->replies);
        vmp_pack_kuint (&pk, "errors", self->errors);
        vmp_pack_kuint (&pk, "drops", self->drops);
        vmp_pack_kuint (&pk, "malformed", self->malformed);
        vmp_pack_kuint (&pk, "events_in", self->events_in);
        vmp_pack_kuint (&pk, "events_out", self->events_out);
        vmp_pack_kuint (&pk, "events_dropped", self->events_dropped);
        vmp_pack_cstr (&pk, "services");
        msgpack_pack_array (&pk, self->nservices);
        for (size_t i = 0; i < self->nservices; i++)
            s_pack_service_stats (&pk, self->services[i]);
    }
    else {
        status = VE_NOT_FOUND;
        *error = "no such method in service 'broker' (ping, services, workers, stats)";
    }
    if (reply->failed) {
        status = VE_INTERNAL;
        *error = "reply too large";
    }
    return status;
}
