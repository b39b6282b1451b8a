//  catalog_search_dict.c — the dictionaries of the search index: growable arrays, interned
//  strings (terms, product ids, brands, category paths), and the term dictionary's two
//  indexes: the terms in byte order (prefix matching) and the deletion index (one-typo
//  variants). Only terms are ever added here; a term without live products stays.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  //  qsort_r
#endif
#include "catalog_search_internal.h"
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------- growable arrays
//  Past 1024 elements an array grows by half rather than doubling: postings lists of common
//  terms get long, and doubling them would leave up to half of the biggest arrays unused.
int
catalog_search__grow (void **p, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    uint64_t n = *cap ? *cap : 4;
    while (n < need)
        n = n < 1024 ? n * 2 : n + n / 2;
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    void *q = realloc (*p, n * size);
    if (!q)
        return -VE_NOMEM;
    *p = q;
    *cap = (uint32_t) n;
    return 0;
}

int
catalog_search__vec_push (catalog_search__vec_t *vec, uint32_t x)
{
    if (catalog_search__grow ((void **) &vec->v, &vec->cap, vec->len + 1, sizeof *vec->v))
        return -VE_NOMEM;
    vec->v[vec->len++] = x;
    return 0;
}

//  ---------------------------------------------------------------- interned strings
//  One char array for all the strings and one id → offset array, rather than a malloc per
//  string: millions of short terms and ids cost a few bytes each, not a heap block each.
void
catalog_search__dict_free (catalog_search__dict_t *d)
{
    free (d->chars);
    free (d->off);
    free (d->hash);
    free (d->slots);
    memset (d, 0, sizeof *d);
}

uint32_t
catalog_search__dict_find (const catalog_search__dict_t *d, const char *s, size_t len)
{
    if (d->n == 0)
        return NONE;
    uint32_t h = (uint32_t) catalog_search__hash (s, len);
    for (uint32_t i = h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t id = d->slots[i];
        if (id == 0)
            return NONE;
        id--;
        if (d->hash[id] == h && catalog_search__dict_len (d, id) == len
            && memcmp (catalog_search__dict_str (d, id), s, len) == 0)
            return id;
    }
}

static int
s_dict_rehash (catalog_search__dict_t *d, uint32_t nslots)
{
    uint32_t *slots = calloc (nslots, sizeof *slots);
    if (!slots)
        return -VE_NOMEM;
    for (uint32_t id = 0; id < d->n; id++) {
        uint32_t i = d->hash[id] & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = id + 1;
    }
    free (d->slots);
    d->slots = slots;
    d->mask = nslots - 1;
    return 0;
}

int
catalog_search__dict_intern (catalog_search__dict_t *d, const char *s, size_t len, uint32_t *id,
                             bool *created)
{
    uint32_t found = catalog_search__dict_find (d, s, len);
    if (created)
        *created = found == NONE;
    if (found != NONE) {
        *id = found;
        return 0;
    }
    if (d->n >= UINT32_MAX / 4)
        return -VE_NOMEM;
    //  off has n + 1 entries: the last one is where the next string starts.
    uint32_t cap = d->cap;
    if (catalog_search__grow ((void **) &d->off, &cap, d->n + 2, sizeof *d->off))
        return -VE_NOMEM;
    cap = d->cap;
    if (catalog_search__grow ((void **) &d->hash, &cap, d->n + 2, sizeof *d->hash))
        return -VE_NOMEM;
    d->cap = cap;
    if (d->nchars + len + 1 > d->cchars) {
        uint64_t n = d->cchars ? d->cchars : 256;
        while (n < d->nchars + len + 1)
            n += n / 2;
        char *chars = realloc (d->chars, n);
        if (!chars)
            return -VE_NOMEM;
        d->chars = chars;
        d->cchars = n;
    }
    if ((uint64_t) (d->n + 1) * 2 > (uint64_t) d->mask + 1 || !d->slots) {
        uint32_t nslots = d->slots ? (d->mask + 1) * 2 : 64;
        if (s_dict_rehash (d, nslots))
            return -VE_NOMEM;
    }
    uint32_t h = (uint32_t) catalog_search__hash (s, len);
    uint32_t me = d->n++;
    d->off[me] = d->nchars;
    memcpy (d->chars + d->nchars, s, len);
    d->chars[d->nchars + len] = 0;
    d->nchars += len + 1;
    d->off[me + 1] = d->nchars;
    d->hash[me] = h;
    uint32_t i = h & d->mask;
    while (d->slots[i])
        i = (i + 1) & d->mask;
    d->slots[i] = me + 1;
    *id = me;
    return 0;
}

size_t
catalog_search__dict_memory (const catalog_search__dict_t *d)
{
    return d->cchars + (size_t) d->cap * (sizeof *d->off + sizeof *d->hash)
           + (d->slots ? (size_t) (d->mask + 1) * sizeof *d->slots : 0);
}

//  ---------------------------------------------------------------- the term dictionary
//  The deletion index: every term that can be reached by a typo is stored under the hash of
//  each of its one-byte deletions. A query word then finds its one-edit variants by looking up
//  itself and its own deletions (a symmetric-delete search), with no scan of the dictionary;
//  candidates are confirmed with catalog_search__within_one, since hashes collide.
static int
s_del_insert (catalog_search_t *self, uint32_t h, uint32_t term)
{
    if (!self->dels || (uint64_t) (self->ndels + 1) * 2 > (uint64_t) self->del_mask + 1) {
        uint32_t nslots = self->dels ? (self->del_mask + 1) * 2 : 1024;
        catalog_search__del_t *dels = malloc ((size_t) nslots * sizeof *dels);
        if (!dels)
            return -VE_NOMEM;
        for (uint32_t i = 0; i < nslots; i++)
            dels[i].term = NONE;
        for (uint32_t i = 0; self->dels && i <= self->del_mask; i++) {
            if (self->dels[i].term == NONE)
                continue;
            uint32_t j = self->dels[i].h & (nslots - 1);
            while (dels[j].term != NONE)
                j = (j + 1) & (nslots - 1);
            dels[j] = self->dels[i];
        }
        free (self->dels);
        self->dels = dels;
        self->del_mask = nslots - 1;
    }
    uint32_t j = h & self->del_mask;
    while (self->dels[j].term != NONE) {
        if (self->dels[j].h == h && self->dels[j].term == term)
            return 0;  //  "aab" gives "ab" twice
        j = (j + 1) & self->del_mask;
    }
    self->dels[j] = (catalog_search__del_t) { h, term };
    self->ndels++;
    return 0;
}

int
catalog_search__term_intern (catalog_search_t *self, const char *tok, size_t len, uint32_t *id)
{
    bool created;
    if (catalog_search__dict_intern (&self->terms, tok, len, id, &created))
        return -VE_NOMEM;
    if (!created)
        return 0;
    if (catalog_search__grow ((void **) &self->term, &self->term_cap, self->terms.n,
                              sizeof *self->term))
        return -VE_NOMEM;  //  the term stays interned with no postings: harmless
    memset (&self->term[*id], 0, sizeof self->term[*id]);
    if (catalog_search__vec_push (&self->pending, *id))
        return -VE_NOMEM;
    if (catalog_search__typo_term (tok, len)) {
        char del[CATALOG_MAX_TOKEN];
        for (size_t i = 0; i < len; i++) {
            memcpy (del, tok, i);
            memcpy (del + i, tok + i + 1, len - i - 1);
            if (s_del_insert (self, (uint32_t) catalog_search__hash (del, len - 1), *id))
                return -VE_NOMEM;
        }
    }
    return 0;
}

static int
s_term_cmp (const void *a, const void *b, void *arg)
{
    const catalog_search__dict_t *d = arg;
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return strcmp (catalog_search__dict_str (d, x), catalog_search__dict_str (d, y));
}

uint32_t
catalog_search__sorted_lower (const catalog_search_t *self, const char *s)
{
    uint32_t lo = 0, hi = self->nsorted;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp (catalog_search__dict_str (&self->terms, self->sorted[mid]), s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  New terms are sorted in lazily (before a query or a compaction), not at every put: a bulk
//  load then costs one sort and one merge. A few new terms are inserted one by one instead.
int
catalog_search__sort_pending (catalog_search_t *self)
{
    catalog_search__vec_t *p = &self->pending;
    if (p->len == 0)
        return 0;
    if (catalog_search__grow ((void **) &self->sorted, &self->sorted_cap, self->nsorted + p->len,
                              sizeof *self->sorted))
        return -VE_NOMEM;
    if (p->len <= 16) {
        for (uint32_t i = 0; i < p->len; i++) {
            uint32_t at = catalog_search__sorted_lower (
                self, catalog_search__dict_str (&self->terms, p->v[i]));
            memmove (self->sorted + at + 1, self->sorted + at,
                     (self->nsorted - at) * sizeof *self->sorted);
            self->sorted[at] = p->v[i];
            self->nsorted++;
        }
        p->len = 0;
        return 0;
    }
    uint32_t total = self->nsorted + p->len;
    uint32_t *merged = malloc ((size_t) total * sizeof *merged);
    if (!merged)
        return -VE_NOMEM;
    qsort_r (p->v, p->len, sizeof *p->v, s_term_cmp, &self->terms);
    uint32_t i = 0, j = 0, k = 0;
    while (i < self->nsorted && j < p->len)
        merged[k++] = s_term_cmp (&self->sorted[i], &p->v[j], &self->terms) <= 0 ? self->sorted[i++]
                                                                                 : p->v[j++];
    while (i < self->nsorted)
        merged[k++] = self->sorted[i++];
    while (j < p->len)
        merged[k++] = p->v[j++];
    free (self->sorted);
    self->sorted = merged;
    self->nsorted = self->sorted_cap = total;
    p->len = 0;
    return 0;
}
