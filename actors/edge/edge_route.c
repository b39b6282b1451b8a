//  edge_route.c — the route table and the conversions around it (see edge_route.h).
#include "edge_route.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUBLIC    VMSG_ROLE_PUBLIC
#define SIGNED_IN (VMSG_ROLE_CUSTOMER | VMSG_ROLE_ADMIN)
#define CUSTOMER  VMSG_ROLE_CUSTOMER
#define ADMIN     VMSG_ROLE_ADMIN
#define STAFF     (VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE)  //  what inventory's writers need
#define READERS   (VMSG_ROLE_CUSTOMER | VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE)
#define AUTH_ROW  (EDGE_ROUTE_BODY | EDGE_ROUTE_NO_QUERY_LOG)
#define BODY      EDGE_ROUTE_BODY
#define CART      EDGE_KEY_CART
#define OWNER     EDGE_ROUTE_KEY_OWNER
#define BY_PART   EDGE_KEY_PARTITION

// clang-format off
const edge_route_t edge_routes[] = {
    { "POST", "/api/v1/auth/register", "auth", "register", "auth", PUBLIC, "email",
      AUTH_ROW | EDGE_ROUTE_STRICT | EDGE_ROUTE_CREATED | EDGE_ROUTE_KEY_FOLD,
      "Create a customer account" },
    { "POST", "/api/v1/auth/login", "auth", "login", "auth", PUBLIC, "email",
      AUTH_ROW | EDGE_ROUTE_STRICT | EDGE_ROUTE_CLIENT_ADDR | EDGE_ROUTE_SESSION
          | EDGE_ROUTE_KEY_FOLD,
      "Sign in: tokens in the body, and session cookies" },
    { "POST", "/api/v1/auth/refresh", "auth", "refresh", "auth", PUBLIC, "refresh_token",
      AUTH_ROW | EDGE_ROUTE_CLIENT_ADDR | EDGE_ROUTE_SESSION | EDGE_ROUTE_COOKIE_REFRESH,
      "Exchange a refresh token (body or vt_refresh cookie) for a new pair" },
    { "POST", "/api/v1/auth/logout", "auth", "logout", "auth", PUBLIC, "refresh_token",
      AUTH_ROW | EDGE_ROUTE_END_SESSION | EDGE_ROUTE_COOKIE_REFRESH | EDGE_ROUTE_NO_CONTENT,
      "End the session and clear the cookies" },
    { "GET", "/api/v1/auth/me", "auth", "me", "auth", SIGNED_IN, EDGE_KEY_CALLER,
      EDGE_ROUTE_NO_QUERY_LOG, "The signed-in user" },
    { "GET", "/api/v1/auth/session", "auth", "me", "auth", SIGNED_IN, EDGE_KEY_CALLER,
      EDGE_ROUTE_NO_QUERY_LOG | EDGE_ROUTE_ANON_EMPTY,
      "The signed-in user, or 204 when nobody is (pages ask this: no 401 to log)" },
    { "GET", "/api/v1/categories", "catalog-read", "categories", "catalog", PUBLIC, NULL, 0,
      "The category tree with product counts" },
    { "GET", "/api/v1/products", "catalog-read", "list", "catalog", PUBLIC, NULL, 0,
      "A page of a category's products" },
    { "GET", "/api/v1/products/{id}", "catalog-read", "get", "catalog", PUBLIC, NULL, 0,
      "One product" },
    { "GET", "/api/v1/search", "catalog-read", "search", "catalog", PUBLIC, NULL, 0,
      "Full-text search with filters, facets, sort and paging" },
    { "GET", "/api/v1/suggest", "catalog-read", "suggest", "catalog", PUBLIC, NULL, 0,
      "Suggestions for the search box: completions and products, matched parts marked" },
    { "GET", "/api/v1/products/{id}/frame", "render", "frame", "render", PUBLIC, "id",
      EDGE_ROUTE_FRAME, "A JPEG view of the product's 3D scene" },
    { "GET", "/products/{id}", "catalog-read", "get", "catalog", PUBLIC, NULL, EDGE_ROUTE_PAGE,
      "The product page (HTML)" },
    { "GET", "/api/v1/stock/{sku}", "inventory", "get", "inventory", PUBLIC, "sku", 0,
      "A SKU's stock (the product page's \"only 3 left\")" },

    //  The cart: the caller's own (signed in: u:<user id>; a guest: the vt_cart cookie's).
    { "GET", "/api/v1/cart", "cart", "get", "cart", PUBLIC, CART, 0,
      "The caller's cart, priced now" },
    { "DELETE", "/api/v1/cart", "cart", "clear", "cart", PUBLIC, CART, 0, "Empty the cart" },
    { "POST", "/api/v1/cart/items", "cart", "add", "cart", PUBLIC, CART, BODY,
      "Add units of a product to the cart" },
    { "PUT", "/api/v1/cart/items/{product_id}", "cart", "set_qty", "cart", PUBLIC, CART, BODY,
      "Set a line's quantity (0 removes it)" },
    { "DELETE", "/api/v1/cart/items/{product_id}", "cart", "remove", "cart", PUBLIC, CART, 0,
      "Remove a line" },

    //  Orders: the signed-in customer's own, keyed by their user id.
    { "POST", "/api/v1/checkout", "orders", "checkout", "orders", CUSTOMER, EDGE_KEY_CALLER,
      BODY | EDGE_ROUTE_IDEMPOTENCY,
      "Buy the cart (Idempotency-Key header: the same key answers the same order)" },
    { "GET", "/api/v1/orders", "orders", "list", "orders", CUSTOMER, EDGE_KEY_CALLER, 0,
      "The caller's orders, newest first, paged" },
    { "GET", "/api/v1/orders/{order_id}", "orders", "get", "orders", READERS, "order_id", OWNER,
      "One order" },
    { "POST", "/api/v1/orders/{order_id}/cancel", "orders", "cancel", "orders", READERS,
      "order_id", BODY | OWNER,
      "Cancel a confirmed, unshipped order: refunded in full, stock restored (admins: any)" },

    //  Recommendations (recommend answers product ids and scores; pages fetch the products).
    { "GET", "/api/v1/products/{product_id}/bought-together", "recommend", "bought_together",
      "recommend", PUBLIC, NULL, 0, "Products often bought with this one" },
    { "GET", "/api/v1/products/{product_id}/also-viewed", "recommend", "also_viewed", "recommend",
      PUBLIC, NULL, 0, "Products viewed in the same sessions as this one" },
    { "GET", "/api/v1/recommendations/trending", "recommend", "trending", "recommend", PUBLIC,
      NULL, 0, "What is popular now (category optional)" },
    { "GET", "/api/v1/recommendations/for-me", "recommend", "for_user", "recommend", CUSTOMER,
      EDGE_KEY_CALLER, 0, "Picks for the signed-in shopper" },

    //  Admin: the edge asks for the method's own role, and the actor checks it again.
    { "POST", "/api/v1/admin/products", "catalog", "create", "catalog", ADMIN, NULL,
      BODY | EDGE_ROUTE_CREATED, "Create a product" },
    { "POST", "/api/v1/admin/products/{id}", "catalog", "update", "catalog", ADMIN, NULL, BODY,
      "Change a product's fields" },
    { "POST", "/api/v1/admin/products/{id}/archive", "catalog", "archive", "catalog", ADMIN, NULL,
      BODY, "Archive a product" },
    { "GET", "/api/v1/admin/products/{id}/scene", "catalog", "get_scene", "catalog", STAFF, NULL,
      EDGE_ROUTE_NO_QUERY_LOG, "A product's scene document (msgpack, base64 in JSON)" },
    { "POST", "/api/v1/admin/products/{id}/scene", "catalog", "put_scene", "catalog", ADMIN, NULL,
      BODY, "Replace a product's scene document" },
    { "GET", "/api/v1/admin/stock/low", "inventory", "list_low", "inventory", STAFF, BY_PART, 0,
      "One inventory partition's SKUs at or below their threshold" },
    { "POST", "/api/v1/admin/stock/{sku}/restock", "inventory", "restock", "inventory", STAFF,
      "sku", BODY, "Receive units into stock" },
    { "POST", "/api/v1/admin/stock/{sku}/adjust", "inventory", "adjust", "inventory", STAFF, "sku",
      BODY, "Correct on-hand stock" },
    { "POST", "/api/v1/admin/stock/{sku}/threshold", "inventory", "set_threshold", "inventory",
      STAFF, "sku", BODY, "Set a SKU's low-stock threshold" },
    { "GET", "/api/v1/admin/orders", "orders", "list_by_state", "orders", STAFF, BY_PART, 0,
      "One orders partition's orders in a state, oldest first" },
    { "POST", "/api/v1/admin/orders/{order_id}/ship", "orders", "ship", "orders", ADMIN,
      "order_id", BODY | OWNER, "Mark a confirmed order shipped" },
    { "GET", "/api/v1/admin/analytics/live", NULL, NULL, "analytics", STAFF, NULL,
      EDGE_ROUTE_LIVE | EDGE_ROUTE_NO_QUERY_LOG,
      "Server-sent events: each analytics.live event (once a second) as it comes" },
    { "GET", "/api/v1/admin/analytics/summary", "analytics", "summary", "analytics", STAFF, NULL,
      0, "Counters per minute, hour or day over a time range" },
    { "GET", "/api/v1/admin/analytics/funnel", "analytics", "funnel", "analytics", STAFF, NULL, 0,
      "The conversion funnel over a window" },
    { "GET", "/api/v1/admin/analytics/top", "analytics", "top", "analytics", STAFF, NULL, 0,
      "Top products over a sliding window" },
    { "GET", "/api/v1/admin/analytics/low-stock", "analytics", "low_stock", "analytics", STAFF,
      NULL, 0, "SKUs sold out or low" },
    { "GET", "/api/v1/admin/analytics/searches", "analytics", "searches", "analytics", STAFF,
      NULL, 0, "The searches with results shoppers run most (decayed counts)" },
    { "POST", "/api/v1/admin/orders/{order_id}/deliver", "orders", "deliver", "orders", ADMIN,
      "order_id", BODY | OWNER, "Mark a shipped order delivered" },
    { "GET", "/healthz", NULL, NULL, NULL, PUBLIC, NULL, EDGE_ROUTE_HEALTH,
      "The process is up" },
    { "GET", "/readyz", "broker", "services", "broker", PUBLIC, NULL, EDGE_ROUTE_READY,
      "The broker answers and the required services have workers" },
    { 0 }
};
// clang-format on

//  ---------------------------------------------------------------- matching

//  Matches one pattern against a path; fills params. True on a match.
//  It walks the pattern and the raw path together, byte by byte, with no allocation and no
//  copy: a {field} takes everything up to the next '/' (never empty, so "/products//frame"
//  does not match), and percent escapes are left for the schema conversion to decode per
//  parameter, so an escaped "/" inside an id cannot split a segment. edge_route_match tries
//  every row in table order (a few dozen rows: a linear walk beats any index), returns the first
//  whose method matches (HEAD is served by GET rows), and remembers which other methods matched
//  the path, so that a miss can answer 405 with the Allow header HTTP requires, not 404.
static bool
s_match (const char *pattern, const char *path, size_t len, edge_param_t *params, int *nparams)
{
    const char *p = pattern, *s = path, *end = path + len;
    int n = 0;
    while (*p && s < end) {
        if (*p == '{') {
            const char *close = strchr (p, '}');
            const char *slash = memchr (s, '/', (size_t) (end - s));
            const char *stop = slash ? slash : end;
            if (!close || stop == s || n == EDGE_MAX_PARAMS)
                return false;  //  a parameter is never empty
            params[n++] = (edge_param_t) { .name = p + 1,
                                           .name_len = (size_t) (close - p - 1),
                                           .value = s,
                                           .len = (size_t) (stop - s) };
            p = close + 1;
            s = stop;
        }
        else if (*p++ != *s++)
            return false;
    }
    if (*p || s != end)
        return false;
    *nparams = n;
    return true;
}

const edge_route_t *
edge_route_match (const char *method, const char *path, size_t len, edge_param_t *params,
                  int *nparams, char *allow, size_t allow_size)
{
    static const char *const names[] = { "GET", "POST", "PUT", "DELETE" };
    bool head = strcmp (method, "HEAD") == 0;
    unsigned seen = 0;
    edge_param_t scratch[EDGE_MAX_PARAMS];
    int n;
    if (allow && allow_size)
        allow[0] = 0;
    for (const edge_route_t *r = edge_routes; r->method; r++) {
        if (!s_match (r->pattern, path, len, scratch, &n))
            continue;
        if (strcmp (r->method, method) == 0 || (head && strcmp (r->method, "GET") == 0)) {
            memcpy (params, scratch, sizeof scratch[0] * (size_t) n);
            *nparams = n;
            return r;
        }
        for (unsigned i = 0; i < 4; i++)
            seen |= strcmp (r->method, names[i]) == 0 ? 1u << i : 0;
    }
    size_t at = 0;
    for (unsigned i = 0; i < 4 && allow && allow_size; i++)
        if (seen & 1u << i) {
            int n = snprintf (allow + at, allow_size - at, "%s%s%s", at ? ", " : "", names[i],
                              i == 0 ? ", HEAD" : "");
            if (n < 0 || (size_t) n >= allow_size - at)
                break;
            at += (size_t) n;
        }
    return NULL;
}

const vmsg_method_t *
edge_route_method (const edge_route_t *route)
{
    return route->service ? vmsg_method_find (route->domain, route->bus_method) : NULL;
}

bool
edge_route_edge_field (const edge_route_t *route, const char *name)
{
    return (route->key && strcmp (route->key, EDGE_KEY_CART) == 0 && strcmp (name, "cart_id") == 0)
           || ((route->flags & EDGE_ROUTE_IDEMPOTENCY) && strcmp (name, "idempotency_key") == 0);
}

//  ---------------------------------------------------------------- URL text

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long
edge_url_decode (const char *in, size_t len, bool plus, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len || s_hex (in[i + 1]) < 0 || s_hex (in[i + 2]) < 0)
                return -1;
            out[n++] = (char) (s_hex (in[i + 1]) << 4 | s_hex (in[i + 2]));
            i += 2;
        }
        else
            out[n++] = plus && c == '+' ? ' ' : c;
    }
    out[n] = 0;
    return (long) n;
}

bool
edge_utf8_ok (const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s, *end = p + len;
    while (p < end) {
        unsigned c = *p++;
        if (c == 0)
            return false;
        if (c < 0x80)
            continue;
        int more;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf)
            more = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            more = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            more = 3, cp = c & 0x07;
        else
            return false;  //  continuation byte, overlong lead, or beyond U+10FFFF
        if (end - p < more)
            return false;
        for (int i = 0; i < more; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        p += more;
        if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
    }
    return true;
}

bool
edge_query_next (const char **q, size_t *qlen, const char **name, size_t *name_len,
                 const char **value, size_t *value_len)
{
    while (*qlen) {
        const char *amp = memchr (*q, '&', *qlen);
        size_t part = amp ? (size_t) (amp - *q) : *qlen;
        const char *p = *q;
        *q += amp ? part + 1 : part;
        *qlen -= amp ? part + 1 : part;
        if (part == 0)
            continue;  //  "a=1&&b=2"
        const char *eq = memchr (p, '=', part);
        *name = p;
        *name_len = eq ? (size_t) (eq - p) : part;
        *value = eq ? eq + 1 : p + part;
        *value_len = eq ? part - *name_len - 1 : 0;
        return true;
    }
    return false;
}

const char *
edge_query_get (const char *q, size_t qlen, const char *name, size_t *len)
{
    const char *n, *v;
    size_t nl, vl, want = strlen (name);
    while (edge_query_next (&q, &qlen, &n, &nl, &v, &vl))
        if (nl == want && memcmp (n, name, nl) == 0) {
            if (len)
                *len = vl;
            return v;
        }
    return NULL;
}

//  ---------------------------------------------------------------- building requests

//  One parameter converted to its field's type.
typedef struct {
    const vmsg_field_t *field;
    const char *text;  //  decoded, NUL-terminated
    size_t len;
    union {
        int64_t i;
        uint64_t u;
        double f;
        bool b;
    } v;
} s_value_t;

static const vmsg_field_t *
s_field (const vmsg_schema_t *schema, const char *name, size_t len)
{
    for (const vmsg_field_t *f = schema->fields; f->name; f++)
        if (strlen (f->name) == len && memcmp (f->name, name, len) == 0)
            return f;
    return NULL;
}

static int
s_bad (char *err, size_t errlen, const char *fmt, const char *name, size_t name_len,
       const char *detail)
{
    if (err && errlen)
        snprintf (err, errlen, fmt, (int) name_len, name, detail);
    return -VE_BAD_REQUEST;
}

//  Decodes and converts raw text for field f. Returns 0 or -VE_BAD_REQUEST naming it.
static int
s_convert (const vmsg_field_t *f, const char *raw, size_t len, bool plus, varena_t *arena,
           s_value_t *out, char *err, size_t errlen)
{
    size_t nl = strlen (f->name);
    char *text = varena_alloc (arena, len + 1);
    if (!text)
        return -VE_NOMEM;
    long n = edge_url_decode (raw, len, plus, text);
    if (n < 0)
        return s_bad (err, errlen, "%.*s: %s", f->name, nl, "malformed percent escape");
    if (!edge_utf8_ok (text, (size_t) n))
        return s_bad (err, errlen, "%.*s: %s", f->name, nl, "not valid UTF-8");
    *out = (s_value_t) { .field = f, .text = text, .len = (size_t) n };
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case VMSG_STR: return 0;
    case VMSG_INT:
        out->v.i = strtoll (text, &end, 10);
        if (!n || *end || errno || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')))
            return s_bad (err, errlen, "%.*s: %s", f->name, nl, "expected an integer");
        return 0;
    case VMSG_UINT:
        out->v.u = strtoull (text, &end, 10);
        if (!n || *end || errno || !(text[0] >= '0' && text[0] <= '9'))
            return s_bad (err, errlen, "%.*s: %s", f->name, nl, "expected a non-negative integer");
        return 0;
    case VMSG_FLOAT:
        out->v.f = strtod (text, &end);
        if (!n || *end || errno || !isfinite (out->v.f) || text[0] == ' ')
            return s_bad (err, errlen, "%.*s: %s", f->name, nl, "expected a number");
        return 0;
    case VMSG_BOOL:
        if (strcmp (text, "true") == 0 || strcmp (text, "1") == 0)
            out->v.b = true;
        else if (strcmp (text, "false") == 0 || strcmp (text, "0") == 0)
            out->v.b = false;
        else
            return s_bad (err, errlen, "%.*s: %s", f->name, nl, "expected true or false");
        return 0;
    default: return s_bad (err, errlen, "%.*s: %s", f->name, nl, "cannot be given in the URL");
    }
}

static int
s_pack_value (msgpack_packer *pk, const s_value_t *v)
{
    int rc = msgpack_pack_str (pk, strlen (v->field->name))
             || msgpack_pack_str_body (pk, v->field->name, strlen (v->field->name));
    switch (v->field->type) {
    case VMSG_INT: rc |= msgpack_pack_int64 (pk, v->v.i); break;
    case VMSG_UINT: rc |= msgpack_pack_uint64 (pk, v->v.u); break;
    case VMSG_FLOAT: rc |= msgpack_pack_double (pk, v->v.f); break;
    case VMSG_BOOL: rc |= v->v.b ? msgpack_pack_true (pk) : msgpack_pack_false (pk); break;
    default:
        rc |= msgpack_pack_str (pk, v->len) || msgpack_pack_str_body (pk, v->text, v->len);
        break;
    }
    return rc ? -VE_NOMEM : 0;
}

static json_t *
s_json_value (const s_value_t *v)
{
    switch (v->field->type) {
    case VMSG_INT: return json_integer (v->v.i);
    case VMSG_UINT: return json_integer ((json_int_t) v->v.u);
    case VMSG_FLOAT: return json_real (v->v.f);
    case VMSG_BOOL: return json_boolean (v->v.b);
    default: return json_stringn (v->text, v->len);
    }
}

#define S_MAX_VALUES 32

//  Path params, then query params (first of each name; a repeated name is refused); unknown
//  names are skipped. Fills values (up to S_MAX_VALUES).
static int
s_collect (const vmsg_schema_t *schema, const edge_param_t *params, int nparams, const char *query,
           size_t query_len, varena_t *arena, s_value_t *values, int *count, char *err,
           size_t errlen)
{
    int n = 0, rc;
    for (int i = 0; i < nparams; i++) {
        const vmsg_field_t *f = s_field (schema, params[i].name, params[i].name_len);
        if (!f)
            continue;
        if ((rc = s_convert (f, params[i].value, params[i].len, false, arena, &values[n], err,
                             errlen)))
            return rc;
        n++;
    }
    int path_count = n;
    const char *name, *value;
    size_t name_len, value_len;
    while (edge_query_next (&query, &query_len, &name, &name_len, &value, &value_len)) {
        const vmsg_field_t *f = s_field (schema, name, name_len);
        if (!f)
            continue;  //  unknown parameters are ignored (cache busters, tracking)
        bool seen = false;
        for (int i = 0; i < n; i++)
            if (values[i].field == f) {
                if (i >= path_count)
                    return s_bad (err, errlen, "%.*s: %s", name, name_len, "given twice");
                seen = true;  //  the path's value wins
            }
        if (seen)
            continue;
        if (n == S_MAX_VALUES)
            return s_bad (err, errlen, "%.*s: %s", name, name_len, "too many parameters");
        if ((rc = s_convert (f, value, value_len, true, arena, &values[n], err, errlen)))
            return rc;
        n++;
    }
    *count = n;
    return 0;
}

//  The body's JSON object with the URL's values and the extras set into it, as text.
static int
s_merge_body (const vmsg_schema_t *schema, const char *body, size_t body_len,
              const s_value_t *values, int n, const edge_extra_t *extras, int nextras, char **text,
              char *err, size_t errlen)
{
    if (!vmsg_json_depth_ok (body, body_len, EDGE_JSON_DEPTH)) {
        snprintf (err, errlen, "JSON nested deeper than %d levels", EDGE_JSON_DEPTH);
        return -VE_BAD_REQUEST;
    }
    json_error_t jerr;
    json_t *root = json_loadb (body, body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        //  jansson refuses bad UTF-8 too; its message says so.
        snprintf (err, errlen, "bad JSON at line %d column %d: %s", jerr.line, jerr.column,
                  jerr.text);
        return -VE_BAD_REQUEST;
    }
    if (!json_is_object (root)) {
        json_decref (root);
        snprintf (err, errlen, "expected a JSON object");
        return -VE_BAD_REQUEST;
    }
    for (int i = 0; i < n; i++)
        json_object_set_new (root, values[i].field->name, s_json_value (&values[i]));
    for (int i = 0; i < nextras; i++) {
        if (!extras[i].override && json_object_get (root, extras[i].name))
            continue;
        //  A number or a flag is given as its JSON text ("true", "12"); the rest as a string.
        const vmsg_field_t *f = s_field (schema, extras[i].name, strlen (extras[i].name));
        json_t *v = f && f->type != VMSG_STR
                        ? json_loads (extras[i].value, JSON_DECODE_ANY, NULL)
                        : json_string (extras[i].value);
        json_object_set_new (root, extras[i].name, v ? v : json_null ());
    }
    *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    return *text ? 0 : -VE_NOMEM;
}

int
edge_route_request (const vmsg_schema_t *schema, const edge_param_t *params, int nparams,
                    const char *query, size_t query_len, const char *body, size_t body_len,
                    const edge_extra_t *extras, int nextras, varena_t *arena, vbuf_t *out,
                    char *err, size_t errlen)
{
    s_value_t values[S_MAX_VALUES];
    int n = 0;
    if (err && errlen)
        err[0] = 0;
    int rc = s_collect (schema, params, nparams, query, query_len, arena, values, &n, err, errlen);
    if (rc)
        return rc;
    bool has_body = false;
    for (size_t i = 0; body && i < body_len && !has_body; i++)
        has_body = !strchr (" \t\r\n", body[i]);
    if (has_body) {
        char *text = NULL;
        if ((rc = s_merge_body (schema, body, body_len, values, n, extras, nextras, &text, err, errlen)))
            return rc;
        rc = vmsg_json_to_msgpack (schema, text, strlen (text), out, err, errlen);
        free (text);
        return rc == -VE_NOMEM ? rc : rc ? -VE_BAD_REQUEST : 0;
    }
    //  No body: the map is packed directly (the hot path: GET with a few parameters). An
    //  extra replaces a parameter of the same name when it overrides, else gives way to it.
    for (int i = 0; i < nextras && n < S_MAX_VALUES; i++) {
        const vmsg_field_t *f = s_field (schema, extras[i].name, strlen (extras[i].name));
        int at = -1;
        for (int j = 0; j < n && f; j++)
            if (values[j].field == f)
                at = j;
        if (!f || !extras[i].value || (at >= 0 && !extras[i].override))
            continue;
        s_value_t *v = &values[at >= 0 ? at : n++];
        *v = (s_value_t) { .field = f, .text = extras[i].value, .len = strlen (extras[i].value) };
        //  A number or a flag ("true", "12") is converted as a URL parameter would be.
        if (f->type != VMSG_STR
            && (rc = s_convert (f, v->text, v->len, false, arena, v, err, errlen)) != 0)
            return rc;
    }
    size_t start = out->len;
    msgpack_packer pk;
    vmp_packer_init (&pk, out);
    msgpack_pack_map (&pk, (size_t) n);
    for (int i = 0; i < n && rc == 0; i++)
        rc = s_pack_value (&pk, &values[i]);
    if (rc || out->failed)
        return -VE_NOMEM;
    rc = vmsg_validate (schema, out->data + start, out->len - start, err, errlen);
    if (rc) {
        out->len = start;
        return rc == -VE_NOMEM ? rc : -VE_BAD_REQUEST;
    }
    return 0;
}

const char *
edge_route_field (const void *msgpack, size_t len, const char *name, varena_t *arena)
{
    const vmsg_value_t *v;
    if (vmsg_decode (NULL, msgpack, len, arena, &v, NULL, 0) != 0)
        return NULL;
    return vmsg_str (v, name);
}

//  ---------------------------------------------------------------- statuses

int
edge_status_http (int bus_status)
{
    switch (bus_status) {
    case VE_OK: return 200;
    case VE_BAD_REQUEST: return 400;
    case VE_UNAUTHORIZED: return 401;
    case VE_FORBIDDEN: return 403;
    case VE_NOT_FOUND: return 404;
    case VE_CONFLICT: return 409;
    case VE_BUSY: return 429;
    case VE_UNAVAILABLE: return 503;
    case VE_TIMEOUT: return 504;
    default: return 500;
    }
}

//  The error code of a response: where a bus status means the same thing its name comes from
//  verr.h (one list, one spelling: a 429 is "busy" whether the edge's limiter or an actor said
//  it); HTTP's own refusals, which no actor can give, have names of their own here.
#define S_VERR_(ve) verr_name (ve)
// clang-format off
#define EDGE_HTTP_MAP(X)                                                     \
    X (100, "Continue", "continue")                                          \
    X (200, "OK", S_VERR_ (VE_OK))                                           \
    X (201, "Created", "created")                                            \
    X (204, "No Content", "no_content")                                      \
    X (302, "Found", "found")                                                \
    X (304, "Not Modified", "not_modified")                                  \
    X (400, "Bad Request", S_VERR_ (VE_BAD_REQUEST))                         \
    X (401, "Unauthorized", S_VERR_ (VE_UNAUTHORIZED))                       \
    X (403, "Forbidden", S_VERR_ (VE_FORBIDDEN))                             \
    X (404, "Not Found", S_VERR_ (VE_NOT_FOUND))                             \
    X (405, "Method Not Allowed", "method_not_allowed")                      \
    X (408, "Request Timeout", "request_timeout")                            \
    X (409, "Conflict", S_VERR_ (VE_CONFLICT))                               \
    X (413, "Content Too Large", "payload_too_large")                        \
    X (415, "Unsupported Media Type", "unsupported_media_type")              \
    X (417, "Expectation Failed", "expectation_failed")                      \
    X (429, "Too Many Requests", S_VERR_ (VE_BUSY))                          \
    X (431, "Request Header Fields Too Large", "header_too_large")           \
    X (500, "Internal Server Error", S_VERR_ (VE_INTERNAL))                  \
    X (501, "Not Implemented", "not_implemented")                            \
    X (503, "Service Unavailable", S_VERR_ (VE_UNAVAILABLE))                 \
    X (504, "Gateway Timeout", S_VERR_ (VE_TIMEOUT))                         \
    X (505, "HTTP Version Not Supported", "version_not_supported")
// clang-format on

const char *
edge_status_reason (int http)
{
#define S_REASON_(code, reason, name)                                                              \
    case code: return reason;
    switch (http) {
        EDGE_HTTP_MAP (S_REASON_)
    }
#undef S_REASON_
    return "Unknown";
}

const char *
edge_status_code (int http)
{
#define S_CODE_(code, reason, name)                                                                \
    case code: return name;
    switch (http) {
        EDGE_HTTP_MAP (S_CODE_)
    }
#undef S_CODE_
    return "error";
}
