//  analytics_searches.c — the searches shoppers run most: a table of at most
//  `searches_capacity` searches with their counts, decayed with a half-life, kept by the
//  space-saving algorithm (Metwally, Agrawal and El Abbadi, 2005). docs/analytics.md
//  "Searches" is the design; analytics.searches reads it, and the catalog offers what it
//  lists as completions.
//
//  Space-saving: a search already in the table adds one to its count; a new one takes a free
//  slot, or else the slot of the least counted search, whose count it inherits as its error
//  (its count may overstate it by that much, never understate). Every search counted more
//  than total / capacity times is in the table, and count − error is a lower bound: what the
//  reply gives. Memory and time per event are bounded whatever shoppers type.
//
//  Decay: a search at time t weighs 2^(t / H) and the count at now is that sum times
//  2^(-now / H). The sum overflows a double within years, so each slot keeps its base-2
//  logarithm (l); adding a search is l = max + log2 (1 + 2^(min − max)). All slots decay at
//  the same rate, so the least counted slot is the one of least l.
#include "analytics.h"
#include "vlimits.h"
#include "vmap.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REC 16  //  double l, double e (native order, as the forecast's doubles)

typedef struct {
    double l;  //  log2 of Σ 2^(t / H) over the searches counted here
    double e;  //  the same of the count inherited from the search evicted (-INFINITY: none)
    uint8_t len;
    char q[VLIM_SEARCH_Q + 1];
} s_slot_t;

struct analytics_searches_s {
    s_slot_t *slots;  //  cap of them, n in use; never moved (by_q points at them)
    size_t n, cap;
    vmap_t *by_q;  //  q → its slot
    double half_life_ms;
};

//  The normal form a search is counted under: ASCII lower case, runs of white space as one
//  space, none at the ends. Writes it into out (size bytes) and returns its length; 0 when
//  blank or when it does not fit.
static size_t
s_normalise (const char *text, char *out, size_t size)
{
    size_t n = 0;
    bool space = false;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v') {
            space = n > 0;
            continue;
        }
        if (n + space + 1 >= size)
            return 0;  //  too long to count
        if (space)
            out[n++] = ' ';
        space = false;
        out[n++] = (char) (*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    out[n] = 0;
    return n;
}

//  log2 (2^a + 2^b), exact where one is -INFINITY.
static double
s_log2_add (double a, double b)
{
    double hi = a > b ? a : b, lo = a > b ? b : a;
    if (lo == -INFINITY)
        return hi;
    return hi + log1p (exp2 (lo - hi)) / M_LN2;
}

//  The count a slot is sure of at now: 2^(l − now/H) − 2^(e − now/H).
static double
s_count (const analytics_searches_t *self, const s_slot_t *s, int64_t now)
{
    double at = (double) now / self->half_life_ms;
    return exp2 (s->l - at) - (s->e == -INFINITY ? 0 : exp2 (s->e - at));
}

static void
s_put (vstore_t *store, vstore_batch_t *batch, const s_slot_t *s)
{
    char rec[REC];
    memcpy (rec, &s->l, 8);
    memcpy (rec + 8, &s->e, 8);
    vstore_batch_put (batch, store, CF_SEARCHES, s->q, s->len, rec, sizeof rec);
}

analytics_searches_t *
analytics_searches_new (size_t capacity, double half_life_ms)
{
    analytics_searches_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = capacity;
    self->half_life_ms = half_life_ms;
    self->slots = calloc (capacity, sizeof *self->slots);
    self->by_q = vmap_new ();
    if (!self->slots || !self->by_q)
        analytics_searches_destroy (&self);
    return self;
}

void
analytics_searches_destroy (analytics_searches_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    analytics_searches_t *self = *self_p;
    vmap_destroy (&self->by_q);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

static int
s_by_l_desc (const void *a, const void *b)
{
    const s_slot_t *x = a, *y = b;
    return x->l > y->l ? -1 : x->l < y->l ? 1 : 0;
}

int
analytics_searches_load (analytics_searches_t *self, vstore_t *store)
{
    //  Read all (a smaller capacity than the last run's leaves more than cap), keep the cap
    //  most counted and delete the rest from the store.
    size_t n = 0, cap = self->cap;
    s_slot_t *all = malloc (cap * sizeof *all);
    vstore_iter_t *it = vstore_iter_new (store, CF_SEARCHES, NULL, 0, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    int rc = all && it ? 0 : -VE_NOMEM;
    while (rc == 0 && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        if (vlen != REC || klen == 0 || klen > VLIM_SEARCH_Q)
            continue;
        if (n == cap) {
            s_slot_t *more = realloc (all, 2 * cap * sizeof *all);
            if (!more) {
                rc = -VE_NOMEM;
                break;
            }
            all = more;
            cap *= 2;
        }
        s_slot_t *s = &all[n++];
        memcpy (&s->l, val, 8);
        memcpy (&s->e, val + 8, 8);
        memcpy (s->q, key, klen);
        s->q[klen] = 0;
        s->len = (uint8_t) klen;
    }
    vstore_iter_destroy (&it);
    if (rc == 0 && n > self->cap) {
        qsort (all, n, sizeof *all, s_by_l_desc);
        vstore_batch_t *batch = vstore_batch_new ();
        if (!batch)
            rc = -VE_NOMEM;
        for (size_t i = self->cap; rc == 0 && i < n; i++)
            vstore_batch_delete (batch, store, CF_SEARCHES, all[i].q, all[i].len);
        if (rc == 0)
            rc = vstore_commit (store, batch, true);
        vstore_batch_destroy (&batch);
        n = self->cap;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        self->slots[i] = all[i];
        rc = vmap_put (self->by_q, self->slots[i].q, self->slots[i].len, &self->slots[i]);
        self->n = i + 1;
    }
    free (all);
    return rc;
}

int
analytics_searches_add (analytics_searches_t *self, vstore_t *store, vstore_batch_t *batch,
                        const char *text, int64_t at_ms)
{
    char q[VLIM_SEARCH_Q + 1];
    size_t len = s_normalise (text, q, sizeof q);
    if (len == 0)
        return 0;  //  blank, or too long to be worth suggesting
    s_slot_t *s = vmap_get (self->by_q, q, len);
    if (!s) {
        bool fresh = self->n < self->cap;
        s_slot_t *least = &self->slots[fresh ? self->n : 0];
        for (size_t i = 1; !fresh && i < self->n; i++)
            if (self->slots[i].l < least->l)
                least = &self->slots[i];
        //  The new key first: when it cannot be added nothing has changed.
        if (vmap_put (self->by_q, q, len, least))
            return -VE_NOMEM;
        if (fresh) {
            self->n++;
            least->l = least->e = -INFINITY;
        }
        else {
            vmap_remove (self->by_q, least->q, least->len);
            vstore_batch_delete (batch, store, CF_SEARCHES, least->q, least->len);
            least->e = least->l;  //  the evicted search's count, inherited as the error
        }
        memcpy (least->q, q, len + 1);
        least->len = (uint8_t) len;
        s = least;
    }
    s->l = s_log2_add (s->l, (double) at_ms / self->half_life_ms);
    s_put (store, batch, s);
    return 0;
}

//  ---------------------------------------------------------------- analytics.searches

typedef struct {
    const char *q;  //  the table's
    double count;   //  at least this many, decayed to now
} s_item_t;

static int
s_item_order (const void *a, const void *b)
{
    const s_item_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp (x->q, y->q);
}

//  The searches counted at least min_count times (decayed to now, error taken off; more than
//  0), most counted first, then by text: fills out (room for capacity entries), returns how
//  many up to limit.
static size_t
s_top (const analytics_searches_t *self, int64_t now, double min_count, size_t limit,
       s_item_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n; i++) {
        double count = s_count (self, &self->slots[i], now);
        if (count > 0 && count >= min_count)
            out[n++] = (s_item_t) { self->slots[i].q, count };
    }
    if (n)
        qsort (out, n, sizeof *out, s_item_order);
    return n < limit ? n : limit;
}

int
analytics_searches_method (vactor_call_t *call, const analytics_searches_t *self)
{
    int64_t now = vactor_now_ms (call->actor);
    s_item_t *items = varena_alloc (call->arena, self->cap * sizeof *items);
    if (!items)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    size_t n = s_top (self, now, vmsg_float (call->body, "min_count", 1),
                      (size_t) vmsg_int (call->body, "limit", 100), items);
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 3);
    vmp_pack_kint (pk, "at", now);
    vmp_pack_kint (pk, "half_life_ms", (int64_t) self->half_life_ms);
    vmp_pack_cstr (pk, "queries");
    msgpack_pack_array (pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "q", items[i].q);
        vmp_pack_cstr (pk, "count");
        msgpack_pack_double (pk, items[i].count);
    }
    return VE_OK;
}
