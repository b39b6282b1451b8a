//  auth_limit.h — the brute-force limiter: counts failed sign-ins per key (an email address, a
//  client address) and, after `failures` of them within `window_ms`, refuses that key for a
//  backoff that doubles with each lockout (window, 2×, 4×, … capped at max_backoff_ms). No lockout
//  is permanent; a key's backoff level falls back to the start after max_backoff_ms without
//  failures. State is in memory only (a restart forgets it) and bounded (max_keys entries; the
//  least recently active is forgotten first). Time is always passed in, so tests drive it.
//  Single-threaded: one limiter per thread.
#ifndef AUTH_LIMIT_H
#define AUTH_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_LIMIT_MAX_FAILURES 32  //  the most `failures` a limiter may count

typedef struct auth_limit_s auth_limit_t;

typedef struct {
    unsigned failures;       //  failures within the window that lock a key (default 10)
    int64_t window_ms;       //  the window, and the first backoff (default 15 min)
    int64_t max_backoff_ms;  //  the longest backoff (default 24 h)
    size_t max_keys;         //  keys remembered at once (default 100,000)
} auth_limit_config_t;

//  Creates a limiter; config NULL or zero fields take the defaults. NULL on out of memory or
//  failures above AUTH_LIMIT_MAX_FAILURES.
auth_limit_t *auth_limit_new (const auth_limit_config_t *config);
void auth_limit_destroy (auth_limit_t **self_p);

//  May key try now? Returns 0, or -VE_BUSY with *retry_at_ms (may be NULL) set to when the
//  lockout ends. Never records anything.
int auth_limit_check (auth_limit_t *self, const char *key, int64_t now_ms, int64_t *retry_at_ms);
//  Records a failed attempt. Returns 0, or -VE_BUSY when this failure locked the key (then
//  *retry_at_ms, may be NULL, says until when); -VE_NOMEM when it could not be recorded.
int auth_limit_fail (auth_limit_t *self, const char *key, int64_t now_ms, int64_t *retry_at_ms);
//  Forgets a key's failures and backoff level (a successful sign-in of that account).
void auth_limit_reset (auth_limit_t *self, const char *key);
//  Keys currently remembered.
size_t auth_limit_size (const auth_limit_t *self);

#endif
