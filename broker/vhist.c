//  vhist.c — log-linear latency histogram (see vhist.h).
#include "vhist.h"

void
vhist_add (vhist_t *self, uint64_t value)
{
    int b;
    if (value >= 4) {
        int msb = 63 - __builtin_clzll (value);
        b = msb * 4 + (int) ((value >> (msb - 2)) & 3);
    }
    else
        b = (int) value;
    if (b >= VHIST_BUCKETS)
        b = VHIST_BUCKETS - 1;
    self->count[b]++;
    self->total++;
    if (value > self->max)
        self->max = value;
}

uint64_t
vhist_pct (const vhist_t *self, double q)
{
    if (!self->total)
        return 0;
    uint64_t rank = (uint64_t) (q * (double) self->total);
    if (rank >= self->total)
        rank = self->total - 1;
    uint64_t seen = 0;
    for (int b = 0; b < VHIST_BUCKETS; b++) {
        seen += self->count[b];
        if (seen > rank) {
            if (b < 4)
                return (uint64_t) b;
            if (b == VHIST_BUCKETS - 1)
                return self->max;  //  the top bucket holds everything larger
            int msb = b / 4;
            uint64_t upper = ((uint64_t) (4 + b % 4 + 1) << (msb - 2)) - 1;
            return upper < self->max ? upper : self->max;
        }
    }
    return self->max;
}
