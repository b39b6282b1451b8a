//  test_catalog_search.c — the catalog search index through its public header: tokenising,
//  BM25F ordering, prefix and typo matching, AND, filters, facets checked against a brute
//  force count on a generated catalog, sorts and paging, updates, compaction, limits.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalog_search.h"
#include "vgen_catalog.h"

//  ---------------------------------------------------------------- helpers
typedef struct {
    const char *id, *title, *brand, *description, *category;
    int64_t price;
    bool in_stock;
    double popularity;
    int64_t created;
} s_doc_t;

//  A product in stock with popularity 1, made at time 0.
#define DOC(id, title, brand, description, category, price)                                        \
    {                                                                                              \
        id, title, brand, description, category, price, true, 1, 0                                 \
    }

static void
s_put (catalog_search_t *index, const s_doc_t *d)
{
    catalog_doc_t doc = { .id = d->id,
                          .title = d->title,
                          .brand = d->brand,
                          .description = d->description,
                          .category = d->category,
                          .price_minor = d->price,
                          .in_stock = d->in_stock,
                          .active = true,
                          .created_ms = d->created,
                          .popularity = d->popularity };
    assert_int_equal (catalog_search_put (index, &doc), 0);
}

static catalog_search_t *
s_index (const s_doc_t *docs, size_t n)
{
    catalog_search_t *index = catalog_search_new ();
    assert_non_null (index);
    for (size_t i = 0; i < n; i++)
        s_put (index, &docs[i]);
    return index;
}

static catalog_result_t
s_query (catalog_search_t *index, const char *text)
{
    catalog_query_t q = { .text = text, .limit = 100 };
    catalog_result_t r;
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    return r;
}

//  Position of id among the hits, or -1.
static int
s_rank (const catalog_result_t *r, const char *id)
{
    for (uint32_t i = 0; i < r->nhits; i++)
        if (strcmp (r->hits[i].id, id) == 0)
            return (int) i;
    return -1;
}

static void
s_expect_tokens (const char *text, const char *expected, size_t count)
{
    char out[512];
    size_t n = catalog_search_tokens (text, strlen (text), out, sizeof out);
    assert_string_equal (out, expected);
    assert_int_equal (n, count);
}

//  ---------------------------------------------------------------- tokeniser
static void
test_tokens (void **state)
{
    (void) state;
    s_expect_tokens ("Hello, WORLD!", "hello world", 2);
    s_expect_tokens ("Café Crème Brûlée", "cafe creme brulee", 3);
    s_expect_tokens ("STRASSE Straße ÆON", "strasse strasse aeon", 3);
    s_expect_tokens ("4K TV, 500ml bottle; 1.5 kg", "4k tv 500ml bottle 1 5 kg", 7);
    s_expect_tokens ("the chair and a table for the office", "chair table office", 3);
    s_expect_tokens ("usb-c/hdmi_adapter", "usb c hdmi adapter", 4);
    s_expect_tokens ("smart\xe2\x80\x94phone \xe2\x80\x9cquoted\xe2\x80\x9d", "smart phone quoted",
                     3);
    s_expect_tokens ("\xe6\x97\xa5\xe6\x9c\xac tea", "\xe6\x97\xa5\xe6\x9c\xac tea", 2);
    s_expect_tokens ("bad \xff\xfe bytes \xc3", "bad bytes", 2);
    s_expect_tokens ("", "", 0);
    char longword[100], expect[100];
    memset (longword, 'x', 80);
    longword[80] = 0;
    memset (expect, 'x', CATALOG_MAX_TOKEN);
    expect[CATALOG_MAX_TOKEN] = 0;
    s_expect_tokens (longword, expect, 1);
    //  A short buffer cuts at a token boundary.
    char small[8];
    assert_int_equal (catalog_search_tokens ("alpha beta gamma", 16, small, sizeof small), 1);
    assert_string_equal (small, "alpha");
}

//  ---------------------------------------------------------------- ranking
static void
test_bm25_fields (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("in-desc", "Reading light", "Acme", "a bright lamp for reading in bed", "home", 100),
        DOC ("in-title", "Reading lamp", "Acme", "a bright light for reading in bed", "home", 100),
        DOC ("in-brand", "Reading light", "Lamp", "a bright light for reading in bed", "home", 100),
        DOC ("other", "Desk", "Acme", "a desk", "home", 100),
    };
    catalog_search_t *index = s_index (docs, 4);
    catalog_result_t r = s_query (index, "lamp");
    assert_int_equal (r.total, 3);
    assert_string_equal (r.hits[0].id, "in-title");
    assert_string_equal (r.hits[1].id, "in-brand");
    assert_string_equal (r.hits[2].id, "in-desc");
    assert_true (r.hits[0].score > r.hits[1].score && r.hits[1].score > r.hits[2].score);
    catalog_search_destroy (&index);
    assert_null (index);
    catalog_search_destroy (&index);  //  idempotent
}

static void
test_bm25_rarity_and_length (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("rare", "velvet sofa", "", "", "", 1),
        DOC ("common1", "linen sofa", "", "", "", 1),
        DOC ("common2", "linen chair", "", "", "", 1),
        DOC ("common3", "linen table", "", "", "", 1),
        DOC ("short", "oak desk", "", "", "", 1),
        DOC ("long", "oak desk with drawers and cable tray in a warm finish", "", "", "", 1),
    };
    catalog_search_t *index = s_index (docs, 6);
    catalog_result_t r = s_query (index, "velvet");
    assert_int_equal (r.total, 1);
    float rare = r.hits[0].score;
    r = s_query (index, "linen");
    assert_int_equal (r.total, 3);
    assert_true (rare > r.hits[0].score);  //  same length, rarer word
    r = s_query (index, "desk");
    assert_int_equal (r.total, 2);
    assert_string_equal (r.hits[0].id, "short");  //  same word, shorter title
    assert_true (r.hits[0].score > r.hits[1].score);
    catalog_search_destroy (&index);
}

//  ---------------------------------------------------------------- matching
static void
test_prefix (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("a", "wireless headphones", "", "", "", 1),
        DOC ("b", "wired mouse", "", "", "", 1),
        DOC ("c", "window blind", "", "", "", 1),
        DOC ("d", "headphone stand", "", "", "", 1),
    };
    catalog_search_t *index = s_index (docs, 4);
    assert_int_equal (s_query (index, "wir").total, 2);
    assert_int_equal (s_query (index, "wi").total, 3);
    assert_int_equal (s_query (index, "w").total, 0);  //  one letter is not a prefix
    assert_int_equal (s_query (index, "wireless head").total, 1);
    //  Only the last word is a prefix.
    assert_int_equal (s_query (index, "wire headphones").total, 0);
    //  An exact match ranks before a completion.
    catalog_result_t r = s_query (index, "headphone");
    assert_int_equal (r.total, 2);
    assert_string_equal (r.hits[0].id, "d");
    catalog_search_destroy (&index);
}

static void
test_typo (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("a", "noise cancelling headphones", "", "", "", 1),
        DOC ("b", "office chair", "", "", "", 1),
        DOC ("c", "desk lamp", "", "", "", 1),
        DOC ("d", "office chairs", "", "", "", 1),
    };
    catalog_search_t *index = s_index (docs, 4);
    catalog_result_t r = s_query (index, "headphnes");  //  deletion
    assert_int_equal (r.total, 1);
    assert_true (r.corrected);
    assert_int_equal (r.nwords, 1);
    assert_string_equal (r.words[0], "headphones");
    assert_int_equal (s_query (index, "heeadphones").total, 1);  //  insertion
    assert_int_equal (s_query (index, "headphomes").total, 1);   //  substitution
    r = s_query (index, "chiar office");  //  transposition, not the last word
    assert_int_equal (r.total, 1);
    assert_string_equal (r.words[0], "chair");
    assert_int_equal (s_query (index, "haedphonse").total, 0);  //  two edits
    //  4 letters: a typo only when nothing matches without ("lanp desk" finds nothing else).
    r = s_query (index, "lanp desk");
    assert_int_equal (r.total, 1);
    assert_string_equal (r.words[0], "lamp");
    r = s_query (index, "desk lamp");
    assert_false (r.corrected);
    assert_string_equal (r.words[1], "lamp");
    //  A word of the catalog matches itself only: "chairs" matches d, not b's "chair" (one
    //  edit away) while d exists, so totals and facets count what the shopper sees.
    r = s_query (index, "chairs");
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "d");
    assert_false (r.corrected);
    catalog_search_destroy (&index);
}

static void
test_and (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("a", "red chair", "", "", "", 1),
        DOC ("b", "red table", "", "", "", 1),
        DOC ("c", "blue chair", "", "", "", 1),
        DOC ("d", "chair", "", "the red one", "", 1),
    };
    catalog_search_t *index = s_index (docs, 4);
    catalog_result_t r = s_query (index, "red chair");
    assert_int_equal (r.total, 2);
    assert_true (s_rank (&r, "a") >= 0 && s_rank (&r, "d") >= 0);
    assert_int_equal (s_rank (&r, "a"), 0);  //  both in the title
    assert_int_equal (s_query (index, "red chair sofa").total, 0);
    assert_int_equal (s_query (index, "the chair").total, 3);  //  stop words are ignored
    catalog_search_destroy (&index);
}

//  ---------------------------------------------------------------- what the shopper means
//  (issue 15, docs/search.md: each rule was a bug on a 1M catalog)

//  Whether product id's title (in docs) has word.
static bool
s_title_has (const s_doc_t *docs, size_t n, const char *id, const char *word)
{
    char toks[256], w[64];
    snprintf (w, sizeof w, " %s ", word);
    for (size_t i = 0; i < n; i++)
        if (strcmp (docs[i].id, id) == 0) {
            toks[0] = ' ';
            catalog_search_tokens (docs[i].title, strlen (docs[i].title), toks + 1,
                                   sizeof toks - 2);
            strcat (toks, " ");
            return strstr (toks, w) != NULL;
        }
    return false;
}

static void
test_completions_by_frequency (void **state)
{
    (void) state;
    //  "smar": ten products say "smart", one "smartwatch". Plain BM25 gave the rare one the
    //  larger idf and the first place; the shopper more likely means "smart".
    s_doc_t docs[12];
    char ids[12][8];
    for (int i = 0; i < 12; i++) {
        snprintf (ids[i], sizeof ids[i], "s%02d", i);
        docs[i] = (s_doc_t) DOC (ids[i],
                                 i == 0   ? "smartwatch band"
                                 : i < 11 ? "smart speaker"
                                          : "desk",
                                 "", "", "", 1);
    }
    catalog_search_t *index = s_index (docs, 12);
    catalog_result_t r = s_query (index, "smar");
    assert_int_equal (r.total, 11);
    assert_true (s_title_has (docs, 12, r.hits[0].id, "smart"));
    assert_int_equal (s_rank (&r, "s00"), 10);  //  the rare completion still matches, last
    catalog_search_destroy (&index);
}

static void
test_half_typed_not_corrected (void **state)
{
    (void) state;
    //  A last word that begins words of the catalog is being typed, not misspelt.
    s_doc_t docs[] = {
        DOC ("a", "classic lamp", "", "", "", 1),      DOC ("b", "glass vase", "", "", "", 1),
        DOC ("c", "bluetooth speaker", "", "", "", 1), DOC ("d", "blue chair", "", "", "", 1),
        DOC ("e", "leather boots", "", "", "", 1),     DOC ("f", "books shelf", "", "", "", 1),
    };
    catalog_search_t *index = s_index (docs, 6);
    catalog_result_t r = s_query (index, "class");
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "a");
    assert_false (r.corrected);
    assert_string_equal (r.words[0], "class");
    r = s_query (index, "bluet");
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "c");
    assert_false (r.corrected);
    r = s_query (index, "books");  //  a word of the catalog: itself only, never "boots"
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "f");
    assert_false (r.corrected);
    //  Not the last word: a misspelling, corrected.
    r = s_query (index, "clasic lamp");
    assert_int_equal (r.total, 1);
    assert_true (r.corrected);
    assert_string_equal (r.words[0], "classic");
    catalog_search_destroy (&index);
}

static void
test_stop_word_prefix (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("a", "thermal mug", "", "", "", 1),
        DOC ("b", "formal shirt", "", "", "", 1),
        DOC ("c", "office chair", "", "", "", 1),
    };
    catalog_search_t *index = s_index (docs, 3);
    catalog_result_t r = s_query (index, "the");  //  typing "thermal"
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "a");
    assert_int_equal (r.nwords, 1);
    assert_string_equal (r.words[0], "the");
    r = s_query (index, "shirt for");
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "b");
    assert_int_equal (s_query (index, "the ").total, 3);        //  finished: a stop word
    assert_int_equal (s_query (index, "the mug").total, 1);     //  not last: a stop word
    assert_int_equal (s_query (index, "chair with").total, 1);  //  begins no word: dropped
    catalog_search_destroy (&index);
}

static void
test_short_typos (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("a", "tweed jacket", "", "", "", 1), DOC ("b", "linen shirt", "", "", "", 1),
        DOC ("c", "denim jeans", "", "", "", 1),  DOC ("d", "desk lamp", "", "", "", 1),
        DOC ("e", "lamb wool", "", "", "", 1),
    };
    catalog_search_t *index = s_index (docs, 5);
    const char *typed[] = { "weed", "inen", "enim", "jeans inen" };
    const char *meant[] = { "a", "b", "c", "" };
    for (int i = 0; i < 3; i++) {
        catalog_result_t r = s_query (index, typed[i]);
        assert_int_equal (r.total, 1);
        assert_string_equal (r.hits[0].id, meant[i]);
        assert_true (r.corrected);
    }
    assert_int_equal (s_query (index, typed[3]).total, 0);  //  jeans and linen: no product
    catalog_result_t r = s_query (index, "weed");
    assert_string_equal (r.words[0], "tweed");
    //  Found as typed: no variants ("lamp" is not "lamb").
    r = s_query (index, "lamp");
    assert_int_equal (r.total, 1);
    assert_false (r.corrected);
    catalog_search_destroy (&index);
}

static void
test_fuzzy_not_counted (void **state)
{
    (void) state;
    //  "padded mini" (6,525 matches, 322 exact): the exact matches are what the page shows;
    //  their one-edit neighbours ("cushions" for "cushion") would only widen the total and
    //  the facets. (The last word would match "cushions" as a completion: it comes first.)
    s_doc_t docs[] = {
        DOC ("a", "padded cushion bag", "Acme", "", "bags", 1),
        DOC ("b", "padded cushions bag", "Zeta", "", "bags", 1),
        DOC ("c", "padded cushion case", "Acme", "", "bags", 1),
    };
    catalog_search_t *index = s_index (docs, 3);
    catalog_result_t r = s_query (index, "cushion padded");
    assert_int_equal (r.total, 2);
    assert_int_equal (r.nbrands, 1);
    assert_string_equal (r.brands[0].name, "Acme");
    assert_int_equal (r.brands[0].count, 2);
    catalog_search_destroy (&index);
}

static void
test_brands_left_out (void **state)
{
    (void) state;
    enum { NB = CATALOG_FACET_BRANDS + 7 };
    s_doc_t docs[NB];
    char ids[NB][8], brands[NB][16];
    for (int i = 0; i < NB; i++) {
        snprintf (ids[i], sizeof ids[i], "l%02d", i);
        snprintf (brands[i], sizeof brands[i], "brand%02d", i);
        docs[i] = (s_doc_t) DOC (ids[i], "lamp", brands[i], "", "", 1);
    }
    catalog_search_t *index = s_index (docs, NB);
    catalog_result_t r = s_query (index, "lamp");
    assert_int_equal (r.nbrands, CATALOG_FACET_BRANDS);
    assert_int_equal (r.brands_left_out, 7);
    r = s_query (index, "brand03");
    assert_int_equal (r.nbrands, 1);
    assert_int_equal (r.brands_left_out, 0);
    catalog_search_destroy (&index);
}

static void
test_did_you_mean_agrees (void **state)
{
    (void) state;
    //  "nitted": "fitted" is the commoner variant, "knitted" the rarer. Whatever ranks first,
    //  "did you mean" names the word of the first hit, with a filter too.
    s_doc_t docs[] = {
        DOC ("f1", "fitted sheet", "Bed", "", "", 1),
        DOC ("f2", "fitted shirt", "Bed", "", "", 1),
        DOC ("f3", "fitted coat", "Bed", "", "", 1),
        DOC ("k1", "knitted scarf", "Wool", "", "", 1),
    };
    catalog_search_t *index = s_index (docs, 4);
    catalog_result_t r = s_query (index, "nitted");
    assert_int_equal (r.total, 4);
    assert_true (r.corrected);
    assert_true (s_title_has (docs, 4, r.hits[0].id, r.words[0]));
    assert_string_equal (r.words[0], "fitted");  //  the commoner one ranks first
    catalog_query_t q = { .text = "nitted", .brand = "Wool", .limit = 10 };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "k1");
    assert_string_equal (r.words[0], "knitted");
    catalog_search_destroy (&index);
}

//  The ranking of a query as text.
static void
s_ranking (catalog_search_t *index, const char *text, catalog_sort_t sort, char *out, size_t size)
{
    catalog_query_t q = { .text = text, .sort = sort, .limit = 20 };
    catalog_result_t r;
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    out[0] = 0;
    for (uint32_t i = 0; i < r.nhits; i++)
        snprintf (out + strlen (out), size - strlen (out), "%s ", r.hits[i].id);
}

static void
test_ties_stable (void **state)
{
    (void) state;
    //  Same words and price, created at different times (y, x, z in put order) or together.
    s_doc_t docs[] = {
        { "y", "oak table", "", "", "", 100, true, 1, 2000 },
        { "x", "oak table", "", "", "", 100, true, 1, 1000 },
        { "z", "oak table", "", "", "", 100, true, 1, 3000 },
        { "w", "oak table", "", "", "", 100, true, 1, 3000 },
    };
    s_doc_t other[] = { docs[2], docs[0], docs[3], docs[1] };
    catalog_search_t *writer = s_index (docs, 4), *replica = s_index (other, 4);
    char a[128], b[128];
    for (int sort = 0; sort < 5; sort++) {
        s_ranking (writer, "oak", (catalog_sort_t) sort, a, sizeof a);
        s_ranking (replica, "oak", (catalog_sort_t) sort, b, sizeof b);
        assert_string_equal (a, b);
        if (sort != CATALOG_SORT_NEWEST)
            assert_string_equal (a, "x y w z ");  //  the older first, then the smaller id
    }
    //  An update puts the product again (a new place in the index): its rank stays.
    s_put (writer, &docs[1]);
    assert_int_equal (catalog_search_compact (writer), 0);
    s_ranking (writer, "oak", CATALOG_SORT_RELEVANCE, a, sizeof a);
    assert_string_equal (a, "x y w z ");
    catalog_search_destroy (&writer);
    catalog_search_destroy (&replica);
}

static void
test_completions_on_first_page (void **state)
{
    (void) state;
    //  "luna" is a word ("Luna and co") and begins others (Lunastudio, Lunawear): 30 exact
    //  matches would fill the first page; each common completion gets a place on it.
    enum { NL = 36 };
    s_doc_t docs[NL];
    char ids[NL][8];
    for (int i = 0; i < NL; i++) {
        snprintf (ids[i], sizeof ids[i], "d%02d", i);
        docs[i] = (s_doc_t) DOC (ids[i],
                                 i < 30   ? "luna lamp"
                                 : i < 33 ? "lunastudio lamp"
                                          : "lunawear coat",
                                 "", "", "", 1);
    }
    catalog_search_t *index = s_index (docs, NL);
    catalog_query_t q = { .text = "luna", .limit = 20 };
    catalog_result_t r;
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, NL);
    bool studio = false, wear = false;
    for (uint32_t i = 0; i < r.nhits; i++) {
        studio |= s_title_has (docs, NL, r.hits[i].id, "lunastudio");
        wear |= s_title_has (docs, NL, r.hits[i].id, "lunawear");
    }
    assert_true (studio && wear);
    assert_true (s_title_has (docs, NL, r.hits[0].id, "luna"));  //  the top stays exact
    //  Pages of 6 put together are one page of 36: every product once, same order.
    char whole[NL][8];
    q.limit = NL;
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.nhits, NL);
    for (int i = 0; i < NL; i++)
        snprintf (whole[i], sizeof whole[i], "%s", r.hits[i].id);
    for (int i = 0; i < NL; i++)
        for (int j = i + 1; j < NL; j++)
            assert_string_not_equal (whole[i], whole[j]);
    for (uint32_t off = 0; off < NL; off += 6) {
        q.offset = off;
        q.limit = 6;
        assert_int_equal (catalog_search_query (index, &q, &r), 0);
        assert_int_equal (r.nhits, 6);
        for (uint32_t i = 0; i < 6; i++)
            assert_string_equal (r.hits[i].id, whole[off + i]);
    }
    catalog_search_destroy (&index);
}

//  ---------------------------------------------------------------- filters and facets
static const s_doc_t s_shop[] = {
    { "c1", "mesh office chair", "Oakline", "", "furniture/chairs/office", 19900, true, 5, 10 },
    { "c2", "leather office chair", "Nordhaus", "", "furniture/chairs/office", 49900, false, 9,
      20 },
    { "c3", "oak dining chair", "Oakline", "", "furniture/chairs/dining", 8900, true, 1, 30 },
    { "s1", "velvet sofa", "Nordhaus", "", "furniture/sofas", 129900, true, 7, 40 },
    { "h1", "wireless headphones", "Voltcore", "", "gadgets/audio/headphones", 9900, true, 3, 50 },
    { "h2", "wired headphones", "Voltcore", "", "gadgets/audio/headphones", 1900, true, 2, 60 },
    { "k1", "office keyboard", "Voltcore", "", "gadgets/computers", 4900, false, 4, 70 },
};

static void
test_filters (void **state)
{
    (void) state;
    catalog_search_t *index = s_index (s_shop, 7);
    catalog_query_t q = { .limit = 10 };
    catalog_result_t r;
    q.text = "office";
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 3);
    q.category = "furniture";
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 2);
    q.category = "furniture/chairs/office";
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 2);
    q.category = "furniture/chai";  //  whole segments only
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 0);
    q.category = NULL;
    q.in_stock_only = true;
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "c1");
    q = (catalog_query_t) { .brand = "Voltcore", .limit = 10 };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 3);
    q.brand = "voltcore";  //  the exact string
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 0);
    q = (catalog_query_t) { .price_min = 4900, .price_max = 19900, .limit = 10 };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 4);  //  c1, c3, h1, k1: bounds inclusive
    q = (catalog_query_t) { .price_min = 50000, .limit = 10 };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 1);
    catalog_search_destroy (&index);
}


//  Price filters decide most products from the price bucket in the facet word and read the
//  price only in a bucket the range cuts: prices on and beside every bucket bound, and a
//  negative one (the index keeps the lowest price it has seen: a range from 0 must not take
//  the lowest bucket as wholly inside).
static void
test_price_bounds (void **state)
{
    (void) state;
    static const int64_t lo[] = { 0, 2500, 5000, 10000, 25000, 50000, 100000, 250000 };
    int64_t prices[3 * 8 + 2];
    size_t np = 0;
    for (size_t b = 0; b < 8; b++)
        for (int64_t d = -1; d <= 1; d++)
            prices[np++] = lo[b] + d;
    prices[np++] = -500;
    prices[np++] = 9000000;
    catalog_search_t *index = catalog_search_new ();
    assert_non_null (index);
    for (size_t i = 0; i < np; i++) {
        char id[32];
        snprintf (id, sizeof id, "p%zu", i);
        catalog_doc_t doc = { .id = id,
                              .title = "plain mug",
                              .category = i % 2 ? "kitchen/mugs" : "kitchen",
                              .price_minor = prices[i],
                              .active = true };
        assert_int_equal (catalog_search_put (index, &doc), 0);
    }
    for (size_t a = 0; a < np; a++)
        for (size_t b = 0; b < np; b++) {
            int64_t pmin = prices[a] < 0 ? 0 : prices[a], pmax = prices[b] < 0 ? 1 : prices[b];
            if (pmin > pmax || pmax == 0)  //  (a price_max of 0 means none)
                continue;
            for (int cat = 0; cat < 2; cat++) {
                catalog_query_t q = { .text = cat ? NULL : "mug",
                                      .category = cat ? "kitchen" : NULL,
                                      .price_min = pmin,
                                      .price_max = pmax,
                                      .limit = 1 };
                catalog_result_t r;
                assert_int_equal (catalog_search_query (index, &q, &r), 0);
                uint32_t want = 0;
                for (size_t i = 0; i < np; i++)
                    want += prices[i] >= pmin && prices[i] <= pmax;
                if (r.total != want)
                    fail_msg ("price %lld..%lld: %u products, want %u", (long long) pmin,
                              (long long) pmax, r.total, want);
            }
        }
    catalog_search_destroy (&index);
}

static uint32_t
s_facet (const catalog_facet_t *f, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp (f[i].name, name) == 0)
            return f[i].count;
    return 0;
}

static void
test_facets_small (void **state)
{
    (void) state;
    catalog_search_t *index = s_index (s_shop, 7);
    catalog_query_t q = { .limit = 1 };  //  facets cover all matches, not the page
    catalog_result_t r;
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 7);
    assert_int_equal (r.nhits, 1);
    assert_int_equal (r.ncategories, 2);
    assert_string_equal (r.categories[0].name, "furniture");  //  by count
    assert_int_equal (r.categories[0].count, 4);
    assert_int_equal (s_facet (r.categories, r.ncategories, "gadgets"), 3);
    assert_int_equal (r.nsubcategories, 0);
    assert_int_equal (r.nbrands, 3);
    assert_string_equal (r.brands[0].name, "Voltcore");
    assert_int_equal (s_facet (r.brands, r.nbrands, "Oakline"), 2);
    //  Buckets: <25, 25-50, 50-100, 100-250, 250-500, 500-1000, 1000-2500, 2500+ EUR.
    uint32_t expect[CATALOG_PRICE_BUCKETS] = { 1, 1, 2, 1, 1, 0, 1, 0 };
    for (int i = 0; i < CATALOG_PRICE_BUCKETS; i++)
        assert_int_equal (r.prices[i].count, expect[i]);
    assert_int_equal (r.prices[1].min, 2500);
    assert_int_equal (r.prices[1].max, 4999);
    q.category = "furniture";
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.nsubcategories, 2);
    assert_string_equal (r.subcategories[0].name, "furniture/chairs");
    assert_int_equal (r.subcategories[0].count, 3);
    assert_string_equal (r.subcategories[1].name, "furniture/sofas");
    q.category = "furniture/chairs";
    q.text = "chair";
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (s_facet (r.subcategories, r.nsubcategories, "furniture/chairs/office"), 2);
    assert_int_equal (s_facet (r.subcategories, r.nsubcategories, "furniture/chairs/dining"), 1);
    catalog_search_destroy (&index);
}

//  ---------------------------------------------------------------- brute force on 5k products
#define NGEN 5000

typedef struct {
    char tokens[1024];  //  all searchable tokens, space-separated, with spaces around
    vgen_product_t p;
} s_gen_t;

static s_gen_t *s_gen;

static int
s_gen_setup (void **state)
{
    (void) state;
    s_gen = calloc (NGEN, sizeof *s_gen);
    assert_non_null (s_gen);
    for (int i = 0; i < NGEN; i++) {
        s_gen_t *g = &s_gen[i];
        vgen_product ((uint64_t) i, &g->p);
        char buf[1024];
        size_t used = 0;
        const char *fields[16] = { g->p.title, g->p.brand, g->p.description };
        size_t nf = 3;
        for (size_t a = 0; a < g->p.nattrs; a++)
            fields[nf++] = g->p.attr_values[a];
        g->tokens[used++] = ' ';
        for (size_t f = 0; f < nf; f++) {
            catalog_search_tokens (fields[f], strlen (fields[f]), buf, sizeof buf);
            size_t len = strlen (buf);
            if (len == 0)
                continue;
            assert_true (used + len + 2 < sizeof g->tokens);
            memcpy (g->tokens + used, buf, len);
            used += len;
            g->tokens[used++] = ' ';
        }
        g->tokens[used] = 0;
    }
    return 0;
}

static int
s_gen_teardown (void **state)
{
    (void) state;
    free (s_gen);
    s_gen = NULL;
    return 0;
}

static catalog_search_t *
s_gen_index (void)
{
    catalog_search_t *index = catalog_search_new ();
    assert_non_null (index);
    for (int i = 0; i < NGEN; i++) {
        catalog_doc_t doc;
        vgen_product_doc (&s_gen[i].p, &doc);
        assert_int_equal (catalog_search_put (index, &doc), 0);
    }
    return index;
}

//  Independent re-statement of the one-edit rule for the brute force.
static bool
s_one_edit (const char *a, size_t la, const char *b, size_t lb)
{
    //  Levenshtein with adjacent swaps (optimal string alignment), small strings only.
    size_t d[50][50];
    if (la > 48 || lb > 48)
        return false;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t m = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < m)
                m = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < m)
                m = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < m)
                m = d[i - 2][j - 2] + 1;
            d[i][j] = m;
        }
    return d[la][lb] <= 1;
}

//  Whether w matches a product with these tokens. typo: its one-edit variants count too.
static bool
s_word_matches (const char *tokens, const char *w, bool last, bool typo)
{
    size_t wl = strlen (w);
    for (const char *t = tokens + 1; *t;) {
        const char *end = strchr (t, ' ');
        size_t tl = (size_t) (end - t);
        if (tl == wl && memcmp (t, w, wl) == 0)
            return true;
        if (last && wl >= 2 && tl >= wl && memcmp (t, w, wl) == 0)
            return true;
        if (typo && s_one_edit (t, tl, w, wl))
            return true;
        t = end + 1;
    }
    return false;
}

//  The typo rule restated: a word's variants count when it has 5+ letters and no digits, is
//  no word of a live product and, as the last word, begins none; after a query found nothing
//  (relax), whenever it has 4+ letters and no digits. tokens/active: n products, tstride and
//  astride bytes apart.
static bool
s_typo_rule (const char *w, bool last, bool relax, const char *tokens, size_t tstride,
             const bool *active, size_t astride, int n)
{
    size_t wl = strlen (w);
    if (wl < 4 || strpbrk (w, "0123456789"))
        return false;
    if (relax)
        return true;
    if (wl < 5)
        return false;
    char word[80];
    snprintf (word, sizeof word, " %s", w);
    for (int i = 0; i < n; i++) {
        if (!*(const bool *) ((const char *) active + (size_t) i * astride))
            continue;
        const char *tok = tokens + (size_t) i * tstride;
        for (const char *at = strstr (tok, word); at; at = strstr (at + 1, word))
            if (at[wl + 1] == ' ' || last)
                return false;  //  the word itself, or (last) a longer word it begins
    }
    return true;
}

//  Picks a word from product i's tokens (the k-th), cut to a prefix or misspelt by mode.
static void
s_pick_word (uint32_t i, uint32_t k, int mode, char *out)
{
    const char *t = s_gen[i % NGEN].tokens + 1;
    uint32_t n = 0;
    for (const char *p = t; *p; p++)
        n += *p == ' ';
    k %= n;
    while (k--)
        t = strchr (t, ' ') + 1;
    size_t len = (size_t) (strchr (t, ' ') - t);
    memcpy (out, t, len);
    out[len] = 0;
    if (mode == 1 && len > 3)
        out[3] = 0;  //  a prefix
    else if (mode == 2 && len >= 6)
        out[2] = out[2] == 'z' ? 'y' : 'z';  //  a typo
}

//  A query over the generated catalog from the random r1: nwords words (0: browsing; the last,
//  w1, maybe half-typed or mistyped; the first, w2) in text, and filters and a sort.
static catalog_query_t
s_gen_query (uint32_t r1, int nwords, char *w1, char *w2, char *text, size_t size)
{
    s_pick_word (r1, r1 >> 8, (int) (r1 % 3), w1);
    text[0] = 0;
    if (nwords == 2) {
        s_pick_word (r1 >> 3, r1 >> 12, 0, w2);
        snprintf (text, size, "%s %s", w2, w1);
    }
    else if (nwords == 1)
        snprintf (text, size, "%s", w1);
    catalog_query_t q = { .text = text, .limit = 50 };
    if (r1 % 5 == 0)
        q.category = vgen_category ((r1 >> 7) % 24);
    if (r1 % 7 == 0)
        q.category = (r1 >> 9) % 2 ? "furniture" : "gadgets/audio";
    if (r1 % 4 == 1)
        q.in_stock_only = true;
    if (r1 % 6 == 2) {
        q.price_min = 5000;
        q.price_max = 40000;
    }
    if (r1 % 11 == 3)
        q.brand = s_gen[(r1 >> 5) % NGEN].p.brand;
    q.sort = (catalog_sort_t) ((r1 >> 13) % 5);
    return q;
}

static void
test_brute_force (void **state)
{
    (void) state;
    catalog_search_t *index = s_gen_index ();
    uint64_t seed = 42;
    uint32_t checked = 0, nonzero = 0;
    for (int qi = 0; qi < 300; qi++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t r1 = (uint32_t) (seed >> 33);
        char w1[64], w2[64], text[160];
        int nwords = 1 + (int) ((r1 >> 4) % 2);
        catalog_query_t q = s_gen_query (r1, nwords, w1, w2, text, sizeof text);
        catalog_result_t r;
        assert_int_equal (catalog_search_query (index, &q, &r), 0);

        //  The brute force: every product, every rule, restated. Typo variants as the words
        //  are, then, when that finds nothing, for every word long enough (relax).
        uint32_t total = 0, cats[3] = { 0 }, price[CATALOG_PRICE_BUCKETS] = { 0 };
        uint32_t brand_count = 0, sub_count = 0;
        const char *some_brand = r.nbrands ? r.brands[0].name : NULL;
        const char *some_sub = r.nsubcategories ? r.subcategories[0].name : NULL;
        static const char *depts[3] = { "furniture", "gadgets", "fashion" };
        bool relax = false;
        for (int pass = 0; pass < 2; pass++) {
            bool typo1 = s_typo_rule (w1, true, relax, s_gen[0].tokens, sizeof *s_gen,
                                      &s_gen[0].p.active, sizeof *s_gen, NGEN);
            bool typo2 = nwords == 2
                         && s_typo_rule (w2, false, relax, s_gen[0].tokens, sizeof *s_gen,
                                         &s_gen[0].p.active, sizeof *s_gen, NGEN);
            uint32_t found = 0;
            for (int i = 0; i < NGEN; i++) {
                const vgen_product_t *p = &s_gen[i].p;
                if (!p->active || (q.in_stock_only && !p->in_stock))
                    continue;
                if (q.price_max && (p->price_minor < q.price_min || p->price_minor > q.price_max))
                    continue;
                if (q.brand && strcmp (q.brand, p->brand))
                    continue;
                if (q.category) {
                    size_t cl = strlen (q.category);
                    if (strncmp (p->category, q.category, cl)
                        || (p->category[cl] != 0 && p->category[cl] != '/'))
                        continue;
                }
                if (nwords == 2 && !s_word_matches (s_gen[i].tokens, w2, false, typo2))
                    continue;
                if (!s_word_matches (s_gen[i].tokens, w1, true, typo1))
                    continue;
                found++;
                if (pass == 0)
                    continue;
                total++;
                for (int d = 0; d < 3; d++)
                    cats[d] += strncmp (p->category, depts[d], strlen (depts[d])) == 0;
                int b = 0;
                for (int k = 1; k < CATALOG_PRICE_BUCKETS; k++)
                    b += p->price_minor >= r.prices[k].min;
                price[b]++;
                brand_count += some_brand && strcmp (p->brand, some_brand) == 0;
                if (some_sub) {
                    size_t sl = strlen (some_sub);
                    sub_count += strncmp (p->category, some_sub, sl) == 0
                                 && (p->category[sl] == 0 || p->category[sl] == '/');
                }
            }
            if (pass == 0)
                relax = found == 0;  //  pass 1 counts, relaxed when the words found nothing
        }
        if (total != r.total)
            fail_msg ("query \"%s\" (category %s, brand %s): index %u, brute force %u", text,
                      q.category ? q.category : "-", q.brand ? q.brand : "-", r.total, total);
        for (int d = 0; d < 3; d++)
            assert_int_equal (s_facet (r.categories, r.ncategories, depts[d]), cats[d]);
        for (int k = 0; k < CATALOG_PRICE_BUCKETS; k++)
            assert_int_equal (r.prices[k].count, price[k]);
        if (some_brand)
            assert_int_equal (r.brands[0].count, brand_count);
        if (some_sub)
            assert_int_equal (r.subcategories[0].count, sub_count);
        assert_int_equal (r.nhits, total < 50 ? total : 50);
        checked++;
        nonzero += total > 0;
    }
    assert_int_equal (checked, 300);
    assert_true (nonzero > 150);  //  the property is tested on real matches
    catalog_search_destroy (&index);
}


//  ---------------------------------------------------------------- two threads, one result
//  Everything a result says, as text, to compare two results.
static void
s_result_text (const catalog_result_t *r, char *out, size_t size)
{
    size_t used = 0;
#define PUT_(...)                                                                                  \
    do {                                                                                           \
        int n_ = snprintf (out + used, size - used, __VA_ARGS__);                                  \
        assert_true (n_ >= 0 && (size_t) n_ < size - used);                                        \
        used += (size_t) n_;                                                                       \
    } while (0)
    PUT_ ("total %u corrected %d left_out %u\n", r->total, r->corrected, r->brands_left_out);
    for (uint32_t i = 0; i < r->nhits; i++)
        PUT_ ("hit %s %.9g\n", r->hits[i].id, (double) r->hits[i].score);
    for (uint32_t i = 0; i < r->ncategories; i++)
        PUT_ ("cat %s %u\n", r->categories[i].name, r->categories[i].count);
    for (uint32_t i = 0; i < r->nsubcategories; i++)
        PUT_ ("sub %s %u\n", r->subcategories[i].name, r->subcategories[i].count);
    for (uint32_t i = 0; i < r->nbrands; i++)
        PUT_ ("brand %s %u\n", r->brands[i].name, r->brands[i].count);
    for (int i = 0; i < CATALOG_PRICE_BUCKETS; i++)
        PUT_ ("price %u\n", r->prices[i].count);
    for (uint32_t i = 0; i < r->nwords; i++)
        PUT_ ("word %s\n", r->words[i]);
#undef PUT_
}

//  A query split over two threads (catalog_search_set_split) gives exactly what one thread
//  gives: hits and their order, scores, every facet, "did you mean".
static void
test_split_same_as_one (void **state)
{
    (void) state;
    catalog_search_t *index = s_gen_index ();
    static char one[65536], two[65536];
    uint64_t seed = 7;
    uint32_t nonzero = 0;
    for (int qi = 0; qi < 400; qi++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t r1 = (uint32_t) (seed >> 33);
        char w1[64], w2[64], text[160];
        int nwords = (int) ((r1 >> 4) % 3);  //  0: browsing
        catalog_query_t q = s_gen_query (r1, nwords, w1, w2, text, sizeof text);
        if (r1 % 9 == 4)
            q.offset = 30;  //  a later page
        catalog_result_t r;
        catalog_search_set_split (index, 0);
        assert_int_equal (catalog_search_query (index, &q, &r), 0);
        s_result_text (&r, one, sizeof one);
        uint64_t splits = catalog_search_splits (index);
        catalog_search_set_split (index, 1);
        assert_int_equal (catalog_search_query (index, &q, &r), 0);
        s_result_text (&r, two, sizeof two);
        //  It did run on two threads (once per try: a retry with typos is a second).
        if (r.total > 0)
            assert_true (catalog_search_splits (index) > splits);
        if (strcmp (one, two))
            fail_msg ("query \"%s\" (category %s, brand %s, sort %d): one thread\n%s\ntwo threads\n%s",
                      text, q.category ? q.category : "-", q.brand ? q.brand : "-", (int) q.sort,
                      one, two);
        nonzero += r.total > 50;
    }
    assert_true (nonzero > 100);  //  on results longer than a page
    catalog_search_destroy (&index);
}

//  An index built from tokens made beforehand (the rebuild's reader thread) answers exactly as
//  one that tokenised each product itself: 200 random queries, hits, scores and facets.
static void
test_put_tokens_same_as_put (void **state)
{
    (void) state;
    catalog_search_t *plain = s_gen_index ();
    catalog_search_t *tokened = catalog_search_new ();
    assert_non_null (tokened);
    catalog_tokens_t tok = { 0 };
    for (int i = 0; i < NGEN; i++) {
        catalog_doc_t doc;
        vgen_product_doc (&s_gen[i].p, &doc);
        assert_int_equal (catalog_search_tokenize (&doc, &tok), 0);
        assert_int_equal (catalog_search_put_tokens (tokened, &doc, &tok), 0);
    }
    catalog_tokens_free (&tok);
    assert_null (tok.buf);
    static char one[65536], two[65536];
    uint64_t seed = 11;
    for (int qi = 0; qi < 200; qi++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t r1 = (uint32_t) (seed >> 33);
        char w1[64], w2[64], text[160];
        catalog_query_t q = s_gen_query (r1, (int) ((r1 >> 4) % 3), w1, w2, text, sizeof text);
        catalog_result_t r;
        assert_int_equal (catalog_search_query (plain, &q, &r), 0);
        s_result_text (&r, one, sizeof one);
        assert_int_equal (catalog_search_query (tokened, &q, &r), 0);
        s_result_text (&r, two, sizeof two);
        if (strcmp (one, two))
            fail_msg ("query \"%s\": put\n%s\nput_tokens\n%s", text, one, two);
    }
    catalog_search_destroy (&plain);
    catalog_search_destroy (&tokened);
}

//  ---------------------------------------------------------------- sorts and paging
//  A product's sort key as the brute force sees it (larger first), for the sorts by a column.
static int64_t
s_bf_key (const vgen_product_t *p, catalog_sort_t sort)
{
    switch (sort) {
    case CATALOG_SORT_PRICE_ASC: return -p->price_minor;
    case CATALOG_SORT_PRICE_DESC: return p->price_minor;
    case CATALOG_SORT_NEWEST: return p->created_ms;
    default: {
        //  popularity as the index keeps it (a float), mapped to an ordered integer
        float f = (float) p->popularity;
        int32_t i;
        memcpy (&i, &f, sizeof i);
        return i >= 0 ? i : i ^ INT32_MAX;
    }
    }
}

//  The filters of q, restated.
static bool
s_bf_pass (const catalog_query_t *q, const vgen_product_t *g)
{
    if (!g->active || (q->in_stock_only && !g->in_stock))
        return false;
    if (q->price_max && (g->price_minor < q->price_min || g->price_minor > q->price_max))
        return false;
    if (q->brand && strcmp (q->brand, g->brand))
        return false;
    if (q->category) {
        size_t cl = strlen (q->category);
        if (strncmp (g->category, q->category, cl)
            || (g->category[cl] != 0 && g->category[cl] != '/'))
            return false;
    }
    return true;
}

//  Equal keys: the older product first, then the smaller id.
static bool
s_before (const vgen_product_t *a, const vgen_product_t *b)
{
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms;
    return strcmp (a->id, b->id) < 0;
}

//  The brute force again, on a catalog changed after loading (removals, replacements with a
//  new price, category and brand, stock and popularity updates; compacted half way) and with
//  queries without text too: totals, every facet and, for the sorts by a column, the page.
static void
test_brute_force_updates (void **state)
{
    (void) state;
    enum { N = 3000 };
    vgen_product_t *p = calloc (N, sizeof *p);
    char (*tokens)[1024] = calloc (N, sizeof *tokens);
    assert_true (p && tokens);
    catalog_search_t *index = catalog_search_new ();
    assert_non_null (index);
    for (int i = 0; i < N; i++) {
        p[i] = s_gen[i].p;
        memcpy (tokens[i], s_gen[i].tokens, sizeof tokens[i]);
        catalog_doc_t doc;
        vgen_product_doc (&p[i], &doc);
        assert_int_equal (catalog_search_put (index, &doc), 0);
    }
    uint64_t seed = 7;
    for (int round = 0; round < 2; round++) {
        //  Changes: every product gets one with some probability.
        for (int i = 0; i < N; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t) (seed >> 33);
            if (r % 13 == 0 && p[i].active) {
                p[i].active = false;
                catalog_search_remove (index, p[i].id);
            }
            else if (r % 13 == 1) {  //  replace: new price, brand and category of product j
                const vgen_product_t *o = &s_gen[(r >> 8) % NGEN].p;
                p[i].price_minor = o->price_minor;
                memcpy (p[i].brand, o->brand, sizeof p[i].brand);
                memcpy (p[i].category, o->category, sizeof p[i].category);
                p[i].active = true;
                catalog_doc_t doc;
                vgen_product_doc (&p[i], &doc);
                assert_int_equal (catalog_search_put (index, &doc), 0);
                //  The brand is searched: its tokens change with it.
                char buf[1024];
                size_t used = 0;
                const char *fields[16] = { p[i].title, p[i].brand, p[i].description };
                size_t nf = 3;
                for (size_t a = 0; a < p[i].nattrs; a++)
                    fields[nf++] = p[i].attr_values[a];
                tokens[i][used++] = ' ';
                for (size_t f = 0; f < nf; f++) {
                    catalog_search_tokens (fields[f], strlen (fields[f]), buf, sizeof buf);
                    size_t len = strlen (buf);
                    if (len == 0)
                        continue;
                    memcpy (tokens[i] + used, buf, len);
                    used += len;
                    tokens[i][used++] = ' ';
                }
                tokens[i][used] = 0;
            }
            else if (r % 13 == 2 && p[i].active) {
                p[i].in_stock = !p[i].in_stock;
                assert_int_equal (catalog_search_set_stock (index, p[i].id, p[i].in_stock), 0);
            }
            else if (r % 13 == 3 && p[i].active) {
                p[i].popularity = (double) (r >> 10);
                assert_int_equal (catalog_search_set_popularity (index, p[i].id, p[i].popularity),
                                  0);
            }
        }
        if (round == 1)
            assert_int_equal (catalog_search_compact (index), 0);

        for (int qi = 0; qi < 150; qi++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r1 = (uint32_t) (seed >> 33);
            char w1[64] = "", text[64] = "";
            bool has_text = r1 % 3 != 0;
            if (has_text) {
                s_pick_word (r1 % N, r1 >> 8, (int) ((r1 >> 3) % 3), w1);
                snprintf (text, sizeof text, "%s", w1);
            }
            catalog_query_t q = { .text = text, .limit = 30 };
            if (r1 % 5 < 2)
                q.category = vgen_category ((r1 >> 7) % 24);
            else if (r1 % 5 == 2)
                q.category = (r1 >> 9) % 2 ? "furniture" : "gadgets";
            if ((r1 >> 11) % 4 == 1)
                q.in_stock_only = true;
            if ((r1 >> 14) % 3 == 2) {
                q.price_min = 2000;
                q.price_max = 30000;
            }
            if ((r1 >> 16) % 7 == 3)
                q.brand = s_gen[(r1 >> 5) % NGEN].p.brand;
            q.sort = (catalog_sort_t) ((r1 >> 19) % 5);
            q.offset = (r1 >> 22) % 3 == 0 ? 30 : 0;
            catalog_result_t r;
            assert_int_equal (catalog_search_query (index, &q, &r), 0);

            static const char *depts[3] = { "furniture", "gadgets", "fashion" };
            uint32_t total = 0, cats[3] = { 0 }, price[CATALOG_PRICE_BUCKETS] = { 0 };
            uint32_t brand_count = 0, sub_count = 0;
            const char *some_brand = r.nbrands ? r.brands[r.nbrands - 1].name : NULL;
            const char *some_sub = r.nsubcategories ? r.subcategories[0].name : NULL;
            int *match = calloc (N, sizeof *match);
            assert_non_null (match);
            //  Typo variants as the word is, or, when that finds nothing, relaxed.
            bool typo = false;
            if (has_text) {
                typo = s_typo_rule (w1, true, false, tokens[0], sizeof *tokens, &p[0].active,
                                    sizeof *p, N);
                bool found = false;
                for (int i = 0; i < N && !found; i++)
                    found = s_bf_pass (&q, &p[i]) && s_word_matches (tokens[i], w1, true, typo);
                if (!found)
                    typo = s_typo_rule (w1, true, true, tokens[0], sizeof *tokens, &p[0].active,
                                        sizeof *p, N);
            }
            for (int i = 0; i < N; i++) {
                const vgen_product_t *g = &p[i];
                if (!g->active || (q.in_stock_only && !g->in_stock))
                    continue;
                if (q.price_max && (g->price_minor < q.price_min || g->price_minor > q.price_max))
                    continue;
                if (q.brand && strcmp (q.brand, g->brand))
                    continue;
                if (q.category) {
                    size_t cl = strlen (q.category);
                    if (strncmp (g->category, q.category, cl)
                        || (g->category[cl] != 0 && g->category[cl] != '/'))
                        continue;
                }
                if (has_text && !s_word_matches (tokens[i], w1, true, typo))
                    continue;
                match[total++] = i;
                for (int d = 0; d < 3; d++)
                    cats[d] += strncmp (g->category, depts[d], strlen (depts[d])) == 0;
                int b = 0;
                for (int k = 1; k < CATALOG_PRICE_BUCKETS; k++)
                    b += g->price_minor >= r.prices[k].min;
                price[b]++;
                brand_count += some_brand && strcmp (g->brand, some_brand) == 0;
                if (some_sub) {
                    size_t sl = strlen (some_sub);
                    sub_count += strncmp (g->category, some_sub, sl) == 0
                                 && (g->category[sl] == 0 || g->category[sl] == '/');
                }
            }
            if (total != r.total)
                fail_msg ("round %d query \"%s\" (category %s, brand %s): index %u, brute force %u",
                          round, text, q.category ? q.category : "-", q.brand ? q.brand : "-",
                          r.total, total);
            for (int d = 0; d < 3; d++)
                assert_int_equal (s_facet (r.categories, r.ncategories, depts[d]), cats[d]);
            for (int k = 0; k < CATALOG_PRICE_BUCKETS; k++)
                assert_int_equal (r.prices[k].count, price[k]);
            if (some_brand)
                assert_int_equal (r.brands[r.nbrands - 1].count, brand_count);
            if (some_sub)
                assert_int_equal (r.subcategories[0].count, sub_count);
            uint32_t page = total > q.offset ? total - q.offset : 0;
            assert_int_equal (r.nhits, page < 30 ? page : 30);
            if (!has_text || q.sort != CATALOG_SORT_RELEVANCE) {
                //  The page by key, then the older product, then the smaller id: a selection sort
                //  of the window.
                uint32_t want = q.offset + r.nhits;
                for (uint32_t a = 0; a < want && a < total; a++) {
                    uint32_t best = a;
                    for (uint32_t b = a + 1; b < total; b++) {
                        int64_t kb = s_bf_key (&p[match[b]], q.sort);
                        int64_t kx = s_bf_key (&p[match[best]], q.sort);
                        if (kb > kx || (kb == kx && s_before (&p[match[b]], &p[match[best]])))
                            best = b;
                    }
                    int t = match[a];
                    match[a] = match[best];
                    match[best] = t;
                    if (a >= q.offset)
                        assert_string_equal (r.hits[a - q.offset].id, p[match[a]].id);
                }
            }
            free (match);
        }
    }
    catalog_search_destroy (&index);
    free (p);
    free (tokens);
}

static void
test_sorts_and_paging (void **state)
{
    (void) state;
    catalog_search_t *index = s_gen_index ();
    uint32_t live = catalog_search_size (index);
    catalog_query_t q = { .limit = 100, .sort = CATALOG_SORT_PRICE_ASC };
    catalog_result_t r;
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, live);
    //  Prices of the first page, by id, to check the order.
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < r.nhits; i++) {
        int idx = atoi (r.hits[i].id + 1);
        assert_true (s_gen[idx].p.price_minor >= prev);
        prev = s_gen[idx].p.price_minor;
    }
    //  Descending, newest and popular: monotonic too.
    catalog_sort_t sorts[] = { CATALOG_SORT_PRICE_DESC, CATALOG_SORT_NEWEST, CATALOG_SORT_POPULAR };
    for (int s = 0; s < 3; s++) {
        q = (catalog_query_t) { .text = "design", .limit = 100, .sort = sorts[s] };
        assert_int_equal (catalog_search_query (index, &q, &r), 0);
        assert_true (r.nhits > 10);
        double last = 1e300;
        for (uint32_t i = 0; i < r.nhits; i++) {
            const vgen_product_t *p = &s_gen[atoi (r.hits[i].id + 1)].p;
            double v = s == 0   ? (double) p->price_minor
                       : s == 1 ? (double) p->created_ms
                                : (float) p->popularity;
            assert_true (v <= last);
            last = v;
        }
    }
    //  Pages of 7 put together are the first 70 of one page of 70; totals agree.
    for (int s = 0; s < 5; s++) {
        catalog_query_t whole = { .text = "comfortable", .limit = 70, .sort = (catalog_sort_t) s };
        catalog_result_t all;
        assert_int_equal (catalog_search_query (index, &whole, &all), 0);
        char ids[70][24];
        uint32_t nall = all.nhits, total = all.total;
        assert_true (nall == 70);
        for (uint32_t i = 0; i < nall; i++)
            snprintf (ids[i], sizeof ids[i], "%s", all.hits[i].id);
        for (uint32_t off = 0; off < 70; off += 7) {
            catalog_query_t page = whole;
            page.offset = off;
            page.limit = 7;
            assert_int_equal (catalog_search_query (index, &page, &r), 0);
            assert_int_equal (r.total, total);
            assert_int_equal (r.nhits, 7);
            for (uint32_t i = 0; i < 7; i++)
                assert_string_equal (r.hits[i].id, ids[off + i]);
        }
        //  Past the end: no hits, same total.
        catalog_query_t past = whole;
        past.offset = total;
        past.limit = 10;
        if (total + 10 <= CATALOG_MAX_WINDOW) {
            assert_int_equal (catalog_search_query (index, &past, &r), 0);
            assert_int_equal (r.total, total);
            assert_int_equal (r.nhits, 0);
        }
    }
    catalog_search_destroy (&index);
}

//  ---------------------------------------------------------------- updates
static void
test_updates (void **state)
{
    (void) state;
    catalog_search_t *index = s_index (s_shop, 7);
    assert_int_equal (catalog_search_size (index), 7);
    //  Replace: the old words no longer match, the new ones do.
    s_doc_t sofa = { "s1", "corner couch", "Nordhaus", "", "furniture/sofas", 99900, true, 7, 40 };
    s_put (index, &sofa);
    assert_int_equal (catalog_search_size (index), 7);
    assert_int_equal (s_query (index, "velvet").total, 0);
    catalog_result_t r = s_query (index, "couch");
    assert_int_equal (r.total, 1);
    assert_string_equal (r.hits[0].id, "s1");
    //  Remove.
    assert_int_equal (catalog_search_remove (index, "h2"), 0);
    assert_int_equal (catalog_search_remove (index, "h2"), -VE_NOT_FOUND);
    assert_int_equal (s_query (index, "headphones").total, 1);
    //  Stock.
    catalog_query_t q = { .text = "office", .in_stock_only = true, .limit = 10 };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 1);
    assert_int_equal (catalog_search_set_stock (index, "c2", true), 0);
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 2);
    assert_int_equal (catalog_search_set_stock (index, "nope", true), -VE_NOT_FOUND);
    //  Popularity.
    q = (catalog_query_t) { .text = "chair", .sort = CATALOG_SORT_POPULAR, .limit = 10 };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_string_equal (r.hits[0].id, "c2");
    assert_int_equal (catalog_search_set_popularity (index, "c3", 100), 0);
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_string_equal (r.hits[0].id, "c3");
    assert_int_equal (catalog_search_set_popularity (index, "c3", 0.0 / 0.0), -VE_INVAL);
    //  Inactive: a put of a draft hides the product; putting it active again shows it.
    catalog_doc_t draft = { .id = "c1", .title = "mesh office chair", .active = false };
    assert_int_equal (catalog_search_put (index, &draft), 0);
    assert_int_equal (s_query (index, "mesh").total, 0);
    assert_int_equal (catalog_search_set_stock (index, "c1", true), -VE_NOT_FOUND);
    catalog_doc_t never = { .id = "x9", .title = "hidden gem", .active = false };
    assert_int_equal (catalog_search_put (index, &never), 0);
    assert_int_equal (s_query (index, "hidden").total, 0);
    draft.active = true;
    assert_int_equal (catalog_search_put (index, &draft), 0);
    assert_int_equal (s_query (index, "mesh").total, 1);
    assert_int_equal (catalog_search_size (index), 6);
    catalog_search_destroy (&index);
}

//  Every result of a set of queries, as text, for comparing two states of an index.
static char *
s_snapshot (catalog_search_t *index)
{
    static const char *texts[] = { "comfortable", "design",  "cha", "wireles",
                                   "oak table",   "leather", "",    "bluetooth speaker",
                                   "sm" };
    size_t cap = 1 << 20, used = 0;
    char *out = malloc (cap);
    assert_non_null (out);
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
        for (int s = 0; s < 5; s++) {
            catalog_query_t q = {
                .text = texts[t], .sort = (catalog_sort_t) s, .limit = 30, .offset = (uint32_t) s
            };
            catalog_result_t r;
            assert_int_equal (catalog_search_query (index, &q, &r), 0);
            used +=
                (size_t) snprintf (out + used, cap - used, "%s/%d total %u:", texts[t], s, r.total);
            for (uint32_t i = 0; i < r.nhits; i++)
                used += (size_t) snprintf (out + used, cap - used, " %s=%.5f", r.hits[i].id,
                                           (double) r.hits[i].score);
            for (uint32_t i = 0; i < r.nbrands; i++)
                used += (size_t) snprintf (out + used, cap - used, " %s:%u", r.brands[i].name,
                                           r.brands[i].count);
            used += (size_t) snprintf (out + used, cap - used, "\n");
            assert_true (used < cap - 4096);
        }
    return out;
}

static void
test_compaction (void **state)
{
    (void) state;
    //  An empty index compacts too (the catalog does it after loading an empty store).
    catalog_search_t *empty = catalog_search_new ();
    assert_int_equal (catalog_search_compact (empty), 0);
    assert_int_equal (catalog_search_size (empty), 0);
    catalog_search_destroy (&empty);
    catalog_search_t *index = s_gen_index ();
    //  Churn: rewrite a third of the products (same content, new ordinals), remove a tenth.
    for (int i = 0; i < NGEN; i += 3) {
        catalog_doc_t doc;
        vgen_product_doc (&s_gen[i].p, &doc);
        assert_int_equal (catalog_search_put (index, &doc), 0);
    }
    for (int i = 1; i < NGEN; i += 10)
        if (s_gen[i].p.active)
            assert_int_equal (catalog_search_remove (index, s_gen[i].p.id), 0);
    uint32_t live = catalog_search_size (index);
    size_t before_mem = catalog_search_memory (index);
    char *before = s_snapshot (index);
    assert_int_equal (catalog_search_compact (index), 0);
    assert_int_equal (catalog_search_size (index), live);
    char *after = s_snapshot (index);
    assert_string_equal (before, after);
    assert_true (catalog_search_memory (index) < before_mem);
    free (before);
    free (after);

    //  Automatic compaction under heavy churn: 5 rounds of rewriting everything.
    for (int round = 0; round < 5; round++)
        for (int i = 0; i < NGEN; i++) {
            catalog_doc_t doc;
            vgen_product_doc (&s_gen[i].p, &doc);
            assert_int_equal (catalog_search_put (index, &doc), 0);
        }
    catalog_search_t *fresh = s_gen_index ();
    before = s_snapshot (fresh);
    after = s_snapshot (index);
    assert_string_equal (before, after);  //  same products, same answers
    assert_true (catalog_search_memory (index) < 3 * catalog_search_memory (fresh));
    free (before);
    free (after);
    catalog_search_destroy (&fresh);
    catalog_search_destroy (&index);
}

//  ---------------------------------------------------------------- browsing and limits
static void
test_browse (void **state)
{
    (void) state;
    catalog_search_t *index = s_index (s_shop, 7);
    catalog_query_t q = { .category = "gadgets", .limit = 10 };
    catalog_result_t r;
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 3);
    assert_string_equal (r.hits[0].id, "k1");  //  no text: by popularity
    assert_int_equal (r.nwords, 0);
    //  Stop words only, the last one finished (a space after it): everything.
    q = (catalog_query_t) { .text = "the and of ", .limit = 10, .sort = CATALOG_SORT_NEWEST };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 7);
    assert_string_equal (r.hits[0].id, "k1");
    assert_float_equal (r.hits[0].score, 0, 0);
    q = (catalog_query_t) { .category = "nowhere", .limit = 10 };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    assert_int_equal (r.total, 0);
    assert_int_equal (r.ncategories, 0);
    catalog_search_destroy (&index);
}

static void
test_limits (void **state)
{
    (void) state;
    catalog_search_t *index = s_index (s_shop, 7);
    catalog_result_t r;
    char text[400];
    memset (text, 'a', sizeof text);
    text[CATALOG_MAX_QUERY] = 0;
    catalog_query_t q = { .text = text, .limit = 10 };
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    text[CATALOG_MAX_QUERY] = 'a';
    text[CATALOG_MAX_QUERY + 1] = 0;
    assert_int_equal (catalog_search_query (index, &q, &r), -VE_TOOBIG);
    strcpy (text, "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16");
    assert_int_equal (catalog_search_query (index, &q, &r), 0);
    strcat (text, " w17");
    assert_int_equal (catalog_search_query (index, &q, &r), -VE_TOOBIG);
    q = (catalog_query_t) { .limit = 0 };
    assert_int_equal (catalog_search_query (index, &q, &r), -VE_INVAL);
    q.limit = CATALOG_MAX_LIMIT + 1;
    assert_int_equal (catalog_search_query (index, &q, &r), -VE_TOOBIG);
    q.limit = CATALOG_MAX_LIMIT;
    q.offset = CATALOG_MAX_WINDOW;
    assert_int_equal (catalog_search_query (index, &q, &r), -VE_TOOBIG);
    q.offset = UINT32_MAX;
    assert_int_equal (catalog_search_query (index, &q, &r), -VE_TOOBIG);
    q = (catalog_query_t) { .limit = 10, .price_min = 10, .price_max = 5 };
    assert_int_equal (catalog_search_query (index, &q, &r), -VE_INVAL);
    q = (catalog_query_t) { .limit = 10, .sort = (catalog_sort_t) 99 };
    assert_int_equal (catalog_search_query (index, &q, &r), -VE_INVAL);
    assert_int_equal (catalog_search_query (index, NULL, &r), -VE_INVAL);

    catalog_doc_t doc = { .title = "x", .active = true };
    assert_int_equal (catalog_search_put (index, &doc), -VE_INVAL);
    doc.id = "";
    assert_int_equal (catalog_search_put (index, &doc), -VE_INVAL);
    char id[CATALOG_MAX_ID + 2];
    memset (id, 'i', sizeof id);
    id[CATALOG_MAX_ID + 1] = 0;
    doc.id = id;
    assert_int_equal (catalog_search_put (index, &doc), -VE_TOOBIG);
    doc.id = "ok";
    doc.category = "a/b/c/d/e";
    assert_int_equal (catalog_search_put (index, &doc), -VE_INVAL);
    doc.category = "a//b";
    assert_int_equal (catalog_search_put (index, &doc), -VE_INVAL);
    doc.category = "a/b/";
    assert_int_equal (catalog_search_put (index, &doc), -VE_INVAL);
    doc.category = "a/b/c/d";
    assert_int_equal (catalog_search_put (index, &doc), 0);
    doc.popularity = 1.0 / 0.0;
    assert_int_equal (catalog_search_put (index, &doc), -VE_INVAL);
    doc.popularity = 0;
    char *big = malloc (CATALOG_MAX_FIELD + 2);
    memset (big, 'b', CATALOG_MAX_FIELD + 1);
    big[CATALOG_MAX_FIELD + 1] = 0;
    doc.description = big;
    assert_int_equal (catalog_search_put (index, &doc), -VE_TOOBIG);
    free (big);
    assert_int_equal (catalog_search_size (index), 8);
    assert_int_equal (catalog_search_put (NULL, &doc), -VE_INVAL);
    assert_int_equal (catalog_search_remove (index, NULL), -VE_NOT_FOUND);
    catalog_search_destroy (&index);
}

//  ---------------------------------------------------------------- suggestions
static catalog_suggest_t
s_suggest (catalog_search_t *index, const char *text)
{
    catalog_suggest_t s;
    assert_int_equal (catalog_search_suggest (index, text, 8, 4, &s), 0);
    return s;
}

//  Completions of the last word rank by how many products name them, then shorter; products
//  carry the first completion (title first, then popularity).
static void
test_suggest_frequency (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("l1", "Smart lamp", "Lumo", "", "home/lighting", 1000),
        DOC ("l2", "Smart lamp mini", "Lumo", "", "home/lighting", 1000),
        DOC ("l3", "Desk lamp", "Smart", "", "home/lighting", 1000),
        DOC ("w1", "Smartwatch", "Tika", "", "gadgets/watches", 1000),
        DOC ("p1", "Smartphone case", "Tika", "", "gadgets/cases", 1000),
        DOC ("p2", "Smartphone stand", "Tika", "smart desk", "gadgets/cases", 1000),
        DOC ("t1", "Small table", "Oakline", "", "furniture/tables", 1000),
    };
    docs[1].popularity = 5;
    catalog_search_t *index = s_index (docs, sizeof docs / sizeof docs[0]);
    catalog_suggest_t s = s_suggest (index, "Sma");
    assert_int_equal (s.ncompletions, 4);
    const char *order[] = { "smart", "smartphone", "small", "smartwatch" };
    uint32_t counts[] = { 3, 2, 1, 1 };
    for (uint32_t i = 0; i < 4; i++) {
        assert_string_equal (s.completions[i].text, order[i]);
        assert_int_equal (s.completions[i].count, counts[i]);
        assert_int_equal (s.completions[i].matched, 3);
        assert_false (s.completions[i].corrected);
    }
    //  "smart": in the title of l1 and l2 (l2 more popular), then l3 (brand) and p2
    //  (description), then by id; "smartphone" would come next.
    assert_int_equal (s.nproducts, 4);
    assert_string_equal (s.products[0].id, "l2");
    assert_string_equal (s.products[1].id, "l1");
    assert_string_equal (s.products[2].id, "l3");
    assert_string_equal (s.products[3].id, "p2");
    assert_int_equal (s.nwords, 1);
    assert_int_equal (s.nprefixes, 1);
    assert_string_equal (s.words[0], "sma");
    //  Fewer asked, fewer given; a whole word completes to itself first.
    assert_int_equal (catalog_search_suggest (index, "smartphone", 1, 0, &s), 0);
    assert_int_equal (s.ncompletions, 1);
    assert_int_equal (s.nproducts, 0);
    assert_string_equal (s.completions[0].text, "smartphone");
    catalog_search_destroy (&index);
}

//  What shoppers searched comes first (at most half the completions while the catalog has the
//  rest), most searched first, in its normal form; a text is offered once; a search naming a
//  word no live product has is not kept, nor offered once its products are gone; typed text
//  that begins nothing searched gets the catalog's completions only.
static void
test_suggest_searched (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("t1", "Oak table", "Oakline", "", "furniture/tables", 1000),
        DOC ("t2", "Oak side table", "Oakline", "", "furniture/tables", 1000),
        DOC ("t3", "Oak tablet stand", "Oakline", "", "furniture/tables", 1000),
        DOC ("l1", "Table lamp for desks", "Lumo", "", "home/lighting", 1000),
        DOC ("s1", "Velvet sofa", "Sitwell", "", "furniture/sofas", 1000),
    };
    catalog_search_t *index = s_index (docs, sizeof docs / sizeof docs[0]);
    const char *texts[] = { "oak table",  "Oak  TABLE", "lamp for desks", "oak side table",
                            "oak tables", "velvet sofa", "oak tablet",    "table lamp",
                            "oak" };
    const double counts[] = { 5, 2.5, 4, 3, 9, 1, 2, 0, 6 };
    //  "oak tables" names no product's word; "table lamp" has no count; the two spellings of
    //  "oak table" are one.
    assert_int_equal (catalog_search_set_searched (index, texts, counts, 9), 6);
    catalog_suggest_t s;
    //  "oak ta": both searched ones the catalog also completes to, each offered once.
    assert_int_equal (catalog_search_suggest (index, "Oak ta", 4, 0, &s), 0);
    assert_int_equal (s.ncompletions, 2);
    assert_string_equal (s.completions[0].text, "oak table");
    assert_true (s.completions[0].searched);
    assert_int_equal (s.completions[0].count, 8);  //  7.5, rounded
    assert_int_equal (s.completions[0].matched, 6);
    assert_string_equal (s.completions[1].text, "oak tablet");
    assert_true (s.completions[1].searched);
    //  "oak", 3 asked: two searched (of four that begin so), then the catalog's ("oak" is
    //  offered already).
    assert_int_equal (catalog_search_suggest (index, "oak", 3, 0, &s), 0);
    assert_int_equal (s.ncompletions, 3);
    assert_string_equal (s.completions[0].text, "oak table");
    assert_string_equal (s.completions[1].text, "oak");
    assert_true (s.completions[1].searched);
    assert_int_equal (s.completions[1].matched, 3);
    assert_string_equal (s.completions[2].text, "oakline");
    assert_false (s.completions[2].searched);
    assert_int_equal (s.completions[2].count, 3);
    //  "lamp f": the catalog has nothing (stop words are not terms), so searched fills all;
    //  its normal form keeps the stop word.
    assert_int_equal (catalog_search_suggest (index, "lamp f", 8, 0, &s), 0);
    assert_int_equal (s.ncompletions, 1);
    assert_string_equal (s.completions[0].text, "lamp for desks");
    //  Once the sofa is gone, "velvet sofa" is not offered.
    s = s_suggest (index, "velvet");
    assert_int_equal (s.ncompletions, 2);
    assert_string_equal (s.completions[0].text, "velvet sofa");
    assert_true (s.completions[0].searched);
    assert_string_equal (s.completions[1].text, "velvet");
    assert_int_equal (catalog_search_remove (index, "s1"), 0);
    s = s_suggest (index, "velvet");
    assert_int_equal (s.ncompletions, 0);
    //  Nothing searched begins so: the catalog's only.
    s = s_suggest (index, "desk");
    assert_int_equal (s.ncompletions, 1);
    assert_string_equal (s.completions[0].text, "desks");
    assert_false (s.completions[0].searched);
    //  A new table replaces the old.
    assert_int_equal (catalog_search_set_searched (index, NULL, NULL, 0), 0);
    assert_int_equal (catalog_search_suggest (index, "Oak ta", 4, 0, &s), 0);
    assert_int_equal (s.ncompletions, 2);
    assert_false (s.completions[0].searched);
    catalog_search_destroy (&index);
}

//  A half-typed word that begins no term is read with one edit; one that begins a term is not.
static void
test_suggest_typo (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("c1", "Office chair", "Sitwell", "", "furniture/chairs", 1000),
        DOC ("c2", "Chairs for two", "Sitwell", "", "furniture/chairs", 1000),
        DOC ("t1", "Oak table", "Oakline", "", "furniture/tables", 1000),
        DOC ("g1", "Glass vase", "Vitra", "", "home/decor", 1000),
        DOC ("g2", "Classic vase", "Vitra", "", "home/decor", 1000),
    };
    catalog_search_t *index = s_index (docs, sizeof docs / sizeof docs[0]);
    catalog_suggest_t s = s_suggest (index, "chiar");  //  a swap
    assert_int_equal (s.ncompletions, 2);
    assert_string_equal (s.completions[0].text, "chair");
    assert_string_equal (s.completions[1].text, "chairs");
    assert_true (s.completions[0].corrected);
    assert_int_equal (s.completions[0].matched, 5);
    assert_int_equal (s.nproducts, 2);
    assert_string_equal (s.products[0].id, "c1");
    s = s_suggest (index, "tabke");  //  a substitution
    assert_int_equal (s.ncompletions, 1);
    assert_string_equal (s.completions[0].text, "table");
    s = s_suggest (index, "clas");  //  begins "classic": never "glass"
    assert_int_equal (s.ncompletions, 1);
    assert_string_equal (s.completions[0].text, "classic");
    assert_false (s.completions[0].corrected);
    s = s_suggest (index, "xyzzy");
    assert_int_equal (s.ncompletions, 0);
    assert_int_equal (s.nproducts, 0);
    //  An earlier word that is no term takes its commonest one-edit variant.
    s = s_suggest (index, "ofice ch");
    assert_int_equal (s.ncompletions, 1);
    assert_string_equal (s.completions[0].text, "office chair");
    assert_int_equal (s.completions[0].matched, 9);
    catalog_search_destroy (&index);
}

//  After other words the completions rank by how many of the products matching those carry
//  them: a completion no such product has is left out, however common elsewhere.
static void
test_suggest_after_words (void **state)
{
    (void) state;
    s_doc_t docs[] = {
        DOC ("a1", "Oak table", "Oakline", "", "furniture/tables", 1000),
        DOC ("a2", "Oak table large", "Oakline", "", "furniture/tables", 1000),
        DOC ("a3", "Oak tray", "Oakline", "", "home/kitchen", 1000),
        DOC ("b1", "Pine tablet stand", "Pinewood", "", "gadgets/stands", 1000),
        DOC ("b2", "Tablet case", "Pinewood", "", "gadgets/cases", 1000),
        DOC ("b3", "Tablet sleeve", "Pinewood", "", "gadgets/cases", 1000),
        DOC ("b4", "Tablet pen", "Pinewood", "", "gadgets/cases", 1000),
    };
    catalog_search_t *index = s_index (docs, sizeof docs / sizeof docs[0]);
    catalog_suggest_t s = s_suggest (index, "oak ta");
    assert_int_equal (s.ncompletions, 1);
    assert_string_equal (s.completions[0].text, "oak table");
    assert_int_equal (s.completions[0].count, 2);
    assert_int_equal (s.completions[0].matched, 6);
    assert_int_equal (s.nproducts, 2);
    assert_string_equal (s.products[0].id, "a1");  //  the shorter title
    assert_string_equal (s.products[1].id, "a2");
    s = s_suggest (index, "oak tr");
    assert_string_equal (s.completions[0].text, "oak tray");
    assert_int_equal (s.nproducts, 1);
    s = s_suggest (index, "ta");
    assert_string_equal (s.completions[0].text, "tablet");
    assert_string_equal (s.completions[1].text, "table");
    s = s_suggest (index, "the oak t");  //  a stop word before the last is dropped
    assert_int_equal (s.ncompletions, 2);
    assert_string_equal (s.completions[0].text, "oak table");
    assert_string_equal (s.completions[1].text, "oak tray");
    catalog_search_destroy (&index);
}

//  Marks: byte ranges of the original text, folded letters included.
static void
test_suggest_marks (void **state)
{
    (void) state;
    const char *words[] = { "oak", "ec", "ta" };
    catalog_span_t spans[8];
    const char *title = "\xc3\x89" "clair Oak-table, oaken TA";
    uint32_t n = catalog_search_mark (title, strlen (title), words, 3, 2, spans, 8);
    assert_int_equal (n, 4);
    assert_int_equal (spans[0].start, 0);  //  "\xc3\x89c" for "ec"
    assert_int_equal (spans[0].len, 3);
    assert_int_equal (spans[1].start, 8);  //  "Oak"; "oaken" is not "oak"
    assert_int_equal (spans[1].len, 3);
    assert_int_equal (spans[2].start, 12);  //  "ta" of "table"
    assert_int_equal (spans[2].len, 2);
    assert_int_equal (spans[3].start, 25);  //  "TA"
    assert_int_equal (spans[3].len, 2);
    assert_int_equal (catalog_search_mark (title, strlen (title), words, 3, 2, spans, 1), 1);
    //  Through suggest: the words to mark are the matched ones.
    s_doc_t docs[] = { DOC ("c1", "Office Chair", "Sitwell", "", "furniture/chairs", 1000) };
    catalog_search_t *index = s_index (docs, 1);
    catalog_suggest_t s = s_suggest (index, "ofice chiar");
    assert_int_equal (s.ncompletions, 1);
    n = catalog_search_mark ("Office Chair", 12, s.words, s.nwords, s.nprefixes, spans, 8);
    assert_int_equal (n, 2);
    assert_int_equal (spans[0].start, 0);
    assert_int_equal (spans[0].len, 6);
    assert_int_equal (spans[1].start, 7);
    assert_int_equal (spans[1].len, 5);
    catalog_search_destroy (&index);
}

static void
test_suggest_limits (void **state)
{
    (void) state;
    s_doc_t docs[] = { DOC ("c1", "Office chair", "Sitwell", "", "furniture/chairs", 1000) };
    catalog_search_t *index = s_index (docs, 1);
    catalog_suggest_t s;
    char big[CATALOG_MAX_QUERY + 2];
    memset (big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal (catalog_search_suggest (index, big, 8, 4, &s), -VE_TOOBIG);
    big[CATALOG_MAX_QUERY] = 0;
    assert_int_equal (catalog_search_suggest (index, big, 8, 4, &s), 0);
    assert_int_equal (catalog_search_suggest (index, "of", CATALOG_SUGGEST_COMPLETIONS + 1, 4, &s),
                      -VE_INVAL);
    assert_int_equal (catalog_search_suggest (index, "of", 8, CATALOG_SUGGEST_PRODUCTS + 1, &s),
                      -VE_INVAL);
    assert_int_equal (catalog_search_suggest (index, "of", 8, 4, NULL), -VE_INVAL);
    assert_int_equal (catalog_search_suggest (index, "b c d e f g h i j k l m n o p q r", 8, 4, &s),
                      -VE_TOOBIG);
    s = s_suggest (index, "");
    assert_int_equal (s.ncompletions + s.nproducts, 0);
    s = s_suggest (index, " - ");
    assert_int_equal (s.ncompletions + s.nproducts, 0);
    catalog_search_destroy (&index);
}

//  Suggested products against a brute force, over random puts, replacements, removals,
//  popularity changes and compactions: the index keeps per common term its best few products
//  (catalog_search_internal.h) and must give what ranking every live product would. Words
//  begin with distinct prefixes but for "amber" and "ambit"; "fjord" stays rare.
#define SUG_IDS        400
#define SUG_BEST_TEST  12  //  more than a term's best list holds
static const char *const s_sug_vocab[] = { "amber", "ambit", "birch", "cedar", "delta", "fjord" };
#define SUG_NVOCAB 6

typedef struct {
    char title[64], desc[64];
    int popularity;
    int64_t created_ms;
    int title_len;
    bool live;
} s_sug_doc_t;

static uint64_t s_sug_rng = 88172645463325252ull;

static uint32_t
s_sug_rand (uint32_t n)
{
    s_sug_rng ^= s_sug_rng << 13;
    s_sug_rng ^= s_sug_rng >> 7;
    s_sug_rng ^= s_sug_rng << 17;
    return (uint32_t) (s_sug_rng % n);
}

//  Fills text with 1 + rand (n) words (0 + ... when zero_ok), "fjord" one time in 40.
static int
s_sug_words (char *text, size_t size, uint32_t n, bool zero_ok)
{
    uint32_t count = s_sug_rand (n) + (zero_ok ? 0 : 1);
    size_t used = 0;
    text[0] = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t w = s_sug_rand (40) == 0 ? 5 : s_sug_rand (5);
        used += (size_t) snprintf (text + used, size - used, "%s%s", i ? " " : "", s_sug_vocab[w]);
    }
    return (int) count;
}

static bool
s_sug_has (const char *text, const char *word)
{
    size_t n = strlen (word);
    for (const char *p = strstr (text, word); p; p = strstr (p + 1, word))
        if ((p == text || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
            return true;
    return false;
}

//  a ranks before b among the products carrying word (catalog_search_suggest's order).
static bool
s_sug_before (const s_sug_doc_t *m, int a, int b, const char *word)
{
    bool ta = s_sug_has (m[a].title, word), tb = s_sug_has (m[b].title, word);
    if (ta != tb)
        return ta;
    if (m[a].popularity != m[b].popularity)
        return m[a].popularity > m[b].popularity;
    if (m[a].title_len != m[b].title_len)
        return m[a].title_len < m[b].title_len;
    if (m[a].created_ms / 1000 != m[b].created_ms / 1000)
        return m[a].created_ms < m[b].created_ms;
    return a < b;  //  ids are "p%03d": their byte order is the number's
}

static void
s_sug_put (catalog_search_t *index, s_sug_doc_t *m, int i, bool active)
{
    char id[16];
    snprintf (id, sizeof id, "p%03d", i);
    m[i].title_len = s_sug_words (m[i].title, sizeof m[i].title, 3, false);
    s_sug_words (m[i].desc, sizeof m[i].desc, 3, true);
    m[i].popularity = (int) s_sug_rand (5);
    m[i].created_ms = (int64_t) s_sug_rand (5) * 1000 + s_sug_rand (1000);
    m[i].live = active;
    catalog_doc_t doc = { .id = id,
                          .title = m[i].title,
                          .description = m[i].desc,
                          .price_minor = 100,
                          .active = active,
                          .created_ms = m[i].created_ms,
                          .popularity = m[i].popularity };
    assert_int_equal (catalog_search_put (index, &doc), 0);
}

//  Checks the suggestions for prefix against the brute force; returns the first product (or
//  -1) for the caller to remove or demote.
static int
s_sug_check (catalog_search_t *index, const s_sug_doc_t *m, const char *prefix)
{
    //  Completions: the vocabulary words it begins that live products carry, by how many name
    //  them (the title, here), then how many carry them, then shorter, then byte order.
    int comp[SUG_NVOCAB], ncomp = 0, named[SUG_NVOCAB] = { 0 }, df[SUG_NVOCAB] = { 0 };
    for (int w = 0; w < SUG_NVOCAB; w++) {
        if (strncmp (s_sug_vocab[w], prefix, strlen (prefix)) != 0)
            continue;
        for (int i = 0; i < SUG_IDS; i++) {
            named[w] += m[i].live && s_sug_has (m[i].title, s_sug_vocab[w]);
            df[w] += m[i].live
                     && (s_sug_has (m[i].title, s_sug_vocab[w])
                         || s_sug_has (m[i].desc, s_sug_vocab[w]));
        }
        if (df[w] == 0)
            continue;
        int at = ncomp++;
        while (at > 0
               && (named[w] > named[comp[at - 1]]
                   || (named[w] == named[comp[at - 1]] && df[w] > df[comp[at - 1]]))) {
            comp[at] = comp[at - 1];
            at--;
        }
        comp[at] = w;
    }
    //  Products: the best of the first completion's, then of the next's, none twice.
    int want[CATALOG_SUGGEST_PRODUCTS], nwant = 0;
    for (int c = 0; c < ncomp && nwant < CATALOG_SUGGEST_PRODUCTS; c++) {
        const char *word = s_sug_vocab[comp[c]];
        int from = nwant;
        for (int i = 0; i < SUG_IDS; i++) {
            bool taken = false;
            for (int j = 0; j < from; j++)
                taken |= want[j] == i;
            if (!m[i].live || taken
                || !(s_sug_has (m[i].title, word) || s_sug_has (m[i].desc, word)))
                continue;
            if (nwant == CATALOG_SUGGEST_PRODUCTS
                && !s_sug_before (m, i, want[CATALOG_SUGGEST_PRODUCTS - 1], word))
                continue;
            int at = nwant < CATALOG_SUGGEST_PRODUCTS ? nwant++ : CATALOG_SUGGEST_PRODUCTS - 1;
            while (at > from && s_sug_before (m, i, want[at - 1], word)) {
                want[at] = want[at - 1];
                at--;
            }
            want[at] = i;
        }
    }
    catalog_suggest_t s = s_suggest (index, prefix);
    assert_int_equal (s.ncompletions, ncomp);
    for (int c = 0; c < ncomp; c++)
        assert_string_equal (s.completions[c].text, s_sug_vocab[comp[c]]);
    assert_int_equal (s.nproducts, nwant);
    for (int i = 0; i < nwant; i++) {
        char id[16];
        snprintf (id, sizeof id, "p%03d", want[i]);
        assert_string_equal (s.products[i].id, id);
    }
    return nwant ? want[0] : -1;
}

static void
test_suggest_products_brute_force (void **state)
{
    (void) state;
    static const char *const prefixes[] = { "amb", "ambe", "bir", "ced", "del", "fjo" };
    s_sug_doc_t *m = calloc (SUG_IDS, sizeof *m);
    assert_non_null (m);
    catalog_search_t *index = catalog_search_new ();
    assert_non_null (index);
    for (int i = 0; i < SUG_IDS / 2; i++)
        s_sug_put (index, m, i, true);
    for (int op = 0; op < 4000; op++) {
        int i = (int) s_sug_rand (SUG_IDS);
        char id[16];
        snprintf (id, sizeof id, "p%03d", i);
        uint32_t what = s_sug_rand (100);
        if (what < 35)  //  new or replaced, now and then inactive
            s_sug_put (index, m, i, s_sug_rand (10) != 0);
        else if (what < 50) {
            assert_int_equal (catalog_search_remove (index, id), m[i].live ? 0 : -VE_NOT_FOUND);
            m[i].live = false;
        }
        else if (what < 80) {
            int p = (int) s_sug_rand (5);
            assert_int_equal (catalog_search_set_popularity (index, id, p),
                              m[i].live ? 0 : -VE_NOT_FOUND);
            if (m[i].live)
                m[i].popularity = p;
        }
        else if (what < 98) {
            //  The best product of a word leaves or falls: the lists shorten from the top.
            int top = s_sug_check (index, m, prefixes[s_sug_rand (6)]);
            snprintf (id, sizeof id, "p%03d", top);
            if (top >= 0 && what < 89) {
                assert_int_equal (catalog_search_remove (index, id), 0);
                m[top].live = false;
            }
            else if (top >= 0) {
                assert_int_equal (catalog_search_set_popularity (index, id, 0), 0);
                m[top].popularity = 0;
            }
        }
        else
            assert_int_equal (catalog_search_compact (index), 0);
        for (int p = 0; p < 6; p++)
            s_sug_check (index, m, prefixes[p]);
    }
    //  A word's best leave one after another, removed or demoted, until its list runs short and
    //  is filled again from the postings.
    for (int p = 0; p < 6; p++)
        for (int n = 0; n < 2 * SUG_BEST_TEST; n++) {
            int top = s_sug_check (index, m, prefixes[p]);
            if (top < 0)
                break;
            char id[16];
            snprintf (id, sizeof id, "p%03d", top);
            if (n % 2) {
                assert_int_equal (catalog_search_remove (index, id), 0);
                m[top].live = false;
            }
            else {
                assert_int_equal (catalog_search_set_popularity (index, id, -1), 0);
                m[top].popularity = -1;
            }
        }
    catalog_search_destroy (&index);
    free (m);
}

//  A product taken for the first completion is not offered again for the next, whose best
//  list it leads: "cedarwood" names the two most popular, "cedars" is in every description.
static void
test_suggest_products_taken (void **state)
{
    (void) state;
    catalog_search_t *index = catalog_search_new ();
    assert_non_null (index);
    for (int i = 0; i < 80; i++) {
        char id[16];
        snprintf (id, sizeof id, "c%02d", i);
        catalog_doc_t doc = { .id = id,
                              .title = i >= 78 ? "cedarwood box" : "box",
                              .description = "cedars",
                              .price_minor = 100,
                              .active = true,
                              .popularity = i };
        assert_int_equal (catalog_search_put (index, &doc), 0);
    }
    catalog_suggest_t s = s_suggest (index, "ceda");
    assert_int_equal (s.ncompletions, 2);
    assert_string_equal (s.completions[0].text, "cedarwood");
    assert_int_equal (s.nproducts, 4);
    const char *ids[] = { "c79", "c78", "c77", "c76" };
    for (int i = 0; i < 4; i++)
        assert_string_equal (s.products[i].id, ids[i]);
    catalog_search_destroy (&index);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_tokens),
        cmocka_unit_test (test_bm25_fields),
        cmocka_unit_test (test_bm25_rarity_and_length),
        cmocka_unit_test (test_prefix),
        cmocka_unit_test (test_typo),
        cmocka_unit_test (test_and),
        cmocka_unit_test (test_completions_by_frequency),
        cmocka_unit_test (test_half_typed_not_corrected),
        cmocka_unit_test (test_stop_word_prefix),
        cmocka_unit_test (test_short_typos),
        cmocka_unit_test (test_fuzzy_not_counted),
        cmocka_unit_test (test_brands_left_out),
        cmocka_unit_test (test_did_you_mean_agrees),
        cmocka_unit_test (test_ties_stable),
        cmocka_unit_test (test_completions_on_first_page),
        cmocka_unit_test (test_filters),
        cmocka_unit_test (test_price_bounds),
        cmocka_unit_test (test_facets_small),
        cmocka_unit_test (test_brute_force),
        cmocka_unit_test (test_brute_force_updates),
        cmocka_unit_test (test_split_same_as_one),
        cmocka_unit_test (test_put_tokens_same_as_put),
        cmocka_unit_test (test_sorts_and_paging),
        cmocka_unit_test (test_updates),
        cmocka_unit_test (test_compaction),
        cmocka_unit_test (test_browse),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_suggest_frequency),
        cmocka_unit_test (test_suggest_typo),
        cmocka_unit_test (test_suggest_searched),
        cmocka_unit_test (test_suggest_after_words),
        cmocka_unit_test (test_suggest_marks),
        cmocka_unit_test (test_suggest_limits),
        cmocka_unit_test (test_suggest_products_brute_force),
        cmocka_unit_test (test_suggest_products_taken),
    };
    return cmocka_run_group_tests (tests, s_gen_setup, s_gen_teardown);
}
