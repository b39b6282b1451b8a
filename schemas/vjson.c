//  vjson.c — JSON ⇄ MessagePack for the HTTP edge and vtctl, with jansson. JSON in: the schema
//  only says how to convert (numbers to int/uint/float, base64 to bytes); the limits are then
//  checked by vmsg_validate on the result, the same code that checks every other body. JSON out:
//  vmsg_decode builds the tree (validated), and the tree is written as JSON.
#include "vmsg_internal.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------- base64 (RFC 4648, padded)

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

//  Decodes in place-safe into out (at least len * 3 / 4 bytes); padding optional. Returns the
//  decoded length, or -1 when the text is not base64.
static long
s_base64_decode (const char *in, size_t len, unsigned char *out)
{
    while (len && in[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1;
    uint32_t v = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        const char *c = in[i] ? strchr (s_b64, in[i]) : NULL;
        if (!c)
            return -1;
        v = (v << 6) | (uint32_t) (c - s_b64);
        if (i % 4 == 3) {
            out[n++] = (unsigned char) (v >> 16);
            out[n++] = (unsigned char) (v >> 8);
            out[n++] = (unsigned char) v;
        }
    }
    if (len % 4 == 2)
        out[n++] = (unsigned char) (v >> 4);
    else if (len % 4 == 3) {
        out[n++] = (unsigned char) (v >> 10);
        out[n++] = (unsigned char) (v >> 2);
    }
    return (long) n;
}

//  ---------------------------------------------------------------- JSON in

typedef struct {
    msgpack_packer pk;
    vmsg__path_t path;
    char *err;
    size_t errlen;
} s_conv_t;

#define s_fail(c, code, ...) vmsg__fail ((c)->err, (c)->errlen, &(c)->path, code, __VA_ARGS__)
#define S_PK(call)           ((call) ? -VE_NOMEM : 0)

bool
vmsg_json_depth_ok (const char *text, size_t len, int max)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        }
        else if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max)
                return false;
        }
        else if (c == ']' || c == '}')
            depth--;
    }
    return true;
}

static const char *
s_json_type_name (const json_t *j)
{
    switch (json_typeof (j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "null";
    }
}

static int
s_pack_str (s_conv_t *c, const char *s, size_t len)
{
    return S_PK (msgpack_pack_str (&c->pk, len) || msgpack_pack_str_body (&c->pk, s, len));
}

//  Packs j as a value of `type` with field f (f NULL: the generic mapping).
static int
s_from_json (s_conv_t *c, const json_t *j, const vmsg_field_t *f, vmsg_type_t type)
{
    if (!f)
        type = VMSG_ANY;
    int rc = 0;
    switch (json_typeof (j)) {
    case JSON_OBJECT: {
        const vmsg_schema_t *schema = type == VMSG_MSG ? f->schema : NULL;
        const char *key;
        json_t *value;
        rc = S_PK (msgpack_pack_map (&c->pk, (uint32_t) json_object_size (j)));
        json_object_foreach ((json_t *) j, key, value)
        {
            size_t klen = strlen (key);
            const vmsg_field_t *ef = NULL;
            vmsg_type_t et = VMSG_ANY;
            if (schema && (ef = vmsg__field_find (schema, key, klen)))
                et = ef->type;
            else if (type == VMSG_MAP)
                ef = f, et = f->of;
            size_t mark = vmsg__path_key (&c->path, key, klen);
            if (rc == 0 && (rc = s_pack_str (c, key, klen)) == 0)
                rc = s_from_json (c, value, ef, et);
            vmsg__path_pop (&c->path, mark);
            if (rc)
                break;
        }
        return rc;
    }
    case JSON_ARRAY: {
        const vmsg_field_t *ef = type == VMSG_ARRAY ? f : NULL;
        size_t n = json_array_size (j);
        rc = S_PK (msgpack_pack_array (&c->pk, (uint32_t) n));
        for (size_t i = 0; i < n && rc == 0; i++) {
            size_t mark = vmsg__path_index (&c->path, (uint32_t) i);
            rc = s_from_json (c, json_array_get (j, i), ef, ef ? f->of : VMSG_ANY);
            vmsg__path_pop (&c->path, mark);
        }
        return rc;
    }
    case JSON_STRING: {
        const char *s = json_string_value (j);
        size_t len = json_string_length (j);
        if (type != VMSG_BYTES)
            return s_pack_str (c, s, len);
        unsigned char *bytes = malloc (len / 4 * 3 + 3);
        if (!bytes)
            return s_fail (c, -VE_NOMEM, "out of memory");
        long n = s_base64_decode (s, len, bytes);
        if (n < 0)
            rc = s_fail (c, -VE_TYPE, "not valid base64");
        else
            rc = S_PK (msgpack_pack_bin (&c->pk, (size_t) n)
                       || msgpack_pack_bin_body (&c->pk, bytes, (size_t) n));
        free (bytes);
        return rc;
    }
    case JSON_INTEGER:
        if (type == VMSG_FLOAT)
            return S_PK (msgpack_pack_double (&c->pk, (double) json_integer_value (j)));
        return S_PK (msgpack_pack_int64 (&c->pk, json_integer_value (j)));
    case JSON_REAL: {
        //  2.0 is a fine integer in JSON; 2.5 is left a float for the validator to refuse.
        double d = json_real_value (j);
        if ((type == VMSG_INT || type == VMSG_UINT) && d == floor (d)) {
            if (d >= -9223372036854775808.0 && d < 0)
                return S_PK (msgpack_pack_int64 (&c->pk, (int64_t) d));
            if (d >= 0 && d < 18446744073709551616.0)
                return S_PK (msgpack_pack_uint64 (&c->pk, (uint64_t) d));
        }
        return S_PK (msgpack_pack_double (&c->pk, d));
    }
    case JSON_TRUE: return S_PK (msgpack_pack_true (&c->pk));
    case JSON_FALSE: return S_PK (msgpack_pack_false (&c->pk));
    case JSON_NULL: return S_PK (msgpack_pack_nil (&c->pk));
    }
    return s_fail (c, -VE_INVAL, "unknown JSON value");
}

int
vmsg_json_to_msgpack (const vmsg_schema_t *schema, const char *json, size_t len, vbuf_t *out,
                      char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (len > VMSG_MAX_JSON)
        return vmsg__fail (err, errlen, NULL, -VE_TOOBIG, "JSON larger than %zu bytes",
                           VMSG_MAX_JSON);
    if (!vmsg_json_depth_ok (json, len, VMP_MAX_DEPTH))  //  jansson parses recursively
        return vmsg__fail (err, errlen, NULL, -VE_DEPTH, "JSON nested deeper than %d",
                           VMP_MAX_DEPTH);
    json_error_t jerr;
    json_t *root = json_loadb (json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return vmsg__fail (err, errlen, NULL, -VE_INVAL, "bad JSON at line %d column %d: %s",
                           jerr.line, jerr.column, jerr.text);
    s_conv_t c = { .err = err, .errlen = errlen };
    vmp_packer_init (&c.pk, out);
    vmsg_field_t top = { .type = VMSG_MSG, .schema = schema };
    size_t start = out->len;
    int rc;
    if (schema && !json_is_object (root))
        rc = s_fail (&c, -VE_TYPE, "expected object, got %s", s_json_type_name (root));
    else
        rc = s_from_json (&c, root, schema ? &top : NULL, top.type);
    json_decref (root);
    if (rc == 0 && out->failed)
        rc = s_fail (&c, -VE_NOMEM, "out of memory or too large");
    if (rc == 0)
        rc = vmsg_validate (schema, out->data + start, out->len - start, err, errlen);
    if (rc && !out->failed)
        out->len = start;
    return rc;
}

//  ---------------------------------------------------------------- JSON out
//  The tree is written straight into a buffer, compact, in jansson's formats (reals as "%.17g"
//  with ".0" when they would read as integers, bytes as padded base64, strings escaped as
//  jansson escapes them): no JSON object tree and no allocation per value, because the HTTP
//  edge does this for every reply. Pretty output re-indents the compact text with jansson.

static void
s_string (vbuf_t *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    vbuf_append (out, "\"", 1);
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        char esc[8];
        size_t n = 2;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c >= 0x20)
                continue;
            memcpy (esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        vbuf_append (out, s + from, i - from);
        vbuf_append (out, esc, n);
        from = i + 1;
    }
    vbuf_append (out, s + from, len - from);
    vbuf_append (out, "\"", 1);
}

static void
s_base64 (vbuf_t *out, const unsigned char *in, size_t len)
{
    char quad[4];
    vbuf_append (out, "\"", 1);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t) in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t) in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        quad[0] = s_b64[v >> 18];
        quad[1] = s_b64[(v >> 12) & 63];
        quad[2] = i + 1 < len ? s_b64[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < len ? s_b64[v & 63] : '=';
        vbuf_append (out, quad, 4);
    }
    vbuf_append (out, "\"", 1);
}

//  As jansson writes reals: 17 digits, ".0" when it would read as an integer, and the exponent
//  without '+' or leading zeros ("1e20", "1e-5").
static void
s_real (vbuf_t *out, double f)
{
    char text[48];
    int n = snprintf (text, sizeof text, "%.17g", f);
    if (!strchr (text, '.') && !strchr (text, 'e')) {
        memcpy (text + n, ".0", 3);
        n += 2;
    }
    char *e = strchr (text, 'e');
    if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove (start, end, (size_t) (text + n - end) + 1);
            n -= (int) (end - start);
        }
    }
    vbuf_append (out, text, (size_t) n);
}

static void
s_integer (vbuf_t *out, bool negative, uint64_t magnitude)
{
    char digits[24];
    int n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char) ('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (negative)
        digits[sizeof digits - 1 - n++] = '-';
    vbuf_append (out, digits + sizeof digits - n, (size_t) n);
}

static int
s_key_order (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

//  The first key of map v that appears twice, or NULL. Messages of a schema never have one (the
//  decoder refuses duplicate fields) but free maps may, and a JSON object cannot say which
//  value is meant. Small maps are compared pairwise; big ones sorted.
static const char *
s_duplicate_key (const vmsg_value_t *v)
{
    if (v->len <= 64) {
        for (uint32_t i = 1; i < v->len; i++)
            for (uint32_t j = 0; j < i; j++)
                if (strcmp (v->v.pairs[i].key, v->v.pairs[j].key) == 0)
                    return v->v.pairs[i].key;
        return NULL;
    }
    const char **keys = malloc (v->len * sizeof *keys);
    if (!keys)
        return NULL;
    for (uint32_t i = 0; i < v->len; i++)
        keys[i] = v->v.pairs[i].key;
    qsort (keys, v->len, sizeof *keys, s_key_order);
    const char *dup = NULL;
    for (uint32_t i = 1; i < v->len && !dup; i++)
        if (strcmp (keys[i], keys[i - 1]) == 0)
            dup = keys[i];
    free (keys);
    return dup;
}

static int
s_write (const vmsg_value_t *v, vbuf_t *out, vmsg__path_t *path, char *err, size_t errlen)
{
    switch (v->kind) {
    case VMP_NIL: vbuf_append (out, "null", 4); return 0;
    case VMP_BOOL: vbuf_append (out, v->v.b ? "true" : "false", v->v.b ? 4 : 5); return 0;
    case VMP_INT:
        s_integer (out, v->v.i < 0,
                   v->v.i < 0 ? (uint64_t) 0 - (uint64_t) v->v.i : (uint64_t) v->v.i);
        return 0;
    case VMP_UINT:
        if (v->v.u > (uint64_t) INT64_MAX)
            return vmsg__fail (err, errlen, path, -VE_RANGE, "integer above %lld has no JSON form",
                               (long long) INT64_MAX);
        s_integer (out, false, v->v.u);
        return 0;
    case VMP_FLOAT: s_real (out, v->v.f); return 0;
    case VMP_STR: s_string (out, v->v.s, v->len); return 0;
    case VMP_BIN: s_base64 (out, (const unsigned char *) v->v.s, v->len); return 0;
    case VMP_EXT:
        return vmsg__fail (err, errlen, path, -VE_TYPE, "ext type %d has no JSON form",
                           v->ext_type);
    case VMP_ARRAY:
    case VMP_MAP: {
        bool map = v->kind == VMP_MAP;
        const char *dup = map ? s_duplicate_key (v) : NULL;
        if (dup)
            return vmsg__fail (err, errlen, path, -VE_INVAL,
                               "duplicate key '%.32s' has no JSON form", dup);
        vbuf_append (out, map ? "{" : "[", 1);
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                vbuf_append (out, ",", 1);
            const char *key = map ? vmsg_key_at (v, i) : NULL;
            size_t klen = key ? strlen (key) : 0;
            if (key) {
                s_string (out, key, klen);
                vbuf_append (out, ":", 1);
            }
            size_t mark = key ? vmsg__path_key (path, key, klen) : vmsg__path_index (path, i);
            int rc = s_write (vmsg_at (v, i), out, path, err, errlen);
            vmsg__path_pop (path, mark);
            if (rc)
                return rc;
        }
        vbuf_append (out, map ? "}" : "]", 1);
        return 0;
    }
    }
    return vmsg__fail (err, errlen, path, -VE_TYPE, "unknown value kind");
}

int
vmsg_json_value (const vmsg_value_t *v, vbuf_t *out, char *err, size_t errlen)
{
    size_t start = out->len;
    vmsg__path_t path = { .len = 0 };
    path.buf[0] = 0;
    int rc = s_write (v, out, &path, err, errlen);
    if (rc == 0 && out->failed)
        rc = vmsg__fail (err, errlen, NULL, -VE_NOMEM, "out of memory");
    if (rc && !out->failed)
        out->len = start;
    return rc;
}

int
vmsg_json_write (const vmsg_schema_t *schema, const void *data, size_t len, varena_t *arena,
                 vbuf_t *out, char *err, size_t errlen)
{
    const vmsg_value_t *v;
    int rc = vmsg_decode (schema, data, len, arena, &v, err, errlen);
    return rc ? rc : vmsg_json_value (v, out, err, errlen);
}

char *
vmsg_msgpack_to_json (const vmsg_schema_t *schema, const void *data, size_t len, int flags,
                      char *err, size_t errlen)
{
    varena_t *arena = varena_new (len + 1024);
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    char *text = NULL;
    if (!arena)
        vmsg__fail (err, errlen, NULL, -VE_NOMEM, "out of memory");
    else if (vmsg_json_write (schema, data, len, arena, &out, err, errlen) == 0) {
        if (flags & VMSG_JSON_PRETTY) {
            json_t *j = json_loadb ((const char *) out.data, out.len, JSON_DECODE_ANY, NULL);
            text = j ? json_dumps (j, JSON_ENCODE_ANY | JSON_INDENT (2)) : NULL;
            json_decref (j);
        }
        else if (vbuf_append (&out, "", 1) == 0)
            text = vbuf_detach (&out, NULL);
        if (!text)
            vmsg__fail (err, errlen, NULL, -VE_NOMEM, "out of memory");
    }
    vbuf_free (&out);
    varena_destroy (&arena);
    return text;
}
