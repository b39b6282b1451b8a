//  test_vjson_write.c — the JSON writer (vmsg_json_write, behind vmsg_msgpack_to_json and the
//  edge's replies) gives the very text jansson gives for the same JSON: products, search
//  replies, tokens, frames with bytes, awkward strings and reals; and it refuses what JSON
//  cannot hold, naming the field.
#include "vmsg.h"
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  JSON in through the schema, then out through the writer; jansson's own compact text of the
//  input is the oracle, so every format (reals, escapes, base64) is checked against it.
static void
s_same (const char *domain, const char *method, const char *json)
{
    const vmsg_method_t *m = vmsg_method_find (domain, method);
    assert_non_null (m);
    vbuf_t mp, out;
    vbuf_init (&mp, NULL, 0);
    vbuf_init (&out, NULL, 0);
    char err[256];
    if (vmsg_json_to_msgpack (m->reply, json, strlen (json), &mp, err, sizeof err))
        fail_msg ("%s.%s: test JSON refused: %s", domain, method, err);
    json_t *j = json_loads (json, 0, NULL);
    assert_non_null (j);
    char *want = json_dumps (j, JSON_COMPACT);
    json_decref (j);
    assert_non_null (want);
    varena_t *arena = varena_new (0);
    vbuf_append (&out, "x", 1);  //  appends: what was there stays
    assert_int_equal (vmsg_json_write (m->reply, mp.data, mp.len, arena, &out, err, sizeof err), 0);
    if (out.len - 1 != strlen (want) || memcmp (out.data + 1, want, out.len - 1) != 0)
        fail_msg ("%s.%s differs:\n want %s\n got  %.*s", domain, method, want, (int) out.len - 1,
                  out.data + 1);
    //  vmsg_msgpack_to_json is the same writer.
    char *text =
        vmsg_msgpack_to_json (m->reply, mp.data, mp.len, VMSG_JSON_COMPACT, err, sizeof err);
    assert_non_null (text);
    assert_string_equal (text, want);
    free (text);
    free (want);
    varena_destroy (&arena);
    vbuf_free (&mp);
    vbuf_free (&out);
}

static void
test_same_text_as_the_schema_mapping (void **state)
{
    (void) state;
    s_same (
        "catalog", "get",
        "{\"id\":\"p1\",\"sku\":\"S\",\"title\":\"Chair \\\"Ö\\\" \\\\ \\u0001\\t\\n/\\u2028 ☃\","
        "\"description\":\"<b>&</b>\",\"brand\":\"B\",\"category\":\"a/b\",\"price\":12900,"
        "\"currency\":\"EUR\",\"attributes\":{\"colour\":\"teal\",\"size\":\"\"},"
        "\"images\":[\"https://x/1.jpg\"],\"status\":\"active\",\"in_stock\":false,"
        "\"popularity\":0.0,\"created_at\":1795621231256,\"updated_at\":-5}");
    static const double reals[] = {
        0.0,     -0.0,    1.5, -2.25, 104.61444091796875, 1e20, 1e-5, 123456789012345678.0,
        3.0e300, -7e-300, 0.1
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        //  The real as jansson writes it, so that it reads back as a real.
        json_t *real = json_real (reals[i]);
        char *text = json_dumps (real, JSON_ENCODE_ANY);
        json_decref (real);
        char json[512];
        snprintf (json, sizeof json,
                  "{\"total\":1,\"hits\":[{\"id\":\"p\",\"title\":\"t\",\"brand\":\"b\","
                  "\"category\":\"c\",\"price\":1,\"currency\":\"EUR\",\"in_stock\":true,"
                  "\"score\":%s}],\"facets\":{\"categories\":[],\"subcategories\":[],"
                  "\"brands\":[{\"name\":\"b\",\"count\":1}],\"brands_left_out\":0,"
                  "\"prices\":[{\"min\":0,\"count\":1}]},"
                  "\"corrected\":false,\"words\":[\"t\"]}",
                  text);
        free (text);
        s_same ("catalog", "search", json);
    }
    s_same ("render", "frame",
            "{\"id\":\"p1\",\"yaw\":30,\"pitch\":-15,\"zoom\":1,\"w\":512,\"h\":512,"
            "\"quality\":85,\"scene_hash\":\"ab\",\"etag\":\"\\\"ab-1\\\"\","
            "\"jpeg\":\"/9j/2wABAgM=\",\"not_modified\":false,\"cached\":true}");
    s_same ("render", "frame",
            "{\"id\":\"p1\",\"yaw\":30,\"pitch\":0,\"zoom\":4,\"w\":256,\"h\":256,"
            "\"quality\":60,\"scene_hash\":\"ab\",\"etag\":\"\\\"x\\\"\",\"jpeg\":\"QQ==\"}");
    s_same ("auth", "login",
            "{\"access_token\":\"a.b\",\"expires_at\":1,\"refresh_token\":\"r\","
            "\"refresh_expires_at\":2,\"user\":{\"user_id\":\"u1\",\"email\":\"a@b.c\","
            "\"name\":\"Zoë\",\"roles\":3,\"created_at\":0}}");
}

static void
test_refusals (void **state)
{
    (void) state;
    varena_t *arena = varena_new (0);
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    char err[128];
    //  An integer above 2^63-1 and an ext have no JSON form; out is left as it was.
    const unsigned char big[] = { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    vbuf_append (&out, "keep", 4);
    assert_int_equal (vmsg_json_write (NULL, big, sizeof big, arena, &out, err, sizeof err),
                      -VE_RANGE);
    assert_int_equal (out.len, 4);
    const unsigned char ext[] = { 0xd4, 0x01, 0x00 };
    assert_int_equal (vmsg_json_write (NULL, ext, sizeof ext, arena, &out, err, sizeof err),
                      -VE_TYPE);
    //  A free map with a key twice: JSON could not say which value is meant.
    const unsigned char dup[] = { 0x82, 0xa1, 'k', 0x01, 0xa1, 'k', 0x02 };
    assert_int_equal (vmsg_json_write (NULL, dup, sizeof dup, arena, &out, err, sizeof err),
                      -VE_INVAL);
    assert_non_null (strstr (err, "duplicate key 'k'"));
    assert_int_equal (out.len, 4);
    //  Bytes that do not match the schema are the decoder's refusal.
    const vmsg_method_t *m = vmsg_method_find ("catalog", "get");
    const unsigned char empty_map[] = { 0x80 };
    assert_true (vmsg_json_write (m->reply, empty_map, 1, arena, &out, err, sizeof err) < 0);
    assert_non_null (strstr (err, "id"));
    assert_int_equal (out.len, 4);
    vbuf_free (&out);
    varena_destroy (&arena);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_same_text_as_the_schema_mapping),
        cmocka_unit_test (test_refusals),
    };
    return cmocka_run_group_tests_name ("vjson_write", tests, NULL, NULL);
}
