//  test_edge_parse.c — the edge's request parser on byte strings: fields, pipelining, requests
//  split at every byte, the header and body limits (431, 413), and every request smuggling
//  shape we refuse (conflicting Content-Length, Content-Length with Transfer-Encoding, unknown
//  codings, folded lines, blanks in names, Host missing or twice).
#include "edge_parse.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Feeds text in one piece (or in two at split, when split > 0); returns the parser's status
//  (0 when the request completed, -1 when it is still incomplete).
static int
s_feed (edge_parse_t *p, const char *text, size_t split)
{
    size_t len = strlen (text);
    //  Copies, so that nothing reads the caller's bytes after the call (as with a read buffer).
    char *a = malloc (len + 1), *b = malloc (len + 1);
    size_t first = split && split < len ? split : len;
    memcpy (a, text, first);
    memcpy (b, text + first, len - first);
    size_t used = edge_parse_feed (p, a, first);
    if (!p->status && !p->complete && used == first && len > first)
        edge_parse_feed (p, b, len - first);
    free (a);
    free (b);
    return p->status ? p->status : p->complete ? 0 : -1;
}

static int
s_status (const char *text)
{
    edge_parse_t *p = malloc (sizeof *p);
    edge_parse_init (p);
    int rc = s_feed (p, text, 0);
    edge_parse_free (p);
    free (p);
    return rc;
}

static void
s_expect_refused_at_every_split (const char *text, int status)
{
    for (size_t split = 0; split < strlen (text); split++) {
        edge_parse_t *p = malloc (sizeof *p);
        edge_parse_init (p);
        int rc = s_feed (p, text, split);
        if (rc != status)
            fail_msg ("split at %zu: expected %d, got %d for:\n%s", split, status, rc, text);
        edge_parse_free (p);
        free (p);
    }
}

static void
test_fields_of_a_request (void **state)
{
    (void) state;
    edge_parse_t *p = malloc (sizeof *p);
    edge_parse_init (p);
    assert_int_equal (s_feed (p,
                              "GET /api/v1/search?q=chair&limit=3 HTTP/1.1\r\nHost: shop\r\n"
                              "X-Request-Id:   abc-1  \r\nCookie: a=1\r\n\r\n",
                              0),
                      0);
    assert_int_equal (edge_parse_method (p), HTTP_GET);
    assert_string_equal (edge_parse_method_name (p), "GET");
    const char *path, *query;
    size_t plen, qlen, len;
    edge_parse_target (p, &path, &plen, &query, &qlen);
    assert_int_equal (plen, strlen ("/api/v1/search"));
    assert_memory_equal (path, "/api/v1/search", plen);
    assert_int_equal (qlen, strlen ("q=chair&limit=3"));
    assert_memory_equal (query, "q=chair&limit=3", qlen);
    const char *rid = edge_parse_header (p, "X-REQUEST-ID", &len);
    assert_non_null (rid);
    assert_int_equal (len, 5);  //  trimmed
    assert_memory_equal (rid, "abc-1", 5);
    assert_null (edge_parse_header (p, "authorization", NULL));
    assert_true (edge_parse_keep_alive (p));
    edge_parse_free (p);
    free (p);
}

static void
test_pipelined_requests_one_at_a_time (void **state)
{
    (void) state;
    const char *two = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                      "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    edge_parse_t *p = malloc (sizeof *p);
    edge_parse_init (p);
    size_t used = edge_parse_feed (p, two, strlen (two));
    assert_true (p->complete);
    assert_int_equal (p->body.len, 5);
    assert_memory_equal (p->body.data, "hello", 5);
    //  Nothing more is taken until the first request is answered.
    assert_int_equal (edge_parse_feed (p, two + used, strlen (two) - used), 0);
    edge_parse_next (p);
    size_t used2 = edge_parse_feed (p, two + used, strlen (two) - used);
    assert_int_equal (used + used2, strlen (two));
    assert_true (p->complete);
    const char *path, *query;
    size_t plen, qlen;
    edge_parse_target (p, &path, &plen, &query, &qlen);
    assert_memory_equal (path, "/b", 2);
    assert_int_equal (p->body.len, 0);
    assert_false (edge_parse_keep_alive (p));
    edge_parse_free (p);
    free (p);
}

static void
test_any_split_gives_the_same_request (void **state)
{
    (void) state;
    const char *text = "POST /api/v1/auth/login HTTP/1.1\r\nHost: shop\r\n"
                       "Content-Type: application/json\r\nX-Long: one two  three\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
    for (size_t split = 0; split < strlen (text); split++) {
        edge_parse_t *p = malloc (sizeof *p);
        edge_parse_init (p);
        if (s_feed (p, text, split) != 0)
            fail_msg ("split at %zu: status %d (%s)", split, p->status, p->why ? p->why : "");
        size_t len;
        const char *v = edge_parse_header (p, "x-long", &len);
        assert_int_equal (len, strlen ("one two  three"));
        assert_memory_equal (v, "one two  three", len);
        assert_int_equal (p->body.len, 7);
        assert_memory_equal (p->body.data, "{\"a\":1}", 7);
        edge_parse_free (p);
        free (p);
    }
}

static void
test_header_size_limit (void **state)
{
    (void) state;
    //  Just under 16 KiB of header section is fine; over it is 431.
    size_t size = EDGE_MAX_HEAD + 64;
    char *req = malloc (size + 1);
    const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    size_t fixed = strlen (start) + 4;  //  + "\r\n\r\n"
    snprintf (req, size, "%s", start);
    memset (req + strlen (start), 'a', EDGE_MAX_HEAD - fixed);
    strcpy (req + strlen (start) + EDGE_MAX_HEAD - fixed, "\r\n\r\n");
    assert_int_equal (strlen (req), EDGE_MAX_HEAD);
    assert_int_equal (s_status (req), 0);
    memset (req + strlen (start), 'a', EDGE_MAX_HEAD - fixed + 1);
    strcpy (req + strlen (start) + EDGE_MAX_HEAD - fixed + 1, "\r\n\r\n");
    assert_int_equal (s_status (req), 431);
    //  A long target counts too.
    memcpy (req, "GET /", 5);
    memset (req + 5, 'b', EDGE_MAX_HEAD);
    strcpy (req + 5 + EDGE_MAX_HEAD, " HTTP/1.1\r\n");
    assert_int_equal (s_status (req), 431);
    free (req);
    //  As do many small headers, fed in small reads.
    char *many = malloc (64 * 1024);
    size_t n = (size_t) sprintf (many, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 101; i++)
        n += (size_t) sprintf (many + n, "X-%d: 1\r\n", i);
    strcpy (many + n, "\r\n");
    assert_int_equal (s_status (many), 431);
    free (many);
}

static void
test_body_size_limit (void **state)
{
    (void) state;
    char req[256];
    snprintf (req, sizeof req, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
              EDGE_MAX_BODY + 1);
    assert_int_equal (s_status (req), 413);  //  refused before any body byte
    //  Exactly the limit passes, chunked or not; one byte more chunked is refused.
    size_t size = EDGE_MAX_BODY + 256;
    char *big = malloc (size);
    int n = snprintf (big, size, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
                      EDGE_MAX_BODY);
    memset (big + n, 'x', EDGE_MAX_BODY);
    big[n + EDGE_MAX_BODY] = 0;
    assert_int_equal (s_status (big), 0);
    n = snprintf (big, size,
                  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "%x\r\n",
                  EDGE_MAX_BODY + 1);
    memset (big + n, 'x', EDGE_MAX_BODY + 1);
    strcpy (big + n + EDGE_MAX_BODY + 1, "\r\n0\r\n\r\n");
    assert_int_equal (s_status (big), 413);
    free (big);
}

static void
test_smuggling_shapes_are_refused (void **state)
{
    (void) state;
    const char *bad[] = {
        //  conflicting and repeated Content-Length
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc",
        //  Content-Length with Transfer-Encoding, either order
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
        "0\r\n\r\n",
        //  codings other than a lone chunked
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
        "0\r\n\r\n",
        //  obs-fold, after a value and after an empty one
        "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\tc\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-A:\r\n c\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n Transfer-Encoding: chunked\r\n\r\n",
        //  blanks in a name, bare LF, Host missing or twice
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\n\n", "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", NULL
    };
    for (int i = 0; bad[i]; i++)
        s_expect_refused_at_every_split (bad[i], 400);
    //  An obs-fold cut exactly at the line break is still a fold.
    s_expect_refused_at_every_split (
        "GET / HTTP/1.1\r\nHost: x\r\nX-Long-Name: abc\r\n def\r\n\r\n", 400);
}

static void
test_protocol_details (void **state)
{
    (void) state;
    assert_int_equal (s_status ("GET / HTTP/1.0\r\n\r\n"), 0);  //  1.0 needs no Host
    edge_parse_t *p = malloc (sizeof *p);
    edge_parse_init (p);
    assert_int_equal (s_feed (p, "GET / HTTP/1.0\r\n\r\n", 0), 0);
    assert_false (edge_parse_keep_alive (p));
    assert_int_equal (edge_parse_minor (p), 0);
    edge_parse_next (p);
    assert_int_equal (s_feed (p, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0), 0);
    assert_true (edge_parse_keep_alive (p));
    edge_parse_next (p);
    //  Expect: 100-continue is noticed once the headers are in, before the body.
    assert_int_equal (
        s_feed (p,
                "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
                0),
        -1);
    assert_true (p->headers_done);
    assert_true (p->expect_continue);
    edge_parse_free (p);
    free (p);
    assert_int_equal (s_status ("POST / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n"), 417);
    assert_int_equal (s_status ("CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
    assert_int_equal (s_status ("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
    assert_int_equal (s_status ("BREW / HTTP/1.1\r\nHost: x\r\n\r\n"), 501);
    assert_int_equal (s_status ("GET / HTTP/1.1\r\nHost: x\r\n"), -1);  //  not finished
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fields_of_a_request),
        cmocka_unit_test (test_pipelined_requests_one_at_a_time),
        cmocka_unit_test (test_any_split_gives_the_same_request),
        cmocka_unit_test (test_header_size_limit),
        cmocka_unit_test (test_body_size_limit),
        cmocka_unit_test (test_smuggling_shapes_are_refused),
        cmocka_unit_test (test_protocol_details),
    };
    return cmocka_run_group_tests_name ("edge_parse", tests, NULL, NULL);
}
