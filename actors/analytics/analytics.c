//  analytics.c — the analytics actor: consumes order.*, inventory.*, cart.*, product.viewed and
//  search.performed, and keeps counters per minute, hour and day (for the shop, per product,
//  per category) in RocksDB, the low-stock list, top-N windows in memory, and the raw events
//  for the hourly export. Queries: summary, funnel, top, low_stock (admin); analytics.live
//  once a second. Every event takes effect exactly once: its counter updates and the runtime's
//  stream offset commit in one batch. docs/analytics.md is the design.
#include "analytics.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS  60000LL
#define HOUR_MS 3600000LL
#define DAY_MS  86400000LL

#define MAX_DELTAS  4096  //  counter updates of one event (an order of 50 lines needs ~1000)
#define MAX_SUMS    16384  //  counter updates of a batch of events, summed by key
#define SUM_SLOTS   32768  //  the sums' hash index (a power of two, twice MAX_SUMS)
#define MAX_KEY     300
#define MAX_POINTS  1440
#define MAX_CURR    16
#define MAX_LOW     1000
#define LIVE_STREAM "analytics-live/0"

static const char *const s_cfs[] = { "counters", "stock",    "export",
                                     "state",    "forecast", "searches", NULL };

//  The counters of a bucket, in the reply's order (analytics.point); revenue is per currency,
//  stored under "rev:<currency>".
static const char *const s_metrics[] = { "views",     "searches",  "cart_adds",
                                         "cart_removes", "checkouts", "confirmed",
                                         "failed",    "cancelled", "units",
                                         NULL };
enum { M_VIEWS, M_SEARCHES, M_CART_ADDS, M_CART_REMOVES, M_CHECKOUTS, M_CONFIRMED, M_FAILED,
       M_CANCELLED, M_UNITS, M_COUNT };

typedef struct {
    char key[MAX_KEY];
    size_t klen;
    int64_t delta;
} s_delta_t;

typedef struct {
    analytics_windows_t *windows;  //  NULL while importing (rebuilt from the store after)
    vbus_pub_t *live;
    long live_every_ms, export_every_ms, export_round_bytes;
    int64_t next_live_us, next_flush_ms;
    char export_dir[512];
    bool export;
    uint64_t views_lost;
    uint64_t malformed, unknown;  //  events skipped: undecodable (by the runtime), unknown topic
    uint64_t low_count;
    analytics_forecast_cfg_t forecast;
    analytics_searches_t *searches;
    s_delta_t *deltas;  //  the current event's counter updates, merged by key
    size_t ndeltas;
    //  The updates of the events applied since the consumer's last commit, summed by key
    //  (the batch holds each counter once, however many events touched it): staged into the
    //  batch by analytics_stage, before it commits or when full.
    s_delta_t *sums;
    uint32_t *sum_slots;  //  0 empty, else index + 1 into sums
    size_t nsums;
    bool stage_failed;  //  staging early failed: the batch must not commit
    varena_t *arena;  //  export lines
} analytics_t;

typedef struct {
    int64_t start;
    uint64_t c[M_COUNT];
    char cur[MAX_CURR][4];
    int64_t rev[MAX_CURR];
    size_t ncur;
} s_point_t;

//  ---------------------------------------------------------------- counters
//  A counter's key is dim "\0" kind be64(bucket start) metric, so that one dimension's series
//  of one bucket size is one contiguous range: dim is "" (the shop), "p:<product>" or
//  "c:<category>"; kind is 'm', 'h' or 'd'. The value is a big-endian int64.

static size_t
s_prefix (char *out, const char *dim, char kind)
{
    size_t n = strlen (dim);
    memcpy (out, dim, n);
    out[n++] = 0;
    out[n++] = kind;
    return n;
}

static int64_t
s_floor (int64_t t, int64_t size)
{
    return (t >= 0 ? t / size : (t - size + 1) / size) * size;
}

//  Adds delta to metric of dim in the minute, hour and day holding at_ms (merged in memory:
//  the batch is not readable, so one event's updates to one key must be summed first).
static int
s_count (analytics_t *self, const char *dim, int64_t at_ms, const char *metric, int64_t delta)
{
    static const struct {
        char kind;
        int64_t size;
    } kinds[] = { { 'm', MIN_MS }, { 'h', HOUR_MS }, { 'd', DAY_MS } };
    if (strlen (dim) + strlen (metric) + 12 > MAX_KEY)
        return 0;  //  the schemas bound both far below this
    for (int k = 0; k < 3; k++) {
        char key[MAX_KEY];
        size_t n = s_prefix (key, dim, kinds[k].kind);
        vstore_be64 ((uint8_t *) key + n, (uint64_t) s_floor (at_ms, kinds[k].size));
        n += 8;
        memcpy (key + n, metric, strlen (metric));
        n += strlen (metric);
        size_t i = 0;
        while (i < self->ndeltas
               && (self->deltas[i].klen != n || memcmp (self->deltas[i].key, key, n) != 0))
            i++;
        if (i == self->ndeltas) {
            if (self->ndeltas == MAX_DELTAS)
                return -VE_TOOBIG;
            memcpy (self->deltas[i].key, key, n);
            self->deltas[i].klen = n;
            self->deltas[i].delta = 0;
            self->ndeltas++;
        }
        self->deltas[i].delta += delta;
    }
    return 0;
}

//  The same for the shop, a product and the product's category (when known).
static int
s_count_all (analytics_t *self, const char *product, const char *category, int64_t at_ms,
             const char *metric, int64_t delta)
{
    char dim[MAX_KEY];
    int rc = s_count (self, "", at_ms, metric, delta);
    if (rc == 0 && product) {
        snprintf (dim, sizeof dim, "p:%s", product);
        rc = s_count (self, dim, at_ms, metric, delta);
    }
    if (rc == 0 && category && *category) {
        snprintf (dim, sizeof dim, "c:%s", category);
        rc = s_count (self, dim, at_ms, metric, delta);
    }
    return rc;
}

//  Writes the summed updates into batch (each counter read, through the batch, and written
//  once) and empties the sums.
int
analytics_stage (vactor_t *actor, vstore_t *store, vstore_batch_t *batch)
{
    analytics_t *self = vactor_state (actor);
    int rc = self->stage_failed ? -VE_IO : 0;
    self->stage_failed = false;
    for (size_t i = 0; i < self->nsums && rc == 0; i++) {
        const s_delta_t *d = &self->sums[i];
        char *raw = NULL;
        size_t len = 0;
        if (vstore_get (store, CF_COUNTERS, d->key, d->klen, &raw, &len) != 0) {
            rc = -VE_IO;
            break;
        }
        int64_t value = raw && len == 8 ? (int64_t) vstore_from_be64 (raw) : 0;
        free (raw);
        uint8_t v[8];
        vstore_be64 (v, (uint64_t) (value + d->delta));
        vstore_batch_put (batch, store, CF_COUNTERS, d->key, d->klen, v, 8);
    }
    memset (self->sum_slots, 0, SUM_SLOTS * sizeof *self->sum_slots);
    self->nsums = 0;
    return rc;
}

//  Folds the event's updates into the sums. When they would overflow, the sums go into the
//  batch first: it reads back what it holds, so staging early changes no figure.
static int
s_deltas_fold (vactor_t *actor, analytics_t *self, vstore_t *store, vstore_batch_t *batch)
{
    if (self->nsums + self->ndeltas > MAX_SUMS) {
        //  The staged sums of earlier events sit after this event's mark: were this event
        //  rolled back they would be lost while their offsets commit. So a failure here fails
        //  the whole batch (the next analytics_stage reports it) and every event comes again.
        if (analytics_stage (actor, store, batch) != 0) {
            self->stage_failed = true;
            return -VE_IO;
        }
    }
    for (size_t i = 0; i < self->ndeltas; i++) {
        const s_delta_t *d = &self->deltas[i];
        uint32_t h = 2166136261u;  //  FNV-1a
        for (size_t k = 0; k < d->klen; k++)
            h = (h ^ (uint8_t) d->key[k]) * 16777619u;
        uint32_t slot = h & (SUM_SLOTS - 1);
        while (self->sum_slots[slot]) {
            s_delta_t *sum = &self->sums[self->sum_slots[slot] - 1];
            if (sum->klen == d->klen && memcmp (sum->key, d->key, d->klen) == 0)
                break;
            slot = (slot + 1) & (SUM_SLOTS - 1);
        }
        if (!self->sum_slots[slot]) {
            self->sums[self->nsums] = *d;
            self->sum_slots[slot] = (uint32_t) ++self->nsums;
        }
        else
            self->sums[self->sum_slots[slot] - 1].delta += d->delta;
    }
    self->ndeltas = 0;
    return 0;
}

static int64_t
s_state_get (vstore_t *store, const char *key)
{
    char *raw = NULL;
    size_t len = 0;
    vstore_get (store, CF_STATE, key, strlen (key), &raw, &len);
    int64_t v = raw && len == 8 ? (int64_t) vstore_from_be64 (raw) : 0;
    free (raw);
    return v;
}

static void
s_state_put (vstore_t *store, vstore_batch_t *batch, const char *key, int64_t value)
{
    uint8_t v[8];
    vstore_be64 (v, (uint64_t) value);
    vstore_batch_put (batch, store, CF_STATE, key, strlen (key), v, 8);
}

//  A product's category, learned from its views (orders and carts do not carry it). Returns
//  malloc'ed text or NULL.
static char *
s_category_of (vstore_t *store, const char *product)
{
    char key[MAX_KEY], *raw = NULL;
    size_t len = 0;
    snprintf (key, sizeof key, "cat:%s", product);
    if (vstore_get (store, CF_STATE, key, strlen (key), &raw, &len) != 0 || !raw)
        return NULL;
    char *cat = malloc (len + 1);
    if (cat) {
        memcpy (cat, raw, len);
        cat[len] = 0;
    }
    free (raw);
    return cat;
}

//  ---------------------------------------------------------------- stock
//  A SKU's record: be64 available, be64 threshold, the product id.

static bool
s_is_low (int64_t available, int64_t threshold)
{
    return available <= 0 || (threshold > 0 && available <= threshold);
}

static int
s_stock (analytics_t *self, vstore_t *store, vstore_batch_t *batch, const vmsg_value_t *v,
         bool sets_threshold)
{
    const char *sku = vmsg_str (v, "sku");
    const char *product = vmsg_str (v, "product_id");
    char *raw = NULL;
    size_t len = 0;
    if (!sku || !product || vstore_get (store, CF_STOCK, sku, strlen (sku), &raw, &len) != 0)
        return raw ? (free (raw), -VE_IO) : (sku && product ? -VE_IO : 0);
    bool known = raw && len >= 16;
    int64_t available = known ? (int64_t) vstore_from_be64 (raw) : 0;
    int64_t threshold = known ? (int64_t) vstore_from_be64 (raw + 8) : 0;
    free (raw);
    bool was_low = known && s_is_low (available, threshold);
    available = vmsg_int (v, "available", available);
    if (sets_threshold)
        threshold = vmsg_int (v, "low_threshold", threshold);
    bool low = s_is_low (available, threshold);
    if (low != was_low)
        self->low_count += low ? 1 : (uint64_t) -1;
    size_t plen = strlen (product);
    char rec[16 + 64];
    if (plen > sizeof rec - 16)
        return 0;
    vstore_be64 ((uint8_t *) rec, (uint64_t) available);
    vstore_be64 ((uint8_t *) rec + 8, (uint64_t) threshold);
    memcpy (rec + 16, product, plen);
    vstore_batch_put (batch, store, CF_STOCK, sku, strlen (sku), rec, 16 + plen);
    return 0;
}

//  ---------------------------------------------------------------- applying an event

//  When the event happened: the producer's "at" when it carries one, else when it was
//  published (the edge's and the cart's events).
static int64_t
s_event_time (const vmsg_value_t *v, int64_t time_ms)
{
    return vmsg_has (v, "at") ? vmsg_int (v, "at", time_ms) : time_ms;
}

//  A JSON string literal of s (for the export lines: stream and topic come off the wire).
static void
s_json_str (vbuf_t *out, const char *s)
{
    vbuf_append (out, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char) c };
            vbuf_append (out, e, 2);
        }
        else if (c < 0x20) {
            char e[8];
            snprintf (e, sizeof e, "\\u%04x", c);
            vbuf_append (out, e, 6);
        }
        else
            vbuf_append (out, s, 1);
    }
    vbuf_append (out, "\"", 1);
}

//  Keeps the raw event for the export: one JSON line under its hour, until a flush writes it.
static int
s_export_stage (analytics_t *self, vstore_t *store, vstore_batch_t *batch, const char *stream,
                uint64_t seq, const char *topic, int64_t time_ms, int64_t at, const void *body,
                size_t len)
{
    const vmsg_event_t *e = vmsg_event_find (topic);
    vbuf_t line;
    vbuf_init (&line, NULL, 0);
    char head[64];
    vbuf_append (&line, "{\"stream\":", 10);
    s_json_str (&line, stream);
    snprintf (head, sizeof head, ",\"seq\":%llu,\"topic\":", (unsigned long long) seq);
    vbuf_append (&line, head, strlen (head));
    s_json_str (&line, topic);
    snprintf (head, sizeof head, ",\"time_ms\":%lld,\"body\":", (long long) time_ms);
    vbuf_append (&line, head, strlen (head));
    varena_reset (self->arena);
    char err[200];
    int rc = vmsg_json_write (e ? e->schema : NULL, body, len, self->arena, &line, err, sizeof err);
    vbuf_append (&line, "}\n", 2);
    if (rc == 0 && !line.failed) {
        char key[8 + 130 + 8];
        size_t slen = strlen (stream);
        if (slen > 129)
            slen = 129;
        vstore_be64 ((uint8_t *) key, (uint64_t) s_floor (at, HOUR_MS));
        memcpy (key + 8, stream, slen);
        key[8 + slen] = 0;
        vstore_be64 ((uint8_t *) key + 9 + slen, seq);
        vstore_batch_put (batch, store, CF_EXPORT, key, 17 + slen, line.data, line.len);
    }
    else
        vbus_log ('W', WHO, "%s #%llu from %s not exported: %s", topic, (unsigned long long) seq,
                  stream, rc ? err : "out of memory");
    vbuf_free (&line);
    return 0;
}

//  What the sequence numbers say about the events before this one, against the runtime's
//  stored offset (which moves only with this batch) and the last one applied here ("seen"):
//  - an edge stream's jump past the offset: views and searches the edge published that never
//    came (its stream has no replay), lost for good; counted, not refilled;
//  - an offset past what was seen here: the runtime skipped those events without calling us
//    (their bodies did not decode against the topic's schema; it logged each): malformed.
//  A stream's very first events cannot be told apart from a join midway, and are not counted.
static void
s_check_stream (analytics_t *self, vstore_t *store, vstore_batch_t *batch, const char *stream,
                uint64_t seq, uint64_t prev)
{
    char key[160];
    if (strlen (stream) > 128)
        return;
    snprintf (key, sizeof key, "seen:%s", stream);
    uint64_t seen = (uint64_t) s_state_get (store, key);
    if (strncmp (stream, "edge", 4) == 0 && prev && seq > prev + 1) {
        self->views_lost += seq - prev - 1;
        s_state_put (store, batch, "views_lost", (int64_t) self->views_lost);
        vbus_log ('W', WHO, "%s: %llu edge events lost before #%llu", stream,
                  (unsigned long long) (seq - prev - 1), (unsigned long long) seq);
    }
    if (seen && prev > seen && prev < seq) {
        self->malformed += prev - seen;
        s_state_put (store, batch, "events_malformed", (int64_t) self->malformed);
        vbus_log ('W', WHO, "%s: %llu malformed events skipped before #%llu (%llu in all)", stream,
                  (unsigned long long) (prev - seen), (unsigned long long) seq,
                  (unsigned long long) self->malformed);
    }
    s_state_put (store, batch, key, (int64_t) seq);
}

static int
s_order (analytics_t *self, vstore_t *store, const char *topic, const vmsg_value_t *v, int64_t at)
{
    const char *metric = strcmp (topic, "order.placed") == 0      ? s_metrics[M_CHECKOUTS]
                         : strcmp (topic, "order.confirmed") == 0 ? s_metrics[M_CONFIRMED]
                         : strcmp (topic, "order.failed") == 0    ? s_metrics[M_FAILED]
                         : strcmp (topic, "order.cancelled") == 0 ? s_metrics[M_CANCELLED]
                                                                  : NULL;
    if (!metric)
        return 0;  //  shipped, delivered: exported, not counted
    bool confirmed = strcmp (topic, "order.confirmed") == 0;
    int rc = s_count (self, "", at, metric, 1);
    const char *currency = vmsg_str (v, "currency");
    char rev[16];
    snprintf (rev, sizeof rev, "rev:%s", currency ? currency : "XXX");
    if (rc == 0 && confirmed)
        rc = s_count (self, "", at, rev, vmsg_int (v, "total", 0));
    const vmsg_value_t *lines = vmsg_get (v, "lines");
    for (uint32_t i = 0; i < vmsg_count (lines) && rc == 0; i++) {
        const vmsg_value_t *l = vmsg_at (lines, i);
        const char *product = vmsg_str (l, "product_id");
        //  An order may hold a product on two lines: it counts once per order.
        bool seen = false;
        for (uint32_t k = 0; k < i && !seen; k++)
            seen = strcmp (vmsg_str (vmsg_at (lines, k), "product_id"), product) == 0;
        char *category = s_category_of (store, product);
        char dim[MAX_KEY];
        if (!seen) {
            snprintf (dim, sizeof dim, "p:%s", product);
            rc = s_count (self, dim, at, metric, 1);
            if (rc == 0 && category) {
                snprintf (dim, sizeof dim, "c:%s", category);
                rc = s_count (self, dim, at, metric, 1);
            }
        }
        if (rc == 0 && confirmed) {
            int64_t qty = vmsg_int (l, "qty", 0), amount = vmsg_int (l, "line_total", 0);
            rc = s_count_all (self, product, category, at, s_metrics[M_UNITS], qty);
            //  The shop's revenue is the order's total (shipping, discounts); per product and
            //  category it is the line totals.
            snprintf (dim, sizeof dim, "p:%s", product);
            if (rc == 0)
                rc = s_count (self, dim, at, rev, amount);
            if (rc == 0 && category) {
                snprintf (dim, sizeof dim, "c:%s", category);
                rc = s_count (self, dim, at, rev, amount);
            }
            if (rc == 0 && self->windows) {
                rc = analytics_windows_add (self->windows, product, ANA_UNITS, at, qty);
                if (rc == 0)
                    rc = analytics_windows_add (self->windows, product, ANA_REVENUE, at, amount);
            }
        }
        free (category);
    }
    return rc;
}

int
analytics_apply (vactor_t *actor, const char *stream, uint64_t seq, uint64_t prev,
                 const char *topic, int64_t time_ms, const void *body, size_t len,
                 const vmsg_value_t *v, vstore_t *store, vstore_batch_t *batch, bool export)
{
    analytics_t *self = vactor_state (actor);
    int64_t at = s_event_time (v, time_ms);
    self->ndeltas = 0;
    int rc = 0;
    s_check_stream (self, store, batch, stream, seq, prev);
    if (!vmsg_event_find (topic)) {
        //  A topic no schema names (a newer producer, a typo): nothing to count it as.
        self->unknown++;
        s_state_put (store, batch, "events_unknown", (int64_t) self->unknown);
        vbus_log ('W', WHO, "%s #%llu from %s: unknown topic, skipped (%llu in all)", topic,
                  (unsigned long long) seq, stream, (unsigned long long) self->unknown);
        return 0;
    }
    if (strcmp (topic, "product.viewed") == 0) {
        const char *product = vmsg_str (v, "product_id");
        const char *category = vmsg_str (v, "category");
        if (category && *category) {
            char key[MAX_KEY];
            snprintf (key, sizeof key, "cat:%s", product);
            vstore_batch_put (batch, store, CF_STATE, key, strlen (key), category,
                              strlen (category));
        }
        rc = s_count_all (self, product, category, at, s_metrics[M_VIEWS], 1);
        if (rc == 0 && self->windows)
            rc = analytics_windows_add (self->windows, product, ANA_VIEWS, at, 1);
    }
    else if (strcmp (topic, "search.performed") == 0) {
        rc = s_count_all (self, NULL, vmsg_str (v, "category"), at, s_metrics[M_SEARCHES], 1);
        //  Only a search that found something is worth offering to other shoppers.
        if (rc == 0 && vmsg_uint (v, "results", 0) > 0)
            rc = analytics_searches_add (self->searches, store, batch, vmsg_str (v, "q"), at);
    }
    else if (strcmp (topic, "cart.line_added") == 0 || strcmp (topic, "cart.line_removed") == 0) {
        bool added = topic[5] == 'l' && strcmp (topic, "cart.line_added") == 0;
        const char *product = vmsg_str (v, "product_id");
        char *category = s_category_of (store, product);
        rc = s_count_all (self, product, category, at,
                          s_metrics[added ? M_CART_ADDS : M_CART_REMOVES], 1);
        free (category);
        if (rc == 0 && added && self->windows)
            rc = analytics_windows_add (self->windows, product, ANA_CART_ADDS, at, 1);
    }
    else if (strncmp (topic, "order.", 6) == 0)
        rc = s_order (self, store, topic, v, at);
    else if (strcmp (topic, "inventory.stock_changed") == 0
             || strcmp (topic, "inventory.restocked") == 0)
        rc = s_stock (self, store, batch, v, false);
    else if (strcmp (topic, "inventory.low") == 0)
        rc = s_stock (self, store, batch, v, true);
    else if (strcmp (topic, "inventory.sold") == 0 || strcmp (topic, "inventory.restored") == 0)
        rc = analytics_forecast_sold (&self->forecast, store, batch, vmsg_get (v, "lines"), at,
                                      topic[10] == 's' ? 1 : -1);
    if (rc == 0 && export && self->export)
        rc = s_export_stage (self, store, batch, stream, seq, topic, time_ms, at, body, len);
    if (rc == 0)  //  last: nothing after it can fail and leave the sums counting this event
        rc = s_deltas_fold (actor, self, store, batch);
    self->ndeltas = 0;
    return rc;
}

static int
analytics_on_event (vactor_t *actor, const vbus_event_t *event, const vmsg_value_t *body,
                    vstore_t *store, vstore_batch_t *batch)
{
    analytics_t *self = vactor_state (actor);
    int rc = analytics_apply (actor, event->stream, event->seq,
                              vactor_stream_applied (actor, event->stream), event->topic,
                              event->time_ms, event->body, event->body_len, body, store, batch,
                              true);
    if (rc == -VE_IO || rc == -VE_NOMEM) {
        //  Ours, not the event's: nothing commits, and the event comes again by replay.
        vbus_log ('E', WHO, "%s #%llu from %s: %s", event->topic,
                  (unsigned long long) event->seq, event->stream, verr_str (rc));
        return rc;
    }
    if (rc) {
        //  The event's own fault (an order too big to count): skipped and counted, so that one
        //  bad event never stops the stream. Nothing of it is kept but the counter (its
        //  writes go back to the mark the runtime set before it; other events' stay).
        vstore_batch_rollback (batch);
        char key[160];
        snprintf (key, sizeof key, "seen:%s", event->stream);
        s_state_put (store, batch, key, (int64_t) event->seq);
        s_state_put (store, batch, "events_malformed", (int64_t) ++self->malformed);
        vbus_log ('W', WHO, "%s #%llu from %s skipped: %s (%llu malformed in all)", event->topic,
                  (unsigned long long) event->seq, event->stream, verr_str (rc),
                  (unsigned long long) self->malformed);
    }
    return 0;
}

//  ---------------------------------------------------------------- reading counters

//  Reads the buckets of dim and kind starting in [from, to) into points (at most max).
static size_t
s_collect (vstore_t *store, const char *dim, char kind, int64_t from, int64_t to,
           s_point_t *points, size_t max)
{
    char start[MAX_KEY];
    size_t plen = s_prefix (start, dim, kind);
    vstore_be64 ((uint8_t *) start + plen, (uint64_t) from);
    vstore_iter_t *it = vstore_iter_new (store, CF_COUNTERS, start, plen, start, plen + 8);
    const char *key, *val;
    size_t klen, vlen, n = 0;
    while (it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        if (klen < plen + 8 || vlen != 8)
            continue;
        int64_t t = (int64_t) vstore_from_be64 (key + plen);
        if (t >= to)
            break;
        if (n == 0 || points[n - 1].start != t) {
            if (n == max)
                break;
            memset (&points[n], 0, sizeof points[n]);
            points[n++].start = t;
        }
        s_point_t *p = &points[n - 1];
        const char *metric = key + plen + 8;
        size_t mlen = klen - plen - 8;
        int64_t value = (int64_t) vstore_from_be64 (val);
        if (mlen == 7 && memcmp (metric, "rev:", 4) == 0) {
            size_t c = 0;
            while (c < p->ncur && memcmp (p->cur[c], metric + 4, 3) != 0)
                c++;
            if (c == p->ncur && p->ncur < MAX_CURR) {
                memcpy (p->cur[c], metric + 4, 3);
                p->cur[c][3] = 0;
                p->ncur++;
            }
            if (c < p->ncur)
                p->rev[c] += value;
            continue;
        }
        for (int m = 0; m < M_COUNT; m++)
            if (strlen (s_metrics[m]) == mlen && memcmp (s_metrics[m], metric, mlen) == 0)
                p->c[m] += value > 0 ? (uint64_t) value : 0;
    }
    vstore_iter_destroy (&it);
    return n;
}

//  Adds up the shop's buckets covering [from, to) (whole minutes) into *sum, with the
//  largest buckets that fit: days inside, hours at the edges of days, minutes at the edges of
//  hours. Reading a month is then a few dozen keys, not forty thousand minutes.
static void
s_range_sum (vstore_t *store, int64_t from, int64_t to, s_point_t *sum)
{
    memset (sum, 0, sizeof *sum);
    int64_t t = s_floor (from, MIN_MS);
    while (t < to) {
        char kind = 'm';
        int64_t size = MIN_MS;
        if (t % DAY_MS == 0 && t + DAY_MS <= to)
            kind = 'd', size = DAY_MS;
        else if (t % HOUR_MS == 0 && t + HOUR_MS <= to)
            kind = 'h', size = HOUR_MS;
        s_point_t p;
        if (s_collect (store, "", kind, t, t + 1, &p, 1) == 1) {
            for (int m = 0; m < M_COUNT; m++)
                sum->c[m] += p.c[m];
            for (size_t c = 0; c < p.ncur; c++) {
                size_t k = 0;
                while (k < sum->ncur && strcmp (sum->cur[k], p.cur[c]) != 0)
                    k++;
                if (k == sum->ncur && sum->ncur < MAX_CURR)
                    memcpy (sum->cur[sum->ncur++], p.cur[c], 4);
                if (k < sum->ncur)
                    sum->rev[k] += p.rev[c];
            }
        }
        t += size;
    }
}

static double
s_rate (uint64_t num, uint64_t den)
{
    return den ? (double) num / (double) den : 0.0;
}

static void
s_pack_funnel (msgpack_packer *pk, int64_t from, int64_t to, const s_point_t *s)
{
    msgpack_pack_map (pk, 7);
    vmp_pack_kint (pk, "from_ms", from);
    vmp_pack_kint (pk, "to_ms", to);
    vmp_pack_kuint (pk, "views", s->c[M_VIEWS]);
    vmp_pack_kuint (pk, "cart_adds", s->c[M_CART_ADDS]);
    vmp_pack_kuint (pk, "checkouts", s->c[M_CHECKOUTS]);
    vmp_pack_kuint (pk, "confirmed", s->c[M_CONFIRMED]);
    vmp_pack_cstr (pk, "rates");
    msgpack_pack_map (pk, 4);
    vmp_pack_cstr (pk, "view_to_cart");
    msgpack_pack_double (pk, s_rate (s->c[M_CART_ADDS], s->c[M_VIEWS]));
    vmp_pack_cstr (pk, "cart_to_checkout");
    msgpack_pack_double (pk, s_rate (s->c[M_CHECKOUTS], s->c[M_CART_ADDS]));
    vmp_pack_cstr (pk, "checkout_to_confirmed");
    msgpack_pack_double (pk, s_rate (s->c[M_CONFIRMED], s->c[M_CHECKOUTS]));
    vmp_pack_cstr (pk, "view_to_confirmed");
    msgpack_pack_double (pk, s_rate (s->c[M_CONFIRMED], s->c[M_VIEWS]));
}

static void
s_pack_money (msgpack_packer *pk, const s_point_t *p, double divide)
{
    msgpack_pack_array (pk, p->ncur);
    for (size_t c = 0; c < p->ncur; c++) {
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "currency", p->cur[c]);
        vmp_pack_cstr (pk, "amount");
        msgpack_pack_double (pk, (double) p->rev[c] / divide);
    }
}

//  ---------------------------------------------------------------- methods

static int
analytics_summary (vactor_call_t *call)
{
    analytics_t *self = vactor_state (call->actor);
    const char *bucket = vmsg_str (call->body, "bucket");
    int b = venum_index (venum_analytics_bucket, bucket);
    static const int64_t sizes[] = { MIN_MS, HOUR_MS, DAY_MS };
    static const char kinds[] = { 'm', 'h', 'd' };
    int64_t size = sizes[b < 0 ? 0 : b];
    const char *product = vmsg_str (call->body, "product_id");
    const char *category = vmsg_str (call->body, "category");
    if (product && category)
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "category: give product_id or category, not both");
    int64_t to = vmsg_int (call->body, "to_ms", vactor_now_ms (call->actor));
    int64_t from = s_floor (vmsg_int (call->body, "from_ms", to - 60 * size), size);
    if (to <= from)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "to_ms: not after from_ms");
    if ((to - from + size - 1) / size > MAX_POINTS)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "from_ms: at most %d buckets",
                               MAX_POINTS);
    char dim[MAX_KEY] = "";
    if (product)
        snprintf (dim, sizeof dim, "p:%s", product);
    else if (category)
        snprintf (dim, sizeof dim, "c:%s", category);
    s_point_t *points = varena_alloc (call->arena, MAX_POINTS * sizeof *points);
    if (!points)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    size_t n = s_collect (call->store, dim, kinds[b < 0 ? 0 : b], from, to, points, MAX_POINTS);
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 7);
    vmp_pack_kstr (pk, "bucket", venum_analytics_bucket[b < 0 ? 0 : b]);
    vmp_pack_kint (pk, "from_ms", from);
    vmp_pack_kint (pk, "to_ms", to);
    vmp_pack_cstr (pk, "series");
    msgpack_pack_array (pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map (pk, M_COUNT + 2);
        vmp_pack_kint (pk, "start", points[i].start);
        for (int m = 0; m < M_COUNT; m++)
            vmp_pack_kuint (pk, s_metrics[m], points[i].c[m]);
        vmp_pack_cstr (pk, "revenue");
        s_pack_money (pk, &points[i], 1.0);
    }
    vmp_pack_kuint (pk, "views_lost", self->views_lost);
    vmp_pack_kuint (pk, "events_malformed", self->malformed);
    vmp_pack_kuint (pk, "events_unknown", self->unknown);
    return VE_OK;
}

static int
analytics_forecast (vactor_call_t *call)
{
    analytics_t *self = vactor_state (call->actor);
    return analytics_forecast_method (call, &self->forecast);
}

static int
analytics_searches (vactor_call_t *call)
{
    analytics_t *self = vactor_state (call->actor);
    return analytics_searches_method (call, self->searches);
}

static int
analytics_funnel (vactor_call_t *call)
{
    int64_t from = vmsg_int (call->body, "from_ms", 0), to = vmsg_int (call->body, "to_ms", 0);
    if (to <= from)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "to_ms: not after from_ms");
    if (to - from > 400 * DAY_MS)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "to_ms: at most 400 days after from_ms");
    s_point_t sum;
    s_range_sum (call->store, from, to, &sum);
    s_pack_funnel (&call->out->pk, from, to, &sum);
    return VE_OK;
}

static void
s_pack_top (msgpack_packer *pk, const analytics_top_t *top, size_t n)
{
    msgpack_pack_array (pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "product_id", top[i].product_id);
        vmp_pack_kint (pk, "value", top[i].value);
    }
}

static int
analytics_top (vactor_call_t *call)
{
    analytics_t *self = vactor_state (call->actor);
    int m = venum_index (venum_analytics_metric, vmsg_str (call->body, "metric"));
    int w = venum_index (venum_analytics_window, vmsg_str (call->body, "window"));
    size_t limit = (size_t) vmsg_int (call->body, "limit", 10);
    if (m < 0 || w < 0 || limit < 1 || limit > 50)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "metric: unknown");
    analytics_top_t top[50];
    analytics_windows_advance (self->windows, vactor_now_ms (call->actor));
    size_t n = analytics_windows_top (self->windows, (analytics_window_id_t) w,
                                      (analytics_metric_t) m, limit, top);
    msgpack_pack_map (&call->out->pk, 1);
    vmp_pack_cstr (&call->out->pk, "items");
    s_pack_top (&call->out->pk, top, n);
    return VE_OK;
}

typedef struct {
    const char *sku, *product;
    int64_t available, threshold;
} s_low_t;

static int
s_low_order (const void *a, const void *b)
{
    const s_low_t *x = a, *y = b;
    if (x->available != y->available)
        return x->available < y->available ? -1 : 1;
    return strcmp (x->sku, y->sku);
}

static int
analytics_low_stock (vactor_call_t *call)
{
    s_low_t *low = varena_alloc (call->arena, MAX_LOW * sizeof *low);
    if (!low)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    size_t n = 0;
    vstore_iter_t *it = vstore_iter_new (call->store, CF_STOCK, NULL, 0, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    while (it && n < MAX_LOW && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        if (vlen <= 16)
            continue;
        int64_t available = (int64_t) vstore_from_be64 (val);
        int64_t threshold = (int64_t) vstore_from_be64 (val + 8);
        if (!s_is_low (available, threshold))
            continue;
        low[n++] = (s_low_t) { varena_strndup (call->arena, key, klen),
                               varena_strndup (call->arena, val + 16, vlen - 16), available,
                               threshold };
    }
    vstore_iter_destroy (&it);
    if (n)
        qsort (low, n, sizeof *low, s_low_order);
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 1);
    vmp_pack_cstr (pk, "items");
    msgpack_pack_array (pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map (pk, 5);
        vmp_pack_kstr (pk, "sku", low[i].sku);
        vmp_pack_kstr (pk, "product_id", low[i].product);
        vmp_pack_kint (pk, "available", low[i].available);
        vmp_pack_kint (pk, "low_threshold", low[i].threshold);
        vmp_pack_cstr (pk, "sold_out");
        low[i].available <= 0 ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    }
    return VE_OK;
}

//  ---------------------------------------------------------------- the live event

static void
s_publish_live (vactor_t *actor, analytics_t *self)
{
    vstore_t *store = vactor_store (actor, 0);
    int64_t now = vactor_now_ms (actor);
    //  Per-minute figures: the last five minute buckets (the current one included) over five,
    //  so that a dashboard's line does not saw-tooth at every minute boundary.
    s_point_t last5, today;
    s_range_sum (store, s_floor (now, MIN_MS) - 4 * MIN_MS, s_floor (now, MIN_MS) + MIN_MS,
                 &last5);
    s_range_sum (store, s_floor (now, DAY_MS), s_floor (now, DAY_MS) + DAY_MS, &today);
    analytics_top_t top[10];
    analytics_windows_advance (self->windows, now);
    size_t ntop = analytics_windows_top (self->windows, ANA_W1H, ANA_REVENUE, 10, top);
    char storage[4096];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 10);
    vmp_pack_kint (&pk, "at", now);
    vmp_pack_cstr (&pk, "orders_per_minute");
    msgpack_pack_double (&pk, (double) last5.c[M_CONFIRMED] / 5.0);
    vmp_pack_cstr (&pk, "revenue_per_minute");
    s_pack_money (&pk, &last5, 5.0);
    vmp_pack_cstr (&pk, "views_per_minute");
    msgpack_pack_double (&pk, (double) last5.c[M_VIEWS] / 5.0);
    vmp_pack_cstr (&pk, "carts_per_minute");
    msgpack_pack_double (&pk, (double) last5.c[M_CART_ADDS] / 5.0);
    vmp_pack_kuint (&pk, "confirmed_today", today.c[M_CONFIRMED]);
    vmp_pack_cstr (&pk, "funnel");
    s_pack_funnel (&pk, s_floor (now, DAY_MS), s_floor (now, DAY_MS) + DAY_MS, &today);
    vmp_pack_cstr (&pk, "top_products");
    s_pack_top (&pk, top, ntop);
    vmp_pack_kuint (&pk, "low_stock_count", self->low_count);
    vmp_pack_kuint (&pk, "views_lost", self->views_lost);
    char err[200];
    const vmsg_event_t *e = vmsg_event_find ("analytics.live");
    if (buf.failed || vmsg_validate (e->schema, buf.data, buf.len, err, sizeof err) != 0)
        vbus_log ('E', WHO, "analytics.live not sent: %s", buf.failed ? "out of memory" : err);
    else
        vbus_pub_send (self->live, "analytics.live", LIVE_STREAM, 0, buf.data, buf.len);
    vbuf_free (&buf);
}

static void
analytics_on_wake (vactor_t *actor)
{
    analytics_t *self = vactor_state (actor);
    if (!self)
        return;
    int64_t mono = vbus_mono_us ();
    if (self->live && mono >= self->next_live_us) {
        s_publish_live (actor, self);
        //  on_wake comes about once a second: a little slack keeps a 1 s period from
        //  slipping to 2 s.
        self->next_live_us = mono + self->live_every_ms * 900;
    }
    int64_t now = vactor_now_ms (actor);
    if (self->export && now >= self->next_flush_ms) {
        int n = analytics_export_flush (actor, self->export_dir, now, self->export_every_ms,
                                        (size_t) self->export_round_bytes);
        if (n < 0)
            vbus_log ('E', WHO, "export to %s failed (%s); retried at the next flush",
                      self->export_dir, verr_str (n));
        self->next_flush_ms = s_floor (now, self->export_every_ms) + self->export_every_ms;
    }
}

//  ---------------------------------------------------------------- life cycle

//  The top-N windows from the per-product minute counters of the last day.
static int
s_rebuild_windows (analytics_t *self, vstore_t *store, int64_t now)
{
    int64_t since = s_floor (now, MIN_MS) - 1439 * MIN_MS;
    vstore_iter_t *it = vstore_iter_new (store, CF_COUNTERS, "p:", 2, NULL, 0);
    const char *key, *val;
    size_t klen, vlen, n = 0;
    int rc = 0;
    while (rc == 0 && it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        const char *nul = memchr (key, 0, klen);
        if (!nul || vlen != 8 || (size_t) (nul - key) + 10 > klen || nul[1] != 'm')
            continue;
        int64_t t = (int64_t) vstore_from_be64 (nul + 2);
        if (t < since)
            continue;
        const char *metric = nul + 10;
        size_t mlen = klen - (size_t) (metric - key);
        analytics_metric_t m;
        if (mlen == 5 && memcmp (metric, "views", 5) == 0)
            m = ANA_VIEWS;
        else if (mlen == 9 && memcmp (metric, "cart_adds", 9) == 0)
            m = ANA_CART_ADDS;
        else if (mlen == 5 && memcmp (metric, "units", 5) == 0)
            m = ANA_UNITS;
        else if (mlen == 7 && memcmp (metric, "rev:", 4) == 0)
            m = ANA_REVENUE;
        else
            continue;
        char product[MAX_KEY];
        snprintf (product, sizeof product, "%.*s", (int) (nul - key - 2), key + 2);
        rc = analytics_windows_add (self->windows, product, m, t,
                                    (int64_t) vstore_from_be64 (val));
        n++;
    }
    vstore_iter_destroy (&it);
    return rc;
}

static int
analytics_open (vactor_t *actor)
{
    analytics_t *self = calloc (1, sizeof *self);
    if (!self)
        return -VE_NOMEM;
    vactor_set_state (actor, self);
    self->deltas = calloc (MAX_DELTAS, sizeof *self->deltas);
    self->sums = calloc (MAX_SUMS, sizeof *self->sums);
    self->sum_slots = calloc (SUM_SLOTS, sizeof *self->sum_slots);
    self->arena = varena_new (0);
    if (!self->deltas || !self->sums || !self->sum_slots || !self->arena)
        return -VE_NOMEM;
    long export_on, half_life, lead, safety, searches_cap, searches_half_life;
    if (vactor_config_long (actor, "live_every_ms", 10, 3600000, 1000, &self->live_every_ms)
        || vactor_config_long (actor, "rate_half_life_ms", 60000, 365 * DAY_MS, 7 * DAY_MS,
                               &half_life)
        || vactor_config_long (actor, "lead_time_days", 0, 365, 7, &lead)
        || vactor_config_long (actor, "safety_days", 0, 365, 3, &safety)
        || vactor_config_long (actor, "export_every_ms", 100, DAY_MS, HOUR_MS,
                               &self->export_every_ms)
        || vactor_config_long (actor, "export_round_bytes", 1024, 32 << 20, 32 << 20,
                               &self->export_round_bytes)
        || vactor_config_long (actor, "export", 0, 1, 1, &export_on)
        || vactor_config_long (actor, "searches_capacity", 16, 1000000, 10000, &searches_cap)
        || vactor_config_long (actor, "searches_half_life_ms", 60000, 365 * DAY_MS, 7 * DAY_MS,
                               &searches_half_life))
        return -VE_CONFIG;
    self->export = export_on != 0;
    self->forecast = (analytics_forecast_cfg_t) { (double) half_life, (double) lead,
                                                  (double) safety };
    const char *dir = vactor_config (actor, "export_dir");
    if (dir)
        snprintf (self->export_dir, sizeof self->export_dir, "%s", dir);
    else
        snprintf (self->export_dir, sizeof self->export_dir, "%s/%s/export",
                  vactor_config (actor, "data"), vactor_service (actor));
    vstore_t *store = vactor_store (actor, 0);
    if (!store) {
        vbus_log ('E', WHO, "analytics has one partition: run it with --partitions 1");
        return -VE_CONFIG;
    }
    self->searches = analytics_searches_new ((size_t) searches_cap, (double) searches_half_life);
    int rc = self->searches ? analytics_searches_load (self->searches, store) : -VE_NOMEM;
    if (rc) {
        vbus_log ('E', WHO, "cannot load the searches: %s", verr_str (rc));
        return rc;
    }
    self->views_lost = (uint64_t) s_state_get (store, "views_lost");
    self->malformed = (uint64_t) s_state_get (store, "events_malformed");
    self->unknown = (uint64_t) s_state_get (store, "events_unknown");
    //  A fresh actor rebuilt from exported files: before the runtime loads the offsets, which
    //  the import advances, so that the streams resume after what the files held.
    const char *import = vactor_config (actor, "import");
    if (import) {
        int n = analytics_import (actor, import);
        if (n < 0) {
            vbus_log ('E', WHO, "import from %s failed: %s", import, verr_str (n));
            return n;
        }
        vbus_log ('I', WHO, "imported %d events from %s", n, import);
    }
    //  The low-stock count from the stock records.
    vstore_iter_t *it = vstore_iter_new (store, CF_STOCK, NULL, 0, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    while (it && vstore_iter_next (it, &key, &klen, &val, &vlen))
        if (vlen >= 16
            && s_is_low ((int64_t) vstore_from_be64 (val), (int64_t) vstore_from_be64 (val + 8)))
            self->low_count++;
    vstore_iter_destroy (&it);
    int64_t now = vactor_now_ms (actor);
    self->windows = analytics_windows_new (now);
    if (!self->windows || s_rebuild_windows (self, store, now) != 0)
        return -VE_NOMEM;
    char pub_ep[256];
    if (vbus_endpoint_offset (vactor_config (actor, "broker"), 1, pub_ep, sizeof pub_ep) == 0)
        self->live = vbus_pub_new (pub_ep);
    if (!self->live)
        vbus_log ('W', WHO, "no publisher for analytics.live (broker endpoint not tcp or ipc?)");
    self->next_flush_ms = s_floor (now, self->export_every_ms) + self->export_every_ms;
    vbus_log ('I', WHO, "open: %llu low SKUs, %llu edge events lost so far, export %s",
              (unsigned long long) self->low_count, (unsigned long long) self->views_lost,
              self->export ? self->export_dir : "off");
    return 0;
}

static void
analytics_close (vactor_t *actor)
{
    analytics_t *self = vactor_state (actor);
    if (!self)
        return;
    analytics_windows_destroy (&self->windows);
    analytics_searches_destroy (&self->searches);
    vbus_pub_destroy (&self->live);
    varena_destroy (&self->arena);
    free (self->deltas);
    free (self->sums);
    free (self->sum_slots);
    free (self);
    vactor_set_state (actor, NULL);
}

static const vactor_method_t s_methods[] = { { "summary", analytics_summary, false },
                                             { "funnel", analytics_funnel, false },
                                             { "top", analytics_top, false },
                                             { "low_stock", analytics_low_stock, false },
                                             { "forecast", analytics_forecast, false },
                                             { "searches", analytics_searches, false },
                                             { 0 } };
//  Whole families, the edge's two included: analytics counts the events its streams lost, so
//  it follows each stream whole (docs/runtime.md).
static const char *const s_consumes[] = { "order.",   "inventory.", "cart.",
                                          "product.", "search.",    NULL };
static const char *const s_config_keys[] = { "live_every_ms",     "export_every_ms",
                                             "export",            "export_dir",
                                             "import",            "rate_half_life_ms",
                                             "lead_time_days",    "safety_days",
                                             "export_round_bytes", "searches_capacity",
                                             "searches_half_life_ms", NULL };

static const vactor_def_t s_def = { .service = "analytics",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .partitions = 1,
                                    .config_keys = s_config_keys,
                                    .open = analytics_open,
                                    .close = analytics_close,
                                    .consumes = s_consumes,
                                    .on_event = analytics_on_event,
                                    .before_commit = analytics_stage,
                                    .on_wake = analytics_on_wake };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
