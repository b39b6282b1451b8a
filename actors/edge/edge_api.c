//  edge_api.c — a routed request becomes one asynchronous bus call, and its reply a response.
//  The request body is built from the row's schema (edge_route_request) and the reply turned
//  into JSON with the reply schema; rows with flags get their extras here: session cookies,
//  frames (canonical URLs, ETags, caching), the product page, and /readyz. It writes through
//  edge_resp.c and calls nothing of edge_server.c: the connection code owns the bus callback.
#include "edge_page.h"
#include "edge_resp.h"
#include "edge_server.h"
#include "vmp.h"
#include "vview.h"
#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define WHO "edge"

int
edge_api_open (edge_server_t *s)
{
    size_t n = 0;
    while (edge_routes[n].method)
        n++;
    s->methods = calloc (n ? n : 1, sizeof *s->methods);
    if (!s->methods)
        return -VE_NOMEM;
    //  NULL for a row the edge answers itself, and for a misconfigured one: its requests are
    //  refused with a 500 that names it (edge_api_handle).
    for (size_t i = 0; i < n; i++)
        s->methods[i] = edge_route_method (&edge_routes[i]);
    //  The publish endpoint is the broker's request port + 1 (docs/protocol.md).
    const char *ep = s->cfg->broker, *colon = strrchr (ep, ':');
    long port = colon ? strtol (colon + 1, NULL, 10) : 0;
    if (strncmp (ep, "tcp://", 6) == 0 && port > 0 && port < 65535
        && vmsg_event_find ("product.viewed")) {
        char pub[300];
        snprintf (pub, sizeof pub, "%.*s:%ld", (int) (colon - ep), ep, port + 1);
        s->pub = vbus_pub_new (pub);
        snprintf (s->pub_stream, sizeof s->pub_stream, "edge-%d/0", (int) getpid ());
    }
    if (!s->pub)
        vbus_log ('I', WHO, "no analytics events from this edge (broker %s)", ep);
    return 0;
}

void
edge_api_close (edge_server_t *s)
{
    free (s->methods);
    s->methods = NULL;
    if (s->pub)
        vbus_log ('I', WHO, "analytics events: %llu sent, %llu dropped",
                  (unsigned long long) s->events_sent, (unsigned long long) s->events_dropped);
    vbus_pub_destroy (&s->pub);
}

static const vmsg_method_t *s_method (const edge_conn_t *c);

int
edge_api_live_event (edge_server_t *s, const vbus_event_t *ev, vbuf_t *out)
{
    const vmsg_event_t *e = vmsg_event_find ("analytics.live");
    varena_t *arena = varena_new (0);
    char err[256];
    if (!e || !arena)
        return -VE_NOMEM;
    vbuf_append (out, "data: ", 6);
    int rc = vmsg_json_write (e->schema, ev->body, ev->body_len, arena, out, err, sizeof err);
    vbuf_append (out, "\n\n", 2);
    varena_destroy (&arena);
    if (rc)
        vbus_log ('W', WHO, "analytics.live does not match its schema: %s", err);
    (void) s;
    return rc ? rc : out->failed ? -VE_NOMEM : 0;
}

//  ---------------------------------------------------------------- events for analytics
//  Fire and forget: a full link drops the event (counted); analytics counts the gaps too.

static void
s_publish (edge_conn_t *c, const char *topic, vbuf_t *body)
{
    edge_server_t *s = c->server;
    if (body->failed || vbus_pub_send (s->pub, topic, s->pub_stream, 0, body->data, body->len))
        s->events_dropped++;
    else
        s->events_sent++;
}

//  The anonymous session of the request: the vt_sid cookie when it is well formed, else a new
//  random one (the product page sets it). Kept in c->req.session.
static const char *
s_session (edge_conn_t *c)
{
    edge_req_t *r = &c->req;
    if (r->session[0])
        return r->session;
    size_t clen = 0, len = 0;
    const char *cookie = edge_parse_header (&c->parse, "cookie", &clen);
    const char *sid = cookie ? edge_cookie (cookie, clen, EDGE_COOKIE_SESSION, &len) : NULL;
    bool ok = sid && len == EDGE_SESSION_HEX;
    for (size_t i = 0; ok && i < len; i++)
        ok = (sid[i] >= '0' && sid[i] <= '9') || (sid[i] >= 'a' && sid[i] <= 'f');
    if (ok)
        memcpy (r->session, sid, len);
    else {
        static const char hex[] = "0123456789abcdef";
        uint8_t raw[EDGE_SESSION_HEX / 2];
        randombytes_buf (raw, sizeof raw);
        for (size_t i = 0; i < sizeof raw; i++) {
            r->session[2 * i] = hex[raw[i] >> 4];
            r->session[2 * i + 1] = hex[raw[i] & 15];
        }
    }
    r->session[EDGE_SESSION_HEX] = 0;
    return r->session;
}

//  Who looked: the signed-in shopper's id when the request carried a valid token, else the
//  anonymous session. One entry either way.
static void
s_pack_who (edge_conn_t *c, msgpack_packer *pk)
{
    if (c->req.identified)
        vmp_pack_kstr (pk, "user_id", c->req.claims.user_id);
    else
        vmp_pack_kstr (pk, "session_id", s_session (c));
}

//  product.viewed {product_id, category?, user_id?} from the product page's catalog reply.
static void
s_event_viewed (edge_conn_t *c, const vmsg_value_t *product)
{
    if (!c->server->pub || !product)
        return;
    const char *id = vmsg_str (product, "id"), *category = vmsg_str (product, "category");
    if (!id)
        return;
    char storage[512];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, 2 + (category != NULL));
    vmp_pack_kstr (&pk, "product_id", id);
    if (category)
        vmp_pack_kstr (&pk, "category", category);
    s_pack_who (c, &pk);
    s_publish (c, "product.viewed", &body);
    vbuf_free (&body);
}

//  search.performed {q, results, category?, user_id?}: the query and filter as asked, the
//  number of matches from the reply.
static void
s_event_searched (edge_conn_t *c, const vbus_reply_t *reply)
{
    const vmsg_method_t *m = s_method (c);
    const vmsg_value_t *v;
    if (!c->server->pub
        || vmsg_decode (m->reply, reply->body, reply->body_len, c->arena, &v, NULL, 0))
        return;
    const edge_req_t *r = &c->req;
    char *q = NULL, *category = NULL;
    size_t len;
    const char *raw = edge_query_get (r->query, r->query_len, "q", &len);
    if (raw && (q = varena_alloc (c->arena, len + 1)) && edge_url_decode (raw, len, true, q) < 0)
        q = NULL;
    raw = edge_query_get (r->query, r->query_len, "category", &len);
    if (raw && len && (category = varena_alloc (c->arena, len + 1))
        && edge_url_decode (raw, len, true, category) < 0)
        category = NULL;
    if (q && strlen (q) > 256)
        q[256] = 0;  //  the event's limit; the search itself took the whole query
    char storage[512];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, 3 + (category != NULL));
    vmp_pack_kstr (&pk, "q", q ? q : "");
    vmp_pack_cstr (&pk, "results");
    msgpack_pack_uint64 (&pk, vmsg_uint (v, "total", 0));
    if (category)
        vmp_pack_kstr (&pk, "category", category);
    s_pack_who (c, &pk);
    //  Only what validates goes out (a query with invalid UTF-8 was refused before).
    if (vmsg_validate (vmsg_event_find ("search.performed")->schema, body.data, body.len, NULL, 0)
        == 0)
        s_publish (c, "search.performed", &body);
    vbuf_free (&body);
}

//  The schema entry of the request's row, resolved when the server started.
static const vmsg_method_t *
s_method (const edge_conn_t *c)
{
    return c->server->methods[c->req.route - edge_routes];
}

static void
s_clear_cookies (edge_conn_t *c)
{
    edge_resp_header (c, "Set-Cookie: " EDGE_COOKIE_ACCESS
                         "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    edge_resp_header (c, "Set-Cookie: " EDGE_COOKIE_REFRESH
                         "=; Path=/api/v1/auth; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
}

//  The guest cart cookie a cart row's response sets or clears (after cart.new_guest or
//  cart.merge). Max-Age: a month; the id is the capability, so HttpOnly like the session's.
static void
s_cart_cookie (edge_conn_t *c)
{
    if (c->req.cart_set)
        edge_resp_header (c,
                          "Set-Cookie: " EDGE_COOKIE_CART
                          "=%s; Path=/api/v1/cart; HttpOnly; Secure; SameSite=Strict; "
                          "Max-Age=2592000",
                          c->req.cart_set);
    else if (c->req.cart_clear)
        edge_resp_header (c, "Set-Cookie: " EDGE_COOKIE_CART
                             "=; Path=/api/v1/cart; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
}

//  An error answer; a logout clears the cookies whatever happened, and a merged guest cart's
//  cookie goes even when the call after the merge failed.
static void
s_error (edge_conn_t *c, int status, const char *code, const char *message)
{
    const edge_route_t *route = c->req.route;
    bool end = route && (route->flags & EDGE_ROUTE_END_SESSION);
    if (end || c->req.cart_clear) {
        if (c->head_len == 0 || c->req.status != status)
            edge_resp_begin (c, status);
        if (end)
            s_clear_cookies (c);
        else
            s_cart_cookie (c);
    }
    edge_resp_error (c, status, code, message);
}

static void
s_bus_error (edge_conn_t *c, const vbus_reply_t *reply)
{
    int http = edge_status_http (reply->status);
    if (http == 429) {
        edge_resp_begin (c, 429);
        edge_resp_header (c, "Retry-After: 1");
    }
    else if (http == 503 || http == 504) {
        edge_resp_begin (c, http);
        edge_resp_header (c, "Retry-After: 1");
    }
    s_error (c, http, verr_name (reply->status),
             reply->message && *reply->message ? reply->message : verr_str (reply->status));
}

//  ---------------------------------------------------------------- replies

static void
s_reply_json (edge_conn_t *c, const vbus_reply_t *reply)
{
    const edge_route_t *route = c->req.route;
    const vmsg_method_t *m = s_method (c);
    vbuf_t *json = &c->server->json;
    char err[256];
    vbuf_reset (json);
    if (vmsg_json_write (m->reply, reply->body, reply->body_len, c->arena, json, err, sizeof err)) {
        vbus_log ('W', WHO, "%s.%s reply does not match its schema: %s (rid=%s)", route->service,
                  route->bus_method, err, c->req.rid);
        s_error (c, 500, NULL, "the service answered something unexpected");
        return;
    }
    int status = route->flags & EDGE_ROUTE_CREATED ? 201 : 200;
    edge_resp_begin (c, status);
    //  Carts and orders are one person's and change under them: never from a cache.
    if ((route->flags & EDGE_ROUTE_NO_QUERY_LOG) || route->role != VMSG_ROLE_PUBLIC
        || (route->key && route->key[0] == '@'))
        edge_resp_header (c, "Cache-Control: no-store");
    s_cart_cookie (c);
    edge_resp_send (c, "application/json", json->data, json->len);
}

static int64_t
s_max_age (int64_t expires_ms)
{
    int64_t left = (expires_ms - vbus_now_ms ()) / 1000;
    return left > 0 ? left : 0;
}

//  auth.tokens: the cookies, and the body with or without the tokens (X-Session: cookie).
static void
s_reply_session (edge_conn_t *c, const vbus_reply_t *reply)
{
    const vmsg_method_t *m = s_method (c);
    const vmsg_value_t *v;
    char err[256];
    if (vmsg_decode (m->reply, reply->body, reply->body_len, c->arena, &v, err, sizeof err)) {
        vbus_log ('W', WHO, "auth.tokens reply does not match its schema: %s", err);
        s_error (c, 500, NULL, "the service answered something unexpected");
        return;
    }
    size_t len;
    const char *mode = edge_parse_header (&c->parse, "x-session", &len);
    bool cookie_only = mode && len == 6 && strncasecmp (mode, "cookie", 6) == 0;
    vbuf_t *json = &c->server->json;
    vbuf_reset (json);
    int rc;
    if (cookie_only) {
        //  A browser session: the tokens live only in HttpOnly cookies, out of scripts' reach.
        char head[128];
        int n = snprintf (head, sizeof head,
                          "{\"expires_at\":%lld,\"refresh_expires_at\":%lld,\"user\":",
                          (long long) vmsg_int (v, "expires_at", 0),
                          (long long) vmsg_int (v, "refresh_expires_at", 0));
        vbuf_append (json, head, (size_t) n);
        rc = vmsg_json_value (vmsg_get (v, "user"), json, NULL, 0);
        vbuf_append (json, "}", 1);
    }
    else
        rc = vmsg_json_value (v, json, NULL, 0);
    if (rc || json->failed) {
        s_error (c, 500, NULL, "out of memory");
        return;
    }
    edge_resp_begin (c, 200);
    edge_resp_header (c, "Cache-Control: no-store");
    edge_resp_header (c,
                      "Set-Cookie: " EDGE_COOKIE_ACCESS
                      "=%s; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=%lld",
                      vmsg_str (v, "access_token"),
                      (long long) s_max_age (vmsg_int (v, "expires_at", 0)));
    edge_resp_header (c,
                      "Set-Cookie: " EDGE_COOKIE_REFRESH
                      "=%s; Path=/api/v1/auth; HttpOnly; Secure; SameSite=Strict; Max-Age=%lld",
                      vmsg_str (v, "refresh_token"),
                      (long long) s_max_age (vmsg_int (v, "refresh_expires_at", 0)));
    edge_resp_send (c, "application/json", json->data, json->len);
}

static void
s_reply_frame (edge_conn_t *c, const vbus_reply_t *reply)
{
    const vmsg_method_t *m = s_method (c);
    const vmsg_value_t *v;
    char err[256];
    if (vmsg_decode (m->reply, reply->body, reply->body_len, c->arena, &v, err, sizeof err)) {
        vbus_log ('W', WHO, "render.frame reply does not match its schema: %s", err);
        s_error (c, 500, NULL, "the renderer answered something unexpected");
        return;
    }
    const char *etag = vmsg_str (v, "etag");
    const char *scene = vmsg_str (v, "scene_hash");
    size_t jpeg_len = 0;
    const void *jpeg = vmsg_bytes (v, "jpeg", &jpeg_len);
    //  A URL that names the scene's hash can never show other bytes: cache it for good.
    bool immutable = c->req.frame_v && scene && strcmp (c->req.frame_v, scene) == 0;
    size_t inm_len;
    const char *inm = edge_parse_header (&c->parse, "if-none-match", &inm_len);
    bool fresh = vmsg_bool (v, "not_modified", false)
                 || (inm && etag && edge_etag_match (inm, inm_len, etag));
    if (!fresh && !jpeg) {
        s_error (c, 500, NULL, "the renderer sent no image");
        return;
    }
    edge_resp_begin (c, fresh ? 304 : 200);
    if (etag)
        edge_resp_header (c, "ETag: %s", etag);
    edge_resp_header (c, "Cache-Control: %s",
                      immutable ? "public, max-age=31536000, immutable" : "public, max-age=60");
    edge_resp_send (c, fresh ? NULL : "image/jpeg", jpeg, fresh ? 0 : jpeg_len);
}

static void
s_reply_page (edge_conn_t *c, const vbus_reply_t *reply)
{
    edge_server_t *s = c->server;
    const vmsg_method_t *m = s_method (c);
    const vmsg_value_t *v;
    char err[256];
    const edge_file_t *tpl = NULL;
    if (!s->www || edge_static_get (s->www, "/product.html", 13, &tpl) != 0) {
        s_error (c, 500, NULL, "the storefront has no product template (www/product.html)");
        return;
    }
    vbuf_t *json = &s->json;
    vbuf_reset (json);
    if (vmsg_decode (m->reply, reply->body, reply->body_len, c->arena, &v, err, sizeof err)
        || vmsg_json_value (v, json, NULL, 0)) {
        vbus_log ('W', WHO, "catalog.get reply does not match its schema: %s", err);
        s_error (c, 500, NULL, "the catalog answered something unexpected");
        return;
    }
    s_event_viewed (c, v);
    vbuf_t page;
    vbuf_init (&page, NULL, 0);
    int rc = edge_page_product (tpl->data, tpl->len, v, json->data, json->len, &page);
    if (rc || page.failed) {
        vbuf_free (&page);
        s_error (c, 500, NULL, "out of memory");
        return;
    }
    edge_resp_begin (c, 200);
    edge_resp_header (c, "Cache-Control: no-cache");
    if (!c->req.identified && c->server->pub) {
        //  The anonymous session goes on for 30 minutes from the last product page.
        edge_resp_header (c, "Set-Cookie: " EDGE_COOKIE_SESSION
                             "=%s; Path=/; Max-Age=1800; HttpOnly; SameSite=Lax",
                          s_session (c));
    }
    edge_resp_send (c, "text/html; charset=utf-8", page.data, page.len);
    vbuf_free (&page);
}

static void
s_reply_ready (edge_conn_t *c, const vbus_reply_t *reply)
{
    const edge_config_t *cfg = c->server->cfg;
    char body[2048];
    size_t n = 0;
    const vmsg_value_t *v = NULL;
    bool broker =
        reply->status == VE_OK
        && vmsg_decode (s_method (c)->reply, reply->body, reply->body_len, c->arena, &v, NULL, 0)
               == 0;
    bool ready = broker;
    n += (size_t) snprintf (body + n, sizeof body - n, "{\"broker\":%s,\"services\":{",
                            broker ? "true" : "false");
    const vmsg_value_t *services = vmsg_get (v, "services");
    for (int i = 0; i < cfg->nready; i++) {
        uint64_t workers = 0;
        for (uint32_t j = 0; j < vmsg_count (services); j++) {
            const vmsg_value_t *svc = vmsg_at (services, j);
            const char *name = vmsg_str (svc, "name");
            if (name && strcmp (name, cfg->ready[i]) == 0)
                workers = vmsg_uint (svc, "workers", 0);
        }
        ready &= workers > 0;
        n += (size_t) snprintf (body + n, sizeof body - n, "%s\"%s\":%llu", i ? "," : "",
                                cfg->ready[i], (unsigned long long) workers);
    }
    n += (size_t) snprintf (body + n, sizeof body - n, "},\"ready\":%s}", ready ? "true" : "false");
    edge_resp_begin (c, ready ? 200 : 503);
    edge_resp_header (c, "Cache-Control: no-store");
    edge_resp_send (c, "application/json", body, n);
}

static void s_call (edge_conn_t *c);
static void s_step_reply (edge_conn_t *c, const vbus_reply_t *reply);

void
edge_api_reply (edge_conn_t *c, const vbus_reply_t *reply)
{
    unsigned flags = c->req.route->flags;
    if (c->req.step)
        s_step_reply (c, reply);
    else if (flags & EDGE_ROUTE_READY)
        s_reply_ready (c, reply);
    else if (reply->status != VE_OK) {
        if ((flags & EDGE_ROUTE_PAGE) && reply->status == VE_NOT_FOUND)
            edge_resp_error (c, 404, NULL, "no such product");
        else
            s_bus_error (c, reply);
    }
    else if (flags & EDGE_ROUTE_SESSION)
        s_reply_session (c, reply);
    else if (flags & EDGE_ROUTE_FRAME)
        s_reply_frame (c, reply);
    else if (flags & EDGE_ROUTE_PAGE)
        s_reply_page (c, reply);
    else if (flags & EDGE_ROUTE_NO_CONTENT) {
        edge_resp_begin (c, 204);
        if (flags & EDGE_ROUTE_END_SESSION)
            s_clear_cookies (c);
        edge_resp_send (c, NULL, NULL, 0);
    }
    else {
        if (strcmp (c->req.route->bus_method, "search") == 0 && !c->req.head_only)
            s_event_searched (c, reply);
        s_reply_json (c, reply);
    }
}

//  ---------------------------------------------------------------- requests

//  partition: explicit partition routing when >= 0 (then key is NULL).
static void
s_send_to (edge_conn_t *c, const char *service, const char *method, const vbuf_t *body,
           const char *key, int partition, const vbus_caller_t *caller, int timeout_ms,
           vbus_reply_fn *on_reply)
{
    edge_server_t *s = c->server;
    vbus_opts_t opts = { .key = key,
                         .timeout_ms = timeout_ms ? timeout_ms : (int) s->cfg->bus_timeout_ms,
                         .trace_id = c->req.rid,
                         .caller = caller,
                         .to_partition = partition >= 0,
                         .partition = partition >= 0 ? (uint32_t) partition : 0 };
    int rc =
        vbus_client_send (s->bus, service, method, body->data, body->len, &opts, on_reply, c, NULL);
    if (rc) {
        vbus_log ('W', WHO, "cannot send %s.%s: %s (rid=%s)", service, method, verr_str (rc),
                  c->req.rid);
        edge_resp_begin (c, 503);
        edge_resp_header (c, "Retry-After: 1");
        s_error (c, 503, verr_name (VE_UNAVAILABLE), "the platform cannot take this request now");
        return;
    }
    c->bus_pending = true;
    s->bus_dirty = true;  //  also when sent from a reply's callback: dispatch before sleeping
}

static void
s_send (edge_conn_t *c, const char *service, const char *method, const vbuf_t *body,
        const char *key, const vbus_caller_t *caller, int timeout_ms, vbus_reply_fn *on_reply)
{
    s_send_to (c, service, method, body, key, -1, caller, timeout_ms, on_reply);
}

static void
s_ready (edge_conn_t *c, vbus_reply_fn *on_reply)
{
    static const vbus_caller_t edge = { "edge", VBUS_ROLE_SERVICE };
    vbuf_t empty;
    vbuf_init (&empty, NULL, 0);
    long t = c->server->cfg->bus_timeout_ms;
    s_send (c, "broker", "services", &empty, NULL, &edge, t < 2000 ? (int) t : 2000, on_reply);
}

static bool
s_json_type (const edge_conn_t *c)
{
    size_t len;
    const char *type = edge_parse_header (&c->parse, "content-type", &len);
    if (!type || len < 16 || strncasecmp (type, "application/json", 16) != 0)
        return false;
    return len == 16 || type[16] == ';' || type[16] == ' ';
}

//  Parses a frame parameter: a finite number within bounds. Returns 0, 1 (absent), -1 (bad).
static int
s_frame_number (const char *q, size_t qlen, const char *name, double lo, double hi, double *out)
{
    size_t len;
    const char *raw = edge_query_get (q, qlen, name, &len);
    if (!raw)
        return 1;
    char text[32];
    if (len == 0 || len >= sizeof text)
        return -1;
    memcpy (text, raw, len);
    text[len] = 0;
    char *end;
    *out = strtod (text, &end);
    return *end || !isfinite (*out) || *out < lo || *out > hi || isspace ((unsigned char) text[0])
               ? -1
               : 0;
}

static bool
s_hash_text_ok (const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char) s[i]))
            return false;
    return true;
}

//  The frame route: a non-canonical view answers 302 to its canonical URL (one cache entry
//  per view everywhere: browser, CDN, the render cache); a canonical one goes to render.frame.
static void
s_frame (edge_conn_t *c, const vmsg_method_t *m, vbus_reply_fn *on_reply)
{
    edge_req_t *r = &c->req;
    static const struct {
        const char *name;
        double lo, hi, dflt;
    } params[] = { { "yaw", -1e6, 1e6, 0 },
                   { "pitch", -90, 90, VVIEW_PITCH_RING },
                   { "zoom", 0, 100, 1 },
                   { "w", 0, 8192, VVIEW_SIZE_DEFAULT },
                   { "h", 0, 8192, VVIEW_SIZE_DEFAULT },
                   { "quality", 0, 100, 0 } };
    double value[6];
    bool missing = false;
    for (int i = 0; i < 6; i++) {
        int rc = s_frame_number (r->query, r->query_len, params[i].name, params[i].lo, params[i].hi,
                                 &value[i]);
        if (rc < 0) {
            char why[96];
            snprintf (why, sizeof why, "%s: expected a number from %g to %g", params[i].name,
                      params[i].lo, params[i].hi);
            s_error (c, 400, NULL, why);
            return;
        }
        if (rc == 1) {
            value[i] = params[i].dflt;
            missing |= i < 5;  //  quality may be left out: its default is canonical
        }
    }
    vview_t view;
    vview_snap (value[0], value[1], value[2], lround (value[3]), lround (value[4]),
                lround (value[5]), &view);
    char canon[96];
    vview_query (&view, canon, sizeof canon);
    //  Canonical = the query, less v, is exactly the canonical one: same values, same order.
    char asked[512];
    size_t alen = 0;
    const char *q = r->query, *name, *val, *v = NULL;
    size_t qlen = r->query_len, nlen, vlen, v_len = 0;
    bool fits = true;
    while (edge_query_next (&q, &qlen, &name, &nlen, &val, &vlen)) {
        if (nlen == 1 && name[0] == 'v') {
            v = val;
            v_len = vlen;
            continue;
        }
        size_t part = nlen + (vlen || val > name + nlen ? 1 + vlen : 0);
        if (alen + part + 1 >= sizeof asked) {
            fits = false;
            break;
        }
        if (alen)
            asked[alen++] = '&';
        memcpy (asked + alen, name, part);
        alen += part;
    }
    asked[alen] = 0;
    bool v_ok = v && s_hash_text_ok (v, v_len);
    if (missing || !fits || strcmp (asked, canon) != 0) {
        const edge_param_t *id = &r->params[0];
        char location[512];
        snprintf (location, sizeof location, "/api/v1/products/%.*s/frame?%s%s%.*s", (int) id->len,
                  id->value, canon, v_ok ? "&v=" : "", v_ok ? (int) v_len : 0, v_ok ? v : "");
        edge_resp_begin (c, 302);
        edge_resp_header (c, "Location: %s", location);
        edge_resp_header (c, "Cache-Control: public, max-age=86400");
        edge_resp_send (c, NULL, NULL, 0);
        return;
    }
    if (v_ok)
        r->frame_v = varena_strndup (c->arena, v, v_len);
    edge_extra_t extra[2];
    int nextra = 0;
    size_t inm_len, purpose_len;
    const char *inm = edge_parse_header (&c->parse, "if-none-match", &inm_len);
    if (inm && inm_len <= 66)
        extra[nextra++] =
            (edge_extra_t) { "if_none_match", varena_strndup (c->arena, inm, inm_len), true };
    //  "Purpose: prefetch" (the viewer's guesses ahead of a drag): rendered after the frames
    //  shoppers wait for. A header, not a query parameter: the URL, and so every cache's entry,
    //  stays the canonical one.
    const char *purpose = edge_parse_header (&c->parse, "purpose", &purpose_len);
    if (purpose && purpose_len == 8 && strncasecmp (purpose, "prefetch", 8) == 0)
        extra[nextra++] = (edge_extra_t) { "prefetch", "true", true };
    char err[256];
    char storage[512];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    int rc = edge_route_request (m->request, r->params, r->nparams, r->query, r->query_len, NULL, 0,
                                 extra, nextra, c->arena, &body, err, sizeof err);
    if (rc) {
        vbuf_free (&body);
        s_error (c, rc == -VE_NOMEM ? 500 : 400, NULL, err);
        return;
    }
    //  The partition key is the product id: the path parameter, decoded as edge_route_request
    //  decoded it into the body's "id" (which it accepted, so it decodes), rather than read
    //  back out of the body just packed.
    const edge_param_t *id = &r->params[0];
    char *key = varena_alloc (c->arena, id->len + 1);
    if (key && edge_url_decode (id->value, id->len, false, key) < 0)
        key = NULL;
    s_send (c, c->req.route->service, c->req.route->bus_method, &body, key, NULL, 0, on_reply);
    vbuf_free (&body);
}

//  The partition key of a call: a request field (emails folded; an order id's owner), the
//  caller's id, or the caller's cart.
static const char *
s_key (edge_conn_t *c, const vbuf_t *body)
{
    const edge_route_t *route = c->req.route;
    if (!route->key || strcmp (route->key, EDGE_KEY_PARTITION) == 0)
        return NULL;
    if (strcmp (route->key, EDGE_KEY_CALLER) == 0)
        return c->req.identified ? c->req.claims.user_id : NULL;
    if (strcmp (route->key, EDGE_KEY_CART) == 0)
        return c->req.cart_id;
    const char *value = edge_route_field (body->data, body->len, route->key, c->arena);
    if (!value || strlen (value) > VBUS_MAX_KEY + 16)
        return NULL;
    if (route->flags & EDGE_ROUTE_KEY_OWNER) {
        //  "<user id>.<12 characters>": the order lives in its owner's partition.
        const char *dot = strrchr (value, '.');
        return dot && dot > value ? varena_strndup (c->arena, value, (size_t) (dot - value))
                                  : value;
    }
    if (strlen (value) > VBUS_MAX_KEY)
        return NULL;
    if (!(route->flags & EDGE_ROUTE_KEY_FOLD))
        return value;
    //  auth keys accounts by the normalised address: trimmed, lowercase.
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen (value);
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    char *folded = varena_strndup (c->arena, value, len);
    for (char *p = folded; p && *p; p++)
        *p = (char) tolower ((unsigned char) *p);
    return folded;
}

//  A guest cart id as cart.new_guest makes them: "g:" and 22 url-safe characters. Anything
//  else in the cookie is not a cart (the cookie is cleared).
static bool
s_guest_id_ok (const char *s, size_t len)
{
    if (len != 24 || s[0] != 'g' || s[1] != ':')
        return false;
    for (size_t i = 2; i < len; i++)
        if (!isalnum ((unsigned char) s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

//  The partition of an EDGE_KEY_PARTITION row: ?partition=N (default 0). -1 when malformed.
static int
s_partition (const edge_req_t *r)
{
    size_t len;
    const char *raw = edge_query_get (r->query, r->query_len, "partition", &len);
    if (!raw)
        return 0;
    int n = 0;
    if (len == 0 || len > 4)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] < '0' || raw[i] > '9')
            return -1;
        n = n * 10 + (raw[i] - '0');
    }
    return n < VBUS_MAX_PARTITIONS ? n : -1;
}

//  The row's own call: the request body from the parameters, the JSON body and the extras the
//  edge sets, then one bus call. Runs from edge_api_handle, or from the reply of a first call
//  (cart.new_guest, cart.merge) — the request's path, headers and body are still there.
static void
s_call (edge_conn_t *c)
{
    edge_req_t *r = &c->req;
    const edge_route_t *route = r->route;
    const vmsg_method_t *m = s_method (c);
    size_t clen = 0;
    const char *cookie = edge_parse_header (&c->parse, "cookie", &clen);
    const vbuf_t *raw = &c->parse.body;
    edge_extra_t extras[4];
    int nextras = 0;
    if (route->flags & EDGE_ROUTE_CLIENT_ADDR)
        extras[nextras++] = (edge_extra_t) { "client_addr", c->addr_text, true };
    size_t rlen;
    const char *refresh = cookie && (route->flags & EDGE_ROUTE_COOKIE_REFRESH)
                              ? edge_cookie (cookie, clen, EDGE_COOKIE_REFRESH, &rlen)
                              : NULL;
    if (refresh && rlen)
        extras[nextras++] =
            (edge_extra_t) { "refresh_token", varena_strndup (c->arena, refresh, rlen), false };
    if (r->cart_id)
        extras[nextras++] = (edge_extra_t) { "cart_id", r->cart_id, true };
    if (route->flags & EDGE_ROUTE_IDEMPOTENCY) {
        size_t ilen;
        const char *idem = edge_parse_header (&c->parse, "idempotency-key", &ilen);
        bool ok = idem && ilen >= 1 && ilen <= 128;
        for (size_t i = 0; ok && i < ilen; i++)
            ok = idem[i] > ' ' && idem[i] < 0x7f;
        if (!ok) {
            s_error (c, 400, NULL,
                     "Idempotency-Key: send a header of 1 to 128 visible characters (the same "
                     "key again answers the same order)");
            return;
        }
        extras[nextras++] =
            (edge_extra_t) { "idempotency_key", varena_strndup (c->arena, idem, ilen), true };
    }
    int partition = -1;
    if (route->key && strcmp (route->key, EDGE_KEY_PARTITION) == 0
        && (partition = s_partition (r)) < 0) {
        s_error (c, 400, NULL, "partition: expected a partition number from 0");
        return;
    }
    char err[256];
    char storage[1024];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    int rc = edge_route_request (m->request, r->params, r->nparams, r->query, r->query_len,
                                 (route->flags & EDGE_ROUTE_BODY) ? raw->data : NULL,
                                 (route->flags & EDGE_ROUTE_BODY) ? raw->len : 0, extras, nextras,
                                 c->arena, &body, err, sizeof err);
    if (rc) {
        vbuf_free (&body);
        if (route->flags & EDGE_ROUTE_PAGE)
            edge_resp_error (c, 404, NULL, "no such product");
        else
            s_error (c, rc == -VE_NOMEM ? 500 : 400, NULL, err);
        return;
    }
    vbus_caller_t caller = { r->claims.user_id, r->claims.roles };
    s_send_to (c, route->service, route->bus_method, &body, s_key (c, &body), partition,
               r->identified ? &caller : NULL, 0, r->on_reply);
    vbuf_free (&body);
}

//  The reply of a cart row's first call: a new guest cart (its id goes into the cookie), or a
//  merge (the cookie goes, unless the cart actor could not be asked: then the next call tries
//  again). Then the row's own call.
static void
s_step_reply (edge_conn_t *c, const vbus_reply_t *reply)
{
    edge_req_t *r = &c->req;
    int step = r->step;
    r->step = 0;
    if (step == EDGE_STEP_GUEST) {
        const vmsg_method_t *m = vmsg_method_find ("cart", "new_guest");
        const vmsg_value_t *v = NULL;
        if (reply->status != VE_OK) {
            s_bus_error (c, reply);
            return;
        }
        const char *id =
            m && vmsg_decode (m->reply, reply->body, reply->body_len, c->arena, &v, NULL, 0) == 0
                ? vmsg_str (v, "cart_id")
                : NULL;
        if (!id || !s_guest_id_ok (id, strlen (id))) {
            s_error (c, 500, NULL, "the cart service answered something unexpected");
            return;
        }
        r->cart_id = r->cart_set = id;
    }
    else if (step == EDGE_STEP_MERGE) {
        int st = reply->status;
        r->cart_clear = !(st == VE_UNAVAILABLE || st == VE_TIMEOUT || st == VE_BUSY);
        if (st != VE_OK)
            vbus_log ('W', WHO, "cart.merge: %s (rid=%s)",
                      reply->message && *reply->message ? reply->message : verr_str (st), r->rid);
    }
    s_call (c);
}

//  A cart row: the caller's cart. Signed in: u:<user id>, after merging a guest cart the
//  cookie still names; a guest: the cookie's cart, or a new one from cart.new_guest.
static void
s_cart (edge_conn_t *c)
{
    edge_req_t *r = &c->req;
    size_t clen = 0, glen = 0;
    const char *cookie = edge_parse_header (&c->parse, "cookie", &clen);
    const char *guest = cookie ? edge_cookie (cookie, clen, EDGE_COOKIE_CART, &glen) : NULL;
    if (guest && !s_guest_id_ok (guest, glen)) {
        guest = NULL;
        r->cart_clear = true;
    }
    static const vbus_caller_t edge = { "edge", VBUS_ROLE_SERVICE };
    vbuf_t body;
    char storage[256];
    vbuf_init (&body, storage, sizeof storage);
    if (r->identified) {
        size_t n = strlen (r->claims.user_id);
        char *id = varena_alloc (c->arena, n + 3);
        if (!id) {
            s_error (c, 500, NULL, "out of memory");
            return;
        }
        memcpy (id, "u:", 2);
        memcpy (id + 2, r->claims.user_id, n + 1);
        r->cart_id = id;
        if (!guest) {
            s_call (c);
            return;
        }
        msgpack_packer pk;
        vmp_packer_init (&pk, &body);
        msgpack_pack_map (&pk, 2);
        vmp_pack_kstr (&pk, "cart_id", id);
        vmp_pack_cstr (&pk, "guest_cart_id");
        msgpack_pack_str (&pk, glen);
        msgpack_pack_str_body (&pk, guest, glen);
        vbus_caller_t caller = { r->claims.user_id, r->claims.roles };
        r->step = EDGE_STEP_MERGE;
        s_send (c, "cart", "merge", &body, id, &caller, 0, r->on_reply);
    }
    else if (guest) {
        r->cart_id = varena_strndup (c->arena, guest, glen);
        s_call (c);
    }
    else {
        msgpack_packer pk;
        vmp_packer_init (&pk, &body);
        msgpack_pack_map (&pk, 0);
        r->step = EDGE_STEP_GUEST;
        s_send (c, "cart", "new_guest", &body, NULL, &edge, 0, r->on_reply);
    }
    vbuf_free (&body);
}

void
edge_api_handle (edge_conn_t *c, vbus_reply_fn *on_reply)
{
    edge_server_t *s = c->server;
    edge_req_t *r = &c->req;
    const edge_route_t *route = r->route;
    const vmsg_method_t *m = s_method (c);
    r->on_reply = on_reply;
    if (route->flags & EDGE_ROUTE_READY) {
        s_ready (c, on_reply);
        return;
    }
    if (!m && !(route->flags & EDGE_ROUTE_LIVE)) {
        vbus_log ('E', WHO, "route %s %s names no schema %s.%s", route->method, route->pattern,
                  route->domain, route->bus_method);
        s_error (c, 500, NULL, "this route is misconfigured");
        return;
    }
    size_t alen = 0, clen = 0, tlen = 0;
    const char *authz = edge_parse_header (&c->parse, "authorization", &alen);
    const char *cookie = edge_parse_header (&c->parse, "cookie", &clen);
    const char *token = edge_ident_token (authz, alen, cookie, clen, &tlen);
    const char *why;
    int status = edge_ident_check (&s->cfg->key, token, tlen, vbus_now_ms (), route->role,
                                   &r->claims, &r->identified, &why);
    if (status == 401 && (route->flags & EDGE_ROUTE_ANON_EMPTY)) {
        //  "Who is signed in?" — nobody: an answer, not an error.
        edge_resp_begin (c, 204);
        edge_resp_header (c, "Cache-Control: no-store");
        edge_resp_send (c, NULL, NULL, 0);
        return;
    }
    if (status) {
        edge_resp_begin (c, status);
        if (status == 401)
            edge_resp_header (c, "WWW-Authenticate: Bearer");
        s_error (c, status, NULL, why);
        return;
    }
    if (route->flags & EDGE_ROUTE_LIVE) {
        //  The dashboard's stream: the last event at once, then each one as it comes.
        edge_resp_begin (c, 200);
        if (!s->live_sub) {
            s_error (c, 503, verr_name (VE_UNAVAILABLE), "this edge cannot follow analytics.live");
            return;
        }
        if (r->head_only) {
            edge_resp_send (c, "text/event-stream", NULL, 0);
            return;
        }
        EDGE_RESP_PUTS (c, "X-Accel-Buffering: no\r\n");
        static const char hello[] = "retry: 2000\n\n";
        vbuf_t *first = &s->json;
        vbuf_reset (first);
        vbuf_append (first, hello, sizeof hello - 1);
        vbuf_append (first, s->live_last.data, s->live_last.len);
        edge_resp_stream (c, first->data, first->len);
        return;
    }
    const vbuf_t *raw = &c->parse.body;
    if (route->flags & EDGE_ROUTE_BODY && raw->len && !s_json_type (c)) {
        s_error (c, 415, NULL, "send the body as application/json");
        return;
    }
    if (route->flags & EDGE_ROUTE_FRAME) {
        s_frame (c, m, on_reply);
        return;
    }
    if (route->key && strcmp (route->key, EDGE_KEY_CART) == 0)
        s_cart (c);
    else
        s_call (c);
}
