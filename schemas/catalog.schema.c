//  catalog.schema.c — the catalog service: products, categories, and search. One writer
//  (service "catalog") takes admin writes; read replicas (service "catalog-read") follow its
//  event stream and serve the same reads. docs/catalog.md explains the model and search.
#include "vbus.h"
#include "venum.h"
#include "vlimits.h"
#include "vmsg.h"

#define CAT_ID    VLIM_PRODUCT_ID
#define CAT_TEXT  VLIM_TITLE     //  bytes in a title, brand, sku
#define CAT_DESC  8192   //  bytes in a description
#define CAT_PATH  200    //  bytes in a category path
#define CAT_QUERY 256    //  bytes of search text
#define CAT_SCENE 65536  //  bytes in a scene document (msgpack, render-cuda/vscene.h)
#define CAT_HASH  VLIM_SCENE_HASH

//  ---------------------------------------------------------------- the product
static const vmsg_field_t s_product_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_ID), .doc = "product id" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "stock keeping unit" },
    { "title", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "product name" },
    { "description", VMSG_STR, VMSG_LEN (0, CAT_DESC), .doc = "long text" },
    { "brand", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "brand name" },
    { "category", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_PATH),
      .doc = "category path, 1..4 levels of [a-z0-9-] joined by '/'" },
    { "price", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, VLIM_MONEY), .doc = "price in minor units" },
    { "currency", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (VLIM_CURRENCY, VLIM_CURRENCY), .doc = "ISO 4217 code, e.g. EUR" },
    { "attributes", VMSG_MAP, VMSG_STR, VMSG_LEN (0, CAT_TEXT), VMSG_COUNT (0, 64),
      .doc = "key/value attributes (colour, material, …)" },
    { "images", VMSG_ARRAY, VMSG_STR, VMSG_LEN (1, 512), VMSG_COUNT (0, 16), .doc = "image URLs" },
    { "scene", VMSG_STR, VMSG_LEN (0, CAT_TEXT),
      .doc = "reference to the product's 3D scene (the renderer's scene id)" },
    { "scene_hash", VMSG_STR, VMSG_LEN (CAT_HASH, CAT_HASH),
      .doc = "hash of the product's 3D scene document (catalog.put_scene); absent when none" },
    { "status", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_product_status), .doc = "life cycle" },
    { "in_stock", VMSG_BOOL, .doc = "from the inventory stream; true until told otherwise" },
    { "popularity", VMSG_FLOAT, .doc = "from analytics; orders the 'popular' sort" },
    { "created_at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms" },
    { "updated_at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms" },
    { 0 }
};
static const vmsg_schema_t s_product = { "catalog.product", s_product_fields, .doc = "A product." };

//  create and update take the same fields; create requires the core ones.
static const vmsg_field_t s_create_fields[] = {
    { "id", VMSG_STR, VMSG_LEN (1, CAT_ID),
      .doc = "optional id ([a-zA-Z0-9_-]); made up when absent; conflict when taken" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "stock keeping unit" },
    { "title", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "product name" },
    { "description", VMSG_STR, VMSG_LEN (0, CAT_DESC), .doc = "long text" },
    { "brand", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "brand name" },
    { "category", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_PATH), .doc = "category path" },
    { "price", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, VLIM_MONEY), .doc = "minor units" },
    { "currency", VMSG_STR, VMSG_LEN (VLIM_CURRENCY, VLIM_CURRENCY), .doc = "ISO 4217 (default EUR)" },
    { "attributes", VMSG_MAP, VMSG_STR, VMSG_LEN (0, CAT_TEXT), VMSG_COUNT (0, 64),
      .doc = "key/value attributes" },
    { "images", VMSG_ARRAY, VMSG_STR, VMSG_LEN (1, 512), VMSG_COUNT (0, 16), .doc = "URLs" },
    { "scene", VMSG_STR, VMSG_LEN (0, CAT_TEXT), .doc = "3D scene reference" },
    { "status", VMSG_STR, VMSG_LEN (1, 16), VMSG_ENUM (venum_product_status),
      .doc = "life cycle (default draft)" },
    { 0 }
};
static const vmsg_schema_t s_create = { "catalog.create.request", s_create_fields,
                                        .doc = "A new product." };
static const vmsg_field_t s_update_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_ID), .doc = "which product" },
    { "sku", VMSG_STR, VMSG_LEN (1, CAT_TEXT), .doc = "new sku" },
    { "title", VMSG_STR, VMSG_LEN (1, CAT_TEXT), .doc = "new title" },
    { "description", VMSG_STR, VMSG_LEN (0, CAT_DESC), .doc = "new description" },
    { "brand", VMSG_STR, VMSG_LEN (1, CAT_TEXT), .doc = "new brand" },
    { "category", VMSG_STR, VMSG_LEN (1, CAT_PATH), .doc = "new category path" },
    { "price", VMSG_INT, VMSG_RANGE (0, VLIM_MONEY), .doc = "new price, minor units" },
    { "currency", VMSG_STR, VMSG_LEN (VLIM_CURRENCY, VLIM_CURRENCY), .doc = "new currency" },
    { "attributes", VMSG_MAP, VMSG_STR, VMSG_LEN (0, CAT_TEXT), VMSG_COUNT (0, 64),
      .doc = "replaces all attributes" },
    { "images", VMSG_ARRAY, VMSG_STR, VMSG_LEN (1, 512), VMSG_COUNT (0, 16),
      .doc = "replaces all images" },
    { "scene", VMSG_STR, VMSG_LEN (0, CAT_TEXT), .doc = "new scene reference" },
    { "status", VMSG_STR, VMSG_LEN (1, 16), VMSG_ENUM (venum_product_status),
      .doc = "new life cycle state" },
    { 0 }
};
static const vmsg_schema_t s_update = { "catalog.update.request", s_update_fields,
                                        .doc = "Fields to change; absent ones stay." };
static const vmsg_field_t s_id_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_ID), .doc = "product id" }, { 0 }
};
static const vmsg_schema_t s_id = { "catalog.id", s_id_fields, .doc = "Which product." };
static const vmsg_field_t s_ids_fields[] = {
    { "ids", VMSG_ARRAY, VMSG_STR, VMSG_REQUIRED, VMSG_COUNT (1, 100), VMSG_LEN (1, CAT_ID),
      .doc = "product ids (a cart's lines)" },
    { 0 }
};
static const vmsg_schema_t s_ids = { "catalog.get_many.request", s_ids_fields,
                                     .doc = "Which products." };
static const vmsg_field_t s_many_fields[] = {
    { "products", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 100), .schema = &s_product,
      .doc = "the ones found, in the order asked" },
    { "missing", VMSG_ARRAY, VMSG_STR, VMSG_REQUIRED, VMSG_COUNT (0, 100), VMSG_LEN (1, CAT_ID),
      .doc = "the ones not found (or not shown to this caller)" },
    { 0 }
};
static const vmsg_schema_t s_many = { "catalog.get_many.reply", s_many_fields,
                                      .doc = "Products, and the ids that are not." };

//  ---------------------------------------------------------------- listing
static const vmsg_field_t s_list_fields[] = {
    { "category", VMSG_STR, VMSG_LEN (0, CAT_PATH),
      .doc = "category path; its subcategories included; empty = all" },
    { "cursor", VMSG_STR, VMSG_LEN (0, 512), .doc = "from the previous page's next_cursor" },
    { "limit", VMSG_UINT, VMSG_RANGE (1, 100), .doc = "products per page (default 24)" },
    { 0 }
};
static const vmsg_schema_t s_list = { "catalog.list.request", s_list_fields,
                                      .doc = "A page of a category, in id order." };
static const vmsg_field_t s_list_reply_fields[] = {
    { "products", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_product,
      .doc = "active products" },
    { "next_cursor", VMSG_STR, VMSG_LEN (0, 512), .doc = "absent on the last page" },
    { 0 }
};
static const vmsg_schema_t s_list_reply = { "catalog.list.reply", s_list_reply_fields,
                                            .doc = "A page of products." };
static const vmsg_field_t s_facet_fields[] = {
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, CAT_PATH), .doc = "category path or brand" },
    { "count", VMSG_UINT, VMSG_REQUIRED, .doc = "active products" },
    { 0 }
};
static const vmsg_schema_t s_facet = { "catalog.facet", s_facet_fields,
                                       .doc = "A name and how many products have it." };
static const vmsg_field_t s_categories_reply_fields[] = {
    { "categories", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_facet,
      .doc = "every category path at every level, with counts, in path order" },
    { 0 }
};
static const vmsg_schema_t s_categories_reply = { "catalog.categories.reply",
                                                  s_categories_reply_fields,
                                                  .doc = "The category tree, flattened." };

//  ---------------------------------------------------------------- search
static const vmsg_field_t s_search_fields[] = {
    { "q", VMSG_STR, VMSG_LEN (0, CAT_QUERY), .doc = "words; the last one also as a prefix" },
    { "category", VMSG_STR, VMSG_LEN (0, CAT_PATH), .doc = "category path filter" },
    { "brand", VMSG_STR, VMSG_LEN (0, CAT_TEXT), .doc = "exact brand filter" },
    { "price_min", VMSG_INT, VMSG_RANGE (0, VLIM_MONEY), .doc = "minor units, inclusive" },
    { "price_max", VMSG_INT, VMSG_RANGE (0, VLIM_MONEY), .doc = "minor units, inclusive" },
    { "in_stock", VMSG_BOOL, .doc = "only products in stock" },
    { "sort", VMSG_STR, VMSG_LEN (0, 16), VMSG_ENUM (venum_sort),
      .doc = "the order of hits (default relevance)" },
    { "offset", VMSG_UINT, VMSG_MAX (9999), .doc = "hits to skip" },
    { "limit", VMSG_UINT, VMSG_RANGE (1, 100), .doc = "hits per page (default 20)" },
    { 0 }
};
static const vmsg_schema_t s_search = { "catalog.search.request", s_search_fields,
                                        .doc = "A search with filters, sort and paging." };
static const vmsg_field_t s_hit_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_ID), .doc = "product id" },
    { "title", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "product name" },
    { "brand", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "brand" },
    { "category", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_PATH), .doc = "category path" },
    { "price", VMSG_INT, VMSG_REQUIRED, .doc = "minor units" },
    { "currency", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (VLIM_CURRENCY, VLIM_CURRENCY), .doc = "ISO 4217" },
    { "in_stock", VMSG_BOOL, VMSG_REQUIRED, .doc = "in stock" },
    { "scene", VMSG_STR, VMSG_LEN (0, CAT_TEXT), .doc = "3D scene reference" },
    { "scene_hash", VMSG_STR, VMSG_LEN (CAT_HASH, CAT_HASH),
      .doc = "the scene document's hash, for versioned frame URLs; absent when none" },
    { "score", VMSG_FLOAT, VMSG_REQUIRED, .doc = "relevance (0 for other sorts)" },
    { 0 }
};
static const vmsg_schema_t s_hit = { "catalog.hit", s_hit_fields,
                                     .doc = "A search result: what a results page shows." };
static const vmsg_field_t s_bucket_fields[] = {
    { "min", VMSG_INT, VMSG_REQUIRED, .doc = "minor units, inclusive" },
    { "max", VMSG_INT, .doc = "minor units, inclusive; absent for the last bucket" },
    { "count", VMSG_UINT, VMSG_REQUIRED, .doc = "matching products in the range" },
    { 0 }
};
static const vmsg_schema_t s_bucket = { "catalog.price_bucket", s_bucket_fields,
                                        .doc = "A price range facet." };
static const vmsg_field_t s_facets_fields[] = {
    { "categories", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_facet,
      .doc = "top-level categories over all matches" },
    { "subcategories", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_facet,
      .doc = "the level below the category filter" },
    { "brands", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_facet,
      .doc = "the 50 most frequent brands over all matches" },
    { "brands_left_out", VMSG_UINT, VMSG_REQUIRED,
      .doc = "brands with matches that are not in brands (past the 50 most frequent)" },
    { "prices", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_bucket,
      .doc = "fixed price ranges" },
    { 0 }
};
static const vmsg_schema_t s_facets = { "catalog.facets", s_facets_fields,
                                        .doc = "Exact counts over the whole result set." };
static const vmsg_field_t s_search_reply_fields[] = {
    { "total", VMSG_UINT, VMSG_REQUIRED, .doc = "exact number of matches" },
    { "hits", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, .schema = &s_hit, .doc = "this page" },
    { "facets", VMSG_MSG, VMSG_REQUIRED, .schema = &s_facets, .doc = "counts" },
    { "corrected", VMSG_BOOL, VMSG_REQUIRED, .doc = "a word was matched by a typo variant" },
    { "words", VMSG_ARRAY, VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 64),
      .doc = "the query words as matched (for 'did you mean')" },
    { 0 }
};
static const vmsg_schema_t s_search_reply = { "catalog.search.reply", s_search_reply_fields,
                                              .doc = "Hits, total and facets." };

//  ---------------------------------------------------------------- suggestions as you type
#define CAT_SUGGEST_Q 128  //  bytes of a search box's text
static const vmsg_field_t s_suggest_fields[] = {
    { "q", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_SUGGEST_Q),
      .doc = "what the shopper typed; the last word is taken as half-typed" },
    { "limit", VMSG_UINT, VMSG_RANGE (1, 8), .doc = "completions at most (default 8)" },
    { "products", VMSG_UINT, VMSG_MAX (4), .doc = "products at most (default 4; 0 = none)" },
    { 0 }
};
static const vmsg_schema_t s_suggest = { "catalog.suggest.request", s_suggest_fields,
                                         .doc = "A search box's text, as typed." };
static const vmsg_field_t s_span_fields[] = {
    { "start", VMSG_UINT, VMSG_REQUIRED, .doc = "byte offset in the text (UTF-8)" },
    { "len", VMSG_UINT, VMSG_REQUIRED, .doc = "bytes" },
    { 0 }
};
static const vmsg_schema_t s_span = { "catalog.span", s_span_fields,
                                      .doc = "A part of a text that matched what was typed." };
static const vmsg_field_t s_completion_fields[] = {
    { "text", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 2 * CAT_QUERY + 64),
      .doc = "the query completed: the words before the last as matched, the completed word" },
    { "marks", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 1), .schema = &s_span,
      .doc = "the part of text that what was typed matched" },
    { "corrected", VMSG_BOOL, VMSG_REQUIRED, .doc = "the last word matched with one edit" },
    { "searched", VMSG_BOOL, VMSG_REQUIRED,
      .doc = "what shoppers searched (analytics.searches), not a completion of the catalog's words" },
    { 0 }
};
static const vmsg_schema_t s_completion = { "catalog.completion", s_completion_fields,
                                            .doc = "A query the shopper may mean." };
static const vmsg_field_t s_suggested_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_ID), .doc = "product id" },
    { "title", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "product name" },
    { "brand", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_TEXT), .doc = "brand" },
    { "price", VMSG_INT, VMSG_REQUIRED, .doc = "minor units" },
    { "currency", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (VLIM_CURRENCY, VLIM_CURRENCY), .doc = "ISO 4217" },
    { "scene", VMSG_STR, VMSG_LEN (0, CAT_TEXT),
      .doc = "3D scene reference: the thumbnail is its frame (/api/v1/products/{id}/frame)" },
    { "scene_hash", VMSG_STR, VMSG_LEN (CAT_HASH, CAT_HASH),
      .doc = "the scene document's hash: the frame URL's v=; absent when none" },
    { "marks", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 32), .schema = &s_span,
      .doc = "the parts of the title that matched what was typed" },
    { 0 }
};
static const vmsg_schema_t s_suggested = { "catalog.suggested_product", s_suggested_fields,
                                           .doc = "A product shown under the search box." };
static const vmsg_field_t s_suggest_reply_fields[] = {
    { "completions", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 8),
      .schema = &s_completion,
      .doc = "what shoppers searched most that begins with q (up to half), then the catalog's "
             "completions by how many products carry them" },
    { "products", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 4), .schema = &s_suggested,
      .doc = "products carrying the first completions" },
    { 0 }
};
static const vmsg_schema_t s_suggest_reply = { "catalog.suggest.reply", s_suggest_reply_fields,
                                               .doc = "Completions and products, marked." };

//  ---------------------------------------------------------------- 3D scenes
static const vmsg_field_t s_put_scene_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_ID), .doc = "which product" },
    { "scene", VMSG_BYTES, VMSG_REQUIRED, VMSG_LEN (1, CAT_SCENE),
      .doc = "the scene document: msgpack, the format of docs/render.md" },
    { 0 }
};
static const vmsg_schema_t s_put_scene = { "catalog.put_scene.request", s_put_scene_fields,
                                           .doc = "A product's new 3D scene." };
static const vmsg_field_t s_scene_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CAT_ID), .doc = "product id" },
    { "scene_hash", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (CAT_HASH, CAT_HASH),
      .doc = "hash of the document (hex)" },
    { "scene", VMSG_BYTES, VMSG_REQUIRED, VMSG_LEN (1, CAT_SCENE),
      .doc = "the scene document, re-encoded canonically" },
    { 0 }
};
static const vmsg_schema_t s_scene = { "catalog.scene", s_scene_fields,
                                       .doc = "A product's 3D scene document." };

//  ---------------------------------------------------------------- events
static const vmsg_field_t s_changed_fields[] = {
    { "product", VMSG_MSG, VMSG_REQUIRED, .schema = &s_product, .doc = "the product as it is now" },
    { "scene", VMSG_BYTES, VMSG_LEN (1, CAT_SCENE),
      .doc = "the new scene document, when this change set it (replicas keep it)" },
    { 0 }
};
static const vmsg_schema_t s_changed = { "catalog.product_changed", s_changed_fields,
                                         .doc = "A product was created or changed." };

#define ADMIN VMSG_ROLE_ADMIN
static const vmsg_method_t s_methods[] = {
    { "catalog", "create", &s_create, &s_product, ADMIN, "Creates a product (admin)." },
    { "catalog", "update", &s_update, &s_product, ADMIN, "Changes a product (admin)." },
    { "catalog", "archive", &s_id, &s_product, ADMIN,
      "Archives a product: no longer listed or found (admin)." },
    { "catalog", "get", &s_id, &s_product, VMSG_ROLE_PUBLIC,
      "A product; drafts and archived ones only for admins." },
    { "catalog", "get_many", &s_ids, &s_many, VMSG_ROLE_PUBLIC,
      "Several products in one call (a cart priced at once); drafts and archived ones only for "
      "admins, as for get." },
    { "catalog", "list", &s_list, &s_list_reply, VMSG_ROLE_PUBLIC,
      "Active products of a category, with cursor paging." },
    { "catalog", "categories", &vmsg_empty, &s_categories_reply, VMSG_ROLE_PUBLIC,
      "The category tree with product counts." },
    { "catalog", "search", &s_search, &s_search_reply, VMSG_ROLE_PUBLIC,
      "Full-text search with filters, facets, sort and paging." },
    { "catalog", "suggest", &s_suggest, &s_suggest_reply, VMSG_ROLE_PUBLIC,
      "Suggestions for a search box: completions of what is typed and a few products, with "
      "the matched parts marked." },
    { "catalog", "put_scene", &s_put_scene, &s_product, ADMIN,
      "Sets a product's 3D scene (validated); the product's scene_hash changes with it (admin)." },
    { "catalog", "get_scene", &s_id, &s_scene, VMSG_ROLE_SERVICE | ADMIN,
      "A product's scene document, for the renderer; not_found when it has none." },
    { 0 }
};
static const vmsg_event_t s_events[] = {
    { "catalog.product_changed", &s_changed, "Every create, update and archive." }, { 0 }
};

const vmsg_domain_t vmsg_domain_catalog = {
    "catalog", s_methods, s_events,
    "Products, categories and search. Writer: service catalog; replicas: catalog-read."
};
