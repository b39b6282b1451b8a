//  catalog_search_suggest.c — suggestions as the shopper types (catalog_search_suggest): the
//  completions of the half-typed last word ranked by how many products carry them, and a few
//  products that carry the likeliest ones. Built for a search box's every keystroke: no facet,
//  no score array; the cost is a prefix range of the sorted dictionary, the postings of the
//  first completion (one word) or a sample of the products matching the words before.
#include "catalog_search_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUG_RANKED 32  //  completions (by frequency in the catalog) counted in the sample

typedef struct catalog_search__sug_s s_cand_t;
typedef struct catalog_search__searched_s s_searched_t;

//  ---------------------------------------------------------------- completions
static int
s_cand_add (catalog_search_t *self, uint32_t term, uint32_t plen, bool corrected)
{
    catalog_search__term_t *t = &self->term[term];
    if (t->df == 0 || t->qmark == self->qgen)
        return 0;
    t->qmark = self->qgen;
    if (catalog_search__grow ((void **) &self->sug_cand, &self->sug_cand_cap, self->sug_ncand + 1,
                              sizeof *self->sug_cand))
        return -VE_NOMEM;
    self->sug_cand[self->sug_ncand++] =
        (s_cand_t) { .term = term, .plen = plen, .count = t->ndf, .corrected = corrected };
    return 0;
}

//  Adds every live term that begins with prefix (len bytes, NUL-terminated).
static int
s_prefix_range (catalog_search_t *self, const char *prefix, uint32_t len, bool corrected)
{
    for (uint32_t i = catalog_search__sorted_lower (self, prefix); i < self->nsorted; i++) {
        uint32_t term = self->sorted[i];
        if (catalog_search__dict_len (&self->terms, term) < len
            || memcmp (catalog_search__dict_str (&self->terms, term), prefix, len) != 0)
            break;
        if (s_cand_add (self, term, len, corrected))
            return -VE_NOMEM;
    }
    return 0;
}

//  A half-typed word that begins no term: the terms that begin with one of its one-edit
//  variants (a deletion, a substitution or insertion of a letter, a swap of neighbours).
//  About 52 lookups per byte of the word, each a binary search of the dictionary.
static int
s_fuzzy_prefixes (catalog_search_t *self, const char *w, uint32_t len)
{
    char v[CATALOG_MAX_TOKEN + 2];
    for (uint32_t i = 0; i < len; i++) {
        memcpy (v, w, i);  //  deletion
        memcpy (v + i, w + i + 1, len - i - 1);
        v[len - 1] = 0;
        if (s_prefix_range (self, v, len - 1, true))
            return -VE_NOMEM;
        if (i + 1 < len) {  //  swap
            memcpy (v, w, len + 1);
            v[i] = w[i + 1];
            v[i + 1] = w[i];
            if (s_prefix_range (self, v, len, true))
                return -VE_NOMEM;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            if (c != w[i]) {  //  substitution
                memcpy (v, w, len + 1);
                v[i] = c;
                if (s_prefix_range (self, v, len, true))
                    return -VE_NOMEM;
            }
            if (len < CATALOG_MAX_TOKEN) {  //  insertion before i (after the end: no help)
                memcpy (v, w, i);
                v[i] = c;
                memcpy (v + i + 1, w + i, len - i + 1);
                if (s_prefix_range (self, v, len + 1, true))
                    return -VE_NOMEM;
            }
        }
    }
    return 0;
}

//  a ranks before b: more products, then shorter, then byte order.
static bool
s_cand_before (const catalog_search_t *self, const s_cand_t *a, const s_cand_t *b)
{
    if (a->count != b->count)
        return a->count > b->count;
    const catalog_search__term_t *ta = &self->term[a->term], *tb = &self->term[b->term];
    if (ta->ndf != tb->ndf)
        return ta->ndf > tb->ndf;
    if (ta->df != tb->df)
        return ta->df > tb->df;
    uint32_t la = catalog_search__dict_len (&self->terms, a->term);
    uint32_t lb = catalog_search__dict_len (&self->terms, b->term);
    if (la != lb)
        return la < lb;
    return strcmp (catalog_search__dict_str (&self->terms, a->term),
                   catalog_search__dict_str (&self->terms, b->term))
           < 0;
}

//  Moves the best k candidates, in order, to the front of sug_cand; returns how many there are.
static uint32_t
s_cand_top (catalog_search_t *self, uint32_t k)
{
    s_cand_t *c = self->sug_cand;
    uint32_t n = 0;  //  c[0 .. n) is the sorted top so far
    for (uint32_t i = 0; i < self->sug_ncand; i++) {
        if (n == k && !s_cand_before (self, &c[i], &c[n - 1]))
            continue;
        //  While the top fills, i == n: the new slot is c[i] itself. Once full, the last of
        //  the top makes way.
        s_cand_t x = c[i];
        uint32_t at = n < k ? n++ : k - 1;
        while (at > 0 && s_cand_before (self, &x, &c[at - 1])) {
            c[at] = c[at - 1];
            at--;
        }
        c[at] = x;
    }
    return n;
}

//  ---------------------------------------------------------------- words before the last
//  The commonest one-edit variant of a word that is no term (the deletion index, as queries
//  use it), or NONE.
static uint32_t
s_variant (const catalog_search_t *self, const char *w, uint32_t len)
{
    if (!self->dels || !catalog_search__typo_term (w, len))
        return NONE;
    uint32_t best = NONE;
    char del[CATALOG_MAX_TOKEN];
    for (uint32_t i = 0; i <= len; i++) {
        //  i == len: the word itself (terms with one byte more); else the word less byte i.
        const char *key = w;
        uint32_t klen = len;
        if (i < len) {
            memcpy (del, w, i);
            memcpy (del + i, w + i + 1, len - i - 1);
            key = del;
            klen = len - 1;
            uint32_t t = catalog_search__dict_find (&self->terms, del, klen);
            if (t != NONE && self->term[t].df
                && (best == NONE || self->term[t].ndf > self->term[best].ndf))
                best = t;
        }
        uint32_t h = (uint32_t) catalog_search__hash (key, klen);
        for (uint32_t j = h & self->del_mask; self->dels[j].term != NONE;
             j = (j + 1) & self->del_mask) {
            uint32_t t = self->dels[j].term;
            if (self->dels[j].h != h || self->term[t].df == 0
                || !catalog_search__within_one (catalog_search__dict_str (&self->terms, t),
                                                catalog_search__dict_len (&self->terms, t), w,
                                                len))
                continue;
            if (best == NONE || self->term[t].ndf > self->term[best].ndf)
                best = t;
        }
    }
    return best;
}

//  The first CATALOG_SUGGEST_SAMPLE live products carrying every one of terms (n >= 1), in
//  ordinal order: the rarest term's postings drive, the others are sought.
static uint32_t
s_sample (catalog_search_t *self, const uint32_t *terms, uint32_t n)
{
    uint32_t drive = 0;
    for (uint32_t i = 1; i < n; i++)
        if (self->term[terms[i]].len < self->term[terms[drive]].len)
            drive = i;
    uint32_t pos[CATALOG_MAX_WORDS] = { 0 }, got = 0;
    const catalog_search__term_t *dt = &self->term[terms[drive]];
    for (uint32_t j = 0; j < dt->len && got < CATALOG_SUGGEST_SAMPLE; j++) {
        uint32_t d = dt->docs[j];
        if (!catalog_search__bit (self->alive, d))
            continue;
        bool all = true;
        for (uint32_t i = 0; i < n && all; i++) {
            if (i == drive)
                continue;
            const catalog_search__term_t *t = &self->term[terms[i]];
            pos[i] = catalog_search__gallop (t->docs, pos[i], t->len, d);
            all = pos[i] < t->len && t->docs[pos[i]] == d;
        }
        if (all)
            self->sug_sample[got++] = d;
    }
    return got;
}

//  ---------------------------------------------------------------- products
typedef catalog_search__pick_t s_pick_t;

//  The pick of doc, whose posting for the term has tf and whose field lengths are lens.
static s_pick_t
s_pick (const catalog_search_t *self, uint32_t doc, uint16_t tf, uint32_t lens)
{
    return (s_pick_t) { .doc = doc,
                        .popularity = self->row[doc].popularity,
                        .age = self->age[doc],
                        .titled = (tf & 15) != 0,
                        .title_len = (uint8_t) (lens & 255) };
}

//  a ranks before b as a suggested product (see catalog_search_suggest): a total order, ids
//  being unique, so the best k of a set do not depend on the order they are offered in.
static bool
s_product_before (const catalog_search_t *self, const s_pick_t *a, const s_pick_t *b)
{
    if (a->titled != b->titled)
        return a->titled;
    if (a->popularity != b->popularity)
        return a->popularity > b->popularity;
    if (a->title_len != b->title_len)
        return a->title_len < b->title_len;
    if (a->age != b->age)
        return a->age < b->age;
    return strcmp (catalog_search__dict_str (&self->keys, self->doc_key[a->doc]),
                   catalog_search__dict_str (&self->keys, self->doc_key[b->doc]))
           < 0;
}

//  Puts x in its place among the best k (sorted, *n of them); the last makes way when full.
static void
s_insert (const catalog_search_t *self, s_pick_t x, s_pick_t *best, uint32_t *n, uint32_t k)
{
    if (*n == k && !s_product_before (self, &x, &best[k - 1]))
        return;
    uint32_t at = *n < k ? (*n)++ : k - 1;
    while (at > 0 && s_product_before (self, &x, &best[at - 1])) {
        best[at] = best[at - 1];
        at--;
    }
    best[at] = x;
}

//  Offers posting j of t to the best k (sorted, *n of them), unless its product is taken.
static void
s_offer (const catalog_search_t *self, const catalog_search__term_t *t, uint32_t j,
         s_pick_t *best, uint32_t *n, uint32_t k, const s_pick_t *taken, uint32_t ntaken)
{
    uint32_t d = t->docs[j];
    if (!catalog_search__bit (self->alive, d))
        return;
    //  Most postings of a common word lose on the title alone: no row read for them.
    if (*n == k && best[k - 1].titled && !(t->tfs[j] & 15))
        return;
    for (uint32_t i = 0; i < ntaken; i++)
        if (taken[i].doc == d)
            return;
    s_insert (self, s_pick (self, d, t->tfs[j], t->lens[j]), best, n, k);
}

//  Walks t's postings for its best SUG_BEST live products.
static void
s_best_fill (const catalog_search_t *self, catalog_search__term_t *t)
{
    t->nbest = 0;
    for (uint32_t j = 0; j < t->len; j++)
        s_offer (self, t, j, t->best, &t->nbest, SUG_BEST, NULL, 0);
}

//  Gives term a best list filled from its postings; false when out of memory.
static bool
s_best_new (const catalog_search_t *self, catalog_search__term_t *t)
{
    t->best = malloc (SUG_BEST * sizeof *t->best);
    if (!t->best)
        return false;
    s_best_fill (self, t);
    return true;
}

void
catalog_search__best_drop (catalog_search_t *self, uint32_t term, uint32_t doc)
{
    catalog_search__term_t *t = &self->term[term];
    for (uint32_t i = 0; i < t->nbest; i++)
        if (t->best[i].doc == doc) {
            memmove (t->best + i, t->best + i + 1, (t->nbest - i - 1) * sizeof *t->best);
            t->nbest--;
            return;
        }
}

void
catalog_search__best_offer (catalog_search_t *self, uint32_t term, uint32_t doc, uint16_t tf)
{
    catalog_search__term_t *t = &self->term[term];
    if (!t->best) {
        if (t->len >= SUG_BEST_FROM)
            s_best_new (self, t);  //  the walk sees doc: nothing more to do
        return;
    }
    //  The list is the best nbest of the term's other live products; when it holds them all,
    //  doc goes in wherever it ranks, else only ahead of the last (what ranks after that is
    //  not known). Either way it stays the best of them all.
    bool all = t->nbest + 1 == t->df;
    s_pick_t x = s_pick (self, doc, tf, self->lens[doc]);
    if (!all && (t->nbest == 0 || !s_product_before (self, &x, &t->best[t->nbest - 1])))
        return;
    s_insert (self, x, t->best, &t->nbest, SUG_BEST);
}

//  t's best list when it has one that can answer (at least as many entries as suggest asks,
//  or every live product), refilled from the postings when it has become too short; NULL
//  for a term with few postings (walking them costs less) or when out of memory.
static const s_pick_t *
s_best (const catalog_search_t *self, catalog_search__term_t *t)
{
    if (!t->best && (t->len < SUG_BEST_FROM || !s_best_new (self, t)))
        return NULL;
    uint32_t need = t->df < CATALOG_SUGGEST_PRODUCTS ? t->df : CATALOG_SUGGEST_PRODUCTS;
    if (t->nbest < need)
        s_best_fill (self, t);
    return t->best;
}

//  Products for the completions in order: the best of the first's, then the next's …
//  (within the sample when there are words before the last).
static uint32_t
s_products (catalog_search_t *self, uint32_t ncomp, uint32_t k, bool sampled, uint32_t nsample)
{
    s_pick_t taken[CATALOG_SUGGEST_PRODUCTS], best[CATALOG_SUGGEST_PRODUCTS];
    uint32_t ntaken = 0;
    for (uint32_t c = 0; c < ncomp && ntaken < k; c++) {
        catalog_search__term_t *t = &self->term[self->sug_cand[c].term];
        uint32_t n = 0, want = k - ntaken;
        const s_pick_t *list = sampled ? NULL : s_best (self, t);
        if (list) {
            //  The list's first CATALOG_SUGGEST_PRODUCTS (or all the live products) hold the
            //  best want of those not taken, ntaken + want being at most that many.
            for (uint32_t i = 0; i < t->nbest && n < want; i++) {
                bool seen = false;
                for (uint32_t j = 0; j < ntaken && !seen; j++)
                    seen = taken[j].doc == list[i].doc;
                if (!seen)
                    best[n++] = list[i];
            }
        }
        else if (!sampled)
            for (uint32_t j = 0; j < t->len; j++)
                s_offer (self, t, j, best, &n, want, taken, ntaken);
        else
            for (uint32_t i = 0, j = 0; i < nsample && j < t->len; i++) {
                j = catalog_search__gallop (t->docs, j, t->len, self->sug_sample[i]);
                if (j < t->len && t->docs[j] == self->sug_sample[i])
                    s_offer (self, t, j, best, &n, want, taken, ntaken);
            }
        memcpy (taken + ntaken, best, n * sizeof *best);
        ntaken += n;
    }
    for (uint32_t i = 0; i < ntaken; i++)
        self->sug_hits[i] = (catalog_hit_t) {
            .id = catalog_search__dict_str (&self->keys, self->doc_key[taken[i].doc]), .score = 0
        };
    return ntaken;
}

//  ---------------------------------------------------------------- what shoppers searched
//  The normal form of text (len bytes) into out (size bytes): its words as a query reads them,
//  stop words included, one space between. Returns its length; 0 when it has no word or does
//  not fit. *live (when live is not NULL): every word but the stop words is a live term.
static size_t
s_normal (const catalog_search_t *self, const char *text, size_t len, char *out, size_t size,
          bool *live)
{
    catalog_search__lexer_t lx;
    catalog_search__lexer_init (&lx, text, len);
    char tok[CATALOG_MAX_TOKEN + 1];
    bool stop;
    size_t n = 0, toklen;
    if (live)
        *live = true;
    while ((toklen = catalog_search__next_word (&lx, tok, &stop)) > 0) {
        if (n + (n > 0) + toklen + 1 > size)
            return 0;
        if (n > 0)
            out[n++] = ' ';
        memcpy (out + n, tok, toklen);
        n += toklen;
        if (live && *live && !stop) {
            uint32_t t = catalog_search__dict_find (&self->terms, tok, toklen);
            *live = t != NONE && self->term[t].df > 0;
        }
    }
    out[n] = 0;
    return n;
}

static int
s_searched_order (const void *a, const void *b)
{
    return strcmp (((const s_searched_t *) a)->text, ((const s_searched_t *) b)->text);
}

int
catalog_search_set_searched (catalog_search_t *self, const char *const *texts,
                             const double *counts, uint32_t n)
{
    if (!self || (n && (!texts || !counts)))
        return -VE_INVAL;
    s_searched_t *e = malloc ((n ? n : 1) * sizeof *e);
    char *buf = NULL, form[2 * CATALOG_MAX_QUERY];
    size_t used = 0, cap = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; e && i < n; i++) {
        size_t tlen = texts[i] ? strnlen (texts[i], CATALOG_MAX_QUERY + 1) : 0;
        if (tlen == 0 || tlen > CATALOG_MAX_QUERY || !(counts[i] > 0) || !isfinite (counts[i]))
            continue;
        bool live;
        size_t len = s_normal (self, texts[i], tlen, form, sizeof form, &live);
        if (len == 0 || !live)
            continue;
        if (used + len + 1 > cap) {
            size_t more = cap ? 2 * cap : 4096;
            char *grown = realloc (buf, more);
            if (!grown) {
                free (e);
                e = NULL;
                break;
            }
            buf = grown;
            cap = more;
        }
        memcpy (buf + used, form, len + 1);
        //  The offset for now: buf may still move.
        e[k++] = (s_searched_t) { .text = (const char *) (uintptr_t) used, .len = (uint32_t) len,
                                  .count = counts[i] };
        used += len + 1;
    }
    if (!e) {
        free (buf);
        return -VE_NOMEM;
    }
    for (uint32_t i = 0; i < k; i++)
        e[i].text = buf + (uintptr_t) e[i].text;
    qsort (e, k, sizeof *e, s_searched_order);
    uint32_t m = 0;  //  equal forms added up
    for (uint32_t i = 0; i < k; i++) {
        if (m > 0 && strcmp (e[m - 1].text, e[i].text) == 0)
            e[m - 1].count += e[i].count;
        else
            e[m++] = e[i];
    }
    free (self->searched);
    free (self->searched_text);
    self->searched = e;
    self->searched_text = buf;
    self->nsearched = m;
    return (int) m;
}

//  Up to k of what shoppers searched that begins with typed (tlen bytes, a normal form) and
//  whose words are still live, the most searched first, then by text: into out.
static uint32_t
s_searched_top (const catalog_search_t *self, const char *typed, size_t tlen, uint32_t k,
                const s_searched_t **out)
{
    uint32_t lo = 0, hi = self->nsearched, n = 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp (self->searched[mid].text, typed) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    char scratch[2 * CATALOG_MAX_QUERY];
    for (uint32_t i = lo; i < self->nsearched && k > 0; i++) {
        const s_searched_t *x = &self->searched[i];
        if (x->len < tlen || memcmp (x->text, typed, tlen) != 0)
            break;
        if (n == k && !(x->count > out[n - 1]->count))
            continue;
        bool live;
        s_normal (self, x->text, x->len, scratch, sizeof scratch, &live);
        if (!live)
            continue;  //  its products are gone since the table was set
        uint32_t at = n < k ? n++ : k - 1;
        while (at > 0 && x->count > out[at - 1]->count) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = x;
    }
    return n;
}

//  Whether one of the first n completions offered is text.
static bool
s_offered (const catalog_search_t *self, uint32_t n, const char *text)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp (self->sug[i].text, text) == 0)
            return true;
    return false;
}

static catalog_completion_t
s_searched_completion (const s_searched_t *x, uint32_t matched)
{
    return (catalog_completion_t) {
        .text = x->text,
        .matched = matched,
        .count = x->count < UINT32_MAX ? (uint32_t) lround (x->count) : UINT32_MAX,
        .searched = true
    };
}

//  The completions in the order offered, into self->sug: what shoppers searched first (up to
//  half, rounded up, or more when the catalog has fewer than the rest), then the catalog's
//  nprod, then more searched while there is room; a text is offered once. Returns how many.
static uint32_t
s_merge (catalog_search_t *self, const char *text, size_t tlen, const catalog_completion_t *prod,
         uint32_t nprod, uint32_t k)
{
    const s_searched_t *srch[CATALOG_SUGGEST_COMPLETIONS];
    uint32_t nsrch = 0, matched = 0;
    if (k > 0 && self->nsearched > 0) {
        char typed[2 * CATALOG_MAX_QUERY];
        size_t tl = s_normal (self, text, tlen, typed, sizeof typed, NULL);
        nsrch = tl ? s_searched_top (self, typed, tl, k, srch) : 0;
        matched = (uint32_t) tl;
    }
    uint32_t first = (k + 1) / 2, n = 0, taken = 0;
    if (nprod < k - first)
        first = k - nprod;
    for (; taken < nsrch && taken < first; taken++)
        self->sug[n++] = s_searched_completion (srch[taken], matched);
    for (uint32_t p = 0; p < nprod && n < k; p++)
        if (!s_offered (self, n, prod[p].text))
            self->sug[n++] = prod[p];
    for (; taken < nsrch && n < k; taken++)
        if (!s_offered (self, n, srch[taken]->text))
            self->sug[n++] = s_searched_completion (srch[taken], matched);
    return n;
}

//  ---------------------------------------------------------------- the call
int
catalog_search_suggest (catalog_search_t *self, const char *text, uint32_t ncompletions,
                        uint32_t nproducts, catalog_suggest_t *out)
{
    if (!self || !out)
        return -VE_INVAL;
    memset (out, 0, sizeof *out);
    if (ncompletions > CATALOG_SUGGEST_COMPLETIONS || nproducts > CATALOG_SUGGEST_PRODUCTS)
        return -VE_INVAL;
    size_t tlen = text ? strnlen (text, CATALOG_MAX_QUERY + 1) : 0;
    if (tlen > CATALOG_MAX_QUERY)
        return -VE_TOOBIG;

    //  Words, as a query takes them (a stop word only as the last one), into sug_wtext.
    const char *words[CATALOG_MAX_WORDS];
    uint32_t lens[CATALOG_MAX_WORDS], nwords = 0;
    char *wt = self->sug_wtext;
    size_t used = 0, toklen;
    char tok[CATALOG_MAX_TOKEN + 1];
    bool stop;
    catalog_search__lexer_t lx;
    catalog_search__lexer_init (&lx, text, tlen);
    while ((toklen = catalog_search__next_word (&lx, tok, &stop)) > 0) {
        if (stop && lx.p != lx.end)
            continue;
        if (nwords == CATALOG_MAX_WORDS)
            return -VE_TOOBIG;
        memcpy (wt + used, tok, toklen + 1);
        words[nwords] = wt + used;
        lens[nwords++] = (uint32_t) toklen;
        used += toklen + 1;
    }
    if (nwords == 0 || (ncompletions == 0 && nproducts == 0))
        return 0;
    if (catalog_search__sort_pending (self))
        return -VE_NOMEM;

    //  The words before the last, as the catalog has them (or their commonest variant).
    uint32_t prev[CATALOG_MAX_WORDS];
    char prefix_text[2 * CATALOG_MAX_QUERY];
    size_t plen = 0;
    for (uint32_t i = 0; i + 1 < nwords; i++) {
        uint32_t t = catalog_search__dict_find (&self->terms, words[i], lens[i]);
        if (t == NONE || self->term[t].df == 0)
            t = s_variant (self, words[i], lens[i]);
        if (t == NONE)
            return 0;  //  nothing carries this word: nothing to suggest
        prev[i] = t;
        uint32_t l = catalog_search__dict_len (&self->terms, t);
        memcpy (prefix_text + plen, catalog_search__dict_str (&self->terms, t), l);
        plen += l;
        prefix_text[plen++] = ' ';
    }

    //  The completions of the last word (or of its one-edit variants).
    const char *last = words[nwords - 1];
    uint32_t llen = lens[nwords - 1];
    self->qgen++;
    self->sug_ncand = 0;
    if (s_prefix_range (self, last, llen, false))
        return -VE_NOMEM;
    if (self->sug_ncand == 0 && catalog_search__typo_term (last, llen)
        && s_fuzzy_prefixes (self, last, llen))
        return -VE_NOMEM;
    uint32_t nsample = 0, ncomp;
    if (nwords == 1)
        ncomp = s_cand_top (self, ncompletions > 0 ? ncompletions : 1);
    else {
        //  After other words the commonest completions in the catalog are counted among the
        //  products matching those words, and ranked by that count.
        nsample = s_sample (self, prev, nwords - 1);
        uint32_t n = s_cand_top (self, SUG_RANKED);
        for (uint32_t c = 0; c < n; c++) {
            const catalog_search__term_t *t = &self->term[self->sug_cand[c].term];
            uint32_t count = 0;
            for (uint32_t i = 0, j = 0; i < nsample && j < t->len; i++) {
                j = catalog_search__gallop (t->docs, j, t->len, self->sug_sample[i]);
                count += j < t->len && t->docs[j] == self->sug_sample[i];
            }
            self->sug_cand[c].count = count;
        }
        self->sug_ncand = n;
        ncomp = s_cand_top (self, ncompletions > 0 ? ncompletions : 1);
        while (ncomp > 0 && self->sug_cand[ncomp - 1].count == 0)
            ncomp--;
    }

    //  The completions' text, the words to mark, the products.
    uint32_t nw = 0, nprefixes = 0;
    for (uint32_t i = 0; i + 1 < nwords; i++)
        self->sug_words[nw++] = catalog_search__dict_str (&self->terms, prev[i]);
    char *pw = wt + used;  //  prefixes go after the words in sug_wtext
    catalog_completion_t prod[CATALOG_SUGGEST_COMPLETIONS];
    for (uint32_t c = 0; c < ncomp; c++) {
        const s_cand_t *cand = &self->sug_cand[c];
        const char *s = catalog_search__dict_str (&self->terms, cand->term);
        uint32_t l = catalog_search__dict_len (&self->terms, cand->term);
        if (c < ncompletions) {
            char *ct = self->sug_text[c];
            memcpy (ct, prefix_text, plen);
            memcpy (ct + plen, s, l);
            ct[plen + l] = 0;
            prod[c] = (catalog_completion_t) { .text = ct,
                                               .matched = (uint32_t) plen + cand->plen,
                                               .count = cand->count,
                                               .corrected = cand->corrected };
        }
        bool seen = false;
        for (uint32_t i = nw; i < nw + nprefixes && !seen; i++)
            seen = strlen (self->sug_words[i]) == cand->plen
                   && memcmp (self->sug_words[i], s, cand->plen) == 0;
        if (!seen) {
            memcpy (pw, s, cand->plen);
            pw[cand->plen] = 0;
            self->sug_words[nw + nprefixes++] = pw;
            pw += cand->plen + 1;
        }
    }
    out->completions = self->sug;
    out->ncompletions = s_merge (self, text, tlen, prod, ncomp < ncompletions ? ncomp : ncompletions,
                                 ncompletions);
    out->nproducts = nproducts ? s_products (self, ncomp, nproducts, nwords > 1, nsample) : 0;
    out->products = self->sug_hits;
    out->words = self->sug_words;
    out->nwords = nw + nprefixes;
    out->nprefixes = nprefixes;
    return 0;
}
