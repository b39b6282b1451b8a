//  recommend_trend.c — trending in memory (see recommend_trend.h).
#include "recommend_trend.h"
#include "verr.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char id[REC_TREND_ID];
    uint32_t category;  //  index into categories
    bool moved;         //  its key changed since the order was last merged
    double key;         //  log2(score) + at / half-life; -INFINITY when the score is 0
} s_product_t;

struct rec_trend_s {
    double half_life_ms;
    s_product_t *products;
    size_t nproducts, capproducts;
    uint32_t *slots;  //  id hash index: 0 empty, else product index + 1
    size_t capslots;  //  a power of two, at least twice nproducts
    uint32_t *order;  //  product indexes, best key first (the moved ones excepted)
    size_t norder;
    uint32_t *moved;  //  products whose key changed (or new) since the last merge
    size_t nmoved;
    char **categories;  //  interned category paths; index 0 is ""
    size_t ncategories, capcategories;
};

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ull;  //  FNV-1a
    while (*s)
        h = (h ^ (uint8_t) *s++) * 1099511628211ull;
    return h;
}

rec_trend_t *
rec_trend_new (double half_life_ms)
{
    rec_trend_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->half_life_ms = half_life_ms;
    self->capslots = 1024;
    self->slots = calloc (self->capslots, sizeof *self->slots);
    self->categories = calloc (16, sizeof *self->categories);
    self->capcategories = 16;
    if (self->categories)
        self->categories[self->ncategories++] = strdup ("");
    if (!self->slots || !self->categories || !self->categories[0])
        rec_trend_destroy (&self);
    return self;
}

void
rec_trend_destroy (rec_trend_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rec_trend_t *self = *self_p;
    for (size_t i = 0; self->categories && i < self->ncategories; i++)
        free (self->categories[i]);
    free (self->categories);
    free (self->products);
    free (self->slots);
    free (self->order);
    free (self->moved);
    free (self);
    *self_p = NULL;
}

size_t
rec_trend_count (const rec_trend_t *self)
{
    return self->nproducts;
}

//  The category's index, interned on first sight (a linear walk: a shop has some hundreds).
static int
s_category (rec_trend_t *self, const char *category, uint32_t *out)
{
    for (size_t i = 0; i < self->ncategories; i++)
        if (strcmp (self->categories[i], category) == 0) {
            *out = (uint32_t) i;
            return 0;
        }
    if (self->ncategories == self->capcategories) {
        char **c = realloc (self->categories, 2 * self->capcategories * sizeof *c);
        if (!c)
            return -VE_NOMEM;
        self->categories = c;
        self->capcategories *= 2;
    }
    char *copy = strdup (category);
    if (!copy)
        return -VE_NOMEM;
    self->categories[self->ncategories] = copy;
    *out = (uint32_t) self->ncategories++;
    return 0;
}

//  The slot holding id, or the empty slot where it would go.
static size_t
s_slot (const rec_trend_t *self, const char *id)
{
    size_t mask = self->capslots - 1, at = (size_t) s_hash (id) & mask;
    while (self->slots[at] && strcmp (self->products[self->slots[at] - 1].id, id) != 0)
        at = (at + 1) & mask;
    return at;
}

static int
s_grow (rec_trend_t *self)
{
    if (self->nproducts == self->capproducts) {
        size_t cap = self->capproducts ? self->capproducts * 2 : 256;
        s_product_t *p = realloc (self->products, cap * sizeof *p);
        uint32_t *order = p ? realloc (self->order, cap * sizeof *order) : NULL;
        if (order)
            self->order = order;
        uint32_t *moved = order ? realloc (self->moved, cap * sizeof *moved) : NULL;
        if (p)
            self->products = p;
        if (!p || !order || !moved)
            return -VE_NOMEM;
        self->moved = moved;
        self->capproducts = cap;
    }
    if (2 * (self->nproducts + 1) > self->capslots) {
        size_t cap = self->capslots * 2;
        uint32_t *slots = calloc (cap, sizeof *slots);
        if (!slots)
            return -VE_NOMEM;
        uint32_t *old = self->slots;
        self->slots = slots;
        self->capslots = cap;
        for (size_t i = 0; i < self->nproducts; i++)
            self->slots[s_slot (self, self->products[i].id)] = (uint32_t) i + 1;
        free (old);
    }
    return 0;
}

int
rec_trend_set (rec_trend_t *self, const char *id, const char *category, double score,
               int64_t at_ms)
{
    if (strlen (id) >= REC_TREND_ID || (category && strlen (category) >= REC_TREND_CAT))
        return -VE_INVAL;
    uint32_t cat = 0;
    if (category && s_category (self, category, &cat))
        return -VE_NOMEM;
    size_t slot = s_slot (self, id);
    s_product_t *p;
    if (self->slots[slot])
        p = &self->products[self->slots[slot] - 1];
    else {
        if (s_grow (self))
            return -VE_NOMEM;
        slot = s_slot (self, id);  //  the table may have grown
        p = &self->products[self->nproducts];
        memset (p, 0, sizeof *p);
        memcpy (p->id, id, strlen (id) + 1);
        p->moved = true;
        self->moved[self->nmoved++] = (uint32_t) self->nproducts;
        self->slots[slot] = (uint32_t) ++self->nproducts;
    }
    if (!p->moved) {
        p->moved = true;
        self->moved[self->nmoved++] = (uint32_t) (p - self->products);
    }
    if (category)
        p->category = cat;
    p->key = score > 0 ? log2 (score) + (double) at_ms / self->half_life_ms : -INFINITY;
    return 0;
}

//  qsort_r's comparison: product indexes by key, highest first; ties by id.
static int
s_by_key (const void *a, const void *b, void *arg)
{
    const rec_trend_t *self = arg;
    const s_product_t *x = &self->products[*(const uint32_t *) a];
    const s_product_t *y = &self->products[*(const uint32_t *) b];
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return strcmp (x->id, y->id);
}

//  Puts the moved products back into the order: sorted among themselves, then merged with
//  the rest (which kept their order: their keys did not change).
static void
s_merge (rec_trend_t *self)
{
    if (!self->nmoved)
        return;
    qsort_r (self->moved, self->nmoved, sizeof *self->moved, s_by_key, self);
    uint32_t *out = malloc (self->capproducts * sizeof *out);  //  room for every product
    if (!out)
        return;  //  the walk then uses the old order and skips nothing: tried again next time
    size_t n = 0, a = 0, b = 0;
    while (a < self->norder || b < self->nmoved) {
        if (a < self->norder && self->products[self->order[a]].moved) {
            a++;
            continue;
        }
        bool take_moved = b < self->nmoved
                          && (a == self->norder
                              || s_by_key (&self->moved[b], &self->order[a], self) < 0);
        out[n++] = take_moved ? self->moved[b++] : self->order[a++];
    }
    for (size_t i = 0; i < self->nmoved; i++)
        self->products[self->moved[i]].moved = false;
    free (self->order);
    self->order = out;
    self->norder = n;
    self->nmoved = 0;
}

void
rec_trend_walk (rec_trend_t *self, int64_t now_ms, rec_trend_fn *fn, void *arg)
{
    s_merge (self);
    double now = (double) now_ms / self->half_life_ms;
    for (size_t i = 0; i < self->norder; i++) {
        const s_product_t *p = &self->products[self->order[i]];
        if (p->key == -INFINITY)
            break;  //  the rest score 0 too
        if (!fn (p->id, self->categories[p->category], exp2 (p->key - now), arg))
            break;
    }
}
