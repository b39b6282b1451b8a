//  test_vmp.c — the MessagePack reader and the growable buffer (schemas/vmp.h): every type and
//  width, truncation everywhere, lying counts, the depth limit, buffer growth and its limit.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "verr.h"
#include "vmp.h"

typedef struct {
    const char *bytes;
    size_t len;
    vmp_kind_t kind;
    uint64_t u;  //  UINT value, or len of STR/BIN/EXT/ARRAY/MAP
    int64_t i;   //  INT value, or ext type
    double f;
} s_case_t;

#define B(s) s, sizeof (s) - 1

static const s_case_t s_cases[] = {
    { B ("\xc0"), VMP_NIL, 0, 0, 0 },
    { B ("\xc2"), VMP_BOOL, 0, 0, 0 },
    { B ("\xc3"), VMP_BOOL, 1, 0, 0 },
    { B ("\x00"), VMP_UINT, 0, 0, 0 },
    { B ("\x7f"), VMP_UINT, 127, 0, 0 },
    { B ("\xe0"), VMP_INT, 0, -32, 0 },
    { B ("\xff"), VMP_INT, 0, -1, 0 },
    { B ("\xcc\xff"), VMP_UINT, 255, 0, 0 },
    { B ("\xcd\xff\xfe"), VMP_UINT, 65534, 0, 0 },
    { B ("\xce\xff\xff\xff\xfd"), VMP_UINT, 4294967293u, 0, 0 },
    { B ("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), VMP_UINT, UINT64_MAX, 0, 0 },
    { B ("\xd0\x80"), VMP_INT, 0, -128, 0 },
    { B ("\xd0\x05"), VMP_UINT, 5, 0, 0 },
    { B ("\xd1\x80\x00"), VMP_INT, 0, -32768, 0 },
    { B ("\xd2\x80\x00\x00\x00"), VMP_INT, 0, INT32_MIN, 0 },
    { B ("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), VMP_INT, 0, INT64_MIN, 0 },
    { B ("\xd3\x7f\xff\xff\xff\xff\xff\xff\xff"), VMP_UINT, INT64_MAX, 0, 0 },
    { B ("\xca\x3f\xc0\x00\x00"), VMP_FLOAT, 0, 0, 1.5 },
    { B ("\xcb\xc0\x04\x00\x00\x00\x00\x00\x00"), VMP_FLOAT, 0, 0, -2.5 },
    { B ("\xa3"
         "abc"),
      VMP_STR, 3, 0, 0 },
    { B ("\xd9\x02"
         "ab"),
      VMP_STR, 2, 0, 0 },
    { B ("\xda\x00\x01"
         "a"),
      VMP_STR, 1, 0, 0 },
    { B ("\xdb\x00\x00\x00\x02"
         "ab"),
      VMP_STR, 2, 0, 0 },
    { B ("\xc4\x01"
         "x"),
      VMP_BIN, 1, 0, 0 },
    { B ("\xc5\x00\x02"
         "xy"),
      VMP_BIN, 2, 0, 0 },
    { B ("\xc6\x00\x00\x00\x00"), VMP_BIN, 0, 0, 0 },
    { B ("\x92\x01\x02"), VMP_ARRAY, 2, 0, 0 },
    { B ("\xdc\x00\x01\x01"), VMP_ARRAY, 1, 0, 0 },
    { B ("\xdd\x00\x00\x00\x01\x01"), VMP_ARRAY, 1, 0, 0 },
    { B ("\x81\xa1"
         "a"
         "\x01"),
      VMP_MAP, 1, 0, 0 },
    { B ("\xde\x00\x01\xa1"
         "a"
         "\x01"),
      VMP_MAP, 1, 0, 0 },
    { B ("\xdf\x00\x00\x00\x01\xa1"
         "a"
         "\x01"),
      VMP_MAP, 1, 0, 0 },
    { B ("\xd4\x07"
         "a"),
      VMP_EXT, 1, 7, 0 },
    { B ("\xd5\x07"
         "ab"),
      VMP_EXT, 2, 7, 0 },
    { B ("\xd6\xf9"
         "abcd"),
      VMP_EXT, 4, -7, 0 },
    { B ("\xd7\x01"
         "abcdefgh"),
      VMP_EXT, 8, 1, 0 },
    { B ("\xd8\x01"
         "abcdefghabcdefgh"),
      VMP_EXT, 16, 1, 0 },
    { B ("\xc7\x03\x02"
         "abc"),
      VMP_EXT, 3, 2, 0 },
    { B ("\xc8\x00\x01\x02"
         "a"),
      VMP_EXT, 1, 2, 0 },
    { B ("\xc9\x00\x00\x00\x01\x02"
         "a"),
      VMP_EXT, 1, 2, 0 },
};

static void
test_every_type (void **state)
{
    (void) state;
    for (size_t n = 0; n < sizeof s_cases / sizeof s_cases[0]; n++) {
        const s_case_t *c = &s_cases[n];
        vmp_reader_t r;
        vmp_item_t it;
        vmp_reader_init (&r, c->bytes, c->len);
        assert_int_equal (vmp_read (&r, &it), 0);
        assert_int_equal (it.kind, c->kind);
        switch (c->kind) {
        case VMP_BOOL: assert_int_equal (it.v.b, c->u); break;
        case VMP_UINT: assert_true (it.v.u == c->u); break;
        case VMP_INT: assert_true (it.v.i == c->i); break;
        case VMP_FLOAT: assert_true (it.v.f == c->f); break;
        case VMP_EXT: assert_int_equal (it.ext_type, c->i);  //  fall through
        case VMP_STR:
        case VMP_BIN:
            assert_int_equal (it.len, c->u);
            //  The payload is the tail of the bytes.
            assert_ptr_equal (it.v.ptr, c->bytes + c->len - c->u);
            break;
        case VMP_ARRAY:
        case VMP_MAP: assert_int_equal (it.len, c->u); break;
        default: break;
        }
        //  A whole value: vmp_check agrees, and every shorter prefix is refused.
        assert_int_equal (vmp_check (c->bytes, c->len, VMP_MAX_DEPTH), 0);
        for (size_t cut = 0; cut < c->len; cut++) {
            int rc = vmp_check (c->bytes, cut, VMP_MAX_DEPTH);
            assert_true (rc == -VE_TRUNC || rc == -VE_PROTO);
        }
    }
}

static void
test_reserved_byte (void **state)
{
    (void) state;
    vmp_reader_t r;
    vmp_item_t it;
    vmp_reader_init (&r, "\xc1", 1);
    assert_int_equal (vmp_read (&r, &it), -VE_PROTO);
    assert_ptr_equal (r.p, r.end - 1);  //  unmoved
    assert_int_equal (vmp_check ("\x92\x01\xc1", 3, VMP_MAX_DEPTH), -VE_PROTO);
}

static void
test_count_lies (void **state)
{
    (void) state;
    vmp_reader_t r;
    vmp_item_t it;
    //  2^32-1 elements claimed in 5 bytes: refused at once, before anything could be sized.
    vmp_reader_init (&r, "\xdd\xff\xff\xff\xff", 5);
    assert_int_equal (vmp_read (&r, &it), -VE_PROTO);
    vmp_reader_init (&r, "\xdf\xff\xff\xff\xff", 5);
    assert_int_equal (vmp_read (&r, &it), -VE_PROTO);
    vmp_reader_init (&r, "\xdc\x00\x03\x01\x02", 5);
    assert_int_equal (vmp_read (&r, &it), -VE_PROTO);
    //  A map of 2 pairs needs 4 bytes.
    vmp_reader_init (&r, "\x82\x01\x02\x03", 4);
    assert_int_equal (vmp_read (&r, &it), -VE_PROTO);
    //  A string longer than what is left is a truncation.
    vmp_reader_init (&r,
                     "\xdb\xff\xff\xff\xff"
                     "abc",
                     8);
    assert_int_equal (vmp_read (&r, &it), -VE_TRUNC);
    assert_int_equal (vmp_check ("\xdd\xff\xff\xff\xff", 5, VMP_MAX_DEPTH), -VE_PROTO);
}

//  n nested one-element arrays around a 0.
static size_t
s_nested (char *buf, int n)
{
    memset (buf, 0x91, (size_t) n);
    buf[n] = 0;
    return (size_t) n + 1;
}

static void
test_depth (void **state)
{
    (void) state;
    char buf[64];
    assert_int_equal (vmp_check (buf, s_nested (buf, 32), VMP_MAX_DEPTH), 0);
    assert_int_equal (vmp_check (buf, s_nested (buf, 33), VMP_MAX_DEPTH), -VE_DEPTH);
    assert_int_equal (vmp_check (buf, s_nested (buf, 3), 2), -VE_DEPTH);
    assert_int_equal (vmp_check (buf, s_nested (buf, 2), 2), 0);
    //  An empty container is a level too, as the codec counts it.
    s_nested (buf, 32);
    buf[32] = (char) 0x90;
    assert_int_equal (vmp_check (buf, 33, VMP_MAX_DEPTH), -VE_DEPTH);
    assert_int_equal (vmp_check (buf + 1, 32, VMP_MAX_DEPTH), 0);
    //  A refused skip leaves the reader where it was.
    vmp_reader_t r;
    vmp_reader_init (&r, buf, s_nested (buf, 40));
    assert_int_equal (vmp_skip (&r, VMP_MAX_DEPTH), -VE_DEPTH);
    assert_ptr_equal (r.p, (const uint8_t *) buf);
}

static void
test_truncation_everywhere (void **state)
{
    (void) state;
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 3);
    vmp_pack_cstr (&pk, "name");
    vmp_pack_cstr (&pk, "a fairly long string that needs str8");
    vmp_pack_cstr (&pk, "list");
    msgpack_pack_array (&pk, 4);
    msgpack_pack_uint64 (&pk, 1ull << 40);
    msgpack_pack_int32 (&pk, -70000);
    msgpack_pack_double (&pk, 0.25);
    msgpack_pack_bin (&pk, 3);
    msgpack_pack_bin_body (&pk, "\0\1\2", 3);
    vmp_pack_cstr (&pk, "nested");
    msgpack_pack_map (&pk, 1);
    vmp_pack_cstr (&pk, "x");
    msgpack_pack_nil (&pk);
    assert_false (buf.failed);
    assert_int_equal (vmp_check (buf.data, buf.len, VMP_MAX_DEPTH), 0);
    for (size_t cut = 0; cut < buf.len; cut++) {
        vmp_reader_t r;
        vmp_reader_init (&r, buf.data, cut);
        int rc = vmp_skip (&r, VMP_MAX_DEPTH);
        assert_true (rc == -VE_TRUNC || rc == -VE_PROTO);
        assert_ptr_equal (r.p, (const uint8_t *) buf.data);
    }
    //  One byte too many is not one value.
    vbuf_append (&buf, "\x00", 1);
    assert_int_equal (vmp_check (buf.data, buf.len, VMP_MAX_DEPTH), -VE_PROTO);
    vbuf_free (&buf);
}

static void
test_typed_reads (void **state)
{
    (void) state;
    vmp_reader_t r;
    uint64_t u;
    int64_t i;
    bool b;
    uint32_t n;
    const char *s;
    vmp_reader_init (&r, "\xff", 1);
    assert_int_equal (vmp_read_uint (&r, &u), -VE_TYPE);
    assert_int_equal (vmp_read_int (&r, &i), 0);
    assert_int_equal (i, -1);
    vmp_reader_init (&r, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
    assert_int_equal (vmp_read_int (&r, &i), -VE_RANGE);
    assert_ptr_equal (r.p, r.end - 9);
    assert_int_equal (vmp_read_uint (&r, &u), 0);
    assert_true (u == UINT64_MAX);
    vmp_reader_init (&r, "\xc3\x92\x81\xa2hi\xc0", 7);
    assert_int_equal (vmp_read_str (&r, &s, &n), -VE_TYPE);
    assert_int_equal (vmp_read_bool (&r, &b), 0);
    assert_true (b);
    assert_int_equal (vmp_read_map (&r, &n), -VE_TYPE);
    assert_int_equal (vmp_read_array (&r, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (vmp_read_map (&r, &n), 0);
    assert_int_equal (n, 1);
    assert_int_equal (vmp_read_str (&r, &s, &n), 0);
    assert_int_equal (n, 2);
    assert_memory_equal (s, "hi", 2);
    assert_false (vmp_reader_done (&r));
    assert_true (vmp_read_nil (&r));
    assert_true (vmp_reader_done (&r));
    assert_false (vmp_read_nil (&r));
}

static void
test_vbuf_growth (void **state)
{
    (void) state;
    char storage[16];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    assert_int_equal (vbuf_append (&buf, "0123456789", 10), 0);
    assert_ptr_equal (buf.data, storage);
    assert_false (buf.heap);
    assert_int_equal (vbuf_append (&buf, "abcdefghij", 10), 0);
    assert_true (buf.heap);
    assert_ptr_not_equal (buf.data, storage);
    assert_int_equal (buf.len, 20);
    assert_memory_equal (buf.data, "0123456789abcdefghij", 20);
    char big[1000];
    memset (big, 'z', sizeof big);
    for (int k = 0; k < 100; k++)
        assert_int_equal (vbuf_append (&buf, big, sizeof big), 0);
    assert_int_equal (buf.len, 100020);
    assert_memory_equal (buf.data + 20, big, sizeof big);
    size_t len;
    char *owned = vbuf_detach (&buf, &len);
    assert_non_null (owned);
    assert_int_equal (len, 100020);
    free (owned);
    assert_null (buf.data);

    //  Detaching from caller storage copies.
    vbuf_init (&buf, storage, sizeof storage);
    vbuf_append (&buf, "hey", 3);
    owned = vbuf_detach (&buf, &len);
    assert_ptr_not_equal (owned, storage);
    assert_memory_equal (owned, "hey", 3);
    free (owned);

    //  The limit: a write past it fails and the buffer stays failed until reset.
    vbuf_init (&buf, storage, sizeof storage);
    buf.limit = 100;
    assert_int_equal (vbuf_append (&buf, big, 100), 0);
    assert_int_equal (vbuf_append (&buf, "x", 1), -VE_TOOBIG);
    assert_true (buf.failed);
    assert_int_equal (buf.len, 100);
    assert_int_equal (vbuf_append (&buf, "", 0), -VE_NOMEM);
    assert_null (vbuf_detach (&buf, &len));
    vbuf_init (&buf, storage, sizeof storage);
    buf.limit = 8;
    assert_int_equal (vbuf_append (&buf, big, 9), -VE_TOOBIG);
    vbuf_reset (&buf);
    assert_int_equal (vbuf_append (&buf, big, 8), 0);
    vbuf_free (&buf);
    vbuf_free (NULL);

    //  The packer glue writes through the buffer; NULL strings pack as nil.
    vbuf_init (&buf, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    assert_int_equal (vmp_pack_cstr (&pk, NULL), 0);
    assert_int_equal (vmp_pack_cstr (&pk, "ok"), 0);
    assert_int_equal (buf.len, 4);
    assert_memory_equal (buf.data, "\xc0\xa2ok", 4);
    vbuf_free (&buf);
}

//  vmp_map_begin/end: the count is what was packed, nested containers counted as one value.
static void
test_map_counts_itself (void **state)
{
    (void) state;
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    size_t outer = vmp_map_begin (&pk);
    vmp_pack_kstr (&pk, "a", "x");
    vmp_pack_cstr (&pk, "nested");
    size_t inner = vmp_map_begin (&pk);
    vmp_pack_kuint (&pk, "b", 1);
    vmp_pack_kuint (&pk, "c", 2);
    assert_int_equal (vmp_map_end (&pk, inner), 2);
    vmp_pack_cstr (&pk, "list");
    msgpack_pack_array (&pk, 2);
    msgpack_pack_nil (&pk);
    msgpack_pack_true (&pk);
    assert_int_equal (vmp_map_end (&pk, outer), 3);
    vmp_reader_t r;
    vmp_reader_init (&r, buf.data, buf.len);
    uint32_t n;
    assert_int_equal (vmp_read_map (&r, &n), 0);
    assert_int_equal (n, 3);
    assert_int_equal (vmp_check (buf.data, buf.len, VMP_MAX_DEPTH), 0);
    //  A key without its value is the packer's bug, and said so.
    size_t odd = vmp_map_begin (&pk);
    vmp_pack_cstr (&pk, "lonely");
    assert_int_equal (vmp_map_end (&pk, odd), -VE_PROTO);
    vbuf_free (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_type),
        cmocka_unit_test (test_map_counts_itself),
        cmocka_unit_test (test_reserved_byte),
        cmocka_unit_test (test_count_lies),
        cmocka_unit_test (test_depth),
        cmocka_unit_test (test_truncation_everywhere),
        cmocka_unit_test (test_typed_reads),
        cmocka_unit_test (test_vbuf_growth),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
