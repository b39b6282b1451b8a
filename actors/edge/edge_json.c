//  edge_json.c — a decoded value tree written as JSON text (see edge_json.h). The formats follow
//  jansson's compact output, which vmsg_msgpack_to_json uses: reals as "%.17g" with ".0" added
//  when they would read as integers, bytes as padded base64, strings escaped as jansson does.
#include "edge_json.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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
s_value (const vmsg_value_t *v, vbuf_t *out)
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
            return -VE_RANGE;  //  as vmsg_msgpack_to_json: no JSON form
        s_integer (out, false, v->v.u);
        return 0;
    case VMP_FLOAT: s_real (out, v->v.f); return 0;
    case VMP_STR: s_string (out, v->v.s, v->len); return 0;
    case VMP_BIN: s_base64 (out, (const unsigned char *) v->v.s, v->len); return 0;
    case VMP_EXT: return -VE_TYPE;
    case VMP_ARRAY:
    case VMP_MAP: {
        bool map = v->kind == VMP_MAP;
        vbuf_append (out, map ? "{" : "[", 1);
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                vbuf_append (out, ",", 1);
            if (map) {
                const char *key = vmsg_key_at (v, i);
                s_string (out, key, strlen (key));
                vbuf_append (out, ":", 1);
            }
            int rc = s_value (vmsg_at (v, i), out);
            if (rc)
                return rc;
        }
        vbuf_append (out, map ? "}" : "]", 1);
        return 0;
    }
    }
    return -VE_TYPE;
}

int
edge_json_value (const vmsg_value_t *v, vbuf_t *out)
{
    size_t start = out->len;
    int rc = s_value (v, out);
    if (rc == 0 && out->failed)
        rc = -VE_NOMEM;
    if (rc && !out->failed)
        out->len = start;
    return rc;
}

int
edge_json_write (const vmsg_schema_t *schema, const void *data, size_t len, varena_t *arena,
                 vbuf_t *out, char *err, size_t errlen)
{
    const vmsg_value_t *v;
    int rc = vmsg_decode (schema, data, len, arena, &v, err, errlen);
    if (rc)
        return rc;
    rc = edge_json_value (v, out);
    if (rc && err && errlen)
        snprintf (err, errlen, "%s",
                  rc == -VE_NOMEM ? "out of memory" : "a value JSON cannot hold");
    return rc;
}
