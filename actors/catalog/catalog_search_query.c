//  catalog_search_query.c — running a query on the search index: each word's alternatives
//  (itself, its completions, its one-typo variants), the rarest word's postings as candidates
//  and the others intersected into them, BM25F scores, then one pass that counts the exact
//  facets and keeps the top of the page.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  //  qsort_r
#endif
#include "catalog_search_internal.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

//  BM25F: per-field weights and the usual constants.
static const float s_field_weight[F_COUNT] = { 3.0f, 2.0f, 1.5f, 1.0f };
#define BM25_K1 1.2f
#define BM25_B  0.75f

//  Score of a word matched exactly rather than through a prefix or a typo: added on top of
//  BM25 (which stays below 40 per word), so more exact words always rank first.
#define EXACT_BONUS   100.0f
#define TYPO_WEIGHT   0.5f
#define PREFIX_WEIGHT 0.4f  //  plus up to 0.4 as the prefix covers more of the term
//  Completions and typo variants are weighed by how often they occur: an alternative's weight
//  is scaled by FREQ_FLOOR + (1 - FREQ_FLOOR) * df / (the df of the word's commonest
//  alternative of the same kind), and all of them take that commonest one's idf. So "smar"
//  shows "smart" before "smartwatch" and "nitted" "fitted" before "knitted" when they are the
//  likelier words, rather than the rarer ones (which plain BM25 idf would favour).
#define FREQ_FLOOR 0.5f

//  A word of the query and where its alternatives are.
typedef struct {
    const char *text;  //  the token (in the query scratch)
    uint32_t len;
    uint32_t alt0, nalts;   //  its alternatives in self->alts
    uint64_t postings;      //  sum of the alternatives' posting lengths
    uint32_t exact;         //  exact term with live products, or NONE
    uint32_t ncompletions;  //  prefix alternatives (terms longer than the word)
    bool last;              //  the last word: its completions match too
    bool stop;              //  a stop word ending the text: matched only as a prefix
    bool typos;             //  its one-edit variants were looked up
} s_word_t;

//  ---------------------------------------------------------------- filters and scores
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
    bool row;    //  a filter on price, brand or category (s_filter_finish)
    bool price;  //  ... on price: the row is read for it
    catalog_sort_t sort;
    bool sub;            //  the facet of the level below the filtered category is counted
    uint32_t sub_level;  //  its level
} s_filter_t;

static void
s_filter_finish (s_filter_t *f)
{
    f->price = f->pmin != INT64_MIN || f->pmax != INT64_MAX;
    f->row = f->price || f->cat_node != NONE || f->brand != NONE;
}

//  Whether a sort key is in the row only (price, created), not in the popularity column.
static inline bool
s_key_in_row (catalog_sort_t sort)
{
    return sort == CATALOG_SORT_PRICE_ASC || sort == CATALOG_SORT_PRICE_DESC
           || sort == CATALOG_SORT_NEWEST;
}

//  Whether a product's row is read anyway, for the price filter or (key) for the sort key: then
//  the category and the popularity come from it too, one miss rather than one per column.
static inline bool
s_in_row (const s_filter_t *f, bool key)
{
    return f->price || (key && s_key_in_row (f->sort));
}

//  The sort key of product d (relevance with text: from the score instead; without text, and
//  popular: the popularity), from its row or its column.
static inline int64_t
s_key (const catalog_search_t *self, uint32_t d, catalog_sort_t sort, bool in_row)
{
    const catalog_search__row_t *row = &self->row[d];
    switch (sort) {
    case CATALOG_SORT_PRICE_ASC: return row->price == INT64_MIN ? INT64_MAX : -row->price;
    case CATALOG_SORT_PRICE_DESC: return row->price;
    case CATALOG_SORT_NEWEST: return row->created;
    default: return s_float_key (in_row ? row->popularity : self->pop[d]);
    }
}

//  The category node of product d at the level below the filtered one, or NONE16.
static inline uint16_t
s_sub (const catalog_search_t *self, const s_filter_t *f, uint32_t d, bool in_row)
{
    if (!f->sub)
        return NONE16;
    return in_row ? self->row[d].cat[f->sub_level] : self->cat[f->sub_level][d];
}

//  Candidate c passed a filter: keep what counting needs of it (a sort key other than the
//  score, the subcategory) while it is in the cache.
static inline void
s_stash (catalog_search_t *self, const s_filter_t *f, uint32_t c, uint32_t d)
{
    bool key = f->sort != CATALOG_SORT_RELEVANCE, in_row = s_in_row (f, key);
    if (key)
        self->ckey[c] = s_key (self, d, f->sort, in_row);
    self->csub[c] = s_sub (self, f, d, in_row);
}

//  How far ahead loops over sparse ordinals prefetch their rows: a match costs a few
//  nanoseconds, a row from memory about a hundred. The helpers that only prefetch are always
//  inlined: a call to a function with no effect but prefetches is dropped by the compiler (it
//  counts them as no effect).
#define AHEAD 48

//  Fetches ahead what counting (or s_stash) reads of product d: its sort key, unless that is
//  the score (key false), and its subcategory.
static inline __attribute__ ((always_inline)) void
s_fetch_count (const catalog_search_t *self, const s_filter_t *f, uint32_t d, bool key)
{
    if (s_in_row (f, key)) {
        __builtin_prefetch (&self->row[d]);
        return;
    }
    if (key)
        __builtin_prefetch (&self->pop[d]);
    if (f->sub)
        __builtin_prefetch (&self->cat[f->sub_level][d]);
}

//  Fetches ahead what s_pass, and s_stash after it (stash), will read of product d.
static inline __attribute__ ((always_inline)) void
s_fetch (const catalog_search_t *self, const s_filter_t *f, uint32_t d, bool stash)
{
    if (f->cat_node != NONE && !f->price)
        __builtin_prefetch (&self->cat[f->cat_depth][d]);
    if (f->price || stash)
        s_fetch_count (self, f, d, stash && f->sort != CATALOG_SORT_RELEVANCE);
}

//  Whether product d, with facet word fac, passes the filter. A brand filter rejects nearly
//  every product, so the brand is checked in the facet word (which the caller has at hand).
//  A price filter reads the row, and the category comes from it then; without one, from the
//  category's column. (The price bucket and the top-level category are in the facet word
//  too, but checking them there first cost more in mispredicted branches than it saved.)
static inline bool
s_pass (const catalog_search_t *self, const s_filter_t *f, uint32_t d, uint64_t fac)
{
    if (!catalog_search__bit (self->alive, d)
        || (f->stock && !catalog_search__bit (self->stock, d)))
        return false;
    if (!f->row)
        return true;
    if (f->brand != NONE && FAC_BRAND (fac) != f->brand)
        return false;
    if (f->price) {
        const catalog_search__row_t *row = &self->row[d];
        return row->price >= f->pmin && row->price <= f->pmax
               && (f->cat_node == NONE || row->cat[f->cat_depth] == f->cat_node);
    }
    return f->cat_node == NONE || self->cat[f->cat_depth][d] == f->cat_node;
}

//  Whether a product with facet word fac is worth fetching ahead for s_pass or s_stash.
static inline bool
s_worth_fetching (const catalog_search_t *self, const s_filter_t *f, uint64_t fac)
{
    return (f->row || self->stash) && (f->brand == NONE || FAC_BRAND (fac) == f->brand);
}

//  BM25F of one posting: field frequencies scaled by the field's length norm, saturated.
static inline float
s_score (const catalog_search_t *self, const catalog_search__alt_t *a, uint16_t tf, uint32_t lens)
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
        catalog_search__alt_t *a = &self->alts[i];
        double df = a->ref_df;
        double idf = log (1.0 + (n - df + 0.5) / (df + 0.5));
        a->mul = (float) (a->weight * idf * (BM25_K1 + 1.0));
    }
}

static int
s_alt_add (catalog_search_t *self, s_word_t *w, uint32_t term, int kind, float weight, float bonus)
{
    catalog_search__term_t *t = &self->term[term];
    if (t->df == 0 || t->qmark == self->qgen)
        return 0;
    t->qmark = self->qgen;
    if (catalog_search__grow ((void **) &self->alts, &self->alts_cap, self->nalts + 1,
                              sizeof *self->alts))
        return -VE_NOMEM;
    self->alts[self->nalts++] = (catalog_search__alt_t) {
        .term = term, .weight = weight, .bonus = bonus, .ref_df = t->df, .kind = (uint8_t) kind
    };
    w->nalts++;
    w->postings += t->len;
    return 0;
}

static int
s_typo_candidate (catalog_search_t *self, s_word_t *w, uint32_t term)
{
    if (term == NONE || term == w->exact || self->term[term].qmark == self->qgen)
        return 0;
    if (!catalog_search__within_one (catalog_search__dict_str (&self->terms, term),
                                     catalog_search__dict_len (&self->terms, term), w->text,
                                     w->len))
        return 0;
    return s_alt_add (self, w, term, ALT_TYPO, TYPO_WEIGHT, 0);
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

//  Whether a word's one-edit variants are looked up. First (relax false) only for a word that
//  is surely misspelt: 5+ letters, no digits, not a word of the catalog and, as the last word,
//  not the beginning of one either (a half-typed "class" is "classic", never "glass"). When
//  that finds nothing, the query runs again with variants for every word of 4+ letters
//  ("weed" finds "tweed", "oak tabel" "table" even though "tabel" might be half-typed).
static bool
s_typo_wanted (const s_word_t *w, bool relax)
{
    if (w->stop || !catalog_search__typo_term (w->text, w->len))
        return false;
    if (relax)
        return true;
    return w->len >= 5 && w->exact == NONE && w->ncompletions == 0;
}

//  Finds a word's alternatives: itself, its completions when it is the last word, its
//  one-edit variants when s_typo_wanted says so; then weighs them by frequency.
static int
s_word_alts (catalog_search_t *self, s_word_t *w, bool relax)
{
    self->qgen++;
    w->alt0 = self->nalts;
    w->nalts = 0;
    w->postings = 0;
    w->ncompletions = 0;
    w->typos = false;
    w->exact = w->stop ? NONE : catalog_search__dict_find (&self->terms, w->text, w->len);
    if (w->exact != NONE && self->term[w->exact].df == 0)
        w->exact = NONE;
    if (w->exact != NONE && s_alt_add (self, w, w->exact, ALT_EXACT, 1.0f, EXACT_BONUS))
        return -VE_NOMEM;
    if (w->last && w->len >= 2) {
        for (uint32_t i = catalog_search__sorted_lower (self, w->text); i < self->nsorted; i++) {
            uint32_t term = self->sorted[i];
            uint32_t tlen = catalog_search__dict_len (&self->terms, term);
            if (tlen < w->len
                || memcmp (catalog_search__dict_str (&self->terms, term), w->text, w->len))
                break;
            float weight = PREFIX_WEIGHT + 0.4f * (float) w->len / (float) tlen;
            uint32_t before = w->nalts;
            if (s_alt_add (self, w, term, ALT_PREFIX, weight, 0))
                return -VE_NOMEM;
            w->ncompletions += w->nalts - before;
        }
    }
    if (s_typo_wanted (w, relax)) {
        w->typos = true;
        char del[CATALOG_MAX_TOKEN];
        if (s_typo_lookup (self, w, (uint32_t) catalog_search__hash (w->text, w->len)))
            return -VE_NOMEM;
        for (uint32_t i = 0; i < w->len; i++) {
            memcpy (del, w->text, i);
            memcpy (del + i, w->text + i + 1, w->len - i - 1);
            uint32_t h = (uint32_t) catalog_search__hash (del, w->len - 1);
            if (s_typo_candidate (self, w,
                                  catalog_search__dict_find (&self->terms, del, w->len - 1))
                || s_typo_lookup (self, w, h))
                return -VE_NOMEM;
        }
    }
    //  Frequency: see FREQ_FLOOR. How often a term names a product (ndf) rather than how
    //  often it occurs at all: "of" means "office" more likely than the descriptions' "off".
    uint32_t top_df[3] = { 0, 0, 0 }, top_ndf[3] = { 0, 0, 0 };
    catalog_search__alt_t *alts = self->alts + w->alt0;
    for (uint32_t i = 0; i < w->nalts; i++) {
        const catalog_search__term_t *t = &self->term[alts[i].term];
        if (t->df > top_df[alts[i].kind])
            top_df[alts[i].kind] = t->df;
        if (t->ndf > top_ndf[alts[i].kind])
            top_ndf[alts[i].kind] = t->ndf;
    }
    for (uint32_t i = 0; i < w->nalts; i++) {
        catalog_search__alt_t *a = &alts[i];
        const catalog_search__term_t *t = &self->term[a->term];
        if (a->kind == ALT_EXACT)
            continue;
        float share = top_ndf[a->kind] ? (float) t->ndf / (float) top_ndf[a->kind]
                                       : (float) t->df / (float) top_df[a->kind];
        a->weight *= FREQ_FLOOR + (1.0f - FREQ_FLOOR) * share;
        a->ref_df = top_df[a->kind];
    }
    return 0;
}

static int
s_scratch_reserve (catalog_search_t *self)
{
    uint32_t need = self->ndocs + 64;
    if (catalog_search__grow ((void **) &self->cand, &self->cand_cap, need, sizeof *self->cand))
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

int
catalog_search_prepare (catalog_search_t *self)
{
    if (catalog_search__sort_pending (self) || s_scratch_reserve (self))
        return -VE_NOMEM;
    //  Written once, so every page is mapped now (the contents are scratch: any value will do,
    //  except mark, which the reserve has cleared and queries leave clear).
    memset (self->cand, 0, (size_t) self->cand_cap * sizeof *self->cand);
    memset (self->cscore, 0, (size_t) self->cand_cap * sizeof *self->cscore);
    memset (self->cfac, 0, (size_t) self->cand_cap * sizeof *self->cfac);
    memset (self->ckey, 0, (size_t) self->cand_cap * sizeof *self->ckey);
    memset (self->csub, 0, (size_t) self->cand_cap * sizeof *self->csub);
    memset (self->acc, 0, (size_t) self->scratch_cap * sizeof *self->acc);
    return 0;
}

//  ---------------------------------------------------------------- parts of a query
//  A large query runs on both cores: the ordinals are split in two ranges at a multiple of 64
//  (so that no word of the mark bitset is shared), and each range is driven, refined, counted
//  and its top kept on its own, one by the caller and one by a helper thread; then the counts
//  are added and the two tops merged. The result is the same as one range gives: counts are
//  sums, and the order of the top is total (s_worse), so the best k of all are among the best
//  k of each range. A range's candidates sit at cand[lo ..] (there are no more of them than
//  ordinals in it) and the per-ordinal scratch (mark, acc) is touched only inside the range,
//  so the two write nothing in common.
typedef struct catalog_search__part_s {
    uint32_t lo, hi;  //  ordinals [lo, hi)
    uint32_t n;       //  candidates (or, browsing, the products counted), at cand[lo ..]
    uint32_t *pos;    //  per alternative: a cursor in its postings (s_drive)
    float *bacc;      //  block scratch (s_drive, s_refine): per ordinal of the block, its best score
    uint64_t *bfac;   //  ... and its facet word (s_drive)
    uint64_t *cmask;  //  ... and whether it is a candidate (s_refine), clear between calls
    uint32_t *cn, *cb;  //  facet counts: per category node, per brand
    uint32_t pos_cap, cn_cap, cb_cap;
    uint32_t price[CATALOG_PRICE_BUCKETS];
    catalog_search__top_t *top;  //  the range's best, sorted
    uint32_t ntop;
} s_part_t;

//  Ordinals a block of s_drive covers: its scratch (12 bytes an ordinal) fits in the cache.
#define BLOCK 32768

//  What both parts run: the words (driving one first), the filter, what to count and keep.
typedef struct {
    const s_word_t *words;
    const uint32_t *order;
    uint32_t nwords;  //  0: nothing matches (or browse)
    const s_filter_t *f;
    bool score, browse;
    uint32_t k;
} s_plan_t;

//  The first word: its products in the part that pass the filters become the candidates.
static uint32_t
s_drive (catalog_search_t *self, const s_part_t *part, const s_word_t *w, const s_filter_t *f,
         bool score)
{
    uint32_t n = 0, lo = part->lo, hi = part->hi;
    uint32_t *cand = self->cand + lo;
    float *cscore = self->cscore + lo;
    uint64_t *cfac = self->cfac + lo;
    if (w->nalts == 1) {
        const catalog_search__alt_t *a = &self->alts[w->alt0];
        const catalog_search__term_t *t = &self->term[a->term];
        for (uint32_t j = catalog_search__gallop (t->docs, 0, t->len, lo);
             j < t->len && t->docs[j] < hi; j++) {
            uint32_t d = t->docs[j];
            if (j + AHEAD < t->len && s_worth_fetching (self, f, t->facs[j + AHEAD]))
                s_fetch (self, f, t->docs[j + AHEAD], self->stash);
            if (!s_pass (self, f, d, t->facs[j]))
                continue;
            if (self->stash)
                s_stash (self, f, lo + n, d);
            cand[n] = d;
            cfac[n] = t->facs[j];
            cscore[n++] = score ? s_score (self, a, t->tfs[j], t->lens[j]) : 0;
        }
        return n;
    }
    //  Several alternatives (a half-typed word's completions, a word's typo variants): their
    //  union, a block of BLOCK ordinals at a time. Each alternative's postings in the block are
    //  scattered into the bitset, with the best score and the facet word (which the postings
    //  carry) into block scratch that stays in the cache; the block's bits are then read back
    //  in order and filtered. Only the postings are read from memory, in order: scattering over
    //  the whole range instead and reading per-ordinal columns back cost 30 ns a match at 10M.
    uint32_t *pos = part->pos;
    float *bacc = part->bacc;
    uint64_t *bfac = part->bfac;
    for (uint32_t i = 0; i < w->nalts; i++) {
        const catalog_search__term_t *t = &self->term[self->alts[w->alt0 + i].term];
        pos[i] = catalog_search__gallop (t->docs, 0, t->len, lo);
    }
    for (uint32_t blo = lo; blo < hi; blo += BLOCK) {
        uint32_t bhi = hi - blo > BLOCK ? blo + BLOCK : hi;
        uint64_t *mark = self->mark + blo / 64;
        bool any = false;
        for (uint32_t i = 0; i < w->nalts; i++) {
            const catalog_search__alt_t *a = &self->alts[w->alt0 + i];
            const catalog_search__term_t *t = &self->term[a->term];
            uint32_t j = pos[i];
            for (; j < t->len && t->docs[j] < bhi; j++) {
                uint32_t x = t->docs[j] - blo;
                float c = score ? s_score (self, a, t->tfs[j], t->lens[j]) : 0;
                uint64_t bit = 1ull << (x & 63);
                if (!(mark[x >> 6] & bit)) {
                    mark[x >> 6] |= bit;
                    bacc[x] = c;
                    bfac[x] = t->facs[j];
                }
                else if (c > bacc[x])
                    bacc[x] = c;
            }
            any |= j > pos[i];
            pos[i] = j;
        }
        if (!any)
            continue;
        //  The block's matches, in order, after the candidates so far; then filtered into place.
        uint32_t m = n;
        for (uint32_t wi = 0; wi < (bhi - blo + 63) / 64; wi++) {
            uint64_t bits = mark[wi];
            if (!bits)
                continue;
            mark[wi] = 0;
            while (bits) {
                uint32_t x = wi * 64 + (uint32_t) __builtin_ctzll (bits);
                cand[m] = blo + x;
                cfac[m] = bfac[x];
                cscore[m++] = bacc[x];
                bits &= bits - 1;
            }
        }
        for (uint32_t c = n, end = m; c < end; c++) {
            uint32_t d = cand[c];
            if (c + AHEAD < end && s_worth_fetching (self, f, cfac[c + AHEAD]))
                s_fetch (self, f, cand[c + AHEAD], self->stash);
            if (!s_pass (self, f, d, cfac[c]))
                continue;
            if (self->stash)
                s_stash (self, f, lo + n, d);
            cand[n] = d;
            cfac[n] = cfac[c];
            cscore[n++] = cscore[c];
        }
    }
    return n;
}

//  Keeps the part's candidates that a further word matches, adding its score. When there are
//  few candidates against the word's postings, intersects them with each alternative in turn,
//  walking the shorter side and galloping in the longer (a rare completion costs a few probes,
//  not one per candidate); else scatters the postings into the bitset.
static uint32_t
s_refine (catalog_search_t *self, s_part_t *part, const s_word_t *w, uint32_t n, bool score)
{
    if (n == 0)
        return 0;
    uint32_t *cand = self->cand + part->lo;
    float *cscore = self->cscore + part->lo;
    uint64_t *cfac = self->cfac + part->lo;
    int64_t *ckey = self->ckey + part->lo;
    uint16_t *csub = self->csub + part->lo;
    uint32_t lo = cand[0], hi = cand[n - 1];
    //  Costs in rough steps: a gallop probe is branchy, a posting scattered is a bit test.
    double probe = 0, scatter = n;
    for (uint32_t i = 0; i < w->nalts; i++) {
        double m = self->term[self->alts[w->alt0 + i].term].len;
        double few = m < n ? m : n, many = m < n ? n : m;
        probe += 2 * few * (1 + log2 (1 + many / few));
        scatter += m * (double) (hi - lo + 1) / (double) (self->ndocs + 1);
    }
    uint32_t k = 0;
    if (probe <= scatter) {
        float *best = self->acc + part->lo;  //  per candidate: the word's best score in it, or -1
        for (uint32_t c = 0; c < n; c++)
            best[c] = -1;
        for (uint32_t i = 0; i < w->nalts; i++) {
            const catalog_search__alt_t *a = &self->alts[w->alt0 + i];
            const catalog_search__term_t *t = &self->term[a->term];
            uint32_t j = catalog_search__gallop (t->docs, 0, t->len, lo), c = 0;
            bool walk_postings = t->len - j < n;
            while (c < n && j < t->len) {
                if (cand[c] < t->docs[j])
                    c = walk_postings ? catalog_search__gallop (cand, c, n, t->docs[j]) : c + 1;
                else if (cand[c] > t->docs[j])
                    j = walk_postings ? j + 1 : catalog_search__gallop (t->docs, j, t->len, cand[c]);
                else {
                    float sc = score ? s_score (self, a, t->tfs[j], t->lens[j]) : 0;
                    if (sc > best[c])
                        best[c] = sc;
                    c++;
                    j++;
                }
            }
        }
        for (uint32_t c = 0; c < n; c++)
            if (best[c] >= 0) {
                if (self->stash) {
                    ckey[k] = ckey[c];
                    csub[k] = csub[c];
                }
                cand[k] = cand[c];
                cfac[k] = cfac[c];
                cscore[k++] = cscore[c] + best[c];
            }
        return k;
    }
    //  Scatter, a block of ordinals at a time from the next candidate on: the block's
    //  candidates into a bitset, then each alternative's postings in the block; a posting on a
    //  candidate is scored and keeps the best score in block scratch. Postings before the block
    //  are skipped by galloping, so sparse candidates skip most of them.
    uint32_t *pos = part->pos;
    uint64_t *cmask = part->cmask, *hit = self->mark;  //  (mark is clear, and the part's own)
    float *bacc = part->bacc;
    for (uint32_t i = 0; i < w->nalts; i++)
        pos[i] = 0;
    for (uint32_t c0 = 0; c0 < n;) {
        uint32_t blo = cand[c0] & ~63u, bhi = blo + BLOCK < blo ? UINT32_MAX : blo + BLOCK, c1 = c0;
        for (; c1 < n && cand[c1] < bhi; c1++)
            cmask[(cand[c1] - blo) >> 6] |= 1ull << ((cand[c1] - blo) & 63);
        uint64_t *bhit = hit + blo / 64;
        for (uint32_t i = 0; i < w->nalts; i++) {
            const catalog_search__alt_t *a = &self->alts[w->alt0 + i];
            const catalog_search__term_t *t = &self->term[a->term];
            uint32_t j = catalog_search__gallop (t->docs, pos[i], t->len, blo);
            for (; j < t->len && t->docs[j] < bhi; j++) {
                uint32_t x = t->docs[j] - blo;
                uint64_t bit = 1ull << (x & 63);
                if (!(cmask[x >> 6] & bit))
                    continue;
                float sc = score ? s_score (self, a, t->tfs[j], t->lens[j]) : 0;
                if (!(bhit[x >> 6] & bit)) {
                    bhit[x >> 6] |= bit;
                    bacc[x] = sc;
                }
                else if (sc > bacc[x])
                    bacc[x] = sc;
            }
            pos[i] = j;
        }
        size_t words = ((cand[c1 - 1] - blo) >> 6) + 1;  //  (before the candidates move)
        for (uint32_t c = c0; c < c1; c++) {
            uint32_t x = cand[c] - blo;
            if (bhit[x >> 6] & (1ull << (x & 63))) {
                if (self->stash) {
                    ckey[k] = ckey[c];
                    csub[k] = csub[c];
                }
                cand[k] = cand[c];
                cfac[k] = cfac[c];
                cscore[k++] = cscore[c] + bacc[x];
            }
        }
        memset (cmask, 0, words * sizeof *cmask);
        memset (bhit, 0, words * sizeof *bhit);
        c0 = c1;
    }
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

//  Equal keys: the older product first (created_ms), then the smaller id. Both belong to the
//  product, not to where it sits in the index, so the writer, a replica and a restarted catalog
//  (which put the products in another order) rank alike. Read only on a tie, from the dense
//  age column first.
static bool __attribute__ ((noinline))
s_tie_worse (const catalog_search_t *self, uint32_t a, uint32_t b)
{
    if (a == b)
        return false;
    if (self->age[a] != self->age[b])
        return self->age[a] > self->age[b];
    int64_t ca = self->row[a].created, cb = self->row[b].created;
    if (ca != cb)
        return ca > cb;
    return strcmp (catalog_search__dict_str (&self->keys, self->doc_key[a]),
                   catalog_search__dict_str (&self->keys, self->doc_key[b]))
           > 0;
}

static inline bool
s_worse (const catalog_search_t *self, const catalog_search__top_t *a,
         const catalog_search__top_t *b)
{
    return a->key < b->key || (a->key == b->key && s_tie_worse (self, a->doc, b->doc));
}

static int
s_top_cmp (const void *a, const void *b, void *self)
{
    return s_worse (self, a, b) ? 1 : s_worse (self, b, a) ? -1 : 0;
}

static void
s_sift_down (const catalog_search_t *self, catalog_search__top_t *h, uint32_t len, uint32_t i)
{
    catalog_search__top_t x = h[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= len)
            break;
        if (c + 1 < len && s_worse (self, &h[c + 1], &h[c]))
            c++;
        if (!s_worse (self, &h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

//  One pass over a part's candidates: exact facet counts and the best k by the sort into the
//  part (best first); s_facets then adds the parts up. What each candidate needs beyond its
//  facet word is read once, fetched ahead.
//
//  Why it is shaped like this: facets are exact over every match, not over the page, so this
//  loop runs once per match (thousands per query) while everything else runs once per hit.
//  Reading each match's 32-byte row at random was over half of a query's time (commit
//  8226753: p99 12.0 -> 5.7 ms at 1M products), so the row is avoided where it can be:
//  - the facet word (brand, top category, price bucket: catalog_search__fac_make) travels with each
//    posting into cfac, so the common case (relevance, no category filter) reads no row;
//  - when a filter already read the row, it stashed the sort key and the subcategory node
//    (s_stash, ckey/csub) and this pass reads those instead;
//  - otherwise the row is read here, once, prefetched AHEAD candidates in advance.
//  The four loops differ only in where the key and the subcategory come from; TAKE_ is a
//  macro so that each loop has its own copy, with no per-match test of which case it is in.
//  The top k is a bounded heap with the worst at the root (k <= CATALOG_MAX_WINDOW), sorted
//  once at the end: n log k rather than sorting every match. Browsing (no text) walks the
//  filter's own list (a category's or brand's ordinals, else every ordinal) and counts as it
//  goes, without building candidate arrays it would read only once.
static void
s_count (catalog_search_t *self, s_part_t *part, const s_filter_t *f, bool browse, uint32_t k)
{
    uint32_t *cn = part->cn, *cb = part->cb, *price = part->price, n = part->n;
    uint32_t *cand = self->cand + part->lo;
    const float *cscore = self->cscore + part->lo;
    const uint64_t *cfac = self->cfac + part->lo;
    const int64_t *ckey = self->ckey + part->lo;
    const uint16_t *csub = self->csub + part->lo;
    memset (cn, 0, self->cats.n * sizeof *cn);
    memset (cb, 0, self->brands.n * sizeof *cb);
    memset (price, 0, sizeof part->price);
    catalog_sort_t sort = f->sort;
    bool sub = f->sub, key = sort != CATALOG_SORT_RELEVANCE;
    catalog_search__top_t *h = part->top;
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
        catalog_search__top_t e = { (key_), (d_), (score_) };                                      \
        if (len < k) {                                                                             \
            uint32_t i = len++; /*  sift up */                                                     \
            while (i > 0 && s_worse (self, &e, &h[(i - 1) / 2])) {                                 \
                h[i] = h[(i - 1) / 2];                                                             \
                i = (i - 1) / 2;                                                                   \
            }                                                                                      \
            h[i] = e;                                                                              \
        }                                                                                          \
        else if (s_worse (self, &h[0], &e)) {                                                      \
            h[0] = e;                                                                              \
            s_sift_down (self, h, len, 0);                                                         \
        }                                                                                          \
    } while (0)
    if (browse) {
        //  No text: walk the filter's list (or every ordinal) and count as we go, without
        //  building the candidate arrays.
        const uint32_t *list = NULL;
        uint32_t blen = self->ndocs, total = 0;
        s_filter_t fl = *f;  //  the list walked needs no check of its own filter
        if (fl.cat_node != NONE) {
            list = self->node[fl.cat_node].docs.v;
            blen = self->node[fl.cat_node].docs.len;
            fl.cat_node = NONE;
        }
        else if (fl.brand != NONE) {
            list = self->brand_docs[fl.brand].v;
            blen = self->brand_docs[fl.brand].len;
            fl.brand = NONE;
        }
        s_filter_finish (&fl);
        //  The part's stretch of the list: the ordinals in [lo, hi).
        uint32_t i = list ? catalog_search__gallop (list, 0, blen, part->lo) : part->lo;
        uint32_t end = list ? catalog_search__gallop (list, i, blen, part->hi) : part->hi;
        bool in_row = s_in_row (&fl, true);
        for (; i < end; i++) {
            uint32_t d = list ? list[i] : i;
            if (list && i + AHEAD < end) {
                __builtin_prefetch (&self->fac[list[i + AHEAD]]);
                s_fetch (self, &fl, list[i + AHEAD], false);
                s_fetch_count (self, &fl, list[i + AHEAD], true);
            }
            if (!s_pass (self, &fl, d, self->fac[d]))
                continue;
            total++;
            TAKE_ (d, self->fac[d], s_sub (self, &fl, d, in_row), s_key (self, d, sort, in_row), 0);
        }
        part->n = total;
    }
    //  The facet word comes with the candidate; the columns are read only for the level below
    //  the filtered category or a sort key other than the score (unless the filter kept them).
    else if (!key && !sub)
        for (uint32_t c = 0; c < n; c++)
            TAKE_ (cand[c], cfac[c], NONE16, s_float_key (cscore[c]), cscore[c]);
    else if (self->stash)
        for (uint32_t c = 0; c < n; c++)
            TAKE_ (cand[c], cfac[c], sub ? csub[c] : NONE16, key ? ckey[c] : s_float_key (cscore[c]),
                   cscore[c]);
    else {
        bool in_row = s_in_row (f, key);
        for (uint32_t c = 0; c < n; c++) {
            if (c + AHEAD < n)
                s_fetch_count (self, f, cand[c + AHEAD], key);
            TAKE_ (cand[c], cfac[c], s_sub (self, f, cand[c], in_row),
                   key ? s_key (self, cand[c], sort, in_row) : s_float_key (cscore[c]), cscore[c]);
        }
    }
#undef TAKE_
    qsort_r (h, len, sizeof *h, s_top_cmp, self);
    part->ntop = len;
}

//  Adds the parts' counts up into *out, and merges their tops into self->top (the best k,
//  best first; *ntop of them).
static void
s_facets (catalog_search_t *self, s_part_t *parts, uint32_t nparts, const s_filter_t *f,
          uint32_t k, uint32_t *ntop, catalog_result_t *out)
{
    uint32_t *cn = parts[0].cn, *cb = parts[0].cb, *price = parts[0].price;
    for (uint32_t p = 1; p < nparts; p++) {
        for (uint32_t id = 0; id < self->cats.n; id++)
            cn[id] += parts[p].cn[id];
        for (uint32_t id = 0; id < self->brands.n; id++)
            cb[id] += parts[p].cb[id];
        for (unsigned i = 0; i < CATALOG_PRICE_BUCKETS; i++)
            price[i] += parts[p].price[i];
    }
    //  The tops: each is sorted, so merging them in order and stopping at k keeps the best k.
    uint32_t at[2] = { 0, 0 }, len = 0;
    while (len < k) {
        uint32_t p = nparts;
        for (uint32_t q = 0; q < nparts; q++)
            if (at[q] < parts[q].ntop
                && (p == nparts || s_worse (self, &parts[p].top[at[p]], &parts[q].top[at[q]])))
                p = q;
        if (p == nparts)
            break;
        self->top[len++] = parts[p].top[at[p]++];
    }
    *ntop = len;

    catalog_facet_t *fc = self->facets;
    uint32_t nf = 0;
    out->categories = fc;
    for (uint32_t id = 0; id < self->cats.n; id++)
        if (cn[id] && self->node[id].depth == 0)
            fc[nf++] = (catalog_facet_t) { catalog_search__dict_str (&self->cats, id), cn[id] };
    out->ncategories = nf;
    qsort (fc, nf, sizeof *fc, s_facet_cmp);
    out->subcategories = fc + nf;
    uint32_t nf0 = nf;
    for (uint32_t id = 0; f->sub && id < self->cats.n; id++)
        if (cn[id] && self->node[id].parent == f->cat_node)
            fc[nf++] = (catalog_facet_t) { catalog_search__dict_str (&self->cats, id), cn[id] };
    out->nsubcategories = nf - nf0;
    qsort (fc + nf0, nf - nf0, sizeof *fc, s_facet_cmp);
    out->brands = fc + nf;
    nf0 = nf;
    for (uint32_t id = 0; id < self->brands.n; id++)
        if (cb[id])
            fc[nf++] = (catalog_facet_t) { catalog_search__dict_str (&self->brands, id), cb[id] };
    qsort (fc + nf0, nf - nf0, sizeof *fc, s_facet_cmp);
    out->nbrands = nf - nf0 < CATALOG_FACET_BRANDS ? nf - nf0 : CATALOG_FACET_BRANDS;
    out->brands_left_out = nf - nf0 - out->nbrands;
    for (unsigned i = 0; i < CATALOG_PRICE_BUCKETS; i++)
        out->prices[i] = (catalog_price_bucket_t) { i ? catalog_search__price_lo[i] : INT64_MIN,
                                                    i + 1 < CATALOG_PRICE_BUCKETS
                                                        ? catalog_search__price_lo[i + 1] - 1
                                                        : INT64_MAX,
                                                    price[i] };
}

//  A half-typed last word may mean any of its completions ("luna": Lunastudio, Lunawear …), and
//  ranking by score alone can fill the first page with one of them. So the DIVERSE_N commonest
//  completions (by ndf) each show on the first page: one that names none of the first
//  DIVERSE_KEEP hits brings its best product that it names in right after them (those products in score order), and the hits
//  they displace follow. The order depends on the whole result set, not on the page asked for,
//  so pages stay consistent; the first hits, and so precision at the top, do not change.
#define DIVERSE_PAGE 20
#define DIVERSE_N    6
#define DIVERSE_KEEP (DIVERSE_PAGE - DIVERSE_N)

//  Whether term names product d (is in its title, brand or attributes).
static bool
s_names (const catalog_search_t *self, uint32_t term, uint32_t d)
{
    const catalog_search__term_t *t = &self->term[term];
    uint32_t j = catalog_search__gallop (t->docs, 0, t->len, d);
    return j < t->len && t->docs[j] == d && (t->tfs[j] & TF_NAME_MASK);
}

//  Offers to *best the candidates of a part that term names.
static void
s_best_named (const catalog_search_t *self, const s_part_t *part, uint32_t term,
              catalog_search__top_t *best)
{
    //  Walk the shorter of its postings and the candidates.
    const catalog_search__term_t *t = &self->term[term];
    const uint32_t *cand = self->cand + part->lo;
    const float *cscore = self->cscore + part->lo;
    uint32_t n = part->n, c = 0, j = catalog_search__gallop (t->docs, 0, t->len, part->lo);
    while (c < n && j < t->len) {
        if (cand[c] < t->docs[j])
            c = t->len < n ? c + 1 : catalog_search__gallop (cand, c, n, t->docs[j]);
        else if (cand[c] > t->docs[j])
            j = t->len < n ? catalog_search__gallop (t->docs, j, t->len, cand[c]) : j + 1;
        else {
            catalog_search__top_t e = { s_float_key (cscore[c]), cand[c], cscore[c] };
            if ((t->tfs[j] & TF_NAME_MASK) && (best->doc == NONE || s_worse (self, best, &e)))
                *best = e;
            c++;
            j++;
        }
    }
}

//  Reorders self->top (ntop entries, sorted) as described above; n candidates in all, in the
//  parts.
static void
s_diversify (catalog_search_t *self, const s_word_t *w, const s_part_t *parts, uint32_t nparts,
             uint32_t n, uint32_t *ntop, uint32_t k)
{
    if (n <= DIVERSE_PAGE || *ntop < DIVERSE_PAGE)
        return;
    //  The commonest completions that name products (ties: the smaller term id).
    uint32_t pick[DIVERSE_N + 1], npick = 0;
    for (uint32_t i = 0; i < w->nalts; i++) {
        const catalog_search__alt_t *a = &self->alts[w->alt0 + i];
        uint32_t ndf = self->term[a->term].ndf;
        if (a->kind != ALT_PREFIX || ndf == 0)
            continue;
        uint32_t j = npick++;
        while (j > 0
               && (self->term[pick[j - 1]].ndf < ndf
                   || (self->term[pick[j - 1]].ndf == ndf && pick[j - 1] > a->term))) {
            pick[j] = pick[j - 1];
            j--;
        }
        pick[j] = a->term;
        if (npick > DIVERSE_N)
            npick = DIVERSE_N;
    }
    catalog_search__top_t extra[DIVERSE_N];
    uint32_t m = 0;

    for (uint32_t p = 0; p < npick; p++) {
        bool shown = false;
        for (uint32_t i = 0; i < DIVERSE_KEEP && !shown; i++)
            shown = s_names (self, pick[p], self->top[i].doc);
        if (shown)
            continue;
        catalog_search__top_t best = { INT64_MIN, NONE, 0 };
        for (uint32_t q = 0; q < nparts; q++)
            s_best_named (self, &parts[q], pick[p], &best);
        bool dup = best.doc == NONE;
        for (uint32_t i = 0; i < m && !dup; i++)
            dup = extra[i].doc == best.doc;
        if (!dup)
            extra[m++] = best;
    }
    if (m == 0)
        return;
    qsort_r (extra, m, sizeof *extra, s_top_cmp, self);
    //  The hits after DIVERSE_KEEP without the extras, moved down by m (self->top has room).
    catalog_search__top_t *h = self->top;
    uint32_t len = DIVERSE_KEEP;
    for (uint32_t i = DIVERSE_KEEP; i < *ntop; i++) {
        bool moved = false;
        for (uint32_t x = 0; x < m && !moved; x++)
            moved = extra[x].doc == h[i].doc;
        if (!moved)
            h[len++] = h[i];
    }
    memmove (h + DIVERSE_KEEP + m, h + DIVERSE_KEEP, (len - DIVERSE_KEEP) * sizeof *h);
    memcpy (h + DIVERSE_KEEP, extra, m * sizeof *extra);
    uint32_t out = len + m < k ? len + m : k;
    *ntop = out;
}

//  ---------------------------------------------------------------- the second core
//  A helper thread, started by the first query large enough to split, runs one part of a
//  query while the caller runs the other (see s_part_t). It only reads the index and writes
//  its own part's scratch; the mutex hands the work over and back.
struct catalog_search__helper_s {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    catalog_search_t *self;
    const s_plan_t *plan;  //  the part to run, NULL when none (or done)
    s_part_t *part;
    bool quit;
};

static void
s_part_run (catalog_search_t *self, const s_plan_t *plan, s_part_t *part)
{
    uint32_t n = 0;
    if (!plan->browse && plan->nwords > 0) {
        n = s_drive (self, part, &plan->words[plan->order[0]], plan->f, plan->score);
        for (uint32_t i = 1; i < plan->nwords && n > 0; i++)
            n = s_refine (self, part, &plan->words[plan->order[i]], n, plan->score);
    }
    part->n = n;
    s_count (self, part, plan->f, plan->browse, plan->k);
}

static void *
s_helper_main (void *arg)
{
    struct catalog_search__helper_s *h = arg;
    pthread_mutex_lock (&h->lock);
    for (;;) {
        while (!h->plan && !h->quit)
            pthread_cond_wait (&h->cond, &h->lock);
        if (h->quit)
            break;
        pthread_mutex_unlock (&h->lock);
        s_part_run (h->self, h->plan, h->part);
        pthread_mutex_lock (&h->lock);
        h->plan = NULL;
        pthread_cond_broadcast (&h->cond);
    }
    pthread_mutex_unlock (&h->lock);
    return NULL;
}

//  Starts the helper. Returns 0, or -1 (then queries keep to one thread).
static int
s_helper_start (catalog_search_t *self)
{
    struct catalog_search__helper_s *h = calloc (1, sizeof *h);
    if (!h)
        return -1;
    h->self = self;
    if (pthread_mutex_init (&h->lock, NULL) != 0) {
        free (h);
        return -1;
    }
    if (pthread_cond_init (&h->cond, NULL) != 0) {
        pthread_mutex_destroy (&h->lock);
        free (h);
        return -1;
    }
    if (pthread_create (&h->thread, NULL, s_helper_main, h) != 0) {
        pthread_cond_destroy (&h->cond);
        pthread_mutex_destroy (&h->lock);
        free (h);
        return -1;
    }
    self->helper = h;
    return 0;
}

void
catalog_search__query_free (catalog_search_t *self)
{
    struct catalog_search__helper_s *h = self->helper;
    if (h) {
        pthread_mutex_lock (&h->lock);
        h->quit = true;
        pthread_cond_broadcast (&h->cond);
        pthread_mutex_unlock (&h->lock);
        pthread_join (h->thread, NULL);
        pthread_cond_destroy (&h->cond);
        pthread_mutex_destroy (&h->lock);
        free (h);
        self->helper = NULL;
    }
    for (uint32_t p = 0; self->parts && p < 2; p++) {
        free (self->parts[p].pos);
        free (self->parts[p].cn);
        free (self->parts[p].cb);
        free (self->parts[p].top);
        free (self->parts[p].bacc);
        free (self->parts[p].bfac);
        free (self->parts[p].cmask);
    }
    free (self->parts);
    self->parts = NULL;
}

size_t
catalog_search__query_memory (const catalog_search_t *self)
{
    size_t bytes = 0;
    for (uint32_t p = 0; self->parts && p < 2; p++)
        bytes += sizeof self->parts[p]
                 + ((size_t) self->parts[p].pos_cap + self->parts[p].cn_cap + self->parts[p].cb_cap)
                       * 4
                 + (self->parts[p].top ? (CATALOG_MAX_WINDOW + 64) * sizeof *self->parts[p].top
                                       : 0)
                 + (self->parts[p].bacc ? (size_t) BLOCK * 12 + BLOCK / 8 : 0);
    return bytes;
}

void
catalog_search_set_split (catalog_search_t *self, uint32_t min_work)
{
    if (self)
        self->split_min = min_work;
}

uint64_t
catalog_search_splits (const catalog_search_t *self)
{
    return self ? self->splits : 0;
}

//  Runs plan over every ordinal: as one part, or as two when its work (the driving word's
//  postings, or the products a browse walks) reaches self->split_min and the helper can be
//  had. Sets *nparts and *n (candidates, or products counted, in all). Returns 0 or -VE_NOMEM
//  (then nothing ran).
static int
s_run (catalog_search_t *self, const s_plan_t *plan, uint64_t work, uint32_t *nparts, uint32_t *n)
{
    if (!self->parts && !(self->parts = calloc (2, sizeof *self->parts)))
        return -VE_NOMEM;
    uint32_t mid = 0;
    if (self->split_min && work >= self->split_min && self->ndocs >= 128
        && (self->helper || s_helper_start (self) == 0))
        mid = (self->ndocs / 2) & ~63u;
    uint32_t np = mid ? 2 : 1;
    for (uint32_t p = 0; p < np; p++) {
        s_part_t *part = &self->parts[p];
        if ((!part->top
             && !(part->top = malloc ((CATALOG_MAX_WINDOW + 64) * sizeof *part->top)))
            || (!part->bacc && !(part->bacc = malloc (BLOCK * sizeof *part->bacc)))
            || (!part->bfac && !(part->bfac = malloc (BLOCK * sizeof *part->bfac)))
            || (!part->cmask && !(part->cmask = calloc (BLOCK / 64, sizeof *part->cmask)))
            || catalog_search__grow ((void **) &part->pos, &part->pos_cap, self->nalts + 1, 4)
            || catalog_search__grow ((void **) &part->cn, &part->cn_cap, self->cats.n + 1, 4)
            || catalog_search__grow ((void **) &part->cb, &part->cb_cap, self->brands.n + 1, 4))
            return -VE_NOMEM;
    }
    self->parts[0].lo = 0;
    self->parts[0].hi = mid ? mid : self->ndocs;
    self->parts[1].lo = mid;
    self->parts[1].hi = self->ndocs;
    struct catalog_search__helper_s *h = self->helper;
    if (np == 2) {
        self->splits++;
        pthread_mutex_lock (&h->lock);
        h->part = &self->parts[1];
        h->plan = plan;
        pthread_cond_broadcast (&h->cond);
        pthread_mutex_unlock (&h->lock);
    }
    s_part_run (self, plan, &self->parts[0]);
    if (np == 2) {
        pthread_mutex_lock (&h->lock);
        while (h->plan)
            pthread_cond_wait (&h->cond, &h->lock);
        pthread_mutex_unlock (&h->lock);
    }
    *nparts = np;
    *n = self->parts[0].n + (np == 2 ? self->parts[1].n : 0);
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

    //  Words: tokens of the text, copied into the query scratch. Stop words are dropped, but
    //  for one that ends the text: the shopper may be typing "thermal" ("the") or "formal".
    s_word_t words[CATALOG_MAX_WORDS];
    uint32_t nwords = 0;
    catalog_search__lexer_t lx;
    char tok[CATALOG_MAX_TOKEN + 1];
    size_t toklen, used = 0;
    bool stop;
    catalog_search__lexer_init (&lx, q->text, tlen);
    while ((toklen = catalog_search__next_word (&lx, tok, &stop)) > 0) {
        bool at_end = lx.p == lx.end;
        if (stop && !(at_end && nwords < CATALOG_MAX_WORDS))
            continue;
        if (nwords == CATALOG_MAX_WORDS)
            return -VE_TOOBIG;
        if (used + toklen + 1 > sizeof self->qtext)
            return -VE_TOOBIG;  //  folding made the text longer than we keep room for
        memcpy (self->qtext + used, tok, toklen + 1);
        words[nwords++] =
            (s_word_t) { .text = self->qtext + used, .len = (uint32_t) toklen, .stop = stop };
        used += toklen + 1;
    }
    if (nwords)
        words[nwords - 1].last = true;

    if (catalog_search__sort_pending (self) || s_scratch_reserve (self))
        return -VE_NOMEM;

    s_filter_t f = { .cat_node = NONE,
                     .brand = NONE,
                     .pmin = q->price_min,
                     .pmax = q->price_max ? q->price_max : INT64_MAX,
                     .stock = q->in_stock_only };
    if (q->price_min == 0 && q->price_max == 0)
        f.pmin = INT64_MIN;  //  no price filter at all: negative prices pass too
    bool none = false;
    if (q->category && *q->category) {
        size_t clen = strnlen (q->category, CATALOG_MAX_FIELD);
        f.cat_node = catalog_search__dict_find (&self->cats, q->category, clen);
        none |= f.cat_node == NONE;
        if (f.cat_node != NONE)
            f.cat_depth = self->node[f.cat_node].depth;
    }
    if (q->brand && *q->brand) {
        f.brand = catalog_search__dict_find (&self->brands, q->brand,
                                             strnlen (q->brand, CATALOG_MAX_FIELD));
        none |= f.brand == NONE;
    }

    s_filter_finish (&f);
    f.sort = q->sort;
    if (f.cat_node != NONE && self->node[f.cat_node].depth + 1 < CATALOG_MAX_DEPTH) {
        f.sub = true;
        f.sub_level = self->node[f.cat_node].depth + 1;
    }
    //  When the counting pass needs the row and a filter reads it anyway, the filter keeps
    //  what counting needs, so that the row is read once.
    self->stash = f.row && (f.sub || q->sort != CATALOG_SORT_RELEVANCE);
    bool score = nwords > 0 && q->sort == CATALOG_SORT_RELEVANCE;
    bool browse = false;
    uint32_t n = 0, nparts = 1, ntop, k = q->offset + q->limit, kd = k;
    bool diverse = false;
    //  First the words as typed (and completed); when that finds nothing, once more with the
    //  one-edit variants of every word long enough (s_typo_wanted).
    for (int relax = 0; relax < 2; relax++) {
        self->nalts = 0;
        uint32_t order[CATALOG_MAX_WORDS];
        bool empty = none;
        for (uint32_t i = 0; i < nwords; i++) {
            if (s_word_alts (self, &words[i], relax))
                return -VE_NOMEM;
            if (words[i].stop && words[i].nalts == 0) {
                nwords--;  //  a stop word that begins no word: dropped after all (it is last)
                break;
            }
            empty |= words[i].nalts == 0;
            order[i] = i;
            //  Rarest word first: it drives, the others only filter its candidates.
            for (uint32_t j = i; j > 0 && words[order[j]].postings < words[order[j - 1]].postings;
                 j--) {
                uint32_t t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        }
        score = nwords > 0 && q->sort == CATALOG_SORT_RELEVANCE;
        if (!empty && score)
            s_prepare_scoring (self);
        browse = !empty && nwords == 0;
        diverse = score && !browse && nwords > 0 && words[nwords - 1].ncompletions > 0
                  && words[nwords - 1].ncompletions + (words[nwords - 1].exact != NONE) >= 2;
        //  (diversifying looks past the page: the extra products it may bring in)
        kd = diverse ? (k > DIVERSE_PAGE ? k : DIVERSE_PAGE) + DIVERSE_N : k;
        s_plan_t plan = { .words = words,
                          .order = order,
                          .nwords = empty ? 0 : nwords,
                          .f = &f,
                          .score = score,
                          .browse = browse,
                          .k = kd };
        uint64_t work = browse            ? (f.cat_node != NONE ? self->node[f.cat_node].docs.len
                                             : f.brand != NONE  ? self->brand_docs[f.brand].len
                                                                : self->ndocs)
                        : plan.nwords > 0 ? words[order[0]].postings
                                          : 0;
        if (s_run (self, &plan, work, &nparts, &n))
            return -VE_NOMEM;
        bool more = false;
        for (uint32_t i = 0; i < nwords && !relax; i++)
            more |= !words[i].typos && s_typo_wanted (&words[i], true);
        if (n > 0 || browse || none || !more)
            break;
    }
    if (catalog_search__grow ((void **) &self->facets, &self->facets_cap,
                              self->cats.n + self->brands.n + 1, sizeof *self->facets))
        return -VE_NOMEM;
    s_facets (self, self->parts, nparts, &f, kd, &ntop, out);
    if (diverse)
        s_diversify (self, &words[nwords - 1], self->parts, nparts, n, &ntop, k);
    if (ntop > k)
        ntop = k;
    out->total = n;
    for (uint32_t i = q->offset; i < ntop; i++) {
        const catalog_search__top_t *e = &self->top[i];
        self->hits[i - q->offset] =
            (catalog_hit_t) { catalog_search__dict_str (&self->keys, self->doc_key[e->doc]),
                              score ? e->score : 0 };
    }
    //  "Did you mean": each word as the first hit matched it — the alternative of the word that
    //  scored best in that product — so the suggestion names what the ranking shows.
    if (nwords && !score)
        s_prepare_scoring (self);
    for (uint32_t i = 0; i < nwords; i++) {
        const s_word_t *w = &words[i];
        self->qwords[i] = w->text;
        if (ntop == 0)
            continue;
        uint32_t d = self->top[0].doc, best = NONE;
        float best_score = -1;
        for (uint32_t k = 0; k < w->nalts; k++) {
            const catalog_search__alt_t *a = &self->alts[w->alt0 + k];
            const catalog_search__term_t *t = &self->term[a->term];
            uint32_t j = catalog_search__gallop (t->docs, 0, t->len, d);
            if (j < t->len && t->docs[j] == d) {
                float sc = s_score (self, a, t->tfs[j], t->lens[j]);
                if (sc > best_score) {
                    best_score = sc;
                    best = w->alt0 + k;
                }
            }
        }
        if (best != NONE && self->alts[best].kind == ALT_TYPO) {
            self->qwords[i] = catalog_search__dict_str (&self->terms, self->alts[best].term);
            out->corrected = true;
        }
    }
    out->words = self->qwords;
    out->nwords = nwords;
    out->hits = self->hits;
    out->nhits = ntop > q->offset ? ntop - q->offset : 0;
    return 0;
}
