//  edge_page.c — the product page from its template (see edge_page.h).
#include "edge_page.h"
#include "vview.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define S_APPEND(out, s, n) (vbuf_append ((out), (s), (n)) ? -VE_NOMEM : 0)

int
edge_html_escape (vbuf_t *out, const char *s, size_t len)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        const char *entity = NULL;
        switch (s[i]) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        default: continue;
        }
        if (S_APPEND (out, s + from, i - from) || S_APPEND (out, entity, strlen (entity)))
            return -VE_NOMEM;
        from = i + 1;
    }
    return S_APPEND (out, s + from, len - from);
}

int
edge_json_script_escape (vbuf_t *out, const char *s, size_t len)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        size_t skip = 1;
        if (s[i] == '<')
            esc = "\\u003c";
        else if (s[i] == '>')
            esc = "\\u003e";
        else if (s[i] == '&')
            esc = "\\u0026";
        else if ((unsigned char) s[i] == 0xe2 && i + 2 < len && (unsigned char) s[i + 1] == 0x80
                 && ((unsigned char) s[i + 2] == 0xa8 || (unsigned char) s[i + 2] == 0xa9)) {
            esc = (unsigned char) s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
            skip = 3;
        }
        if (!esc)
            continue;
        if (S_APPEND (out, s + from, i - from) || S_APPEND (out, esc, 6))
            return -VE_NOMEM;
        from = i + skip;
        i += skip - 1;
    }
    return S_APPEND (out, s + from, len - from);
}

int
edge_price_text (int64_t minor, char *out, size_t size)
{
    uint64_t abs = minor < 0 ? (uint64_t) 0 - (uint64_t) minor : (uint64_t) minor;
    return snprintf (out, size, "%s%" PRIu64 ".%02u", minor < 0 ? "-" : "", abs / 100,
                     (unsigned) (abs % 100));
}

int
edge_frame_url (const char *id, int yaw, int pitch, const char *scene_hash, char *out, size_t size)
{
    vview_t view;
    vview_snap (yaw, pitch, 1, VVIEW_SIZE_DEFAULT, VVIEW_SIZE_DEFAULT, 0, &view);
    char query[96];
    vview_query (&view, query, sizeof query);
    //  Product ids are [A-Za-z0-9_-]; anything else is percent-encoded all the same.
    char enc[3 * 64 + 1];
    size_t n = 0;
    for (const char *p = id; *p && n + 4 < sizeof enc; p++) {
        unsigned char c = (unsigned char) *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
            || c == '_' || c == '.' || c == '~')
            enc[n++] = (char) c;
        else
            n += (size_t) snprintf (enc + n, sizeof enc - n, "%%%02X", c);
    }
    enc[n] = 0;
    int len = snprintf (out, size, "/api/v1/products/%s/frame?%s%s%s", enc, query,
                        scene_hash ? "&v=" : "", scene_hash ? scene_hash : "");
    return len >= 0 && (size_t) len < size ? len : -1;
}

static int
s_text (vbuf_t *out, const vmsg_value_t *product, const char *name)
{
    const char *s = vmsg_str (product, name);
    return s ? edge_html_escape (out, s, strlen (s)) : 0;
}

static int
s_attributes (vbuf_t *out, const vmsg_value_t *product)
{
    const vmsg_value_t *attrs = vmsg_get (product, "attributes");
    int rc = 0;
    for (uint32_t i = 0; i < vmsg_count (attrs) && rc == 0; i++) {
        const char *key = vmsg_key_at (attrs, i);
        const char *value = vmsg_str (vmsg_at (attrs, i), NULL);
        rc = S_APPEND (out, "<tr><th>", 8) || edge_html_escape (out, key, strlen (key))
             || S_APPEND (out, "</th><td>", 9)
             || edge_html_escape (out, value ? value : "", value ? strlen (value) : 0)
             || S_APPEND (out, "</td></tr>", 10);
    }
    return rc ? -VE_NOMEM : 0;
}

int
edge_page_product (const char *tpl, size_t len, const vmsg_value_t *product,
                   const char *product_json, size_t json_len, vbuf_t *out)
{
    const char *p = tpl, *end = tpl + len;
    while (p < end) {
        const char *open = memmem (p, (size_t) (end - p), "{{", 2);
        const char *close = open ? memmem (open + 2, (size_t) (end - open - 2), "}}", 2) : NULL;
        if (!open || !close)
            return S_APPEND (out, p, (size_t) (end - p));
        if (S_APPEND (out, p, (size_t) (open - p)))
            return -VE_NOMEM;
        char name[32] = "";
        size_t nlen = (size_t) (close - open - 2);
        if (nlen < sizeof name)
            memcpy (name, open + 2, nlen), name[nlen] = 0;
        int rc = 0;
        if (strcmp (name, "id") == 0 || strcmp (name, "title") == 0 || strcmp (name, "brand") == 0
            || strcmp (name, "category") == 0 || strcmp (name, "description") == 0
            || strcmp (name, "currency") == 0)
            rc = s_text (out, product, name);
        else if (strcmp (name, "price") == 0) {
            char price[32];
            int n = edge_price_text (vmsg_int (product, "price", 0), price, sizeof price);
            rc = S_APPEND (out, price, (size_t) n);
        }
        else if (strcmp (name, "attributes") == 0)
            rc = s_attributes (out, product);
        else if (strcmp (name, "frame_url") == 0) {
            char url[512];
            const char *id = vmsg_str (product, "id");
            int n = edge_frame_url (id ? id : "", EDGE_PAGE_YAW, EDGE_PAGE_PITCH,
                                    vmsg_str (product, "scene_hash"), url, sizeof url);
            rc = n < 0 ? 0 : edge_html_escape (out, url, (size_t) n);
        }
        else if (strcmp (name, "product_json") == 0)
            rc = edge_json_script_escape (out, product_json, json_len);
        else
            rc = S_APPEND (out, open, (size_t) (close + 2 - open));  //  not ours: left alone
        if (rc)
            return -VE_NOMEM;
        p = close + 2;
    }
    return 0;
}
