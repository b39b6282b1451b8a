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

static char *
s_base64_encode (const unsigned char *in, size_t len, size_t *out_len)
{
    size_t n = (len + 2) / 3 * 4;
    char *out = malloc (n + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t) in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t) in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        *p++ = s_b64[v >> 18];
        *p++ = s_b64[(v >> 12) & 63];
        *p++ = i + 1 < len ? s_b64[(v >> 6) & 63] : '=';
        *p++ = i + 2 < len ? s_b64[v & 63] : '=';
    }
    *p = 0;
    *out_len = n;
    return out;
}

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

//  jansson parses recursively: look at the bracket depth first, outside strings.
static int
s_json_depth_ok (const char *text, size_t len)
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
            if (++depth > VMP_MAX_DEPTH)
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
    if (!s_json_depth_ok (json, len))
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

static json_t *
s_to_json (const vmsg_value_t *v, vmsg__path_t *path, int *rc, char *err, size_t errlen)
{
    json_t *j = NULL;
    switch (v->kind) {
    case VMP_NIL: j = json_null (); break;
    case VMP_BOOL: j = json_boolean (v->v.b); break;
    case VMP_INT: j = json_integer (v->v.i); break;
    case VMP_UINT:
        if (v->v.u > (uint64_t) INT64_MAX) {
            *rc = vmsg__fail (err, errlen, path, -VE_RANGE, "integer above %lld has no JSON form",
                              (long long) INT64_MAX);
            return NULL;
        }
        j = json_integer ((json_int_t) v->v.u);
        break;
    case VMP_FLOAT: j = json_real (v->v.f); break;
    case VMP_STR: j = json_stringn_nocheck (v->v.s, v->len); break;
    case VMP_BIN: {
        size_t n;
        char *text = s_base64_encode ((const unsigned char *) v->v.s, v->len, &n);
        j = text ? json_stringn_nocheck (text, n) : NULL;
        free (text);
        break;
    }
    case VMP_EXT:
        *rc = vmsg__fail (err, errlen, path, -VE_TYPE, "ext type %d has no JSON form", v->ext_type);
        return NULL;
    case VMP_ARRAY:
    case VMP_MAP:
        j = v->kind == VMP_ARRAY ? json_array () : json_object ();
        for (uint32_t i = 0; j && i < v->len; i++) {
            const char *key = v->kind == VMP_MAP ? v->v.pairs[i].key : NULL;
            size_t mark =
                key ? vmsg__path_key (path, key, strlen (key)) : vmsg__path_index (path, i);
            json_t *item = s_to_json (vmsg_at (v, i), path, rc, err, errlen);
            vmsg__path_pop (path, mark);
            if (!item
                || (key ? json_object_set_new (j, key, item) : json_array_append_new (j, item))) {
                json_decref (j);
                j = NULL;
                if (!item)
                    return NULL;
            }
        }
        break;
    }
    if (!j)
        *rc = vmsg__fail (err, errlen, path, -VE_NOMEM, "out of memory");
    return j;
}

char *
vmsg_msgpack_to_json (const vmsg_schema_t *schema, const void *data, size_t len, int flags,
                      char *err, size_t errlen)
{
    varena_t *arena = varena_new (len + 1024);
    if (!arena) {
        vmsg__fail (err, errlen, NULL, -VE_NOMEM, "out of memory");
        return NULL;
    }
    const vmsg_value_t *root;
    char *text = NULL;
    if (vmsg_decode (schema, data, len, arena, &root, err, errlen) == 0) {
        vmsg__path_t path = { .len = 0 };
        int rc = 0;
        json_t *j = s_to_json (root, &path, &rc, err, errlen);
        size_t jflags =
            JSON_ENCODE_ANY | (flags & VMSG_JSON_PRETTY ? JSON_INDENT (2) : JSON_COMPACT);
        if (j && !(text = json_dumps (j, jflags)))
            vmsg__fail (err, errlen, NULL, -VE_NOMEM, "out of memory");
        json_decref (j);
    }
    varena_destroy (&arena);
    return text;
}
