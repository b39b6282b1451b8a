//  test_edge.c — vitrine-edge end to end: a real broker, auth (token key and an admin from its
//  settings), the catalog writer with a read replica and a seeded demo catalog, a render worker
//  (this program started again with --render-worker: a real process on the real bus serving
//  render.frame with a fixed JPEG, until the render actor exists) and the edge itself, all on
//  ports chosen at run time. HTTP over raw sockets: every route's happy path and main errors,
//  cookies, frames and their caching, the product page, static files, every smuggling shape and
//  oversize request refused, slow clients closed, traversal refused, keep-alive and pipelining,
//  rate limits, configuration errors, the access log, and a clean SIGTERM.
#define _XOPEN_SOURCE 700
#include "auth_token.h"
#include "edge_route.h"
#include "vgen_catalog.h"
#include "vit.h"
#include "vit_http.h"
#include "venum.h"
#include "vview.h"
#include "vmsg.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY_HEX     "5f3c8a1e9b2d4c6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define ADMIN_EMAIL "root@vitrine.test"
#define ADMIN_PASS  "admin-pass-for-tests-only"
#define GOOD_PASS   "tangerine-orbit-42"
#define PRODUCTS    60
#define SCENE_HASH  "5ce9e0ab12cd34ef"  //  what the test render worker says every scene hashes to
#define ETAG_35_15  "\"5ce9e0ab00350015\""  //  its entity tag for yaw 35, pitch 15
#define JPEG        "\xff\xd8\xff\xdb test frame \xff\xd9"
#define WAIT_MS     15000  //  the longest any single wait of this test lasts

typedef struct {
    vit_broker_t broker;
    char dir[64], www[128], log[128];
    char admin_hash[128];
    auth_token_key_t key;
    pid_t auth, writer, replica, render, edge;
    pid_t cart, inventory, payments, orders;  //  the commerce actors (test_commerce_routes)
    vbus_client_t *bus;                       //  direct bus calls (admin refusals)
    int port;
    vgen_product_t product;  //  an active product of the demo catalog
} fixture_t;

static fixture_t s_f;

//  ---------------------------------------------------------------- the test render worker

static int
s_render_frame (const vbus_request_t *req, vbus_out_t *out, void *arg)
{
    (void) arg;
    const vmsg_method_t *m = vmsg_method_find ("render", "frame");
    varena_t *arena = varena_new (0);
    const vmsg_value_t *v;
    char err[256];
    if (vmsg_decode (m->request, req->body, req->body_len, arena, &v, err, sizeof err)) {
        varena_destroy (&arena);
        return vbus_out_error (out, VE_BAD_REQUEST, "%s", err);
    }
    int yaw = (int) vmsg_float (v, "yaw", 0), pitch = (int) vmsg_float (v, "pitch", 15);
    if (yaw == 355)
        usleep (1500000);  //  the slow view: a request that is still in flight a while
    char etag[64];
    //  Shaped like the render actor's: 16 hex digits, quoted (render.frame's etag limit).
    snprintf (etag, sizeof etag, "\"%.8s%04d%04d\"", SCENE_HASH, yaw, pitch);
    const char *inm = vmsg_str (v, "if_none_match");
    bool same = inm && strcmp (inm, etag) == 0;
    vview_t view = { .yaw = yaw,
                     .pitch = pitch,
                     .zoom = (int) vmsg_float (v, "zoom", 1),
                     .width = (int) vmsg_uint (v, "w", 512),
                     .height = (int) vmsg_uint (v, "h", 512),
                     .quality = (int) vmsg_uint (v, "quality", 85) };
    if (view.width == 2048) {
        //  A big frame (a high-density screen at quality 95): more than the codec's 1 MiB
        //  default, within the frame limit; the edge must pass it on whole.
        size_t len = 3u << 20;
        char *big = calloc (1, len);
        memcpy (big, JPEG, sizeof JPEG - 1);
        vview_pack_frame (&out->pk, vmsg_str (v, "id"), &view, SCENE_HASH, etag, true, big, len);
        free (big);
    }
    else
        vview_pack_frame (&out->pk, vmsg_str (v, "id"), &view, SCENE_HASH, etag, true,
                          same ? NULL : JPEG, sizeof JPEG - 1);
    varena_destroy (&arena);
    return VE_OK;
}

static int
s_render_worker (const char *endpoint)
{
    static const vbus_method_t methods[] = { { "frame", s_render_frame, NULL }, { NULL } };
    vbus_worker_config_t config = {
        .endpoint = endpoint, .service = "render", .methods = methods, .name = "test-render"
    };
    vbus_worker_t *worker = vbus_worker_new (&config);
    if (!worker)
        return 1;
    int rc = vbus_worker_run (worker);
    vbus_worker_destroy (&worker);
    return rc;
}

//  ---------------------------------------------------------------- processes

static void
s_file (const char *dir, const char *name, const char *text)
{
    char path[4096];
    if (snprintf (path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path)
        return;
    FILE *f = fopen (path, "w");
    if (f) {
        fputs (text, f);
        fclose (f);
    }
}

//  ---------------------------------------------------------------- HTTP over a raw socket
//  The client is tests/it/vit_http.c; these fail the test when the edge does not answer.

static vit_http_t *
s_conn (int port)
{
    vit_http_t *c = vit_http_new (port);
    if (!c)
        fail_msg ("cannot connect to the edge on port %d", port);
    return c;
}

//  One request on a fresh connection. extra: more header lines, each ending in \r\n.
static int
s_http (const char *method, const char *path, const char *extra, const char *body,
        vit_http_resp_t *r)
{
    if (vit_http_request (s_f.port, method, path, extra, body, r, WAIT_MS) < 0)
        fail_msg ("%s %s: no response", method, path);
    return r->status;
}

static json_t *
s_json (const vit_http_resp_t *r)
{
    json_error_t jerr;
    json_t *j = json_loadb (r->body, r->body_len, 0, &jerr);
    if (!j)
        fail_msg ("not JSON (%s): %s", jerr.text, r->body);
    return j;
}

//  The error body's code, checked for shape: {"error": {"code", "message", "request_id"}}
//  with the request id of the response.
static void
s_expect_error (const vit_http_resp_t *r, int status, const char *code)
{
    if (r->status != status)
        fail_msg ("expected %d, got %d: %s", status, r->status, r->body);
    json_t *j = s_json (r);
    json_t *e = json_object_get (j, "error");
    assert_non_null (e);
    assert_string_equal (json_string_value (json_object_get (e, "code")), code);
    assert_non_null (json_string_value (json_object_get (e, "message")));
    assert_string_equal (json_string_value (json_object_get (e, "request_id")),
                         vit_http_header (r, "x-request-id"));
    json_decref (j);
}

//  ---------------------------------------------------------------- setup

//  Lines of the edge log that say an edge listens on port.
static int
s_listening (const fixture_t *f, int port)
{
    char want[64], line[2048];
    snprintf (want, sizeof want, "listening on http://127.0.0.1:%d/", port);
    FILE *log = fopen (f->log, "r");
    int n = 0;
    while (log && fgets (line, sizeof line, log))
        n += strstr (line, want) != NULL;
    if (log)
        fclose (log);
    return n;
}

//  Starts an edge on *port (0: a free one, then set) and waits until its log says it listens
//  (a port another edge shares already accepts before this one is up).
static pid_t
s_edge_start (fixture_t *f, int *port, const char *const *extra)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        int p = *port ? *port : 40000 + rand () % 20000;
        int before = s_listening (f, p);
        char listen[64];
        snprintf (listen, sizeof listen, "127.0.0.1:%d", p);
        const char *args[40] = { "--broker", f->broker.endpoint,
                                 "--listen", listen,
                                 "--www",    f->www,
                                 "--set",    "token_key=" KEY_HEX };
        int n = 8;
        for (int i = 0; extra && extra[i] && n < 39; i++)
            args[n++] = extra[i];
        args[n] = NULL;
        pid_t pid = vit_spawn_log ("vitrine-edge", args, f->log);
        for (int waited = 0; waited < 10000; waited += 20) {
            int status;
            if (waitpid (pid, &status, WNOHANG) == pid) {
                pid = -1;
                break;  //  port taken: try another
            }
            if (s_listening (f, p) > before) {
                *port = p;
                return pid;
            }
            usleep (20000);
        }
        if (pid > 0)
            vit_stop (pid, SIGKILL, 1000);
        if (*port)
            break;
    }
    return -1;
}

static pid_t
s_actor (fixture_t *f, const char *program, const char *service, const char *const *extra)
{
    char data[128];
    snprintf (data, sizeof data, "%s/data", f->dir);
    const char *args[24] = { "--data", data };
    int n = 2;
    for (int i = 0; extra && extra[i] && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return vit_actor_start (&f->broker, program, service, args, 20000);
}

static void
s_stop_all (fixture_t *f)
{
    pid_t *pids[] = { &f->edge,   &f->orders,  &f->payments, &f->inventory, &f->cart,
                      &f->render, &f->replica, &f->writer,   &f->auth };
    vbus_client_destroy (&f->bus);
    for (size_t i = 0; i < sizeof pids / sizeof pids[0]; i++)
        if (*pids[i] > 0) {
            vit_stop (*pids[i], SIGKILL, 2000);
            *pids[i] = 0;
        }
    if (f->broker.pid > 0)
        vit_stop (f->broker.pid, SIGKILL, 2000);
    vit_rmtree (f->dir);
}

static int
s_group_setup (void **state)
{
    fixture_t *f = &s_f;
    srand ((unsigned) (getpid () ^ time (NULL)));
    if (sodium_init () < 0 || auth_token_key_from_hex (&f->key, KEY_HEX) != 0
        || crypto_pwhash_str_alg (f->admin_hash, ADMIN_PASS, strlen (ADMIN_PASS), 2, 19u << 20,
                                  crypto_pwhash_ALG_ARGON2ID13)
               != 0
        || vit_tmpdir ("test_it_edge", f->dir, sizeof f->dir) != 0)
        return -1;
    if (snprintf (f->www, sizeof f->www, "%s/www", f->dir) >= (int) sizeof f->www
        || snprintf (f->log, sizeof f->log, "%s/edge.log", f->dir) >= (int) sizeof f->log)
        return -1;
    mkdir (f->www, 0755);
    s_file (f->www, "index.html", "<!doctype html><title>Vitrine</title><h1>Home</h1>\n");
    s_file (f->www, "search.html", "<!doctype html><title>Search</title>\n");
    s_file (f->www, "404.html", "<!doctype html><title>Lost</title><h1>No such page</h1>\n");
    char css[8192] = "";
    for (int i = 0; i < 120; i++)
        strcat (css, ".product-grid > .card { display: grid; gap: 1rem; }\n");
    s_file (f->www, "style.css", css);
    s_file (f->www, "product.html",
            "<!doctype html><title>{{title}} · Vitrine</title><h1>{{title}}</h1>"
            "<p class=brand>{{brand}}</p><p class=price>{{price}} {{currency}}</p>"
            "<img id=frame src=\"{{frame_url}}\"><table>{{attributes}}</table>"
            "<script id=product type=\"application/json\">{{product_json}}</script>\n");
    if (vit_broker_start (&f->broker, 0, NULL) != 0)
        return -1;
    char hash_setting[2048];
    snprintf (hash_setting, sizeof hash_setting, "admin_password_hash=%s", f->admin_hash);
    const char *auth_args[] = { "--set", "token_key=" KEY_HEX, "--set", "admin_email=" ADMIN_EMAIL,
                                "--set", hash_setting,         NULL };
    const char *replica_args[] = { "--set", "service=catalog-read", "--set", "follow=catalog/0",
                                   NULL };
    f->auth = s_actor (f, "vitrine-auth", "auth", auth_args);
    f->writer = s_actor (f, "vitrine-catalog", "catalog", NULL);
    char n[16];
    snprintf (n, sizeof n, "%d", PRODUCTS);
    const char *seed[] = { "--broker", f->broker.endpoint, "--products", n, NULL };
    if (f->auth <= 0 || f->writer <= 0
        || vit_run ("vitrine-seed-catalog", seed, NULL, 0, NULL, 0, 60000) != 0) {
        s_stop_all (f);
        return -1;
    }
    f->replica = s_actor (f, "vitrine-catalog", "catalog-read", replica_args);
    //  Commerce: the cart, inventory (all 8 partitions in one process), payments, orders.
    f->cart = s_actor (f, "vitrine-cart", "cart", NULL);
    f->inventory = s_actor (f, "vitrine-inventory", "inventory", NULL);
    f->payments = s_actor (f, "vitrine-payments", "payments", NULL);
    f->orders = s_actor (f, "vitrine-orders", "orders", NULL);
    f->bus = vbus_client_new (f->broker.endpoint, WAIT_MS);
    if (f->cart <= 0 || f->inventory <= 0 || f->payments <= 0 || f->orders <= 0 || !f->bus) {
        s_stop_all (f);
        return -1;
    }
    //  The render worker: this program again, in its worker role.
    const char *render_args[] = { "--render-worker", f->broker.endpoint, NULL };
    f->render = vit_spawn ("/proc/self/exe", render_args);
    if (f->replica <= 0 || vit_wait_workers (&f->broker, "render", 1, 20000) != 0) {
        s_stop_all (f);
        return -1;
    }
    //  Rate limits high enough not to get in the way; the idle timeout short enough to test.
    const char *edge_args[] = { "--set", "rate_api=100000",      "--set", "rate_auth=100000",
                                "--set", "idle_timeout_ms=2000", NULL };
    f->edge = s_edge_start (f, &f->port, edge_args);
    for (uint64_t i = 0; i < PRODUCTS; i++) {
        vgen_product (i, &f->product);
        if (f->product.active)
            break;
    }
    if (f->edge <= 0 || !f->product.active) {
        s_stop_all (f);
        return -1;
    }
    //  The replica answers once it has caught up with the seeded catalog.
    vit_http_resp_t r = { 0 };
    char path[4096];
    snprintf (path, sizeof path, "/api/v1/products/%s", f->product.id);
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        if (s_http ("GET", path, NULL, NULL, &r) == 200)
            break;
        vit_http_resp_free (&r);
        usleep (100000);
    }
    vit_http_resp_free (&r);
    *state = f;
    return 0;
}

static int
s_group_teardown (void **state)
{
    fixture_t *f = *state;
    //  SIGTERM: the edge stops accepting, finishes, exits 0.
    assert_int_equal (vit_stop (f->edge, SIGTERM, 10000), 0);
    f->edge = 0;
    pid_t *commerce[] = { &f->orders, &f->payments, &f->inventory, &f->cart };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal (vit_stop (*commerce[i], SIGTERM, 10000), 0);
        *commerce[i] = 0;
    }
    vbus_client_destroy (&f->bus);
    assert_int_equal (vit_stop (f->render, SIGTERM, 10000), 0);
    f->render = 0;
    assert_int_equal (vit_stop (f->replica, SIGTERM, 10000), 0);
    assert_int_equal (vit_stop (f->writer, SIGTERM, 10000), 0);
    assert_int_equal (vit_stop (f->auth, SIGTERM, 10000), 0);
    f->replica = f->writer = f->auth = 0;
    vit_stop (f->broker.pid, SIGTERM, 5000);
    f->broker.pid = 0;
    assert_int_equal (vit_rmtree (f->dir), 0);
    return 0;
}

//  ---------------------------------------------------------------- tests

static void
test_health_ready_and_request_ids (void **state)
{
    (void) state;
    vit_http_resp_t r;
    assert_int_equal (s_http ("GET", "/healthz", NULL, NULL, &r), 200);
    assert_string_equal (r.body, "{\"status\":\"ok\"}");
    assert_non_null (vit_http_header (&r, "x-request-id"));
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/readyz", "X-Request-Id: probe-42.a_b\r\n", NULL, &r), 200);
    assert_string_equal (vit_http_header (&r, "x-request-id"),
                         "probe-42.a_b");  //  the client's kept
    json_t *j = s_json (&r);
    assert_true (json_is_true (json_object_get (j, "ready")));
    assert_true (json_integer_value (json_object_get (json_object_get (j, "services"), "render"))
                 >= 1);
    json_decref (j);
    vit_http_resp_free (&r);
    //  An unusable request id is replaced.
    assert_int_equal (s_http ("GET", "/healthz", "X-Request-Id: bad id!\r\n", NULL, &r), 200);
    assert_string_not_equal (vit_http_header (&r, "x-request-id"), "bad id!");
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("POST", "/healthz", NULL, "{}", &r), 405);
    assert_string_equal (vit_http_header (&r, "allow"), "GET, HEAD");
    vit_http_resp_free (&r);
}

//  Percent-encodes text for a query string.
static void
s_encode (const char *text, char *out, size_t size)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *) text; *p && n + 4 < size; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
            || strchr ("-_.~", *p))
            out[n++] = (char) *p;
        else
            n += (size_t) snprintf (out + n, size - n, "%%%02X", *p);
    out[n] = 0;
}

static void
test_catalog_routes (void **state)
{
    fixture_t *f = *state;
    vit_http_resp_t r, h;
    char path[4096];
    //  A product by id, HEAD alike without the body.
    snprintf (path, sizeof path, "/api/v1/products/%s", f->product.id);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 200);
    assert_string_equal (vit_http_header (&r, "content-type"), "application/json");
    json_t *j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (j, "title")), f->product.title);
    assert_int_equal (json_integer_value (json_object_get (j, "price")), f->product.price_minor);
    json_decref (j);
    assert_int_equal (s_http ("HEAD", path, NULL, NULL, &h), 200);
    assert_string_equal (vit_http_header (&h, "content-length"),
                         vit_http_header (&r, "content-length"));
    assert_int_equal (h.body_len, 0);
    vit_http_resp_free (&r);
    vit_http_resp_free (&h);
    assert_int_equal (s_http ("GET", "/api/v1/products/p99999999999", NULL, NULL, &r), 404);
    s_expect_error (&r, 404, "not_found");
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("DELETE", path, NULL, NULL, &r), 405);
    assert_string_equal (vit_http_header (&r, "allow"), "GET, HEAD");
    s_expect_error (&r, 405, "method_not_allowed");
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/api/v1/nothing", NULL, NULL, &r), 404);
    s_expect_error (&r, 404, "not_found");
    vit_http_resp_free (&r);
    //  Categories, and a category paged with its cursor.
    assert_int_equal (s_http ("GET", "/api/v1/categories", NULL, NULL, &r), 200);
    j = s_json (&r);
    assert_true (json_array_size (json_object_get (j, "categories")) > 3);
    json_decref (j);
    vit_http_resp_free (&r);
    char top[64];
    snprintf (top, sizeof top, "%.*s", (int) strcspn (f->product.category, "/"),
              f->product.category);
    snprintf (path, sizeof path, "/api/v1/products?category=%s&limit=2", top);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 200);
    j = s_json (&r);
    json_t *products = json_object_get (j, "products");
    assert_int_equal (json_array_size (products), 2);
    const char *cursor = json_string_value (json_object_get (j, "next_cursor"));
    assert_non_null (cursor);
    char first[64];
    snprintf (first, sizeof first, "%s",
              json_string_value (json_object_get (json_array_get (products, 0), "id")));
    char enc[1024];
    s_encode (cursor, enc, sizeof enc);
    snprintf (path, sizeof path, "/api/v1/products?category=%s&limit=2&cursor=%s", top, enc);
    json_decref (j);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 200);
    j = s_json (&r);
    products = json_object_get (j, "products");
    assert_true (json_array_size (products) >= 1);
    assert_string_not_equal (
        json_string_value (json_object_get (json_array_get (products, 0), "id")), first);
    json_decref (j);
    vit_http_resp_free (&r);
    //  Search with filters, sort and paging; facets come along.
    char word[64];
    snprintf (word, sizeof word, "%.*s", (int) strcspn (strrchr (f->product.title, ' ') + 1, " "),
              strrchr (f->product.title, ' ') + 1);
    snprintf (path, sizeof path, "/api/v1/search?q=%s&sort=price_asc&limit=5&in_stock=false&x=1",
              word);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 200);
    j = s_json (&r);
    assert_true (json_integer_value (json_object_get (j, "total")) >= 1);
    json_t *hits = json_object_get (j, "hits");
    for (size_t i = 1; i < json_array_size (hits); i++)
        assert_true (json_integer_value (json_object_get (json_array_get (hits, i - 1), "price"))
                     <= json_integer_value (json_object_get (json_array_get (hits, i), "price")));
    assert_non_null (json_object_get (json_object_get (j, "facets"), "brands"));
    json_decref (j);
    vit_http_resp_free (&r);
    //  Bad parameters: the edge's conversion, and the actor's own check.
    assert_int_equal (s_http ("GET", "/api/v1/search?q=x&limit=abc", NULL, NULL, &r), 400);
    s_expect_error (&r, 400, "bad_request");
    assert_non_null (strstr (r.body, "limit"));
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/api/v1/search?q=%FF", NULL, NULL, &r), 400);
    s_expect_error (&r, 400, "bad_request");
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/api/v1/search?sort=cheapest", NULL, NULL, &r), 400);
    s_expect_error (&r, 400, "bad_request");
    vit_http_resp_free (&r);
}

typedef struct {
    char access[AUTH_TOKEN_MAX];
    char refresh[64];
    char cookies[1024];  //  a Cookie header line as a browser would send it
} session_t;

//  The value of a Set-Cookie for name in the response (the whole header line in *line).
static const char *
s_set_cookie (const vit_http_resp_t *r, const char *name, char *value, size_t size, char *line,
              size_t line_size)
{
    char want[64];
    snprintf (want, sizeof want, "\r\nSet-Cookie: %s=", name);
    const char *p = strstr (r->head, want);
    if (!p)
        return NULL;
    p += strlen (want);
    const char *end = strstr (p, "\r\n");
    snprintf (line, line_size, "%.*s", (int) (end - p + strlen (name) + 1), p - strlen (name) - 1);
    snprintf (value, size, "%.*s", (int) strcspn (p, ";\r"), p);
    return value;
}

static int
s_login (const char *email, const char *password, bool cookie_mode, session_t *s,
         vit_http_resp_t *r)
{
    char body[256];
    snprintf (body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
    int status = s_http ("POST", "/api/v1/auth/login",
                         cookie_mode ? "Content-Type: application/json\r\nX-Session: cookie\r\n"
                                     : "Content-Type: application/json\r\n",
                         body, r);
    if (status == 200 && s) {
        char line[1024];
        assert_non_null (
            s_set_cookie (r, "vt_access", s->access, sizeof s->access, line, sizeof line));
        assert_non_null (strstr (line, "; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age="));
        assert_non_null (
            s_set_cookie (r, "vt_refresh", s->refresh, sizeof s->refresh, line, sizeof line));
        assert_non_null (
            strstr (line, "; Path=/api/v1/auth; HttpOnly; Secure; SameSite=Strict; Max-Age="));
        snprintf (s->cookies, sizeof s->cookies, "Cookie: vt_access=%s; vt_refresh=%s\r\n",
                  s->access, s->refresh);
    }
    return status;
}

static void
test_auth_routes (void **state)
{
    fixture_t *f = *state;
    vit_http_resp_t r;
    const char *json = "Content-Type: application/json\r\n";
    //  Register: 201; the same address again: 409; policy and format refusals: 400, 415.
    assert_int_equal (s_http ("POST", "/api/v1/auth/register", json,
                              "{\"email\":\"  Ann@Example.com \",\"password\":\"" GOOD_PASS
                              "\",\"name\":\"Ann\"}",
                              &r),
                      201);
    json_t *j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (j, "email")), "ann@example.com");
    json_decref (j);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("POST", "/api/v1/auth/register", json,
                              "{\"email\":\"ann@example.com\",\"password\":\"" GOOD_PASS
                              "\",\"name\":\"Ann\"}",
                              &r),
                      409);
    s_expect_error (&r, 409, "conflict");
    vit_http_resp_free (&r);
    assert_int_equal (
        s_http ("POST", "/api/v1/auth/register", json,
                "{\"email\":\"bob@example.com\",\"password\":\"short\",\"name\":\"B\"}", &r),
        400);
    assert_non_null (strstr (r.body, "password"));
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("POST", "/api/v1/auth/register", "Content-Type: text/plain\r\n",
                              "{\"email\":\"bob@example.com\"}", &r),
                      415);
    s_expect_error (&r, 415, "unsupported_media_type");
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("POST", "/api/v1/auth/register", NULL, "{}", &r), 415);
    vit_http_resp_free (&r);
    static const char *bad[] = { "{\"email\":",
                                 "[1,2]",
                                 "{\"email\":\"\xff\xfe\"}",
                                 "{\"a\":[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]}",
                                 "{\"email\":\"a@b.c\",\"email\":\"d@e.f\"}",
                                 NULL };
    for (int i = 0; bad[i]; i++) {
        assert_int_equal (s_http ("POST", "/api/v1/auth/register",
                                  "Content-Type: application/json; charset=utf-8\r\n", bad[i], &r),
                          400);
        s_expect_error (&r, 400, "bad_request");
        vit_http_resp_free (&r);
    }
    assert_int_equal (s_http ("GET", "/api/v1/auth/register", NULL, NULL, &r), 405);
    assert_string_equal (vit_http_header (&r, "allow"), "POST");
    vit_http_resp_free (&r);
    //  Login: wrong password 401; right one: tokens in the body and in cookies.
    assert_int_equal (s_login ("ann@example.com", "wrong-password-1", false, NULL, &r), 401);
    s_expect_error (&r, 401, "unauthorized");
    vit_http_resp_free (&r);
    session_t s;
    assert_int_equal (s_login ("ANN@example.com", GOOD_PASS, false, &s, &r), 200);
    j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (j, "access_token")), s.access);
    assert_string_equal (json_string_value (json_object_get (j, "refresh_token")), s.refresh);
    assert_string_equal (vit_http_header (&r, "cache-control"), "no-store");
    json_decref (j);
    vit_http_resp_free (&r);
    //  me: by Bearer, by cookie; without, or with a bad or expired token: 401.
    char bearer[512];
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s\r\n", s.access);
    assert_int_equal (s_http ("GET", "/api/v1/auth/me", bearer, NULL, &r), 200);
    j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (j, "email")), "ann@example.com");
    assert_int_equal (json_integer_value (json_object_get (j, "roles")), 1);
    json_decref (j);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/api/v1/auth/me", s.cookies, NULL, &r), 200);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/api/v1/auth/me", NULL, NULL, &r), 401);
    s_expect_error (&r, 401, "unauthorized");
    assert_string_equal (vit_http_header (&r, "www-authenticate"), "Bearer");
    vit_http_resp_free (&r);
    char tampered[600];
    snprintf (tampered, sizeof tampered, "%s", bearer);
    tampered[30] = tampered[30] == 'A' ? 'B' : 'A';
    assert_int_equal (s_http ("GET", "/api/v1/auth/me", tampered, NULL, &r), 401);
    vit_http_resp_free (&r);
    auth_token_claims_t claims = { .roles = VBUS_ROLE_CUSTOMER };
    snprintf (claims.user_id, sizeof claims.user_id, "u-expired");
    claims.issued_ms = vbus_now_ms () - 120000;
    claims.expires_ms = vbus_now_ms () - 60000;
    char expired[AUTH_TOKEN_MAX];
    assert_true (auth_token_sign (&f->key, &claims, expired, sizeof expired) > 0);
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s\r\n", expired);
    assert_int_equal (s_http ("GET", "/api/v1/auth/me", bearer, NULL, &r), 401);
    assert_non_null (strstr (r.body, "expired"));
    vit_http_resp_free (&r);
    //  A browser session: X-Session: cookie keeps the tokens out of the body.
    session_t b;
    assert_int_equal (s_login ("ann@example.com", GOOD_PASS, true, &b, &r), 200);
    j = s_json (&r);
    assert_null (json_object_get (j, "access_token"));
    assert_null (json_object_get (j, "refresh_token"));
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "user"), "email")),
                         "ann@example.com");
    assert_true (json_integer_value (json_object_get (j, "expires_at")) > vbus_now_ms ());
    json_decref (j);
    vit_http_resp_free (&r);
    //  Refresh by cookie: new cookies; the old refresh token again: refused (reuse).
    char only_refresh[256];
    snprintf (only_refresh, sizeof only_refresh, "Cookie: vt_refresh=%s\r\n", b.refresh);
    assert_int_equal (s_http ("POST", "/api/v1/auth/refresh", only_refresh, NULL, &r), 200);
    char value[256], line[1024];
    assert_non_null (s_set_cookie (&r, "vt_refresh", value, sizeof value, line, sizeof line));
    assert_string_not_equal (value, b.refresh);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("POST", "/api/v1/auth/refresh", only_refresh, NULL, &r), 401);
    vit_http_resp_free (&r);
    //  Logout by body: 204, both cookies cleared.
    char body[128];
    snprintf (body, sizeof body, "{\"refresh_token\":\"%s\"}", s.refresh);
    assert_int_equal (s_http ("POST", "/api/v1/auth/logout", json, body, &r), 204);
    assert_non_null (strstr (r.head, "Set-Cookie: vt_access=; Path=/; HttpOnly; Secure; "
                                     "SameSite=Strict; Max-Age=0"));
    assert_non_null (strstr (r.head, "Set-Cookie: vt_refresh=; Path=/api/v1/auth"));
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("POST", "/api/v1/auth/refresh", json, body, &r), 401);
    vit_http_resp_free (&r);
    //  The admin from auth's settings signs in through the edge too.
    session_t a;
    assert_int_equal (s_login (ADMIN_EMAIL, ADMIN_PASS, false, &a, &r), 200);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/api/v1/auth/me", a.cookies, NULL, &r), 200);
    j = s_json (&r);
    assert_int_equal (json_integer_value (json_object_get (j, "roles")),
                      VBUS_ROLE_ADMIN | VBUS_ROLE_CUSTOMER);
    json_decref (j);
    vit_http_resp_free (&r);
}

//  ---------------------------------------------------------------- commerce

//  A header's value in a response (the first one whose line starts with prefix), copied.
static const char *
s_cookie_line (const vit_http_resp_t *r, const char *prefix, char *out, size_t size)
{
    const char *p = strstr (r->head, prefix);
    if (!p)
        return NULL;
    snprintf (out, size, "%.*s", (int) strcspn (p, "\r"), p);
    return out;
}

static json_t *
s_ok_json (int status, int want, vit_http_resp_t *r, const char *what)
{
    if (status != want)
        fail_msg ("%s: HTTP %d (want %d): %s", what, status, want, r->body ? r->body : "");
    json_t *j = s_json (r);
    vit_http_resp_free (r);
    return j;
}

static void
test_commerce_routes (void **state)
{
    fixture_t *f = *state;
    vit_http_resp_t r;
    char path[512], extra[2048], body[1024], line[512];
    const char *json = "Content-Type: application/json\r\n";
    const char *pid = f->product.id, *sku = f->product.sku;

    //  "Who is signed in?" without a token: 204, no error; with one: the user.
    assert_int_equal (s_http ("GET", "/api/v1/auth/session", NULL, NULL, &r), 204);
    vit_http_resp_free (&r);

    //  The admin stocks the product through the edge (3 units: the checkout below takes 1).
    session_t admin;
    assert_int_equal (s_login (ADMIN_EMAIL, ADMIN_PASS, false, &admin, &r), 200);
    vit_http_resp_free (&r);
    snprintf (path, sizeof path, "/api/v1/stock/%s", sku);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 404);
    vit_http_resp_free (&r);
    snprintf (extra, sizeof extra, "%s%s", json, admin.cookies);
    snprintf (path, sizeof path, "/api/v1/admin/stock/%s/restock", sku);
    snprintf (body, sizeof body,
              "{\"product_id\":\"%s\",\"qty\":3,\"reason\":\"goods received\",\"low_threshold\":5}",
              pid);
    json_t *j = s_ok_json (s_http ("POST", path, extra, body, &r), 200, &r, "restock");
    assert_int_equal (json_integer_value (json_object_get (j, "available")), 3);
    json_decref (j);
    snprintf (path, sizeof path, "/api/v1/stock/%s", sku);
    j = s_ok_json (s_http ("GET", path, NULL, NULL, &r), 200, &r, "stock");
    assert_int_equal (json_integer_value (json_object_get (j, "available")), 3);
    json_decref (j);
    //  The low-stock list, walked over partitions until the broker says there are no more.
    bool listed = false;
    int partitions = 0;
    for (int p = 0; p < 64; p++, partitions++) {
        snprintf (path, sizeof path, "/api/v1/admin/stock/low?partition=%d", p);
        int st = s_http ("GET", path, admin.cookies, NULL, &r);
        if (st == 400) {
            vit_http_resp_free (&r);
            break;
        }
        j = s_ok_json (st, 200, &r, "list_low");
        json_t *stock = json_object_get (j, "stock");
        for (size_t i = 0; i < json_array_size (stock); i++)
            listed |=
                strcmp (json_string_value (json_object_get (json_array_get (stock, i), "sku")), sku)
                == 0;
        json_decref (j);
    }
    assert_int_equal (partitions, 8);
    assert_true (listed);

    //  A guest: the first cart call makes a guest cart and sets vt_cart.
    j = s_ok_json (s_http ("GET", "/api/v1/cart", NULL, NULL, &r), 200, &r, "guest cart");
    json_decref (j);
    assert_int_equal (s_http ("GET", "/api/v1/cart", NULL, NULL, &r), 200);
    assert_non_null (s_cookie_line (&r, "Set-Cookie: vt_cart=g:", line, sizeof line));
    assert_non_null (strstr (line, "; Path=/api/v1/cart; HttpOnly; Secure; SameSite=Strict"));
    assert_non_null (strstr (r.head, "Cache-Control: no-store"));
    char guest[64];
    snprintf (guest, sizeof guest, "%.*s", (int) strcspn (line + 20, ";"), line + 20);
    assert_int_equal (strlen (guest), 24);
    vit_http_resp_free (&r);
    char guest_cookie[128];
    snprintf (guest_cookie, sizeof guest_cookie, "Cookie: vt_cart=%s\r\n", guest);
    snprintf (extra, sizeof extra, "%s%s", json, guest_cookie);
    snprintf (body, sizeof body, "{\"product_id\":\"%s\",\"qty\":2}", pid);
    j = s_ok_json (s_http ("POST", "/api/v1/cart/items", extra, body, &r), 200, &r, "add");
    assert_string_equal (json_string_value (json_object_get (j, "cart_id")), guest);
    assert_int_equal (json_integer_value (json_object_get (j, "item_count")), 2);
    json_decref (j);
    //  A cart_id the client sends is not taken: the cookie's cart is.
    snprintf (body, sizeof body,
              "{\"cart_id\":\"g:AAAAAAAAAAAAAAAAAAAAAA\",\"product_id\":\"%s\","
              "\"qty\":1}",
              pid);
    j = s_ok_json (s_http ("POST", "/api/v1/cart/items", extra, body, &r), 200, &r, "add 2");
    assert_string_equal (json_string_value (json_object_get (j, "cart_id")), guest);
    assert_int_equal (json_integer_value (json_object_get (j, "item_count")), 3);
    json_decref (j);
    snprintf (path, sizeof path, "/api/v1/cart/items/%s", pid);
    j = s_ok_json (s_http ("PUT", path, extra, "{\"qty\":1}", &r), 200, &r, "set_qty");
    assert_int_equal (json_integer_value (json_object_get (j, "item_count")), 1);
    json_decref (j);
    j = s_ok_json (s_http ("DELETE", path, guest_cookie, NULL, &r), 200, &r, "remove");
    assert_int_equal (json_integer_value (json_object_get (j, "item_count")), 0);
    json_decref (j);
    snprintf (body, sizeof body, "{\"product_id\":\"%s\",\"qty\":1}", pid);
    json_decref (
        s_ok_json (s_http ("POST", "/api/v1/cart/items", extra, body, &r), 200, &r, "re-add"));
    assert_int_equal (s_http ("POST", "/api/v1/cart", extra, "{}", &r), 405);
    assert_string_equal (vit_http_header (&r, "allow"), "GET, HEAD, DELETE");
    vit_http_resp_free (&r);
    //  Checkout needs a customer.
    snprintf (extra, sizeof extra, "%sIdempotency-Key: k1\r\n%s", json, guest_cookie);
    assert_int_equal (s_http ("POST", "/api/v1/checkout", extra, "{}", &r), 401);
    vit_http_resp_free (&r);

    //  Sign up and in; the first cart call with the guest cookie merges it and clears it.
    assert_int_equal (s_http ("POST", "/api/v1/auth/register", json,
                              "{\"email\":\"shopper@example.com\",\"password\":\"" GOOD_PASS
                              "\",\"name\":\"Shopper\"}",
                              &r),
                      201);
    vit_http_resp_free (&r);
    session_t c;
    assert_int_equal (s_login ("shopper@example.com", GOOD_PASS, true, &c, &r), 200);
    vit_http_resp_free (&r);
    j = s_ok_json (s_http ("GET", "/api/v1/auth/session", c.cookies, NULL, &r), 200, &r, "session");
    assert_string_equal (json_string_value (json_object_get (j, "email")), "shopper@example.com");
    char user_id[64];
    snprintf (user_id, sizeof user_id, "%s", json_string_value (json_object_get (j, "user_id")));
    json_decref (j);
    char both[2048];
    snprintf (both, sizeof both, "Cookie: vt_access=%s; vt_cart=%s\r\n", c.access, guest);
    assert_int_equal (s_http ("GET", "/api/v1/cart", both, NULL, &r), 200);
    assert_non_null (strstr (r.head, "Set-Cookie: vt_cart=; Path=/api/v1/cart"));
    j = s_ok_json (200, 200, &r, "merged cart");
    char want[80];
    snprintf (want, sizeof want, "u:%s", user_id);
    assert_string_equal (json_string_value (json_object_get (j, "cart_id")), want);
    assert_int_equal (json_integer_value (json_object_get (j, "item_count")), 1);
    json_decref (j);

    //  Checkout: the Idempotency-Key header is required; the same key answers the same order.
    const char *order_body =
        "{\"shipping\":{\"name\":\"Shopper\",\"line1\":\"1 Main St\",\"city\":\"Lyon\","
        "\"postcode\":\"69001\",\"country\":\"FR\"},\"card\":{\"number\":\"4242 4242 4242 4242\","
        "\"exp_month\":12,\"exp_year\":2030,\"cvc\":\"123\"}}";
    snprintf (extra, sizeof extra, "%s%s", json, c.cookies);
    assert_int_equal (s_http ("POST", "/api/v1/checkout", extra, order_body, &r), 400);
    assert_non_null (strstr (r.body, "Idempotency-Key"));
    vit_http_resp_free (&r);
    snprintf (extra, sizeof extra, "%sIdempotency-Key: order-1\r\n%s", json, c.cookies);
    j = s_ok_json (s_http ("POST", "/api/v1/checkout", extra, order_body, &r), 200, &r, "checkout");
    assert_string_equal (json_string_value (json_object_get (j, "state")), "confirmed");
    char order_id[96];
    snprintf (order_id, sizeof order_id, "%s", json_string_value (json_object_get (j, "order_id")));
    json_decref (j);
    j = s_ok_json (s_http ("POST", "/api/v1/checkout", extra, order_body, &r), 200, &r, "again");
    assert_string_equal (json_string_value (json_object_get (j, "order_id")), order_id);
    json_decref (j);
    //  A decline is an order too: failed, with the reason a shopper reads.
    snprintf (body, sizeof body, "{\"product_id\":\"%s\",\"qty\":1}", pid);
    json_decref (s_ok_json (
        s_http ("POST", "/api/v1/cart/items",
                (snprintf (extra, sizeof extra, "%s%s", json, c.cookies), extra), body, &r),
        200, &r, "add for decline"));
    snprintf (extra, sizeof extra, "%sIdempotency-Key: order-2\r\n%s", json, c.cookies);
    char declined[1024];
    snprintf (declined, sizeof declined, "%s", order_body);
    char *num = strstr (declined, "4242 4242 4242 4242");
    memcpy (num, "4000 0000 0000 0002", 19);
    j = s_ok_json (s_http ("POST", "/api/v1/checkout", extra, declined, &r), 200, &r, "decline");
    assert_string_equal (json_string_value (json_object_get (j, "state")), "failed");
    assert_non_null (strstr (json_string_value (json_object_get (j, "reason")), "declined"));
    json_decref (j);

    //  History, one order, another customer's view of it, cancel.
    j = s_ok_json (s_http ("GET", "/api/v1/orders?limit=10", c.cookies, NULL, &r), 200, &r, "list");
    assert_int_equal (json_array_size (json_object_get (j, "orders")), 2);
    json_decref (j);
    snprintf (path, sizeof path, "/api/v1/orders/%s", order_id);
    j = s_ok_json (s_http ("GET", path, c.cookies, NULL, &r), 200, &r, "get order");
    assert_string_equal (json_string_value (json_object_get (j, "state")), "confirmed");
    json_decref (j);
    assert_int_equal (s_http ("POST", "/api/v1/auth/register", json,
                              "{\"email\":\"other@example.com\",\"password\":\"" GOOD_PASS
                              "\",\"name\":\"Other\"}",
                              &r),
                      201);
    vit_http_resp_free (&r);
    session_t other;
    assert_int_equal (s_login ("other@example.com", GOOD_PASS, false, &other, &r), 200);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", path, other.cookies, NULL, &r), 404);
    vit_http_resp_free (&r);
    snprintf (path, sizeof path, "/api/v1/orders/%s/cancel", order_id);
    j = s_ok_json (s_http ("POST", path, c.cookies, NULL, &r), 200, &r, "cancel");
    assert_string_equal (json_string_value (json_object_get (j, "state")), "cancelled");
    json_decref (j);
    //  The admin finds it among the cancelled orders, walking the orders partitions.
    bool found = false;
    for (int p = 0; p < 64 && !found; p++) {
        snprintf (path, sizeof path, "/api/v1/admin/orders?state=cancelled&partition=%d", p);
        int st = s_http ("GET", path, admin.cookies, NULL, &r);
        if (st == 400) {
            vit_http_resp_free (&r);
            break;
        }
        j = s_ok_json (st, 200, &r, "list_by_state");
        json_t *orders = json_object_get (j, "orders");
        for (size_t i = 0; i < json_array_size (orders); i++)
            found |= strcmp (json_string_value (
                                 json_object_get (json_array_get (orders, i), "order_id")),
                             order_id)
                     == 0;
        json_decref (j);
    }
    assert_true (found);

    //  Every admin route, with the customer's token: 403 from the edge; and the same methods
    //  called on the bus as that customer: forbidden by the actor itself.
    vbus_caller_t customer = { user_id, VBUS_ROLE_CUSTOMER };
    int admin_rows = 0;
    for (const edge_route_t *row = edge_routes; row->method; row++) {
        if (strncmp (row->pattern, "/api/v1/admin/", 14) != 0)
            continue;
        admin_rows++;
        //  The pattern with its parameter filled in.
        char url[512];
        size_t n = 0;
        for (const char *p = row->pattern; *p && n + 40 < sizeof url; p++) {
            if (*p == '{') {
                n += (size_t) snprintf (url + n, sizeof url - n, "%s",
                                        strncmp (p, "{sku}", 5) == 0         ? sku
                                        : strncmp (p, "{order_id}", 10) == 0 ? order_id
                                                                             : pid);
                p = strchr (p, '}');
            }
            else
                url[n++] = *p;
        }
        url[n] = 0;
        if (strcmp (row->method, "GET") == 0)
            strcat (url, "?state=confirmed");
        snprintf (extra, sizeof extra, "%s%s", json, c.cookies);
        int st = s_http (row->method, url, extra, strcmp (row->method, "GET") ? "{}" : NULL, &r);
        if (st != 403)
            fail_msg ("%s %s with a customer token: HTTP %d", row->method, url, st);
        vit_http_resp_free (&r);
        if (!row->service)
            continue;  //  answered by the edge itself (the live stream): nothing on the bus
        //  Directly: a request that is valid for the schema, so only the role refuses it.
        char req[512];
        if (strcmp (row->bus_method, "create") == 0)
            snprintf (req, sizeof req,
                      "{\"sku\":\"X-1\",\"title\":\"X\",\"brand\":\"B\","
                      "\"category\":\"c\",\"price\":1}");
        else if (strcmp (row->bus_method, "put_scene") == 0)
            snprintf (req, sizeof req, "{\"id\":\"%s\",\"scene\":\"gQ==\"}", pid);
        else if (!strcmp (row->bus_method, "update") || !strcmp (row->bus_method, "archive")
                 || !strcmp (row->bus_method, "get_scene"))
            snprintf (req, sizeof req, "{\"id\":\"%s\"}", pid);
        else if (strcmp (row->bus_method, "restock") == 0)
            snprintf (req, sizeof req, "{\"sku\":\"%s\",\"qty\":1,\"reason\":\"x\"}", sku);
        else if (strcmp (row->bus_method, "adjust") == 0)
            snprintf (req, sizeof req, "{\"sku\":\"%s\",\"delta\":1,\"reason\":\"x\"}", sku);
        else if (strcmp (row->bus_method, "set_threshold") == 0)
            snprintf (req, sizeof req, "{\"sku\":\"%s\",\"low_threshold\":1}", sku);
        else if (strcmp (row->bus_method, "list_low") == 0)
            snprintf (req, sizeof req, "{}");
        else if (strcmp (row->bus_method, "list_by_state") == 0)
            snprintf (req, sizeof req, "{\"state\":\"confirmed\"}");
        else if (strcmp (row->bus_method, "summary") == 0)
            snprintf (req, sizeof req, "{\"bucket\":\"%s\"}", venum_analytics_bucket[0]);
        else if (strcmp (row->bus_method, "funnel") == 0)
            snprintf (req, sizeof req, "{\"from_ms\":0,\"to_ms\":60000}");
        else if (strcmp (row->bus_method, "top") == 0)
            snprintf (req, sizeof req, "{\"metric\":\"%s\",\"window\":\"%s\"}",
                      venum_analytics_metric[0], venum_analytics_window[0]);
        else if (strcmp (row->bus_method, "low_stock") == 0)
            snprintf (req, sizeof req, "{}");
        else
            snprintf (req, sizeof req, "{\"order_id\":\"%s\"}", order_id);
        vbuf_t msg;
        vbuf_init (&msg, NULL, 0);
        char err[256];
        const vmsg_method_t *m = edge_route_method (row);
        if (vmsg_json_to_msgpack (m->request, req, strlen (req), &msg, err, sizeof err))
            fail_msg ("%s.%s: bad test request %s: %s", row->service, row->bus_method, req, err);
        vbus_opts_t opts = { .caller = &customer,
                             .key = strcmp (row->domain, "inventory") == 0 ? sku : user_id };
        vbus_msg_t *reply = NULL;
        assert_int_equal (vbus_client_call (f->bus, row->service, row->bus_method, msg.data,
                                            msg.len, &opts, &reply),
                          0);
        vbuf_free (&msg);
        if (reply->status == VE_UNAVAILABLE && strstr (reply->message, "unknown service")) {
            //  An actor this test does not start (analytics): the edge's 403 is checked above;
            //  its own refusal is checked by its own tests.
            print_message ("  %s.%s: not running here, bus check skipped\n", row->service,
                           row->bus_method);
            vbus_msg_destroy (&reply);
            continue;
        }
        if (reply->status != VE_FORBIDDEN)
            fail_msg ("%s.%s on the bus as a customer: %s (%s)", row->service, row->bus_method,
                      verr_name (reply->status), reply->message);
        vbus_msg_destroy (&reply);
    }
    assert_true (admin_rows >= 11);
}

//  The edge publishes product.viewed and search.performed for analytics (fire and forget, on
//  its own stream "edge-<pid>/0", numbered by the publisher).
static void
test_analytics_events (void **state)
{
    fixture_t *f = *state;
    const char *prefixes[] = { "product.viewed", "search.performed", NULL };
    vbus_sub_t *sub = vbus_sub_new (f->broker.sub, prefixes);
    assert_non_null (sub);
    varena_t *arena = varena_new (0);
    bool viewed = false, searched = false;
    char path[512], sid[64] = "", cookie[128] = "";
    for (int round = 0; round < 50 && !(viewed && searched); round++) {
        //  A subscription takes a moment to reach the broker: ask again until events come.
        vit_http_resp_t r;
        snprintf (path, sizeof path, "/products/%s", f->product.id);
        assert_int_equal (s_http ("GET", path, cookie[0] ? cookie : NULL, NULL, &r), 200);
        //  An anonymous visitor gets a session (nothing personal: 32 random hex digits), the
        //  same one as long as the cookie comes back.
        const char *set = vit_http_header (&r, "set-cookie");
        assert_non_null (set);
        assert_int_equal (strncmp (set, "vt_sid=", 7), 0);
        if (!sid[0]) {
            snprintf (sid, sizeof sid, "%.32s", set + 7);
            snprintf (cookie, sizeof cookie, "Cookie: vt_sid=%s\r\n", sid);
        }
        else
            assert_int_equal (strncmp (set + 7, sid, 32), 0);
        vit_http_resp_free (&r);
        assert_int_equal (s_http ("GET", "/api/v1/search?q=chair&category=furniture", cookie,
                                  NULL, &r),
                          200);
        vit_http_resp_free (&r);
        vbus_event_t ev;
        while (vbus_sub_recv (sub, &ev, 200) == 0) {
            assert_int_equal (strncmp (ev.stream, "edge-", 5), 0);
            const vmsg_event_t *e = vmsg_event_find (ev.topic);
            assert_non_null (e);
            const vmsg_value_t *v;
            char err[256];
            if (vmsg_decode (e->schema, ev.body, ev.body_len, arena, &v, err, sizeof err))
                fail_msg ("%s does not match its schema: %s", ev.topic, err);
            if (strcmp (ev.topic, "product.viewed") == 0) {
                assert_string_equal (vmsg_str (v, "product_id"), f->product.id);
                assert_string_equal (vmsg_str (v, "category"), f->product.category);
                assert_string_equal (vmsg_str (v, "session_id"), sid);
                viewed = true;
            }
            else {
                assert_string_equal (vmsg_str (v, "q"), "chair");
                assert_string_equal (vmsg_str (v, "category"), "furniture");
                assert_string_equal (vmsg_str (v, "session_id"), sid);
                searched = true;
            }
        }
    }
    assert_true (viewed && searched);
    //  A session cookie that is not 32 hex digits is not taken: a fresh one replaces it.
    static const char *const bad[] = { "Cookie: vt_sid=abc123\r\n",
                                       "Cookie: vt_sid=<script>alert(1)</script>zzzzzzz\r\n" };
    for (size_t b = 0; b < 2; b++) {
        vit_http_resp_t r;
        assert_int_equal (s_http ("GET", path, bad[b], NULL, &r), 200);
        const char *set = vit_http_header (&r, "set-cookie");
        assert_non_null (set);
        for (int i = 0; i < 32; i++)
            assert_non_null (strchr ("0123456789abcdef", set[7 + i]));
        assert_int_equal (set[7 + 32], ';');
        vit_http_resp_free (&r);
    }
    varena_destroy (&arena);
    vbus_sub_destroy (&sub);
}

//  The dashboard's stream: analytics.live events as server-sent events, admins only.
static void
test_analytics_live_stream (void **state)
{
    fixture_t *f = *state;
    vit_http_resp_t r;
    assert_int_equal (s_http ("GET", "/api/v1/admin/analytics/live", NULL, NULL, &r), 401);
    vit_http_resp_free (&r);
    session_t admin;
    assert_int_equal (s_login (ADMIN_EMAIL, ADMIN_PASS, false, &admin, &r), 200);
    vit_http_resp_free (&r);
    vit_http_t *c = s_conn (f->port);
    char req[2048];
    snprintf (req, sizeof req,
              "GET /api/v1/admin/analytics/live HTTP/1.1\r\nHost: t\r\nAccept: "
              "text/event-stream\r\n%s\r\n",
              admin.cookies);
    vit_http_sends (c, req);
    //  A stand-in for the analytics actor: the event on its stream, until the edge has it.
    const vmsg_event_t *e = vmsg_event_find ("analytics.live");
    assert_non_null (e);
    const char *live =
        "{\"at\":1,\"orders_per_minute\":2.5,\"revenue_per_minute\":[{\"currency\":\"EUR\","
        "\"amount\":1250}],\"views_per_minute\":40,\"carts_per_minute\":6,\"confirmed_today\":"
        "7,\"funnel\":{\"from_ms\":0,\"to_ms\":1,\"views\":100,\"cart_adds\":20,\"checkouts\":9,"
        "\"confirmed\":7,\"rates\":{\"view_to_cart\":0.2,\"cart_to_checkout\":0.45,"
        "\"checkout_to_confirmed\":0.78,\"view_to_confirmed\":0.07}},\"top_products\":[{"
        "\"product_id\":\"p1\",\"value\":900}],\"low_stock_count\":3,\"views_lost\":0}";
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256];
    if (vmsg_json_to_msgpack (e->schema, live, strlen (live), &body, err, sizeof err))
        fail_msg ("test event: %s", err);
    vbus_pub_t *pub = vbus_pub_new (f->broker.pub);
    assert_non_null (pub);
    bool got = false;
    for (int i = 0; i < 50 && !got; i++) {
        vbus_pub_send (pub, "analytics.live", "analytics-live/0", 0, body.data, body.len);
        vit_http_fill (c, 200);
        got = c->len && strstr (c->buf, "data: {\"at\":1,") != NULL;
    }
    if (!got)
        fail_msg ("no event on the stream: %.*s", (int) c->len, c->buf ? c->buf : "");
    assert_non_null (strstr (c->buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null (strstr (c->buf, "Content-Type: text/event-stream\r\n"));
    assert_null (strstr (c->buf, "Content-Length"));
    assert_non_null (strstr (c->buf, "\"confirmed_today\":7"));
    vbus_pub_destroy (&pub);
    vbuf_free (&body);
    vit_http_destroy (&c);
}

static void
test_frames (void **state)
{
    fixture_t *f = *state;
    vit_http_resp_t r;
    char path[4096], want[4096];
    //  Not canonical (or incomplete): 302 to the canonical URL, v kept.
    snprintf (path, sizeof path,
              "/api/v1/products/%s/frame?yaw=33&pitch=14&zoom=1&w=500&h=512&v=abc", f->product.id);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 302);
    snprintf (want, sizeof want,
              "/api/v1/products/%s/frame?yaw=35&pitch=15&zoom=1&w=512&h=512&v=abc", f->product.id);
    assert_string_equal (vit_http_header (&r, "location"), want);
    vit_http_resp_free (&r);
    snprintf (path, sizeof path, "/api/v1/products/%s/frame", f->product.id);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 302);
    snprintf (want, sizeof want, "/api/v1/products/%s/frame?yaw=0&pitch=15&zoom=1&w=512&h=512",
              f->product.id);
    assert_string_equal (vit_http_header (&r, "location"), want);
    vit_http_resp_free (&r);
    //  A 2048² frame of 3 MiB (over the codec's default message size, within the frame
    //  limit, vlimits.h): served whole.
    snprintf (path, sizeof path, "/api/v1/products/%s/frame?yaw=35&pitch=15&zoom=1&w=2048&h=2048",
              f->product.id);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 200);
    assert_int_equal (r.body_len, 3u << 20);
    assert_memory_equal (r.body, JPEG, sizeof JPEG - 1);
    vit_http_resp_free (&r);
    snprintf (path, sizeof path, "/api/v1/products/%s/frame?yaw=left", f->product.id);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 400);
    s_expect_error (&r, 400, "bad_request");
    assert_non_null (strstr (r.body, "yaw"));
    vit_http_resp_free (&r);
    //  Canonical: the JPEG, its ETag, a short cache without v ...
    snprintf (path, sizeof path, "/api/v1/products/%s/frame?yaw=35&pitch=15&zoom=1&w=512&h=512",
              f->product.id);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 200);
    assert_string_equal (vit_http_header (&r, "content-type"), "image/jpeg");
    assert_int_equal (r.body_len, sizeof JPEG - 1);
    assert_memory_equal (r.body, JPEG, r.body_len);
    assert_string_equal (vit_http_header (&r, "etag"), ETAG_35_15);
    assert_string_equal (vit_http_header (&r, "cache-control"), "public, max-age=60");
    vit_http_resp_free (&r);
    //  ... and for good when v is the scene's hash.
    snprintf (path, sizeof path,
              "/api/v1/products/%s/frame?yaw=35&pitch=15&zoom=1&w=512&h=512&v=" SCENE_HASH,
              f->product.id);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 200);
    assert_string_equal (vit_http_header (&r, "cache-control"),
                         "public, max-age=31536000, immutable");
    vit_http_resp_free (&r);
    //  If-None-Match with the current tag: 304, no body.
    assert_int_equal (s_http ("GET", path, "If-None-Match: " ETAG_35_15 "\r\n", NULL, &r), 304);
    assert_int_equal (r.body_len, 0);
    assert_string_equal (vit_http_header (&r, "etag"), ETAG_35_15);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", path, "If-None-Match: \"other\"\r\n", NULL, &r), 200);
    vit_http_resp_free (&r);
}

static void
test_product_page (void **state)
{
    fixture_t *f = *state;
    vit_http_resp_t r;
    char path[4096];
    snprintf (path, sizeof path, "/products/%s", f->product.id);
    assert_int_equal (s_http ("GET", path, NULL, NULL, &r), 200);
    assert_string_equal (vit_http_header (&r, "content-type"), "text/html; charset=utf-8");
    char title[256];
    snprintf (title, sizeof title, "<h1>%s</h1>", f->product.title);
    assert_non_null (strstr (r.body, title));
    char frame[256];
    snprintf (frame, sizeof frame,
              "src=\"/api/v1/products/%s/frame?yaw=30&amp;pitch=15&amp;zoom=1&amp;w=512&amp;h=512",
              f->product.id);
    assert_non_null (strstr (r.body, frame));
    assert_non_null (strstr (r.body, "<script id=product type=\"application/json\">{\"id\":"));
    assert_null (strstr (r.body, "{{"));
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/products/p99999999999", NULL, NULL, &r), 404);
    assert_non_null (strstr (r.body, "No such page"));  //  the storefront's 404 page
    vit_http_resp_free (&r);
}

static void
test_static_files (void **state)
{
    (void) state;
    vit_http_resp_t r;
    assert_int_equal (s_http ("GET", "/", NULL, NULL, &r), 200);
    assert_non_null (strstr (r.body, "<h1>Home</h1>"));
    assert_string_equal (vit_http_header (&r, "cache-control"), "no-cache");
    char etag[128], inm[160];
    snprintf (etag, sizeof etag, "%s", vit_http_header (&r, "etag"));
    vit_http_resp_free (&r);
    snprintf (inm, sizeof inm, "If-None-Match: %s\r\n", etag);
    assert_int_equal (s_http ("GET", "/index.html", inm, NULL, &r), 304);
    assert_int_equal (r.body_len, 0);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/search", NULL, NULL, &r), 200);  //  search.html
    assert_non_null (strstr (r.body, "<title>Search"));
    vit_http_resp_free (&r);
    //  Text compressed for clients that take gzip.
    assert_int_equal (s_http ("GET", "/style.css", "Accept-Encoding: br, gzip\r\n", NULL, &r), 200);
    assert_string_equal (vit_http_header (&r, "content-encoding"), "gzip");
    assert_string_equal (vit_http_header (&r, "vary"), "Accept-Encoding");
    assert_string_equal (vit_http_header (&r, "content-type"), "text/css; charset=utf-8");
    assert_true (r.body_len > 10 && (unsigned char) r.body[0] == 0x1f
                 && (unsigned char) r.body[1] == 0x8b);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/style.css", NULL, NULL, &r), 200);
    assert_null (vit_http_header (&r, "content-encoding"));
    assert_true (strstr (r.body, ".product-grid") == r.body);
    vit_http_resp_free (&r);
    //  /shapes.js: the view grid and the sorts the pages use, made from vview.h and venum.h.
    assert_int_equal (s_http ("GET", "/shapes.js", NULL, NULL, &r), 200);
    assert_string_equal (vit_http_header (&r, "content-type"), "text/javascript; charset=utf-8");
    char want[128];
    snprintf (want, sizeof want, "yawStep: %d,", VVIEW_YAW_STEP);
    assert_non_null (strstr (r.body, want));
    snprintf (want, sizeof want, "zoomMax: %d,", VVIEW_ZOOM_LEVELS);
    assert_non_null (strstr (r.body, want));
    assert_non_null (strstr (r.body, "pitches: Object.freeze([-15, 0, 15, 30, 45, 60, 75])"));
    assert_non_null (
        strstr (r.body, "SORTS = Object.freeze(['relevance', 'price_asc', 'price_desc', 'newest', "
                        "'popular'])"));
    snprintf (etag, sizeof etag, "%s", vit_http_header (&r, "etag"));
    vit_http_resp_free (&r);
    snprintf (inm, sizeof inm, "If-None-Match: %s\r\n", etag);
    assert_int_equal (s_http ("GET", "/shapes.js", inm, NULL, &r), 304);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/missing.html", NULL, NULL, &r), 404);
    assert_non_null (strstr (r.body, "No such page"));
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("POST", "/index.html", NULL, "x", &r), 405);
    vit_http_resp_free (&r);
}

static void
test_traversal_refused (void **state)
{
    (void) state;
    static const char *paths[] = { "/../../../../etc/passwd",
                                   "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                                   "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
                                   "/css/..%2f..%2f..%2fetc/passwd",
                                   "/..\\..\\etc\\passwd",
                                   "/%c0%ae%c0%ae/etc/passwd",
                                   NULL };
    for (int i = 0; paths[i]; i++) {
        vit_http_resp_t r;
        int status = s_http ("GET", paths[i], NULL, NULL, &r);
        if (status != 400)
            fail_msg ("GET %s: %d", paths[i], status);
        assert_null (strstr (r.body, "root:"));
        vit_http_resp_free (&r);
    }
}

//  Sends raw bytes on a fresh connection; expects status and then the connection closed.
static void
s_expect_refused (const char *raw, int status)
{
    vit_http_t *c = s_conn (s_f.port);
    vit_http_sends (c, raw);
    vit_http_resp_t r;
    if (vit_http_read (c, &r, false, WAIT_MS) != 0)
        fail_msg ("no response to:\n%s", raw);
    if (r.status != status)
        fail_msg ("expected %d, got %d for:\n%s", status, r.status, raw);
    s_expect_error (&r, status,
                    r.status == 400   ? "bad_request"
                    : r.status == 413 ? "payload_too_large"
                                      : "header_too_large");
    assert_string_equal (vit_http_header (&r, "connection"), "close");
    vit_http_resp_free (&r);
    assert_true (vit_http_closed (c, WAIT_MS));
    vit_http_destroy (&c);
}

static void
test_smuggling_refused (void **state)
{
    (void) state;
    static const char *shapes[] = {
        "POST /api/v1/auth/logout HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
        "Content-Length: 40\r\n\r\n{}{}",
        "POST /api/v1/auth/logout HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /api/v1/auth/logout HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
        "Content-Length: 4\r\n\r\n0\r\n\r\n",
        "POST /api/v1/auth/logout HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nxx",
        "POST /api/v1/auth/logout HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        "0\r\n\r\n",
        "POST /api/v1/auth/logout HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n Transfer-Encoding: "
        "chunked\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost : t\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        NULL
    };
    for (int i = 0; shapes[i]; i++)
        s_expect_refused (shapes[i], 400);
}

static void
test_oversize_refused (void **state)
{
    (void) state;
    //  A header section over 16 KiB: 431.
    char *big = malloc (40000);
    int n = sprintf (big, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: ");
    memset (big + n, 'a', 20000);
    strcpy (big + n + 20000, "\r\n\r\n");
    s_expect_refused (big, 431);
    //  Many headers: 431 too.
    n = sprintf (big, "GET /healthz HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 150; i++)
        n += sprintf (big + n, "X-H%d: v\r\n", i);
    strcpy (big + n, "\r\n");
    s_expect_refused (big, 431);
    //  A body over 1 MiB: 413 from its Content-Length, before it is sent ...
    s_expect_refused ("POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: "
                      "application/json\r\nContent-Length: 1048577\r\n\r\n",
                      413);
    free (big);
    //  ... or when a chunked one grows past it.
    vit_http_t *c = s_conn (s_f.port);
    vit_http_sends (
        c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\n");
    char *chunk = malloc (70000);
    n = sprintf (chunk, "10000\r\n");
    memset (chunk + n, ' ', 0x10000);
    strcpy (chunk + n + 0x10000, "\r\n");
    vit_http_resp_t r;
    for (int i = 0; i < 17; i++)
        vit_http_send (c, chunk, (size_t) n + 0x10000 + 2);
    free (chunk);
    assert_int_equal (vit_http_read (c, &r, false, WAIT_MS), 0);
    s_expect_error (&r, 413, "payload_too_large");
    vit_http_resp_free (&r);
    assert_true (vit_http_closed (c, WAIT_MS));
    vit_http_destroy (&c);
}

static void
test_slow_and_idle_clients_closed (void **state)
{
    (void) state;
    //  Three at once: one trickling its headers, one its body, one saying nothing.
    vit_http_t *head = s_conn (s_f.port), *body = s_conn (s_f.port), *idle = s_conn (s_f.port);
    vit_http_sends (head, "GET /healthz HTTP/1.1\r\nHost: t\r\n");
    vit_http_sends (body, "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: "
                          "application/json\r\nContent-Length: 100000\r\n\r\n{");
    bool head_closed = false, body_closed = false, idle_closed = false;
    vit_http_resp_t r;
    int head_status = 0, body_status = 0;
    //  A byte every 500 ms each, for at most 20 s (the limits are ~10 s).
    for (int i = 0; i < 40 && !(head_closed && body_closed); i++) {
        if (!head_closed)
            vit_http_sends (head, "X");
        if (!body_closed)
            vit_http_sends (body, " ");
        usleep (500000);
        struct pollfd p[3] = { { head->fd, POLLIN, 0 },
                               { body->fd, POLLIN, 0 },
                               { idle->fd, POLLIN, 0 } };
        poll (p, 3, 0);
        if (!head_closed && p[0].revents) {
            if (!head_status && vit_http_read (head, &r, false, WAIT_MS) == 0) {
                head_status = r.status;
                vit_http_resp_free (&r);
            }
            head_closed = vit_http_closed (head, 1000);
        }
        if (!body_closed && p[1].revents) {
            if (!body_status && vit_http_read (body, &r, false, WAIT_MS) == 0) {
                body_status = r.status;
                vit_http_resp_free (&r);
            }
            body_closed = vit_http_closed (body, 1000);
        }
        if (!idle_closed && p[2].revents)
            idle_closed = vit_http_closed (idle, 1000);
    }
    assert_true (head_closed);
    assert_int_equal (head_status, 408);
    assert_true (body_closed);
    assert_int_equal (body_status, 408);
    assert_true (idle_closed || vit_http_closed (idle, WAIT_MS));  //  idle_timeout_ms 2000 here
    vit_http_destroy (&head);
    vit_http_destroy (&body);
    vit_http_destroy (&idle);
}

static void
test_keep_alive_and_pipelining (void **state)
{
    fixture_t *f = *state;
    vit_http_t *c = s_conn (f->port);
    char two[512];
    snprintf (two, sizeof two,
              "GET /api/v1/products/%s HTTP/1.1\r\nHost: t\r\nX-Request-Id: first\r\n\r\n"
              "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: second\r\n\r\n",
              f->product.id);
    vit_http_sends (c, two);
    vit_http_resp_t r;
    assert_int_equal (vit_http_read (c, &r, false, WAIT_MS), 0);
    assert_int_equal (r.status, 200);
    assert_string_equal (vit_http_header (&r, "x-request-id"), "first");  //  answers in order
    assert_non_null (strstr (r.body, f->product.id));
    vit_http_resp_free (&r);
    assert_int_equal (vit_http_read (c, &r, false, WAIT_MS), 0);
    assert_string_equal (vit_http_header (&r, "x-request-id"), "second");
    assert_string_equal (r.body, "{\"status\":\"ok\"}");
    vit_http_resp_free (&r);
    //  The connection stays open for more; a POST body then a GET in one write.
    vit_http_sends (
        c,
        "POST /api/v1/auth/logout HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\n\r\n{}GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_int_equal (vit_http_read (c, &r, false, WAIT_MS), 0);
    s_expect_error (&r, 400, "bad_request");  //  refresh_token missing
    vit_http_resp_free (&r);
    assert_int_equal (vit_http_read (c, &r, false, WAIT_MS), 0);
    assert_int_equal (r.status, 200);
    assert_string_equal (vit_http_header (&r, "connection"), "close");
    vit_http_resp_free (&r);
    assert_true (vit_http_closed (c, WAIT_MS));
    vit_http_destroy (&c);
    //  Expect: 100-continue gets its interim response before the body is sent.
    c = s_conn (f->port);
    vit_http_sends (
        c, "POST /api/v1/auth/logout HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
           "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    while (!(c->len && memmem (c->buf, c->len, "\r\n\r\n", 4)))
        assert_true (vit_http_fill (c, WAIT_MS) > 0);
    assert_true (strncmp (c->buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
    memmove (c->buf, c->buf + 25, c->len - 25);
    c->len -= 25;
    vit_http_sends (c, "{}");
    assert_int_equal (vit_http_read (c, &r, false, WAIT_MS), 0);
    assert_int_equal (r.status, 400);
    vit_http_resp_free (&r);
    vit_http_destroy (&c);
}

static void
test_rate_limits_and_shared_port (void **state)
{
    fixture_t *f = *state;
    //  A second edge with tight limits: 5/s (burst 10) for the API, 2/min for sign-ins.
    int port = 0;
    const char *args[] = { "--set",       "rate_api=5", "--set",
                           "rate_auth=2", "--set",      "ready_services=auth,no-such-service",
                           NULL };
    pid_t edge = s_edge_start (f, &port, args);
    assert_true (edge > 0);
    int main_port = f->port;
    f->port = port;
    vit_http_resp_t r;
    int ok = 0, limited = 0;
    for (int i = 0; i < 14; i++) {
        int status = s_http ("GET", "/api/v1/categories", NULL, NULL, &r);
        if (status == 429) {
            limited++;
            s_expect_error (&r, 429, "busy");
            assert_true (atoi (vit_http_header (&r, "retry-after")) >= 1);
        }
        else
            ok += status == 200;
        vit_http_resp_free (&r);
    }
    assert_true (ok >= 10 && ok <= 11);  //  the burst (and a token refilled meanwhile)
    assert_true (limited >= 3);
    //  Health and readiness are never limited; this edge requires a service nobody serves.
    assert_int_equal (s_http ("GET", "/healthz", NULL, NULL, &r), 200);
    vit_http_resp_free (&r);
    assert_int_equal (s_http ("GET", "/readyz", NULL, NULL, &r), 503);
    json_t *j = s_json (&r);
    assert_true (json_is_false (json_object_get (j, "ready")));
    assert_true (json_is_true (json_object_get (j, "broker")));
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (j, "services"), "no-such-service")),
        0);
    json_decref (j);
    vit_http_resp_free (&r);
    //  Sign-ins have their own, stricter bucket; both buckets apply to them.
    f->port = port;
    int login_limited = 0;
    for (int i = 0; i < 3; i++) {
        if (s_login ("nobody@example.com", "whatever-password", false, NULL, &r) == 429)
            login_limited++;
        vit_http_resp_free (&r);
    }
    assert_int_equal (login_limited, 3);  //  the API bucket is empty too by now
    f->port = main_port;
    assert_int_equal (vit_stop (edge, SIGTERM, 10000), 0);
    //  SO_REUSEPORT: a second edge starts on the main edge's port, and both answer.
    //  Request ids start with a random prefix per process: two prefixes, two edges.
    port = main_port;
    edge = s_edge_start (f, &port, NULL);
    assert_true (edge > 0);
    char prefixes[2][16] = { "", "" };
    for (int i = 0; i < 40 && !prefixes[1][0]; i++) {
        assert_int_equal (s_http ("GET", "/healthz", NULL, NULL, &r), 200);
        const char *rid = vit_http_header (&r, "x-request-id");
        if (!prefixes[0][0])
            snprintf (prefixes[0], sizeof prefixes[0], "%.8s", rid);
        else if (strncmp (rid, prefixes[0], 8) != 0)
            snprintf (prefixes[1], sizeof prefixes[1], "%.8s", rid);
        vit_http_resp_free (&r);
    }
    assert_true (prefixes[1][0] != 0);
    assert_int_equal (vit_stop (edge, SIGTERM, 10000), 0);
}

static void
test_in_flight_requests_and_sigterm (void **state)
{
    fixture_t *f = *state;
    int port = 0, main_port = f->port;
    pid_t edge = s_edge_start (f, &port, NULL);
    assert_true (edge > 0);
    char request[512];
    snprintf (request, sizeof request,
              "GET /api/v1/products/%s/frame?yaw=355&pitch=15&zoom=1&w=512&h=512 HTTP/1.1\r\n"
              "Host: t\r\n\r\n",
              f->product.id);
    //  A client that leaves while its call is out: the late reply finds no connection, and
    //  the edge goes on.
    vit_http_t *gone = s_conn (port);
    vit_http_sends (gone, request);
    usleep (100000);
    vit_http_destroy (&gone);
    vit_http_resp_t r;
    f->port = port;
    int health = s_http ("GET", "/healthz", NULL, NULL, &r);
    f->port = main_port;
    assert_int_equal (health, 200);
    vit_http_resp_free (&r);
    //  SIGTERM while a call is out: no new connections, the call's response still comes (and
    //  says the connection closes), then the edge exits 0.
    vit_http_t *c = s_conn (port);
    vit_http_sends (c, request);
    usleep (300000);
    kill (edge, SIGTERM);
    assert_int_equal (vit_http_read (c, &r, false, WAIT_MS), 0);
    assert_int_equal (r.status, 200);
    assert_string_equal (vit_http_header (&r, "connection"), "close");
    vit_http_resp_free (&r);
    assert_true (vit_http_closed (c, WAIT_MS));
    vit_http_destroy (&c);
    assert_int_equal (vit_stop (edge, 0, 10000), 0);
    assert_true (vit_http_connect (port) < 0);
}

static void
test_configuration_errors (void **state)
{
    (void) state;
    static const struct {
        const char *args[8];
        const char *says;
    } cases[] = {
        { { "--listen", "127.0.0.1:1", NULL }, "token_key" },
        { { "--set", "token_key=abc", NULL }, "token_key" },
        { { "--set", "token_key=" KEY_HEX, "--set", "rate_api=-1", NULL }, "rate_api" },
        { { "--set", "token_key=" KEY_HEX, "--set", "colour=blue", NULL }, "colour" },
        { { "--set", "token_key=" KEY_HEX, "--listen", "nowhere", NULL }, "listen" },
        { { "--set", "token_key=" KEY_HEX, "--broker", "udp://x:1", NULL }, "broker" },
        { { "--set", "token_key=" KEY_HEX, "--set", "ready_services=Auth!", NULL },
          "ready_services" },
        { { "--config", "/nonexistent/edge.conf", NULL }, "--config" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[1024] = "";
        int rc = vit_run ("vitrine-edge", cases[i].args, NULL, 0, err, sizeof err, 10000);
        if (rc != 2 || !strstr (err, cases[i].says))
            fail_msg ("case %zu: exit %d, stderr '%s'", i, rc, err);
    }
    //  A config file works like flags.
    char conf[256];
    snprintf (conf, sizeof conf, "%s/edge.conf", s_f.dir);
    FILE *file = fopen (conf, "w");
    fprintf (file, "# edge\nrate_api = 0\nbogus = 1\n");
    fclose (file);
    const char *args[] = { "--config", conf, NULL };
    char err[1024] = "";
    assert_int_equal (vit_run ("vitrine-edge", args, NULL, 0, err, sizeof err, 10000), 2);
    assert_non_null (strstr (err, "bogus"));
}

static void
test_access_log (void **state)
{
    fixture_t *f = *state;
    FILE *log = fopen (f->log, "r");
    assert_non_null (log);
    char line[4096];
    bool product = false, login = false;
    while (fgets (line, sizeof line, log)) {
        //  No password and no token ever reaches the log.
        if (strstr (line, GOOD_PASS) || strstr (line, ADMIN_PASS) || strstr (line, "vt_access=")
            || strstr (line, "Bearer"))
            fail_msg ("secret in the log: %s", line);
        char want[128];
        snprintf (want, sizeof want, "I edge: GET /api/v1/products/%s 200 ", f->product.id);
        product |= strstr (line, want) && strstr (line, " B ") && strstr (line, " us rid=");
        login |= strstr (line, "I edge: POST /api/v1/auth/login 200 ") != NULL;
    }
    fclose (log);
    assert_true (product);
    assert_true (login);
}

int
main (int argc, char **argv)
{
    if (argc == 3 && strcmp (argv[1], "--render-worker") == 0)
        return s_render_worker (argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_health_ready_and_request_ids),
        cmocka_unit_test (test_catalog_routes),
        cmocka_unit_test (test_auth_routes),
        cmocka_unit_test (test_commerce_routes),
        cmocka_unit_test (test_analytics_events),
        cmocka_unit_test (test_analytics_live_stream),
        cmocka_unit_test (test_frames),
        cmocka_unit_test (test_product_page),
        cmocka_unit_test (test_static_files),
        cmocka_unit_test (test_traversal_refused),
        cmocka_unit_test (test_smuggling_refused),
        cmocka_unit_test (test_oversize_refused),
        cmocka_unit_test (test_slow_and_idle_clients_closed),
        cmocka_unit_test (test_keep_alive_and_pipelining),
        cmocka_unit_test (test_rate_limits_and_shared_port),
        cmocka_unit_test (test_in_flight_requests_and_sigterm),
        cmocka_unit_test (test_configuration_errors),
        cmocka_unit_test (test_access_log),
    };
    return cmocka_run_group_tests_name ("it_edge", tests, s_group_setup, s_group_teardown);
}
