//  edge_openapi.c — the OpenAPI document from the route table and the schemas (edge_openapi.h).
#include "edge_openapi.h"
#include "edge_route.h"
#include <stdarg.h>
#include <string.h>

#define MAX_SCHEMAS 64

typedef struct {
    FILE *out;
    const vmsg_schema_t *schemas[MAX_SCHEMAS];
    int nschemas;
    int failed;
} s_doc_t;

static void s_line (s_doc_t *d, int indent, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_line (s_doc_t *d, int indent, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    if (fprintf (d->out, "%*s", indent, "") < 0 || vfprintf (d->out, fmt, ap) < 0
        || fputc ('\n', d->out) == EOF)
        d->failed = 1;
    va_end (ap);
}

//  A YAML double-quoted scalar.
static const char *
s_quote (const char *s, char *buf, size_t size)
{
    size_t n = 0;
    buf[n++] = '"';
    for (; s && *s && n + 3 < size; s++) {
        if (*s == '"' || *s == '\\')
            buf[n++] = '\\';
        buf[n++] = *s;
    }
    buf[n++] = '"';
    buf[n] = 0;
    return buf;
}

//  "description: <text>", always quoted.
static void
s_desc (s_doc_t *d, int indent, const char *text)
{
    char q[1024];
    s_line (d, indent, "description: %s", s_quote (text, q, sizeof q));
}

static void
s_collect (s_doc_t *d, const vmsg_schema_t *schema)
{
    for (int i = 0; i < d->nschemas; i++)
        if (d->schemas[i] == schema)
            return;
    if (d->nschemas == MAX_SCHEMAS)
        return;
    d->schemas[d->nschemas++] = schema;
    for (const vmsg_field_t *f = schema->fields; f->name; f++)
        if (f->schema)
            s_collect (d, f->schema);
}

//  The JSON Schema of one value of type t (the field's limits where they apply).
static void
s_type (s_doc_t *d, int in, const vmsg_field_t *f, vmsg_type_t t)
{
    switch (t) {
    case VMSG_INT:
    case VMSG_UINT:
        s_line (d, in, "type: integer");
        s_line (d, in, "format: int64");
        if (f->has_min || t == VMSG_UINT)
            s_line (d, in, "minimum: %.0f", f->has_min ? f->min : 0);
        if (f->has_max)
            s_line (d, in, "maximum: %.0f", f->max);
        break;
    case VMSG_FLOAT:
        s_line (d, in, "type: number");
        //  Bounds of our schemas are whole numbers: written as such, YAML reads them as numbers.
        if (f->has_min)
            s_line (d, in, "minimum: %.0f", f->min);
        if (f->has_max)
            s_line (d, in, "maximum: %.0f", f->max);
        break;
    case VMSG_BOOL: s_line (d, in, "type: boolean"); break;
    case VMSG_STR:
    case VMSG_BYTES:
        s_line (d, in, "type: string");
        if (t == VMSG_BYTES)
            s_line (d, in, "format: byte");
        if (f->min_len)
            s_line (d, in, "minLength: %u", f->min_len);
        if (f->max_len)
            s_line (d, in, "maxLength: %u", f->max_len);
        for (const char *const *v = t == VMSG_STR ? f->values : NULL; v && *v; v++) {
            if (v == f->values)
                s_line (d, in, "enum:");
            s_line (d, in, "  - %s", *v);
        }
        break;
    case VMSG_ARRAY:
    case VMSG_MAP:
        s_line (d, in, "type: %s", t == VMSG_ARRAY ? "array" : "object");
        s_line (d, in, "%s:", t == VMSG_ARRAY ? "items" : "additionalProperties");
        s_type (d, in + 2, f, f->of);
        if (f->min_count)
            s_line (d, in, "%s: %u", t == VMSG_ARRAY ? "minItems" : "minProperties", f->min_count);
        if (f->max_count)
            s_line (d, in, "%s: %u", t == VMSG_ARRAY ? "maxItems" : "maxProperties", f->max_count);
        break;
    case VMSG_MSG: s_line (d, in, "$ref: '#/components/schemas/%s'", f->schema->name); break;
    case VMSG_ANY: s_line (d, in, "nullable: true"); break;  //  no type: any value
    }
}

static void
s_schema (s_doc_t *d, const vmsg_schema_t *schema)
{
    char q[1024];
    s_line (d, 4, "%s:", schema->name);
    s_line (d, 6, "type: object");
    if (schema->doc)
        s_line (d, 6, "description: %s", s_quote (schema->doc, q, sizeof q));
    int required = 0;
    for (const vmsg_field_t *f = schema->fields; f->name; f++)
        required += f->required;
    if (required) {
        s_line (d, 6, "required:");
        for (const vmsg_field_t *f = schema->fields; f->name; f++)
            if (f->required)
                s_line (d, 8, "- %s", f->name);
    }
    if (!schema->fields->name) {
        s_line (d, 6, "properties: {}");
        return;
    }
    s_line (d, 6, "properties:");
    for (const vmsg_field_t *f = schema->fields; f->name; f++) {
        s_line (d, 8, "%s:", f->name);
        if (f->type == VMSG_MSG) {
            //  A $ref cannot carry a description beside it in OpenAPI 3.0: wrap it.
            s_line (d, 10, "allOf:");
            s_line (d, 12, "- $ref: '#/components/schemas/%s'", f->schema->name);
        }
        else
            s_type (d, 10, f, f->type);
        if (f->doc)
            s_line (d, 10, "description: %s", s_quote (f->doc, q, sizeof q));
    }
}

static bool
s_is_path_param (const edge_route_t *r, const char *name)
{
    char want[64];
    snprintf (want, sizeof want, "{%s}", name);
    return strstr (r->pattern, want) != NULL;
}

static void
s_parameters (s_doc_t *d, const edge_route_t *r, const vmsg_method_t *m)
{
    char q[1024];
    bool by_partition = r->key && strcmp (r->key, EDGE_KEY_PARTITION) == 0;
    bool any = strchr (r->pattern, '{') || by_partition || (r->flags & EDGE_ROUTE_IDEMPOTENCY);
    for (const vmsg_field_t *f = m && !(r->flags & EDGE_ROUTE_BODY) ? m->request->fields : NULL;
         f && f->name; f++)
        any |= !edge_route_edge_field (r, f->name);
    if (!any && !(r->flags & EDGE_ROUTE_FRAME))
        return;
    s_line (d, 6, "parameters:");
    for (const vmsg_field_t *f = m ? m->request->fields : NULL; f && f->name; f++) {
        bool path = s_is_path_param (r, f->name);
        if (!path
            && ((r->flags & EDGE_ROUTE_BODY) || strcmp (f->name, "if_none_match") == 0
                || edge_route_edge_field (r, f->name)))
            continue;  //  a body field, or filled by the edge (from a header, a cookie)
        s_line (d, 8, "- name: %s", f->name);
        s_line (d, 10, "in: %s", path ? "path" : "query");
        if (path || f->required)
            s_line (d, 10, "required: true");
        if (f->doc)
            s_line (d, 10, "description: %s", s_quote (f->doc, q, sizeof q));
        s_line (d, 10, "schema:");
        s_type (d, 12, f, f->type);
    }
    if (r->flags & EDGE_ROUTE_FRAME) {
        s_line (d, 8, "- name: v");
        s_line (d, 10, "in: query");
        s_line (d, 10, "description: %s",
                s_quote ("the scene hash the page knows; when it equals the frame's, the response "
                         "is cached for a year (immutable)",
                         q, sizeof q));
        s_line (d, 10, "schema:");
        s_line (d, 12, "type: string");
        s_line (d, 12, "maxLength: 64");
        s_line (d, 8, "- name: If-None-Match");
        s_line (d, 10, "in: header");
        s_desc (d, 10, "an ETag from an earlier response (304 when current)");
        s_line (d, 10, "schema:");
        s_line (d, 12, "type: string");
    }
    if (by_partition) {
        s_line (d, 8, "- name: partition");
        s_line (d, 10, "in: query");
        s_line (d, 10, "description: %s",
                s_quote ("the partition to ask (default 0); walk 0, 1, ... until a 400 says the "
                         "service has no such partition",
                         q, sizeof q));
        s_line (d, 10, "schema:");
        s_line (d, 12, "type: integer");
        s_line (d, 12, "minimum: 0");
    }
    if (r->flags & EDGE_ROUTE_IDEMPOTENCY) {
        s_line (d, 8, "- name: Idempotency-Key");
        s_line (d, 10, "in: header");
        s_line (d, 10, "required: true");
        s_line (d, 10, "description: %s",
                s_quote ("1 to 128 visible characters; the same key again answers the same "
                         "order",
                         q, sizeof q));
        s_line (d, 10, "schema:");
        s_line (d, 12, "type: string");
        s_line (d, 12, "maxLength: 128");
    }
    if (r->flags & EDGE_ROUTE_SESSION) {
        s_line (d, 8, "- name: X-Session");
        s_line (d, 10, "in: header");
        s_line (d, 10, "description: %s",
                s_quote ("'cookie': the tokens stay in the HttpOnly cookies and the body "
                         "carries only user, expires_at and refresh_expires_at",
                         q, sizeof q));
        s_line (d, 10, "schema:");
        s_line (d, 12, "type: string");
        s_line (d, 12, "enum: [cookie]");
    }
}

static void
s_error_responses (s_doc_t *d, const edge_route_t *r)
{
    static const int common[] = { 400, 429, 500, 503, 504 };
    int codes[12], n = 0;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        codes[n++] = common[i];
    if (r->role != VMSG_ROLE_PUBLIC) {
        codes[n++] = 401;
        codes[n++] = 403;
    }
    if (strchr (r->pattern, '{') || strcmp (r->bus_method ? r->bus_method : "", "list") == 0)
        codes[n++] = 404;
    if (strcmp (r->bus_method ? r->bus_method : "", "register") == 0)
        codes[n++] = 409;
    if (r->flags & EDGE_ROUTE_BODY) {
        codes[n++] = 413;
        codes[n++] = 415;
    }
    if (r->flags & EDGE_ROUTE_SESSION)
        codes[n++] = 401;
    //  In order, once each.
    for (int code = 400; code < 600; code++)
        for (int i = 0; i < n; i++)
            if (codes[i] == code) {
                s_line (d, 8, "\"%d\":", code);
                s_line (d, 10, "$ref: '#/components/responses/Error'");
                break;
            }
}

static void
s_operation (s_doc_t *d, const edge_route_t *r)
{
    char q[1024];
    const vmsg_method_t *m = edge_route_method (r);
    char lower[8];
    size_t i = 0;
    for (; r->method[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char) (r->method[i] | 0x20);
    lower[i] = 0;
    s_line (d, 4, "%s:", lower);
    if (r->flags & EDGE_ROUTE_PAGE)
        s_line (d, 6, "operationId: page.product");
    else if (r->flags & EDGE_ROUTE_LIVE)
        s_line (d, 6, "operationId: edge.analytics_live");
    else if (!r->service || (r->flags & EDGE_ROUTE_READY))
        s_line (d, 6, "operationId: edge.%s", r->flags & EDGE_ROUTE_READY ? "ready" : "health");
    else
        s_line (d, 6, "operationId: %s.%s", r->service, r->bus_method);
    s_line (d, 6, "summary: %s", s_quote (r->summary, q, sizeof q));
    if (m && m->doc && !(r->flags & (EDGE_ROUTE_READY | EDGE_ROUTE_PAGE)))
        s_line (d, 6, "description: %s", s_quote (m->doc, q, sizeof q));
    s_line (d, 6, "tags: [%s]", r->domain && !(r->flags & EDGE_ROUTE_READY) ? r->domain : "edge");
    if (r->role != VMSG_ROLE_PUBLIC) {
        s_line (d, 6, "security:");
        s_line (d, 8, "- bearer: []");
        s_line (d, 8, "- cookie: []");
    }
    s_parameters (d, r, (r->flags & EDGE_ROUTE_READY) ? NULL : m);
    if (r->flags & EDGE_ROUTE_BODY) {
        s_line (d, 6, "requestBody:");
        s_line (d, 8, "required: %s", r->flags & EDGE_ROUTE_COOKIE_REFRESH ? "false" : "true");
        if (r->flags & (EDGE_ROUTE_CLIENT_ADDR | EDGE_ROUTE_COOKIE_REFRESH))
            s_line (d, 8, "description: %s",
                    s_quote (r->flags & EDGE_ROUTE_COOKIE_REFRESH
                                 ? "refresh_token may come from the vt_refresh cookie instead; "
                                   "client_addr is set by the edge"
                                 : "client_addr is set by the edge (what a client sends is "
                                   "replaced)",
                             q, sizeof q));
        else if (r->key && strcmp (r->key, EDGE_KEY_CART) == 0)
            s_desc (d, 8, "cart_id is set by the edge: the caller's cart");
        else if (r->flags & EDGE_ROUTE_IDEMPOTENCY)
            s_desc (d, 8, "idempotency_key is set by the edge from the Idempotency-Key header");
        s_line (d, 8, "content:");
        s_line (d, 10, "application/json:");
        s_line (d, 12, "schema:");
        s_line (d, 14, "$ref: '#/components/schemas/%s'", m->request->name);
    }
    s_line (d, 6, "responses:");
    if (r->flags & EDGE_ROUTE_FRAME) {
        s_line (d, 8, "\"200\":");
        s_line (d, 10, "description: %s",
                s_quote ("the frame, with ETag and Cache-Control (immutable when v is the "
                         "scene hash)",
                         q, sizeof q));
        s_line (d, 10, "content:");
        s_line (d, 12, "image/jpeg:");
        s_line (d, 14, "schema:");
        s_line (d, 16, "type: string");
        s_line (d, 16, "format: binary");
        s_line (d, 8, "\"302\":");
        s_desc (d, 10, "not a canonical view; Location names the canonical URL");
        s_line (d, 8, "\"304\":");
        s_desc (d, 10, "If-None-Match names the current frame");
    }
    else if (r->flags & EDGE_ROUTE_LIVE) {
        s_line (d, 8, "\"200\":");
        s_desc (d, 10,
                "text/event-stream: the last analytics.live at once, then each one as it comes "
                "(data: the event as JSON, schema analytics.live); a client that does not keep "
                "up is closed and reconnects");
        s_line (d, 10, "content:");
        s_line (d, 12, "text/event-stream:");
        s_line (d, 14, "schema:");
        s_line (d, 16, "type: string");
    }
    else if (r->flags & EDGE_ROUTE_PAGE) {
        s_line (d, 8, "\"200\":");
        s_desc (d, 10, "www/product.html filled with the product");
        s_line (d, 10, "content:");
        s_line (d, 12, "text/html:");
        s_line (d, 14, "schema:");
        s_line (d, 16, "type: string");
    }
    else if (r->flags & (EDGE_ROUTE_HEALTH | EDGE_ROUTE_READY)) {
        s_line (d, 8, "\"200\":");
        s_desc (d, 10,
                r->flags & EDGE_ROUTE_HEALTH
                    ? "the process is up: {\"status\":\"ok\"}"
                    : "{\"broker\":true,\"services\":{\"auth\":1,...},\"ready\":true}");
        if (r->flags & EDGE_ROUTE_READY) {
            s_line (d, 8, "\"503\":");
            s_desc (d, 10, "the broker does not answer, or a required service has no worker");
        }
    }
    else if (r->flags & EDGE_ROUTE_ANON_EMPTY) {
        s_line (d, 8, "\"200\":");
        s_desc (d, 10, m->reply->doc);
        s_line (d, 10, "content:");
        s_line (d, 12, "application/json:");
        s_line (d, 14, "schema:");
        s_line (d, 16, "$ref: '#/components/schemas/%s'", m->reply->name);
        s_line (d, 8, "\"204\":");
        s_desc (d, 10, "nobody is signed in (no token, or not a valid one)");
    }
    else if (r->flags & EDGE_ROUTE_NO_CONTENT) {
        s_line (d, 8, "\"204\":");
        s_desc (d, 10,
                r->flags & EDGE_ROUTE_END_SESSION ? "done; the session cookies are cleared"
                                                  : "done");
    }
    else {
        s_line (d, 8, "\"%d\":", r->flags & EDGE_ROUTE_CREATED ? 201 : 200);
        s_line (d, 10, "description: %s",
                s_quote (r->flags & EDGE_ROUTE_SESSION
                             ? "signed in; Set-Cookie vt_access (Path=/) and vt_refresh "
                               "(Path=/api/v1/auth), HttpOnly, Secure, SameSite=Strict"
                             : m->reply->doc,
                         q, sizeof q));
        s_line (d, 10, "content:");
        s_line (d, 12, "application/json:");
        s_line (d, 14, "schema:");
        s_line (d, 16, "$ref: '#/components/schemas/%s'", m->reply->name);
    }
    if (!(r->flags & EDGE_ROUTE_HEALTH))
        s_error_responses (d, r);
}

int
edge_openapi_write (FILE *out)
{
    s_doc_t d = { .out = out };
    for (const edge_route_t *r = edge_routes; r->method; r++) {
        const vmsg_method_t *m = edge_route_method (r);
        if (m && !(r->flags & EDGE_ROUTE_READY)) {
            s_collect (&d, m->request);
            s_collect (&d, m->reply);
        }
    }
    s_line (&d, 0,
            "# docs/openapi.yaml — printed by `vitrine-edge --openapi` from the route "
            "table");
    s_line (&d, 0,
            "# (actors/edge/edge_route.c) and the message schemas (schemas/). Do not edit: "
            "regenerate.");
    s_line (&d, 0, "openapi: 3.0.3");
    s_line (&d, 0, "info:");
    s_line (&d, 2, "title: Vitrine HTTP API");
    s_line (&d, 2, "version: \"1\"");
    s_line (&d, 2, "description: >-");
    s_line (&d, 4,
            "The storefront's API, served by vitrine-edge (docs/edge.md). JSON in and "
            "out; every");
    s_line (&d, 4,
            "response carries X-Request-Id; errors are {\"error\": {\"code\", "
            "\"message\", \"request_id\"}}.");
    s_line (&d, 4,
            "Signed-in calls send the access token as \"Authorization: Bearer\" or the "
            "vt_access cookie.");
    s_line (&d, 0, "servers:");
    s_line (&d, 2, "- url: http://127.0.0.1:8080");
    s_line (&d, 0, "paths:");
    for (const edge_route_t *r = edge_routes; r->method; r++) {
        bool first = true;
        for (const edge_route_t *p = edge_routes; p < r && first; p++)
            first = strcmp (p->pattern, r->pattern) != 0;
        if (!first)
            continue;  //  printed with the first row of its pattern
        s_line (&d, 2, "%s:", r->pattern);
        for (const edge_route_t *o = r; o->method; o++)
            if (strcmp (o->pattern, r->pattern) == 0)
                s_operation (&d, o);
    }
    s_line (&d, 0, "components:");
    s_line (&d, 2, "securitySchemes:");
    s_line (&d, 4, "bearer:");
    s_line (&d, 6, "type: http");
    s_line (&d, 6, "scheme: bearer");
    s_line (&d, 4, "cookie:");
    s_line (&d, 6, "type: apiKey");
    s_line (&d, 6, "in: cookie");
    s_line (&d, 6, "name: vt_access");
    s_line (&d, 2, "responses:");
    s_line (&d, 4, "Error:");
    s_desc (&d, 6, "an error (docs/edge.md lists the codes)");
    s_line (&d, 6, "content:");
    s_line (&d, 8, "application/json:");
    s_line (&d, 10, "schema:");
    s_line (&d, 12, "$ref: '#/components/schemas/Error'");
    s_line (&d, 2, "schemas:");
    s_line (&d, 4, "Error:");
    s_line (&d, 6, "type: object");
    s_line (&d, 6, "required: [error]");
    s_line (&d, 6, "properties:");
    s_line (&d, 8, "error:");
    s_line (&d, 10, "type: object");
    s_line (&d, 10, "required: [code, message, request_id]");
    s_line (&d, 10, "properties:");
    s_line (&d, 12, "code:");
    s_line (&d, 14, "type: string");
    s_desc (&d, 14, "bad_request, unauthorized, not_found, busy, ... (docs/edge.md)");
    s_line (&d, 12, "message:");
    s_line (&d, 14, "type: string");
    s_desc (&d, 14, "for people; names the field or limit");
    s_line (&d, 12, "request_id:");
    s_line (&d, 14, "type: string");
    s_desc (&d, 14, "the X-Request-Id of the response");
    for (int i = 0; i < d.nschemas; i++)
        s_schema (&d, d.schemas[i]);
    return d.failed ? -VE_IO : 0;
}
