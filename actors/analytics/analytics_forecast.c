//  analytics_forecast.c — the inventory forecast: per SKU an exponentially weighted sales rate
//  from inventory.sold, the days its availability covers at that rate, and a reorder
//  suggestion when the cover falls under the lead time; analytics.forecast lists SKUs by
//  urgency. docs/analytics.md "Inventory forecast" is the design.
//
//  The rate is a decayed sum of units: each unit sold weighs 2^(-age / half-life). Kept as one
//  number and the time it is valid at (as recommend's trending), so a sale costs one read and
//  one write, and a query decays it to now. For a steady rate r the sum tends to r H / ln 2;
//  over a history of T it is r H / ln 2 (1 - 2^(-T/H)), so
//
//      rate = S ln 2 / (H (1 - 2^(-T/H)))      T = now - first sale, at least one day
//
//  which reads a young SKU's rate right instead of ramping it up over weeks (T is held at a
//  day at least, so that one sale an hour ago is not read as 24 a day).
#include "analytics.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS       86400000.0
#define MAX_LIMIT    1000
#define FORECAST_REC 24  //  double sum, be64 at, be64 first sale

typedef struct {
    double sum;
    int64_t at, first;
} s_rec_t;

static bool
s_rec_get (vstore_t *store, const char *sku, size_t len, s_rec_t *r)
{
    char *raw = NULL;
    size_t rlen = 0;
    memset (r, 0, sizeof *r);
    vstore_get (store, CF_FORECAST, sku, len, &raw, &rlen);
    bool found = raw && rlen == FORECAST_REC;
    if (found) {
        memcpy (&r->sum, raw, 8);
        r->at = (int64_t) vstore_from_be64 (raw + 8);
        r->first = (int64_t) vstore_from_be64 (raw + 16);
    }
    free (raw);
    return found;
}

static double
s_decay (const analytics_forecast_cfg_t *cfg, int64_t from, int64_t to)
{
    return exp2 (-(double) (to - from) / cfg->half_life_ms);
}

int
analytics_forecast_sold (const analytics_forecast_cfg_t *cfg, vstore_t *store,
                         vstore_batch_t *batch, const vmsg_value_t *lines, int64_t at_ms,
                         int sign)
{
    //  One event may name a SKU on two lines: its units are added up first (the batch cannot
    //  be read back).
    uint32_t n = vmsg_count (lines);
    for (uint32_t i = 0; i < n; i++) {
        const char *sku = vmsg_str (vmsg_at (lines, i), "sku");
        bool seen = false;
        for (uint32_t k = 0; k < i && !seen; k++)
            seen = strcmp (vmsg_str (vmsg_at (lines, k), "sku"), sku) == 0;
        if (seen)
            continue;
        int64_t qty = 0;
        for (uint32_t k = i; k < n; k++)
            if (strcmp (vmsg_str (vmsg_at (lines, k), "sku"), sku) == 0)
                qty += vmsg_int (vmsg_at (lines, k), "qty", 0);
        s_rec_t r;
        size_t len = strlen (sku);
        bool known = s_rec_get (store, sku, len, &r);
        if (!known) {
            if (sign < 0)
                continue;  //  a sale we never saw taken back: nothing to undo
            r.at = r.first = at_ms;
        }
        double units = (double) (sign * qty);
        if (at_ms >= r.at) {
            r.sum = r.sum * s_decay (cfg, r.at, at_ms) + units;
            r.at = at_ms;
        }
        else
            r.sum += units * s_decay (cfg, at_ms, r.at);  //  a late event: older, worth less
        if (r.sum < 0)
            r.sum = 0;
        if (at_ms < r.first && sign > 0)
            r.first = at_ms;
        char rec[FORECAST_REC];
        memcpy (rec, &r.sum, 8);
        vstore_be64 ((uint8_t *) rec + 8, (uint64_t) r.at);
        vstore_be64 ((uint8_t *) rec + 16, (uint64_t) r.first);
        vstore_batch_put (batch, store, CF_FORECAST, sku, len, rec, sizeof rec);
    }
    return 0;
}

//  ---------------------------------------------------------------- the query

typedef struct {
    const char *sku, *product;
    int64_t available;
    double rate;   //  units a day
    double cover;  //  days; INFINITY when nothing sells
    int64_t reorder;
} s_item_t;

//  Urgency: least cover first (sold out is cover 0), then the faster seller, then the SKU.
static int
s_compare (double cover_a, double rate_a, const char *sku_a, double cover_b, double rate_b,
           const char *sku_b)
{
    if (cover_a != cover_b)
        return cover_a < cover_b ? -1 : 1;
    if (rate_a != rate_b)
        return rate_a > rate_b ? -1 : 1;
    return strcmp (sku_a, sku_b);
}

static int
s_item_order (const void *a, const void *b)
{
    const s_item_t *x = a, *y = b;
    return s_compare (x->cover, x->rate, x->sku, y->cover, y->rate, y->sku);
}

static void
s_forecast (const analytics_forecast_cfg_t *cfg, const s_rec_t *r, bool known, int64_t now,
            s_item_t *item)
{
    item->rate = 0;
    if (known && r->sum > 0) {
        double span = (double) (now - r->first);
        if (span < DAY_MS)
            span = DAY_MS;
        double sum = r->sum * s_decay (cfg, r->at, now);
        item->rate = sum * M_LN2 / (cfg->half_life_ms * (1 - exp2 (-span / cfg->half_life_ms)))
                     * DAY_MS;
    }
    if (item->available <= 0)
        item->cover = 0;
    else
        item->cover = item->rate > 0 ? (double) item->available / item->rate : INFINITY;
    item->reorder = 0;
    if (item->rate > 0 && item->cover < cfg->lead_days) {
        double want = ceil (item->rate * (cfg->lead_days + cfg->safety_days));
        int64_t have = item->available > 0 ? item->available : 0;
        item->reorder = (int64_t) want - have;
        if (item->reorder < 1)
            item->reorder = 1;
    }
}

int
analytics_forecast_method (vactor_call_t *call, const analytics_forecast_cfg_t *cfg)
{
    int64_t now = vactor_now_ms (call->actor);
    size_t limit = (size_t) vmsg_int (call->body, "limit", 50);
    const char *cursor = vmsg_str (call->body, "cursor");
    //  The cursor is the time of the first page and the last item's sort key,
    //  "at|cover|rate|sku" with hex floats (exact): the next page is computed as of the same
    //  time (covers grow as rates decay: a later clock would list an item twice) and starts
    //  after that key.
    double after_cover = 0, after_rate = 0;
    const char *after_sku = NULL;
    if (cursor && *cursor) {
        char *end;
        long long at = strtoll (cursor, &end, 10);
        if (*end == '|')
            after_cover = strtod (end + 1, &end);
        if (*end == '|')
            after_rate = strtod (end + 1, &end);
        if (*end != '|' || at <= 0)
            return vbus_out_error (call->out, VE_BAD_REQUEST, "cursor: not one this gave");
        now = at;
        after_sku = end + 1;
    }
    size_t n = 0, cap = 256;
    s_item_t *items = malloc (cap * sizeof *items);
    vstore_iter_t *it = vstore_iter_new (call->store, CF_STOCK, NULL, 0, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    bool failed = !items || !it;
    while (!failed && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        if (vlen <= 16)
            continue;
        s_item_t item = { .available = (int64_t) vstore_from_be64 (val) };
        s_rec_t r;
        bool known = s_rec_get (call->store, key, klen, &r);
        s_forecast (cfg, &r, known, now, &item);
        item.sku = varena_strndup (call->arena, key, klen);
        item.product = varena_strndup (call->arena, val + 16, vlen - 16);
        if (!item.sku || !item.product) {
            failed = true;
            break;
        }
        if (after_sku
            && s_compare (item.cover, item.rate, item.sku, after_cover, after_rate, after_sku) <= 0)
            continue;
        if (n == cap) {
            s_item_t *more = realloc (items, 2 * cap * sizeof *items);
            if (!more) {
                failed = true;
                break;
            }
            items = more;
            cap *= 2;
        }
        items[n++] = item;
    }
    vstore_iter_destroy (&it);
    if (failed) {
        free (items);
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    }
    if (n)
        qsort (items, n, sizeof *items, s_item_order);
    bool more = n > limit;
    size_t shown = more ? limit : n;
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, more ? 4 : 3);
    vmp_pack_kint (pk, "at", now);
    vmp_pack_cstr (pk, "lead_time_days");
    msgpack_pack_double (pk, cfg->lead_days);
    vmp_pack_cstr (pk, "items");
    msgpack_pack_array (pk, shown);
    for (size_t i = 0; i < shown; i++) {
        const s_item_t *x = &items[i];
        bool sells = isfinite (x->cover);
        msgpack_pack_map (pk, sells ? 7 : 6);
        vmp_pack_kstr (pk, "sku", x->sku);
        vmp_pack_kstr (pk, "product_id", x->product);
        vmp_pack_kint (pk, "available", x->available);
        vmp_pack_cstr (pk, "rate_per_day");
        msgpack_pack_double (pk, x->rate);
        if (sells) {
            vmp_pack_cstr (pk, "days_of_cover");
            msgpack_pack_double (pk, x->cover);
        }
        vmp_pack_cstr (pk, "sold_out");
        x->available <= 0 ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
        vmp_pack_kint (pk, "reorder_qty", x->reorder);
    }
    if (more) {
        const s_item_t *last = &items[shown - 1];
        char next[96 + 256];  //  a time, two hex floats and a SKU (at most 200 bytes)
        snprintf (next, sizeof next, "%lld|%a|%a|%s", (long long) now, last->cover, last->rate,
                  last->sku);
        vmp_pack_kstr (pk, "next_cursor", next);
    }
    free (items);
    return VE_OK;
}
