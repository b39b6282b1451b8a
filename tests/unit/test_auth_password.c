//  test_auth_password.c — email normalisation, the password policy (code points, the shipped
//  common-password list), Argon2id hashing with the required parameters, and the hash bound.
#include "auth_password.h"
#include "verr.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AUTH_COMMON_PASSWORDS
#error "AUTH_COMMON_PASSWORDS: path of actors/auth/common-passwords.txt"
#endif

static void
test_email_normalised (void **state)
{
    (void) state;
    char out[AUTH_EMAIL_MAX + 1], why[200];
    assert_int_equal (auth_email_normalise ("  Alice.Smith+Shop@Example.COM \t", out, sizeof out,
                                            why, sizeof why),
                      0);
    assert_string_equal (out, "alice.smith+shop@example.com");
    assert_int_equal (auth_email_normalise ("a@b.co", out, sizeof out, why, sizeof why), 0);
    const char *bad[] = { "",         "   ",       "plain",      "@example.com", "a@",
                          "a@@b.com", "a@b@c.com", "a b@c.com",  "a@localhost",  "a@-b.com",
                          "a@b-.com", "a@b..com",  ".a@b.com",   "a.@b.com",     "a..b@c.com",
                          "a@b.com.", "a@b_c.com", "a\"b@c.com", "é@b.com",      NULL };
    for (int i = 0; bad[i]; i++)
        if (auth_email_normalise (bad[i], out, sizeof out, why, sizeof why) != -VE_INVAL)
            fail_msg ("'%s' accepted as an email address", bad[i]);
    //  254 bytes is the limit; 255 is refused; the local part is at most 64.
    char addr[300];
    memset (addr, 'a', 64);  //  64 + '@' + 62 + '.' + 62 + '.' + 63 = 254
    addr[64] = '@';
    memset (addr + 65, 'b', 62);
    addr[127] = '.';
    memset (addr + 128, 'b', 62);
    addr[190] = '.';
    memset (addr + 191, 'c', 63);
    addr[254] = 0;
    assert_int_equal (auth_email_normalise (addr, out, sizeof out, why, sizeof why), 0);
    addr[254] = 'c';
    addr[255] = 0;
    assert_int_equal (auth_email_normalise (addr, out, sizeof out, why, sizeof why), -VE_INVAL);
    assert_non_null (strstr (why, "254"));
    memset (addr, 'a', 65);
    strcpy (addr + 65, "@b.com");
    assert_int_equal (auth_email_normalise (addr, out, sizeof out, why, sizeof why), -VE_INVAL);
}

static void
test_common_list_shipped (void **state)
{
    (void) state;
    char why[300] = "";
    auth_common_t *common = auth_common_load (AUTH_COMMON_PASSWORDS, why, sizeof why);
    if (!common)
        fail_msg ("%s", why);
    //  The file: 1,000 distinct lowercase entries, one per line.
    assert_int_equal (auth_common_size (common), 1000);
    FILE *file = fopen (AUTH_COMMON_PASSWORDS, "r");
    char line[256];
    int lines = 0;
    while (fgets (line, sizeof line, file)) {
        lines++;
        for (char *p = line; *p; p++)
            assert_false (*p >= 'A' && *p <= 'Z');
    }
    fclose (file);
    assert_int_equal (lines, 1000);
    const char *known[] = { "123456",   "password", "qwerty",   "iloveyou",  "12345678", "football",
                            "baseball", "sunshine", "trustno1", "password1", NULL };
    for (int i = 0; known[i]; i++)
        assert_true (auth_common_has (common, known[i]));
    //  Case-insensitively.
    assert_true (auth_common_has (common, "PassWord"));
    assert_true (auth_common_has (common, "ILoveYou"));
    assert_false (auth_common_has (common, "correct horse battery staple"));
    assert_false (auth_common_has (common, ""));
    auth_common_destroy (&common);
    assert_null (common);
    auth_common_destroy (&common);  //  idempotent

    assert_null (auth_common_load ("/nonexistent/list.txt", why, sizeof why));
    assert_non_null (strstr (why, "/nonexistent/list.txt"));
    char path[] = "/tmp/test_auth_password_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, "# only a comment\n\n", 18), 18);
    close (fd);
    assert_null (auth_common_load (path, why, sizeof why));
    assert_non_null (strstr (why, "no passwords"));
    unlink (path);
}

static void
test_policy (void **state)
{
    (void) state;
    char why[300];
    auth_common_t *common = auth_common_load (AUTH_COMMON_PASSWORDS, why, sizeof why);
    assert_non_null (common);
    assert_int_equal (
        auth_password_check (common, "Tr0ub4dor&3x", "a@b.com", "password", why, sizeof why), 0);
    //  Too short, naming the field.
    assert_int_equal (auth_password_check (common, "short1!", NULL, "password", why, sizeof why),
                      -VE_INVAL);
    assert_string_equal (why, "password: fewer than 8 characters");
    //  Code points, not bytes: 8 two-byte letters pass, 7 of them (14 bytes) do not.
    assert_int_equal (auth_utf8_length ("ééééééé"), 7);
    assert_int_equal (auth_password_check (common, "ééééééé", NULL, "password", why, sizeof why),
                      -VE_INVAL);
    assert_int_equal (auth_password_check (common, "éééééééé", NULL, "password", why, sizeof why),
                      0);
    //  128 four-byte characters (512 bytes) pass; 129 characters do not; nothing is truncated.
    char big[4 * 130 + 1] = "";
    for (int i = 0; i < 128; i++)
        strcat (big, "\xf0\x9f\x94\x91");  //  U+1F511
    assert_int_equal (auth_password_check (common, big, NULL, "new_password", why, sizeof why), 0);
    strcat (big, "x");
    assert_int_equal (auth_password_check (common, big, NULL, "new_password", why, sizeof why),
                      -VE_INVAL);
    assert_string_equal (why, "new_password: more than 128 characters");
    //  Common, whatever the case.
    assert_int_equal (auth_password_check (common, "PASSWORD1", NULL, "password", why, sizeof why),
                      -VE_INVAL);
    assert_non_null (strstr (why, "password: one of the most common passwords"));
    assert_int_equal (auth_password_check (common, "iloveyou", NULL, "password", why, sizeof why),
                      -VE_INVAL);
    //  Not the address itself or its local part.
    assert_int_equal (auth_password_check (common, "Alice.Smith@x.org", "alice.smith@x.org",
                                           "password", why, sizeof why),
                      -VE_INVAL);
    assert_int_equal (auth_password_check (common, "ALICE.SMITH", "alice.smith@x.org", "password",
                                           why, sizeof why),
                      -VE_INVAL);
    //  Invalid UTF-8 is refused, not counted.
    assert_int_equal (auth_utf8_length ("abc\xc0\x80zzzz"), -1);
    assert_int_equal (auth_utf8_length ("abc\xe2\x82"), -1);
    assert_int_equal (
        auth_password_check (common, "abcdefgh\xff", NULL, "password", why, sizeof why), -VE_INVAL);
    auth_common_destroy (&common);
}

static void
test_hash_and_verify (void **state)
{
    (void) state;
    auth_hasher_t hasher;
    auth_hasher_init (&hasher, 1);
    char hash[AUTH_PASSWORD_HASH_MAX];
    assert_int_equal (auth_password_hash (&hasher, "correct horse battery", hash), 0);
    //  Argon2id, 19 MiB, 2 passes, as the policy says.
    assert_non_null (strstr (hash, "$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_true (auth_password_hash_valid (hash));
    assert_int_equal (auth_password_verify (&hasher, hash, "correct horse battery"), 0);
    assert_int_equal (auth_password_verify (&hasher, hash, "correct horse batterY"),
                      -VE_UNAUTHORIZED);
    //  Never truncated: a long password differs from its prefix.
    char longer[600];
    memset (longer, 'k', 500);
    longer[500] = 0;
    assert_int_equal (auth_password_hash (&hasher, longer, hash), 0);
    longer[499] = 0;
    assert_int_equal (auth_password_verify (&hasher, hash, longer), -VE_UNAUTHORIZED);
    //  Salted: the same password hashes differently twice.
    char again[AUTH_PASSWORD_HASH_MAX];
    assert_int_equal (auth_password_hash (&hasher, longer, hash), 0);
    assert_int_equal (auth_password_hash (&hasher, longer, again), 0);
    assert_string_not_equal (hash, again);
    //  Hashes we cannot read do not verify and are not valid configuration.
    assert_int_equal (auth_password_verify (&hasher, "$argon2id$garbage", "x"), -VE_UNAUTHORIZED);
    assert_int_equal (auth_password_verify (&hasher, NULL, "x"), -VE_UNAUTHORIZED);
    assert_false (auth_password_hash_valid ("$argon2id$garbage"));
    assert_false (auth_password_hash_valid ("$2b$10$abcdefghijklmnopqrstuv"));
    assert_false (auth_password_hash_valid (NULL));
}

static void
test_hash_bound (void **state)
{
    (void) state;
    auth_hasher_t hasher;
    auth_hasher_init (&hasher, 0);  //  0 means the default, 1
    assert_int_equal (hasher.max, 1);
    //  A hash in progress holds the only slot: the next is refused, not queued.
    hasher.busy = 1;
    char hash[AUTH_PASSWORD_HASH_MAX];
    assert_int_equal (auth_password_hash (&hasher, "whatever123", hash), -VE_BUSY);
    assert_int_equal (auth_password_verify (&hasher, "$argon2id$x", "whatever123"), -VE_BUSY);
    hasher.busy = 0;
    assert_int_equal (auth_password_hash (&hasher, "whatever123", hash), 0);
    assert_int_equal (hasher.busy, 0);  //  released after use
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_email_normalised), cmocka_unit_test (test_common_list_shipped),
        cmocka_unit_test (test_policy),           cmocka_unit_test (test_hash_and_verify),
        cmocka_unit_test (test_hash_bound),
    };
    return cmocka_run_group_tests_name ("auth_password", tests, NULL, NULL);
}
