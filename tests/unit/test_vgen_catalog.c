//  test_vgen_catalog.c — the demo catalog generator: the same index gives the same product,
//  the catalog looks like a shop (departments, brands, prices, stock, dates, popularity), and
//  every product tells the truth about itself: attributes that belong to its category, a title
//  composed from them, a description in real words that mentions them, a scene hint that
//  names its colour and material.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "vgen_catalog.h"

static void
s_same (const vgen_product_t *a, const vgen_product_t *b)
{
    assert_string_equal (a->id, b->id);
    assert_string_equal (a->sku, b->sku);
    assert_string_equal (a->title, b->title);
    assert_string_equal (a->brand, b->brand);
    assert_string_equal (a->description, b->description);
    assert_string_equal (a->category, b->category);
    assert_string_equal (a->scene, b->scene);
    assert_int_equal (a->nattrs, b->nattrs);
    for (size_t i = 0; i < a->nattrs; i++) {
        assert_string_equal (a->attr_keys[i], b->attr_keys[i]);
        assert_string_equal (a->attr_values[i], b->attr_values[i]);
    }
    assert_int_equal (a->price_minor, b->price_minor);
    assert_int_equal (a->in_stock, b->in_stock);
    assert_int_equal (a->active, b->active);
    assert_int_equal (a->created_ms, b->created_ms);
    assert_true (a->popularity == b->popularity);
}

static void
test_deterministic (void **state)
{
    (void) state;
    vgen_product_t a, b;
    //  Any order, any number of times: the same bytes.
    for (uint64_t i = 0; i < 2000; i += 7) {
        vgen_product (i, &a);
        vgen_product (i + 1, &b);
        vgen_product (i, &b);
        s_same (&a, &b);
    }
    vgen_product (123456789, &a);
    vgen_product (3, &b);
    vgen_product (123456789, &b);
    s_same (&a, &b);
    vgen_product (42, &a);
    assert_string_equal (a.id, "p00000000042");
    //  Neighbours differ.
    vgen_product (43, &b);
    assert_string_not_equal (a.title, b.title);
    assert_string_not_equal (a.description, b.description);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void
test_distribution (void **state)
{
    (void) state;
    enum { N = 30000 };
    static const char *depts[3] = { "furniture/", "gadgets/", "fashion/" };
    uint32_t per_dept[3] = { 0 }, per_leaf[24] = { 0 }, in_stock = 0, active = 0;
    char brands[3][64][32];
    uint32_t nbrands[3] = { 0 };
    double *pop = malloc (N * sizeof *pop), pop_sum = 0;
    assert_non_null (pop);
    for (uint64_t i = 0; i < N; i++) {
        vgen_product_t p;
        vgen_product (i, &p);
        int d = -1;
        for (int k = 0; k < 3; k++)
            if (strncmp (p.category, depts[k], strlen (depts[k])) == 0)
                d = k;
        assert_true (d >= 0);
        per_dept[d]++;
        int leaf = -1;
        for (int k = 0; vgen_category ((size_t) k); k++)
            if (strcmp (vgen_category ((size_t) k), p.category) == 0)
                leaf = k;
        assert_true (leaf >= 0);
        per_leaf[leaf]++;
        int depth = 1;
        for (const char *c = p.category; *c; c++)
            depth += *c == '/';
        assert_true (depth >= 2 && depth <= 3);
        bool known = false;
        for (uint32_t b = 0; b < nbrands[d] && !known; b++)
            known = strcmp (brands[d][b], p.brand) == 0;
        if (!known) {
            assert_true (nbrands[d] < 64);
            snprintf (brands[d][nbrands[d]++], 32, "%s", p.brand);
        }
        //  Title starts with the brand; description of 20-60 words; a scene; attributes.
        assert_memory_equal (p.title, p.brand, strlen (p.brand));
        size_t words = 1;
        for (const char *c = p.description; *c; c++)
            words += *c == ' ';
        assert_true (words >= 20 && words <= 60);
        assert_true (strlen (p.scene) > 0);
        assert_true (p.nattrs >= 2 && p.nattrs <= VGEN_MAX_ATTRS);
        assert_true (p.price_minor >= 1000 && p.price_minor <= 400000);
        assert_true (p.created_ms <= VGEN_NOW_MS
                     && p.created_ms >= VGEN_NOW_MS - 2 * 366 * 86400000LL);
        assert_true (p.popularity >= 0);
        in_stock += p.in_stock;
        active += p.active;
        pop[i] = p.popularity;
        pop_sum += p.popularity;
    }
    for (int d = 0; d < 3; d++) {
        assert_in_range (per_dept[d], N / 3 - N / 30, N / 3 + N / 30);
        assert_in_range (nbrands[d], 25, 30);
    }
    for (int l = 0; l < 24; l++)
        assert_in_range (per_leaf[l], N / 24 / 2, N / 24 * 2);
    assert_in_range (in_stock, N * 88 / 100, N * 96 / 100);
    assert_in_range (active, N * 93 / 100, N * 99 / 100);
    //  Skewed popularity: the mean well above the median, a long tail.
    qsort (pop, N, sizeof *pop, s_cmp_double);
    double median = pop[N / 2], mean = pop_sum / N;
    assert_true (mean > 1.5 * median);
    assert_true (pop[N - 1] > 50 * median);
    free (pop);
}

//  ---------------------------------------------------------------- truthful products
//  The attributes each category may have (beyond colour), written out here apart from the
//  generator's tables: a phone has storage and no seaters, a sofa seaters and no storage.
static const struct {
    const char *category;
    const char *keys[7];  //  every key allowed, colour first
} s_allowed[] = {
    { "furniture/chairs/office", { "colour", "material", "base", "armrests" } },
    { "furniture/chairs/dining", { "colour", "material", "upholstery", "height" } },
    { "furniture/sofas", { "colour", "upholstery", "seaters" } },
    { "furniture/tables/dining", { "colour", "material", "seats" } },
    { "furniture/tables/coffee", { "colour", "material", "shape" } },
    { "furniture/storage/shelves", { "colour", "material", "shelves", "length", "brackets" } },
    { "furniture/beds", { "colour", "material", "size" } },
    { "furniture/lighting/lamps", { "colour", "material", "type", "shade", "bulb" } },
    { "gadgets/phones", { "colour", "material", "storage", "screen" } },
    { "gadgets/audio/headphones", { "colour", "material", "type", "connectivity", "battery" } },
    { "gadgets/audio/speakers", { "colour", "material", "connectivity", "power" } },
    { "gadgets/computers/laptops", { "colour", "material", "memory", "storage", "screen" } },
    { "gadgets/computers/keyboards", { "colour", "material", "connectivity", "layout" } },
    { "gadgets/wearables/watches", { "colour", "strap", "case", "battery" } },
    { "gadgets/cameras", { "colour", "material", "resolution" } },
    { "gadgets/home/lights", { "colour", "material", "fitting", "brightness", "connectivity" } },
    { "fashion/shoes/sneakers", { "colour", "material", "size" } },
    { "fashion/shoes/boots", { "colour", "material", "size" } },
    { "fashion/clothing/jackets", { "colour", "material", "size" } },
    { "fashion/clothing/shirts", { "colour", "material", "size" } },
    { "fashion/clothing/dresses", { "colour", "material", "size" } },
    { "fashion/bags/backpacks", { "colour", "material", "capacity" } },
    { "fashion/bags/handbags", { "colour", "material" } },
    { "fashion/accessories/sunglasses", { "colour", "frame", "lens" } },
};

//  Case-insensitive: does text contain word as a whole word?
static bool
s_has_word (const char *text, const char *word)
{
    size_t n = strlen (word);
    for (const char *c = text; *c; c++)
        if (strncasecmp (c, word, n) == 0 && (c == text || !isalnum ((unsigned char) c[-1]))
            && !isalnum ((unsigned char) c[n]))
            return true;
    return false;
}

//  The generator's own words (its templates, nouns, values, brand parts), lower case.
typedef struct {
    char (*w)[24];
    size_t n, cap;
} s_words_t;

static bool
s_known (const s_words_t *v, const char *w, size_t n)
{
    for (size_t i = 0; i < v->n; i++)
        if (strlen (v->w[i]) == n && strncmp (v->w[i], w, n) == 0)
            return true;
    return false;
}

//  Adds the words of text (runs of letters and digits, slots skipped) to v.
static void
s_add_words (s_words_t *v, const char *text)
{
    for (const char *c = text; *c;) {
        if (*c == '{') {
            c = strchr (c, '}') + 1;
            continue;
        }
        if (!isalnum ((unsigned char) *c)) {
            c++;
            continue;
        }
        char w[24];
        size_t n = 0;
        while (isalnum ((unsigned char) *c)) {
            assert_true (n < sizeof w - 1);
            w[n++] = (char) tolower ((unsigned char) *c++);
        }
        w[n] = 0;
        if (!s_known (v, w, n)) {
            if (v->n == v->cap) {
                v->cap = v->cap ? 2 * v->cap : 256;
                v->w = realloc (v->w, v->cap * sizeof *v->w);
                assert_non_null (v->w);
            }
            memcpy (v->w[v->n++], w, n + 1);
        }
    }
}

static void
test_attributes_belong_to_the_category (void **state)
{
    (void) state;
    for (uint64_t i = 0; i < 30000; i++) {
        vgen_product_t p;
        vgen_product (i, &p);
        size_t c = 0;
        while (c < sizeof s_allowed / sizeof s_allowed[0]
               && strcmp (s_allowed[c].category, p.category) != 0)
            c++;
        assert_true (c < sizeof s_allowed / sizeof s_allowed[0]);
        assert_true (p.nattrs >= 2 && p.nattrs <= VGEN_MAX_ATTRS);
        assert_string_equal (p.attr_keys[0], "colour");
        for (size_t k = 0; k < p.nattrs; k++) {
            bool ok = false;
            for (int a = 0; a < 7 && s_allowed[c].keys[a] && !ok; a++)
                ok = strcmp (s_allowed[c].keys[a], p.attr_keys[k]) == 0;
            if (!ok)
                fail_msg ("%s (%s): attribute %s=%s does not belong there", p.id, p.category,
                          p.attr_keys[k], p.attr_values[k]);
            for (size_t j = 0; j < k; j++)
                assert_string_not_equal (p.attr_keys[j], p.attr_keys[k]);  //  no key twice
        }
        //  Values that agree with each other and with the title.
        const char *v;
        if ((v = vgen_attr (&p, "battery")) && strstr (p.category, "headphones"))
            assert_string_equal (vgen_attr (&p, "connectivity"), "wireless");
        if ((v = vgen_attr (&p, "type")) && strstr (p.category, "lamps")) {
            char noun[32];
            snprintf (noun, sizeof noun, "%c%s Lamp", toupper ((unsigned char) v[0]), v + 1);
            if (!strstr (p.title, noun))
                fail_msg ("%s: type %s but title \"%s\"", p.id, v, p.title);
        }
        if ((v = vgen_attr (&p, "type")) && strstr (p.category, "headphones"))
            assert_true (strcmp (v, "in-ear") == 0
                             ? strstr (p.title, "Earbuds") || strstr (p.title, "Earphones")
                             : strstr (p.title, "Headphones") != NULL);
        if (strstr (p.title, "Loveseat"))
            assert_string_equal (vgen_attr (&p, "seaters"), "2");
        //  The title names the colour, and the material unless a wood colour says it.
        const char *colour = vgen_attr (&p, "colour");
        if (!s_has_word (p.title, colour))
            fail_msg ("%s: colour %s not in the title \"%s\"", p.id, colour, p.title);
        const char *mat = vgen_attr (&p, "material");
        if (!mat)
            mat = vgen_attr (&p, "upholstery");
        bool gadget = strncmp (p.category, "gadgets/", 8) == 0;
        if (mat && !gadget && strcmp (mat, "wood") != 0 && !s_has_word (p.title, mat))
            fail_msg ("%s: material %s not in the title \"%s\"", p.id, mat, p.title);
        if (mat && strcmp (mat, "wood") == 0)
            assert_true (s_has_word (p.title, "wooden") || s_has_word (p.title, colour));
        //  The scene hint carries the colour and the material the renderer draws.
        char hint[64];
        const char *m2 = mat ? mat : vgen_attr (&p, p.attr_keys[1]);
        snprintf (hint, sizeof hint, ":%s:%s", colour, m2);
        if (!strstr (p.scene, hint))
            fail_msg ("%s: scene '%s' lacks '%s'", p.id, p.scene, hint);
    }
}

static void
test_descriptions_are_real_words (void **state)
{
    (void) state;
    s_words_t vocab = { 0 };
    for (size_t i = 0; vgen_vocabulary (i); i++)
        s_add_words (&vocab, vgen_vocabulary (i));
    s_add_words (&vocab, "a an");  //  the article the generator chooses
    assert_true (vocab.n > 300);
    //  Other categories' head nouns, which a description must not name ("lamp" finds lamps)
    //  unless its own title does ("Laptop Backpack").
    static const char *const others[][2] = {
        { "lamp", "furniture/lighting" },
        { "sofa", "furniture/sofas" },
        { "bed", "furniture/beds" },
        { "chair", "furniture/chairs" },
        { "headphones", "gadgets/audio" },
        { "phone", "gadgets/phones" },
        { "laptop", "gadgets/computers" },
        { "keyboard", "gadgets/computers" },
        { "boots", "fashion/shoes/boots" },
        { "dress", "fashion/clothing/dresses" },
        { "jacket", "fashion/clothing/jackets" },
        { "watch", "gadgets/wearables" },
        { "bookcase", "furniture/storage" },
        { "sneakers", "fashion/shoes/sneakers" },
    };
    for (uint64_t i = 0; i < 20000; i++) {
        vgen_product_t p;
        vgen_product (i, &p);
        //  Sentences: 2 to 4, each starting with a capital letter and ending with a full stop.
        size_t len = strlen (p.description), sentences = 0;
        assert_true (len > 0 && p.description[len - 1] == '.');
        assert_true (isupper ((unsigned char) p.description[0]));
        for (size_t k = 0; k < len; k++)
            if (p.description[k] == '.' && (k + 1 == len || p.description[k + 1] == ' ')) {
                sentences++;
                if (k + 1 < len)
                    assert_true (isupper ((unsigned char) p.description[k + 2]));
            }
        assert_in_range (sentences, 2, 4);
        //  Every word is one of the generator's own: no made-up words.
        for (const char *c = p.description; *c;) {
            if (!isalnum ((unsigned char) *c)) {
                c++;
                continue;
            }
            const char *w = c;
            char low[24];
            size_t n = 0;
            while (isalnum ((unsigned char) *c)) {
                if (n < sizeof low - 1)
                    low[n++] = (char) tolower ((unsigned char) *c);
                c++;
            }
            if (!s_known (&vocab, low, n))
                fail_msg ("%s: \"%.*s\" is not a word of the generator: %s", p.id, (int) (c - w), w,
                          p.description);
        }
        //  It mentions the product's colour and material (or what stands for them).
        const char *colour = vgen_attr (&p, "colour");
        if (!s_has_word (p.description, colour))
            fail_msg ("%s: the description does not mention %s: %s", p.id, colour, p.description);
        const char *mat = vgen_attr (&p, p.attr_keys[1]);
        if (strncmp (p.category, "gadgets/", 8) != 0 && !s_has_word (p.description, mat))
            fail_msg ("%s: the description does not mention %s: %s", p.id, mat, p.description);
        for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
            if (strncmp (p.category, others[k][1], strlen (others[k][1])) != 0
                && s_has_word (p.description, others[k][0]) && !s_has_word (p.title, others[k][0]))
                fail_msg ("%s (%s) names \"%s\": %s", p.id, p.category, others[k][0],
                          p.description);
    }
    free (vocab.w);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_deterministic),
        cmocka_unit_test (test_distribution),
        cmocka_unit_test (test_attributes_belong_to_the_category),
        cmocka_unit_test (test_descriptions_are_real_words),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
