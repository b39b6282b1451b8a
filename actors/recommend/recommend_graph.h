//  recommend_graph.h — the item-item tables in memory: for each product, its partners in
//  confirmed orders (co-purchases) and in sessions (co-views) with their counts, and each
//  product's own counts, so that "bought together", "also viewed" and a shopper's picks walk
//  a product's partners in memory instead of iterating the store.
//
//  A mirror of the store's CF_CO, CF_COVIEW and CF_COUNT, written with the same values (set,
//  not add: replaying a write is harmless) and rebuilt from them at start.
#ifndef RECOMMEND_GRAPH_H
#define RECOMMEND_GRAPH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rec_graph_s rec_graph_t;

#define REC_GRAPH_ID 65  //  bytes of a product id with its NUL

enum { REC_CO = 0, REC_COVIEW = 1 };  //  the two tables (kinds)

rec_graph_t *rec_graph_new (void);
void rec_graph_destroy (rec_graph_t **self_p);

//  count of the pair (a, b) in table kind (a's partner b; the reverse pair is its own entry).
//  Returns 0, -VE_INVAL (an id too long), -VE_NOMEM.
int rec_graph_set_pair (rec_graph_t *self, int kind, const char *a, const char *b, int64_t count);
//  A product's own count in table kind (orders holding it, sessions viewing it).
int rec_graph_set_count (rec_graph_t *self, int kind, const char *p, int64_t count);
int64_t rec_graph_count (const rec_graph_t *self, int kind, const char *p);

//  Calls fn for every partner of p in table kind, with the pair's count and the partner's own
//  count, until it returns false. In no particular order.
typedef bool (rec_graph_fn) (const char *partner, int64_t pair, int64_t partner_count,
                             void *arg);
void rec_graph_walk (const rec_graph_t *self, int kind, const char *p, rec_graph_fn *fn,
                     void *arg);

size_t rec_graph_products (const rec_graph_t *self);
size_t rec_graph_pairs (const rec_graph_t *self);

#endif
