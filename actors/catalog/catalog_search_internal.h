//  catalog_search_internal.h — what the files of the search index share (not a public API).
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

#endif
