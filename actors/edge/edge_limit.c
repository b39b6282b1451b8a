//  edge_limit.c — per-address token buckets in an open-addressed table (see edge_limit.h).
#include "edge_limit.h"
#include "vhash.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8  //  slots looked at for an address; the stalest of them is reused when full

typedef struct {
    uint8_t addr[EDGE_LIMIT_ADDR];
    uint8_t len;  //  0 = free slot
    double tokens;
    int64_t last_ms;  //  when tokens was last brought up to date
} s_bucket_t;

struct edge_limit_s {
    double rate;  //  tokens per millisecond
    double burst;
    size_t mask;
    s_bucket_t *slots;
};

edge_limit_t *
edge_limit_new (double rate, double burst, size_t max_clients)
{
    if (!(rate > 0) || !(burst >= 1))
        return NULL;
    size_t n = 1;
    while (n < (max_clients ? max_clients : 65536))
        n <<= 1;
    edge_limit_t *self = calloc (1, sizeof *self);
    if (self)
        self->slots = calloc (n, sizeof *self->slots);
    if (!self || !self->slots) {
        free (self);
        return NULL;
    }
    self->rate = rate / 1000.0;
    self->burst = burst;
    self->mask = n - 1;
    return self;
}

void
edge_limit_destroy (edge_limit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

static uint64_t
s_hash (const uint8_t *p, size_t len)
{
    uint64_t h = vhash_fnv1a (p, len);
    return h ^ (h >> 29);
}

bool
edge_limit_take (edge_limit_t *self, const void *addr, size_t len, int64_t now_ms,
                 int64_t *retry_ms)
{
    static const uint8_t none[1];
    if (len == 0) {  //  no address: all such callers share one bucket
        addr = none;
        len = 1;
    }
    if (len > EDGE_LIMIT_ADDR)
        len = EDGE_LIMIT_ADDR;
    size_t at = s_hash (addr, len) & self->mask;
    s_bucket_t *b = NULL, *stalest = NULL;
    for (size_t i = 0; i < PROBE && !b; i++) {
        s_bucket_t *s = &self->slots[(at + i) & self->mask];
        if (s->len == len && memcmp (s->addr, addr, len) == 0)
            b = s;
        else if (!stalest || (stalest->len != 0 && (s->len == 0 || s->last_ms < stalest->last_ms)))
            stalest = s;  //  a free slot if there is one, else the longest idle
    }
    if (!b) {
        //  A new address (or one forgotten): a full bucket.
        b = stalest;
        memcpy (b->addr, addr, len);
        b->len = (uint8_t) len;
        b->tokens = self->burst;
        b->last_ms = now_ms;
    }
    if (now_ms > b->last_ms) {
        b->tokens = fmin (self->burst, b->tokens + (double) (now_ms - b->last_ms) * self->rate);
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return true;
    }
    if (retry_ms)
        *retry_ms = (int64_t) ceil ((1 - b->tokens) / self->rate);
    return false;
}
