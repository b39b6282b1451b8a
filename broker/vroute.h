//  vroute.h — the broker's routing decision, kept apart so it can be tested on its own: which
//  worker of a service takes a request. Keyed requests go to a worker owning the key's
//  partition, unkeyed ones to any worker; among the candidates the least loaded wins.
#ifndef VROUTE_H
#define VROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t in_flight;   //  requests given and not yet answered
    uint32_t credit;      //  how many it takes at once
    bool draining;        //  leaving: takes nothing new
    bool all;             //  owns every partition
    const uint8_t *bits;  //  owned partitions (bit p) when !all
} vroute_worker_t;

//  True when w owns partition (partition < 0: unkeyed, any worker does).
bool vroute_owns (const vroute_worker_t *w, int64_t partition);

//  Index of the worker that should take a request for partition (< 0 = unkeyed): among
//  workers that own it, are not draining and have credit left, the one with the lowest load
//  (in_flight / credit; the first on ties). -1 when none can take it now.
int vroute_pick (vroute_worker_t *const *workers, size_t count, int64_t partition);

//  True when some non-draining worker owns partition, busy or not (so waiting makes sense).
bool vroute_covered (vroute_worker_t *const *workers, size_t count, int64_t partition);

#endif
