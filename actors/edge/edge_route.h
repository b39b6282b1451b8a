//  edge_route.h — the HTTP API as data: the route table (method, path pattern, bus service and
//  method, schema domain, required role, partition key, flags), matching a request to a row,
//  turning path and query parameters and JSON bodies into a request body through the method's
//  schema, and mapping bus statuses to HTTP. Nothing here is written per route: a route is a
//  row. docs/openapi.yaml is printed from the same rows (edge_openapi.c). Thread-safe (tables
//  are constant).
#ifndef EDGE_ROUTE_H
#define EDGE_ROUTE_H

#include "vmsg.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Row flags: what the edge does beyond "params and body in, JSON out".
#define EDGE_ROUTE_BODY        0x0001u  //  takes a JSON body (application/json, 415 otherwise)
#define EDGE_ROUTE_STRICT      0x0002u  //  also the stricter per-address limiter (rate_auth)
#define EDGE_ROUTE_CLIENT_ADDR 0x0004u  //  the edge sets client_addr to the peer's address
#define EDGE_ROUTE_SESSION     0x0008u  //  the reply is auth.tokens: set the session cookies
#define EDGE_ROUTE_END_SESSION 0x0010u  //  clears the session cookies
#define EDGE_ROUTE_COOKIE_REFRESH                                                                  \
    0x0020u  //  refresh_token from the vt_refresh cookie if not in the body
#define EDGE_ROUTE_FRAME        0x0040u   //  a JPEG frame: canonical views, ETag, caching
#define EDGE_ROUTE_PAGE         0x0080u   //  an HTML page from www/product.html
#define EDGE_ROUTE_HEALTH       0x0100u   //  /healthz: answered by the edge itself
#define EDGE_ROUTE_READY        0x0200u   //  /readyz: asks broker.services
#define EDGE_ROUTE_CREATED      0x0400u   //  201 on success
#define EDGE_ROUTE_NO_CONTENT   0x0800u   //  204 on success
#define EDGE_ROUTE_KEY_FOLD     0x1000u   //  the partition key is trimmed and lowercased (emails)
#define EDGE_ROUTE_NO_QUERY_LOG 0x2000u   //  the access log leaves out the query string
#define EDGE_ROUTE_KEY_OWNER    0x4000u   //  the key: the key field's text before its last '.'
#define EDGE_ROUTE_IDEMPOTENCY  0x8000u   //  idempotency_key from the Idempotency-Key header
#define EDGE_ROUTE_ANON_EMPTY   0x10000u  //  no valid token: the edge answers 204 itself
#define EDGE_ROUTE_LIVE         0x20000u  //  server-sent events: analytics.live as it comes
//  KEY_OWNER: an order id "<user id>.<12>" is keyed by its owner's id. IDEMPOTENCY: the header
//  is required (400 without it). ANON_EMPTY: a page asks "who is signed in?" without a 401.

#define EDGE_MAX_PARAMS 4  //  {name} segments in one pattern
//  Sources of a row's partition key other than a request field:
#define EDGE_KEY_CALLER "@user"  //  the verified caller's user id
//  The caller's cart, also set as the request's cart_id: "u:<user id>" when signed in, else the
//  guest cart of the vt_cart cookie (made with cart.new_guest when there is none, and merged into
//  the user's cart by cart.merge on the first cart call after sign-in; the cookie then goes).
#define EDGE_KEY_CART "@cart"
//  Explicit partition routing: the query parameter "partition" (default 0) names the partition
//  (methods that answer one partition's part, such as orders.list_by_state; a caller walks
//  0, 1, … until the broker answers 400 for a partition past the service's count).
#define EDGE_KEY_PARTITION "?partition"
#define EDGE_COOKIE_CART   "vt_cart"
//  An anonymous browsing session for analytics (views and searches, "also viewed"): 32 random
//  hex digits, HttpOnly, renewed for 30 minutes by each product page; nothing personal in it.
#define EDGE_COOKIE_SESSION "vt_sid"
#define EDGE_SESSION_HEX    32

typedef struct {
    const char *method;   //  GET, POST, PUT or DELETE (HEAD is served wherever GET is); NULL ends
    const char *pattern;  //  "/api/v1/products/{id}": literal segments and {field} ones
    const char *service;  //  bus service, NULL when the edge answers itself
    const char *bus_method;  //  method of that service
    const char *domain;      //  schema domain of the method (catalog-read serves "catalog")
    uint32_t role;           //  VMSG_ROLE_* the caller needs (PUBLIC: anyone)
    const char *key;      //  request field keying the call, EDGE_KEY_CALLER/CART/PARTITION, or NULL
    unsigned flags;       //  EDGE_ROUTE_*
    const char *summary;  //  one line for docs/openapi.yaml
} edge_route_t;

//  The table, ending with a row whose method is NULL.
extern const edge_route_t edge_routes[];

//  A path parameter: points into the request's path, still percent-encoded.
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t len;
} edge_param_t;

//  Finds the row for method and path (raw, before percent-decoding). Returns it and fills
//  params (nparams of them); NULL when none matches. When the path matches rows of other
//  methods only, allow gets their list ("GET, HEAD, POST, PUT, DELETE" order; for a 405) — ""
//  otherwise.
const edge_route_t *edge_route_match (const char *method, const char *path, size_t len,
                                      edge_param_t *params, int *nparams, char *allow,
                                      size_t allow_size);

//  The method's schema entry of a row with a service (vmsg_method_find (domain, bus_method)).
const vmsg_method_t *edge_route_method (const edge_route_t *route);

//  True when the edge itself sets the request field name on this row (cart_id from the cart
//  source, idempotency_key from its header): clients do not send it, the docs leave it out.
bool edge_route_edge_field (const edge_route_t *route, const char *name);

//  Decodes percent escapes (and '+' as a space when plus) of in[0..len) into out (room for
//  len + 1 bytes; NUL-terminated). Returns the decoded length, or -1 on a malformed escape.
long edge_url_decode (const char *in, size_t len, bool plus, char *out);
//  True when s[0..len) is well-formed UTF-8 without NUL bytes or overlong forms.
bool edge_utf8_ok (const char *s, size_t len);

//  Walks a query string: each call yields the next name and value (raw, still encoded).
//  Returns false at the end. *q and *qlen advance.
bool edge_query_next (const char **q, size_t *qlen, const char **name, size_t *name_len,
                      const char **value, size_t *value_len);
//  The raw value of the first query parameter called name; NULL when absent.
const char *edge_query_get (const char *q, size_t qlen, const char *name, size_t *len);

//  A field the edge sets itself (client_addr, a refresh token from a cookie, render.frame's
//  prefetch from a header): value is decoded text, for a number or a flag its text ("12",
//  "true"); override replaces what the client sent, else it only fills a gap.
typedef struct {
    const char *name;
    const char *value;
    bool override;
} edge_extra_t;

//  Builds the request body for schema: path params and query params converted by the type of
//  the schema field of the same name (str, int, uint, float, bool "true"/"false"/"1"/"0";
//  unknown query names are ignored), the JSON body's fields (body may be NULL/0), and extras;
//  path params win over the body and the query. The result is validated against schema.
//  Scratch memory comes from arena. Returns 0 and appends msgpack to out, or -VE_BAD_REQUEST
//  with a message naming the parameter or field in err; -VE_NOMEM.
int edge_route_request (const vmsg_schema_t *schema, const edge_param_t *params, int nparams,
                        const char *query, size_t query_len, const char *body, size_t body_len,
                        const edge_extra_t *extras, int nextras, varena_t *arena, vbuf_t *out,
                        char *err, size_t errlen);

//  Reads a field's value out of a msgpack request made by edge_route_request (a partition
//  key); NULL when absent or not a string. The string lives in arena.
const char *edge_route_field (const void *msgpack, size_t len, const char *name, varena_t *arena);

//  JSON nesting the edge accepts in a request body, before the schema looks at it.
#define EDGE_JSON_DEPTH 16

//  ---------------------------------------------------------------- statuses
//  The HTTP status for a bus status (VE_OK 200, bad_request 400, unauthorized 401, forbidden
//  403, not_found 404, conflict 409, busy 429, unavailable 503, timeout 504, anything else 500).
int edge_status_http (int bus_status);
//  The reason phrase of an HTTP status ("Not Found"); "Unknown" for codes we never send.
const char *edge_status_reason (int http);
//  The error code a JSON error body carries for an HTTP status the edge decides itself
//  ("method_not_allowed", "payload_too_large", ...); bus errors carry verr_name instead.
const char *edge_status_code (int http);

#endif
