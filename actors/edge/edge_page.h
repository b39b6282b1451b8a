//  edge_page.h — server-side pages: the product page filled from the storefront's template
//  (www/product.html), so a product URL shows its title, price and first frame before any
//  script runs (and to crawlers). Every value is HTML-escaped; the product JSON embedded for
//  the page's script is escaped so it cannot close its <script> block. Thread-safe.
#ifndef EDGE_PAGE_H
#define EDGE_PAGE_H

#include "vmsg.h"
#include <stddef.h>

//  The frame the product page shows first (canonical: yaw 30, pitch 15, zoom 1, 512 x 512).
#define EDGE_PAGE_YAW   30
#define EDGE_PAGE_PITCH 15

//  Appends s[0..len) to out with & < > " ' as entities. Returns 0 or -VE_NOMEM.
int edge_html_escape (vbuf_t *out, const char *s, size_t len);
//  Appends JSON text for a <script type="application/json"> block: < > & as \u003c \u003e
//  \u0026 (and U+2028/2029 escaped), so no "</script>" or "<!--" can appear. 0 or -VE_NOMEM.
int edge_json_script_escape (vbuf_t *out, const char *json, size_t len);
//  Writes a price in minor units as "129.00" ("-0.50" for negatives). Returns the length.
int edge_price_text (int64_t minor, char *out, size_t size);
//  Writes the canonical URL of a product's frame (yaw, pitch, zoom 1, 512 x 512), with
//  "&v=<scene_hash>" when scene_hash is not NULL. Returns the length, or -1 when it does not fit.
int edge_frame_url (const char *id, int yaw, int pitch, const char *scene_hash, char *out,
                    size_t size);

//  Fills the template tpl[0..len): {{id}} {{title}} {{brand}} {{category}} {{description}}
//  {{price}} {{currency}} {{attributes}} (<tr><th>key</th><td>value</td></tr> rows)
//  {{frame_url}} {{product_json}} from product (a decoded catalog.product) and its JSON text.
//  Unknown {{names}} are left as they are. Appends to out; returns 0 or -VE_NOMEM.
int edge_page_product (const char *tpl, size_t len, const vmsg_value_t *product,
                       const char *product_json, size_t json_len, vbuf_t *out);

#endif
