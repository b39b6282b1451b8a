//  bench_search.c — vitrine-bench-search: the catalog search index alone (no bus, no store).
//  Generates N products (tools/vgen_catalog), loads them, then runs a fixed, deterministic mix
//  of queries (one word, two words, prefix, typo, filtered with various sorts), each asking
//  for the top 20 and exact facets, and prints latency percentiles. With
//  --suggest it runs catalog_search_suggest instead, on the mix vitrine-bench-catalog sends.
//  Each query runs on one thread and split over two (catalog_search_set_split), alternately.
//  usage: vitrine-bench-search [--products N] [--queries Q] [--suggest]
#include "catalog_search.h"
#include "vgen_catalog.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

static double
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

//  Resident set size in MiB (VmRSS, or VmHWM for the peak) from /proc/self/status.
static double
s_rss_mib (const char *field)
{
    FILE *f = fopen ("/proc/self/status", "r");
    char line[256];
    double kib = 0;
    size_t flen = strlen (field);
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, field, flen) == 0 && line[flen] == ':')
            kib = atof (line + flen + 1);
    if (f)
        fclose (f);
    return kib / 1024;
}

enum { K_ONE, K_TWO, K_PREFIX, K_TYPO, K_FILTERED, K_COUNT };
static const char *s_kind_name[K_COUNT] = { "one-word", "two-word", "prefix", "typo", "filtered" };

//  Words of the generator's vocabularies, from common to rare.
static const char *s_one[] = {
    "oak",        "velvet",   "bluetooth", "leather",  "cushion",    "battery",  "waterproof",
    "sofa",       "lamp",     "speaker",   "jacket",   "sneakers",   "walnut",   "ergonomic",
    "wireless",   "cotton",   "denim",     "marble",   "headphones", "keyboard", "backpack",
    "polarised",  "dimmable", "stackable", "cashmere", "titanium",   "linen",    "rattan",
    "sunglasses", "laptop",   "boots",     "shelf",    "mattress",   "charging", "recycled",
    "hiking",     "mesh",     "gaming",    "teak",     "oled",       "silk",     "bookcase"
};
static const char *s_two[] = { "office chair",        "wireless headphones", "leather boots",
                               "oak table",           "velvet sofa",         "smart speaker",
                               "running shoes",       "floor lamp",          "waterproof jacket",
                               "mechanical keyboard", "cotton shirt",        "laptop backpack",
                               "walnut bookcase",     "noise cancelling",    "linen dress",
                               "dining chair",        "fitness tracker",     "suede sneakers",
                               "glass coffee",        "bluetooth speaker" };
static const char *s_prefix[] = { "cha",    "wir",       "leat",         "sof", "bluet",
                                  "ja",     "hea",       "sm",           "off", "lam",
                                  "oak ta", "velvet so", "wireless hea", "run", "bac",
                                  "kni",    "dining ch", "po",           "gam", "mechanical ke" };
static const char *s_typo[] = { "chiar",         "blutooth",    "leathr",    "waterprof",
                                "headphnes",     "sneekers",    "velvett",   "keybaord",
                                "bakcpack",      "cashmre",     "sunglases", "mattres",
                                "ergonomc",      "wirless",     "bookcsae",  "office chiar",
                                "leather boost", "smart speakr" };

typedef struct {
    const char *text, *category, *brand;
    int64_t pmin, pmax;
    bool stock;
} s_filtered_t;

static const s_filtered_t s_filtered[] = {
    { "chair", "furniture/chairs", NULL, 0, 0, false },
    { "oak", "furniture", NULL, 10000, 50000, false },
    { "wireless", "gadgets/audio", NULL, 0, 0, true },
    { "leather", "fashion/shoes", NULL, 5000, 20000, true },
    { "smart", NULL, "Nexatech", 0, 0, false },
    { NULL, "furniture/sofas", NULL, 50000, 200000, false },
    { NULL, "gadgets", NULL, 0, 0, true },
    { "velvet", NULL, NULL, 0, 30000, false },
    { "battery", "gadgets", "Pixellabs", 0, 0, false },
    { "jacket", "fashion/clothing/jackets", NULL, 0, 0, true },
    { NULL, NULL, "Oakline", 0, 0, false },
    { "cotton", "fashion", NULL, 0, 5000, true },
};

static const char *s_sug_kind[3] = { "prefix", "word+pre", "typo" };

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_pct (double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t) (p * (double) (n - 1) + 0.5);
    return v[i];
}

//  Latencies of one way of running the mix.
typedef struct {
    double *lat, *kind_lat[K_COUNT];
    size_t kind_n[K_COUNT];
    double elapsed;
} s_mode_t;

static void
s_mode_print (s_mode_t *m, const char *label, uint32_t nqueries, uint64_t hits,
              const uint64_t *kind_total)
{
    printf ("%s:\n", label);
    qsort (m->lat, nqueries, sizeof *m->lat, s_cmp_double);
    printf ("queries: %u in %.0f ms, %.0f queries/s, mean matches %.0f\n", nqueries, m->elapsed,
            nqueries / (m->elapsed / 1e3), nqueries ? (double) hits / nqueries : 0);
    printf ("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", s_pct (m->lat, nqueries, 0.5),
            s_pct (m->lat, nqueries, 0.9), s_pct (m->lat, nqueries, 0.99),
            nqueries ? m->lat[nqueries - 1] : 0);
    for (int k = 0; k < K_COUNT; k++) {
        qsort (m->kind_lat[k], m->kind_n[k], sizeof (double), s_cmp_double);
        printf ("  %-9s p50 %.3f  p99 %.3f  max %.3f ms  (mean matches %.0f)\n", s_kind_name[k],
                s_pct (m->kind_lat[k], m->kind_n[k], 0.5),
                s_pct (m->kind_lat[k], m->kind_n[k], 0.99),
                m->kind_n[k] ? m->kind_lat[k][m->kind_n[k] - 1] : 0,
                m->kind_n[k] ? (double) kind_total[k] / m->kind_n[k] : 0);
    }
}

//  Runs the query mix twice over, each query on one thread and as the catalog runs it (split
//  over two threads when large, catalog_search_set_split): the reference and the figure, in
//  the same run. Which goes first alternates, so that neither gains the other's warm cache.
//  Prints both; returns 0, or -1 on an error.
static int
s_query_mix (catalog_search_t *index, uint32_t nqueries, double *p99, double *p99_one)
{
    s_mode_t mode[2] = { { 0 } };
    for (int m = 0; m < 2; m++) {
        mode[m].lat = malloc (nqueries * sizeof *mode[m].lat);
        for (int k = 0; k < K_COUNT; k++)
            mode[m].kind_lat[k] = malloc (nqueries * sizeof (double));
    }
    uint64_t hits = 0, kind_total[K_COUNT] = { 0 };
    for (uint32_t i = 0; i < nqueries; i++) {
        int kind = (int) (i % K_COUNT);
        uint32_t j = i / K_COUNT;
        catalog_query_t q = { .limit = 20 };
        switch (kind) {
        case K_ONE: q.text = s_one[j % N_ (s_one)]; break;
        case K_TWO: q.text = s_two[j % N_ (s_two)]; break;
        case K_PREFIX: q.text = s_prefix[j % N_ (s_prefix)]; break;
        case K_TYPO: q.text = s_typo[j % N_ (s_typo)]; break;
        default: {
            const s_filtered_t *f = &s_filtered[j % N_ (s_filtered)];
            q = (catalog_query_t) { .text = f->text,
                                    .category = f->category,
                                    .brand = f->brand,
                                    .price_min = f->pmin,
                                    .price_max = f->pmax,
                                    .in_stock_only = f->stock,
                                    .sort = (catalog_sort_t) ((j / N_ (s_filtered)) % 5),
                                    .limit = 20 };
        }
        }
        //  Every seventh query of each kind asks for the second page.
        if (j % 7 == 6)
            q.offset = 20;
        for (int o = 0; o < 2; o++) {
            int m = (int) ((i + (uint32_t) o) % 2);  //  0: one thread, 1: split
            catalog_search_set_split (index, m ? CATALOG_SPLIT_MIN : 0);
            catalog_result_t r;
            double t = s_now_ms ();
            int rc = catalog_search_query (index, &q, &r);
            t = s_now_ms () - t;
            if (rc) {
                fprintf (stderr, "query \"%s\": %s\n", q.text ? q.text : "", verr_str (rc));
                return -1;
            }
            if (m == 0) {
                hits += r.total;
                kind_total[kind] += r.total;
            }
            mode[m].lat[i] = t;
            mode[m].kind_lat[kind][mode[m].kind_n[kind]++] = t;
            mode[m].elapsed += t;
        }
    }
    s_mode_print (&mode[0], "one thread", nqueries, hits, kind_total);
    s_mode_print (&mode[1], "split as the catalog runs it", nqueries, hits, kind_total);
    *p99_one = s_pct (mode[0].lat, nqueries, 0.99);
    *p99 = s_pct (mode[1].lat, nqueries, 0.99);
    for (int m = 0; m < 2; m++) {
        free (mode[m].lat);
        for (int k = 0; k < K_COUNT; k++)
            free (mode[m].kind_lat[k]);
    }
    return 0;
}

int
main (int argc, char **argv)
{
    uint64_t nproducts = 1000000;
    uint32_t nqueries = 5000;
    bool suggest = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--products") == 0 && i + 1 < argc)
            nproducts = strtoull (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--queries") == 0 && i + 1 < argc)
            nqueries = (uint32_t) strtoul (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--suggest") == 0)
            suggest = true;
        else {
            fprintf (stderr, "usage: %s [--products N] [--queries Q] [--suggest]\n", argv[0]);
            return 2;
        }
    }
    catalog_search_t *index = catalog_search_new ();
    if (!index) {
        fprintf (stderr, "out of memory\n");
        return 1;
    }

    //  Load in batches, so generation and indexing are timed apart.
    enum { BATCH = 1024 };
    vgen_product_t *batch = malloc (BATCH * sizeof *batch);
    double gen_ms = 0, put_ms = 0;
    for (uint64_t base = 0; batch && base < nproducts; base += BATCH) {
        uint64_t n = nproducts - base < BATCH ? nproducts - base : BATCH;
        double t0 = s_now_ms ();
        for (uint64_t i = 0; i < n; i++)
            vgen_product (base + i, &batch[i]);
        double t1 = s_now_ms ();
        for (uint64_t i = 0; i < n; i++) {
            catalog_doc_t doc;
            vgen_product_doc (&batch[i], &doc);
            int rc = catalog_search_put (index, &doc);
            if (rc) {
                fprintf (stderr, "put %s: %s\n", batch[i].id, verr_str (rc));
                return 1;
            }
        }
        put_ms += s_now_ms () - t1;
        gen_ms += t1 - t0;
    }
    free (batch);
    double t0 = s_now_ms ();
    int rc = catalog_search_compact (index);
    double compact_ms = s_now_ms () - t0;
    if (rc) {
        fprintf (stderr, "compact: %s\n", verr_str (rc));
        return 1;
    }
    printf ("generate: %llu products in %.0f ms (%.0f products/s)\n",
            (unsigned long long) nproducts, gen_ms, nproducts / (gen_ms / 1e3));
    printf ("load: %u active products in %.0f ms (%.0f products/s), compact %.0f ms\n",
            catalog_search_size (index), put_ms, nproducts / (put_ms / 1e3), compact_ms);
    printf ("memory: index %.1f MiB, process rss %.1f MiB (peak %.1f MiB)\n",
            catalog_search_memory (index) / 1048576.0, s_rss_mib ("VmRSS"), s_rss_mib ("VmHWM"));

    if (suggest) {
        //  Suggestions, one at a time; the first pass over the mix is timed as it comes (the
        //  first time a word is typed), per kind.
        double *sl = malloc (nqueries * sizeof *sl), *kl[3];
        size_t kn[3] = { 0 };
        for (int k = 0; k < 3; k++)
            kl[k] = malloc (nqueries * sizeof *kl[k]);
        uint64_t nprod = 0;
        double s0 = s_now_ms ();
        for (uint32_t i = 0; i < nqueries; i++) {
            char text[128];
            vgen_suggest_text (i, text, sizeof text);
            catalog_suggest_t s;
            double t = s_now_ms ();
            rc = catalog_search_suggest (index, text, 8, 4, &s);
            t = s_now_ms () - t;
            if (rc) {
                fprintf (stderr, "suggest \"%s\": %s\n", text, verr_str (rc));
                return 1;
            }
            nprod += s.nproducts;
            sl[i] = t;
            kl[i % 3][kn[i % 3]++] = t;
        }
        double el = s_now_ms () - s0;
        qsort (sl, nqueries, sizeof *sl, s_cmp_double);
        printf ("suggest: %u in %.0f ms, mean products %.2f\n", nqueries, el,
                nqueries ? (double) nprod / nqueries : 0);
        for (int k = 0; k < 3; k++) {
            qsort (kl[k], kn[k], sizeof (double), s_cmp_double);
            printf ("  %-9s p50 %.3f  p99 %.3f  max %.3f ms\n", s_sug_kind[k],
                    s_pct (kl[k], kn[k], 0.5), s_pct (kl[k], kn[k], 0.99),
                    kn[k] ? kl[k][kn[k] - 1] : 0);
            free (kl[k]);
        }
        printf ("suggest: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms, rss %.0f MiB (%llu "
                "products)\n",
                s_pct (sl, nqueries, 0.5), s_pct (sl, nqueries, 0.9), s_pct (sl, nqueries, 0.99),
                nqueries ? sl[nqueries - 1] : 0, s_rss_mib ("VmRSS"),
                (unsigned long long) nproducts);
        free (sl);
        catalog_search_destroy (&index);
        return 0;
    }

    //  The query mix (s_query_mix).
    uint64_t splits = catalog_search_splits (index);
    double p99, p99_one;
    if (s_query_mix (index, nqueries, &p99, &p99_one))
        return 1;
    printf ("split: %llu of %u queries ran on two threads; p99 %.2f ms against %.2f on one (%.2fx)\n",
            (unsigned long long) (catalog_search_splits (index) - splits), nqueries, p99, p99_one,
            p99 > 0 ? p99_one / p99 : 0);
    printf ("search: p99 %.2f ms, rss %.0f MiB (%llu products)\n", p99, s_rss_mib ("VmRSS"),
            (unsigned long long) nproducts);
    catalog_search_destroy (&index);
    return 0;
}
