//  test_vbus_proto.c — the bus's wire encoding: command frames, request/reply headers, READY.
#include "vbus_proto.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
test_command_frame (void **state)
{
    (void) state;
    uint8_t cmd[4];
    vbus__cmd (cmd, VBUS_REQUEST);
    assert_int_equal (vbus__cmd_parse (cmd, 4), VBUS_REQUEST);
    assert_int_equal (vbus__cmd_parse (cmd, 3), -VE_PROTO);
    assert_int_equal (vbus__cmd_parse ("VB\x01\x02"
                                       "\x95",
                                       5),
                      VBUS_REQUEST);  //  + header
    cmd[2] = VBUS_VERSION + 1;
    assert_int_equal (vbus__cmd_parse (cmd, 4), -VE_PROTO);
    assert_int_equal (vbus__cmd_parse ("VB\x01\x09", 4), -VE_PROTO);
    assert_int_equal (vbus__cmd_parse ("XB\x01\x02", 4), -VE_PROTO);
}

static void
test_header_roundtrip (void **state)
{
    (void) state;
    vbus__header_t h = { .partition = 5,
                         .id = 0x1234567890ull,
                         .service = "catalog",
                         .service_len = 7,
                         .method = "search",
                         .method_len = 6,
                         .deadline_ms = 1764000000000,
                         .trace = "t-1",
                         .trace_len = 3,
                         .key = "sku-9",
                         .key_len = 5,
                         .user = "u1",
                         .user_len = 2,
                         .roles = VBUS_ROLE_ADMIN,
                         .flags = VBUS_FLAG_IDEMPOTENT };
    char buf[VBUS_MAX_HEADER];
    int len = vbus__header_encode (&h, buf, sizeof buf);
    assert_true (len > 0);
    vbus__header_t d;
    size_t used;
    assert_int_equal (vbus__header_decode (&d, buf, (size_t) len, &used), 0);
    assert_int_equal (d.id, h.id);
    assert_memory_equal (d.service, "catalog", 7);
    assert_memory_equal (d.method, "search", 6);
    assert_int_equal (d.deadline_ms, h.deadline_ms);
    assert_memory_equal (d.key, "sku-9", 5);
    assert_int_equal (d.key_len, 5);
    assert_memory_equal (d.user, "u1", 2);
    assert_int_equal (d.roles, VBUS_ROLE_ADMIN);
    assert_int_equal (d.flags, VBUS_FLAG_IDEMPOTENT);
    assert_int_equal (d.partition, 5);
    assert_int_equal (used, len);
    //  The body follows the header in the same frame.
    memcpy (buf + len, "\x81\xa1q\x01", 4);
    assert_int_equal (vbus__header_decode (&d, buf, (size_t) len + 4, &used), 0);
    assert_int_equal (used, len);
    //  Every truncation is refused, never read past.
    for (int cut = 0; cut < len; cut++)
        assert_true (vbus__header_decode (&d, buf, (size_t) cut, &used) < 0);
}

static void
test_header_unkeyed_and_forward_compatible (void **state)
{
    (void) state;
    //  [1, "svc", "get", 5, nil, nil, nil, 0, 0, nil, "future", {"x": 1}]: elements after the
    //  known ten are skipped.
    const char wire[] = "\x9c\x01\xa3svc\xa3get\x05\xc0\xc0\xc0\x00\x00\xc0\xa6"
                        "future\x81\xa1x\x01";
    vbus__header_t d;
    size_t used;
    assert_int_equal (vbus__header_decode (&d, wire, sizeof wire - 1, &used), 0);
    assert_int_equal (used, sizeof wire - 1);
    assert_memory_equal (d.service, "svc", 3);
    assert_null (d.key);
    assert_null (d.user);
    assert_null (d.trace);
    assert_int_equal (d.partition, -1);
    //  Only five elements: still valid (key, caller, flags are optional).
    assert_int_equal (vbus__header_decode (&d, "\x95\x01\xa3svc\xa3get\x05\xc0", 12, &used), 0);
    //  Four: refused.
    assert_int_equal (vbus__header_decode (&d, "\x94\x01\xa3svc\xa3get\x05", 11, &used), -VE_PROTO);
}

static void
test_header_limits (void **state)
{
    (void) state;
    char key[VBUS_MAX_KEY + 2];
    memset (key, 'k', sizeof key);
    vbus__header_t h = { .partition = -1,
                         .id = 1,
                         .service = "s",
                         .service_len = 1,
                         .method = "get",
                         .method_len = 3,
                         .deadline_ms = 1,
                         .key = key,
                         .key_len = VBUS_MAX_KEY + 1 };
    char buf[VBUS_MAX_HEADER];
    int len = vbus__header_encode (&h, buf, sizeof buf);
    vbus__header_t d;
    size_t used;
    assert_int_equal (vbus__header_decode (&d, buf, (size_t) len, &used), -VE_TOOBIG);
    //  Method names are [a-z0-9_-].
    h = (vbus__header_t) { .partition = -1,
                           .id = 1,
                           .service = "s",
                           .service_len = 1,
                           .method = "Get!",
                           .method_len = 4,
                           .deadline_ms = 1 };
    len = vbus__header_encode (&h, buf, sizeof buf);
    assert_int_equal (vbus__header_decode (&d, buf, (size_t) len, &used), -VE_PROTO);
    //  A header over the size limit is refused: the reader never looks past VBUS_MAX_HEADER.
    static char big[VBUS_MAX_HEADER + 64];
    big[0] = (char) 0x95;
    big[1] = 0x01;
    big[2] = (char) 0xda;  //  str16 of 2000 bytes: longer than a header may be
    big[3] = 0x07;
    big[4] = (char) 0xd0;
    assert_int_equal (vbus__header_decode (&d, big, sizeof big, &used), -VE_TRUNC);
    //  Wrong types.
    assert_int_equal (vbus__header_decode (&d, "\x95\xa1x\xa1s\xa3get\x05\xc0", 11, &used),
                      -VE_TYPE);
}

static void
test_reply_roundtrip (void **state)
{
    (void) state;
    char buf[VBUS_MAX_HEADER];
    int len = vbus__reply_encode (77, VE_CONFLICT, "email: taken", 12, buf, sizeof buf);
    uint64_t id;
    int status;
    const char *msg;
    uint32_t msg_len;
    size_t used;
    assert_int_equal (vbus__reply_decode (buf, (size_t) len, &id, &status, &msg, &msg_len, &used),
                      0);
    assert_int_equal (id, 77);
    assert_int_equal (status, VE_CONFLICT);
    assert_memory_equal (msg, "email: taken", 12);
    assert_int_equal (used, len);
    //  A status beyond the list is refused.
    len = vbus__reply_encode (77, 31, "", 0, buf, sizeof buf);
    assert_int_equal (vbus__reply_decode (buf, (size_t) len, &id, &status, &msg, &msg_len, &used),
                      -VE_RANGE);
}

static void
test_ready_roundtrip_and_limits (void **state)
{
    (void) state;
    uint32_t owned[] = { 1, 5 };
    vbus__ready_t r = { .partitions = 8,
                        .owned = owned,
                        .owned_count = 2,
                        .credit = 32,
                        .name = "w",
                        .name_len = 1,
                        .heartbeat_ms = 1000 };
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    assert_int_equal (vbus__ready_encode (&r, &buf), 0);
    vbus__ready_t d;
    uint8_t bits[VBUS_MAX_PARTITIONS / 8];
    bool all;
    assert_int_equal (vbus__ready_decode (buf.data, buf.len, &d, bits, sizeof bits, &all), 0);
    assert_false (all);
    assert_int_equal (bits[0], (1 << 1) | (1 << 5));
    assert_int_equal (d.credit, 32);
    assert_int_equal (d.partitions, 8);
    vbuf_free (&buf);
    //  A partition beyond P, P beyond the maximum and zero credit are refused.
    uint32_t bad[] = { 8 };
    r.owned = bad;
    r.owned_count = 1;
    vbuf_init (&buf, NULL, 0);
    vbus__ready_encode (&r, &buf);
    assert_int_equal (vbus__ready_decode (buf.data, buf.len, &d, bits, sizeof bits, &all),
                      -VE_RANGE);
    vbuf_free (&buf);
    r = (vbus__ready_t) { .partitions = VBUS_MAX_PARTITIONS + 1, .credit = 1, .heartbeat_ms = 100 };
    vbuf_init (&buf, NULL, 0);
    vbus__ready_encode (&r, &buf);
    assert_int_equal (vbus__ready_decode (buf.data, buf.len, &d, bits, sizeof bits, &all),
                      -VE_RANGE);
    vbuf_free (&buf);
    r = (vbus__ready_t) { .partitions = 1, .credit = 0, .heartbeat_ms = 100 };
    vbuf_init (&buf, NULL, 0);
    vbus__ready_encode (&r, &buf);
    assert_int_equal (vbus__ready_decode (buf.data, buf.len, &d, bits, sizeof bits, &all),
                      -VE_RANGE);
    vbuf_free (&buf);
}

static void
test_partition_and_endpoints (void **state)
{
    (void) state;
    //  FNV-1a 64 of "" is the offset basis; stable across processes and releases.
    assert_int_equal (vbus_partition ("", 0, 1000), 0xcbf29ce484222325ull % 1000);
    assert_int_equal (vbus_partition ("a", 1, 1u << 31), 0xaf63dc4c8601ec8cull % (1u << 31));
    assert_int_equal (vbus_partition ("anything", 8, 1), 0);
    char out[64];
    assert_int_equal (vbus_endpoint_offset ("tcp://127.0.0.1:7700", 2, out, sizeof out), 0);
    assert_string_equal (out, "tcp://127.0.0.1:7702");
    assert_int_equal (vbus_endpoint_offset ("ipc:///tmp/x", 1, out, sizeof out), 0);
    assert_string_equal (out, "ipc:///tmp/x-1");
    assert_int_equal (vbus_endpoint_offset ("ipc:///tmp/x", 0, out, sizeof out), 0);
    assert_string_equal (out, "ipc:///tmp/x");
    assert_int_equal (vbus_endpoint_offset ("ipc://", 1, out, sizeof out), -VE_INVAL);
    assert_int_equal (vbus_endpoint_offset ("udp://h:1", 1, out, sizeof out), -VE_INVAL);
    char tiny[8];
    assert_int_equal (vbus_endpoint_offset ("ipc:///tmp/x", 2, tiny, sizeof tiny), -VE_INVAL);
    assert_int_equal (vbus_endpoint_offset ("tcp://h:65535", 1, out, sizeof out), -VE_INVAL);
    assert_true (vbus__name_ok ("catalog", 7, VBUS_MAX_SERVICE));
    assert_false (vbus__name_ok ("Catalog", 7, VBUS_MAX_SERVICE));
    assert_false (vbus__name_ok ("", 0, VBUS_MAX_SERVICE));
}

//  VITRINE_LOG=json (set in main before any line is logged): one JSON object per line, with
//  the message escaped.
static void
test_log_json (void **state)
{
    (void) state;
    char path[] = "/tmp/vbus-log-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    int saved = dup (2);
    dup2 (fd, 2);
    vbus_log ('W', "tester", "say \"hi\"\nand\\go");
    fflush (stderr);
    dup2 (saved, 2);
    close (saved);
    char line[512] = "";
    FILE *f = fdopen (fd, "r");
    rewind (f);
    assert_non_null (fgets (line, sizeof line, f));
    fclose (f);
    unlink (path);
    assert_int_equal (strncmp (line, "{\"ts\":\"", 7), 0);
    assert_non_null (strstr (
        line, "\"level\":\"W\",\"who\":\"tester\",\"msg\":\"say \\\"hi\\\"\\u000aand\\\\go\"}\n"));
}

int
main (void)
{
    setenv ("VITRINE_LOG", "json", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_command_frame),
        cmocka_unit_test (test_header_roundtrip),
        cmocka_unit_test (test_header_unkeyed_and_forward_compatible),
        cmocka_unit_test (test_header_limits),
        cmocka_unit_test (test_reply_roundtrip),
        cmocka_unit_test (test_ready_roundtrip_and_limits),
        cmocka_unit_test (test_partition_and_endpoints),
        cmocka_unit_test (test_log_json),
    };
    return cmocka_run_group_tests_name ("vbus_proto", tests, NULL, NULL);
}
