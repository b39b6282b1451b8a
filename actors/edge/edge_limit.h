//  edge_limit.h — a token bucket per client address: each address may make `rate` requests per
//  second on average, in bursts of up to `burst`. Memory is bounded: a fixed table of buckets;
//  when a new address finds no room, the bucket idle longest in its neighbourhood is reused (a
//  refilled bucket holds nothing worth keeping). Time comes from the caller, so tests drive it.
//  One loop: not thread-safe.
#ifndef EDGE_LIMIT_H
#define EDGE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDGE_LIMIT_ADDR 16  //  bytes of an address (IPv6; IPv4 uses 4)

typedef struct edge_limit_s edge_limit_t;

//  Creates a limiter: rate tokens per second, burst tokens at most (>= 1), for up to
//  max_clients addresses tracked at once (rounded up to a power of two; 0 = 65536).
//  Returns NULL when rate or burst is not positive or out of memory.
edge_limit_t *edge_limit_new (double rate, double burst, size_t max_clients);
void edge_limit_destroy (edge_limit_t **self_p);

//  Takes a token for the address (len <= EDGE_LIMIT_ADDR bytes) at now_ms. Returns true when
//  the request may go on; false when the bucket is empty, with *retry_ms (may be NULL) the wait
//  until the next token.
bool edge_limit_take (edge_limit_t *self, const void *addr, size_t len, int64_t now_ms,
                      int64_t *retry_ms);

#endif
