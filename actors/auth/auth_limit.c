//  auth_limit.c — failed sign-ins per key in a chained hash table, each key keeping the times of
//  its last `failures` failures in a ring: the window is exact (sliding), not a fixed bucket.
#include "auth_limit.h"
#include "verr.h"
#include "vhash.h"
#include <stdlib.h>
#include <string.h>

typedef struct s_entry_s s_entry_t;
struct s_entry_s {
    s_entry_t *next;
    int64_t fails[AUTH_LIMIT_MAX_FAILURES];  //  ring of failure times, oldest at head
    unsigned head, count;
    unsigned level;        //  lockouts so far: the next backoff is window << level
    int64_t locked_until;  //  refused before this instant
    int64_t last_ms;       //  last failure (for decay and for eviction)
    char key[];
};

struct auth_limit_s {
    auth_limit_config_t config;
    s_entry_t **buckets;
    size_t nbuckets;  //  a power of two
    size_t count;
};

auth_limit_t *
auth_limit_new (const auth_limit_config_t *config)
{
    auth_limit_config_t c = config ? *config : (auth_limit_config_t) { 0 };
    if (!c.failures)
        c.failures = 10;
    if (!c.window_ms)
        c.window_ms = 15 * 60 * 1000;
    if (!c.max_backoff_ms)
        c.max_backoff_ms = 24 * 60 * 60 * 1000;
    if (!c.max_keys)
        c.max_keys = 100000;
    if (c.failures > AUTH_LIMIT_MAX_FAILURES || c.window_ms < 0 || c.max_backoff_ms < c.window_ms)
        return NULL;
    auth_limit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = c;
    self->nbuckets = 256;
    self->buckets = calloc (self->nbuckets, sizeof *self->buckets);
    if (!self->buckets)
        auth_limit_destroy (&self);
    return self;
}

void
auth_limit_destroy (auth_limit_t **self_p)
{
    auth_limit_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->nbuckets && self->buckets; i++)
        for (s_entry_t *e = self->buckets[i], *next; e; e = next) {
            next = e->next;
            free (e);
        }
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

static s_entry_t **
s_slot (auth_limit_t *self, const char *key)
{
    s_entry_t **p = &self->buckets[vhash_fnv1a (key, strlen (key)) & (self->nbuckets - 1)];
    while (*p && strcmp ((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

static void
s_unlink (auth_limit_t *self, s_entry_t **p)
{
    s_entry_t *e = *p;
    *p = e->next;
    free (e);
    self->count--;
}

//  Since when a key has been quiet: its last failure, or the end of its last lockout.
static int64_t
s_quiet_since (const s_entry_t *e)
{
    return e->locked_until > e->last_ms ? e->locked_until : e->last_ms;
}

//  True when forgetting the entry changes nothing: not locked, no failure left in the window,
//  and its backoff level has decayed.
static bool
s_idle (const auth_limit_t *self, const s_entry_t *e, int64_t now_ms)
{
    return e->locked_until <= now_ms && now_ms - e->last_ms >= self->config.window_ms
           && (e->level == 0 || now_ms - s_quiet_since (e) >= self->config.max_backoff_ms);
}

//  Makes room for one more key: drops idle entries, else the least recently active one.
//  O(keys), and only when full: cheap next to the password hash a failure costs anyway.
static void
s_make_room (auth_limit_t *self, int64_t now_ms)
{
    s_entry_t **oldest = NULL;
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_entry_t **p = &self->buckets[i];
        while (*p) {
            if (s_idle (self, *p, now_ms))
                s_unlink (self, p);
            else {
                if (!oldest || (*p)->last_ms < (*oldest)->last_ms)
                    oldest = p;
                p = &(*p)->next;
            }
        }
    }
    if (self->count >= self->config.max_keys && oldest)
        s_unlink (self, oldest);
}

static void
s_grow (auth_limit_t *self)
{
    size_t n = self->nbuckets * 2;
    s_entry_t **buckets = calloc (n, sizeof *buckets);
    if (!buckets)
        return;  //  longer chains, still correct
    for (size_t i = 0; i < self->nbuckets; i++)
        for (s_entry_t *e = self->buckets[i], *next; e; e = next) {
            next = e->next;
            s_entry_t **head = &buckets[vhash_fnv1a (e->key, strlen (e->key)) & (n - 1)];
            e->next = *head;
            *head = e;
        }
    free (self->buckets);
    self->buckets = buckets;
    self->nbuckets = n;
}

int
auth_limit_check (auth_limit_t *self, const char *key, int64_t now_ms, int64_t *retry_at_ms)
{
    s_entry_t *e = *s_slot (self, key);
    if (e && e->locked_until > now_ms) {
        if (retry_at_ms)
            *retry_at_ms = e->locked_until;
        return -VE_BUSY;
    }
    return 0;
}

int
auth_limit_fail (auth_limit_t *self, const char *key, int64_t now_ms, int64_t *retry_at_ms)
{
    const auth_limit_config_t *c = &self->config;
    s_entry_t **p = s_slot (self, key);
    s_entry_t *e = *p;
    if (!e) {
        if (self->count >= c->max_keys) {
            s_make_room (self, now_ms);
            p = s_slot (self, key);  //  the chain may have changed
        }
        size_t len = strlen (key);
        if (!(e = calloc (1, sizeof *e + len + 1)))
            return -VE_NOMEM;
        memcpy (e->key, key, len + 1);
        *p = e;
        if (++self->count > self->nbuckets)
            s_grow (self);
    }
    else if (e->locked_until > now_ms) {
        if (retry_at_ms)
            *retry_at_ms = e->locked_until;
        return -VE_BUSY;  //  callers check first; a locked key's attempts are not counted
    }
    if (e->level && now_ms - s_quiet_since (e) >= c->max_backoff_ms)
        e->level = 0;  //  a quiet day: start again from the first backoff
    e->last_ms = now_ms;
    //  Keep the last `failures` failure times; drop those that left the window.
    while (e->count && now_ms - e->fails[e->head] >= c->window_ms) {
        e->head = (e->head + 1) % c->failures;
        e->count--;
    }
    e->fails[(e->head + e->count) % c->failures] = now_ms;
    e->count++;
    if (e->count < c->failures)
        return 0;
    int64_t backoff = c->window_ms;
    for (unsigned i = 0; i < e->level && backoff < c->max_backoff_ms; i++)
        backoff *= 2;
    if (backoff > c->max_backoff_ms)
        backoff = c->max_backoff_ms;
    e->locked_until = now_ms + backoff;
    if (backoff < c->max_backoff_ms)
        e->level++;
    e->head = e->count = 0;
    if (retry_at_ms)
        *retry_at_ms = e->locked_until;
    return -VE_BUSY;
}

void
auth_limit_reset (auth_limit_t *self, const char *key)
{
    s_entry_t **p = s_slot (self, key);
    if (*p)
        s_unlink (self, p);
}

size_t
auth_limit_size (const auth_limit_t *self)
{
    return self->count;
}
