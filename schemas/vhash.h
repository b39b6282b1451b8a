//  vhash.h — FNV-1a 64, the one hash of bytes the platform uses: partitions (vbus_partition),
//  scene hashes, frame cache keys, compiled-tape hashes, and in-memory hash tables; and
//  splitmix64, the one generator of deterministic numbers (demo catalog, demo scenes). Both
//  are part of formats: partitions, stored hashes and the demo data depend on them, so they
//  never change.
#ifndef VHASH_H
#define VHASH_H

#include <stddef.h>
#include <stdint.h>

#define VHASH_FNV1A_SEED 0xcbf29ce484222325ull

//  Continues a hash h over len more bytes (start from VHASH_FNV1A_SEED).
static inline uint64_t
vhash_fnv1a_more (uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *) data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

//  The hash of len bytes.
static inline uint64_t
vhash_fnv1a (const void *data, size_t len)
{
    return vhash_fnv1a_more (VHASH_FNV1A_SEED, data, len);
}

//  The next number of the splitmix64 sequence whose state is *state (any seed).
static inline uint64_t
vhash_splitmix64 (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
