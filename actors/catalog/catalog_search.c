//  catalog_search.c — the catalog's in-memory search index (see catalog_search.h and
//  docs/search.md): its life, products (put, remove, columns) and compaction. Products get
//  increasing ordinals, so postings stay sorted by appending; a replaced or removed product is
//  a tombstone until compaction renumbers the live ones. Everything a query touches per match
//  sits in flat columns indexed by ordinal. The dictionaries are in catalog_search_dict.c, the
//  query in catalog_search_query.c, the layout they share in catalog_search_internal.h.
#include "catalog_search.h"
#include "catalog_search_internal.h"
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

//  Term frequency per field, packed in 16 bits per posting (saturating):
//  title 4 bits, brand 2, attributes 4, description 6. s_score (catalog_search_query.c)
//  unpacks the same layout.
static const unsigned s_tf_shift[F_COUNT] = { 0, 4, 6, 10 };
static const unsigned s_tf_max[F_COUNT] = { 15, 3, 15, 63 };

const int64_t catalog_search__price_lo[CATALOG_PRICE_BUCKETS] = { 0,     2500,  5000,   10000,
                                                                  25000, 50000, 100000, 250000 };

catalog_search_t *
catalog_search_new (void)
{
    catalog_search_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->split_min = CATALOG_SPLIT_MIN;
    self->fwd_off = calloc (1, sizeof *self->fwd_off);
    //  (a few more than the window: the query may look past it, catalog_search_query)
    self->top = malloc ((CATALOG_MAX_WINDOW + 64) * sizeof *self->top);
    if (!self->fwd_off || !self->top)
        catalog_search_destroy (&self);
    return self;
}

static void
s_free_columns (catalog_search_t *self)
{
    free (self->row);
    free (self->fac);
    free (self->age);
    for (int l = 0; l < CATALOG_MAX_DEPTH; l++)
        free (self->cat[l]);
    free (self->pop);
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
        free (self->term[t].best);
    }
    free (self->term);
    catalog_search__dict_free (&self->terms);
    free (self->sorted);
    free (self->pending.v);
    free (self->dels);
    catalog_search__dict_free (&self->keys);
    free (self->key_ord.v);
    s_free_columns (self);
    free (self->fwd_off);
    free (self->fwd);
    for (uint32_t b = 0; b < self->brands.n; b++)
        free (self->brand_docs[b].v);
    free (self->brand_docs);
    catalog_search__dict_free (&self->brands);
    for (uint32_t n = 0; n < self->cats.n; n++)
        free (self->node[n].docs.v);
    free (self->node);
    catalog_search__dict_free (&self->cats);
    free (self->local);
    free (self->acc);
    free (self->mark);
    free (self->cand);
    free (self->cscore);
    free (self->cfac);
    free (self->ckey);
    free (self->csub);
    free (self->alts);
    free (self->sug_cand);
    free (self->searched);
    free (self->searched_text);
    catalog_search__query_free (self);
    free (self->top);
    free (self->facets);
    free (self);
    *self_p = NULL;
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
        if (self->cats.n >= MAX_NODES && catalog_search__dict_find (&self->cats, path, end) == NONE)
            return -VE_TOOBIG;
        if (catalog_search__dict_intern (&self->cats, path, end, &id, &created))
            return -VE_NOMEM;
        if (created) {
            if (catalog_search__grow ((void **) &self->node, &self->node_cap, self->cats.n,
                                      sizeof *self->node))
                return -VE_NOMEM;
            self->node[id] =
                (catalog_search__node_t) { .depth = (uint32_t) depth, .parent = parent };
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
    GROW_ (row, n * sizeof (catalog_search__row_t));
    GROW_ (fac, n * sizeof (uint64_t));
    GROW_ (age, n * sizeof (uint32_t));
    for (int l = 0; l < CATALOG_MAX_DEPTH; l++)
        GROW_ (cat[l], n * sizeof (uint16_t));
    GROW_ (pop, n * sizeof (float));
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
    uint32_t key = catalog_search__dict_find (&self->keys, id, len);
    return key == NONE ? NONE : self->key_ord.v[key];
}

//  The position of ord's posting in t (which has one; postings are sorted by ordinal).
static uint32_t
s_posting (const catalog_search__term_t *t, uint32_t ord)
{
    uint32_t lo = catalog_search__gallop (t->docs, 0, t->len, ord);
    assert (lo < t->len && t->docs[lo] == ord);
    return lo;
}

//  Tombstones a live ordinal: its terms' document frequencies and the length sums drop, and
//  it leaves their best lists.
static void
s_kill (catalog_search_t *self, uint32_t ord)
{
    assert (catalog_search__bit (self->alive, ord));
    catalog_search__bit_set (self->alive, ord, false);
    for (uint64_t i = self->fwd_off[ord]; i < self->fwd_off[ord + 1]; i++) {
        catalog_search__term_t *t = &self->term[self->fwd[i]];
        t->df--;
        //  Whether it named the product: from its posting.
        if (t->tfs[s_posting (t, ord)] & TF_NAME_MASK)
            t->ndf--;
        if (t->best)
            catalog_search__best_drop (self, self->fwd[i], ord);
    }
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

//  Adds one token of field to the put's scratch. Returns 0 or -VE_NOMEM.
static int
s_add_token (catalog_search_t *self, const char *tok, size_t toklen, int field, uint32_t *nlocal)
{
    uint32_t id;
    if (catalog_search__term_intern (self, tok, toklen, &id))
        return -VE_NOMEM;
    catalog_search__term_t *t = &self->term[id];
    if (t->stamp != self->put_gen) {
        if (catalog_search__grow ((void **) &self->local, &self->local_cap, *nlocal + 1,
                                  sizeof *self->local))
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
    return 0;
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
        if (s_add_token (self, tok, toklen, field, nlocal))
            return -VE_NOMEM;
        count++;
    }
    return count;
}

//  The same for tokens made by catalog_search_tokenize: adds them all, counting per field.
static int
s_add_tokens (catalog_search_t *self, const catalog_tokens_t *tok, int64_t *ntok,
              uint32_t *nlocal)
{
    for (size_t at = 0; at + 2 <= tok->len;) {
        int field = tok->buf[at];
        size_t len = tok->buf[at + 1];
        if (field >= F_COUNT || at + 2 + len > tok->len)
            return -VE_INVAL;
        if (s_add_token (self, (const char *) tok->buf + at + 2, len, field, nlocal))
            return -VE_NOMEM;
        ntok[field]++;
        at += 2 + len;
    }
    return 0;
}

//  Appends the tokens of one field to tok. Returns 0 or -VE_NOMEM.
static int
s_tokenize_field (catalog_tokens_t *tok, const char *text, size_t len, int field)
{
    catalog_search__lexer_t lx;
    char t[CATALOG_MAX_TOKEN + 1];
    size_t tl;
    catalog_search__lexer_init (&lx, text, len);
    while ((tl = catalog_search__next_token (&lx, t)) > 0) {
        if (tok->len + 2 + tl > tok->cap) {
            size_t cap = tok->cap ? tok->cap * 2 : 1024;
            while (cap < tok->len + 2 + tl)
                cap *= 2;
            unsigned char *buf = realloc (tok->buf, cap);
            if (!buf)
                return -VE_NOMEM;
            tok->buf = buf;
            tok->cap = cap;
        }
        tok->buf[tok->len] = (unsigned char) field;
        tok->buf[tok->len + 1] = (unsigned char) tl;
        memcpy (tok->buf + tok->len + 2, t, tl);
        tok->len += 2 + tl;
    }
    return 0;
}

int
catalog_search_tokenize (const catalog_doc_t *doc, catalog_tokens_t *tok)
{
    if (!doc || !tok)
        return -VE_INVAL;
    tok->len = 0;
    const char *fields[3] = { doc->title, doc->brand, doc->description };
    const int ids[3] = { F_TITLE, F_BRAND, F_DESC };
    for (int i = 0; i < 3; i++)
        if (fields[i]
            && s_tokenize_field (tok, fields[i], s_field_len (fields[i], CATALOG_MAX_FIELD), ids[i]))
            return -VE_NOMEM;
    for (size_t i = 0; doc->attr_values && i < doc->nattrs; i++)
        if (doc->attr_values[i]
            && s_tokenize_field (tok, doc->attr_values[i],
                                 s_field_len (doc->attr_values[i], CATALOG_MAX_FIELD), F_ATTR))
            return -VE_NOMEM;
    return 0;
}

void
catalog_tokens_free (catalog_tokens_t *tok)
{
    if (!tok)
        return;
    free (tok->buf);
    *tok = (catalog_tokens_t) { 0 };
}

static int s_put (catalog_search_t *self, const catalog_doc_t *doc, const catalog_tokens_t *tok);

int
catalog_search_put (catalog_search_t *self, const catalog_doc_t *doc)
{
    return s_put (self, doc, NULL);
}

int
catalog_search_put_tokens (catalog_search_t *self, const catalog_doc_t *doc,
                           const catalog_tokens_t *tok)
{
    return tok ? s_put (self, doc, tok) : -VE_INVAL;
}

//  A put, tokenising doc here (tok NULL) or from its tokens.
static int
s_put (catalog_search_t *self, const catalog_doc_t *doc, const catalog_tokens_t *tok)
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
        if (catalog_search__dict_intern (&self->brands, doc->brand, flen[1], &brand, &created))
            return -VE_NOMEM;
        if (created) {
            if (catalog_search__grow ((void **) &self->brand_docs, &self->brand_cap, self->brands.n,
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
    if (tok) {
        int rc = s_add_tokens (self, tok, ntok, &nlocal);
        if (rc)
            return rc;
    }
    else {
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
    }

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
        catalog_search__term_t *t = &self->term[self->local[i].term];
        uint32_t cap = t->cap;
        if (catalog_search__grow ((void **) &t->docs, &cap, t->len + 1, sizeof *t->docs))
            return -VE_NOMEM;
        cap = t->cap;
        if (catalog_search__grow ((void **) &t->tfs, &cap, t->len + 1, sizeof *t->tfs))
            return -VE_NOMEM;
        cap = t->cap;
        if (catalog_search__grow ((void **) &t->lens, &cap, t->len + 1, sizeof *t->lens))
            return -VE_NOMEM;
        cap = t->cap;
        if (catalog_search__grow ((void **) &t->facs, &cap, t->len + 1, sizeof *t->facs))
            return -VE_NOMEM;
        t->cap = cap;
    }
    for (int l = 0; l < depth; l++) {
        catalog_search__vec_t *v = &self->node[nodes[l]].docs;
        if (catalog_search__grow ((void **) &v->v, &v->cap, v->len + 1, sizeof *v->v))
            return -VE_NOMEM;
    }
    if (brand != NONE) {
        catalog_search__vec_t *v = &self->brand_docs[brand];
        if (catalog_search__grow ((void **) &v->v, &v->cap, v->len + 1, sizeof *v->v))
            return -VE_NOMEM;
    }
    uint32_t key;
    if (catalog_search__dict_intern (&self->keys, doc->id, idlen, &key, NULL)
        || catalog_search__grow ((void **) &self->key_ord.v, &self->key_ord.cap, self->keys.n,
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
        bucket += doc->price_minor >= catalog_search__price_lo[i];
    uint64_t fac =
        catalog_search__fac_make (brand, nodes[0] == NONE ? NONE16 : (uint16_t) nodes[0], bucket);
    if (old != NONE)
        s_kill (self, old);
    for (uint32_t i = 0; i < nlocal; i++) {
        catalog_search__term_t *t = &self->term[self->local[i].term];
        t->docs[t->len] = ord;
        t->tfs[t->len] = self->local[i].tf;
        t->lens[t->len] = lens;
        t->facs[t->len] = fac;
        t->len++;
        t->df++;
        t->ndf += (self->local[i].tf & TF_NAME_MASK) != 0;
        self->fwd[self->nfwd++] = self->local[i].term;
    }
    for (int l = 0; l < depth; l++) {
        catalog_search__vec_t *v = &self->node[nodes[l]].docs;
        v->v[v->len++] = ord;
    }
    if (brand != NONE) {
        catalog_search__vec_t *v = &self->brand_docs[brand];
        v->v[v->len++] = ord;
    }
    for (int f = 0; f < F_COUNT; f++)
        self->len_sum[f] += (lens >> (8 * f)) & 0xff;
    self->doc_key[ord] = key;
    self->key_ord.v[key] = ord;
    self->fac[ord] = fac;
    int64_t secs = doc->created_ms / 1000;
    self->age[ord] = secs < 0 ? 0 : secs > UINT32_MAX ? UINT32_MAX : (uint32_t) secs;
    catalog_search__row_t *row = &self->row[ord];
    row->price = doc->price_minor;
    row->created = doc->created_ms;
    row->popularity = self->pop[ord] = (float) doc->popularity;
    row->brand = brand;
    for (int l = 0; l < CATALOG_MAX_DEPTH; l++)
        row->cat[l] = self->cat[l][ord] = nodes[l] == NONE ? NONE16 : (uint16_t) nodes[l];
    self->lens[ord] = lens;
    catalog_search__bit_set (self->alive, ord, true);
    catalog_search__bit_set (self->stock, ord, doc->in_stock);
    self->fwd_off[ord + 1] = self->nfwd;
    self->ndocs++;
    self->nalive++;
    //  Last, when its row and bits are set: the product offers itself to its terms' best lists.
    for (uint32_t i = 0; i < nlocal; i++)
        catalog_search__best_offer (self, self->local[i].term, ord, self->local[i].tf);
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
    catalog_search__bit_set (self->stock, ord, in_stock);
    return 0;
}

int
catalog_search_stock (const catalog_search_t *self, const char *id)
{
    uint32_t ord = self ? s_find (self, id) : NONE;
    if (ord == NONE)
        return -VE_NOT_FOUND;
    return catalog_search__bit (self->stock, ord) ? 1 : 0;
}

int
catalog_search_set_popularity (catalog_search_t *self, const char *id, double popularity)
{
    if (!isfinite (popularity))
        return -VE_INVAL;
    uint32_t ord = self ? s_find (self, id) : NONE;
    if (ord == NONE)
        return -VE_NOT_FOUND;
    float was = self->row[ord].popularity;
    self->row[ord].popularity = self->pop[ord] = (float) popularity;
    if (self->row[ord].popularity == was)
        return 0;
    //  It leaves the best lists of its terms and offers itself again at its new place (one
    //  that fell behind the last of a list simply leaves it).
    for (uint64_t i = self->fwd_off[ord]; i < self->fwd_off[ord + 1]; i++) {
        const catalog_search__term_t *t = &self->term[self->fwd[i]];
        if (!t->best)
            continue;
        catalog_search__best_drop (self, self->fwd[i], ord);
        catalog_search__best_offer (self, self->fwd[i], ord, t->tfs[s_posting (t, ord)]);
    }
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
s_remap_vec (catalog_search__vec_t *v, const uint32_t *remap)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < v->len; i++)
        if (remap[v->v[i]] != NONE)
            v->v[k++] = remap[v->v[i]];
    v->len = k;
}

//  Gives a term's posting arrays exactly its length (none when it has no postings left).
static void
s_term_fit (catalog_search__term_t *t)
{
    uint32_t k = t->len;
    if (k == 0) {
        free (t->best);
        t->best = NULL;
        t->nbest = 0;
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
}

int
catalog_search_compact (catalog_search_t *self)
{
    if (!self)
        return -VE_INVAL;
    if (catalog_search__sort_pending (self))
        return -VE_NOMEM;
    if (self->nalive == self->ndocs) {
        //  Nothing to drop (a bulk load, a rebuild at start): the ordinals, the id dictionary
        //  and the columns stay as they are, only the postings' growth slack goes. At 10M
        //  products that is most of the 7 s a full compaction takes.
        for (uint32_t id = 0; id < self->terms.n; id++)
            s_term_fit (&self->term[id]);
        return 0;
    }
    uint32_t *remap = malloc (((size_t) self->ndocs + 1) * sizeof *remap);
    catalog_search__dict_t keys = { 0 };
    uint32_t *key_ord = NULL;
    if (!remap)
        return -VE_NOMEM;
    //  The id dictionary is rebuilt first, so that running out of memory changes nothing.
    uint32_t n = 0;
    for (uint32_t ord = 0; ord < self->ndocs; ord++) {
        if (!catalog_search__bit (self->alive, ord)) {
            remap[ord] = NONE;
            continue;
        }
        uint32_t key, k = self->doc_key[ord];
        if (catalog_search__dict_intern (&keys, catalog_search__dict_str (&self->keys, k),
                                         catalog_search__dict_len (&self->keys, k), &key, NULL)) {
            catalog_search__dict_free (&keys);
            free (remap);
            return -VE_NOMEM;
        }
        remap[ord] = n++;
    }
    key_ord = malloc (((size_t) n + 1) * sizeof *key_ord);
    if (!key_ord) {
        catalog_search__dict_free (&keys);
        free (remap);
        return -VE_NOMEM;
    }

    //  Postings: drop tombstones, renumber, give back spare room.
    for (uint32_t id = 0; id < self->terms.n; id++) {
        catalog_search__term_t *t = &self->term[id];
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
        for (uint32_t i = 0; i < t->nbest; i++) {  //  (a best list holds live products only)
            assert (remap[t->best[i].doc] != NONE);
            t->best[i].doc = remap[t->best[i].doc];
        }
        s_term_fit (t);
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
        self->age[to] = self->age[ord];
        for (int l = 0; l < CATALOG_MAX_DEPTH; l++)
            self->cat[l][to] = self->cat[l][ord];
        self->pop[to] = self->pop[ord];
        self->lens[to] = self->lens[ord];
        catalog_search__bit_set (self->stock, to, catalog_search__bit (self->stock, ord));
    }
    self->fwd_off[n] = nfwd;
    self->nfwd = nfwd;
    if (self->alive)  //  an empty index has no bitsets yet
        memset (self->alive, 0, ((self->doc_cap + 63) / 64) * sizeof (uint64_t));
    for (uint32_t ord = 0; ord < n; ord++)
        catalog_search__bit_set (self->alive, ord, true);
    for (uint32_t ord = n; ord < (self->ndocs + 63) / 64 * 64 && ord < self->doc_cap; ord++)
        catalog_search__bit_set (self->stock, ord, false);
    self->ndocs = n;
    catalog_search__dict_free (&self->keys);
    self->keys = keys;
    free (self->key_ord.v);
    self->key_ord = (catalog_search__vec_t) { key_ord, n, n + 1 };
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
    size_t bytes = sizeof *self + (CATALOG_MAX_WINDOW + 64) * sizeof *self->top;
    bytes += catalog_search__dict_memory (&self->terms) + catalog_search__dict_memory (&self->keys)
             + catalog_search__dict_memory (&self->brands)
             + catalog_search__dict_memory (&self->cats);
    bytes += (size_t) self->term_cap * sizeof *self->term;
    for (uint32_t t = 0; t < self->terms.n; t++)
        bytes += (size_t) self->term[t].cap
                     * (2 * sizeof (uint32_t) + sizeof (uint16_t) + sizeof (uint64_t))
                 + (self->term[t].best ? SUG_BEST * sizeof (catalog_search__pick_t) : 0);
    bytes += (size_t) self->sorted_cap * 4 + (size_t) self->pending.cap * 4;
    bytes += self->dels ? ((size_t) self->del_mask + 1) * sizeof *self->dels : 0;
    bytes += (size_t) self->key_ord.cap * 4;
    //  Per-ordinal columns: the row, facet word, key, lengths, age, forward offset, two bits.
    bytes += (size_t) self->doc_cap
                 * (sizeof (catalog_search__row_t) + 8 + 4 + 4 + 4 + 8 + 2 * CATALOG_MAX_DEPTH + 4)
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
    bytes += catalog_search__query_memory (self);
    bytes += (size_t) self->facets_cap * sizeof *self->facets;
    return bytes;
}
