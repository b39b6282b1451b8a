//  test_edge_page.c — the product page template: every placeholder filled, every value
//  HTML-escaped (a product cannot inject markup), the embedded JSON unable to close its script
//  block, prices in minor units, and the canonical frame URL.
#include "edge_page.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static const vmsg_value_t *
s_product (varena_t *arena, const char *json)
{
    const vmsg_method_t *m = vmsg_method_find ("catalog", "get");
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    char err[256];
    if (vmsg_json_to_msgpack (m->reply, json, strlen (json), &buf, err, sizeof err))
        fail_msg ("test product: %s", err);
    const vmsg_value_t *v;
    assert_int_equal (vmsg_decode (m->reply, buf.data, buf.len, arena, &v, err, sizeof err), 0);
    vbuf_free (&buf);
    return v;
}

#define PRODUCT                                                                                    \
    "{\"id\":\"p1\",\"sku\":\"S-1\",\"title\":\"Desk <b>\\\"Pro\\\"</b> & "                        \
    "co\",\"brand\":\"O'Neil\","                                                                   \
    "\"category\":\"furniture/desks\",\"description\":\"</script><script>alert(1)</script>\","     \
    "\"price\":12905,\"currency\":\"EUR\",\"attributes\":{\"colour\":\"oak & ash\","               \
    "\"<k>\":\"v\"},\"status\":\"active\",\"created_at\":1,\"updated_at\":2"

static void
test_fills_and_escapes (void **state)
{
    (void) state;
    varena_t *arena = varena_new (0);
    const char *json = PRODUCT "}";
    const vmsg_value_t *p = s_product (arena, json);
    const char *tpl = "<title>{{title}}</title><p>{{brand}} {{category}} {{id}}</p>"
                      "<p>{{description}}</p><b>{{price}} {{currency}}</b>"
                      "<table>{{attributes}}</table><img src=\"{{frame_url}}\">{{unknown}}"
                      "<script type=\"application/json\">{{product_json}}</script>{{ unclosed";
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    assert_int_equal (edge_page_product (tpl, strlen (tpl), p, json, strlen (json), &out), 0);
    vbuf_append (&out, "", 1);
    const char *html = out.data;
    assert_non_null (
        strstr (html, "<title>Desk &lt;b&gt;&quot;Pro&quot;&lt;/b&gt; &amp; co</title>"));
    assert_non_null (strstr (html, "<p>O&#39;Neil furniture/desks p1</p>"));
    assert_non_null (strstr (html, "<p>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>"));
    assert_non_null (strstr (html, "<b>129.05 EUR</b>"));
    assert_non_null (strstr (html, "<tr><th>colour</th><td>oak &amp; ash</td></tr>"));
    assert_non_null (strstr (html, "<tr><th>&lt;k&gt;</th><td>v</td></tr>"));
    assert_non_null (strstr (html, "src=\"/api/v1/products/p1/frame?yaw=30&amp;pitch=15&amp;"
                                   "zoom=1&amp;w=512&amp;h=512\""));
    assert_non_null (strstr (html, "{{unknown}}"));  //  not ours: left alone
    assert_non_null (strstr (html, "{{ unclosed"));
    //  One script block: the JSON cannot end it.
    const char *script = strstr (html, "<script type=\"application/json\">");
    assert_non_null (script);
    assert_null (strstr (script + 1, "<script"));
    int closes = 0;
    for (const char *q = html; (q = strstr (q, "</script>")); q++)
        closes++;
    assert_int_equal (closes, 1);
    assert_non_null (strstr (script, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
    vbuf_free (&out);
    varena_destroy (&arena);
}

static void
test_frame_url_and_price (void **state)
{
    (void) state;
    char url[256], price[32];
    assert_true (edge_frame_url ("p1", 30, 15, "3bc9c6d202772f2f", url, sizeof url) > 0);
    assert_string_equal (url, "/api/v1/products/p1/frame?yaw=30&pitch=15&zoom=1&w=512&h=512"
                              "&v=3bc9c6d202772f2f");
    assert_true (edge_frame_url ("a b/c", 32, 10, NULL, url, sizeof url) > 0);
    assert_string_equal (url,
                         "/api/v1/products/a%20b%2Fc/frame?yaw=30&pitch=15&zoom=1&w=512&h=512");
    assert_int_equal (edge_frame_url ("p1", 0, 0, NULL, url, 10), -1);
    edge_price_text (12900, price, sizeof price);
    assert_string_equal (price, "129.00");
    edge_price_text (5, price, sizeof price);
    assert_string_equal (price, "0.05");
    edge_price_text (-250, price, sizeof price);
    assert_string_equal (price, "-2.50");
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    assert_int_equal (edge_json_script_escape (&out, "a<b>&\xe2\x80\xa8z", 9), 0);
    assert_int_equal (out.len, strlen ("a\\u003cb\\u003e\\u0026\\u2028z"));
    assert_memory_equal (out.data, "a\\u003cb\\u003e\\u0026\\u2028z", out.len);
    vbuf_free (&out);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fills_and_escapes),
        cmocka_unit_test (test_frame_url_and_price),
    };
    return cmocka_run_group_tests_name ("edge_page", tests, NULL, NULL);
}
