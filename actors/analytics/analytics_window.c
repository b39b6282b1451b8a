//  analytics_window.c — top-N products over sliding windows of 5, 60 and 1440 minutes, kept
//  incrementally in memory (rebuilt from the per-product minute counters at open). Each window
//  is the current minute bucket and the ones before it; see analytics.h.
#include "analytics.h"
#include "vhash.h"
#include <stdlib.h>
#include <string.h>

static const int64_t s_window_minutes[ANA_WINDOWS] = { 5, 60, 1440 };

typedef struct {
    char *id;
    int64_t sum[ANA_WINDOWS][ANA_METRICS];
} s_product_t;

//  One contribution to a minute bucket: remembered so that it can leave the windows later.
typedef struct {
    uint32_t product;
    uint8_t metric;
    int64_t delta;
} s_entry_t;

typedef struct {
    int64_t minute;
    s_entry_t *entries;
    size_t n, cap;
} s_bucket_t;

struct analytics_windows_s {
    s_product_t *products;
    size_t nproducts, capproducts;
    uint32_t *slots;  //  open addressing: product index + 1, 0 = empty
    size_t nslots;
    s_bucket_t *buckets;  //  sorted by minute, oldest first
    size_t nbuckets, capbuckets;
    int64_t tail[ANA_WINDOWS];  //  the first minute each window holds
    int64_t total[ANA_WINDOWS][ANA_METRICS];  //  every product's sum: the shop's figure
};

static int64_t
s_minute (int64_t ms)
{
    return ms >= 0 ? ms / 60000 : (ms - 59999) / 60000;
}

analytics_windows_t *
analytics_windows_new (int64_t now_ms)
{
    analytics_windows_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->nslots = 1024;
    self->slots = calloc (self->nslots, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    for (int w = 0; w < ANA_WINDOWS; w++)
        self->tail[w] = s_minute (now_ms) - s_window_minutes[w] + 1;
    return self;
}

void
analytics_windows_destroy (analytics_windows_t **self_p)
{
    analytics_windows_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nproducts; i++)
        free (self->products[i].id);
    for (size_t i = 0; i < self->nbuckets; i++)
        free (self->buckets[i].entries);
    free (self->products);
    free (self->slots);
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

static int
s_rehash (analytics_windows_t *self)
{
    size_t n = self->nslots * 2;
    uint32_t *slots = calloc (n, sizeof *slots);
    if (!slots)
        return -VE_NOMEM;
    for (size_t i = 0; i < self->nproducts; i++) {
        const char *id = self->products[i].id;
        size_t h = (size_t) vhash_fnv1a (id, strlen (id)) & (n - 1);
        while (slots[h])
            h = (h + 1) & (n - 1);
        slots[h] = (uint32_t) i + 1;
    }
    free (self->slots);
    self->slots = slots;
    self->nslots = n;
    return 0;
}

//  The product's index, added when new; -1 when out of memory.
static long
s_product (analytics_windows_t *self, const char *id)
{
    size_t h = (size_t) vhash_fnv1a (id, strlen (id)) & (self->nslots - 1);
    while (self->slots[h]) {
        if (strcmp (self->products[self->slots[h] - 1].id, id) == 0)
            return (long) self->slots[h] - 1;
        h = (h + 1) & (self->nslots - 1);
    }
    if (self->nproducts == self->capproducts) {
        size_t cap = self->capproducts ? self->capproducts * 2 : 256;
        s_product_t *p = realloc (self->products, cap * sizeof *p);
        if (!p)
            return -1;
        self->products = p;
        self->capproducts = cap;
    }
    s_product_t *p = &self->products[self->nproducts];
    memset (p, 0, sizeof *p);
    if (!(p->id = strdup (id)))
        return -1;
    self->slots[h] = (uint32_t) ++self->nproducts;
    //  Keep the table at most half full.
    if (self->nproducts * 2 > self->nslots && s_rehash (self) != 0)
        return -1;
    return (long) self->nproducts - 1;
}

static s_bucket_t *
s_bucket (analytics_windows_t *self, int64_t minute)
{
    size_t i = self->nbuckets;
    while (i > 0 && self->buckets[i - 1].minute > minute)
        i--;
    if (i > 0 && self->buckets[i - 1].minute == minute)
        return &self->buckets[i - 1];
    if (self->nbuckets == self->capbuckets) {
        size_t cap = self->capbuckets ? self->capbuckets * 2 : 64;
        s_bucket_t *b = realloc (self->buckets, cap * sizeof *b);
        if (!b)
            return NULL;
        self->buckets = b;
        self->capbuckets = cap;
    }
    memmove (&self->buckets[i + 1], &self->buckets[i], (self->nbuckets - i) * sizeof (s_bucket_t));
    self->nbuckets++;
    self->buckets[i] = (s_bucket_t) { .minute = minute };
    return &self->buckets[i];
}

int
analytics_windows_add (analytics_windows_t *self, const char *product, analytics_metric_t m,
                       int64_t at_ms, int64_t delta)
{
    int64_t minute = s_minute (at_ms);
    if (minute < self->tail[ANA_W1D] || delta == 0)
        return 0;  //  older than the longest window: it counts only in the stored counters
    long p = s_product (self, product);
    s_bucket_t *b = p < 0 ? NULL : s_bucket (self, minute);
    if (!b)
        return -VE_NOMEM;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        s_entry_t *e = realloc (b->entries, cap * sizeof *e);
        if (!e)
            return -VE_NOMEM;
        b->entries = e;
        b->cap = cap;
    }
    b->entries[b->n++] = (s_entry_t) { (uint32_t) p, (uint8_t) m, delta };
    for (int w = 0; w < ANA_WINDOWS; w++)
        if (minute >= self->tail[w]) {
            self->products[p].sum[w][m] += delta;
            self->total[w][m] += delta;
        }
    return 0;
}

void
analytics_windows_advance (analytics_windows_t *self, int64_t now_ms)
{
    int64_t now = s_minute (now_ms);
    for (int w = 0; w < ANA_WINDOWS; w++) {
        int64_t tail = now - s_window_minutes[w] + 1;
        if (tail <= self->tail[w])
            continue;  //  the clock went back or stayed: windows only move forward
        for (size_t i = 0; i < self->nbuckets && self->buckets[i].minute < tail; i++) {
            const s_bucket_t *b = &self->buckets[i];
            if (b->minute < self->tail[w])
                continue;  //  left this window before
            for (size_t k = 0; k < b->n; k++) {
                const s_entry_t *e = &b->entries[k];
                self->products[e->product].sum[w][e->metric] -= e->delta;
                self->total[w][e->metric] -= e->delta;
            }
        }
        self->tail[w] = tail;
    }
    //  Buckets that left the longest window are done with.
    size_t gone = 0;
    while (gone < self->nbuckets && self->buckets[gone].minute < self->tail[ANA_W1D])
        free (self->buckets[gone++].entries);
    if (gone) {
        memmove (self->buckets, &self->buckets[gone],
                 (self->nbuckets - gone) * sizeof (s_bucket_t));
        self->nbuckets -= gone;
    }
}

static bool
s_before (const analytics_top_t *a, const analytics_top_t *b)
{
    return a->value > b->value || (a->value == b->value && strcmp (a->product_id, b->product_id) < 0);
}

size_t
analytics_windows_top (analytics_windows_t *self, analytics_window_id_t w, analytics_metric_t m,
                       size_t limit, analytics_top_t *out)
{
    //  A sorted array of at most limit (≤ 50): an insertion per product that beats the last.
    size_t n = 0;
    for (size_t i = 0; i < self->nproducts && limit > 0; i++) {
        analytics_top_t c = { self->products[i].id, self->products[i].sum[w][m] };
        if (c.value <= 0 || (n == limit && !s_before (&c, &out[n - 1])))
            continue;
        size_t at = n < limit ? n++ : n - 1;
        while (at > 0 && s_before (&c, &out[at - 1])) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = c;
    }
    return n;
}

int64_t
analytics_windows_total (analytics_windows_t *self, analytics_window_id_t w, analytics_metric_t m)
{
    return self->total[w][m];
}
