//  test_vgen_catalog.c — the demo catalog generator: the same index gives the same product,
//  and the catalog looks like a shop (departments, brands, prices, stock, dates, popularity).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
        assert_true (p.nattrs >= 3 && p.nattrs <= VGEN_MAX_ATTRS);
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

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_deterministic),
        cmocka_unit_test (test_distribution),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
