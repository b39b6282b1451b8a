//  recommend.c — the recommend actor: "frequently bought together" (item-to-item co-occurrence
//  in confirmed orders, cosine or lift with a minimum support), "also viewed" (co-views within
//  a session window), trending (exponentially decayed popularity) and picks per shopper, all
//  kept in RocksDB from order.confirmed, cart.line_added and product.viewed, each event once
//  (its writes and the runtime's stream offset share one batch). docs/recommend.md.
#include "vactor.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHO           "recommend"
#define CF_CO         1  //  a "\0" b → be64: confirmed orders holding both
#define CF_COUNT      2  //  "n" → orders; "o:"p → orders holding p; "v:"p → sessions viewing p
#define CF_COVIEW     3  //  a "\0" b → be64: sessions that viewed both within the window
#define CF_TREND      4  //  p → double score, be64 reference time, category
#define CF_SESSION    5  //  session → entries (be64 time, product "\0"), oldest first
#define CF_USER       6  //  user → entries ('v' or 'b', product "\0"), oldest first
#define MAX_SESSION   20  //  views remembered per session
#define MAX_USER_VIEW 20  //  recent views remembered per shopper
#define MAX_USER_BUY  100
#define MAX_RELATED   64  //  candidates read per product
#define MAX_PICKS     1024
#define PRODUCT       65

static const char *const s_cfs[] = { "co", "counts", "coview", "trend", "sessions", "users", NULL };

typedef struct {
    long half_life_ms, session_ms, min_support, coview_support;
    bool lift;  //  score by lift instead of cosine
} recommend_t;

typedef struct {
    char id[PRODUCT];
    double score;
} s_item_t;

//  ---------------------------------------------------------------- store helpers

static int64_t
s_get_count (vstore_t *store, int cf, const char *key, size_t klen)
{
    char *raw = NULL;
    size_t len = 0;
    vstore_get (store, cf, key, klen, &raw, &len);
    int64_t v = raw && len == 8 ? (int64_t) vstore_from_be64 (raw) : 0;
    free (raw);
    return v;
}

static void
s_add_count (vstore_t *store, vstore_batch_t *batch, int cf, const char *key, size_t klen,
             int64_t delta)
{
    uint8_t v[8];
    vstore_be64 (v, (uint64_t) (s_get_count (store, cf, key, klen) + delta));
    vstore_batch_put (batch, store, cf, key, klen, v, 8);
}

static size_t
s_pair (char *out, const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b);
    memcpy (out, a, la);
    out[la] = 0;
    memcpy (out + la + 1, b, lb);
    return la + 1 + lb;
}

static void
s_count_key (char *out, size_t size, char kind, const char *p)
{
    snprintf (out, size, "%c:%s", kind, p);
}

//  ---------------------------------------------------------------- trending
//  A product's popularity is a sum of weights each decayed by 2^(-age / half-life). Kept as
//  one number and the time it is valid at: moving it to a later time multiplies it by the
//  decay between, so an event costs one read and one write, and a query decays to now.

typedef struct {
    double score;
    int64_t at;
    char category[201];
} s_trend_t;

static bool
s_trend_get (vstore_t *store, const char *p, s_trend_t *t)
{
    char *raw = NULL;
    size_t len = 0;
    memset (t, 0, sizeof *t);
    vstore_get (store, CF_TREND, p, strlen (p), &raw, &len);
    bool found = raw && len >= 16;
    if (found) {
        memcpy (&t->score, raw, 8);
        t->at = (int64_t) vstore_from_be64 (raw + 8);
        snprintf (t->category, sizeof t->category, "%.*s", (int) (len - 16), raw + 16);
    }
    free (raw);
    return found;
}

static double
s_decay (const recommend_t *self, double score, int64_t from, int64_t to)
{
    return score * exp2 (-(double) (to - from) / (double) self->half_life_ms);
}

static void
s_trend_add (recommend_t *self, vstore_t *store, vstore_batch_t *batch, const char *p,
             const char *category, int64_t at, double weight)
{
    s_trend_t t;
    if (!s_trend_get (store, p, &t))
        t.at = at;
    if (at >= t.at) {
        t.score = s_decay (self, t.score, t.at, at) + weight;
        t.at = at;
    }
    else
        t.score += s_decay (self, weight, at, t.at);  //  a late event: older, so worth less
    if (category && *category)
        snprintf (t.category, sizeof t.category, "%s", category);
    char rec[16 + 200];
    size_t clen = strlen (t.category);
    memcpy (rec, &t.score, 8);
    vstore_be64 ((uint8_t *) rec + 8, (uint64_t) t.at);
    memcpy (rec + 16, t.category, clen);
    vstore_batch_put (batch, store, CF_TREND, p, strlen (p), rec, 16 + clen);
}

//  "furniture" holds furniture and furniture/…, not furniture2.
static bool
s_in_category (const char *category, const char *prefix)
{
    size_t n = strlen (prefix);
    return strncmp (category, prefix, n) == 0 && (category[n] == 0 || category[n] == '/');
}

static int
s_item_order (const void *a, const void *b)
{
    const s_item_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp (x->id, y->id);
}

//  ---------------------------------------------------------------- lists of products
//  Sessions and shoppers keep short lists: entries of a fixed head and a NUL-terminated id.

typedef struct {
    int64_t t;  //  sessions: when viewed
    char kind;  //  users: 'v' viewed, 'b' bought
    char id[PRODUCT];
} s_entry_t;

static size_t
s_list_get (vstore_t *store, int cf, const char *key, s_entry_t *out, size_t max)
{
    char *raw = NULL;
    size_t len = 0, n = 0;
    vstore_get (store, cf, key, strlen (key), &raw, &len);
    size_t head = cf == CF_SESSION ? 8 : 1;
    for (size_t at = 0; raw && at + head < len && n < max;) {
        const char *id = raw + at + head;
        const char *nul = memchr (id, 0, len - at - head);
        if (!nul || nul - id >= PRODUCT)
            break;
        if (cf == CF_SESSION)
            out[n].t = (int64_t) vstore_from_be64 (raw + at);
        else
            out[n].kind = raw[at];
        memcpy (out[n].id, id, (size_t) (nul - id) + 1);
        n++;
        at = (size_t) (nul - raw) + 1;
    }
    free (raw);
    return n;
}

static void
s_list_put (vstore_t *store, vstore_batch_t *batch, int cf, const char *key, const s_entry_t *e,
            size_t n)
{
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        if (cf == CF_SESSION) {
            uint8_t t[8];
            vstore_be64 (t, (uint64_t) e[i].t);
            vbuf_append (&buf, t, 8);
        }
        else
            vbuf_append (&buf, &e[i].kind, 1);
        vbuf_append (&buf, e[i].id, strlen (e[i].id) + 1);
    }
    if (!buf.failed)
        vstore_batch_put (batch, store, cf, key, strlen (key), buf.data, buf.len);
    vbuf_free (&buf);
}

//  Adds (or moves to the end) a shopper's entries, all at once (the batch cannot be read back:
//  one event writes the list once); keeps the newest views and purchases.
static void
s_user_note (vstore_t *store, vstore_batch_t *batch, const char *user, char kind,
             const char *const *ids, size_t nids)
{
    s_entry_t e[MAX_USER_VIEW + MAX_USER_BUY + 64];
    size_t n = s_list_get (store, CF_USER, user, e, MAX_USER_VIEW + MAX_USER_BUY), views = 0;
    size_t w = 0, buys = 0;
    for (size_t i = 0; i < n; i++) {
        bool again = false;
        for (size_t k = 0; k < nids && !again; k++)
            again = e[i].kind == kind && strcmp (e[i].id, ids[k]) == 0;
        if (!again)
            e[w++] = e[i];
    }
    n = w;
    for (size_t k = 0; k < nids && n < sizeof e / sizeof e[0]; k++) {
        e[n].kind = kind;
        snprintf (e[n].id, sizeof e[n].id, "%s", ids[k]);
        n++;
    }
    for (size_t i = 0; i < n; i++)
        e[i].kind == 'v' ? views++ : buys++;
    //  Drop the oldest of a kind that is over its limit.
    w = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].kind == 'v' && views > MAX_USER_VIEW) {
            views--;
            continue;
        }
        if (e[i].kind == 'b' && buys > MAX_USER_BUY) {
            buys--;
            continue;
        }
        e[w++] = e[i];
    }
    s_list_put (store, batch, CF_USER, user, e, w);
}

//  ---------------------------------------------------------------- events

static int64_t
s_event_time (const vbus_event_t *ev, const vmsg_value_t *v)
{
    return vmsg_has (v, "at") ? vmsg_int (v, "at", ev->time_ms) : ev->time_ms;
}

//  A view: popularity, the shopper's history, and co-views with what the same session viewed
//  within the window. A product viewed again in the window adds no co-view (a reload is not a
//  second opinion).
static void
s_viewed (recommend_t *self, vstore_t *store, vstore_batch_t *batch, const vmsg_value_t *v,
          int64_t at)
{
    const char *p = vmsg_str (v, "product_id"), *user = vmsg_str (v, "user_id");
    const char *sid = vmsg_str (v, "session_id");
    s_trend_add (self, store, batch, p, vmsg_str (v, "category"), at, 1.0);
    if (user && *user)
        s_user_note (store, batch, user, 'v', &p, 1);
    char session[80];
    if (user && *user)
        snprintf (session, sizeof session, "u:%s", user);
    else if (sid && *sid)
        snprintf (session, sizeof session, "s:%s", sid);
    else
        return;
    s_entry_t e[MAX_SESSION + 1];
    size_t n = s_list_get (store, CF_SESSION, session, e, MAX_SESSION), w = 0;
    bool again = false;
    for (size_t i = 0; i < n; i++) {
        if (e[i].t < at - self->session_ms)
            continue;  //  out of the window
        if (strcmp (e[i].id, p) == 0) {
            again = true;
            continue;  //  moved to the end below
        }
        e[w++] = e[i];
    }
    if (!again) {
        char key[2 * PRODUCT + 2], count[PRODUCT + 3];
        for (size_t i = 0; i < w; i++) {
            s_add_count (store, batch, CF_COVIEW, key, s_pair (key, p, e[i].id), 1);
            s_add_count (store, batch, CF_COVIEW, key, s_pair (key, e[i].id, p), 1);
        }
        s_count_key (count, sizeof count, 'v', p);
        s_add_count (store, batch, CF_COUNT, count, strlen (count), 1);
    }
    if (w == MAX_SESSION) {
        memmove (e, e + 1, (MAX_SESSION - 1) * sizeof *e);
        w--;
    }
    e[w].t = at;
    snprintf (e[w].id, sizeof e[w].id, "%s", p);
    s_list_put (store, batch, CF_SESSION, session, e, w + 1);
}

//  A confirmed order: every pair of its distinct products, their order counts, the total.
static void
s_confirmed (recommend_t *self, vstore_t *store, vstore_batch_t *batch, const vmsg_value_t *v,
             int64_t at)
{
    const vmsg_value_t *lines = vmsg_get (v, "lines");
    const char *ids[64];
    size_t n = 0;
    for (uint32_t i = 0; i < vmsg_count (lines) && n < 64; i++) {
        const char *p = vmsg_str (vmsg_at (lines, i), "product_id");
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp (ids[k], p) == 0;
        if (seen || strlen (p) >= PRODUCT)
            continue;
        ids[n++] = p;
        s_trend_add (self, store, batch, p, NULL, at,
                     5.0 * (double) vmsg_int (vmsg_at (lines, i), "qty", 1));
    }
    if (!n)
        return;
    s_add_count (store, batch, CF_COUNT, "n", 1, 1);
    const char *user = vmsg_str (v, "user_id");
    for (size_t i = 0; i < n; i++) {
        char key[2 * PRODUCT + 2];
        s_count_key (key, sizeof key, 'o', ids[i]);
        s_add_count (store, batch, CF_COUNT, key, strlen (key), 1);
        for (size_t k = 0; k < n; k++)
            if (k != i)
                s_add_count (store, batch, CF_CO, key, s_pair (key, ids[i], ids[k]), 1);
    }
    if (user && *user)
        s_user_note (store, batch, user, 'b', ids, n);
}

static int
recommend_on_event (vactor_t *actor, const vbus_event_t *ev, const vmsg_value_t *body,
                    vstore_t *store, vstore_batch_t *batch)
{
    recommend_t *self = vactor_state (actor);
    int64_t at = s_event_time (ev, body);
    if (strcmp (ev->topic, "product.viewed") == 0)
        s_viewed (self, store, batch, body, at);
    else if (strcmp (ev->topic, "order.confirmed") == 0)
        s_confirmed (self, store, batch, body, at);
    else if (strcmp (ev->topic, "cart.line_added") == 0)
        s_trend_add (self, store, batch, vmsg_str (body, "product_id"), NULL, at, 3.0);
    return 0;
}

//  ---------------------------------------------------------------- queries

//  The products related to p in cf (co-purchases or co-views) with at least support, scored
//  by cosine (c / sqrt(n_p n_q)) or lift (c N / (n_p n_q)); best first, at most max.
static size_t
s_related (recommend_t *self, vstore_t *store, int cf, const char *p, s_item_t *out, size_t max)
{
    char prefix[PRODUCT + 1], key[PRODUCT + 3];
    size_t plen = strlen (p) + 1;
    memcpy (prefix, p, plen);
    char kind = cf == CF_CO ? 'o' : 'v';
    long support = cf == CF_CO ? self->min_support : self->coview_support;
    s_count_key (key, sizeof key, kind, p);
    double np = (double) s_get_count (store, CF_COUNT, key, strlen (key));
    double total = (double) s_get_count (store, CF_COUNT, "n", 1);
    vstore_iter_t *it = vstore_iter_new (store, cf, prefix, plen, NULL, 0);
    const char *k, *val;
    size_t klen, vlen, n = 0;
    s_item_t all[MAX_RELATED * 4];
    while (it && vstore_iter_next (it, &k, &klen, &val, &vlen) && n < MAX_RELATED * 4) {
        int64_t c = vlen == 8 ? (int64_t) vstore_from_be64 (val) : 0;
        if (c < support || klen - plen >= PRODUCT)
            continue;
        s_item_t *item = &all[n];
        snprintf (item->id, sizeof item->id, "%.*s", (int) (klen - plen), k + plen);
        s_count_key (key, sizeof key, kind, item->id);
        double nq = (double) s_get_count (store, CF_COUNT, key, strlen (key));
        if (np <= 0 || nq <= 0)
            continue;
        item->score = self->lift && cf == CF_CO ? (double) c * total / (np * nq)
                                                : (double) c / sqrt (np * nq);
        n++;
    }
    vstore_iter_destroy (&it);
    if (n)
        qsort (all, n, sizeof *all, s_item_order);
    n = n < max ? n : max;
    memcpy (out, all, n * sizeof *out);
    return n;
}

//  Trending now, in categories (NULL: all; else any of ncat prefixes), leaving out skip.
static size_t
s_trending (recommend_t *self, vactor_t *actor, vstore_t *store, const char *const *cats,
            size_t ncat, const s_entry_t *skip, size_t nskip, s_item_t *out, size_t max)
{
    int64_t now = vactor_now_ms (actor);
    vstore_iter_t *it = vstore_iter_new (store, CF_TREND, NULL, 0, NULL, 0);
    const char *k, *val;
    size_t klen, vlen, n = 0;
    //  A bounded sorted array: the heap of a top-k, with k at most 20.
    while (it && vstore_iter_next (it, &k, &klen, &val, &vlen)) {
        if (vlen < 16 || klen >= PRODUCT)
            continue;
        char category[201], id[PRODUCT];
        snprintf (category, sizeof category, "%.*s", (int) (vlen - 16), val + 16);
        snprintf (id, sizeof id, "%.*s", (int) klen, k);
        bool in = ncat == 0;
        for (size_t c = 0; c < ncat && !in; c++)
            in = s_in_category (category, cats[c]);
        for (size_t s = 0; s < nskip && in; s++)
            in = !(skip[s].kind == 'b' && strcmp (skip[s].id, id) == 0);
        if (!in)
            continue;
        double score;
        memcpy (&score, val, 8);
        s_item_t item;
        item.score = s_decay (self, score, (int64_t) vstore_from_be64 (val + 8), now);
        memcpy (item.id, id, sizeof id);
        if (item.score <= 0 || (n == max && s_item_order (&item, &out[n - 1]) > 0))
            continue;
        size_t at = n < max ? n++ : n - 1;
        while (at > 0 && s_item_order (&item, &out[at - 1]) < 0) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = item;
    }
    vstore_iter_destroy (&it);
    return n;
}

static void
s_pack_items (msgpack_packer *pk, const s_item_t *items, size_t n)
{
    vmp_pack_cstr (pk, "items");
    msgpack_pack_array (pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "product_id", items[i].id);
        vmp_pack_cstr (pk, "score");
        msgpack_pack_double (pk, items[i].score);
    }
}

static int
s_related_method (vactor_call_t *call, int cf)
{
    recommend_t *self = vactor_state (call->actor);
    const char *p = vmsg_str (call->body, "product_id");
    size_t limit = (size_t) vmsg_int (call->body, "limit", 10);
    s_item_t items[20];
    size_t n = strlen (p) < PRODUCT ? s_related (self, call->store, cf, p, items, limit) : 0;
    msgpack_pack_map (&call->out->pk, 1);
    s_pack_items (&call->out->pk, items, n);
    return VE_OK;
}

static int
recommend_bought_together (vactor_call_t *call)
{
    return s_related_method (call, CF_CO);
}

static int
recommend_also_viewed (vactor_call_t *call)
{
    return s_related_method (call, CF_COVIEW);
}

static int
recommend_trending (vactor_call_t *call)
{
    recommend_t *self = vactor_state (call->actor);
    const char *category = vmsg_str (call->body, "category");
    size_t limit = (size_t) vmsg_int (call->body, "limit", 10);
    s_item_t items[20];
    size_t n = s_trending (self, call->actor, call->store, &category, category ? 1 : 0, NULL, 0,
                           items, limit);
    msgpack_pack_map (&call->out->pk, 1);
    s_pack_items (&call->out->pk, items, n);
    return VE_OK;
}

//  Through the item-item tables from what the shopper viewed (newest first) and bought,
//  scores added up per candidate; a purchase counts twice a view. What they bought is left
//  out. Nothing found (a cold start): trending in the categories they looked at, else all.
static int
recommend_for_user (vactor_call_t *call)
{
    recommend_t *self = vactor_state (call->actor);
    const char *user = call->req->caller.user_id;
    size_t limit = (size_t) vmsg_int (call->body, "limit", 10);
    if (!user || !*user)
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "sign in for picks of your own");
    s_entry_t *hist = varena_alloc (call->arena, (MAX_USER_VIEW + MAX_USER_BUY) * sizeof *hist);
    s_item_t *picks = varena_alloc (call->arena, MAX_PICKS * sizeof *picks);
    if (!hist || !picks)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    size_t nh = s_list_get (call->store, CF_USER, user, hist, MAX_USER_VIEW + MAX_USER_BUY);
    size_t np = 0;
    for (size_t i = nh; i-- > 0;) {
        s_item_t rel[MAX_RELATED];
        size_t nr = s_related (self, call->store, hist[i].kind == 'b' ? CF_CO : CF_COVIEW,
                               hist[i].id, rel, 20);
        double weight = hist[i].kind == 'b' ? 2.0 : 1.0;
        for (size_t r = 0; r < nr; r++) {
            bool bought = false;
            for (size_t k = 0; k < nh && !bought; k++)
                bought = hist[k].kind == 'b' && strcmp (hist[k].id, rel[r].id) == 0;
            if (bought)
                continue;
            size_t k = 0;
            while (k < np && strcmp (picks[k].id, rel[r].id) != 0)
                k++;
            if (k == np) {
                if (np == MAX_PICKS)
                    continue;
                picks[np++] = (s_item_t) { .score = 0 };
                memcpy (picks[k].id, rel[r].id, sizeof rel[r].id);
            }
            picks[k].score += weight * rel[r].score;
        }
    }
    bool personal = np > 0;
    if (personal) {
        qsort (picks, np, sizeof *picks, s_item_order);
        np = np < limit ? np : limit;
    }
    else {
        const char *cats[MAX_USER_VIEW + MAX_USER_BUY] = { NULL };
        size_t ncat = 0;
        for (size_t i = 0; i < nh; i++) {
            s_trend_t t;
            if (s_trend_get (call->store, hist[i].id, &t) && *t.category)
                cats[ncat++] = varena_strdup (call->arena, t.category);
        }
        np = s_trending (self, call->actor, call->store, cats, ncat, hist, nh, picks, limit);
        if (np == 0 && ncat)
            np = s_trending (self, call->actor, call->store, NULL, 0, hist, nh, picks, limit);
    }
    msgpack_pack_map (&call->out->pk, 2);
    s_pack_items (&call->out->pk, picks, np);
    vmp_pack_kstr (&call->out->pk, "source", venum_recommend_source[personal ? 0 : 1]);
    return VE_OK;
}

//  ---------------------------------------------------------------- life cycle

static int
recommend_open (vactor_t *actor)
{
    recommend_t *self = calloc (1, sizeof *self);
    if (!self)
        return -VE_NOMEM;
    vactor_set_state (actor, self);
    if (vactor_config_long (actor, "half_life_ms", 1000, 365 * 86400000L, 6 * 3600000L,
                            &self->half_life_ms)
        || vactor_config_long (actor, "session_window_ms", 1000, 86400000L, 30 * 60000L,
                               &self->session_ms)
        || vactor_config_long (actor, "min_support", 1, 1000000, 2, &self->min_support)
        || vactor_config_long (actor, "coview_min_support", 1, 1000000, 1, &self->coview_support))
        return -VE_CONFIG;
    const char *score = vactor_config (actor, "score");
    if (score && strcmp (score, "lift") != 0 && strcmp (score, "cosine") != 0) {
        vbus_log ('E', WHO, "score: cosine or lift, not '%s'", score);
        return -VE_CONFIG;
    }
    self->lift = score && strcmp (score, "lift") == 0;
    if (!vactor_store (actor, 0)) {
        vbus_log ('E', WHO, "recommend has one partition: run it with --partitions 1");
        return -VE_CONFIG;
    }
    return 0;
}

static void
recommend_close (vactor_t *actor)
{
    free (vactor_state (actor));
    vactor_set_state (actor, NULL);
}

static const vactor_method_t s_methods[] = { { "bought_together", recommend_bought_together, false },
                                             { "also_viewed", recommend_also_viewed, false },
                                             { "trending", recommend_trending, false },
                                             { "for_user", recommend_for_user, false },
                                             { 0 } };
static const char *const s_consumes[] = { "order.confirmed", "cart.line_added", "product.viewed",
                                          NULL };
static const char *const s_config_keys[] = { "half_life_ms", "session_window_ms", "min_support",
                                             "coview_min_support", "score", NULL };

static const vactor_def_t s_def = { .service = "recommend",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .partitions = 1,
                                    .config_keys = s_config_keys,
                                    .open = recommend_open,
                                    .close = recommend_close,
                                    .consumes = s_consumes,
                                    .on_event = recommend_on_event };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
