//  catalog_search_internal.h — what the files of the search index share (not a public API):
//  the index's layout (struct catalog_search_s and the types it holds) and the helpers of its
//  three parts. catalog_search.c keeps products (put, remove, compaction); catalog_search_dict.c
//  the dictionaries (interned strings, the terms' byte order, the deletion index for typos);
//  catalog_search_query.c runs queries; catalog_search_text.c is the tokeniser they all use.
#ifndef CATALOG_SEARCH_INTERNAL_H
#define CATALOG_SEARCH_INTERNAL_H

#include <stdbool.h>
#include "vhash.h"
#include <stddef.h>
#include <stdint.h>
#include "catalog_search.h"

//  A cursor over UTF-8 text that yields normalised tokens.
typedef struct {
    const unsigned char *p, *end;
} catalog_search__lexer_t;

static inline void
catalog_search__lexer_init (catalog_search__lexer_t *lx, const char *text, size_t len)
{
    lx->p = (const unsigned char *) text;
    lx->end = lx->p + len;
}

//  Writes the next token that is not a stop word into tok (CATALOG_MAX_TOKEN + 1 bytes,
//  NUL-terminated) and returns its length; 0 at the end of the text.
size_t catalog_search__next_token (catalog_search__lexer_t *lx, char *tok);

//  The same, stop words included: *stop tells whether the token is one. A query keeps a stop
//  word that ends its text as a word being typed ("the" of "thermal").
size_t catalog_search__next_word (catalog_search__lexer_t *lx, char *tok, bool *stop);

//  True when a and b are at most one edit apart (insert, delete, substitute, or swap two
//  neighbouring bytes).
bool catalog_search__within_one (const char *a, size_t la, const char *b, size_t lb);

//  64-bit hash of bytes (FNV-1a with a final mix).
static inline uint64_t
catalog_search__hash (const void *data, size_t len)
{
    uint64_t h = vhash_fnv1a (data, len);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

//  ---------------------------------------------------------------- shared shapes
#define NONE UINT32_MAX  //  no term, product, brand or category (ids and ordinals are uint32_t)

//  The searched fields, in the order of the length bytes and the packed term frequencies.
enum { F_TITLE, F_BRAND, F_ATTR, F_DESC, F_COUNT };

//  Fixed price buckets (minor units): the lower bounds; the last one is open. A product's
//  bucket is computed when it is put, and the facet's ranges come from the same table.
extern const int64_t catalog_search__price_lo[CATALOG_PRICE_BUCKETS];

//  ---------------------------------------------------------------- growable arrays
//  (catalog_search_dict.c)
//  Grows *p (elements of size) to hold at least need elements; *cap is updated.
//  Returns 0 or -VE_NOMEM (then *p and *cap are unchanged).
int catalog_search__grow (void **p, uint32_t *cap, uint32_t need, size_t size);

typedef struct {
    uint32_t *v;
    uint32_t len, cap;
} catalog_search__vec_t;

//  Appends x. Returns 0 or -VE_NOMEM.
int catalog_search__vec_push (catalog_search__vec_t *vec, uint32_t x);

//  ---------------------------------------------------------------- interned strings
//  (catalog_search_dict.c) Strings stored back to back, each with a dense id, found by an
//  open-addressing table.

typedef struct {
    char *chars;
    uint64_t nchars, cchars;
    uint64_t *off;    //  id → offset of its NUL-terminated string
    uint32_t *hash;   //  id → low 32 bits of its hash
    uint32_t *slots;  //  id + 1; 0 = empty
    uint32_t n, cap, mask;
} catalog_search__dict_t;

static inline const char *
catalog_search__dict_str (const catalog_search__dict_t *d, uint32_t id)
{
    return d->chars + d->off[id];
}

static inline uint32_t
catalog_search__dict_len (const catalog_search__dict_t *d, uint32_t id)
{
    return (uint32_t) (d->off[id + 1] - d->off[id] - 1);
}

//  The id of s (len bytes), or NONE.
uint32_t catalog_search__dict_find (const catalog_search__dict_t *d, const char *s, size_t len);
//  Interns s; sets *id (and *created when it is new, unless created is NULL).
//  Returns 0 or -VE_NOMEM.
int catalog_search__dict_intern (catalog_search__dict_t *d, const char *s, size_t len, uint32_t *id,
                                 bool *created);
//  Frees what d holds and zeroes it (it may be used again).
void catalog_search__dict_free (catalog_search__dict_t *d);
//  Bytes of heap d holds.
size_t catalog_search__dict_memory (const catalog_search__dict_t *d);

//  ---------------------------------------------------------------- the index
typedef struct {
    uint32_t *docs;  //  ordinals, ascending (tombstones included until compaction)
    uint16_t *tfs;   //  packed per-field term frequencies, parallel to docs
    uint32_t *lens;  //  the product's field lengths, parallel to docs: scoring a posting
                     //  then reads only the postings, never the product's row
    uint64_t *facs;  //  the product's facet word (see fac_make), parallel to docs: counting facets
                     //  of a one-term match reads only the postings too
    uint32_t len, cap;
    uint32_t df;     //  live products containing the term
    uint32_t ndf;    //  ... in a field that names the product (title, brand, attributes): how
                     //  likely a shopper means it, for weighing completions and typo variants
    uint32_t stamp;  //  the put that last saw it (to aggregate a product's tokens)
    uint32_t local;  //  its slot in that put's scratch
    uint32_t qmark;  //  the query word that last took it as an alternative
    struct catalog_search__pick_s *best;  //  NULL, or its best products for suggest (below)
    uint32_t nbest;                       //  entries in best
} catalog_search__term_t;

//  ---------------------------------------------------------------- suggested products
//  (catalog_search_suggest.c) A product as suggest ranks it among those carrying one term:
//  the term in its title first, then more popular, shorter title, older, smaller id. The pick
//  holds what that order reads, so comparing two costs no row read.
typedef struct catalog_search__pick_s {
    uint32_t doc;
    float popularity;  //  a copy of the row's, kept by catalog_search_set_popularity
    uint32_t age;
    uint8_t titled;  //  the term is in the title
    uint8_t title_len;
} catalog_search__pick_t;

//  A term with SUG_BEST_FROM postings or more keeps its best SUG_BEST live products, in that
//  order, so that suggest reads them instead of walking ~5 % of the catalog. best holds the
//  first nbest of all the term's live products; an entry that leaves (its product removed,
//  replaced or less popular) shortens it rather than being looked for, and suggest walks the
//  postings again only when fewer than CATALOG_SUGGEST_PRODUCTS remain of more.
#define SUG_BEST      8
#define SUG_BEST_FROM 64

//  Takes doc (live or being removed) out of term's best list, if it is there.
void catalog_search__best_drop (catalog_search_t *self, uint32_t term, uint32_t doc);
//  Offers doc (live, counted in the term's df, not in its list, row and columns set; tf from
//  its posting) to term's best list; a term that has just reached SUG_BEST_FROM postings gets
//  its list here (a failed allocation leaves it without one: suggest walks).
void catalog_search__best_offer (catalog_search_t *self, uint32_t term, uint32_t doc,
                                 uint16_t tf);

//  A multimap from the hash of a term with one byte deleted to the term: typo candidates.
typedef struct {
    uint32_t h;
    uint32_t term;
} catalog_search__del_t;

typedef struct {
    uint32_t depth;              //  0 = top level
    uint32_t parent;             //  NONE at the top
    catalog_search__vec_t docs;  //  ordinals in this category or below
} catalog_search__node_t;

//  The packed term frequencies of the fields that name a product (all but the description).
#define TF_NAME_MASK 0x3FFu

//  One alternative of a query word: a term and how it matched.
typedef struct {
    uint32_t term;
    float weight;     //  1 for exact, less for prefix and typo (more for frequent terms)
    float bonus;      //  EXACT_BONUS or 0
    float mul;        //  weight * idf * (k1 + 1), set when the query runs
    uint32_t ref_df;  //  the df its idf is computed from (the word's commonest alternative of
                      //  its kind, so that a rare completion or variant gains nothing by rarity)
    uint8_t kind;     //  ALT_EXACT, ALT_PREFIX or ALT_TYPO
} catalog_search__alt_t;

enum { ALT_EXACT, ALT_PREFIX, ALT_TYPO };

//  What a query reads for every match, in one 32-byte row per ordinal so that filtering,
//  scoring and facet counting cost one cache miss rather than one per column.
typedef struct {
    int64_t price;
    int64_t created;
    float popularity;
    uint32_t brand;                   //  brand id or NONE
    uint16_t cat[CATALOG_MAX_DEPTH];  //  category node per level or NONE16
} catalog_search__row_t;

#define NONE16    0xFFFFu
#define MAX_NODES 0xFFFFu  //  category nodes (paths and their prefixes) an index can hold

//  The facet word of a product: what counting the unfiltered facets needs, in 8 bytes (brand
//  id, top-level category node, price bucket). It never changes for an ordinal, so it is
//  copied into every posting of the product and kept in a column.
static inline uint64_t
catalog_search__fac_make (uint32_t brand, uint16_t cat0, unsigned bucket)
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
} catalog_search__top_t;

struct catalog_search_s {
    //  Terms: dictionary, postings, sorted order for prefixes, deletion index for typos.
    catalog_search__dict_t terms;
    catalog_search__term_t *term;  //  parallel to terms' ids
    uint32_t term_cap;
    uint32_t *sorted;  //  term ids in byte order
    uint32_t nsorted, sorted_cap;
    catalog_search__vec_t pending;  //  new term ids not yet in sorted
    catalog_search__del_t *dels;
    uint32_t ndels, del_mask;

    //  Products: ids, and one column per attribute, indexed by ordinal.
    catalog_search__dict_t keys;    //  product ids
    catalog_search__vec_t key_ord;  //  key id → ordinal, NONE when gone
    uint32_t ndocs;                 //  ordinals handed out
    uint32_t doc_cap;               //  of every per-ordinal column
    uint32_t nalive;
    catalog_search__row_t *row;
    uint64_t *fac;  //  facet word per ordinal (catalog_search__fac_make)
    uint32_t *age;  //  created_ms in seconds (clamped): a dense column for breaking ties, which
                    //  are common among equal scores (the 32-byte row would cost a miss each)
    uint16_t *cat[CATALOG_MAX_DEPTH];  //  per level: the category node (NONE16), as in the row:
    float *pop;                        //  and the popularity: the columns a category filter,
                                       //  the subcategory facet and a browse read, 2 and 4
                                       //  bytes where the row is 32 (a third of the traffic)
    uint32_t *doc_key;
    uint32_t *lens;     //  a byte per field: tokens in it (capped at 255)
    uint64_t *alive;    //  bitset: active and not replaced/removed
    uint64_t *stock;    //  bitset: in stock
    uint64_t *fwd_off;  //  ordinal → start of its term list in fwd (ndocs + 1 entries)
    uint32_t *fwd;      //  term ids of each product, back to back
    uint64_t nfwd, fwd_cap;
    uint64_t len_sum[F_COUNT];  //  over live products, for average field lengths

    //  Facet dictionaries.
    catalog_search__dict_t brands;
    catalog_search__vec_t *brand_docs;  //  per brand: ordinals
    uint32_t brand_cap;
    catalog_search__dict_t cats;
    catalog_search__node_t *node;
    uint32_t node_cap;

    //  Scratch of a put.
    struct {
        uint32_t term;
        uint16_t tf;
    } * local;
    uint32_t local_cap;
    uint32_t put_gen;

    //  Scratch of a query (and its results, borrowed by the caller).
    float *acc;            //  per candidate slot: a further word's best score (s_refine)
    uint64_t *mark;        //  per ordinal: the current word matched
    uint32_t scratch_cap;  //  ordinals acc and mark cover
    uint32_t *cand;
    float *cscore;
    uint64_t *cfac;  //  parallel to cand: the candidate's facet word
    int64_t *ckey;   //  parallel to cand when stash: the sort key read from the row
    uint16_t *csub;  //  parallel to cand when stash: the category node below the filter's
    bool stash;      //  the pass that filters on the row also fills ckey and csub
    uint32_t cand_cap;
    catalog_search__alt_t *alts;
    uint32_t nalts, alts_cap;
    uint32_t qgen;
    catalog_search__top_t *top;  //  the best of the parts, merged
    catalog_hit_t hits[CATALOG_MAX_LIMIT];
    catalog_facet_t *facets;  //  categories, then subcategories, then brands
    uint32_t facets_cap;
    char qtext[CATALOG_MAX_QUERY + CATALOG_MAX_WORDS * 2 + 8];
    const char *qwords[CATALOG_MAX_WORDS];
    float norm[F_COUNT][256];

    //  A query's parts and the thread that runs the second (catalog_search_query.c).
    struct catalog_search__part_s *parts;  //  2, made by the first query
    struct catalog_search__helper_s *helper;
    uint32_t split_min;  //  catalog_search_set_split
    uint64_t splits;     //  queries that ran on two threads

    //  Scratch of a suggestion (catalog_search_suggest.c), borrowed by the caller.
    struct catalog_search__sug_s {
        uint32_t term;
        uint32_t plen;  //  bytes of the term the shopper's last word matched
        uint32_t count;
        bool corrected;
    } * sug_cand;
    uint32_t sug_ncand, sug_cand_cap;
    uint32_t sug_sample[CATALOG_SUGGEST_SAMPLE];
    catalog_completion_t sug[CATALOG_SUGGEST_COMPLETIONS];
    char sug_text[CATALOG_SUGGEST_COMPLETIONS][2 * CATALOG_MAX_QUERY + 64];
    catalog_hit_t sug_hits[CATALOG_SUGGEST_PRODUCTS];
    const char *sug_words[CATALOG_MAX_WORDS + CATALOG_SUGGEST_COMPLETIONS];
    char sug_wtext[2 * CATALOG_MAX_QUERY + CATALOG_SUGGEST_COMPLETIONS * (CATALOG_MAX_TOKEN + 1)];

    //  What shoppers searched (catalog_search_set_searched): normal forms sorted by text, each
    //  NUL-terminated in searched_text, with how often.
    struct catalog_search__searched_s {
        const char *text;  //  in searched_text
        uint32_t len;
        double count;
    } * searched;
    uint32_t nsearched;
    char *searched_text;
};

//  First index i >= lo with a[i] >= x (or n), in a sorted array: gallops from lo, then
//  bisects, so a near answer costs a few probes and a far one a binary search.
static inline uint32_t
catalog_search__gallop (const uint32_t *a, uint32_t lo, uint32_t n, uint32_t x)
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

static inline bool
catalog_search__bit (const uint64_t *set, uint32_t i)
{
    return (set[i >> 6] >> (i & 63)) & 1;
}

static inline void
catalog_search__bit_set (uint64_t *set, uint32_t i, bool on)
{
    if (on)
        set[i >> 6] |= 1ull << (i & 63);
    else
        set[i >> 6] &= ~(1ull << (i & 63));
}

//  ---------------------------------------------------------------- queries
//  (catalog_search_query.c) Stops the query's helper thread and frees the parts.
void catalog_search__query_free (catalog_search_t *self);
//  Bytes of heap the parts hold.
size_t catalog_search__query_memory (const catalog_search_t *self);

//  ---------------------------------------------------------------- the term dictionary
//  (catalog_search_dict.c)

//  A term is typo-tolerant when a query word of 4+ bytes without digits can reach it (words of
//  5+ bytes always, words of 4 when nothing matches without typos); only terms of 4+ bytes need
//  their deletions indexed (shorter ones are found as deletions of the query word itself).
static inline bool
catalog_search__typo_term (const char *s, size_t len)
{
    if (len < 4)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return false;
    return true;
}

//  Interns a token as a term; a new term also goes to the deletion index and the pending list.
//  Returns 0 or -VE_NOMEM.
int catalog_search__term_intern (catalog_search_t *self, const char *tok, size_t len, uint32_t *id);

//  First position in self->sorted whose term is >= s (sorted must be up to date).
uint32_t catalog_search__sorted_lower (const catalog_search_t *self, const char *s);

//  Brings self->sorted up to date with the pending new terms. Returns 0 or -VE_NOMEM.
int catalog_search__sort_pending (catalog_search_t *self);

#endif
