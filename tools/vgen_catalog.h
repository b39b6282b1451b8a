//  vgen_catalog.h — the deterministic demo catalog: product i is a pure function of i.
//  Three departments (furniture, gadgets, fashion), 8 leaf categories each in 2–3 level paths,
//  30 brands each, titles, descriptions and attributes from department vocabularies, prices per
//  category, Zipf-like popularity. Used by the seeder, the search tests and the benchmarks.
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
    char title[128];        //  "Oakline Ergonomic Mesh Office Chair"
    char brand[32];         //  "Oakline"
    char description[640];  //  20–60 words
    char category[64];      //  "furniture/chairs/office"
    char scene[16];         //  3D shape family for the renderer: "chair", "lamp", "phone" …
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

//  The departments' leaf categories ("furniture/chairs/office" …): NULL past the last one.
const char *vgen_category (size_t i);

#endif
