//  recommend_trend.h — trending in memory: every product's decayed popularity, ordered, so a
//  "trending now" answer walks from the top instead of scanning the store.
//
//  Exponential decay keeps the order of two products until one of them gets an event: a score
//  s valid at time t is worth s·2^(−(now − t)/h) at now, so ranking by log2(s) + t/h (forward
//  decay) gives the order at any now. Only a product's own event moves its key (up), and
//  those moves are merged into the order before the next walk: O(n + d log d) for d moved.
#ifndef RECOMMEND_TREND_H
#define RECOMMEND_TREND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rec_trend_s rec_trend_t;

#define REC_TREND_ID  65   //  bytes of an id with its NUL
#define REC_TREND_CAT 201  //  bytes of a category path with its NUL

//  half_life_ms > 0. NULL when out of memory.
rec_trend_t *rec_trend_new (double half_life_ms);
void rec_trend_destroy (rec_trend_t **self_p);

//  A product's score, valid at at_ms, and its category ("" when unknown). Ids and categories
//  longer than the limits are refused. Returns 0 or -VE_NOMEM / -VE_INVAL.
int rec_trend_set (rec_trend_t *self, const char *id, const char *category, double score,
                   int64_t at_ms);

//  Calls fn with products best first (score decayed to now_ms, > 0) until it returns false.
typedef bool (rec_trend_fn) (const char *id, const char *category, double score, void *arg);
void rec_trend_walk (rec_trend_t *self, int64_t now_ms, rec_trend_fn *fn, void *arg);

size_t rec_trend_count (const rec_trend_t *self);

#endif
