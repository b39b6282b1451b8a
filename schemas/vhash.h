//  vhash.h — FNV-1a 64, the one hash of bytes the platform uses: partitions (vbus_partition),
//  scene hashes, frame cache keys, compiled-tape hashes, and in-memory hash tables. It is
//  part of the format: partitions and stored hashes depend on it, so it never changes.
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

#endif
