//  test_auth_token.c — access tokens: round trip, expiry against the passed-in clock, every
//  byte tampered, another key, malformed shapes; refresh tokens: shape and hashing.
#include "auth_token.h"
#include "verr.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static const char *s_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char *s_other = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static const int64_t s_now = 1780000000000;  //  a fixed "now", Unix ms

static void
s_key (auth_token_key_t *key, const char *hex)
{
    assert_int_equal (auth_token_key_from_hex (key, hex), 0);
}

static int
s_sign (const auth_token_key_t *key, const char *user, uint32_t roles, char *out)
{
    auth_token_claims_t c = { .roles = roles,
                              .issued_ms = s_now,
                              .expires_ms = s_now + 15 * 60 * 1000 };
    snprintf (c.user_id, sizeof c.user_id, "%s", user);
    return auth_token_sign (key, &c, out, AUTH_TOKEN_MAX);
}

static void
test_round_trip (void **state)
{
    (void) state;
    auth_token_key_t key;
    s_key (&key, s_hex);
    char token[AUTH_TOKEN_MAX];
    int len = s_sign (&key, "u0000deadbeefcafe0001", 3, token);
    assert_true (len > 0);
    assert_int_equal ((size_t) len, strlen (token));
    assert_non_null (strchr (token, '.'));
    assert_null (strpbrk (token, "+/= "));  //  base64url, no padding
    auth_token_claims_t c;
    assert_int_equal (auth_token_verify (&key, token, (size_t) len, s_now + 1000, &c), 0);
    assert_string_equal (c.user_id, "u0000deadbeefcafe0001");
    assert_int_equal (c.roles, 3);
    assert_int_equal (c.issued_ms, s_now);
    assert_int_equal (c.expires_ms, s_now + 15 * 60 * 1000);
    assert_int_equal (c.key_id, key.id);

    //  A 64-byte user id fits; 65 does not; none at all is refused.
    char longest[AUTH_TOKEN_MAX_USER + 1];
    memset (longest, 'x', AUTH_TOKEN_MAX_USER);
    longest[AUTH_TOKEN_MAX_USER] = 0;
    len = s_sign (&key, longest, 1, token);
    assert_true (len > 0 && len < AUTH_TOKEN_MAX);
    assert_int_equal (auth_token_verify (&key, token, (size_t) len, s_now, &c), 0);
    assert_string_equal (c.user_id, longest);
    assert_int_equal (s_sign (&key, "", 1, token), -VE_INVAL);
    char small[40];
    auth_token_claims_t claims = { .user_id = "u1", .issued_ms = 1, .expires_ms = 2 };
    assert_int_equal (auth_token_sign (&key, &claims, small, sizeof small), -VE_TOOBIG);
    claims.expires_ms = 1;
    assert_int_equal (auth_token_sign (&key, &claims, token, sizeof token), -VE_INVAL);
}

static void
test_expiry_uses_the_passed_clock (void **state)
{
    (void) state;
    auth_token_key_t key;
    s_key (&key, s_hex);
    char token[AUTH_TOKEN_MAX];
    size_t len = (size_t) s_sign (&key, "u1", 1, token);
    int64_t exp = s_now + 15 * 60 * 1000;
    assert_int_equal (auth_token_verify (&key, token, len, exp - 1, NULL), 0);
    assert_int_equal (auth_token_verify (&key, token, len, exp, NULL), -VE_TIMEOUT);
    assert_int_equal (auth_token_verify (&key, token, len, exp + 86400000, NULL), -VE_TIMEOUT);
}

static void
test_every_tampered_byte_fails (void **state)
{
    (void) state;
    auth_token_key_t key;
    s_key (&key, s_hex);
    char token[AUTH_TOKEN_MAX];
    size_t len = (size_t) s_sign (&key, "u0000aaaabbbbccccdddd", 1, token);
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    for (size_t i = 0; i < len; i++) {
        //  Every other character of the alphabet at every position, and a byte flip.
        for (const char *a = alphabet; *a; a++) {
            if (*a == token[i])
                continue;
            char copy[AUTH_TOKEN_MAX];
            memcpy (copy, token, len + 1);
            copy[i] = *a;
            if (auth_token_verify (&key, copy, len, s_now, NULL) == 0)
                fail_msg ("token verified with position %zu changed to '%c'", i, *a);
        }
        char copy[AUTH_TOKEN_MAX];
        memcpy (copy, token, len + 1);
        copy[i] ^= 0x01;
        assert_int_not_equal (auth_token_verify (&key, copy, len, s_now, NULL), 0);
    }
    //  Cut short or extended.
    for (size_t cut = 0; cut < len; cut++)
        assert_int_not_equal (auth_token_verify (&key, token, cut, s_now, NULL), 0);
    char longer[AUTH_TOKEN_MAX + 8];
    snprintf (longer, sizeof longer, "%sA", token);
    assert_int_not_equal (auth_token_verify (&key, longer, len + 1, s_now, NULL), 0);
    //  The untouched token still verifies (the loop above did not hide a bug in verify).
    assert_int_equal (auth_token_verify (&key, token, len, s_now, NULL), 0);
}

static void
test_wrong_key_fails (void **state)
{
    (void) state;
    auth_token_key_t key, other;
    s_key (&key, s_hex);
    s_key (&other, s_other);
    assert_int_not_equal (key.id, other.id);
    char token[AUTH_TOKEN_MAX];
    size_t len = (size_t) s_sign (&key, "u1", 2, token);
    assert_int_equal (auth_token_verify (&other, token, len, s_now, NULL), -VE_UNAUTHORIZED);
    //  A payload re-signed by another key under the first key's id still fails.
    char forged[AUTH_TOKEN_MAX];
    len = (size_t) s_sign (&other, "u1", 2, forged);
    assert_int_equal (auth_token_verify (&key, forged, len, s_now, NULL), -VE_UNAUTHORIZED);
}

static void
test_malformed_tokens (void **state)
{
    (void) state;
    auth_token_key_t key;
    s_key (&key, s_hex);
    const char *bad[] = { "", ".", "abc", "abc.", ".abc", "a.b.c", "!!!!.????", "AAAA.AAAA", NULL };
    for (int i = 0; bad[i]; i++)
        assert_int_equal (auth_token_verify (&key, bad[i], strlen (bad[i]), s_now, NULL),
                          -VE_PROTO);
    assert_int_equal (auth_token_verify (&key, NULL, 0, s_now, NULL), -VE_PROTO);
    char huge[AUTH_TOKEN_MAX * 2];
    memset (huge, 'A', sizeof huge);
    assert_int_equal (auth_token_verify (&key, huge, sizeof huge, s_now, NULL), -VE_PROTO);
}

static void
test_key_parsing (void **state)
{
    (void) state;
    auth_token_key_t key;
    assert_int_equal (auth_token_key_from_hex (&key, NULL), -VE_INVAL);
    assert_int_equal (auth_token_key_from_hex (&key, ""), -VE_INVAL);
    assert_int_equal (auth_token_key_from_hex (&key, "00"), -VE_INVAL);
    char hex[80];
    snprintf (hex, sizeof hex, "%.63sg", s_hex);  //  not hex
    assert_int_equal (auth_token_key_from_hex (&key, hex), -VE_INVAL);
    snprintf (hex, sizeof hex, "%s00", s_hex);  //  too long
    assert_int_equal (auth_token_key_from_hex (&key, hex), -VE_INVAL);
    memset (hex, '0', 64);
    hex[64] = 0;
    assert_int_equal (auth_token_key_from_hex (&key, hex), -VE_INVAL);  //  all zero
    //  Upper case hex is the same key with the same id.
    auth_token_key_t a, b;
    s_key (&a, s_hex);
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char) (s_hex[i] >= 'a' && s_hex[i] <= 'f' ? s_hex[i] - 32 : s_hex[i]);
    s_key (&b, upper);
    assert_memory_equal (a.bytes, b.bytes, sizeof a.bytes);
    assert_int_equal (a.id, b.id);
    auth_token_key_wipe (&b);
    assert_int_equal (b.id, 0);
}

static void
test_refresh_tokens (void **state)
{
    (void) state;
    char a[AUTH_REFRESH_TEXT], b[AUTH_REFRESH_TEXT];
    uint8_t ha[AUTH_REFRESH_HASH_BYTES], hb[AUTH_REFRESH_HASH_BYTES],
        again[AUTH_REFRESH_HASH_BYTES];
    assert_int_equal (auth_refresh_new (a, ha), 0);
    assert_int_equal (auth_refresh_new (b, hb), 0);
    assert_int_equal (strlen (a), 43);
    assert_null (strpbrk (a, "+/="));
    assert_string_not_equal (a, b);
    assert_memory_not_equal (ha, hb, sizeof ha);
    //  The hash of what the client presents is the hash stored at issue.
    assert_int_equal (auth_refresh_hash (a, again), 0);
    assert_memory_equal (ha, again, sizeof ha);
    //  Not a refresh token: wrong length, wrong alphabet.
    assert_int_equal (auth_refresh_hash ("", again), -VE_PROTO);
    assert_int_equal (auth_refresh_hash (NULL, again), -VE_PROTO);
    char copy[AUTH_REFRESH_TEXT + 1];
    snprintf (copy, sizeof copy, "%sA", a);
    assert_int_equal (auth_refresh_hash (copy, again), -VE_PROTO);
    memcpy (copy, a, sizeof a);
    copy[5] = '+';
    assert_int_equal (auth_refresh_hash (copy, again), -VE_PROTO);
    //  One character changed: another token, another hash.
    memcpy (copy, a, sizeof a);
    copy[0] = copy[0] == 'A' ? 'B' : 'A';
    assert_int_equal (auth_refresh_hash (copy, again), 0);
    assert_memory_not_equal (ha, again, sizeof ha);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_expiry_uses_the_passed_clock),
        cmocka_unit_test (test_every_tampered_byte_fails),
        cmocka_unit_test (test_wrong_key_fails),
        cmocka_unit_test (test_malformed_tokens),
        cmocka_unit_test (test_key_parsing),
        cmocka_unit_test (test_refresh_tokens),
    };
    return cmocka_run_group_tests_name ("auth_token", tests, NULL, NULL);
}
