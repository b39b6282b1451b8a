//  test_edge_ident.c — who is calling, as the edge decides it: tokens from the Authorization
//  header or the vt_access cookie, verified by signature and expiry with auth's own code, the
//  role decision (proceed anonymously, 401, 403), and request ids.
#include "edge_ident.h"
#include "vmsg.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#define KEY_HEX   "5f3c8a1e9b2d4c6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define OTHER_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define NOW       1780000000000LL

static auth_token_key_t s_key, s_other;

static int
s_setup (void **state)
{
    (void) state;
    return auth_token_key_from_hex (&s_key, KEY_HEX)
           || auth_token_key_from_hex (&s_other, OTHER_HEX);
}

static void
s_sign (const auth_token_key_t *key, const char *user, uint32_t roles, int64_t exp, char *out)
{
    auth_token_claims_t claims = { .roles = roles, .issued_ms = NOW - 1000, .expires_ms = exp };
    snprintf (claims.user_id, sizeof claims.user_id, "%s", user);
    assert_true (auth_token_sign (key, &claims, out, AUTH_TOKEN_MAX) > 0);
}

static int
s_check (const char *token, uint32_t role, auth_token_claims_t *claims, bool *identified)
{
    const char *why;
    return edge_ident_check (&s_key, token, token ? strlen (token) : 0, NOW, role, claims,
                             identified, &why);
}

static void
test_token_sources (void **state)
{
    (void) state;
    size_t len;
    const char *t = edge_ident_token ("Bearer abc.def", 14, NULL, 0, &len);
    assert_int_equal (len, 7);
    assert_memory_equal (t, "abc.def", 7);
    t = edge_ident_token ("bearer   abc", 12, NULL, 0, &len);  //  scheme is case-insensitive
    assert_int_equal (len, 3);
    //  The cookie when there is no Authorization header.
    const char *cookie = "theme=dark; vt_access=tok.en; vt_refresh=r";
    t = edge_ident_token (NULL, 0, cookie, strlen (cookie), &len);
    assert_int_equal (len, 6);
    assert_memory_equal (t, "tok.en", 6);
    //  A present header that is not Bearer never falls back to the cookie.
    t = edge_ident_token ("Basic dXNlcjpwYXNz", 18, cookie, strlen (cookie), &len);
    assert_int_equal (len, 0);
    assert_null (edge_ident_token (NULL, 0, "a=1", 3, &len));
    assert_null (edge_ident_token (NULL, 0, NULL, 0, &len));
    //  Cookie parsing.
    assert_null (edge_cookie ("xvt_access=1", 12, "vt_access", &len));
    t = edge_cookie ("a=1;vt_refresh=\"q\" ", 19, "vt_refresh", &len);
    assert_int_equal (len, 1);
    assert_memory_equal (t, "q", 1);
    t = edge_cookie ("a=", 2, "a", &len);
    assert_int_equal (len, 0);
}

static void
test_role_decisions (void **state)
{
    (void) state;
    char good[AUTH_TOKEN_MAX], admin[AUTH_TOKEN_MAX], expired[AUTH_TOKEN_MAX],
        forged[AUTH_TOKEN_MAX], tampered[AUTH_TOKEN_MAX];
    s_sign (&s_key, "u-1", VMSG_ROLE_CUSTOMER, NOW + 60000, good);
    s_sign (&s_key, "root", VMSG_ROLE_ADMIN | VMSG_ROLE_CUSTOMER, NOW + 60000, admin);
    s_sign (&s_key, "u-1", VMSG_ROLE_CUSTOMER, NOW, expired);  //  refused from exp on
    s_sign (&s_other, "u-1", VMSG_ROLE_CUSTOMER, NOW + 60000, forged);
    strcpy (tampered, good);
    tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
    auth_token_claims_t claims;
    bool who;
    const uint32_t signed_in = VMSG_ROLE_CUSTOMER | VMSG_ROLE_ADMIN;
    //  A route that needs a role.
    assert_int_equal (s_check (good, signed_in, &claims, &who), 0);
    assert_true (who);
    assert_string_equal (claims.user_id, "u-1");
    assert_int_equal (claims.roles, VMSG_ROLE_CUSTOMER);
    assert_int_equal (s_check (NULL, signed_in, &claims, &who), 401);
    assert_int_equal (s_check (expired, signed_in, &claims, &who), 401);
    assert_int_equal (s_check (forged, signed_in, &claims, &who), 401);
    assert_int_equal (s_check (tampered, signed_in, &claims, &who), 401);
    assert_int_equal (s_check ("garbage", signed_in, &claims, &who), 401);
    assert_int_equal (s_check ("", signed_in, &claims, &who), 401);
    assert_false (who);
    //  Valid but without the role: 403.
    assert_int_equal (s_check (good, VMSG_ROLE_ADMIN, &claims, &who), 403);
    assert_int_equal (s_check (admin, VMSG_ROLE_ADMIN, &claims, &who), 0);
    assert_string_equal (claims.user_id, "root");
    //  A public route: a bad token means anonymous, a good one still identifies.
    assert_int_equal (s_check (expired, VMSG_ROLE_PUBLIC, &claims, &who), 0);
    assert_false (who);
    assert_int_equal (s_check (forged, VMSG_ROLE_PUBLIC, &claims, &who), 0);
    assert_false (who);
    assert_int_equal (s_check (good, VMSG_ROLE_PUBLIC, &claims, &who), 0);
    assert_true (who);
    //  The reason says which.
    const char *why;
    edge_ident_check (&s_key, expired, strlen (expired), NOW, signed_in, &claims, &who, &why);
    assert_non_null (strstr (why, "expired"));
    edge_ident_check (&s_key, NULL, 0, NOW, signed_in, &claims, &who, &why);
    assert_non_null (strstr (why, "no access token"));
}

static void
test_request_ids (void **state)
{
    (void) state;
    assert_true (edge_rid_ok ("abc-123_X.y", 11));
    assert_false (edge_rid_ok ("", 0));
    assert_false (edge_rid_ok ("a b", 3));
    assert_false (edge_rid_ok ("a\r\nSet-Cookie:x", 16));
    char long_id[80];
    memset (long_id, 'a', sizeof long_id);
    assert_true (edge_rid_ok (long_id, EDGE_RID_MAX));
    assert_false (edge_rid_ok (long_id, EDGE_RID_MAX + 1));
    char a[EDGE_RID_MAX + 1], b[EDGE_RID_MAX + 1];
    edge_rid_new (a);
    edge_rid_new (b);
    assert_int_equal (strlen (a), 24);
    assert_true (edge_rid_ok (a, strlen (a)));
    assert_string_not_equal (a, b);
    assert_memory_equal (a, b, 9);  //  same process prefix
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_token_sources),
        cmocka_unit_test (test_role_decisions),
        cmocka_unit_test (test_request_ids),
    };
    return cmocka_run_group_tests_name ("edge_ident", tests, s_setup, NULL);
}
