//  catalog_search_text.c — the tokeniser and the one-edit test of the search index.
//  Documents and queries go through the same lexer, so whatever it folds or cuts, it does the
//  same way on both sides.
#include "catalog_search_internal.h"
#include <string.h>

//  U+00C0..U+00FF folded to ASCII; "" is a separator (× and ÷).
static const char *const s_latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

//  Dropped from documents and queries: they match nearly everything and mean little.
//  Each is at most 4 bytes, compared as one zero-padded 32-bit word.
static const char s_stop[][4] = { "a",    "an",  "and",  "are", "as",  "at",   "be",  "by", "for",
                                  "from", "in",  "into", "is",  "it",  "its",  "of",  "on", "or",
                                  "that", "the", "this", "to",  "was", "with", "your" };

static bool
s_is_stop (const char *tok, size_t len)
{
    if (len > 4)
        return false;
    char word[4] = { 0 };
    memcpy (word, tok, len);
    for (size_t i = 0; i < sizeof s_stop / sizeof s_stop[0]; i++)
        if (memcmp (s_stop[i], word, 4) == 0)
            return true;
    return false;
}

//  Length of the valid UTF-8 sequence at p (2..4), or 0 when it is not one.
static size_t
s_utf8_len (const unsigned char *p, const unsigned char *end)
{
    size_t n = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || (size_t) (end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

//  An ASCII byte as it is indexed: digits and lower-case letters, upper case folded, 0 for a
//  separator.
static const char s_ascii[128] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9',
#define L_(c) [c] = c, [c - 32] = c
    L_ ('a'),    L_ ('b'),    L_ ('c'),    L_ ('d'),    L_ ('e'),    L_ ('f'),    L_ ('g'),
    L_ ('h'),    L_ ('i'),    L_ ('j'),    L_ ('k'),    L_ ('l'),    L_ ('m'),    L_ ('n'),
    L_ ('o'),    L_ ('p'),    L_ ('q'),    L_ ('r'),    L_ ('s'),    L_ ('t'),    L_ ('u'),
    L_ ('v'),    L_ ('w'),    L_ ('x'),    L_ ('y'),    L_ ('z'),
#undef L_
};

//  What the character at lx->p contributes: sets *out/*outlen to the bytes it adds to a token
//  (outlen 0 = a separator) and returns how many input bytes it used.
static size_t
s_char (const unsigned char *p, const unsigned char *end, const char **out, size_t *outlen)
{
    if (*p < 0x80) {
        *out = &s_ascii[*p];
        *outlen = s_ascii[*p] ? 1 : 0;
        return 1;
    }
    size_t n = s_utf8_len (p, end);
    *outlen = 0;
    if (n == 0)
        return 1;  //  not UTF-8: a separator
    if (p[0] == 0xC3) {
        *out = s_latin1[p[1] - 0x80];
        *outlen = strlen (*out);
    }
    else if (p[0] == 0xC2 || (p[0] == 0xE2 && (p[1] == 0x80 || p[1] == 0x81))) {
        //  Latin-1 symbols (U+0080..U+00BF) and general punctuation (U+2000..U+207F)
    }
    else {
        *out = (const char *) p;  //  any other letter: kept as it is
        *outlen = n;
    }
    return n;
}

size_t
catalog_search__next_word (catalog_search__lexer_t *lx, char *tok, bool *stop)
{
    while (lx->p < lx->end) {
        size_t len = 0;
        //  Skip separators, then take characters until the next one. ASCII, nearly all of a
        //  catalog's text, takes one table look per byte (the rebuild tokenises every product).
        while (lx->p < lx->end) {
            if (*lx->p < 0x80) {
                char c = s_ascii[*lx->p];
                if (!c && len > 0)
                    break;
                lx->p++;
                if (c && len < CATALOG_MAX_TOKEN)
                    tok[len++] = c;
                continue;
            }
            const char *out;
            size_t outlen;
            size_t used = s_char (lx->p, lx->end, &out, &outlen);
            if (outlen == 0 && len > 0)
                break;
            lx->p += used;
            //  Past CATALOG_MAX_TOKEN the rest of the token is dropped, never half a letter.
            if (outlen > 0 && len + outlen <= CATALOG_MAX_TOKEN) {
                memcpy (tok + len, out, outlen);
                len += outlen;
            }
        }
        tok[len] = 0;
        if (len > 0) {
            *stop = s_is_stop (tok, len);
            return len;
        }
    }
    tok[0] = 0;
    *stop = false;
    return 0;
}

size_t
catalog_search__next_token (catalog_search__lexer_t *lx, char *tok)
{
    bool stop;
    size_t len;
    while ((len = catalog_search__next_word (lx, tok, &stop)) > 0 && stop)
        ;
    return len;
}

size_t
catalog_search_tokens (const char *text, size_t len, char *out, size_t size)
{
    catalog_search__lexer_t lx;
    char tok[CATALOG_MAX_TOKEN + 1];
    size_t n = 0, used = 0, toklen;
    if (size == 0)
        return 0;
    out[0] = 0;
    if (!text)
        return 0;
    catalog_search__lexer_init (&lx, text, len);
    while ((toklen = catalog_search__next_token (&lx, tok)) > 0) {
        size_t need = toklen + (n ? 1 : 0);
        if (used + need + 1 > size)
            break;
        if (n)
            out[used++] = ' ';
        memcpy (out + used, tok, toklen + 1);
        used += toklen;
        n++;
    }
    return n;
}

bool
catalog_search__within_one (const char *a, size_t la, const char *b, size_t lb)
{
    if (la < lb) {
        const char *t = a;
        a = b;
        b = t;
        size_t tl = la;
        la = lb;
        lb = tl;
    }
    if (la - lb > 1)
        return false;
    size_t i = 0;
    while (i < lb && a[i] == b[i])
        i++;
    if (i == lb)
        return true;  //  equal, or a is b plus one byte at the end
    if (la > lb)      //  a has one byte more: skip it
        return memcmp (a + i + 1, b + i, lb - i) == 0;
    if (memcmp (a + i + 1, b + i + 1, lb - i - 1) == 0)
        return true;  //  one substitution
    return i + 1 < lb && a[i] == b[i + 1] && a[i + 1] == b[i]
           && memcmp (a + i + 2, b + i + 2, lb - i - 2) == 0;  //  one swap
}

//  The token that ends at `end` (input offset) matched: mark the longest match among the words.
static uint32_t
s_mark_token (const char *tok, size_t toklen, const uint32_t *after, uint32_t start,
              const char *const *words, uint32_t nwords, uint32_t nprefixes,
              catalog_span_t *out, uint32_t n, uint32_t max)
{
    uint32_t best = 0;
    for (uint32_t i = 0; i < nwords; i++) {
        size_t wl = strlen (words[i]);
        bool prefix = i >= nwords - nprefixes;
        if (wl == 0 || wl > toklen || memcmp (tok, words[i], wl) != 0
            || (!prefix && wl != toklen))
            continue;
        uint32_t end = after[wl - 1];
        if (end - start > best)
            best = end - start;
    }
    if (best && n < max)
        out[n++] = (catalog_span_t) { start, best };
    return n;
}

uint32_t
catalog_search_mark (const char *text, size_t len, const char *const *words, uint32_t nwords,
                     uint32_t nprefixes, catalog_span_t *out, uint32_t max)
{
    if (!text || !words || nprefixes > nwords)
        return 0;
    const unsigned char *base = (const unsigned char *) text, *p = base, *end = base + len;
    char tok[CATALOG_MAX_TOKEN];
    uint32_t after[CATALOG_MAX_TOKEN];  //  normalised byte i of the token ends at input after[i]
    size_t toklen = 0;
    uint32_t start = 0, n = 0;
    while (p < end) {
        const char *o;
        size_t olen;
        size_t used = s_char (p, end, &o, &olen);
        if (olen == 0) {
            if (toklen)
                n = s_mark_token (tok, toklen, after, start, words, nwords, nprefixes, out, n,
                                  max);
            toklen = 0;
        }
        else {
            if (toklen == 0)
                start = (uint32_t) (p - base);
            //  Past CATALOG_MAX_TOKEN the index drops the rest of a token: so does the mark.
            if (toklen + olen <= CATALOG_MAX_TOKEN) {
                memcpy (tok + toklen, o, olen);
                for (size_t k = 0; k < olen; k++)
                    after[toklen + k] = (uint32_t) (p + used - base);
                toklen += olen;
            }
        }
        p += used;
    }
    if (toklen)
        n = s_mark_token (tok, toklen, after, start, words, nwords, nprefixes, out, n, max);
    return n;
}
