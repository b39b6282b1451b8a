//  test_edge_route.c — the edge's route table: matching (params, HEAD, 405 with Allow), the
//  table against the schemas, request building from path, query and JSON body through the
//  schema (types, limits, refusals naming the parameter), bus status to HTTP mapping, and the
//  table against docs/openapi.yaml in both directions.
#include "edge_route.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const edge_route_t *
s_match (const char *method, const char *path, edge_param_t *params, int *n, char *allow)
{
    return edge_route_match (method, path, strlen (path), params, n, allow, 64);
}

static void
test_matching (void **state)
{
    (void) state;
    edge_param_t params[EDGE_MAX_PARAMS];
    int n = -1;
    char allow[64];
    const edge_route_t *r = s_match ("GET", "/api/v1/products/p00000000042", params, &n, allow);
    assert_non_null (r);
    assert_string_equal (r->bus_method, "get");
    assert_string_equal (r->service, "catalog-read");
    assert_int_equal (n, 1);
    assert_int_equal (params[0].name_len, 2);
    assert_memory_equal (params[0].name, "id", 2);
    assert_int_equal (params[0].len, 12);
    assert_memory_equal (params[0].value, "p00000000042", 12);
    r = s_match ("GET", "/api/v1/products/p1/frame", params, &n, allow);
    assert_true (r && (r->flags & EDGE_ROUTE_FRAME));
    assert_memory_equal (params[0].value, "p1", 2);
    r = s_match ("GET", "/products/p1", params, &n, allow);
    assert_true (r && (r->flags & EDGE_ROUTE_PAGE));
    //  HEAD is served wherever GET is.
    r = s_match ("HEAD", "/api/v1/search", params, &n, allow);
    assert_true (r && strcmp (r->bus_method, "search") == 0);
    //  A known path with another method: no row, and the methods it has.
    assert_null (s_match ("POST", "/api/v1/products/p1", params, &n, allow));
    assert_string_equal (allow, "GET, HEAD");
    assert_null (s_match ("GET", "/api/v1/auth/login", params, &n, allow));
    assert_string_equal (allow, "POST");
    assert_null (s_match ("DELETE", "/api/v1/auth/logout", params, &n, allow));
    assert_string_equal (allow, "POST");
    //  The cart's item: PUT and DELETE; the cart itself: GET and DELETE.
    assert_null (s_match ("POST", "/api/v1/cart/items/p1", params, &n, allow));
    assert_string_equal (allow, "PUT, DELETE");
    assert_null (s_match ("PUT", "/api/v1/cart", params, &n, allow));
    assert_string_equal (allow, "GET, HEAD, DELETE");
    r = s_match ("DELETE", "/api/v1/cart/items/p7", params, &n, allow);
    assert_true (r && strcmp (r->bus_method, "remove") == 0 && n == 1);
    //  Unknown paths and near misses: nothing, and no Allow.
    const char *misses[] = { "/api/v1/products/",
                             "/api/v1/products/p1/",
                             "/api/v1/products/p1/x",
                             "/api/v1/product/p1",
                             "/api/v1/products//frame",
                             "/api/v2/search",
                             "/index.html",
                             "/healthz/",
                             NULL };
    for (int i = 0; misses[i]; i++) {
        if (s_match ("GET", misses[i], params, &n, allow))
            fail_msg ("%s matched a route", misses[i]);
        assert_string_equal (allow, "");
    }
    r = s_match ("GET", "/healthz", params, &n, allow);
    assert_true (r && (r->flags & EDGE_ROUTE_HEALTH) && n == 0);
}

static void
test_table_agrees_with_schemas (void **state)
{
    (void) state;
    int rows = 0;
    for (const edge_route_t *r = edge_routes; r->method; r++, rows++) {
        assert_true (strcmp (r->method, "GET") == 0 || strcmp (r->method, "POST") == 0
                     || strcmp (r->method, "PUT") == 0 || strcmp (r->method, "DELETE") == 0);
        assert_true (r->pattern[0] == '/');
        assert_non_null (r->summary);
        if (!r->service)
            continue;
        const vmsg_method_t *m = edge_route_method (r);
        if (!m)
            fail_msg ("%s %s: no schema %s.%s", r->method, r->pattern, r->domain, r->bus_method);
        //  The edge asks for the role the method itself requires (readyz calls as a service).
        if (!(r->flags & EDGE_ROUTE_READY) && r->role != m->role)
            fail_msg ("%s %s: role %u, the method needs %u", r->method, r->pattern, r->role,
                      m->role);
        //  Every {param} is a field of the request; every body route is a POST.
        for (const char *p = strchr (r->pattern, '{'); p; p = strchr (p + 1, '{')) {
            bool found = false;
            for (const vmsg_field_t *f = m->request->fields; f->name; f++)
                found |= strncmp (p + 1, f->name, strlen (f->name)) == 0
                         && p[1 + strlen (f->name)] == '}';
            if (!found)
                fail_msg ("%s: %s is not a field of %s", r->pattern, p, m->request->name);
        }
        //  POST and PUT take a JSON body; GET and DELETE do not.
        bool body = strcmp (r->method, "POST") == 0 || strcmp (r->method, "PUT") == 0;
        assert_true (!(r->flags & EDGE_ROUTE_BODY) == !body);
        //  A key is a field of the request, or one of the edge's own sources.
        if (r->key && r->key[0] != '@' && r->key[0] != '?') {
            bool found = false;
            for (const vmsg_field_t *f = m->request->fields; f->name; f++)
                found |= strcmp (f->name, r->key) == 0;
            if (!found)
                fail_msg ("%s %s: key %s is not a field of %s", r->method, r->pattern, r->key,
                          m->request->name);
        }
        if (r->key && strcmp (r->key, EDGE_KEY_CART) == 0)
            assert_true (edge_route_edge_field (r, "cart_id"));
    }
    assert_true (rows >= 13);
}

//  Builds a request for domain.method from a query string and body; returns the status.
static int
s_build (const char *domain, const char *method, const edge_param_t *params, int n,
         const char *query, const char *body, const edge_extra_t *extras, int nextras,
         varena_t *arena, const vmsg_value_t **out, char *err)
{
    const vmsg_method_t *m = vmsg_method_find (domain, method);
    assert_non_null (m);
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    int rc = edge_route_request (m->request, params, n, query, query ? strlen (query) : 0, body,
                                 body ? strlen (body) : 0, extras, nextras, arena, &buf, err, 256);
    if (rc == 0) {
        char derr[256];
        if (vmsg_decode (m->request, buf.data, buf.len, arena, out, derr, sizeof derr))
            fail_msg ("built request does not decode: %s", derr);
    }
    vbuf_free (&buf);
    return rc;
}

static void
test_query_conversion (void **state)
{
    (void) state;
    varena_t *arena = varena_new (0);
    const vmsg_value_t *v;
    char err[256];
    assert_int_equal (s_build ("catalog", "search", NULL, 0,
                               "q=office+chair%21&price_min=100&price_max=20000&in_stock=true"
                               "&sort=price_asc&limit=5&utm_source=mail&&offset=0",
                               NULL, NULL, 0, arena, &v, err),
                      0);
    assert_string_equal (vmsg_str (v, "q"), "office chair!");
    assert_int_equal (vmsg_int (v, "price_min", -1), 100);
    assert_int_equal (vmsg_int (v, "price_max", -1), 20000);
    assert_true (vmsg_bool (v, "in_stock", false));
    assert_int_equal (vmsg_uint (v, "limit", 0), 5);
    assert_int_equal (vmsg_uint (v, "offset", 9), 0);
    assert_false (vmsg_has (v, "utm_source"));  //  unknown parameters are ignored
    assert_int_equal (vmsg_count (v), 7);
    //  Booleans take 1/0 too; UTF-8 passes.
    assert_int_equal (s_build ("catalog", "search", NULL, 0, "in_stock=0&q=%C3%A9t%C3%A9", NULL,
                               NULL, 0, arena, &v, err),
                      0);
    assert_false (vmsg_bool (v, "in_stock", true));
    assert_string_equal (vmsg_str (v, "q"), "\xc3\xa9t\xc3\xa9");
    //  Refusals name the parameter.
    static const struct {
        const char *query, *part;
    } bad[] = { { "limit=abc", "limit" },
                { "limit=0", "limit" },
                { "limit=101", "limit" },
                { "limit=-1", "limit" },
                { "limit=5x", "limit" },
                { "in_stock=yes", "in_stock" },
                { "price_min=-1", "price_min" },
                { "price_min=1.5", "price_min" },
                { "q=%ZZ", "q" },
                { "q=%C3", "q" },
                { "q=%FF", "q" },
                { "q=a%00b", "q" },
                { "q=a&q=b", "q" },
                { "sort=", NULL },
                { NULL, NULL } };
    for (int i = 0; bad[i].query; i++) {
        int rc =
            s_build ("catalog", "search", NULL, 0, bad[i].query, NULL, NULL, 0, arena, &v, err);
        if (bad[i].part == NULL)
            continue;  //  the actor judges values the schema allows
        if (rc != -VE_BAD_REQUEST || !strstr (err, bad[i].part))
            fail_msg ("%s: rc %d, message '%s'", bad[i].query, rc, err);
    }
    //  Floats (frames) and path parameters, decoded once; the path wins over the query.
    edge_param_t id = { "id", 2, "p%2D1", 5 };
    assert_int_equal (s_build ("render", "frame", &id, 1, "yaw=12.5&w=512&id=other", NULL, NULL, 0,
                               arena, &v, err),
                      0);
    assert_string_equal (vmsg_str (v, "id"), "p-1");
    assert_true (vmsg_float (v, "yaw", 0) == 12.5);
    assert_int_equal (vmsg_uint (v, "w", 0), 512);
    assert_int_equal (s_build ("render", "frame", &id, 1, "yaw=nan", NULL, NULL, 0, arena, &v, err),
                      -VE_BAD_REQUEST);
    assert_non_null (strstr (err, "yaw"));
    //  A missing required field is the schema's refusal.
    assert_int_equal (s_build ("catalog", "get", NULL, 0, "", NULL, NULL, 0, arena, &v, err),
                      -VE_BAD_REQUEST);
    assert_non_null (strstr (err, "id"));
    varena_destroy (&arena);
}

static void
test_body_conversion (void **state)
{
    (void) state;
    varena_t *arena = varena_new (0);
    const vmsg_value_t *v;
    char err[256];
    edge_extra_t addr = { "client_addr", "10.1.2.3", true };
    //  The edge's client_addr replaces the client's.
    assert_int_equal (s_build ("auth", "login", NULL, 0, NULL,
                               "{\"email\":\"a@b.example\",\"password\":\"pw\","
                               "\"client_addr\":\"1.1.1.1\"}",
                               &addr, 1, arena, &v, err),
                      0);
    assert_string_equal (vmsg_str (v, "client_addr"), "10.1.2.3");
    assert_string_equal (vmsg_str (v, "email"), "a@b.example");
    //  A cookie's refresh token fills the gap, and only the gap.
    edge_extra_t cookie = { "refresh_token", "from-cookie", false };
    assert_int_equal (s_build ("auth", "refresh", NULL, 0, NULL, "{\"refresh_token\":\"body\"}",
                               &cookie, 1, arena, &v, err),
                      0);
    assert_string_equal (vmsg_str (v, "refresh_token"), "body");
    assert_int_equal (s_build ("auth", "refresh", NULL, 0, NULL, NULL, &cookie, 1, arena, &v, err),
                      0);
    assert_string_equal (vmsg_str (v, "refresh_token"), "from-cookie");
    assert_int_equal (
        s_build ("auth", "refresh", NULL, 0, NULL, " \r\n", &cookie, 1, arena, &v, err),
        0);  //  blanks are no body
    //  A flag the edge sets (render.frame's prefetch, from a header): converted as a URL
    //  parameter would be, with or without a body; nonsense is refused.
    edge_extra_t flag = { "prefetch", "true", true };
    edge_param_t pid = { "id", 2, "p-1", 3 };
    assert_int_equal (s_build ("render", "frame", &pid, 1, "yaw=30", NULL, &flag, 1, arena, &v, err),
                      0);
    assert_true (vmsg_bool (v, "prefetch", false));
    assert_int_equal (
        s_build ("render", "frame", &pid, 1, NULL, "{\"yaw\":30}", &flag, 1, arena, &v, err), 0);
    assert_true (vmsg_bool (v, "prefetch", false));
    edge_extra_t junk = { "prefetch", "maybe", true };
    assert_int_equal (s_build ("render", "frame", &pid, 1, NULL, NULL, &junk, 1, arena, &v, err),
                      -VE_BAD_REQUEST);
    //  Refused bodies.
    char deep[64] = "{\"email\":";
    for (int i = 0; i < EDGE_JSON_DEPTH; i++)
        strcat (deep, "[");
    static const char *bad[] = { "[1]",
                                 "{\"email\":\"a@b.c\",\"email\":\"d@e.f\",\"password\":\"x\"}",
                                 "{\"email\":\"a@b.c\",\"password\":\"x\"",
                                 "{\"email\":\"\xff\",\"password\":\"x\"}",
                                 "{\"email\":3,\"password\":\"x\"}",
                                 "{\"password\":\"x\"}",
                                 NULL };
    for (int i = 0; bad[i]; i++)
        if (s_build ("auth", "login", NULL, 0, NULL, bad[i], NULL, 0, arena, &v, err)
            != -VE_BAD_REQUEST)
            fail_msg ("accepted %s", bad[i]);
    assert_int_equal (s_build ("auth", "login", NULL, 0, NULL, deep, NULL, 0, arena, &v, err),
                      -VE_BAD_REQUEST);
    assert_non_null (strstr (err, "nested"));
    assert_true (vmsg_json_depth_ok ("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[\"}", 28, 2));
    assert_false (vmsg_json_depth_ok ("[[[", 3, 2));
    //  edge_route_field reads a built request back (partition keys).
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    const vmsg_method_t *m = vmsg_method_find ("auth", "register");
    const char *body = "{\"email\":\" Ann@X.org\",\"password\":\"p\",\"name\":\"Ann\"}";
    assert_int_equal (edge_route_request (m->request, NULL, 0, NULL, 0, body, strlen (body), NULL,
                                          0, arena, &buf, err, sizeof err),
                      0);
    assert_string_equal (edge_route_field (buf.data, buf.len, "email", arena), " Ann@X.org");
    assert_null (edge_route_field (buf.data, buf.len, "nothing", arena));
    vbuf_free (&buf);
    varena_destroy (&arena);
}

static void
test_text_helpers (void **state)
{
    (void) state;
    char out[64];
    assert_int_equal (edge_url_decode ("a%20b+c", 7, true, out), 5);
    assert_string_equal (out, "a b c");
    assert_int_equal (edge_url_decode ("a%20b+c", 7, false, out), 5);
    assert_string_equal (out, "a b+c");
    assert_int_equal (edge_url_decode ("%2", 2, false, out), -1);
    assert_int_equal (edge_url_decode ("%g0", 3, false, out), -1);
    assert_int_equal (edge_url_decode ("%", 1, false, out), -1);
    assert_true (edge_utf8_ok ("plain", 5));
    assert_true (edge_utf8_ok ("\xe2\x82\xac \xf0\x9f\x98\x80", 8));
    assert_false (edge_utf8_ok ("\xc0\xaf", 2));          //  overlong '/'
    assert_false (edge_utf8_ok ("\xed\xa0\x80", 3));      //  surrogate
    assert_false (edge_utf8_ok ("\xf4\x90\x80\x80", 4));  //  above U+10FFFF
    assert_false (edge_utf8_ok ("\xe2\x82", 2));          //  cut short
    assert_false (edge_utf8_ok ("a\0b", 3));
    const char *q = "a=1&&b=&c&d=x%20y", *name, *value;
    size_t qlen = strlen (q), nlen, vlen;
    int count = 0;
    while (edge_query_next (&q, &qlen, &name, &nlen, &value, &vlen))
        count++;
    assert_int_equal (count, 4);
    size_t len;
    const char *x = edge_query_get ("a=1&d=x%20y", 11, "d", &len);
    assert_int_equal (len, 5);
    assert_memory_equal (x, "x%20y", 5);
    assert_null (edge_query_get ("a=1", 3, "b", NULL));
}

static void
test_status_mapping (void **state)
{
    (void) state;
    static const int map[][2] = { { VE_OK, 200 },           { VE_BAD_REQUEST, 400 },
                                  { VE_UNAUTHORIZED, 401 }, { VE_FORBIDDEN, 403 },
                                  { VE_NOT_FOUND, 404 },    { VE_CONFLICT, 409 },
                                  { VE_BUSY, 429 },         { VE_UNAVAILABLE, 503 },
                                  { VE_TIMEOUT, 504 },      { VE_INTERNAL, 500 },
                                  { VE_NOMEM, 500 },        { 77, 500 } };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        assert_int_equal (edge_status_http (map[i][0]), map[i][1]);
    assert_string_equal (edge_status_reason (404), "Not Found");
    assert_string_equal (edge_status_reason (431), "Request Header Fields Too Large");
    assert_string_equal (edge_status_reason (299), "Unknown");
    assert_string_equal (edge_status_code (413), "payload_too_large");
    //  One spelling for one meaning: the edge's own 429 says what the bus's busy says.
    assert_string_equal (edge_status_code (429), verr_name (VE_BUSY));
    assert_string_equal (edge_status_code (504), "timeout");
    assert_string_equal (edge_status_code (415), "unsupported_media_type");
}

//  The paths section of docs/openapi.yaml as "METHOD pattern" lines.
static int
s_openapi_ops (char ops[][256], int max)
{
    char path[512];
    snprintf (path, sizeof path, "%s/docs/openapi.yaml", VITRINE_SOURCE_DIR);
    FILE *f = fopen (path, "r");
    if (!f)
        fail_msg ("cannot read %s", path);
    char line[1024], current[128] = "";
    bool in_paths = false;
    int n = 0;
    while (fgets (line, sizeof line, f)) {
        line[strcspn (line, "\r\n")] = 0;
        if (line[0] && line[0] != ' ' && line[0] != '#')
            in_paths = strcmp (line, "paths:") == 0;
        if (!in_paths)
            continue;
        if (strncmp (line, "  /", 3) == 0 && line[strlen (line) - 1] == ':') {
            snprintf (current, sizeof current, "%.*s", (int) strlen (line) - 3, line + 2);
            continue;
        }
        static const char *methods[] = { "get",   "put",  "post",    "delete",
                                         "patch", "head", "options", NULL };
        for (int i = 0; methods[i]; i++) {
            char want[32];
            snprintf (want, sizeof want, "    %s:", methods[i]);
            if (strcmp (line, want) == 0 && n < max) {
                char upper[16];
                size_t k = 0;
                for (; methods[i][k]; k++)
                    upper[k] = (char) (methods[i][k] - 32);
                upper[k] = 0;
                snprintf (ops[n++], 256, "%s %s", upper, current);
            }
        }
    }
    fclose (f);
    return n;
}

static void
test_openapi_matches_table (void **state)
{
    (void) state;
    char ops[64][256];
    int n = s_openapi_ops (ops, 64);
    assert_true (n > 0);
    //  Every row is in the document ...
    int rows = 0;
    for (const edge_route_t *r = edge_routes; r->method; r++, rows++) {
        char want[128];
        snprintf (want, sizeof want, "%s %s", r->method, r->pattern);
        bool found = false;
        for (int i = 0; i < n; i++)
            found |= strcmp (ops[i], want) == 0;
        if (!found)
            fail_msg ("route %s is not in docs/openapi.yaml", want);
    }
    //  ... and everything in the document is a row.
    for (int i = 0; i < n; i++) {
        bool found = false;
        for (const edge_route_t *r = edge_routes; r->method; r++) {
            char have[128];
            snprintf (have, sizeof have, "%s %s", r->method, r->pattern);
            found |= strcmp (ops[i], have) == 0;
        }
        if (!found)
            fail_msg ("docs/openapi.yaml has %s, which no route serves", ops[i]);
    }
    assert_int_equal (n, rows);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_matching),
        cmocka_unit_test (test_table_agrees_with_schemas),
        cmocka_unit_test (test_query_conversion),
        cmocka_unit_test (test_body_conversion),
        cmocka_unit_test (test_text_helpers),
        cmocka_unit_test (test_status_mapping),
        cmocka_unit_test (test_openapi_matches_table),
    };
    return cmocka_run_group_tests_name ("edge_route", tests, NULL, NULL);
}
