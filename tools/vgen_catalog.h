//  vgen_catalog.h — the deterministic demo catalog: product i is a pure function of i.
//  Three departments (furniture, gadgets, fashion), 8 leaf categories each in 2–3 level paths,
//  a few kinds of product per leaf ("Bar Stool" and "Dining Chair" in furniture/chairs/dining),
//  30 brands per department. Every product is composed from its own attributes: the attributes
//  come from its kind's tables (seaters for sofas, storage for phones, sizes for clothes), the
//  title is built from them ("Black Leather Office Chair"), the description is a small grammar
//  of its category that mentions them, and the scene hint names the 3D shape family with the
//  colour and material the renderer draws ("office_chair:black:leather"). Prices per category,
//  Zipf-like popularity. Used by the seeder, the search tests and the benchmarks.
#ifndef VGEN_CATALOG_H
#define VGEN_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "catalog_search.h"

#define VGEN_MAX_ATTRS 6

//  The reference "now" of the catalog (2025-01-01T00:00:00Z): created_ms lies in the two years
//  before it, so the catalog does not change with the wall clock.
#define VGEN_NOW_MS 1735689600000LL

//  One product; every string lives inside the struct (no allocation, nothing to free).
typedef struct {
    char id[24];            //  "p00000000042"
    char sku[24];           //  "FUR-CHO-000042"
    char title[128];        //  "Oakline Ergonomic Black Leather Office Chair"
    char brand[32];         //  "Oakline"
    char description[640];  //  2–4 sentences, 20–60 words, from the product's attributes
    char category[64];      //  "furniture/chairs/office"
    //  The 3D scene hint for vrender_demo_scene: "family:colour:material[:variant]", where the
    //  variant is a count (seaters, shelves) or a second material (a lamp's shade):
    //  "office_chair:black:leather", "sofa:green:velvet:3", "table_lamp:brass:metal:linen".
    char scene[64];
    const char *attr_keys[VGEN_MAX_ATTRS];  //  static strings ("colour", "material" …)
    const char *attr_values[VGEN_MAX_ATTRS];
    size_t nattrs;
    int64_t price_minor;  //  EUR cents
    bool in_stock;        //  ~92 %
    bool active;          //  ~96 % active; the rest are drafts or archived
    int64_t created_ms;   //  within the two years before VGEN_NOW_MS
    double popularity;    //  Zipf-like: most near 0, a few very large
} vgen_product_t;

//  Fills *out with product number index. Deterministic (same index → same bytes on every
//  machine), no global state: thread-safe. About 2 µs per product.
void vgen_product (uint64_t index, vgen_product_t *out);

//  Points *doc at p's fields (borrowed: valid while p is) for catalog_search_put.
void vgen_product_doc (const vgen_product_t *p, catalog_doc_t *doc);

//  What a search box sends as the shopper types, number i of a fixed mix drawn from the
//  catalog's words: a 2–5 letter prefix of a title's last word, a title's first word and three
//  letters of its last, or five letters of it with two neighbours swapped (a typo). The
//  suggest benchmarks (vitrine-bench-catalog, vitrine-bench-search) both send it.
void vgen_suggest_text (uint64_t i, char *text, size_t size);

//  The value of p's attribute key, or NULL when p has none. Borrowed (static).
const char *vgen_attr (const vgen_product_t *p, const char *key);

//  The departments' leaf categories ("furniture/chairs/office" …): NULL past the last one.
const char *vgen_category (size_t i);

//  The text the generator composes products from, piece by piece: every sentence template,
//  title noun, adjective, attribute value and brand part (static strings, "{colour}" marks a
//  slot). NULL past the last. For tests that check descriptions use real words only.
const char *vgen_vocabulary (size_t i);

#endif
