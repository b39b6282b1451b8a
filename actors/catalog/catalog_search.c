//  catalog_search.c — the catalog's in-memory search index (see catalog_search.h and
//  docs/search.md). Products get increasing ordinals, so postings stay sorted by appending;
//  a replaced or removed product is a tombstone until compaction renumbers the live ones.
//  Everything a query touches per match sits in flat columns indexed by ordinal.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  //  qsort_r
#endif
#include "catalog_search.h"
#include "catalog_search_internal.h"
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

//  BM25F: per-field weights and the usual constants.
enum { F_TITLE, F_BRAND, F_ATTR, F_DESC, F_COUNT };
static const float s_field_weight[F_COUNT] = { 3.0f, 2.0f, 1.5f, 1.0f };
#define BM25_K1 1.2f
#define BM25_B  0.75f

//  Term frequency per field, packed in 16 bits per posting (saturating):
//  title 4 bits, brand 2, attributes 4, description 6.
static const unsigned s_tf_shift[F_COUNT] = { 0, 4, 6, 10 };
static const unsigned s_tf_max[F_COUNT] = { 15, 3, 15, 63 };

//  Score of a word matched exactly rather than through a prefix or a typo: added on top of
//  BM25 (which stays below 40 per word), so more exact words always rank first.
#define EXACT_BONUS   100.0f
#define TYPO_WEIGHT   0.5f
#define PREFIX_WEIGHT 0.4f  //  plus up to 0.4 as the prefix covers more of the term

//  Fixed price buckets (minor units): the lower bounds; the last one is open.
static const int64_t s_price_lo[CATALOG_PRICE_BUCKETS] = { 0,     2500,  5000,   10000,
                                                           25000, 50000, 100000, 250000 };

//  ---------------------------------------------------------------- growable arrays
//  Grows *p (elements of size) to hold at least need elements; *cap is updated.
static int
s_grow (void **p, uint32_t *cap, uint32_t need, size_t size)
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

typedef struct {
    uint32_t *v;
    uint32_t len, cap;
} s_vec_t;

static int
s_vec_push (s_vec_t *vec, uint32_t x)
{
    if (s_grow ((void **) &vec->v, &vec->cap, vec->len + 1, sizeof *vec->v))
        return -VE_NOMEM;
    vec->v[vec->len++] = x;
    return 0;
}

//  ---------------------------------------------------------------- interned strings
//  Strings stored back to back, each with a dense id, found by an open-addressing table.
typedef struct {
    char *chars;
    uint64_t nchars, cchars;
    uint64_t *off;    //  id → offset of its NUL-terminated string
    uint32_t *hash;   //  id → low 32 bits of its hash
    uint32_t *slots;  //  id + 1; 0 = empty
    uint32_t n, cap, mask;
} s_dict_t;

static void
s_dict_free (s_dict_t *d)
{
    free (d->chars);
    free (d->off);
    free (d->hash);
    free (d->slots);
    memset (d, 0, sizeof *d);
}

static inline const char *
s_dict_str (const s_dict_t *d, uint32_t id)
{
    return d->chars + d->off[id];
}

static inline uint32_t
s_dict_len (const s_dict_t *d, uint32_t id)
{
    return (uint32_t) (d->off[id + 1] - d->off[id] - 1);
}

//  The id of s (len bytes), or NONE.
static uint32_t
s_dict_find (const s_dict_t *d, const char *s, size_t len)
{
    if (d->n == 0)
        return NONE;
    uint32_t h = (uint32_t) catalog_search__hash (s, len);
    for (uint32_t i = h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t id = d->slots[i];
        if (id == 0)
            return NONE;
        id--;
        if (d->hash[id] == h && s_dict_len (d, id) == len
            && memcmp (s_dict_str (d, id), s, len) == 0)
            return id;
    }
}

static int
s_dict_rehash (s_dict_t *d, uint32_t nslots)
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

//  Interns s; sets *id (and *created when it is new). Returns 0 or -VE_NOMEM.
static int
s_dict_intern (s_dict_t *d, const char *s, size_t len, uint32_t *id, bool *created)
{
    uint32_t found = s_dict_find (d, s, len);
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
    if (s_grow ((void **) &d->off, &cap, d->n + 2, sizeof *d->off))
        return -VE_NOMEM;
    cap = d->cap;
    if (s_grow ((void **) &d->hash, &cap, d->n + 2, sizeof *d->hash))
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

static size_t
s_dict_memory (const s_dict_t *d)
{
    return d->cchars + (size_t) d->cap * (sizeof *d->off + sizeof *d->hash)
           + (d->slots ? (size_t) (d->mask + 1) * sizeof *d->slots : 0);
}

//  ---------------------------------------------------------------- the index
typedef struct {
    uint32_t *docs;  //  ordinals, ascending (tombstones included until compaction)
    uint16_t *tfs;   //  packed per-field term frequencies, parallel to docs
    uint32_t *lens;  //  the product's field lengths, parallel to docs: scoring a posting
                     //  then reads only the postings, never the product's row
    uint64_t *facs;  //  the product's facet word (s_fac), parallel to docs: counting facets
                     //  of a one-term match reads only the postings too
    uint32_t len, cap;
    uint32_t df;     //  live products containing the term
    uint32_t stamp;  //  the put that last saw it (to aggregate a product's tokens)
    uint32_t local;  //  its slot in that put's scratch
    uint32_t qmark;  //  the query word that last took it as an alternative
} s_term_t;

//  A multimap from the hash of a term with one byte deleted to the term: typo candidates.
typedef struct {
    uint32_t h;
    uint32_t term;
} s_del_t;

typedef struct {
    uint32_t depth;   //  0 = top level
    uint32_t parent;  //  NONE at the top
    s_vec_t docs;     //  ordinals in this category or below
} s_node_t;

//  One alternative of a query word: a term and how it matched.
typedef struct {
    uint32_t term;
    float weight;  //  1 for exact, less for prefix and typo
    float bonus;   //  EXACT_BONUS or 0
    float mul;     //  weight * idf * (k1 + 1), set when the query runs
    uint32_t pos;  //  cursor in the term's postings while probing
} s_alt_t;

typedef struct {
    const char *text;  //  the token (in the query scratch)
    uint32_t len;
    uint32_t alt0, nalts;  //  its alternatives in self->alts
    uint64_t postings;     //  sum of the alternatives' posting lengths
    uint32_t exact;        //  exact term or NONE
    uint32_t typo_best;    //  most frequent typo alternative or NONE
} s_word_t;

//  What a query reads for every match, in one 32-byte row per ordinal so that filtering,
//  scoring and facet counting cost one cache miss rather than one per column.
typedef struct {
    int64_t price;
    int64_t created;
    float popularity;
    uint32_t brand;                   //  brand id or NONE
    uint16_t cat[CATALOG_MAX_DEPTH];  //  category node per level or NONE16
} s_row_t;

#define NONE16    0xFFFFu
#define MAX_NODES 0xFFFFu  //  category nodes (paths and their prefixes) an index can hold

//  The facet word of a product: what counting the unfiltered facets needs, in 8 bytes (brand
//  id, top-level category node, price bucket). It never changes for an ordinal, so it is
//  copied into every posting of the product and kept in a column.
static inline uint64_t
s_fac_make (uint32_t brand, uint16_t cat0, unsigned bucket)
{
    return (uint64_t) brand | (uint64_t) cat0 << 32 | (uint64_t) bucket << 48;
}
#define FAC_BRAND(x)  ((uint32_t) (x))
#define FAC_CAT0(x)   ((uint16_t) ((x) >> 32))
#define FAC_BUCKET(x) ((unsigned) ((x) >> 48) & 7)

typedef struct {
    int64_t key;  //  larger is better (doubles are mapped to ordered integers)
    uint32_t doc;
    float score;
} s_top_t;

struct catalog_search_s {
    //  Terms: dictionary, postings, sorted order for prefixes, deletion index for typos.
    s_dict_t terms;
    s_term_t *term;  //  parallel to terms' ids
    uint32_t term_cap;
    uint32_t *sorted;  //  term ids in byte order
    uint32_t nsorted, sorted_cap;
    s_vec_t pending;  //  new term ids not yet in sorted
    s_del_t *dels;
    uint32_t ndels, del_mask;

    //  Products: ids, and one column per attribute, indexed by ordinal.
    s_dict_t keys;     //  product ids
    s_vec_t key_ord;   //  key id → ordinal, NONE when gone
    uint32_t ndocs;    //  ordinals handed out
    uint32_t doc_cap;  //  of every per-ordinal column
    uint32_t nalive;
    s_row_t *row;
    uint64_t *fac;  //  facet word per ordinal (s_fac_make)
    uint32_t *doc_key;
    uint32_t *lens;     //  a byte per field: tokens in it (capped at 255)
    uint64_t *alive;    //  bitset: active and not replaced/removed
    uint64_t *stock;    //  bitset: in stock
    uint64_t *fwd_off;  //  ordinal → start of its term list in fwd (ndocs + 1 entries)
    uint32_t *fwd;      //  term ids of each product, back to back
    uint64_t nfwd, fwd_cap;
    uint64_t len_sum[F_COUNT];  //  over live products, for average field lengths

    //  Facet dictionaries.
    s_dict_t brands;
    s_vec_t *brand_docs;  //  per brand: ordinals
    uint32_t brand_cap;
    s_dict_t cats;
    s_node_t *node;
    uint32_t node_cap;

    //  Scratch of a put.
    struct {
        uint32_t term;
        uint16_t tf;
    } * local;
    uint32_t local_cap;
    uint32_t put_gen;

    //  Scratch of a query (and its results, borrowed by the caller).
    float *acc;            //  per ordinal: best score of the current word
    uint64_t *mark;        //  per ordinal: the current word matched
    uint32_t scratch_cap;  //  ordinals acc and mark cover
    uint32_t *cand;
    float *cscore;
    uint64_t *cfac;  //  parallel to cand: the candidate's facet word
    int64_t *ckey;   //  parallel to cand when stash: the sort key read from the row
    uint16_t *csub;  //  parallel to cand when stash: the category node below the filter's
    bool stash;      //  the pass that filters on the row also fills ckey and csub
    uint32_t cand_cap;
    s_alt_t *alts;
    uint32_t nalts, alts_cap;
    uint32_t qgen;
    uint32_t *count_node, *count_brand;
    uint32_t count_node_cap, count_brand_cap;
    s_top_t *top;
    catalog_hit_t hits[CATALOG_MAX_LIMIT];
    catalog_facet_t *facets;  //  categories, then subcategories, then brands
    uint32_t facets_cap;
    char qtext[CATALOG_MAX_QUERY + CATALOG_MAX_WORDS * 2 + 8];
    const char *qwords[CATALOG_MAX_WORDS];
    float norm[F_COUNT][256];
};

static inline bool
s_bit (const uint64_t *set, uint32_t i)
{
    return (set[i >> 6] >> (i & 63)) & 1;
}

static inline void
s_bit_set (uint64_t *set, uint32_t i, bool on)
{
    if (on)
        set[i >> 6] |= 1ull << (i & 63);
    else
        set[i >> 6] &= ~(1ull << (i & 63));
}

catalog_search_t *
catalog_search_new (void)
{
    catalog_search_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fwd_off = calloc (1, sizeof *self->fwd_off);
    self->top = malloc (CATALOG_MAX_WINDOW * sizeof *self->top);
    if (!self->fwd_off || !self->top)
        catalog_search_destroy (&self);
    return self;
}

static void
s_free_columns (catalog_search_t *self)
{
    free (self->row);
    free (self->fac);
    free (self->doc_key);
    free (self->lens);
    free (self->alive);
    free (self->stock);
}

void
catalog_search_destroy (catalog_search_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    catalog_search_t *self = *self_p;
    for (uint32_t t = 0; t < self->terms.n; t++) {
        free (self->term[t].docs);
        free (self->term[t].tfs);
        free (self->term[t].lens);
        free (self->term[t].facs);
    }
    free (self->term);
    s_dict_free (&self->terms);
    free (self->sorted);
    free (self->pending.v);
    free (self->dels);
    s_dict_free (&self->keys);
    free (self->key_ord.v);
    s_free_columns (self);
    free (self->fwd_off);
    free (self->fwd);
    for (uint32_t b = 0; b < self->brands.n; b++)
        free (self->brand_docs[b].v);
    free (self->brand_docs);
    s_dict_free (&self->brands);
    for (uint32_t n = 0; n < self->cats.n; n++)
        free (self->node[n].docs.v);
    free (self->node);
    s_dict_free (&self->cats);
    free (self->local);
    free (self->acc);
    free (self->mark);
    free (self->cand);
    free (self->cscore);
    free (self->cfac);
    free (self->ckey);
    free (self->csub);
    free (self->alts);
    free (self->count_node);
    free (self->count_brand);
    free (self->top);
    free (self->facets);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------- dictionary upkeep
static int
s_del_insert (catalog_search_t *self, uint32_t h, uint32_t term)
{
    if (!self->dels || (uint64_t) (self->ndels + 1) * 2 > (uint64_t) self->del_mask + 1) {
        uint32_t nslots = self->dels ? (self->del_mask + 1) * 2 : 1024;
        s_del_t *dels = malloc ((size_t) nslots * sizeof *dels);
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
    self->dels[j] = (s_del_t) { h, term };
    self->ndels++;
    return 0;
}

static bool
s_has_digit (const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    return false;
}

//  A term is typo-tolerant when a query word of 5+ bytes without digits can reach it; only
//  terms of 5+ bytes need their deletions indexed (shorter ones are found as deletions of the
//  query word itself).
static bool
s_typo_term (const char *s, size_t len)
{
    return len >= 5 && !s_has_digit (s, len);
}

//  Interns a token as a term; a new term also goes to the deletion index and the pending list.
static int
s_term_intern (catalog_search_t *self, const char *tok, size_t len, uint32_t *id)
{
    bool created;
    if (s_dict_intern (&self->terms, tok, len, id, &created))
        return -VE_NOMEM;
    if (!created)
        return 0;
    if (s_grow ((void **) &self->term, &self->term_cap, self->terms.n, sizeof *self->term))
        return -VE_NOMEM;  //  the term stays interned with no postings: harmless
    memset (&self->term[*id], 0, sizeof self->term[*id]);
    if (s_vec_push (&self->pending, *id))
        return -VE_NOMEM;
    if (s_typo_term (tok, len)) {
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
    const s_dict_t *d = arg;
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return strcmp (s_dict_str (d, x), s_dict_str (d, y));
}

//  First position in sorted whose term is >= s.
static uint32_t
s_sorted_lower (const catalog_search_t *self, const char *s)
{
    uint32_t lo = 0, hi = self->nsorted;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp (s_dict_str (&self->terms, self->sorted[mid]), s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  Brings the sorted term list up to date: a few new terms are inserted one by one, many
//  (a bulk load) are sorted and merged.
static int
s_sort_pending (catalog_search_t *self)
{
    s_vec_t *p = &self->pending;
    if (p->len == 0)
        return 0;
    if (s_grow ((void **) &self->sorted, &self->sorted_cap, self->nsorted + p->len,
                sizeof *self->sorted))
        return -VE_NOMEM;
    if (p->len <= 16) {
        for (uint32_t i = 0; i < p->len; i++) {
            uint32_t at = s_sorted_lower (self, s_dict_str (&self->terms, p->v[i]));
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

//  ---------------------------------------------------------------- categories and brands
//  Interns every level of a category path; fills nodes[0..depth-1]. Returns the depth or a
//  negative code.
static int
s_category (catalog_search_t *self, const char *path, uint32_t nodes[CATALOG_MAX_DEPTH])
{
    for (int l = 0; l < CATALOG_MAX_DEPTH; l++)
        nodes[l] = NONE;
    if (!path || !*path)
        return 0;
    size_t len = strlen (path);
    int depth = 0;
    uint32_t parent = NONE;
    for (size_t end = 0; end <= len; end++) {
        if (end < len && path[end] != '/')
            continue;
        if (depth == CATALOG_MAX_DEPTH)
            return -VE_INVAL;
        if (end == 0 || path[end - 1] == '/')
            return -VE_INVAL;  //  an empty segment
        uint32_t id;
        bool created;
        if (self->cats.n >= MAX_NODES && s_dict_find (&self->cats, path, end) == NONE)
            return -VE_TOOBIG;
        if (s_dict_intern (&self->cats, path, end, &id, &created))
            return -VE_NOMEM;
        if (created) {
            if (s_grow ((void **) &self->node, &self->node_cap, self->cats.n, sizeof *self->node))
                return -VE_NOMEM;
            self->node[id] = (s_node_t) { .depth = (uint32_t) depth, .parent = parent };
        }
        nodes[depth++] = id;
        parent = id;
    }
    return depth;
}

//  ---------------------------------------------------------------- products
static int
s_columns_reserve (catalog_search_t *self, uint32_t need)
{
    if (need <= self->doc_cap)
        return 0;
    uint64_t n = self->doc_cap ? (uint64_t) self->doc_cap * 2 : 1024;
    while (n < need)
        n *= 2;
    if (n > UINT32_MAX - 64)
        return -VE_NOMEM;
        //  Each realloc is kept as it succeeds; doc_cap moves only when all did.
#define GROW_(col, size)                                                                           \
    do {                                                                                           \
        void *q_ = realloc (self->col, (size_t) (size));                                           \
        if (!q_)                                                                                   \
            return -VE_NOMEM;                                                                      \
        self->col = q_;                                                                            \
    } while (0)
    GROW_ (row, n * sizeof (s_row_t));
    GROW_ (fac, n * sizeof (uint64_t));
    GROW_ (doc_key, n * sizeof (uint32_t));
    GROW_ (lens, n * sizeof (uint32_t));
    GROW_ (fwd_off, (n + 1) * sizeof (uint64_t));
    size_t old_words = (self->doc_cap + 63) / 64, words = (n + 63) / 64;
    GROW_ (alive, words * sizeof (uint64_t));
    memset (self->alive + old_words, 0, (words - old_words) * sizeof (uint64_t));
    GROW_ (stock, words * sizeof (uint64_t));
    memset (self->stock + old_words, 0, (words - old_words) * sizeof (uint64_t));
#undef GROW_
    self->doc_cap = (uint32_t) n;
    return 0;
}

static uint32_t
s_find (const catalog_search_t *self, const char *id)
{
    if (!id)
        return NONE;
    size_t len = strnlen (id, CATALOG_MAX_ID + 1);
    uint32_t key = s_dict_find (&self->keys, id, len);
    return key == NONE ? NONE : self->key_ord.v[key];
}

//  Tombstones a live ordinal: its terms' document frequencies and the length sums drop.
static void
s_kill (catalog_search_t *self, uint32_t ord)
{
    assert (s_bit (self->alive, ord));
    s_bit_set (self->alive, ord, false);
    for (uint64_t i = self->fwd_off[ord]; i < self->fwd_off[ord + 1]; i++)
        self->term[self->fwd[i]].df--;
    for (int f = 0; f < F_COUNT; f++)
        self->len_sum[f] -= (self->lens[ord] >> (8 * f)) & 0xff;
    self->key_ord.v[self->doc_key[ord]] = NONE;
    self->nalive--;
}

//  Compacts when a quarter of the ordinals are tombstones (and enough to be worth it).
static void
s_maybe_compact (catalog_search_t *self)
{
    uint32_t dead = self->ndocs - self->nalive;
    if (dead >= 4096 && dead >= self->ndocs / 4)
        catalog_search_compact (self);  //  out of memory: the tombstones simply stay
}

static size_t
s_field_len (const char *s, size_t max)
{
    return s ? strnlen (s, max + 1) : 0;
}

//  Adds the tokens of one field to the put's scratch; returns the token count or -VE_NOMEM.
static int64_t
s_add_field (catalog_search_t *self, const char *text, size_t len, int field, uint32_t *nlocal)
{
    catalog_search__lexer_t lx;
    char tok[CATALOG_MAX_TOKEN + 1];
    size_t toklen;
    int64_t count = 0;
    catalog_search__lexer_init (&lx, text, len);
    while ((toklen = catalog_search__next_token (&lx, tok)) > 0) {
        uint32_t id;
        if (s_term_intern (self, tok, toklen, &id))
            return -VE_NOMEM;
        s_term_t *t = &self->term[id];
        if (t->stamp != self->put_gen) {
            if (s_grow ((void **) &self->local, &self->local_cap, *nlocal + 1, sizeof *self->local))
                return -VE_NOMEM;
            t->stamp = self->put_gen;
            t->local = (*nlocal)++;
            self->local[t->local].term = id;
            self->local[t->local].tf = 0;
        }
        uint16_t *tf = &self->local[t->local].tf;
        unsigned cur = (*tf >> s_tf_shift[field]) & s_tf_max[field];
        if (cur < s_tf_max[field])
            *tf = (uint16_t) (*tf + (1u << s_tf_shift[field]));
        count++;
    }
    return count;
}

int
catalog_search_put (catalog_search_t *self, const catalog_doc_t *doc)
{
    if (!self || !doc || !doc->id)
        return -VE_INVAL;
    size_t idlen = strnlen (doc->id, CATALOG_MAX_ID + 1);
    if (idlen == 0)
        return -VE_INVAL;
    if (idlen > CATALOG_MAX_ID || doc->nattrs > CATALOG_MAX_ATTRS)
        return -VE_TOOBIG;
    if (doc->nattrs && (!doc->attr_values || !doc->attr_keys))
        return -VE_INVAL;
    if (!isfinite (doc->popularity))
        return -VE_INVAL;
    const char *fields[3] = { doc->title, doc->brand, doc->description };
    size_t flen[3];
    for (int i = 0; i < 3; i++)
        if ((flen[i] = s_field_len (fields[i], CATALOG_MAX_FIELD)) > CATALOG_MAX_FIELD)
            return -VE_TOOBIG;
    for (size_t i = 0; i < doc->nattrs; i++)
        if (s_field_len (doc->attr_values[i], CATALOG_MAX_FIELD) > CATALOG_MAX_FIELD)
            return -VE_TOOBIG;
    if (s_field_len (doc->category, CATALOG_MAX_FIELD) > CATALOG_MAX_FIELD)
        return -VE_TOOBIG;

    uint32_t old = s_find (self, doc->id);
    if (!doc->active) {
        if (old != NONE) {
            s_kill (self, old);
            s_maybe_compact (self);
        }
        return 0;
    }

    //  Everything that can fail happens before the index changes: interning (a term, brand
    //  or category without products is harmless) and reserving room.
    uint32_t nodes[CATALOG_MAX_DEPTH];
    int depth = s_category (self, doc->category, nodes);
    if (depth < 0)
        return depth;
    uint32_t brand = NONE;
    if (flen[1] > 0) {
        bool created;
        if (s_dict_intern (&self->brands, doc->brand, flen[1], &brand, &created))
            return -VE_NOMEM;
        if (created) {
            if (s_grow ((void **) &self->brand_docs, &self->brand_cap, self->brands.n,
                        sizeof *self->brand_docs))
                return -VE_NOMEM;
            memset (&self->brand_docs[brand], 0, sizeof self->brand_docs[brand]);
        }
    }
    if (++self->put_gen == 0) {
        //  After 2^32 puts the stamps wrap: forget them all once.
        for (uint32_t t = 0; t < self->terms.n; t++)
            self->term[t].stamp = 0;
        self->put_gen = 1;
    }
    uint32_t nlocal = 0;
    int64_t ntok[F_COUNT] = { 0 };
    ntok[F_TITLE] = s_add_field (self, fields[0], flen[0], F_TITLE, &nlocal);
    ntok[F_BRAND] = s_add_field (self, fields[1], flen[1], F_BRAND, &nlocal);
    ntok[F_DESC] = s_add_field (self, fields[2], flen[2], F_DESC, &nlocal);
    for (size_t i = 0; i < doc->nattrs && ntok[F_ATTR] >= 0; i++) {
        const char *v = doc->attr_values[i];
        int64_t n = v ? s_add_field (self, v, strlen (v), F_ATTR, &nlocal) : 0;
        ntok[F_ATTR] = n < 0 ? n : ntok[F_ATTR] + n;
    }
    for (int f = 0; f < F_COUNT; f++)
        if (ntok[f] < 0)
            return -VE_NOMEM;

    uint32_t ord = self->ndocs;
    if (ord >= UINT32_MAX - 64)
        return -VE_NOMEM;
    if (s_columns_reserve (self, ord + 1))
        return -VE_NOMEM;
    if (self->nfwd + nlocal > self->fwd_cap) {
        uint64_t n = self->fwd_cap ? self->fwd_cap : 4096;
        while (n < self->nfwd + nlocal)
            n += n / 2;
        uint32_t *fwd = realloc (self->fwd, n * sizeof *fwd);
        if (!fwd)
            return -VE_NOMEM;
        self->fwd = fwd;
        self->fwd_cap = n;
    }
    for (uint32_t i = 0; i < nlocal; i++) {
        s_term_t *t = &self->term[self->local[i].term];
        uint32_t cap = t->cap;
        if (s_grow ((void **) &t->docs, &cap, t->len + 1, sizeof *t->docs))
            return -VE_NOMEM;
        cap = t->cap;
        if (s_grow ((void **) &t->tfs, &cap, t->len + 1, sizeof *t->tfs))
            return -VE_NOMEM;
        cap = t->cap;
        if (s_grow ((void **) &t->lens, &cap, t->len + 1, sizeof *t->lens))
            return -VE_NOMEM;
        cap = t->cap;
        if (s_grow ((void **) &t->facs, &cap, t->len + 1, sizeof *t->facs))
            return -VE_NOMEM;
        t->cap = cap;
    }
    for (int l = 0; l < depth; l++) {
        s_vec_t *v = &self->node[nodes[l]].docs;
        if (s_grow ((void **) &v->v, &v->cap, v->len + 1, sizeof *v->v))
            return -VE_NOMEM;
    }
    if (brand != NONE) {
        s_vec_t *v = &self->brand_docs[brand];
        if (s_grow ((void **) &v->v, &v->cap, v->len + 1, sizeof *v->v))
            return -VE_NOMEM;
    }
    uint32_t key;
    if (s_dict_intern (&self->keys, doc->id, idlen, &key, NULL)
        || s_grow ((void **) &self->key_ord.v, &self->key_ord.cap, self->keys.n,
                   sizeof *self->key_ord.v))
        return -VE_NOMEM;
    while (self->key_ord.len < self->keys.n)
        self->key_ord.v[self->key_ord.len++] = NONE;

    //  From here on nothing fails.
    uint32_t lens = 0;
    for (int f = 0; f < F_COUNT; f++) {
        uint32_t n = ntok[f] > 255 ? 255 : (uint32_t) ntok[f];
        lens |= n << (8 * f);
    }
    unsigned bucket = 0;
    for (unsigned i = 1; i < CATALOG_PRICE_BUCKETS; i++)
        bucket += doc->price_minor >= s_price_lo[i];
    uint64_t fac = s_fac_make (brand, nodes[0] == NONE ? NONE16 : (uint16_t) nodes[0], bucket);
    if (old != NONE)
        s_kill (self, old);
    for (uint32_t i = 0; i < nlocal; i++) {
        s_term_t *t = &self->term[self->local[i].term];
        t->docs[t->len] = ord;
        t->tfs[t->len] = self->local[i].tf;
        t->lens[t->len] = lens;
        t->facs[t->len] = fac;
        t->len++;
        t->df++;
        self->fwd[self->nfwd++] = self->local[i].term;
    }
    for (int l = 0; l < depth; l++) {
        s_vec_t *v = &self->node[nodes[l]].docs;
        v->v[v->len++] = ord;
    }
    if (brand != NONE) {
        s_vec_t *v = &self->brand_docs[brand];
        v->v[v->len++] = ord;
    }
    for (int f = 0; f < F_COUNT; f++)
        self->len_sum[f] += (lens >> (8 * f)) & 0xff;
    self->doc_key[ord] = key;
    self->key_ord.v[key] = ord;
    self->fac[ord] = fac;
    s_row_t *row = &self->row[ord];
    row->price = doc->price_minor;
    row->created = doc->created_ms;
    row->popularity = (float) doc->popularity;
    row->brand = brand;
    for (int l = 0; l < CATALOG_MAX_DEPTH; l++)
        row->cat[l] = nodes[l] == NONE ? NONE16 : (uint16_t) nodes[l];
    self->lens[ord] = lens;
    s_bit_set (self->alive, ord, true);
    s_bit_set (self->stock, ord, doc->in_stock);
    self->fwd_off[ord + 1] = self->nfwd;
    self->ndocs++;
    self->nalive++;
    if (old != NONE)
        s_maybe_compact (self);
    return 0;
}

int
catalog_search_remove (catalog_search_t *self, const char *id)
{
    uint32_t ord = self ? s_find (self, id) : NONE;
    if (ord == NONE)
        return -VE_NOT_FOUND;
    s_kill (self, ord);
    s_maybe_compact (self);
    return 0;
}

int
catalog_search_set_stock (catalog_search_t *self, const char *id, bool in_stock)
{
    uint32_t ord = self ? s_find (self, id) : NONE;
    if (ord == NONE)
        return -VE_NOT_FOUND;
    s_bit_set (self->stock, ord, in_stock);
    return 0;
}

int
catalog_search_set_popularity (catalog_search_t *self, const char *id, double popularity)
{
    if (!isfinite (popularity))
        return -VE_INVAL;
    uint32_t ord = self ? s_find (self, id) : NONE;
    if (ord == NONE)
        return -VE_NOT_FOUND;
    self->row[ord].popularity = (float) popularity;
    return 0;
}

uint32_t
catalog_search_size (const catalog_search_t *self)
{
    return self ? self->nalive : 0;
}

//  ---------------------------------------------------------------- compaction
//  Keeps the entries of an ordinal list whose ordinal survives, renumbered.
static void
s_remap_vec (s_vec_t *v, const uint32_t *remap)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < v->len; i++)
        if (remap[v->v[i]] != NONE)
            v->v[k++] = remap[v->v[i]];
    v->len = k;
}

int
catalog_search_compact (catalog_search_t *self)
{
    if (!self)
        return -VE_INVAL;
    if (s_sort_pending (self))
        return -VE_NOMEM;
    uint32_t *remap = malloc (((size_t) self->ndocs + 1) * sizeof *remap);
    s_dict_t keys = { 0 };
    uint32_t *key_ord = NULL;
    if (!remap)
        return -VE_NOMEM;
    //  The id dictionary is rebuilt first, so that running out of memory changes nothing.
    uint32_t n = 0;
    for (uint32_t ord = 0; ord < self->ndocs; ord++) {
        if (!s_bit (self->alive, ord)) {
            remap[ord] = NONE;
            continue;
        }
        uint32_t key, k = self->doc_key[ord];
        if (s_dict_intern (&keys, s_dict_str (&self->keys, k), s_dict_len (&self->keys, k), &key,
                           NULL)) {
            s_dict_free (&keys);
            free (remap);
            return -VE_NOMEM;
        }
        remap[ord] = n++;
    }
    key_ord = malloc (((size_t) n + 1) * sizeof *key_ord);
    if (!key_ord) {
        s_dict_free (&keys);
        free (remap);
        return -VE_NOMEM;
    }

    //  Postings: drop tombstones, renumber, give back spare room.
    for (uint32_t id = 0; id < self->terms.n; id++) {
        s_term_t *t = &self->term[id];
        uint32_t k = 0;
        for (uint32_t i = 0; i < t->len; i++) {
            uint32_t to = remap[t->docs[i]];
            if (to != NONE) {
                t->docs[k] = to;
                t->tfs[k] = t->tfs[i];
                t->lens[k] = t->lens[i];
                t->facs[k] = t->facs[i];
                k++;
            }
        }
        t->len = k;
        if (k == 0) {
            free (t->docs);
            free (t->tfs);
            free (t->lens);
            free (t->facs);
            t->docs = NULL;
            t->tfs = NULL;
            t->lens = NULL;
            t->facs = NULL;
            t->cap = 0;
        }
        else if (k < t->cap) {
            uint32_t *docs = realloc (t->docs, k * sizeof *docs);
            uint16_t *tfs = realloc (t->tfs, k * sizeof *tfs);
            uint32_t *lens = realloc (t->lens, k * sizeof *lens);
            uint64_t *facs = realloc (t->facs, k * sizeof *facs);
            //  A failed shrink keeps the larger block; all hold at least k entries.
            t->docs = docs ? docs : t->docs;
            t->tfs = tfs ? tfs : t->tfs;
            t->lens = lens ? lens : t->lens;
            t->facs = facs ? facs : t->facs;
            t->cap = k;
        }
        assert (t->df == t->len);
    }
    for (uint32_t c = 0; c < self->cats.n; c++)
        s_remap_vec (&self->node[c].docs, remap);
    for (uint32_t b = 0; b < self->brands.n; b++)
        s_remap_vec (&self->brand_docs[b], remap);

    //  Columns and the forward index move down in place (new ordinal <= old ordinal).
    uint64_t nfwd = 0;
    for (uint32_t ord = 0; ord < self->ndocs; ord++) {
        uint32_t to = remap[ord];
        if (to == NONE)
            continue;
        uint64_t from = self->fwd_off[ord], end = self->fwd_off[ord + 1];
        self->fwd_off[to] = nfwd;
        memmove (self->fwd + nfwd, self->fwd + from, (end - from) * sizeof *self->fwd);
        nfwd += end - from;
        self->doc_key[to] = to;  //  keys were interned in ordinal order
        key_ord[to] = to;
        self->row[to] = self->row[ord];
        self->fac[to] = self->fac[ord];
        self->lens[to] = self->lens[ord];
        s_bit_set (self->stock, to, s_bit (self->stock, ord));
    }
    self->fwd_off[n] = nfwd;
    self->nfwd = nfwd;
    if (self->alive)  //  an empty index has no bitsets yet
        memset (self->alive, 0, ((self->doc_cap + 63) / 64) * sizeof (uint64_t));
    for (uint32_t ord = 0; ord < n; ord++)
        s_bit_set (self->alive, ord, true);
    for (uint32_t ord = n; ord < (self->ndocs + 63) / 64 * 64 && ord < self->doc_cap; ord++)
        s_bit_set (self->stock, ord, false);
    self->ndocs = n;
    s_dict_free (&self->keys);
    self->keys = keys;
    free (self->key_ord.v);
    self->key_ord = (s_vec_t) { key_ord, n, n + 1 };
    free (remap);
    //  The query scratch regrows to the new size when needed.
    free (self->acc);
    free (self->mark);
    self->acc = NULL;
    self->mark = NULL;
    self->scratch_cap = 0;
    return 0;
}

//  ---------------------------------------------------------------- memory
size_t
catalog_search_memory (const catalog_search_t *self)
{
    if (!self)
        return 0;
    size_t bytes = sizeof *self + CATALOG_MAX_WINDOW * sizeof *self->top;
    bytes += s_dict_memory (&self->terms) + s_dict_memory (&self->keys)
             + s_dict_memory (&self->brands) + s_dict_memory (&self->cats);
    bytes += (size_t) self->term_cap * sizeof *self->term;
    for (uint32_t t = 0; t < self->terms.n; t++)
        bytes += (size_t) self->term[t].cap
                 * (2 * sizeof (uint32_t) + sizeof (uint16_t) + sizeof (uint64_t));
    bytes += (size_t) self->sorted_cap * 4 + (size_t) self->pending.cap * 4;
    bytes += self->dels ? ((size_t) self->del_mask + 1) * sizeof *self->dels : 0;
    bytes += (size_t) self->key_ord.cap * 4;
    //  Per-ordinal columns: the row, key, lengths, forward offset, and two bits.
    bytes += (size_t) self->doc_cap * (sizeof (s_row_t) + 8 + 4 + 4 + 8)
             + (size_t) (self->doc_cap + 63) / 64 * 16;
    bytes += self->fwd_cap * sizeof *self->fwd;
    for (uint32_t b = 0; b < self->brands.n; b++)
        bytes += (size_t) self->brand_docs[b].cap * 4;
    bytes += (size_t) self->brand_cap * sizeof *self->brand_docs;
    for (uint32_t c = 0; c < self->cats.n; c++)
        bytes += (size_t) self->node[c].docs.cap * 4;
    bytes += (size_t) self->node_cap * sizeof *self->node;
    bytes += (size_t) self->local_cap * sizeof *self->local;
    bytes += (size_t) self->scratch_cap * (sizeof (float)) + (size_t) self->scratch_cap / 8;
    bytes += (size_t) self->cand_cap * 26 + (size_t) self->alts_cap * sizeof *self->alts;
    bytes += ((size_t) self->count_node_cap + self->count_brand_cap) * 4;
    bytes += (size_t) self->facets_cap * sizeof *self->facets;
    return bytes;
}

//  ---------------------------------------------------------------- queries
//  Floats mapped to integers that order the same way.
static inline int64_t
s_float_key (float f)
{
    int32_t i;
    memcpy (&i, &f, sizeof i);
    return i >= 0 ? i : i ^ INT32_MAX;
}

typedef struct {
    uint32_t cat_node, cat_depth;  //  NONE: any category
    uint32_t brand;                //  NONE: any brand
    int64_t pmin, pmax;
    bool stock;
    bool row;  //  a filter reads the row (price, brand or category)
    catalog_sort_t sort;
    bool text;           //  the query has words (relevance then means the score)
    bool sub;            //  the facet of the level below the filtered category is counted
    uint32_t sub_level;  //  its level
} s_filter_t;

//  The sort key of a product from its row (relevance with text: from the score instead).
static inline int64_t
s_row_key (const s_row_t *row, catalog_sort_t sort)
{
    switch (sort) {
    case CATALOG_SORT_PRICE_ASC: return row->price == INT64_MIN ? INT64_MAX : -row->price;
    case CATALOG_SORT_PRICE_DESC: return row->price;
    case CATALOG_SORT_NEWEST: return row->created;
    default: return s_float_key (row->popularity);
    }
}

//  Candidate c passed a filter that read its row: keep what counting needs from it.
static inline void
s_stash (catalog_search_t *self, const s_filter_t *f, uint32_t c, uint32_t d)
{
    const s_row_t *row = &self->row[d];
    self->ckey[c] = s_row_key (row, f->sort);
    self->csub[c] = f->sub ? row->cat[f->sub_level] : NONE16;
}

//  How far ahead loops over sparse ordinals prefetch their rows: a match costs a few
//  nanoseconds, a row from memory about a hundred.
#define AHEAD 48

static inline bool
s_pass (const catalog_search_t *self, const s_filter_t *f, uint32_t d)
{
    if (!s_bit (self->alive, d) || (f->stock && !s_bit (self->stock, d)))
        return false;
    if (!f->row)
        return true;
    const s_row_t *row = &self->row[d];
    if (row->price < f->pmin || row->price > f->pmax)
        return false;
    if (f->brand != NONE && row->brand != f->brand)
        return false;
    return f->cat_node == NONE || row->cat[f->cat_depth] == f->cat_node;
}

//  BM25F of one posting: field frequencies scaled by the field's length norm, saturated.
static inline float
s_score (const catalog_search_t *self, const s_alt_t *a, uint16_t tf, uint32_t lens)
{
    float x = self->norm[F_TITLE][lens & 255] * (float) (tf & 15)
              + self->norm[F_BRAND][(lens >> 8) & 255] * (float) ((tf >> 4) & 3)
              + self->norm[F_ATTR][(lens >> 16) & 255] * (float) ((tf >> 6) & 15)
              + self->norm[F_DESC][lens >> 24] * (float) (tf >> 10);
    return a->bonus + a->mul * x / (BM25_K1 + x);
}

//  The length-norm tables and each alternative's idf, from the current live statistics.
static void
s_prepare_scoring (catalog_search_t *self)
{
    double n = self->nalive ? self->nalive : 1;
    for (int f = 0; f < F_COUNT; f++) {
        double avg = self->len_sum[f] / n;
        if (avg <= 0)
            avg = 1;
        for (int l = 0; l < 256; l++)
            self->norm[f][l] =
                (float) (s_field_weight[f] / (1.0 - BM25_B + BM25_B * (double) l / avg));
    }
    for (uint32_t i = 0; i < self->nalts; i++) {
        s_alt_t *a = &self->alts[i];
        double df = self->term[a->term].df;
        double idf = log (1.0 + (n - df + 0.5) / (df + 0.5));
        a->mul = (float) (a->weight * idf * (BM25_K1 + 1.0));
    }
}

static int
s_alt_add (catalog_search_t *self, s_word_t *w, uint32_t term, float weight, float bonus)
{
    s_term_t *t = &self->term[term];
    if (t->df == 0 || t->qmark == self->qgen)
        return 0;
    t->qmark = self->qgen;
    if (s_grow ((void **) &self->alts, &self->alts_cap, self->nalts + 1, sizeof *self->alts))
        return -VE_NOMEM;
    self->alts[self->nalts++] = (s_alt_t) { .term = term, .weight = weight, .bonus = bonus };
    w->nalts++;
    w->postings += t->len;
    return 0;
}

static int
s_typo_candidate (catalog_search_t *self, s_word_t *w, uint32_t term)
{
    if (term == NONE || term == w->exact || self->term[term].qmark == self->qgen)
        return 0;
    if (!catalog_search__within_one (s_dict_str (&self->terms, term),
                                     s_dict_len (&self->terms, term), w->text, w->len))
        return 0;
    uint32_t before = self->nalts;
    if (s_alt_add (self, w, term, TYPO_WEIGHT, 0))
        return -VE_NOMEM;
    if (self->nalts > before
        && (w->typo_best == NONE || self->term[term].df > self->term[w->typo_best].df))
        w->typo_best = term;
    return 0;
}

//  Every term in the deletion index under hash h is a candidate.
static int
s_typo_lookup (catalog_search_t *self, s_word_t *w, uint32_t h)
{
    if (!self->dels)
        return 0;
    for (uint32_t j = h & self->del_mask; self->dels[j].term != NONE; j = (j + 1) & self->del_mask)
        if (self->dels[j].h == h && s_typo_candidate (self, w, self->dels[j].term))
            return -VE_NOMEM;
    return 0;
}

//  Finds a word's alternatives: itself, its completions when it is the last word, its
//  one-edit variants when it is long enough.
static int
s_word_alts (catalog_search_t *self, s_word_t *w, bool last)
{
    self->qgen++;
    w->alt0 = self->nalts;
    w->nalts = 0;
    w->postings = 0;
    w->exact = s_dict_find (&self->terms, w->text, w->len);
    w->typo_best = NONE;
    if (w->exact != NONE && s_alt_add (self, w, w->exact, 1.0f, EXACT_BONUS))
        return -VE_NOMEM;
    if (last && w->len >= 2) {
        for (uint32_t i = s_sorted_lower (self, w->text); i < self->nsorted; i++) {
            uint32_t term = self->sorted[i];
            uint32_t tlen = s_dict_len (&self->terms, term);
            if (tlen < w->len || memcmp (s_dict_str (&self->terms, term), w->text, w->len))
                break;
            float weight = PREFIX_WEIGHT + 0.4f * (float) w->len / (float) tlen;
            if (s_alt_add (self, w, term, weight, 0))
                return -VE_NOMEM;
        }
    }
    if (s_typo_term (w->text, w->len)) {
        char del[CATALOG_MAX_TOKEN];
        if (s_typo_lookup (self, w, (uint32_t) catalog_search__hash (w->text, w->len)))
            return -VE_NOMEM;
        for (uint32_t i = 0; i < w->len; i++) {
            memcpy (del, w->text, i);
            memcpy (del + i, w->text + i + 1, w->len - i - 1);
            uint32_t h = (uint32_t) catalog_search__hash (del, w->len - 1);
            if (s_typo_candidate (self, w, s_dict_find (&self->terms, del, w->len - 1))
                || s_typo_lookup (self, w, h))
                return -VE_NOMEM;
        }
    }
    return 0;
}

static int
s_scratch_reserve (catalog_search_t *self)
{
    uint32_t need = self->ndocs + 64;
    if (s_grow ((void **) &self->cand, &self->cand_cap, need, sizeof *self->cand))
        return -VE_NOMEM;
    float *cs = realloc (self->cscore, (size_t) self->cand_cap * sizeof *cs);
    if (!cs)
        return -VE_NOMEM;
    self->cscore = cs;
    uint64_t *cf = realloc (self->cfac, (size_t) self->cand_cap * sizeof *cf);
    if (!cf)
        return -VE_NOMEM;
    self->cfac = cf;
    int64_t *ck = realloc (self->ckey, (size_t) self->cand_cap * sizeof *ck);
    if (!ck)
        return -VE_NOMEM;
    self->ckey = ck;
    uint16_t *cu = realloc (self->csub, (size_t) self->cand_cap * sizeof *cu);
    if (!cu)
        return -VE_NOMEM;
    self->csub = cu;
    if (need <= self->scratch_cap)
        return 0;
    float *acc = realloc (self->acc, (size_t) need * sizeof *acc);
    if (!acc)
        return -VE_NOMEM;
    self->acc = acc;
    size_t old_words = self->scratch_cap / 64, words = need / 64 + 1;
    uint64_t *mark = realloc (self->mark, words * sizeof *mark);
    if (!mark)
        return -VE_NOMEM;
    memset (mark + old_words, 0, (words - old_words) * sizeof *mark);
    self->mark = mark;
    self->scratch_cap = (uint32_t) (words * 64 - 64);
    return 0;
}

//  Scatters a word's postings within [lo, hi] into mark (and its best score into acc).
static void
s_scatter (catalog_search_t *self, const s_word_t *w, uint32_t lo, uint32_t hi, bool score)
{
    uint64_t *mark = self->mark;
    float *acc = self->acc;
    for (uint32_t i = 0; i < w->nalts; i++) {
        const s_alt_t *a = &self->alts[w->alt0 + i];
        const s_term_t *t = &self->term[a->term];
        uint32_t j = 0;
        if (lo > 0) {  //  binary search for the first posting >= lo
            uint32_t l = 0, h = t->len;
            while (l < h) {
                uint32_t mid = l + (h - l) / 2;
                if (t->docs[mid] < lo)
                    l = mid + 1;
                else
                    h = mid;
            }
            j = l;
        }
        if (!score) {
            for (; j < t->len && t->docs[j] <= hi; j++)
                mark[t->docs[j] >> 6] |= 1ull << (t->docs[j] & 63);
            continue;
        }
        for (; j < t->len && t->docs[j] <= hi; j++) {
            uint32_t d = t->docs[j];
            if (j + AHEAD < t->len)
                __builtin_prefetch (&acc[t->docs[j + AHEAD]]);
            float c = s_score (self, a, t->tfs[j], t->lens[j]);
            uint64_t bit = 1ull << (d & 63);
            if (!(mark[d >> 6] & bit)) {
                mark[d >> 6] |= bit;
                acc[d] = c;
            }
            else if (c > acc[d])
                acc[d] = c;
        }
    }
}

//  The first word: its products that pass the filters become the candidates.
static uint32_t
s_drive (catalog_search_t *self, const s_word_t *w, const s_filter_t *f, bool score)
{
    uint32_t n = 0;
    if (w->nalts == 1) {
        const s_alt_t *a = &self->alts[w->alt0];
        const s_term_t *t = &self->term[a->term];
        for (uint32_t j = 0; j < t->len; j++) {
            uint32_t d = t->docs[j];
            if (f->row && j + AHEAD < t->len)
                __builtin_prefetch (&self->row[t->docs[j + AHEAD]]);
            if (!s_pass (self, f, d))
                continue;
            if (self->stash)
                s_stash (self, f, n, d);
            self->cand[n] = d;
            self->cfac[n] = t->facs[j];
            self->cscore[n++] = score ? s_score (self, a, t->tfs[j], t->lens[j]) : 0;
        }
        return n;
    }
    //  Several alternatives: their union in the bitset, read back in order, then filtered.
    s_scatter (self, w, 0, UINT32_MAX, score);
    uint32_t words = (self->ndocs + 63) / 64, m = 0;
    for (uint32_t wi = 0; wi < words; wi++) {
        uint64_t bits = self->mark[wi];
        if (!bits)
            continue;
        self->mark[wi] = 0;
        while (bits) {
            self->cand[m++] = wi * 64 + (uint32_t) __builtin_ctzll (bits);
            bits &= bits - 1;
        }
    }
    for (uint32_t c = 0; c < m; c++) {
        uint32_t d = self->cand[c];
        if (c + AHEAD < m) {
            if (f->row)
                __builtin_prefetch (&self->row[self->cand[c + AHEAD]]);
            __builtin_prefetch (&self->fac[self->cand[c + AHEAD]]);
        }
        if (!s_pass (self, f, d))
            continue;
        if (self->stash)
            s_stash (self, f, n, d);
        self->cand[n] = d;
        self->cfac[n] = self->fac[d];
        self->cscore[n++] = score ? self->acc[d] : 0;
    }
    return n;
}

//  First index i >= lo with a[i] >= x (or n): gallops, then bisects.
static inline uint32_t
s_gallop (const uint32_t *a, uint32_t lo, uint32_t n, uint32_t x)
{
    if (lo >= n || a[lo] >= x)
        return lo;
    uint32_t step = 1, prev = lo;
    while (lo + step < n && a[lo + step] < x) {
        prev = lo + step;
        step <<= 1;
    }
    uint32_t hi = lo + step < n ? lo + step : n;
    lo = prev + 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  Keeps the candidates that a further word matches, adding its score. Probes the word's
//  postings per candidate when there are few candidates, else scatters them into the bitset.
static uint32_t
s_refine (catalog_search_t *self, const s_word_t *w, uint32_t n, bool score)
{
    if (n == 0)
        return 0;
    uint32_t lo = self->cand[0], hi = self->cand[n - 1];
    double probe = 0, scatter = (double) (hi - lo) / 64 / 8 + n;
    for (uint32_t i = 0; i < w->nalts; i++) {
        double m = self->term[self->alts[w->alt0 + i].term].len;
        probe += n * (1 + log2 (1 + m / n));
        scatter += m * (double) (hi - lo + 1) / (double) (self->ndocs + 1);
    }
    uint32_t k = 0;
    if (probe <= scatter) {
        for (uint32_t i = 0; i < w->nalts; i++)
            self->alts[w->alt0 + i].pos = 0;
        for (uint32_t c = 0; c < n; c++) {
            uint32_t d = self->cand[c];
            float best = -1;
            for (uint32_t i = 0; i < w->nalts; i++) {
                s_alt_t *a = &self->alts[w->alt0 + i];
                const s_term_t *t = &self->term[a->term];
                a->pos = s_gallop (t->docs, a->pos, t->len, d);
                if (a->pos < t->len && t->docs[a->pos] == d) {
                    float s = score ? s_score (self, a, t->tfs[a->pos], t->lens[a->pos]) : 0;
                    if (s > best)
                        best = s;
                }
            }
            if (best >= 0) {
                if (self->stash) {
                    self->ckey[k] = self->ckey[c];
                    self->csub[k] = self->csub[c];
                }
                self->cand[k] = d;
                self->cfac[k] = self->cfac[c];
                self->cscore[k++] = self->cscore[c] + best;
            }
        }
        return k;
    }
    s_scatter (self, w, lo, hi, score);
    for (uint32_t c = 0; c < n; c++) {
        uint32_t d = self->cand[c];
        if (s_bit (self->mark, d)) {
            if (self->stash) {
                self->ckey[k] = self->ckey[c];
                self->csub[k] = self->csub[c];
            }
            self->cand[k] = d;
            self->cfac[k] = self->cfac[c];
            self->cscore[k++] = self->cscore[c] + (score ? self->acc[d] : 0);
        }
    }
    memset (self->mark + lo / 64, 0, (hi / 64 - lo / 64 + 1) * sizeof *self->mark);
    return k;
}

static int
s_facet_cmp (const void *a, const void *b)
{
    const catalog_facet_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp (x->name, y->name);
}

static inline bool
s_worse (const s_top_t *a, const s_top_t *b)
{
    return a->key < b->key || (a->key == b->key && a->doc > b->doc);
}

static int
s_top_cmp (const void *a, const void *b)
{
    return s_worse (a, b) ? 1 : s_worse (b, a) ? -1 : 0;
}

static void
s_sift_down (s_top_t *h, uint32_t len, uint32_t i)
{
    s_top_t x = h[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= len)
            break;
        if (c + 1 < len && s_worse (&h[c + 1], &h[c]))
            c++;
        if (!s_worse (&h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

//  One pass over all n candidates: exact facet counts into *out and the best k by the sort
//  into self->top (best first). Each candidate's row is read once, fetched ahead.
static int
s_collect (catalog_search_t *self, uint32_t n, const s_filter_t *browse, uint32_t *ntotal,
           uint32_t sub_parent, catalog_sort_t sort, uint32_t k, uint32_t *ntop,
           catalog_result_t *out)
{
    if (s_grow ((void **) &self->count_node, &self->count_node_cap, self->cats.n + 1, 4)
        || s_grow ((void **) &self->count_brand, &self->count_brand_cap, self->brands.n + 1, 4)
        || s_grow ((void **) &self->facets, &self->facets_cap, self->cats.n + self->brands.n + 1,
                   sizeof *self->facets))
        return -VE_NOMEM;
    uint32_t *cn = self->count_node, *cb = self->count_brand;
    memset (cn, 0, self->cats.n * sizeof *cn);
    memset (cb, 0, self->brands.n * sizeof *cb);
    uint32_t price[CATALOG_PRICE_BUCKETS] = { 0 };
    uint32_t sub_level = sub_parent != NONE ? self->node[sub_parent].depth + 1 : 0;
    bool sub = sub_parent != NONE && sub_level < CATALOG_MAX_DEPTH;
    if (!sub)
        sub_level = 0;
    s_top_t *h = self->top;
    uint32_t len = 0;
    //  Counts one match and offers it to the heap.
#define TAKE_(d_, fac_, subnode_, key_, score_)                                                    \
    do {                                                                                           \
        uint64_t fac = (fac_);                                                                     \
        uint16_t cat0 = FAC_CAT0 (fac), subnode = (subnode_);                                      \
        uint32_t brand = FAC_BRAND (fac);                                                          \
        if (cat0 != NONE16)                                                                        \
            cn[cat0]++;                                                                            \
        if (subnode != NONE16)                                                                     \
            cn[subnode]++;                                                                         \
        if (brand != NONE)                                                                         \
            cb[brand]++;                                                                           \
        price[FAC_BUCKET (fac)]++;                                                                 \
        s_top_t e = { (key_), (d_), (score_) };                                                    \
        if (len < k) {                                                                             \
            uint32_t i = len++; /*  sift up */                                                     \
            while (i > 0 && s_worse (&e, &h[(i - 1) / 2])) {                                       \
                h[i] = h[(i - 1) / 2];                                                             \
                i = (i - 1) / 2;                                                                   \
            }                                                                                      \
            h[i] = e;                                                                              \
        }                                                                                          \
        else if (s_worse (&h[0], &e)) {                                                            \
            h[0] = e;                                                                              \
            s_sift_down (h, len, 0);                                                               \
        }                                                                                          \
    } while (0)
    if (browse) {
        //  No text: walk the filter's list (or every ordinal) and count as we go, without
        //  building the candidate arrays.
        const uint32_t *list = NULL;
        uint32_t blen = self->ndocs, total = 0;
        s_filter_t fl = *browse, *f = &fl;  //  the list walked needs no check of its own filter
        if (f->cat_node != NONE) {
            list = self->node[f->cat_node].docs.v;
            blen = self->node[f->cat_node].docs.len;
            fl.cat_node = NONE;
        }
        else if (f->brand != NONE) {
            list = self->brand_docs[f->brand].v;
            blen = self->brand_docs[f->brand].len;
            fl.brand = NONE;
        }
        fl.row =
            fl.pmin != INT64_MIN || fl.pmax != INT64_MAX || fl.cat_node != NONE || fl.brand != NONE;
        for (uint32_t i = 0; i < blen; i++) {
            uint32_t d = list ? list[i] : i;
            if (list && i + AHEAD < blen) {
                __builtin_prefetch (&self->row[list[i + AHEAD]]);
                __builtin_prefetch (&self->fac[list[i + AHEAD]]);
            }
            if (!s_pass (self, f, d))
                continue;
            const s_row_t *row = &self->row[d];
            total++;
            TAKE_ (d, self->fac[d], sub ? row->cat[sub_level] : NONE16, s_row_key (row, sort), 0);
        }
        *ntotal = total;
    }
    //  The facet word comes with the candidate; the row is read only for the level below the
    //  filtered category or a sort key other than the score (unless the filter kept them).
    else if (sort == CATALOG_SORT_RELEVANCE && !sub)
        for (uint32_t c = 0; c < n; c++)
            TAKE_ (self->cand[c], self->cfac[c], NONE16, s_float_key (self->cscore[c]),
                   self->cscore[c]);
    else if (self->stash)
        for (uint32_t c = 0; c < n; c++)
            TAKE_ (self->cand[c], self->cfac[c], sub ? self->csub[c] : NONE16,
                   sort == CATALOG_SORT_RELEVANCE ? s_float_key (self->cscore[c]) : self->ckey[c],
                   self->cscore[c]);
    else
        for (uint32_t c = 0; c < n; c++) {
            if (c + AHEAD < n)
                __builtin_prefetch (&self->row[self->cand[c + AHEAD]]);
            const s_row_t *row = &self->row[self->cand[c]];
            TAKE_ (self->cand[c], self->cfac[c], sub ? row->cat[sub_level] : NONE16,
                   sort == CATALOG_SORT_RELEVANCE ? s_float_key (self->cscore[c])
                                                  : s_row_key (row, sort),
                   self->cscore[c]);
        }
#undef TAKE_
    qsort (h, len, sizeof *h, s_top_cmp);
    *ntop = len;

    catalog_facet_t *fc = self->facets;
    uint32_t nf = 0;
    out->categories = fc;
    for (uint32_t id = 0; id < self->cats.n; id++)
        if (cn[id] && self->node[id].depth == 0)
            fc[nf++] = (catalog_facet_t) { s_dict_str (&self->cats, id), cn[id] };
    out->ncategories = nf;
    qsort (fc, nf, sizeof *fc, s_facet_cmp);
    out->subcategories = fc + nf;
    uint32_t nf0 = nf;
    for (uint32_t id = 0; sub && id < self->cats.n; id++)
        if (cn[id] && self->node[id].parent == sub_parent)
            fc[nf++] = (catalog_facet_t) { s_dict_str (&self->cats, id), cn[id] };
    out->nsubcategories = nf - nf0;
    qsort (fc + nf0, nf - nf0, sizeof *fc, s_facet_cmp);
    out->brands = fc + nf;
    nf0 = nf;
    for (uint32_t id = 0; id < self->brands.n; id++)
        if (cb[id])
            fc[nf++] = (catalog_facet_t) { s_dict_str (&self->brands, id), cb[id] };
    qsort (fc + nf0, nf - nf0, sizeof *fc, s_facet_cmp);
    out->nbrands = nf - nf0 < CATALOG_FACET_BRANDS ? nf - nf0 : CATALOG_FACET_BRANDS;
    for (unsigned i = 0; i < CATALOG_PRICE_BUCKETS; i++)
        out->prices[i] = (catalog_price_bucket_t) {
            i ? s_price_lo[i] : INT64_MIN,
            i + 1 < CATALOG_PRICE_BUCKETS ? s_price_lo[i + 1] - 1 : INT64_MAX, price[i]
        };
    return 0;
}

int
catalog_search_query (catalog_search_t *self, const catalog_query_t *q, catalog_result_t *out)
{
    if (!self || !q || !out)
        return -VE_INVAL;
    memset (out, 0, sizeof *out);
    size_t tlen = q->text ? strnlen (q->text, CATALOG_MAX_QUERY + 1) : 0;
    if (tlen > CATALOG_MAX_QUERY || q->limit > CATALOG_MAX_LIMIT
        || (uint64_t) q->offset + q->limit > CATALOG_MAX_WINDOW)
        return -VE_TOOBIG;
    if (q->limit == 0 || (unsigned) q->sort > CATALOG_SORT_POPULAR
        || (q->price_max != 0 && q->price_min > q->price_max))
        return -VE_INVAL;

    //  Words: tokens of the text, copied into the query scratch.
    s_word_t words[CATALOG_MAX_WORDS];
    uint32_t nwords = 0;
    catalog_search__lexer_t lx;
    char tok[CATALOG_MAX_TOKEN + 1];
    size_t toklen, used = 0;
    catalog_search__lexer_init (&lx, q->text, tlen);
    while ((toklen = catalog_search__next_token (&lx, tok)) > 0) {
        if (nwords == CATALOG_MAX_WORDS)
            return -VE_TOOBIG;
        if (used + toklen + 1 > sizeof self->qtext)
            return -VE_TOOBIG;  //  folding made the text longer than we keep room for
        memcpy (self->qtext + used, tok, toklen + 1);
        words[nwords++] = (s_word_t) { .text = self->qtext + used, .len = (uint32_t) toklen };
        used += toklen + 1;
    }

    if (s_sort_pending (self) || s_scratch_reserve (self))
        return -VE_NOMEM;

    s_filter_t f = { .cat_node = NONE,
                     .brand = NONE,
                     .pmin = q->price_min,
                     .pmax = q->price_max ? q->price_max : INT64_MAX,
                     .stock = q->in_stock_only,
                     .row = true };
    if (q->price_min == 0 && q->price_max == 0)
        f.pmin = INT64_MIN;  //  no price filter at all: negative prices pass too
    bool none = false;
    if (q->category && *q->category) {
        size_t clen = strnlen (q->category, CATALOG_MAX_FIELD);
        f.cat_node = s_dict_find (&self->cats, q->category, clen);
        none |= f.cat_node == NONE;
        if (f.cat_node != NONE)
            f.cat_depth = self->node[f.cat_node].depth;
    }
    if (q->brand && *q->brand) {
        f.brand = s_dict_find (&self->brands, q->brand, strnlen (q->brand, CATALOG_MAX_FIELD));
        none |= f.brand == NONE;
    }

    f.row = f.pmin != INT64_MIN || f.pmax != INT64_MAX || f.cat_node != NONE || f.brand != NONE;
    f.sort = q->sort;
    f.text = nwords > 0;
    if (f.cat_node != NONE && self->node[f.cat_node].depth + 1 < CATALOG_MAX_DEPTH) {
        f.sub = true;
        f.sub_level = self->node[f.cat_node].depth + 1;
    }
    //  When the counting pass needs the row and a filter reads it anyway, the filter keeps
    //  what counting needs, so that the row is read once.
    self->stash = f.row && (f.sub || q->sort != CATALOG_SORT_RELEVANCE);
    self->nalts = 0;
    uint32_t order[CATALOG_MAX_WORDS];
    for (uint32_t i = 0; i < nwords; i++) {
        if (s_word_alts (self, &words[i], i + 1 == nwords))
            return -VE_NOMEM;
        none |= words[i].nalts == 0;
        order[i] = i;
        //  Rarest word first: it drives, the others only filter its candidates.
        for (uint32_t j = i; j > 0 && words[order[j]].postings < words[order[j - 1]].postings;
             j--) {
            uint32_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    }
    for (uint32_t i = 0; i < nwords; i++) {
        const s_word_t *w = &words[i];
        self->qwords[i] = w->text;
        if (w->exact == NONE && w->typo_best != NONE) {
            self->qwords[i] = s_dict_str (&self->terms, w->typo_best);
            out->corrected = true;
        }
    }
    out->words = self->qwords;
    out->nwords = nwords;

    bool score = nwords > 0 && q->sort == CATALOG_SORT_RELEVANCE;
    bool browse = false;
    uint32_t n = 0;
    if (!none) {
        if (score)
            s_prepare_scoring (self);
        if (nwords == 0)
            browse = true;
        else {
            n = s_drive (self, &words[order[0]], &f, score);
            for (uint32_t i = 1; i < nwords && n > 0; i++)
                n = s_refine (self, &words[order[i]], n, score);
        }
    }
    uint32_t ntop;
    if (s_collect (self, n, browse ? &f : NULL, &n, f.cat_node, q->sort, q->offset + q->limit,
                   &ntop, out))
        return -VE_NOMEM;
    out->total = n;
    for (uint32_t i = q->offset; i < ntop; i++) {
        const s_top_t *e = &self->top[i];
        self->hits[i - q->offset] =
            (catalog_hit_t) { s_dict_str (&self->keys, self->doc_key[e->doc]),
                              score ? e->score : 0 };
    }
    out->hits = self->hits;
    out->nhits = ntop > q->offset ? ntop - q->offset : 0;
    return 0;
}
