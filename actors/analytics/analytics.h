//  analytics.h — what the analytics actor's files share (internal): the top-N windows kept in
//  memory (analytics_window.c) and the export to JSON Lines + zstd files and the import back
//  (analytics_export.c). analytics.c owns the actor: counters, queries, the live event.
#ifndef ANALYTICS_H
#define ANALYTICS_H

#include "vactor.h"
#include <stdbool.h>
#include <stdint.h>

#define WHO "analytics"

//  Column families (index 0 is RocksDB's default and unused).
#define CF_COUNTERS 1  //  dim "\0" kind be64(start) metric → be64 (see analytics.c)
#define CF_STOCK    2  //  sku → be64 available, be64 threshold, product id
#define CF_EXPORT   3  //  be64(hour) stream "\0" be64(seq) → one JSON line, not yet in a file
#define CF_STATE    4  //  "views_lost", "flush_id", "events_malformed", "events_unknown" →
                           //  be64; "cat:" product → category; "seen:" stream → be64 seq
#define CF_FORECAST 5  //  sku → double decayed units, be64 at, be64 first sale (analytics_forecast.c)
#define CF_SEARCHES 6  //  search (normalised) → double l, double e (analytics_searches.c)

//  ---------------------------------------------------------------- sliding windows (top-N)
//  Per product and metric, the sum over the last 5, 60 and 1440 minute buckets, kept
//  incrementally: an event adds to every window that holds its minute; when the clock passes
//  a minute, that minute's contributions are subtracted from the window it left. A query
//  reads sums, never events.
typedef enum { ANA_VIEWS, ANA_CART_ADDS, ANA_UNITS, ANA_REVENUE, ANA_METRICS } analytics_metric_t;
typedef enum { ANA_W5M, ANA_W1H, ANA_W1D, ANA_WINDOWS } analytics_window_id_t;

typedef struct analytics_windows_s analytics_windows_t;

typedef struct {
    const char *product_id;
    int64_t value;
} analytics_top_t;

//  Creates the windows positioned at now_ms (NULL when out of memory).
analytics_windows_t *analytics_windows_new (int64_t now_ms);
void analytics_windows_destroy (analytics_windows_t **self_p);
//  Adds delta of metric to product at event time at_ms (ignored when older than the day).
int analytics_windows_add (analytics_windows_t *self, const char *product, analytics_metric_t m,
                           int64_t at_ms, int64_t delta);
//  Moves the windows to now_ms: what left a window is subtracted from it.
void analytics_windows_advance (analytics_windows_t *self, int64_t now_ms);
//  The top limit (at most 50) products by metric over window, value > 0, highest first, ties
//  by product id. Fills out (product ids owned by the windows, valid until the next add);
//  returns how many.
size_t analytics_windows_top (analytics_windows_t *self, analytics_window_id_t w,
                              analytics_metric_t m, size_t limit, analytics_top_t *out);
//  The sum over window of every product's metric (the shop's figure).
int64_t analytics_windows_total (analytics_windows_t *self, analytics_window_id_t w,
                                 analytics_metric_t m);

//  ---------------------------------------------------------------- inventory forecast
//  Per SKU an exponentially weighted sales rate from inventory.sold (and .restored, which
//  takes a sale back), the days its availability covers, and a reorder suggestion
//  (analytics_forecast.c; docs/analytics.md "Inventory forecast").
typedef struct {
    double half_life_ms;  //  of the sales rate
    double lead_days;     //  reorder when cover falls under this
    double safety_days;   //  a reorder covers lead_days + safety_days
} analytics_forecast_cfg_t;

//  Adds the units of an inventory.sold (sign +1) or inventory.restored (sign -1) event at
//  at_ms to each SKU's rate, into batch. Returns 0 or -VE_IO.
int analytics_forecast_sold (const analytics_forecast_cfg_t *cfg, vstore_t *store,
                             vstore_batch_t *batch, const vmsg_value_t *lines, int64_t at_ms,
                             int sign);
//  The analytics.forecast method: SKUs by urgency, a page at a time.
int analytics_forecast_method (vactor_call_t *call, const analytics_forecast_cfg_t *cfg);

//  ---------------------------------------------------------------- searches
//  The searches with results that shoppers run most, with counts that halve every half-life:
//  at most capacity of them, by the space-saving algorithm (analytics_searches.c;
//  docs/analytics.md "Searches").
typedef struct analytics_searches_s analytics_searches_t;

//  An empty table of capacity searches (NULL when out of memory).
analytics_searches_t *analytics_searches_new (size_t capacity, double half_life_ms);
void analytics_searches_destroy (analytics_searches_t **self_p);
//  Loads the table from CF_SEARCHES (keeping the most counted when the store holds more than
//  capacity, and deleting the others). Returns 0 or a negative code.
int analytics_searches_load (analytics_searches_t *self, vstore_t *store);
//  Counts a search (text as typed) at at_ms: in memory and into batch, under its normal form
//  (ASCII lower case, runs of white space as one space, none at the ends). A text that is blank
//  or over VLIM_SEARCH_Q bytes once normalised is not counted. Returns 0 or -VE_NOMEM (then
//  nothing changed).
int analytics_searches_add (analytics_searches_t *self, vstore_t *store, vstore_batch_t *batch,
                            const char *text, int64_t at_ms);
//  The analytics.searches method.
int analytics_searches_method (vactor_call_t *call, const analytics_searches_t *self);

//  ---------------------------------------------------------------- export and import
//  Writes every exported-but-pending event of a finished hour (all of them when every_ms is
//  under an hour) to <dir>/<YYYY-MM-DD>/events-<HH>-<flush id>.jsonl.zst: temp file, fsync,
//  rename, then the day's manifest.json the same way; then removes them from CF_EXPORT in
//  a transaction. Returns the events written or a negative code (nothing removed).
//  Memory stays bounded: it goes in rounds of about round_bytes of lines, one file each.
int analytics_export_flush (vactor_t *actor, const char *dir, int64_t now_ms, int64_t every_ms,
                            size_t round_bytes);

//  Applies one event (decoded against its topic's schema) to the counters: the function the
//  stream consumer and the import share. prev is the stream's last event applied before it
//  (0: none yet): a gap says how many were lost or skipped. export says whether it goes to
//  CF_EXPORT too.
int analytics_apply (vactor_t *actor, const char *stream, uint64_t seq, uint64_t prev,
                     const char *topic,
                     int64_t time_ms, const void *body, size_t len, const vmsg_value_t *value,
                     vstore_t *store, vstore_batch_t *batch, bool export);

//  Writes into batch the counter updates analytics_apply summed in memory: before the batch
//  commits (the runtime's before_commit). Returns 0 or -VE_IO.
int analytics_stage (vactor_t *actor, vstore_t *store, vstore_batch_t *batch);

//  Reads every file listed in the manifests under dir, in time order, and applies each event
//  not applied yet (by its stream's offset, which it advances in the same batch). Run from
//  open, before the runtime loads the offsets. Returns the events applied or a negative code.
int analytics_import (vactor_t *actor, const char *dir);

#endif
