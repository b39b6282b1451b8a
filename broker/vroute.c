//  vroute.c — routing decisions (see vroute.h).
#include "vroute.h"

bool
vroute_owns (const vroute_worker_t *w, int64_t partition)
{
    return partition < 0 || w->all || (w->bits[partition / 8] >> (partition % 8)) & 1;
}

int
vroute_pick (vroute_worker_t *const *workers, size_t count, int64_t partition)
{
    int best = -1;
    for (size_t i = 0; i < count; i++) {
        const vroute_worker_t *w = workers[i];
        if (w->draining || w->in_flight >= w->credit || !vroute_owns (w, partition))
            continue;
        //  Compare load ratios without division: a/b < c/d  <=>  a*d < c*b.
        if (best < 0
            || (uint64_t) w->in_flight * workers[best]->credit
                   < (uint64_t) workers[best]->in_flight * w->credit)
            best = (int) i;
    }
    return best;
}

bool
vroute_covered (vroute_worker_t *const *workers, size_t count, int64_t partition)
{
    for (size_t i = 0; i < count; i++)
        if (!workers[i]->draining && vroute_owns (workers[i], partition))
            return true;
    return false;
}
