//  vhist.h — a latency histogram with log-linear buckets (4 per power of two, so quantiles are
//  within 25 %), fixed size and allocation-free: the broker keeps one per service, the actor
//  runtime one per method.
#ifndef VHIST_H
#define VHIST_H

#include <stdint.h>

#define VHIST_BUCKETS 192

typedef struct {
    uint64_t count[VHIST_BUCKETS];
    uint64_t total;
    uint64_t max;
} vhist_t;

//  Records one value (microseconds by convention).
void vhist_add (vhist_t *self, uint64_t value);
//  The upper bound of the bucket holding quantile q (0..1), capped at the maximum seen;
//  0 when empty.
uint64_t vhist_pct (const vhist_t *self, double q);

#endif
