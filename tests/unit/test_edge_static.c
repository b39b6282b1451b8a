//  test_edge_static.c — static files on a temporary root: index and extension-less pages,
//  types, ETags that change with the file, gzip copies that decompress to the file, and every
//  way out of the root refused (plain, percent-encoded, double-encoded, symlinks, NUL, '\').
#include "edge_static.h"
#include "verr.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

static char s_root[64];

static void
s_write (const char *rel, const char *text)
{
    char path[256];
    snprintf (path, sizeof path, "%s/%s", s_root, rel);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static int
s_setup (void **state)
{
    (void) state;
    snprintf (s_root, sizeof s_root, "/tmp/test_edge_static-XXXXXX");
    if (!mkdtemp (s_root))
        return -1;
    char path[256];
    snprintf (path, sizeof path, "%s/sub", s_root);
    mkdir (path, 0755);
    s_write ("index.html", "<!doctype html><h1>home</h1>");
    s_write ("search.html", "<!doctype html><h1>search</h1>");
    s_write ("sub/index.html", "<h1>sub</h1>");
    s_write ("404.html", "<h1>missing</h1>");
    s_write (".secret", "key");
    s_write ("%2e%2e", "a file with an odd name");
    char css[4096] = "";
    for (int i = 0; i < 100; i++)
        strcat (css, ".product-card { margin: 0 auto; }\n");
    s_write ("style.css", css);
    s_write ("logo.png", "\x89PNG not really");
    snprintf (path, sizeof path, "%s/escape", s_root);
    if (symlink ("/etc/hostname", path) != 0)
        return -1;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    const char *files[] = { "index.html", "search.html", "sub/index.html", "404.html", ".secret",
                            "%2e%2e",     "style.css",   "logo.png",       "escape",   NULL };
    char path[256];
    for (int i = 0; files[i]; i++) {
        snprintf (path, sizeof path, "%s/%s", s_root, files[i]);
        unlink (path);
    }
    snprintf (path, sizeof path, "%s/sub", s_root);
    rmdir (path);
    return rmdir (s_root);
}

static int
s_get (edge_static_t *st, const char *path, const edge_file_t **f)
{
    return edge_static_get (st, path, strlen (path), f);
}

static void
test_pages_and_types (void **state)
{
    (void) state;
    edge_static_t *st = edge_static_new (s_root);
    assert_non_null (st);
    const edge_file_t *f;
    assert_int_equal (s_get (st, "/", &f), 0);
    assert_string_equal (f->data, "<!doctype html><h1>home</h1>");
    assert_string_equal (f->type, "text/html; charset=utf-8");
    assert_string_equal (f->cache_control, "no-cache");
    assert_int_equal (s_get (st, "/search", &f), 0);  //  search.html
    assert_string_equal (f->data, "<!doctype html><h1>search</h1>");
    assert_int_equal (s_get (st, "/sub/", &f), 0);
    assert_string_equal (f->data, "<h1>sub</h1>");
    assert_int_equal (s_get (st, "//sub//index.html", &f), 0);  //  empty segments fold
    assert_int_equal (s_get (st, "/sub", &f), -VE_NOT_FOUND);   //  a directory
    assert_int_equal (s_get (st, "/nothing.js", &f), -VE_NOT_FOUND);
    assert_int_equal (s_get (st, "/logo.png", &f), 0);
    assert_string_equal (f->type, "image/png");
    assert_null (f->gz);  //  not text
    assert_string_equal (f->cache_control, "public, max-age=3600");
    assert_int_equal (s_get (st, "/%2525e%2525e", &f), -VE_NOT_FOUND);
    assert_int_equal (s_get (st, "/%252e%252e", &f), 0);  //  decoded once: a file name
    assert_string_equal (f->data, "a file with an odd name");
    assert_string_equal (edge_static_type ("a/b.JS"), "text/javascript; charset=utf-8");
    assert_string_equal (edge_static_type ("noext"), "application/octet-stream");
    assert_string_equal (edge_static_type ("x.svg"), "image/svg+xml");
    edge_static_destroy (&st);
    assert_null (st);
    assert_null (edge_static_new ("/nonexistent/dir"));
}

static void
test_gzip_and_etag (void **state)
{
    (void) state;
    edge_static_t *st = edge_static_new (s_root);
    const edge_file_t *f;
    assert_int_equal (s_get (st, "/style.css", &f), 0);
    assert_string_equal (f->cache_control, "public, max-age=300");
    assert_non_null (f->gz);
    assert_true (f->gz_len < f->len / 4);
    //  The gzip copy is the file.
    char *plain = malloc (f->len + 1);
    z_stream z = { 0 };
    assert_int_equal (inflateInit2 (&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *) f->gz;
    z.avail_in = (uInt) f->gz_len;
    z.next_out = (Bytef *) plain;
    z.avail_out = (uInt) f->len + 1;
    assert_int_equal (inflate (&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal (z.total_out, f->len);
    assert_memory_equal (plain, f->data, f->len);
    inflateEnd (&z);
    free (plain);
    char etag[48];
    snprintf (etag, sizeof etag, "%s", f->etag);
    assert_true (etag[0] == '"' && etag[strlen (etag) - 1] == '"');
    assert_string_not_equal (f->etag, f->etag_gz);
    //  Same file, same tag; a changed file, a new tag (and new bytes).
    assert_int_equal (s_get (st, "/style.css", &f), 0);
    assert_string_equal (f->etag, etag);
    s_write ("style.css", "body { color: teal; }\n");
    char path[256];
    snprintf (path, sizeof path, "%s/style.css", s_root);
    struct timeval later[2] = { { 2000000000, 0 }, { 2000000000, 0 } };
    utimes (path, later);
    assert_int_equal (s_get (st, "/style.css", &f), 0);
    assert_string_not_equal (f->etag, etag);
    assert_string_equal (f->data, "body { color: teal; }\n");
    edge_static_destroy (&st);
    //  If-None-Match lists.
    assert_true (edge_etag_match ("\"a\"", 3, "\"a\""));
    assert_true (edge_etag_match ("\"x\", W/\"a\"", 10, "\"a\""));
    assert_true (edge_etag_match ("*", 1, "\"a\""));
    assert_false (edge_etag_match ("\"ab\"", 4, "\"a\""));
    assert_false (edge_etag_match ("", 0, "\"a\""));
}

static void
test_no_way_out_of_the_root (void **state)
{
    (void) state;
    edge_static_t *st = edge_static_new (s_root);
    const edge_file_t *f;
    static const char *refused[] = { "/../etc/passwd",
                                     "/%2e%2e/etc/passwd",
                                     "/%2E%2E/%2E%2E/etc/passwd",
                                     "/sub/../../etc/passwd",
                                     "/sub/%2e%2e/%2e%2e/etc/passwd",
                                     "/..%2fetc%2fpasswd",
                                     "/.%2e/etc/passwd",
                                     "/./index.html",
                                     "/..",
                                     "/sub/..",
                                     "/..\\..\\etc\\passwd",
                                     "/index.html%00.png",
                                     "/%0a",
                                     "/%zz",
                                     "/%c0%ae%c0%ae/etc/passwd",  //  overlong dots
                                     "relative",
                                     NULL };
    for (int i = 0; refused[i]; i++)
        if (s_get (st, refused[i], &f) != -VE_BAD_REQUEST)
            fail_msg ("%s was not refused", refused[i]);
    //  Hidden files and links out of the root are simply not there.
    assert_int_equal (s_get (st, "/.secret", &f), -VE_NOT_FOUND);
    assert_int_equal (s_get (st, "/%2esecret", &f), -VE_NOT_FOUND);
    assert_int_equal (s_get (st, "/escape", &f), -VE_NOT_FOUND);
    edge_static_destroy (&st);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_pages_and_types),
        cmocka_unit_test (test_gzip_and_etag),
        cmocka_unit_test (test_no_way_out_of_the_root),
    };
    return cmocka_run_group_tests_name ("edge_static", tests, s_setup, s_teardown);
}
