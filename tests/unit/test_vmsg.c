//  test_vmsg.c — schemas and the codec (schemas/vmsg.h): every type and limit, error messages
//  that name the field path, unknown fields, UTF-8, JSON in both directions, the registry, and
//  that docs/messages.md is what the tables print.
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmsg.h"

#ifndef VITRINE_SOURCE_DIR
#define VITRINE_SOURCE_DIR "."
#endif

//  ---------------------------------------------------------------- a schema with every type

static const vmsg_field_t s_item_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 16), .doc = "stock keeping unit" },
    { "qty", VMSG_UINT, VMSG_REQUIRED, VMSG_RANGE (1, 1000), .doc = "how many" },
    { 0 }
};
static const vmsg_schema_t s_item = { "test.item", s_item_fields, .doc = "a line" };

static const vmsg_field_t s_all_fields[] = {
    { "i", VMSG_INT, VMSG_RANGE (-10, 10), .doc = "int" },
    { "big", VMSG_INT, .doc = "int without bounds" },
    { "u", VMSG_UINT, VMSG_MAX (1000), .doc = "uint" },
    { "b", VMSG_BOOL, .doc = "bool" },
    { "s", VMSG_STR, VMSG_LEN (2, 8), .doc = "string" },
    { "by", VMSG_BYTES, VMSG_LEN (0, 4), .doc = "bytes" },
    { "f", VMSG_FLOAT, VMSG_RANGE (-1.5, 1.5), .doc = "float" },
    { "tags", VMSG_ARRAY, VMSG_STR, VMSG_COUNT (0, 3), VMSG_LEN (1, 5), .doc = "strings" },
    { "attrs", VMSG_MAP, VMSG_UINT, VMSG_COUNT (0, 2), VMSG_MAX (9), .doc = "map" },
    { "items", VMSG_ARRAY, VMSG_MSG, VMSG_COUNT (1, 5), .schema = &s_item, .doc = "lines" },
    { "main", VMSG_MSG, .schema = &s_item, .doc = "nested" },
    { "extra", VMSG_ANY, .doc = "anything" },
    { "req", VMSG_STR, VMSG_REQUIRED, .doc = "required" },
    { 0 }
};
static const vmsg_schema_t s_all = { "test.all", s_all_fields, .doc = "every type" };

static const vmsg_schema_t s_small = { "test.small", s_all_fields, 64, "size limited" };

//  ---------------------------------------------------------------- helpers

static varena_t *s_arena;
static char s_err[512];

static int
s_setup (void **state)
{
    (void) state;
    s_arena = varena_new (0);
    return s_arena ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    varena_destroy (&s_arena);
    return 0;
}

//  Generic JSON → msgpack; the result lives in a static buffer until the next call.
static vbuf_t s_mp;

static void
s_pack_json (const char *json)
{
    vbuf_free (&s_mp);
    vbuf_init (&s_mp, NULL, 0);
    char err[256];
    int rc = vmsg_json_to_msgpack (NULL, json, strlen (json), &s_mp, err, sizeof err);
    if (rc)
        fail_msg ("generic JSON refused: %s: %s", json, err);
}

//  Decodes (and validates: both must agree) msgpack against schema.
static int
s_decode_mp (const vmsg_schema_t *schema, const void *data, size_t len, const vmsg_value_t **v)
{
    char err2[512];
    int rc = vmsg_decode (schema, data, len, s_arena, v, s_err, sizeof s_err);
    int rc2 = vmsg_validate (schema, data, len, err2, sizeof err2);
    assert_int_equal (rc, rc2);
    assert_string_equal (s_err, err2);
    if (rc)
        assert_null (*v);
    return rc;
}

static int
s_decode (const vmsg_schema_t *schema, const char *json, const vmsg_value_t **v)
{
    s_pack_json (json);
    return s_decode_mp (schema, s_mp.data, s_mp.len, v);
}

static void
s_refused (const vmsg_schema_t *schema, const char *json, int code, const char *message)
{
    const vmsg_value_t *v;
    int rc = s_decode (schema, json, &v);
    if (rc != code || strcmp (s_err, message))
        fail_msg ("%s: expected %d '%s', got %d '%s'", json, code, message, rc, s_err);
}

//  Packs a map { "req": "x", key: <raw value bytes> } by hand.
static void
s_pack_raw (const char *key, const void *raw, size_t len)
{
    vbuf_free (&s_mp);
    vbuf_init (&s_mp, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &s_mp);
    msgpack_pack_map (&pk, 2);
    vmp_pack_cstr (&pk, "req");
    vmp_pack_cstr (&pk, "x");
    vmp_pack_cstr (&pk, key);
    vbuf_append (&s_mp, raw, len);
}

//  ---------------------------------------------------------------- decode

static void
test_every_type (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    int rc =
        s_decode (&s_all,
                  "{\"i\":-3,\"big\":-9000000000,\"u\":1000,\"b\":true,\"s\":\"hé\","
                  "\"f\":1,\"tags\":[\"a\",\"bcdef\"],\"attrs\":{\"x\":9,\"y\":0},"
                  "\"items\":[{\"sku\":\"A1\",\"qty\":2}],\"main\":{\"sku\":\"B\",\"qty\":1000},"
                  "\"extra\":{\"k\":[null,1.5,\"t\",false,-1]},\"req\":\"\"}",
                  &v);
    assert_int_equal (rc, 0);
    assert_int_equal (vmsg_int (v, "i", 0), -3);
    assert_true (vmsg_int (v, "big", 0) == -9000000000LL);
    assert_int_equal (vmsg_uint (v, "u", 0), 1000);
    assert_true (vmsg_bool (v, "b", false));
    assert_string_equal (vmsg_str (v, "s"), "hé");
    //  A float field holds a float even when it was sent as an integer.
    assert_int_equal (vmsg_get (v, "f")->kind, VMP_FLOAT);
    assert_true (vmsg_float (v, "f", 0) == 1.0);
    const vmsg_value_t *tags = vmsg_get (v, "tags");
    assert_int_equal (vmsg_count (tags), 2);
    assert_string_equal (vmsg_at (tags, 1)->v.s, "bcdef");
    //  name NULL reads the element itself.
    assert_string_equal (vmsg_str (vmsg_at (tags, 1), NULL), "bcdef");
    assert_null (vmsg_str (vmsg_at (tags, 2), NULL));
    assert_null (vmsg_at (tags, 2));
    const vmsg_value_t *attrs = vmsg_get (v, "attrs");
    assert_int_equal (vmsg_count (attrs), 2);
    assert_string_equal (vmsg_key_at (attrs, 0), "x");
    assert_int_equal (vmsg_at (attrs, 0)->v.u, 9);
    assert_int_equal (vmsg_uint (attrs, "y", 7), 0);
    const vmsg_value_t *items = vmsg_get (v, "items");
    assert_string_equal (vmsg_str (vmsg_at (items, 0), "sku"), "A1");
    assert_int_equal (vmsg_uint (vmsg_at (items, 0), "qty", 0), 2);
    assert_int_equal (vmsg_uint (vmsg_get (v, "main"), "qty", 0), 1000);
    const vmsg_value_t *k = vmsg_get (vmsg_get (v, "extra"), "k");
    assert_int_equal (vmsg_count (k), 5);
    assert_int_equal (vmsg_at (k, 0)->kind, VMP_NIL);
    assert_int_equal (vmsg_at (k, 4)->kind, VMP_INT);
    assert_string_equal (vmsg_str (v, "req"), "");
    assert_false (vmsg_has (v, "by"));

    //  Bytes are a msgpack bin; strings are copied NUL-terminated into the arena.
    s_pack_raw ("by", "\xc4\x03\x00\x01\x02", 5);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), 0);
    size_t len = 0;
    const void *bytes = vmsg_bytes (v, "by", &len);
    assert_int_equal (len, 3);
    assert_memory_equal (bytes, "\x00\x01\x02", 3);
    assert_true ((const char *) bytes < s_mp.data || (const char *) bytes >= s_mp.data + s_mp.len);
}

static void
test_limits (void **state)
{
    (void) state;
    s_refused (&s_all, "{\"req\":\"x\",\"s\":\"a\"}", -VE_RANGE, "s: shorter than 2 bytes");
    s_refused (&s_all, "{\"req\":\"x\",\"s\":\"abcdefghi\"}", -VE_TOOBIG, "s: longer than 8 bytes");
    s_refused (&s_all, "{\"req\":\"x\",\"i\":11}", -VE_RANGE, "i: above 10");
    s_refused (&s_all, "{\"req\":\"x\",\"i\":-11}", -VE_RANGE, "i: below -10");
    s_refused (&s_all, "{\"req\":\"x\",\"u\":1001}", -VE_RANGE, "u: above 1000");
    s_refused (&s_all, "{\"req\":\"x\",\"u\":-1}", -VE_RANGE, "u: below 0");
    s_refused (&s_all, "{\"req\":\"x\",\"f\":1.6}", -VE_RANGE, "f: above 1.5");
    s_refused (&s_all, "{\"req\":\"x\",\"f\":-2}", -VE_RANGE, "f: below -1.5");
    s_refused (&s_all, "{\"req\":\"x\",\"tags\":[\"a\",\"b\",\"c\",\"d\"]}", -VE_TOOBIG,
               "tags: more than 3 items");
    s_refused (&s_all, "{\"req\":\"x\",\"tags\":[\"a\",\"toolong\"]}", -VE_TOOBIG,
               "tags[1]: longer than 5 bytes");
    s_refused (&s_all, "{\"req\":\"x\",\"tags\":[\"\"]}", -VE_RANGE,
               "tags[0]: shorter than 1 bytes");
    s_refused (&s_all, "{\"req\":\"x\",\"attrs\":{\"a\":1,\"b\":2,\"c\":3}}", -VE_TOOBIG,
               "attrs: more than 2 items");
    s_refused (&s_all, "{\"req\":\"x\",\"attrs\":{\"a\":1,\"col\":10}}", -VE_RANGE,
               "attrs.col: above 9");
    s_refused (&s_all, "{\"req\":\"x\",\"items\":[]}", -VE_RANGE, "items: fewer than 1 items");
    s_refused (&s_all,
               "{\"req\":\"x\",\"items\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"a\",\"qty\":1},"
               "{\"sku\":\"a\",\"qty\":1},{\"sku\":\"a\",\"qty\":1001}]}",
               -VE_RANGE, "items[3].qty: above 1000");
    s_refused (&s_all, "{\"req\":\"x\",\"items\":[{\"sku\":\"a\",\"qty\":0}]}", -VE_RANGE,
               "items[0].qty: below 1");
    s_refused (&s_all, "{\"req\":\"x\",\"items\":[{\"sku\":\"a\"}]}", -VE_INVAL,
               "items[0].qty: required");
    s_refused (&s_all, "{\"req\":\"x\",\"main\":{\"qty\":1}}", -VE_INVAL, "main.sku: required");
    s_refused (&s_all, "{}", -VE_INVAL, "req: required");
    s_refused (&s_all, "{\"req\":null}", -VE_INVAL, "req: required");
    s_pack_raw ("by", "\xc4\x05\x00\x01\x02\x03\x04", 7);
    const vmsg_value_t *v;
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_TOOBIG);
    assert_string_equal (s_err, "by: longer than 4 bytes");
    //  At the limits exactly: accepted.
    assert_int_equal (s_decode (&s_all,
                                "{\"req\":\"x\",\"i\":-10,\"u\":0,\"f\":-1.5,\"s\":\"ab\","
                                "\"tags\":[\"a\",\"b\",\"abcde\"]}",
                                &v),
                      0);
}

//  ---------------------------------------------------------------- enumerations

static const char *const s_colours[] = { "red", "green", "blue", NULL };
static const vmsg_field_t s_enum_fields[] = {
    { "colour", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 8), VMSG_ENUM (s_colours), .doc = "c" },
    { "shade", VMSG_STR, VMSG_ENUM (s_colours), .doc = "empty = default" },
    { "tags", VMSG_ARRAY, VMSG_STR, VMSG_ENUM (s_colours), .doc = "each one of them" },
    { 0 }
};
static const vmsg_schema_t s_enum = { "test.enum", s_enum_fields, .doc = "enumerations" };

static void
test_enums (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    assert_int_equal (s_decode (&s_enum, "{\"colour\":\"green\",\"shade\":\"\"}", &v), 0);
    assert_string_equal (vmsg_str (v, "colour"), "green");
    assert_int_equal (s_decode (&s_enum, "{\"colour\":\"red\",\"tags\":[\"blue\"]}", &v), 0);
    //  The message lists the values, from the table itself.
    s_refused (&s_enum, "{\"colour\":\"pink\"}", -VE_INVAL,
               "colour: expected one of: red, green, blue");
    s_refused (&s_enum, "{\"colour\":\"Red\"}", -VE_INVAL, "colour: expected one of: red, green, blue");
    s_refused (&s_enum, "{\"colour\":\"red\",\"tags\":[\"red\",\"redd\"]}", -VE_INVAL,
               "tags[1]: expected one of: red, green, blue");
    //  A required enumeration with min_len 1 still refuses the empty string by its length.
    s_refused (&s_enum, "{\"colour\":\"\"}", -VE_RANGE, "colour: shorter than 1 bytes");
    //  Encoding checks what we send against the same list.
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    s_pack_json ("{\"colour\":\"teal\"}");
    assert_int_equal (vmsg_validate (&s_enum, s_mp.data, s_mp.len, NULL, 0), -VE_INVAL);
    vbuf_free (&out);
}

static void
test_wrong_types (void **state)
{
    (void) state;
    s_refused (&s_all, "{\"req\":5}", -VE_TYPE, "req: expected string, got integer");
    s_refused (&s_all, "{\"req\":\"x\",\"u\":\"5\"}", -VE_TYPE, "u: expected uint, got string");
    s_refused (&s_all, "{\"req\":\"x\",\"u\":1.5}", -VE_TYPE, "u: expected uint, got float");
    s_refused (&s_all, "{\"req\":\"x\",\"i\":true}", -VE_TYPE, "i: expected int, got bool");
    s_refused (&s_all, "{\"req\":\"x\",\"b\":1}", -VE_TYPE, "b: expected bool, got integer");
    s_refused (&s_all, "{\"req\":\"x\",\"by\":\"AAE=\"}", -VE_TYPE,
               "by: expected bytes, got string");
    s_refused (&s_all, "{\"req\":\"x\",\"f\":\"1\"}", -VE_TYPE, "f: expected float, got string");
    s_refused (&s_all, "{\"req\":\"x\",\"tags\":{}}", -VE_TYPE, "tags: expected array, got map");
    s_refused (&s_all, "{\"req\":\"x\",\"attrs\":[]}", -VE_TYPE, "attrs: expected map, got array");
    s_refused (&s_all, "{\"req\":\"x\",\"main\":[]}", -VE_TYPE,
               "main: expected message, got array");
    s_refused (&s_all, "{\"req\":\"x\",\"items\":[{\"sku\":\"a\",\"qty\":1},7]}", -VE_TYPE,
               "items[1]: expected message, got integer");
    s_refused (&s_all, "{\"req\":\"x\",\"items\":[{\"sku\":[],\"qty\":1}]}", -VE_TYPE,
               "items[0].sku: expected string, got array");
    s_refused (&s_all, "{\"req\":\"x\",\"tags\":[null]}", -VE_TYPE,
               "tags[0]: expected string, got nil");
    s_refused (&s_all, "[1]", -VE_TYPE, "body: expected message, got array");
    s_refused (&s_all, "{\"req\":\"x\",\"big\":-1.0}", -VE_TYPE, "big: expected int, got float");
    const vmsg_value_t *v;
    //  An int field cannot hold 2^63.
    s_pack_raw ("big", "\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_RANGE);
    assert_string_equal (s_err, "big: above 9223372036854775807");
    //  A field name must be a string.
    assert_int_equal (s_decode_mp (&s_all, "\x81\x01\x02", 3, &v), -VE_TYPE);
    assert_string_equal (s_err, "body: field name is integer, not a string");
    //  Inside "any", map keys are strings too.
    s_pack_raw ("extra", "\x81\x01\x02", 3);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_TYPE);
    assert_string_equal (s_err, "extra: map key is integer, not a string");
}

static void
test_unknown_fields (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    assert_int_equal (s_decode (&s_all, "{\"zzz\":[1,[2,{\"a\":3}]],\"req\":\"x\",\"n\":null}", &v),
                      0);
    assert_false (vmsg_has (v, "zzz"));
    assert_int_equal (vmsg_count (v), 1);
    //  ... but still depth checked: 31 levels below the message are fine, 32 are not.
    char raw[64];
    memset (raw, 0x91, sizeof raw);
    raw[31] = 0;
    s_pack_raw ("zzz", raw, 32);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), 0);
    raw[31] = (char) 0x91;
    raw[32] = 0;
    s_pack_raw ("zzz", raw, 33);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_DEPTH);
    assert_string_equal (s_err, "zzz: nested deeper than 32");
    //  A name with a NUL inside is not the name before the NUL (found by fuzz_vmsg: the
    //  lookup read past the table's name).
    assert_int_equal (s_decode_mp (&s_all, "\x82\xa3req\xa1x\xa6req\0\x01\x02\x05", 15, &v), 0);
    assert_int_equal (vmsg_count (v), 1);
    assert_int_equal (s_decode_mp (&s_all, "\x81\xa5req\0\x07\xa1x", 9, &v), -VE_INVAL);
    assert_string_equal (s_err, "req: required");
    //  ... and well-formedness checked.
    s_pack_raw ("zzz", "\x92\x01\xc1", 3);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_PROTO);
    assert_string_equal (s_err, "zzz: malformed msgpack");
    s_pack_raw ("zzz", "\x93\x01", 2);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_PROTO);
}

static void
test_depth (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    char raw[64];
    //  The message is level 1; "extra" can nest 31 more.
    memset (raw, 0x91, sizeof raw);
    raw[31] = 0;
    s_pack_raw ("extra", raw, 32);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), 0);
    raw[31] = (char) 0x90;
    s_pack_raw ("extra", raw, 32);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_DEPTH);
    assert_string_equal (s_err, "extra[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
                                "[0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 32");
    //  Generic values: 32 levels, not 33.
    memset (raw, 0x91, sizeof raw);
    raw[32] = 0;
    assert_int_equal (s_decode_mp (NULL, raw, 33, &v), 0);
    raw[32] = (char) 0x91;
    raw[33] = 0;
    assert_int_equal (s_decode_mp (NULL, raw, 34, &v), -VE_DEPTH);
}

static void
test_text (void **state)
{
    (void) state;
    static const struct {
        const char *raw;
        size_t len;
        bool ok;
    } cases[] = {
        { "\xa5"
          "h\xc3\xa9\xe2\x82",
          6, false },  //  cut sequence
        { "\xa2"
          "\xc3\x28",
          3, false },  //  bad continuation
        { "\xa2"
          "\xc0\xaf",
          3, false },  //  overlong '/'
        { "\xa3"
          "\xe0\x80\xaf",
          4, false },  //  overlong
        { "\xa3"
          "\xed\xa0\x80",
          4, false },  //  UTF-16 surrogate
        { "\xa4"
          "\xf4\x90\x80\x80",
          5, false },  //  past U+10FFFF
        { "\xa1"
          "\xff",
          2, false },
        { "\xa1"
          "\x80",
          2, false },  //  lone continuation
        { "\xa9"
          "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e",
          10, true },  //  é € 𝄞
        { "\xa4"
          "\xf4\x8f\xbf\xbf",
          5, true },  //  U+10FFFF
        { "\xa3"
          "\xef\xbf\xbf",
          4, true },  //  U+FFFF
    };
    const vmsg_value_t *v;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_pack_raw ("extra", cases[i].raw, cases[i].len);
        int rc = s_decode_mp (&s_all, s_mp.data, s_mp.len, &v);
        if (cases[i].ok)
            assert_int_equal (rc, 0);
        else {
            assert_int_equal (rc, -VE_INVAL);
            assert_string_equal (s_err, "extra: not valid UTF-8");
        }
    }
    s_pack_raw ("s", "\xa2\xc3\x28", 3);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_INVAL);
    assert_string_equal (s_err, "s: not valid UTF-8");
    s_pack_raw ("s",
                "\xa3"
                "a\0b",
                4);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_INVAL);
    assert_string_equal (s_err, "s: contains a NUL byte");
    s_pack_raw ("extra", "\x91\xa2\xc3\x28", 4);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_INVAL);
    assert_string_equal (s_err, "extra[0]: not valid UTF-8");
}

static void
test_malformed (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    //  Every cut of a valid message is refused (no crash, no read past the end).
    s_pack_json ("{\"req\":\"x\",\"items\":[{\"sku\":\"A1\",\"qty\":2}],\"f\":0.5,\"s\":\"abc\"}");
    size_t full = s_mp.len;
    char *copy = malloc (full);
    memcpy (copy, s_mp.data, full);
    for (size_t cut = 1; cut < full; cut++) {
        char *part = malloc (cut);  //  exact size, so ASan sees any overread
        memcpy (part, copy, cut);
        int rc = s_decode_mp (&s_all, part, cut, &v);
        assert_true (rc == -VE_TRUNC || rc == -VE_PROTO);
        free (part);
    }
    assert_int_equal (s_decode_mp (&s_all, copy, full, &v), 0);
    free (copy);
    //  Duplicate field, trailing bytes, lying counts, the reserved byte, nan.
    assert_int_equal (s_decode_mp (&s_all, "\x82\xa3req\xa1x\xa3req\xa1y", 13, &v), -VE_INVAL);
    assert_string_equal (s_err, "req: duplicate field");
    assert_int_equal (s_decode_mp (&s_all, "\x81\xa3req\xa1x\xc0", 8, &v), -VE_PROTO);
    assert_string_equal (s_err, "body: trailing bytes after the value");
    assert_int_equal (s_decode_mp (&s_all, "\xdf\xff\xff\xff\xff", 5, &v), -VE_PROTO);
    assert_string_equal (s_err, "body: malformed msgpack");
    s_pack_raw ("tags", "\xdd\xff\xff\xff\xff", 5);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_PROTO);
    assert_string_equal (s_err, "tags: malformed msgpack");
    assert_int_equal (s_decode_mp (NULL, "\xc1", 1, &v), -VE_PROTO);
    s_pack_raw ("f", "\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9);
    assert_int_equal (s_decode_mp (&s_all, s_mp.data, s_mp.len, &v), -VE_INVAL);
    assert_string_equal (s_err, "f: not a finite number");
    assert_int_equal (s_decode_mp (NULL, "\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", 9, &v), -VE_INVAL);
}

static void
test_size_limit (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    size_t len = VMSG_MAX_SIZE + 1;
    char *big = calloc (1, len);
    assert_int_equal (s_decode_mp (&s_all, big, len, &v), -VE_TOOBIG);
    assert_string_equal (s_err, "body: larger than 1048576 bytes");
    assert_int_equal (s_decode_mp (NULL, big, len, &v), -VE_TOOBIG);
    free (big);
    //  A schema may set its own ceiling.
    assert_int_equal (s_decode (&s_small, "{\"req\":\"x\"}", &v), 0);
    s_refused (&s_small, "{\"req\":\"0123456789012345678901234567890123456789012345678901234567\"}",
               -VE_TOOBIG, "body: larger than 64 bytes");
}

static void
test_empty_body (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    assert_int_equal (s_decode_mp (&vmsg_empty, "", 0, &v), 0);
    assert_int_equal (v->kind, VMP_MAP);
    assert_int_equal (v->len, 0);
    const vmsg_method_t *m = vmsg_method_find ("echo", "echo");
    assert_int_equal (s_decode_mp (m->request, "", 0, &v), -VE_INVAL);
    assert_string_equal (s_err, "text: required");
    //  Unknown fields are ignored by an empty schema too.
    assert_int_equal (s_decode (&vmsg_empty, "{\"a\":1}", &v), 0);
}

static void
test_accessors (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    assert_int_equal (s_decode (&s_all, "{\"req\":\"x\",\"u\":5,\"i\":-2}", &v), 0);
    assert_null (vmsg_get (NULL, "u"));
    assert_ptr_equal (vmsg_get (v, NULL), v);  //  name NULL: the value itself
    assert_null (vmsg_str (v, "u"));  //  wrong kind: NULL / default
    assert_int_equal (vmsg_uint (v, "i", 42), 42);
    assert_int_equal (vmsg_int (v, "u", 0), 5);
    assert_true (vmsg_float (v, "i", 0) == -2.0);
    assert_true (vmsg_bool (v, "u", true));
    assert_int_equal (vmsg_uint (v, "missing", 7), 7);
    assert_null (vmsg_bytes (v, "req", NULL));
    assert_int_equal (vmsg_count (vmsg_get (v, "u")), 0);
    assert_null (vmsg_at (NULL, 0));
    assert_null (vmsg_key_at (vmsg_get (v, "u"), 0));
    assert_string_equal (vmsg_key_at (v, 0), "req");
}

static void
test_arena (void **state)
{
    (void) state;
    varena_t *a = varena_new (256);
    assert_non_null (a);
    for (int i = 0; i < 1000; i++) {
        char *p = varena_alloc (a, (size_t) (i % 37) + 1);
        assert_non_null (p);
        assert_int_equal ((uintptr_t) p % sizeof (void *), 0);
        memset (p, 0xab, (size_t) (i % 37) + 1);
    }
    char *big = varena_alloc (a, 100000);
    assert_non_null (big);
    memset (big, 1, 100000);
    char *small = varena_strdup (a, "after big");
    assert_string_equal (small, "after big");
    assert_string_equal (varena_strndup (a, "abcdef", 3), "abc");
    assert_non_null (varena_alloc (a, 0));
    assert_null (varena_alloc (a, SIZE_MAX));
    varena_reset (a);
    assert_string_equal (varena_strdup (a, "again"), "again");
    varena_destroy (&a);
    assert_null (a);
    varena_destroy (&a);
    varena_destroy (NULL);
}

static void
test_error_buffer (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    char tiny[8];
    s_pack_json ("{\"req\":\"x\",\"u\":5000}");
    assert_int_equal (vmsg_decode (&s_all, s_mp.data, s_mp.len, s_arena, &v, tiny, sizeof tiny),
                      -VE_RANGE);
    assert_string_equal (tiny, "u: abov");
    assert_int_equal (vmsg_validate (&s_all, s_mp.data, s_mp.len, NULL, 0), -VE_RANGE);
}

//  ---------------------------------------------------------------- encode

static void
test_encode (void **state)
{
    (void) state;
    const vmsg_value_t *v;
    s_pack_json ("{\"req\":\"x\",\"items\":[{\"sku\":\"A1\",\"qty\":2}],\"extra\":[1,-1,\"s\",null,"
                 "true,{\"k\":2.5}],\"big\":-5}");
    vbuf_t in;
    vbuf_init (&in, NULL, 0);
    vbuf_append (&in, s_mp.data, s_mp.len);
    assert_int_equal (s_decode_mp (&s_all, in.data, in.len, &v), 0);
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    vbuf_append (&out, "\x07", 1);  //  appends after what is there
    assert_int_equal (vmsg_encode (&s_all, v, &out, s_err, sizeof s_err), 0);
    assert_int_equal (out.len, in.len + 1);
    assert_memory_equal (out.data + 1, in.data, in.len);
    //  A hand-built tree that breaks the schema is refused and nothing stays appended.
    vmsg_pair_t pair = { "qty", { .kind = VMP_UINT, .v.u = 5000 } };
    vmsg_value_t item = { .kind = VMP_MAP, .len = 1, .v.pairs = &pair };
    assert_int_equal (vmsg_encode (&s_item, &item, &out, s_err, sizeof s_err), -VE_RANGE);
    assert_string_equal (s_err, "qty: above 1000");
    assert_int_equal (out.len, in.len + 1);
    //  A tree deeper than any decoder accepts.
    vmsg_value_t chain[40];
    for (int i = 0; i < 40; i++)
        chain[i] = (vmsg_value_t) { .kind = VMP_ARRAY, .len = i < 39, .v.items = &chain[i + 1] };
    assert_int_equal (vmsg_encode (NULL, &chain[0], &out, s_err, sizeof s_err), -VE_DEPTH);
    assert_int_equal (out.len, in.len + 1);
    //  ... while 32 arrays around a scalar are fine (found by fuzz_vmsg: the scalar was counted).
    chain[31] = (vmsg_value_t) { .kind = VMP_ARRAY, .len = 1, .v.items = &chain[32] };
    chain[32] = (vmsg_value_t) { .kind = VMP_UINT, .v.u = 0 };
    assert_int_equal (vmsg_encode (NULL, &chain[0], &out, s_err, sizeof s_err), 0);
    assert_int_equal (out.len, in.len + 1 + 33);
    vbuf_free (&out);
    vbuf_free (&in);
}

//  ---------------------------------------------------------------- JSON

static char *
s_to_json (const vmsg_schema_t *schema, const char *json)
{
    vbuf_t mp;
    vbuf_init (&mp, NULL, 0);
    int rc = vmsg_json_to_msgpack (schema, json, strlen (json), &mp, s_err, sizeof s_err);
    if (rc)
        fail_msg ("%s: %s", json, s_err);
    char *text =
        vmsg_msgpack_to_json (schema, mp.data, mp.len, VMSG_JSON_COMPACT, s_err, sizeof s_err);
    vbuf_free (&mp);
    if (!text)
        fail_msg ("%s: back to JSON: %s", json, s_err);
    return text;
}

static void
s_json_same (const char *a, const char *b)
{
    json_t *ja = json_loads (a, JSON_DECODE_ANY, NULL);
    json_t *jb = json_loads (b, JSON_DECODE_ANY, NULL);
    if (!ja || !jb || !json_equal (ja, jb))
        fail_msg ("JSON differs:\n  %s\n  %s", a, b);
    json_decref (ja);
    json_decref (jb);
}

static void
s_roundtrip (const vmsg_schema_t *schema, const char *json)
{
    char *back = s_to_json (schema, json);
    s_json_same (json, back);
    free (back);
}

static void
test_json_roundtrip_registry (void **state)
{
    (void) state;
    static const struct {
        const char *name;
        bool reply;
        const char *json;
    } cases[] = {
        { "broker.ping", false, "{}" },
        { "broker.ping", true, "{\"time_ms\":1764075600123,\"version\":1}" },
        { "broker.services", false, "{}" },
        { "broker.services", true,
          "{\"services\":[{\"name\":\"echo\",\"partitions\":4,"
          "\"workers\":2,\"queued\":0,\"in_flight\":3}]}" },
        { "broker.workers", false, "{\"service\":\"echo\"}" },
        { "broker.workers", true,
          "{\"workers\":[{\"service\":\"echo\",\"name\":\"host:12\","
          "\"partitions\":[0,3],\"credit\":64,\"in_flight\":1,"
          "\"handled\":100,\"idle_ms\":20,\"draining\":false}]}" },
        { "broker.stats", false, "{}" },
        { "broker.stats", true,
          "{\"uptime_ms\":5000,\"requests\":10,\"replies\":9,\"errors\":1,\"drops\":0,"
          "\"malformed\":0,\"events_in\":3,\"events_out\":6,\"events_dropped\":0,"
          "\"services\":[{\"name\":\"echo\",\"requests\":10,\"replies\":9,\"errors\":1,"
          "\"timeouts\":0,\"busy\":0,\"unavailable\":1,\"queued\":0,\"in_flight\":0,"
          "\"p50_us\":120,\"p90_us\":300,\"p99_us\":900,\"max_us\":1500}]}" },
        { "echo.echo", false, "{\"text\":\"héllo\",\"delay_ms\":10}" },
        { "echo.echo", true, "{\"text\":\"héllo\",\"worker\":\"host:1\"}" },
        { "echo.fail", false, "{\"status\":\"not_found\",\"message\":\"no such thing\"}" },
        { "echo.fail", true, "{}" },
        { "echo.whoami", false, "{}" },
        { "echo.whoami", true,
          "{\"user_id\":\"vtctl\",\"roles\":4,\"trace_id\":\"t-1\","
          "\"key\":\"k\",\"partition\":3}" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char service[32];
        const char *dot = strchr (cases[i].name, '.');
        snprintf (service, sizeof service, "%.*s", (int) (dot - cases[i].name), cases[i].name);
        const vmsg_method_t *m = vmsg_method_find (service, dot + 1);
        assert_non_null (m);
        s_roundtrip (cases[i].reply ? m->reply : m->request, cases[i].json);
    }
    s_roundtrip (vmsg_event_find ("echo.said")->schema, "{\"text\":\"said\"}");
    //  Replies that miss a field are refused by their schema, so a broker bug shows.
    vbuf_t mp;
    vbuf_init (&mp, NULL, 0);
    const vmsg_method_t *ping = vmsg_method_find ("broker", "ping");
    assert_int_equal (
        vmsg_json_to_msgpack (ping->reply, "{\"time_ms\":1}", 13, &mp, s_err, sizeof s_err),
        -VE_INVAL);
    assert_string_equal (s_err, "version: required");
    assert_int_equal (mp.len, 0);
    vbuf_free (&mp);
}

static void
test_json_coercion (void **state)
{
    (void) state;
    //  Numbers follow the field: 1 into a float, 3.0 into a uint; bytes are base64.
    char *text =
        s_to_json (&s_all, "{\"req\":\"x\",\"f\":1,\"u\":3.0,\"by\":\"AAEC\","
                           "\"items\":[{\"sku\":\"a\",\"qty\":2.0}],\"attrs\":{\"k\":4.0}}");
    s_json_same (text, "{\"req\":\"x\",\"f\":1.0,\"u\":3,\"by\":\"AAEC\","
                       "\"items\":[{\"sku\":\"a\",\"qty\":2}],\"attrs\":{\"k\":4}}");
    free (text);
    vbuf_t mp;
    vbuf_init (&mp, NULL, 0);
    const char *bad[][2] = {
        { "{\"req\":\"x\",\"u\":2.5}", "u: expected uint, got float" },
        { "{\"req\":\"x\",\"by\":\"!!!!\"}", "by: not valid base64" },
        { "{\"req\":\"x\",\"by\":\"AAECAwQ=\"}", "by: longer than 4 bytes" },
        { "{\"req\":\"x\",\"items\":[{\"sku\":\"a\",\"qty\":1e9}]}", "items[0].qty: above 1000" },
        { "[]", "body: expected object, got array" },
        { "{\"req\":\"x\",\"req\":\"y\"}", NULL },
        { "{\"req\":\"x\"", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc =
            vmsg_json_to_msgpack (&s_all, bad[i][0], strlen (bad[i][0]), &mp, s_err, sizeof s_err);
        assert_true (rc < 0);
        if (bad[i][1])
            assert_string_equal (s_err, bad[i][1]);
        else {
            assert_int_equal (rc, -VE_INVAL);
            assert_non_null (strstr (s_err, "bad JSON at line 1"));
        }
        assert_int_equal (mp.len, 0);
    }
    //  Base64 with and without padding; bin out as padded base64.
    static const char *const b64[][2] = {
        { "", "" }, { "AA", "AA==" }, { "AAE", "AAE=" }, { "AAEC", "AAEC" }, { "/+8=", "/+8=" },
    };
    for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
        char in[64], want[64];
        snprintf (in, sizeof in, "{\"req\":\"x\",\"by\":\"%s\"}", b64[i][0]);
        snprintf (want, sizeof want, "{\"req\":\"x\",\"by\":\"%s\"}", b64[i][1]);
        text = s_to_json (&s_all, in);
        s_json_same (text, want);
        free (text);
    }
    vbuf_free (&mp);
}

static void
test_json_generic (void **state)
{
    (void) state;
    s_roundtrip (NULL, "{\"a\":[null,true,false,-1,0,9223372036854775807,-9223372036854775808,"
                       "0.5,\"é\",{},[]],\"b\":{\"c\":{\"d\":\"e\"}}}");
    s_roundtrip (NULL, "\"just a string\"");
    s_roundtrip (NULL, "42");
    //  Unknown fields pass through a schema into msgpack untouched; shown through the schema,
    //  only the fields it knows remain.
    const char *future = "{\"req\":\"x\",\"future\":{\"any\":[1,\"thing\"]}}";
    vbuf_t mp;
    vbuf_init (&mp, NULL, 0);
    assert_int_equal (
        vmsg_json_to_msgpack (&s_all, future, strlen (future), &mp, s_err, sizeof s_err), 0);
    char *text = vmsg_msgpack_to_json (NULL, mp.data, mp.len, 0, s_err, sizeof s_err);
    s_json_same (text, future);
    free (text);
    text = vmsg_msgpack_to_json (&s_all, mp.data, mp.len, 0, s_err, sizeof s_err);
    s_json_same (text, "{\"req\":\"x\"}");
    free (text);
    vbuf_free (&mp);
    //  What JSON cannot hold is refused with the path.
    text = vmsg_msgpack_to_json (NULL, "\x91\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 10,
                                 VMSG_JSON_COMPACT, s_err, sizeof s_err);
    assert_null (text);
    assert_string_equal (s_err, "[0]: integer above 9223372036854775807 has no JSON form");
    text = vmsg_msgpack_to_json (NULL, "\x81\xa1k\xd4\x01\x00", 6, 0, s_err, sizeof s_err);
    assert_null (text);
    assert_string_equal (s_err, "k: ext type 1 has no JSON form");
    //  Bin without a schema is base64 text; an empty body is {}.
    text = vmsg_msgpack_to_json (NULL, "\xc4\x02\xff\xfe", 4, 0, s_err, sizeof s_err);
    assert_string_equal (text, "\"//4=\"");
    free (text);
    text = vmsg_msgpack_to_json (NULL, "", 0, VMSG_JSON_PRETTY, s_err, sizeof s_err);
    assert_string_equal (text, "{}");
    free (text);
    text = vmsg_msgpack_to_json (NULL, "\x81\xa1k\x01", 4, VMSG_JSON_PRETTY, s_err, sizeof s_err);
    assert_string_equal (text, "{\n  \"k\": 1\n}");
    free (text);
}

static void
test_json_limits (void **state)
{
    (void) state;
    vbuf_t mp;
    vbuf_init (&mp, NULL, 0);
    //  A depth bomb is refused before jansson's recursive parser sees it.
    size_t n = 1000000;
    char *bomb = malloc (n);
    memset (bomb, '[', n);
    assert_int_equal (vmsg_json_to_msgpack (NULL, bomb, n, &mp, s_err, sizeof s_err), -VE_DEPTH);
    assert_string_equal (s_err, "body: JSON nested deeper than 32");
    //  32 levels pass, 33 do not; brackets inside strings do not count.
    char text[256];
    memset (text, '[', 32);
    memset (text + 32, ']', 32);
    assert_int_equal (vmsg_json_to_msgpack (NULL, text, 64, &mp, s_err, sizeof s_err), 0);
    memset (text, '[', 33);
    memset (text + 33, ']', 33);
    assert_int_equal (vmsg_json_to_msgpack (NULL, text, 66, &mp, s_err, sizeof s_err), -VE_DEPTH);
    snprintf (text, sizeof text, "{\"req\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[\"}");
    assert_int_equal (vmsg_json_to_msgpack (&s_all, text, strlen (text), &mp, s_err, sizeof s_err),
                      0);
    free (bomb);
    //  Size.
    n = VMSG_MAX_JSON + 1;
    char *huge = malloc (n);
    memset (huge, ' ', n);
    assert_int_equal (vmsg_json_to_msgpack (NULL, huge, n, &mp, s_err, sizeof s_err), -VE_TOOBIG);
    free (huge);
    //  JSON within its limit that makes msgpack over the schema's limit.
    const char *long_req =
        "{\"req\":\"01234567890123456789012345678901234567890123456789012345678901234\"}";
    assert_int_equal (
        vmsg_json_to_msgpack (&s_small, long_req, strlen (long_req), &mp, s_err, sizeof s_err),
        -VE_TOOBIG);
    assert_string_equal (s_err, "body: larger than 64 bytes");
    vbuf_free (&mp);
}

//  ---------------------------------------------------------------- registry and docs

static void
test_registry (void **state)
{
    (void) state;
    const vmsg_method_t *m = vmsg_method_find ("broker", "stats");
    assert_non_null (m);
    assert_int_equal (m->role, VMSG_ROLE_SERVICE);
    assert_int_equal (vmsg_method_find ("broker", "ping")->role, VMSG_ROLE_PUBLIC);
    assert_int_equal (vmsg_method_find ("echo", "echo")->role, VMSG_ROLE_PUBLIC);
    assert_null (vmsg_method_find ("broker", "nope"));
    assert_null (vmsg_method_find ("nope", "ping"));
    assert_null (vmsg_method_find (NULL, "ping"));
    assert_non_null (vmsg_event_find ("echo.said"));
    assert_null (vmsg_event_find ("echo.nope"));
    assert_null (vmsg_event_find (NULL));
    size_t methods = 0, events = 0, domains = 0;
    char err[256];
    const vmsg_method_t *mi;
    const vmsg_event_t *ei;
    for (; (mi = vmsg_method_at (methods)); methods++) {
        assert_ptr_equal (vmsg_method_find (mi->service, mi->method), mi);
        if (vmsg_schema_check (mi->request, err, sizeof err)
            || vmsg_schema_check (mi->reply, err, sizeof err))
            fail_msg ("%s.%s: %s", mi->service, mi->method, err);
    }
    for (; (ei = vmsg_event_at (events)); events++)
        if (vmsg_schema_check (ei->schema, err, sizeof err))
            fail_msg ("%s: %s", ei->topic, err);
    while (vmsg_domain_at (domains))
        domains++;
    //  The flat iteration sees exactly what the domains' tables hold.
    size_t listed_methods = 0, listed_events = 0;
    for (size_t d = 0; d < domains; d++) {
        for (const vmsg_method_t *m2 = vmsg_domain_at (d)->methods; m2 && m2->method; m2++)
            listed_methods++;
        for (const vmsg_event_t *e2 = vmsg_domain_at (d)->events; e2 && e2->topic; e2++)
            listed_events++;
    }
    assert_int_equal (methods, listed_methods);
    assert_int_equal (events, listed_events);
    assert_true (domains >= 2 && methods >= 7 && events >= 1);
    assert_true (vmsg_role_allows (VMSG_ROLE_PUBLIC, 0));
    assert_false (vmsg_role_allows (VMSG_ROLE_SERVICE, VMSG_ROLE_CUSTOMER));
    assert_true (vmsg_role_allows (VMSG_ROLE_SERVICE, VMSG_ROLE_SERVICE | VMSG_ROLE_ADMIN));
    assert_true (vmsg_role_allows (VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE, VMSG_ROLE_ADMIN));
    assert_int_equal (vmsg_schema_check (&s_all, err, sizeof err), 0);
}

static void
test_schema_check (void **state)
{
    (void) state;
    static const vmsg_field_t dup[] = { { "a", VMSG_INT, .doc = "" },
                                        { "a", VMSG_UINT, .doc = "" },
                                        { 0 } };
    static const vmsg_field_t range[] = { { "a", VMSG_INT, VMSG_RANGE (5, 1), .doc = "" }, { 0 } };
    static const vmsg_field_t nested[] = { { "a", VMSG_ARRAY, VMSG_ARRAY, .doc = "" }, { 0 } };
    static const vmsg_field_t noschema[] = { { "a", VMSG_MSG, .doc = "" }, { 0 } };
    static const vmsg_field_t nodoc[] = { { "a", VMSG_BOOL, .required = false }, { 0 } };
    static const struct {
        vmsg_schema_t schema;
        const char *why;
    } cases[] = {
        { { "t", dup, 0, "" }, "t.a: duplicate field name" },
        { { "t", range, 0, "" }, "t.a: min above max" },
        { { "t", nested, 0, "" },
          "t.a: elements may not be arrays or maps (use a message or any)" },
        { { "t", noschema, 0, "" }, "t.a: a schema is needed for messages, and only for them" },
        { { "t", nodoc, 0, "" }, "t.a: no doc" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal (vmsg_schema_check (&cases[i].schema, err, sizeof err), -VE_CONFIG);
        assert_string_equal (err, cases[i].why);
    }
}

static void
test_docs_up_to_date (void **state)
{
    (void) state;
    char *want = NULL;
    size_t want_len = 0;
    FILE *mem = open_memstream (&want, &want_len);
    assert_non_null (mem);
    assert_int_equal (vmsg_doc_markdown (mem), 0);
    fclose (mem);
    const char *path = VITRINE_SOURCE_DIR "/docs/messages.md";
    FILE *f = fopen (path, "rb");
    if (!f)
        fail_msg ("cannot read %s", path);
    char *have = malloc (want_len + 2);
    size_t have_len = fread (have, 1, want_len + 1, f);
    fclose (f);
    if (have_len != want_len || memcmp (have, want, want_len))
        fail_msg ("%s is out of date: regenerate it with vitrine-schema-doc -o %s", path, path);
    free (have);
    free (want);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_type),    cmocka_unit_test (test_limits),
        cmocka_unit_test (test_wrong_types),   cmocka_unit_test (test_unknown_fields),
        cmocka_unit_test (test_enums),
        cmocka_unit_test (test_depth),         cmocka_unit_test (test_text),
        cmocka_unit_test (test_malformed),     cmocka_unit_test (test_size_limit),
        cmocka_unit_test (test_empty_body),    cmocka_unit_test (test_accessors),
        cmocka_unit_test (test_arena),         cmocka_unit_test (test_error_buffer),
        cmocka_unit_test (test_encode),        cmocka_unit_test (test_json_roundtrip_registry),
        cmocka_unit_test (test_json_coercion), cmocka_unit_test (test_json_generic),
        cmocka_unit_test (test_json_limits),   cmocka_unit_test (test_registry),
        cmocka_unit_test (test_schema_check),  cmocka_unit_test (test_docs_up_to_date),
    };
    int rc = cmocka_run_group_tests (tests, s_setup, s_teardown);
    vbuf_free (&s_mp);
    return rc;
}
