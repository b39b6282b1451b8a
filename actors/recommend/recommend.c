//  recommend.c — the recommend actor: "frequently bought together" (item-to-item co-occurrence
//  in confirmed orders, cosine or lift with a minimum support), "also viewed" (co-views within
//  a session window), trending (exponentially decayed popularity) and picks per shopper, all
//  kept in RocksDB from order.confirmed, cart.line_added and product.viewed, each event once
//  (its writes and the runtime's stream offset share one batch). Archived and sold-out products
//  (from catalog.product_changed and inventory.stock_changed) are left out of every answer.
//  Popularity goes back to the catalog as recommend.popularity events. docs/recommend.md.
#include "vactor.h"
#include "vhash.h"
#include "recommend_graph.h"
#include "recommend_trend.h"
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
#define CF_HIDDEN     7  //  p → one byte of HIDE_* flags (absent: shown)
#define CF_POP        8  //  p → double: the popularity last sent to the catalog
#define MAX_SESSION   20  //  views remembered per session
#define MAX_USER_VIEW 20  //  recent views remembered per shopper
#define MAX_USER_BUY  100
#define MAX_RELATED   64  //  candidates read per product
#define MAX_PICKS     1024
#define PICK_SEEDS    12  //  history entries (newest first) a shopper's picks start from
#define PRODUCT       65
#define HIDE_ARCHIVED 1  //  the catalog's status is not active (archived, or a draft)
#define HIDE_SOLD_OUT 2  //  inventory says it is out of stock
#define POP_BATCH     256  //  products in one recommend.popularity event
#define POP_MIN_DELTA 0.5  //  a change smaller than half a view is never sent

static const char *const s_cfs[] = { "co",    "counts", "coview", "trend", "sessions",
                                     "users", "hidden", "pop",    NULL };

//  The products not to recommend, in memory (an answer checks every candidate): an open-
//  addressing table keyed by the id's hash, entries never removed (a shown-again product's
//  flags go to 0). Mirrors CF_HIDDEN, which rebuilds it at start.
typedef struct {
    uint64_t hash;  //  0: empty slot
    uint8_t flags;
    char id[PRODUCT];
} s_hidden_t;

typedef struct {
    long half_life_ms, session_ms, min_support, coview_support;
    bool lift;  //  score by lift instead of cosine
    s_hidden_t *hidden;
    size_t nhidden, caphidden;  //  caphidden: a power of two
    long pop_every_ms, pop_change_pct;
    int64_t next_pop_ms;  //  the actor's clock
    uint64_t pop_sent;    //  products sent, for the log
    rec_trend_t *trend;   //  CF_TREND in memory, ordered: what trending answers from
    rec_graph_t *graph;   //  CF_CO, CF_COVIEW and CF_COUNT in memory: what related answers walk
    int64_t orders;       //  CF_COUNT "n": confirmed orders counted
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

//  Mirrors a count of CF_CO, CF_COVIEW or CF_COUNT into memory (the graph, the order total).
static int
s_mirror (recommend_t *self, int cf, const char *key, size_t klen, int64_t value)
{
    char a[PRODUCT + 2];
    if (klen >= sizeof a)
        return 0;  //  not a key this actor writes
    memcpy (a, key, klen);
    a[klen] = 0;
    if (cf == CF_CO || cf == CF_COVIEW) {
        size_t la = strlen (a);
        if (la + 1 >= klen)
            return 0;
        return rec_graph_set_pair (self->graph, cf == CF_CO ? REC_CO : REC_COVIEW, a, a + la + 1,
                                   value);
    }
    if (cf != CF_COUNT)
        return 0;
    if (klen == 1 && a[0] == 'n')
        self->orders = value;
    else if (klen > 2 && (a[0] == 'o' || a[0] == 'v') && a[1] == ':')
        return rec_graph_set_count (self->graph, a[0] == 'o' ? REC_CO : REC_COVIEW, a + 2, value);
    return 0;
}

static void
s_add_count (recommend_t *self, vstore_t *store, vstore_batch_t *batch, int cf, const char *key,
             size_t klen, int64_t delta)
{
    int64_t value = s_get_count (store, cf, key, klen) + delta;
    uint8_t v[8];
    vstore_be64 (v, (uint64_t) value);
    vstore_batch_put (batch, store, cf, key, klen, v, 8);
    s_mirror (self, cf, key, klen, value);
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

//  ---------------------------------------------------------------- hidden products

static uint64_t
s_hash (const char *id)
{
    uint64_t h = vhash_fnv1a (id, strlen (id));
    return h ? h : 1;
}

static s_hidden_t *
s_hidden_slot (recommend_t *self, const char *id, uint64_t h)
{
    size_t mask = self->caphidden - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask)
        if (self->hidden[i].hash == 0
            || (self->hidden[i].hash == h && strcmp (self->hidden[i].id, id) == 0))
            return &self->hidden[i];
}

static bool
s_is_hidden (const recommend_t *self, const char *id)
{
    if (!self->nhidden)
        return false;
    uint64_t h = s_hash (id);
    s_hidden_t *e = s_hidden_slot ((recommend_t *) self, id, h);
    return e->hash && e->flags;
}

//  Sets or clears one flag of a product, in memory and in batch.
static int
s_hide (recommend_t *self, vstore_t *store, vstore_batch_t *batch, const char *id, uint8_t flag,
        bool on)
{
    if (strlen (id) >= PRODUCT)
        return 0;
    if ((self->nhidden + 1) * 2 > self->caphidden) {
        size_t cap = self->caphidden ? self->caphidden * 2 : 1024;
        s_hidden_t *old = self->hidden, *fresh = calloc (cap, sizeof *fresh);
        if (!fresh)
            return -VE_NOMEM;
        size_t oldcap = self->caphidden;
        self->hidden = fresh;
        self->caphidden = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].hash)
                *s_hidden_slot (self, old[i].id, old[i].hash) = old[i];
        free (old);
    }
    uint64_t h = s_hash (id);
    s_hidden_t *e = s_hidden_slot (self, id, h);
    uint8_t flags = e->hash ? e->flags : 0;
    uint8_t now = on ? (uint8_t) (flags | flag) : (uint8_t) (flags & ~flag);
    if (e->hash && now == flags)
        return 0;
    if (!e->hash) {
        if (!on)
            return 0;  //  never hidden: nothing to clear
        e->hash = h;
        snprintf (e->id, sizeof e->id, "%s", id);
        self->nhidden++;
    }
    e->flags = now;
    if (store)
        vstore_batch_put (batch, store, CF_HIDDEN, id, strlen (id), &now, 1);
    return 0;
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
    rec_trend_set (self->trend, p, t.category, t.score, t.at);
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
            s_add_count (self, store, batch, CF_COVIEW, key, s_pair (key, p, e[i].id), 1);
            s_add_count (self, store, batch, CF_COVIEW, key, s_pair (key, e[i].id, p), 1);
        }
        s_count_key (count, sizeof count, 'v', p);
        s_add_count (self, store, batch, CF_COUNT, count, strlen (count), 1);
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
    s_add_count (self, store, batch, CF_COUNT, "n", 1, 1);
    const char *user = vmsg_str (v, "user_id");
    for (size_t i = 0; i < n; i++) {
        char key[2 * PRODUCT + 2];
        s_count_key (key, sizeof key, 'o', ids[i]);
        s_add_count (self, store, batch, CF_COUNT, key, strlen (key), 1);
        for (size_t k = 0; k < n; k++)
            if (k != i)
                s_add_count (self, store, batch, CF_CO, key, s_pair (key, ids[i], ids[k]), 1);
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
    else if (strcmp (ev->topic, "catalog.product_changed") == 0) {
        const vmsg_value_t *p = vmsg_get (body, "product");
        const char *status = vmsg_str (p, "status");
        return s_hide (self, store, batch, vmsg_str (p, "id"), HIDE_ARCHIVED,
                       !status || strcmp (status, "active") != 0);
    }
    else if (strcmp (ev->topic, "inventory.stock_changed") == 0)
        return s_hide (self, store, batch, vmsg_str (body, "product_id"), HIDE_SOLD_OUT,
                       !vmsg_bool (body, "in_stock", true));
    return 0;
}

//  ---------------------------------------------------------------- queries

//  The products related to p in cf (co-purchases or co-views) with at least support, scored
//  by cosine (c / sqrt(n_p n_q)) or lift (c N / (n_p n_q)); best first, at most max. Every
//  partner is looked at (a walk of p's list in memory), the best max kept.
typedef struct {
    recommend_t *self;
    long support;
    bool lift;
    double np, total;
    s_item_t *out;
    size_t n, max;
} s_related_walk_t;

static bool
s_related_pick (const char *partner, int64_t c, int64_t nq, void *arg)
{
    s_related_walk_t *w = arg;
    if (c < w->support || nq <= 0 || strlen (partner) >= PRODUCT || s_is_hidden (w->self, partner))
        return true;
    s_item_t item;
    item.score = w->lift ? (double) c * w->total / (w->np * (double) nq)
                         : (double) c / sqrt (w->np * (double) nq);
    memcpy (item.id, partner, strlen (partner) + 1);
    if (w->n == w->max && s_item_order (&item, &w->out[w->n - 1]) > 0)
        return true;
    size_t at = w->n < w->max ? w->n++ : w->n - 1;
    while (at > 0 && s_item_order (&item, &w->out[at - 1]) < 0) {
        w->out[at] = w->out[at - 1];
        at--;
    }
    w->out[at] = item;
    return true;
}

static size_t
s_related (recommend_t *self, int cf, const char *p, s_item_t *out, size_t max)
{
    int kind = cf == CF_CO ? REC_CO : REC_COVIEW;
    s_related_walk_t w = { .self = self,
                           .support = cf == CF_CO ? self->min_support : self->coview_support,
                           .lift = self->lift && cf == CF_CO,
                           .np = (double) rec_graph_count (self->graph, kind, p),
                           .total = (double) self->orders,
                           .out = out,
                           .max = max };
    if (w.np > 0 && max > 0)
        rec_graph_walk (self->graph, kind, p, s_related_pick, &w);
    return w.n;
}

//  Trending now, in categories (NULL: all; else any of ncat prefixes), leaving out skip: the
//  first max of the in-memory order that pass (rec_trend_walk), so an answer costs the walk
//  down to them, not a scan of every product.
typedef struct {
    recommend_t *self;
    const char *const *cats;
    size_t ncat;
    const s_entry_t *skip;
    size_t nskip;
    s_item_t *out;
    size_t n, max;
} s_trend_walk_t;

static bool
s_trend_pick (const char *id, const char *category, double score, void *arg)
{
    s_trend_walk_t *w = arg;
    if (w->n == w->max)
        return false;
    bool in = w->ncat == 0;
    for (size_t c = 0; c < w->ncat && !in; c++)
        in = s_in_category (category, w->cats[c]);
    for (size_t s = 0; s < w->nskip && in; s++)
        in = !(w->skip[s].kind == 'b' && strcmp (w->skip[s].id, id) == 0);
    if (in && !s_is_hidden (w->self, id) && strlen (id) < PRODUCT) {
        s_item_t *item = &w->out[w->n++];
        snprintf (item->id, sizeof item->id, "%s", id);
        item->score = score;
    }
    return w->n < w->max;
}

static size_t
s_trending (recommend_t *self, vactor_t *actor, const char *const *cats, size_t ncat,
            const s_entry_t *skip, size_t nskip, s_item_t *out, size_t max)
{
    s_trend_walk_t w = { self, cats, ncat, skip, nskip, out, 0, max };
    if (max)
        rec_trend_walk (self->trend, vactor_now_ms (actor), s_trend_pick, &w);
    return w.n;
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
    size_t n = strlen (p) < PRODUCT ? s_related (self, cf, p, items, limit) : 0;
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
    size_t n = s_trending (self, call->actor, &category, category ? 1 : 0, NULL, 0,
                           items, limit);
    msgpack_pack_map (&call->out->pk, 1);
    s_pack_items (&call->out->pk, items, n);
    return VE_OK;
}

//  Through the item-item tables from what the shopper viewed and bought lately (the newest
//  PICK_SEEDS entries: each costs a walk of its related products, and the answer must stay
//  well under a millisecond), scores added up per candidate; a purchase counts twice a view.
//  What they ever bought (all the history holds) is left out. Nothing found (a cold start): trending in the categories they looked at, else all.
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
    for (size_t i = nh; i-- > 0 && nh - i <= PICK_SEEDS;) {
        s_item_t rel[MAX_RELATED];
        size_t nr = s_related (self, hist[i].kind == 'b' ? CF_CO : CF_COVIEW,
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
        np = s_trending (self, call->actor, cats, ncat, hist, nh, picks, limit);
        if (np == 0 && ncat)
            np = s_trending (self, call->actor, NULL, 0, hist, nh, picks, limit);
    }
    msgpack_pack_map (&call->out->pk, 2);
    s_pack_items (&call->out->pk, picks, np);
    vmp_pack_kstr (&call->out->pk, "source", venum_recommend_source[personal ? 0 : 1]);
    return VE_OK;
}

//  ---------------------------------------------------------------- popularity to the catalog
//  Every popularity_every_ms the trending scores, decayed to now, are compared with what was
//  last sent (CF_POP); the products whose score moved by popularity_change_pct percent and by
//  at least half a view go out in recommend.popularity events of up to POP_BATCH products,
//  and CF_POP moves with them in the same transaction. A product is thus sent at most once a
//  period, and a quiet catalog costs nothing but the scan. Decay moves every score, so a
//  product nobody looks at is sent again as it fades (about once every 0.15 half-lives while
//  its score is above 5), which keeps the catalog's order of old favourites right too.

static void
s_pop_emit (vactor_call_t *call, vbuf_t *buf, size_t *n, int64_t now, int *rc)
{
    //  The items were packed after a placeholder header: rewrite it with the real count.
    if (*n == 0 || *rc)
        return;
    vbuf_t head;
    char storage[64];
    vbuf_init (&head, storage, sizeof storage);
    msgpack_packer hp;
    vmp_packer_init (&hp, &head);
    msgpack_pack_map (&hp, 2);
    vmp_pack_kint (&hp, "at", now);
    vmp_pack_cstr (&hp, "items");
    msgpack_pack_array (&hp, *n);
    vbuf_t event;
    vbuf_init (&event, NULL, 0);
    vbuf_append (&event, head.data, head.len);
    vbuf_append (&event, buf->data, buf->len);
    *rc = event.failed || buf->failed ? -VE_NOMEM
                                      : vactor_emit (call, "recommend.popularity", event.data,
                                                     event.len);
    vbuf_free (&event);
    vbuf_free (&head);
    buf->len = 0;
    *n = 0;
}

static int
s_pop_txn (vactor_call_t *call, void *arg)
{
    recommend_t *self = arg;
    int64_t now = vactor_now_ms (call->actor);
    vstore_iter_t *trend = vstore_iter_new (call->store, CF_TREND, NULL, 0, NULL, 0);
    vstore_iter_t *sent = vstore_iter_new (call->store, CF_POP, NULL, 0, NULL, 0);
    const char *k, *val, *sk = NULL, *sval = NULL;
    size_t klen, vlen, sklen = 0, svlen = 0;
    bool sent_more = sent && vstore_iter_next (sent, &sk, &sklen, &sval, &svlen);
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    size_t n = 0;
    int rc = trend && sent ? 0 : -VE_NOMEM;
    double change = (double) self->pop_change_pct / 100.0;
    while (rc == 0 && vstore_iter_next (trend, &k, &klen, &val, &vlen)) {
        if (vlen < 16 || klen >= PRODUCT)
            continue;
        //  Both tables are in key order: move the sent side up to this product.
        int cmp = -1;
        while (sent_more) {
            size_t m = klen < sklen ? klen : sklen;
            cmp = memcmp (sk, k, m);
            if (cmp == 0)
                cmp = sklen < klen ? -1 : sklen > klen ? 1 : 0;
            if (cmp >= 0)
                break;
            sent_more = vstore_iter_next (sent, &sk, &sklen, &sval, &svlen);
        }
        double last = 0;
        if (sent_more && cmp == 0 && svlen == 8)
            memcpy (&last, sval, 8);
        double score;
        memcpy (&score, val, 8);
        score = s_decay (self, score, (int64_t) vstore_from_be64 (val + 8), now);
        double delta = fabs (score - last);
        if (delta < POP_MIN_DELTA || delta < change * last)
            continue;
        char id[PRODUCT];
        snprintf (id, sizeof id, "%.*s", (int) klen, k);
        msgpack_pack_map (&pk, 2);
        vmp_pack_kstr (&pk, "product_id", id);
        vmp_pack_cstr (&pk, "popularity");
        msgpack_pack_double (&pk, score);
        vstore_batch_put (call->batch, call->store, CF_POP, id, klen, &score, 8);
        self->pop_sent++;
        if (++n == POP_BATCH)
            s_pop_emit (call, &buf, &n, now, &rc);
    }
    s_pop_emit (call, &buf, &n, now, &rc);
    vstore_iter_destroy (&trend);
    vstore_iter_destroy (&sent);
    vbuf_free (&buf);
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "popularity: %s", verr_str (rc));
    return VE_OK;
}

static void
recommend_on_wake (vactor_t *actor)
{
    recommend_t *self = vactor_state (actor);
    int64_t now = vactor_now_ms (actor);
    if (!self || self->pop_every_ms == 0 || now < self->next_pop_ms)
        return;
    self->next_pop_ms = now + self->pop_every_ms;
    int rc = vactor_txn (actor, 0, false, s_pop_txn, self);
    if (rc)
        vbus_log ('W', WHO, "popularity not sent (%s): tried again in %ld ms", verr_str (rc),
                  self->pop_every_ms);
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
        || vactor_config_long (actor, "coview_min_support", 1, 1000000, 1, &self->coview_support)
        || vactor_config_long (actor, "popularity_every_ms", 0, 3600000, 5000, &self->pop_every_ms)
        || vactor_config_long (actor, "popularity_change_pct", 0, 1000, 10,
                               &self->pop_change_pct))
        return -VE_CONFIG;
    const char *score = vactor_config (actor, "score");
    if (score && strcmp (score, "lift") != 0 && strcmp (score, "cosine") != 0) {
        vbus_log ('E', WHO, "score: cosine or lift, not '%s'", score);
        return -VE_CONFIG;
    }
    self->lift = score && strcmp (score, "lift") == 0;
    vstore_t *store = vactor_store (actor, 0);
    if (!store) {
        vbus_log ('E', WHO, "recommend has one partition: run it with --partitions 1");
        return -VE_CONFIG;
    }
    //  The hidden products, back in memory.
    vstore_iter_t *it = vstore_iter_new (store, CF_HIDDEN, NULL, 0, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    int rc = 0;
    while (rc == 0 && it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        char id[PRODUCT];
        if (klen >= PRODUCT || vlen != 1 || !val[0])
            continue;
        snprintf (id, sizeof id, "%.*s", (int) klen, key);
        for (uint8_t f = HIDE_ARCHIVED; f <= HIDE_SOLD_OUT && rc == 0; f <<= 1)
            if (val[0] & f)
                rc = s_hide (self, NULL, NULL, id, f, true);
    }
    vstore_iter_destroy (&it);
    if (rc)
        return rc;
    //  Trending, back in memory.
    self->trend = rec_trend_new ((double) self->half_life_ms);
    it = self->trend ? vstore_iter_new (store, CF_TREND, NULL, 0, NULL, 0) : NULL;
    while (rc == 0 && it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        char id[PRODUCT], category[REC_TREND_CAT];
        if (klen >= PRODUCT || vlen < 16 || vlen - 16 >= REC_TREND_CAT)
            continue;
        snprintf (id, sizeof id, "%.*s", (int) klen, key);
        snprintf (category, sizeof category, "%.*s", (int) (vlen - 16), val + 16);
        double score;
        memcpy (&score, val, 8);
        rc = rec_trend_set (self->trend, id, category, score, (int64_t) vstore_from_be64 (val + 8));
    }
    vstore_iter_destroy (&it);
    if (!self->trend || rc)
        return -VE_NOMEM;
    //  The item-item tables and the counts, back in memory.
    self->graph = rec_graph_new ();
    static const int mirrored[] = { CF_CO, CF_COVIEW, CF_COUNT };
    for (size_t c = 0; c < 3 && self->graph && rc == 0; c++) {
        it = vstore_iter_new (store, mirrored[c], NULL, 0, NULL, 0);
        while (rc == 0 && it && vstore_iter_next (it, &key, &klen, &val, &vlen))
            if (vlen == 8)
                rc = s_mirror (self, mirrored[c], key, klen, (int64_t) vstore_from_be64 (val));
        vstore_iter_destroy (&it);
    }
    if (!self->graph || rc)
        return -VE_NOMEM;
    self->next_pop_ms = vactor_now_ms (actor) + self->pop_every_ms;
    vbus_log ('I', WHO, "open: %zu products hidden (archived or sold out), %zu trending, %zu "
              "related pairs",
              self->nhidden, rec_trend_count (self->trend), rec_graph_pairs (self->graph));
    return 0;
}

static void
recommend_close (vactor_t *actor)
{
    recommend_t *self = vactor_state (actor);
    if (self) {
        free (self->hidden);
        rec_trend_destroy (&self->trend);
        rec_graph_destroy (&self->graph);
    }
    free (self);
    vactor_set_state (actor, NULL);
}

static const vactor_method_t s_methods[] = { { "bought_together", recommend_bought_together, false },
                                             { "also_viewed", recommend_also_viewed, false },
                                             { "trending", recommend_trending, false },
                                             { "for_user", recommend_for_user, false },
                                             { 0 } };
//  Each topic alone: the other topics of these streams never reach the actor (docs/runtime.md).
static const char *const s_consumes[] = { "order.confirmed", "cart.line_added",
                                          "product.viewed",  "catalog.product_changed",
                                          "inventory.stock_changed", NULL };
static const char *const s_config_keys[] = { "half_life_ms",        "session_window_ms",
                                             "min_support",         "coview_min_support",
                                             "score",               "popularity_every_ms",
                                             "popularity_change_pct", NULL };

static const vactor_def_t s_def = { .service = "recommend",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .partitions = 1,
                                    .config_keys = s_config_keys,
                                    .open = recommend_open,
                                    .close = recommend_close,
                                    .consumes = s_consumes,
                                    .on_event = recommend_on_event,
                                    .on_wake = recommend_on_wake };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
