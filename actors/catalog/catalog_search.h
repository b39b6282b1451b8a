//  catalog_search.h — the catalog's in-memory search index (docs/search.md).
//  Full text over title, brand, attributes and description with BM25F ranking, prefix matching
//  on the last word, one-typo tolerance, filters, exact facets over the whole result set, sorts
//  and paging. The catalog actor owns the products (RocksDB) and feeds every write here; the
//  index keeps only what search needs and is rebuilt by putting every product on start.
//
//  Thread rule: an index is single-threaded. Every call, queries included (they reuse scratch
//  memory and sort new terms lazily), must come from one thread at a time.
#ifndef CATALOG_SEARCH_H
#define CATALOG_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "venum.h"
#include "verr.h"
#include "vlimits.h"

#define CATALOG_MAX_QUERY     256    //  bytes of query text
#define CATALOG_MAX_WORDS     16     //  words in a query (after stop words are dropped)
#define CATALOG_MAX_LIMIT     100    //  hits per page
#define CATALOG_MAX_WINDOW    10000  //  offset + limit: deeper paging is refused
#define CATALOG_MAX_ID        VLIM_PRODUCT_ID
#define CATALOG_MAX_FIELD     65536  //  bytes in any one text field of a product
#define CATALOG_MAX_ATTRS     64     //  attributes per product
#define CATALOG_MAX_DEPTH     4      //  levels in a category path ("a/b/c/d")
#define CATALOG_MAX_TOKEN     48     //  bytes kept of a token (longer ones are cut)
#define CATALOG_FACET_BRANDS  50     //  brands returned in a facet (the most frequent)
#define CATALOG_PRICE_BUCKETS 8      //  fixed price ranges, see catalog_result_t.prices

typedef struct catalog_search_s catalog_search_t;

//  A product as the index sees it. Every pointer is borrowed for the call; NULL strings are
//  empty. Only active products are searchable: putting an inactive one removes it.
typedef struct {
    const char *id;                //  required, 1..CATALOG_MAX_ID bytes
    const char *title;             //  searched, weight 3
    const char *brand;             //  searched, weight 2; also a filter and a facet (exact string)
    const char *description;       //  searched, weight 1
    const char *category;          //  "furniture/chairs/office": filter and facet; may be empty
    const char *const *attr_keys;  //  attribute values are searched (weight 1.5), keys are not
    const char *const *attr_values;  //  nattrs entries each
    size_t nattrs;
    int64_t price_minor;  //  price in minor units (cents)
    bool in_stock;
    bool active;         //  false for drafts and archived products
    int64_t created_ms;  //  for CATALOG_SORT_NEWEST
    double popularity;   //  for CATALOG_SORT_POPULAR; any finite value
} catalog_doc_t;

//  In the order of VENUM_SORT (schemas/venum.h), whose text the request's "sort" carries:
//  RELEVANCE is BM25F with exact words before prefix and typo matches; NEWEST orders by
//  created_ms, newest first; POPULAR by popularity, highest first.
typedef enum {
#define CATALOG_SORT_(name, text) CATALOG_SORT_##name,
    VENUM_SORT (CATALOG_SORT_)
#undef CATALOG_SORT_
} catalog_sort_t;

//  A query; a zeroed struct with limit set is "everything, by relevance". Every word must
//  match (AND): a word matches itself; the last word also its completions when it has 2+
//  characters (a stop word that ends the text counts as such a word: "the" finds "thermal");
//  a word of 5+ characters without digits that is neither a word of the catalog nor, as the
//  last word, the beginning of one also matches its one-edit variants. When that finds
//  nothing, every word of 4+ characters without digits matches its one-edit variants too
//  ("weed" finds "tweed"). Completions and variants rank by how common they are. Empty text
//  matches every product that passes the filters (relevance then means popularity). Equal
//  keys rank the older product (created_ms) first, then the smaller id.
typedef struct {
    const char *text;      //  NULL or "" = no text
    const char *category;  //  NULL or "" = any; else a whole path prefix ("furniture/chairs")
    const char *brand;     //  NULL or "" = any; else the exact brand string
    int64_t price_min;     //  inclusive, minor units; 0 and
    int64_t price_max;     //  inclusive; 0 = no upper bound
    bool in_stock_only;
    catalog_sort_t sort;
    uint32_t offset;  //  offset + limit <= CATALOG_MAX_WINDOW
    uint32_t limit;   //  1..CATALOG_MAX_LIMIT
} catalog_query_t;

typedef struct {
    const char *id;  //  the product id
    float score;     //  relevance (sort = RELEVANCE with text), else 0
} catalog_hit_t;

typedef struct {
    const char *name;  //  category path ("furniture/chairs") or brand
    uint32_t count;    //  products in the full result set
} catalog_facet_t;

typedef struct {
    int64_t min, max;  //  inclusive minor units; max = INT64_MAX for the last bucket
    uint32_t count;
} catalog_price_bucket_t;

//  What a query found. Every pointer is borrowed from the index and valid until the next call
//  on it (any call: query, put, remove …); copy what must live longer.
typedef struct {
    uint32_t total;  //  exact number of matching products
    const catalog_hit_t *hits;
    uint32_t nhits;  //  the page: min (limit, total - offset)
    //  Facets, exact over the full result set, each sorted by count (then name):
    const catalog_facet_t *categories;  //  top-level categories
    uint32_t ncategories;
    const catalog_facet_t *subcategories;  //  the level below query->category (none without)
    uint32_t nsubcategories;
    const catalog_facet_t *brands;  //  at most CATALOG_FACET_BRANDS, the most frequent
    uint32_t nbrands;
    uint32_t brands_left_out;  //  brands with matches that are not in brands
    catalog_price_bucket_t prices[CATALOG_PRICE_BUCKETS];  //  fixed ranges, in order
    //  For "did you mean": each query word as the first hit matched it — itself (or one of its
    //  completions), or the one-edit variant that scored best in that product. corrected: at
    //  least one word is such a variant.
    const char *const *words;
    uint32_t nwords;
    bool corrected;
} catalog_result_t;

//  Creates an empty index. Returns NULL when out of memory.
catalog_search_t *catalog_search_new (void);

//  Frees the index and sets *self_p to NULL; does nothing when it is already NULL.
void catalog_search_destroy (catalog_search_t **self_p);

//  Adds a product or replaces the one with the same id (an inactive one is removed). Copies
//  what it keeps. Returns 0, -VE_INVAL (no id, NULL doc, category deeper than
//  CATALOG_MAX_DEPTH or with an empty segment), -VE_TOOBIG (a field over its limit) or
//  -VE_NOMEM (the index is unchanged then for a new product; a replaced one is removed).
int catalog_search_put (catalog_search_t *self, const catalog_doc_t *doc);

//  A product's searched text as tokens, made without an index, so on any thread: a rebuild
//  tokenises on the thread that reads the store while another indexes. Filled by
//  catalog_search_tokenize, read by catalog_search_put_tokens; reusable (its buffer grows and
//  stays); catalog_tokens_free releases it.
typedef struct {
    unsigned char *buf;  //  per token: its field, its length, its bytes
    size_t len, cap;
} catalog_tokens_t;

//  The tokens of doc's title, brand, description and attribute values into tok (emptied
//  first). Returns 0, -VE_INVAL (NULL arguments) or -VE_NOMEM.
int catalog_search_tokenize (const catalog_doc_t *doc, catalog_tokens_t *tok);
void catalog_tokens_free (catalog_tokens_t *tok);
//  catalog_search_put with doc's tokens made already (catalog_search_tokenize of the same doc):
//  the same result, without tokenising here.
int catalog_search_put_tokens (catalog_search_t *self, const catalog_doc_t *doc,
                               const catalog_tokens_t *tok);

//  Removes a product. Returns 0, or -VE_NOT_FOUND when no active product has that id.
int catalog_search_remove (catalog_search_t *self, const char *id);

//  Updates one column of an indexed product, visible to the next query.
//  Returns 0 or -VE_NOT_FOUND (no active product with that id; inactive ones are not kept).
int catalog_search_set_stock (catalog_search_t *self, const char *id, bool in_stock);
int catalog_search_set_popularity (catalog_search_t *self, const char *id, double popularity);
//  The in-stock flag of an indexed product: 1 or 0, or -VE_NOT_FOUND (no active product).
int catalog_search_stock (const catalog_search_t *self, const char *id);

//  Runs a query and fills *out (borrowed from the index, see catalog_result_t).
//  Returns 0, -VE_INVAL (NULL arguments, limit 0, bad sort, price_min > price_max) or
//  -VE_TOOBIG (text over CATALOG_MAX_QUERY bytes, more than CATALOG_MAX_WORDS words, limit over
//  CATALOG_MAX_LIMIT, offset + limit over CATALOG_MAX_WINDOW), or -VE_NOMEM.
int catalog_search_query (catalog_search_t *self, const catalog_query_t *q, catalog_result_t *out);

//  A query whose driving word has at least min_work postings (a browse: products to walk) runs
//  on two threads, each over half the ordinals, merged exactly: the same result as one thread
//  gives. 0 keeps every query on the caller's thread. The default is CATALOG_SPLIT_MIN: below
//  it, handing half over to the helper thread costs more than it saves.
#define CATALOG_SPLIT_MIN 65536
void catalog_search_set_split (catalog_search_t *self, uint32_t min_work);
//  Queries that ran on two threads so far.
uint64_t catalog_search_splits (const catalog_search_t *self);

//  ---------------------------------------------------------------- suggestions as you type
#define CATALOG_SUGGEST_COMPLETIONS 8  //  at most, per call (the schema's limit range is 1..8)
#define CATALOG_SUGGEST_PRODUCTS    4  //  at most, per call
#define CATALOG_SUGGEST_SAMPLE      256  //  products matching the words before the last that
                                         //  rank the last word's completions (the first ones)

//  A byte range of a text: what matched the shopper's words.
typedef struct {
    uint32_t start, len;
} catalog_span_t;

typedef struct {
    const char *text;   //  the words before the last (as matched), then the completed last word
    uint32_t matched;   //  bytes at the start of text that the shopper's words matched
    uint32_t count;     //  products with the completion (one word: live products naming it;
                        //  after other words: among the first CATALOG_SUGGEST_SAMPLE matching them)
    bool corrected;     //  the last word was matched by a one-edit variant of a prefix
    bool searched;      //  one of what shoppers searched (count: how often, rounded)
} catalog_completion_t;

//  What catalog_search_suggest found. Borrowed from the index like catalog_result_t.
typedef struct {
    const catalog_completion_t *completions;  //  likeliest first
    uint32_t ncompletions;
    const catalog_hit_t *products;  //  products carrying the first completions (score: 0)
    uint32_t nproducts;
    //  The words to mark in a title (catalog_search_mark): the words before the last as
    //  matched (whole tokens), then the distinct prefixes the completions matched.
    const char *const *words;
    uint32_t nwords, nprefixes;  //  the last nprefixes of words are prefixes
} catalog_suggest_t;

//  Suggestions for a search box: the last word of text is taken as half-typed. Completions are
//  first what shoppers searched that begins with the text (catalog_search_set_searched), the
//  most searched first: at most half of ncompletions, rounded up, while the catalog has
//  completions to fill the rest. Then the terms the last word begins, likeliest first: by how
//  many products name them (after other words: by how many of the products matching those
//  carry them, estimated from the first CATALOG_SUGGEST_SAMPLE), then shorter, then in byte
//  order; a text already offered as searched is not repeated. When no term begins it, a word
//  of 4+ bytes without digits is read with one edit (insertion, deletion, substitution, swap)
//  in its prefix ("chiar" → "chair"); an earlier word that is no term takes its commonest
//  one-edit variant. Products: those carrying the first completions of the catalog, the ones
//  with it in the title first, then by popularity, shorter title, older, smaller id. Stop
//  words are dropped but as the last word. Returns 0, -VE_INVAL (NULL arguments, ncompletions
//  or nproducts over the maxima), -VE_TOOBIG (text over CATALOG_MAX_QUERY bytes, more than
//  CATALOG_MAX_WORDS words) or -VE_NOMEM. Empty text gives nothing.
int catalog_search_suggest (catalog_search_t *self, const char *text, uint32_t ncompletions,
                            uint32_t nproducts, catalog_suggest_t *out);

//  What shoppers searched, for suggest to offer: n texts (any order, each at most
//  CATALOG_MAX_QUERY bytes) with how often each was searched (finite, > 0). A text is kept in
//  its normal form — its words as a query reads them, stop words included, one space between —
//  when every word but the stop words is a word of a live product; equal forms are added up.
//  Replaces what an earlier call set. Suggest offers those that begin with what the shopper
//  typed (normalised the same way), the most searched first, and checks their words again
//  then (a product archived since). Returns how many forms are kept, or -VE_INVAL (NULL
//  arguments) or -VE_NOMEM (the earlier table stays).
int catalog_search_set_searched (catalog_search_t *self, const char *const *texts,
                                 const double *counts, uint32_t n);

//  Marks in text (len bytes: a title, a completion) the tokens that match words: a token equal
//  to one of the first nwords - nprefixes words, or beginning with one of the last nprefixes
//  (then only the bytes of text that make up that prefix are marked). Tokenised as the index
//  does, so "Éclair" is marked for "ecl". Writes at most max spans into out, in order; returns
//  how many. Thread-safe.
uint32_t catalog_search_mark (const char *text, size_t len, const char *const *words,
                              uint32_t nwords, uint32_t nprefixes, catalog_span_t *out,
                              uint32_t max);

//  Drops replaced and removed products from the postings and columns, sorts new dictionary
//  terms in and trims spare capacity. Results do not change. Put and remove compact on their
//  own once a quarter of the slots are dead; call this after a bulk load (to give back the
//  growth slack) or when idle. Returns 0 or -VE_NOMEM (the index is then unchanged).
int catalog_search_compact (catalog_search_t *self);

//  Readies the index for queries after a bulk load or a restart: new terms sorted in, and the
//  query scratch (about 30 bytes per product) allocated for every product and touched, so its
//  page faults happen here and not in the first shoppers' queries (at 10M products 300 MB,
//  which a first query paid for while the kernel was still reclaiming the page cache the load
//  filled). Returns 0 or -VE_NOMEM (queries then allocate as they go, as before).
int catalog_search_prepare (catalog_search_t *self);

//  Products currently searchable (active, not removed).
uint32_t catalog_search_size (const catalog_search_t *self);

//  Bytes of heap the index holds (its arrays and tables, scratch included).
size_t catalog_search_memory (const catalog_search_t *self);

//  The tokeniser the index uses, for tests and highlighting: writes the tokens of text (len
//  bytes) into out (size bytes) separated by single spaces and NUL-terminated, cut short when
//  out is full. Lowercases ASCII, folds Latin-1 letters (é → e, ß → ss), splits on everything
//  else that is not a letter or digit (other non-ASCII letters are kept as bytes) and drops
//  English stop words. Returns the number of tokens written. Thread-safe.
size_t catalog_search_tokens (const char *text, size_t len, char *out, size_t size);

#endif
