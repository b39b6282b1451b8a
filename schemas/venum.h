//  venum.h — the enumerations of the messages, defined once as X-macro lists. From each list
//  come the NULL-terminated string table the schemas check values against (vmsg_field_t
//  .values, listed in docs/messages.md and docs/openapi.yaml) and, where C code switches on the
//  value, the C enum in the same order (catalog_sort_t from VENUM_SORT).
#ifndef VENUM_H
#define VENUM_H

//  X (NAME, "wire text")
#define VENUM_SORT(X)                                                                              \
    X (RELEVANCE, "relevance")                                                                     \
    X (PRICE_ASC, "price_asc")                                                                     \
    X (PRICE_DESC, "price_desc")                                                                   \
    X (NEWEST, "newest")                                                                           \
    X (POPULAR, "popular")

#define VENUM_PRODUCT_STATUS(X)                                                                    \
    X (DRAFT, "draft")                                                                             \
    X (ACTIVE, "active")                                                                           \
    X (ARCHIVED, "archived")

//  The string tables (schemas/vschemas.c), NULL-terminated, in list order.
extern const char *const venum_sort[];
extern const char *const venum_product_status[];

//  The position of s in a NULL-terminated table, or -1 (also for s NULL).
int venum_index (const char *const *table, const char *s);

#endif
