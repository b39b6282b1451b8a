//  test_auth.c — the auth actor end to end: a real broker and a real vitrine-auth on a temporary
//  data directory. Accounts, tokens (verified here with the edge's own code), rotation and reuse
//  detection, logout, password change, policy, rate limits, roles, the configured admin, and an
//  acknowledged registration surviving kill -9. Argon2id costs ~50 ms a hash: calls are few.
#define _XOPEN_SOURCE 700
#include "auth_token.h"
#include "vit.h"
#include "vmsg.h"
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_HEX     "5f3c8a1e9b2d4c6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define ADMIN_EMAIL "root@vitrine.test"
#define ADMIN_PASS  "admin-pass-for-tests-only"
#define GOOD_PASS   "tangerine-orbit-42"

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    varena_t *arena;
    auth_token_key_t key;
    char dir[64];
    char admin_hash[128];
    pid_t auth;
} fixture_t;

static fixture_t s_f;

//  ---------------------------------------------------------------- processes
static pid_t
s_auth_start (fixture_t *f)
{
    char data[128], hash_setting[200];
    snprintf (data, sizeof data, "%s/data", f->dir);
    snprintf (hash_setting, sizeof hash_setting, "admin_password_hash=%s", f->admin_hash);
    const char *args[] = { "--data", data,
                           "--set",  "token_key=" KEY_HEX,
                           "--set",  "admin_email=" ADMIN_EMAIL,
                           "--set",  hash_setting,
                           "--name", "auth-it",
                           NULL };
    return vit_actor_start (&f->broker, "vitrine-auth", "auth", args, 20000);
}

static int
s_group_setup (void **state)
{
    fixture_t *f = &s_f;
    if (sodium_init () < 0 || auth_token_key_from_hex (&f->key, KEY_HEX) != 0)
        return -1;
    //  The admin's hash as an operator would make it (same call, same parameters).
    if (crypto_pwhash_str_alg (f->admin_hash, ADMIN_PASS, strlen (ADMIN_PASS), 2, 19u << 20,
                               crypto_pwhash_ALG_ARGON2ID13)
        != 0)
        return -1;
    if (vit_tmpdir ("test_it_auth", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0)
        return -1;
    f->client = vbus_client_new (f->broker.endpoint, 10000);
    f->arena = varena_new (0);
    f->auth = s_auth_start (f);
    *state = f;
    if (f->auth <= 0)
        vit_stop (f->broker.pid, SIGKILL, 2000);  //  nothing is left running when setup fails
    return f->auth > 0 ? 0 : -1;
}

static int
s_group_teardown (void **state)
{
    fixture_t *f = *state;
    if (f->auth > 0)
        assert_int_equal (vit_stop (f->auth, SIGTERM, 10000), 0);  //  clean exit on SIGTERM
    vbus_client_destroy (&f->client);
    vit_stop (f->broker.pid, SIGTERM, 5000);
    varena_destroy (&f->arena);
    assert_int_equal (vit_rmtree (f->dir), 0);  //  nothing left behind
    return 0;
}

//  ---------------------------------------------------------------- calls
//  Calls auth.<method> with a JSON body (mapped through the method's schema) as caller
//  (NULL = anonymous). Returns the reply; the caller destroys it.
static vbus_msg_t *
s_call (fixture_t *f, const char *method, const char *json, const vbus_caller_t *caller)
{
    const vmsg_method_t *m = vmsg_method_find ("auth", method);
    assert_non_null (m);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (m->request, json, strlen (json), &body, err, sizeof err) != 0)
        fail_msg ("auth.%s: bad test body %s: %s", method, json, err);
    vbus_opts_t opts = { .caller = caller, .timeout_ms = 10000 };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, "auth", method, body.data, body.len, &opts, &reply), 0);
    vbuf_free (&body);
    return reply;
}

//  The reply's body, checked against the method's reply schema.
static const vmsg_value_t *
s_body (fixture_t *f, const char *method, const vbus_msg_t *reply)
{
    if (reply->status != VE_OK)
        fail_msg ("auth.%s: %s: %s", method, verr_name (reply->status), reply->message);
    const vmsg_method_t *m = vmsg_method_find ("auth", method);
    const vmsg_value_t *v = NULL;
    char err[256] = "";
    if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, &v, err, sizeof err))
        fail_msg ("auth.%s reply does not match its schema: %s", method, err);
    return v;
}

//  Calls and expects a status, and (when not NULL) a piece of the message. Frees the reply.
static void
s_expect (fixture_t *f, const char *method, const char *json, const vbus_caller_t *caller,
          int status, const char *message_part)
{
    vbus_msg_t *reply = s_call (f, method, json, caller);
    if (reply->status != status)
        fail_msg ("auth.%s %s: expected %s, got %s: %s", method, json, verr_name (status),
                  verr_name (reply->status), reply->message);
    if (message_part && !strstr (reply->message, message_part))
        fail_msg ("auth.%s: message '%s' does not say '%s'", method, reply->message, message_part);
    vbus_msg_destroy (&reply);
}

static void
s_register (fixture_t *f, const char *email, const char *password, const char *name)
{
    char json[512];
    snprintf (json, sizeof json, "{\"email\":\"%s\",\"password\":\"%s\",\"name\":\"%s\"}", email,
              password, name);
    vbus_msg_t *reply = s_call (f, "register", json, NULL);
    s_body (f, "register", reply);
    vbus_msg_destroy (&reply);
}

typedef struct {
    char access[AUTH_TOKEN_MAX];
    char refresh[AUTH_TOKEN_MAX];
    auth_token_claims_t claims;  //  the access token, verified as the edge does
    vbus_caller_t caller;        //  what the edge would put in the envelope
} session_t;

//  Reads an auth.tokens reply (login or refresh) into s and verifies the access token.
static void
s_session (fixture_t *f, const char *method, vbus_msg_t *reply, session_t *s)
{
    const vmsg_value_t *v = s_body (f, method, reply);
    snprintf (s->access, sizeof s->access, "%s", vmsg_str (v, "access_token"));
    snprintf (s->refresh, sizeof s->refresh, "%s", vmsg_str (v, "refresh_token"));
    int64_t now = vbus_now_ms ();
    assert_int_equal (auth_token_verify (&f->key, s->access, strlen (s->access), now, &s->claims),
                      0);
    assert_int_equal (s->claims.expires_ms, vmsg_int (v, "expires_at", 0));
    //  15 minutes of access, 30 days of refresh.
    assert_int_equal (s->claims.expires_ms - s->claims.issued_ms, 15 * 60 * 1000);
    assert_int_equal (vmsg_int (v, "refresh_expires_at", 0) - s->claims.issued_ms,
                      30LL * 86400 * 1000);
    assert_string_equal (s->claims.user_id, vmsg_str (vmsg_get (v, "user"), "user_id"));
    s->caller = (vbus_caller_t) { s->claims.user_id, s->claims.roles };
    vbus_msg_destroy (&reply);
}

static void
s_login (fixture_t *f, const char *email, const char *password, session_t *s)
{
    char json[512];
    snprintf (json, sizeof json, "{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
    s_session (f, "login", s_call (f, "login", json, NULL), s);
}

//  refresh(token): returns the status; on ok fills next (may be NULL only when not ok).
static int
s_refresh (fixture_t *f, const char *token, session_t *next)
{
    char json[AUTH_TOKEN_MAX + 64];
    snprintf (json, sizeof json, "{\"refresh_token\":\"%s\"}", token);
    vbus_msg_t *reply = s_call (f, "refresh", json, NULL);
    int status = reply->status;
    if (status == VE_OK)
        s_session (f, "refresh", reply, next);
    else
        vbus_msg_destroy (&reply);
    return status;
}

//  ---------------------------------------------------------------- tests
static void
test_register_login_me (void **state)
{
    fixture_t *f = *state;
    const char *topics[] = { "auth.", NULL };
    vbus_sub_t *sub = vbus_sub_new (f->broker.sub, topics);
    usleep (300000);  //  the subscription reaches the broker before the events go out

    vbus_msg_t *reply = s_call (f, "register",
                                "{\"email\":\"  Alice@Example.COM \",\"password\":\"" GOOD_PASS
                                "\",\"name\":\"Alice\"}",
                                NULL);
    const vmsg_value_t *user = s_body (f, "register", reply);
    assert_string_equal (vmsg_str (user, "email"), "alice@example.com");  //  normalised
    assert_string_equal (vmsg_str (user, "name"), "Alice");
    assert_int_equal (vmsg_uint (user, "roles", 0), VBUS_ROLE_CUSTOMER);
    char user_id[80];
    snprintf (user_id, sizeof user_id, "%s", vmsg_str (user, "user_id"));
    vbus_msg_destroy (&reply);

    session_t s;
    s_login (f, "ALICE@example.com", GOOD_PASS, &s);
    assert_string_equal (s.claims.user_id, user_id);
    assert_int_equal (s.claims.roles, VBUS_ROLE_CUSTOMER);
    assert_int_equal (s.claims.key_id, f->key.id);

    reply = s_call (f, "me", "{}", &s.caller);
    user = s_body (f, "me", reply);
    assert_string_equal (vmsg_str (user, "user_id"), user_id);
    assert_string_equal (vmsg_str (user, "email"), "alice@example.com");
    vbus_msg_destroy (&reply);
    //  Anonymous: unauthorized (the runtime refuses it before the handler; the handler would too).
    s_expect (f, "me", "{}", NULL, VE_UNAUTHORIZED, NULL);
    //  Wrong password: unauthorized, and the message does not say which part was wrong.
    s_expect (f, "login", "{\"email\":\"alice@example.com\",\"password\":\"wrong-password-1\"}",
              NULL, VE_UNAUTHORIZED, "email or password");
    s_expect (f, "login", "{\"email\":\"nobody@example.com\",\"password\":\"" GOOD_PASS "\"}", NULL,
              VE_UNAUTHORIZED, "email or password");

    //  Both events, in order, on the auth stream.
    vbus_event_t ev;
    assert_int_equal (vbus_sub_recv (sub, &ev, 3000), 0);
    assert_string_equal (ev.topic, "auth.user_registered");
    const vmsg_value_t *body = NULL;
    assert_int_equal (vmsg_decode (vmsg_event_find (ev.topic)->schema, ev.body, ev.body_len,
                                   f->arena, &body, NULL, 0),
                      0);
    assert_string_equal (vmsg_str (body, "user_id"), user_id);
    assert_string_equal (vmsg_str (body, "email"), "alice@example.com");
    assert_int_equal (vbus_sub_recv (sub, &ev, 3000), 0);
    assert_string_equal (ev.topic, "auth.logged_in");
    assert_int_equal (vmsg_decode (vmsg_event_find (ev.topic)->schema, ev.body, ev.body_len,
                                   f->arena, &body, NULL, 0),
                      0);
    assert_string_equal (vmsg_str (body, "user_id"), user_id);
    assert_non_null (strstr (ev.stream, "auth/"));
    vbus_sub_destroy (&sub);
}

static void
test_conflict_and_bad_input (void **state)
{
    fixture_t *f = *state;
    s_register (f, "bob@example.com", GOOD_PASS, "Bob");
    s_expect (f, "register",
              "{\"email\":\" BOB@Example.com\",\"password\":\"another-good-one-7\",\"name\":\"B\"}",
              NULL, VE_CONFLICT, "email: already registered");
    s_expect (f, "register",
              "{\"email\":\"not-an-address\",\"password\":\"" GOOD_PASS "\",\"name\":\"X\"}", NULL,
              VE_BAD_REQUEST, "email:");
    s_expect (f, "register",
              "{\"email\":\"x@example.com\",\"password\":\"" GOOD_PASS "\",\"name\":\"  \"}", NULL,
              VE_BAD_REQUEST, "name: empty");
}

static void
test_weak_and_common_passwords_refused (void **state)
{
    fixture_t *f = *state;
    s_expect (f, "register", "{\"email\":\"w@example.com\",\"password\":\"short\",\"name\":\"W\"}",
              NULL, VE_BAD_REQUEST, "password: fewer than 8 characters");
    s_expect (f, "register",
              "{\"email\":\"w@example.com\",\"password\":\"iloveyou\",\"name\":\"W\"}", NULL,
              VE_BAD_REQUEST, "password: one of the most common passwords");
    s_expect (f, "register",
              "{\"email\":\"w@example.com\",\"password\":\"PassWord1\",\"name\":\"W\"}", NULL,
              VE_BAD_REQUEST, "password: one of the most common passwords");
    char json[1024], pw[200];
    memset (pw, 'q', 129);
    pw[129] = 0;
    snprintf (json, sizeof json, "{\"email\":\"w@example.com\",\"password\":\"%s\",\"name\":\"W\"}",
              pw);
    s_expect (f, "register", json, NULL, VE_BAD_REQUEST, "password: more than 128 characters");
    //  Nothing was created by the refusals.
    s_expect (f, "login", "{\"email\":\"w@example.com\",\"password\":\"" GOOD_PASS "\"}", NULL,
              VE_UNAUTHORIZED, NULL);
}

static void
test_refresh_rotates_and_reuse_ends_the_session (void **state)
{
    fixture_t *f = *state;
    s_register (f, "carol@example.com", GOOD_PASS, "Carol");
    session_t first, second, other, third;
    s_login (f, "carol@example.com", GOOD_PASS, &first);
    s_login (f, "carol@example.com", GOOD_PASS, &other);  //  another device: another family
    assert_int_equal (s_refresh (f, first.refresh, &second), VE_OK);
    assert_string_not_equal (second.refresh, first.refresh);  //  rotated
    assert_string_equal (second.claims.user_id, first.claims.user_id);
    //  The used token again: refused, and the whole family with it.
    char json[AUTH_TOKEN_MAX + 64];
    snprintf (json, sizeof json, "{\"refresh_token\":\"%s\"}", first.refresh);
    s_expect (f, "refresh", json, NULL, VE_UNAUTHORIZED, "already used");
    assert_int_equal (s_refresh (f, second.refresh, &third), VE_UNAUTHORIZED);
    //  The other device's session is untouched.
    assert_int_equal (s_refresh (f, other.refresh, &third), VE_OK);
    //  Garbage is not recognised.
    s_expect (f, "refresh", "{\"refresh_token\":\"not-a-token\"}", NULL, VE_UNAUTHORIZED,
              "refresh_token");
}

static void
test_logout_ends_the_family (void **state)
{
    fixture_t *f = *state;
    s_register (f, "dan@example.com", GOOD_PASS, "Dan");
    session_t s, next, after;
    s_login (f, "dan@example.com", GOOD_PASS, &s);
    assert_int_equal (s_refresh (f, s.refresh, &next), VE_OK);
    char json[AUTH_TOKEN_MAX + 64];
    snprintf (json, sizeof json, "{\"refresh_token\":\"%s\"}", next.refresh);
    vbus_msg_t *reply = s_call (f, "logout", json, NULL);
    s_body (f, "logout", reply);
    vbus_msg_destroy (&reply);
    assert_int_equal (s_refresh (f, next.refresh, &after), VE_UNAUTHORIZED);
    s_expect (f, "logout", json, NULL, VE_OK, NULL);  //  again: harmless
}

static void
test_change_password_ends_all_sessions (void **state)
{
    fixture_t *f = *state;
    s_register (f, "erin@example.com", GOOD_PASS, "Erin");
    session_t a, b, next;
    s_login (f, "erin@example.com", GOOD_PASS, &a);
    s_login (f, "erin@example.com", GOOD_PASS, &b);
    s_expect (f, "change_password",
              "{\"old_password\":\"not-my-password\",\"new_password\":\"violet-comet-9000\"}",
              &a.caller, VE_UNAUTHORIZED, "old_password");
    s_expect (f, "change_password",
              "{\"old_password\":\"" GOOD_PASS "\",\"new_password\":\"trustno1\"}", &a.caller,
              VE_BAD_REQUEST, "new_password: one of the most common passwords");
    s_expect (f, "change_password", "{\"old_password\":\"" GOOD_PASS "\",\"new_password\":\"x\"}",
              &a.caller, VE_BAD_REQUEST, "new_password: fewer than 8");
    s_expect (f, "change_password",
              "{\"old_password\":\"" GOOD_PASS "\",\"new_password\":\"violet-comet-9000\"}",
              &a.caller, VE_OK, NULL);
    assert_int_equal (s_refresh (f, a.refresh, &next), VE_UNAUTHORIZED);
    assert_int_equal (s_refresh (f, b.refresh, &next), VE_UNAUTHORIZED);
    s_expect (f, "login", "{\"email\":\"erin@example.com\",\"password\":\"" GOOD_PASS "\"}", NULL,
              VE_UNAUTHORIZED, NULL);
    s_login (f, "erin@example.com", "violet-comet-9000", &next);
    s_expect (f, "change_password", "{\"old_password\":\"a\",\"new_password\":\"b\"}", NULL,
              VE_UNAUTHORIZED, NULL);
}

static void
test_rate_limited_after_ten_failures (void **state)
{
    fixture_t *f = *state;
    s_register (f, "frank@example.com", GOOD_PASS, "Frank");
    s_register (f, "gina@example.com", GOOD_PASS, "Gina");
    for (int i = 0; i < 10; i++)
        s_expect (f, "login",
                  "{\"email\":\"frank@example.com\",\"password\":\"guess-number-x\","
                  "\"client_addr\":\"198.51.100.7\"}",
                  NULL, VE_UNAUTHORIZED, NULL);
    //  The right password no longer helps, for a while, and the message says so and when.
    s_expect (f, "login",
              "{\"email\":\"frank@example.com\",\"password\":\"" GOOD_PASS
              "\",\"client_addr\":\"203.0.113.9\"}",
              NULL, VE_BUSY, "rate limited");
    vbus_msg_t *reply = s_call (
        f, "login", "{\"email\":\"frank@example.com\",\"password\":\"" GOOD_PASS "\"}", NULL);
    assert_int_equal (reply->status, VE_BUSY);
    assert_non_null (strstr (reply->message, "try again in 900 s"));
    vbus_msg_destroy (&reply);
    //  The address is limited too: another account from it is refused...
    s_expect (f, "login",
              "{\"email\":\"gina@example.com\",\"password\":\"" GOOD_PASS
              "\",\"client_addr\":\"198.51.100.7\"}",
              NULL, VE_BUSY, "this address");
    //  ...while that account from elsewhere is not.
    session_t s;
    s_session (f, "login",
               s_call (f, "login",
                       "{\"email\":\"gina@example.com\",\"password\":\"" GOOD_PASS
                       "\",\"client_addr\":\"203.0.113.9\"}",
                       NULL),
               &s);
}

static void
test_roles_and_admin_from_config (void **state)
{
    fixture_t *f = *state;
    s_register (f, "hank@example.com", GOOD_PASS, "Hank");
    session_t customer, admin;
    s_login (f, "hank@example.com", GOOD_PASS, &customer);
    s_expect (f, "list_users", "{}", &customer.caller, VE_FORBIDDEN, NULL);
    s_expect (f, "list_users", "{}", NULL, VE_UNAUTHORIZED, NULL);
    //  Registering the admin's address is just a conflict: it exists already, from config.
    s_expect (f, "register",
              "{\"email\":\"" ADMIN_EMAIL "\",\"password\":\"" GOOD_PASS "\",\"name\":\"Eve\"}",
              NULL, VE_CONFLICT, NULL);
    s_login (f, ADMIN_EMAIL, ADMIN_PASS, &admin);
    assert_true (admin.claims.roles & VBUS_ROLE_ADMIN);
    //  All users, one page at a time: every id once, in order, the admin and hank among them.
    char cursor[80] = "", last[80] = "";
    int users = 0, pages = 0;
    bool saw_admin = false, saw_hank = false;
    do {
        char json[160];
        if (*cursor)
            snprintf (json, sizeof json, "{\"limit\":2,\"cursor\":\"%s\"}", cursor);
        else
            snprintf (json, sizeof json, "{\"limit\":2}");
        vbus_msg_t *reply = s_call (f, "list_users", json, &admin.caller);
        const vmsg_value_t *v = s_body (f, "list_users", reply);
        const vmsg_value_t *list = vmsg_get (v, "users");
        assert_true (vmsg_count (list) <= 2);
        for (uint32_t i = 0; i < vmsg_count (list); i++) {
            const char *id = vmsg_str (vmsg_at (list, i), "user_id");
            const char *email = vmsg_str (vmsg_at (list, i), "email");
            assert_true (strcmp (id, last) > 0);
            snprintf (last, sizeof last, "%s", id);
            users++;
            saw_admin |= strcmp (email, ADMIN_EMAIL) == 0;
            saw_hank |= strcmp (email, "hank@example.com") == 0;
        }
        const char *next = vmsg_str (v, "next_cursor");
        snprintf (cursor, sizeof cursor, "%s", next ? next : "");
        vbus_msg_destroy (&reply);
        pages++;
    } while (*cursor && pages < 100);
    assert_true (saw_admin && saw_hank);
    assert_true (users >= 2);
    assert_true (pages >= users / 2);
    //  A caller claiming no admin bit never gets the list, whatever else it says.
    vbus_caller_t service = { "svc", VBUS_ROLE_SERVICE };
    s_expect (f, "list_users", "{}", &service, VE_FORBIDDEN, NULL);
}

static void
test_acknowledged_register_survives_kill9 (void **state)
{
    fixture_t *f = *state;
    s_register (f, "ivy@example.com", GOOD_PASS, "Ivy");
    assert_int_equal (vit_stop (f->auth, SIGKILL, 5000), 128 + SIGKILL);
    f->auth = 0;
    assert_int_equal (vit_wait_workers (&f->broker, "auth", 0, 10000), 0);
    f->auth = s_auth_start (f);
    assert_true (f->auth > 0);
    session_t s;
    s_login (f, "ivy@example.com", GOOD_PASS, &s);
    vbus_msg_t *reply = s_call (f, "me", "{}", &s.caller);
    assert_string_equal (vmsg_str (s_body (f, "me", reply), "email"), "ivy@example.com");
    vbus_msg_destroy (&reply);
}

static void
test_refuses_to_start_without_a_token_key (void **state)
{
    fixture_t *f = *state;
    char data[128], err[4096];
    snprintf (data, sizeof data, "%s/data-nokey", f->dir);
    const char *none[] = { "--broker", f->broker.endpoint, "--data", data, NULL };
    assert_int_equal (vit_run ("vitrine-auth", none, NULL, 0, err, sizeof err, 20000), 2);
    assert_non_null (strstr (err, "token_key"));
    const char *bad[] = { "--broker", f->broker.endpoint, "--data", data,
                          "--set",    "token_key=abc123", NULL };
    assert_int_equal (vit_run ("vitrine-auth", bad, NULL, 0, err, sizeof err, 20000), 2);
    assert_non_null (strstr (err, "token_key"));
    //  The admin's password: a hash that is not Argon2id, or a common password in a file.
    const char *weak_hash[] = { "--broker", f->broker.endpoint,
                                "--data",   data,
                                "--set",    "token_key=" KEY_HEX,
                                "--set",    "admin_email=" ADMIN_EMAIL,
                                "--set",    "admin_password_hash=$2b$10$notargon",
                                NULL };
    assert_int_equal (vit_run ("vitrine-auth", weak_hash, NULL, 0, err, sizeof err, 20000), 2);
    assert_non_null (strstr (err, "admin_password_hash"));
    char file[128], setting[160];
    snprintf (file, sizeof file, "%s/admin-password", f->dir);
    FILE *out = fopen (file, "w");
    fputs ("qwerty123\n", out);
    fclose (out);
    snprintf (setting, sizeof setting, "admin_password_file=%s", file);
    const char *common[] = {
        "--broker", f->broker.endpoint,         "--data", data,    "--set", "token_key=" KEY_HEX,
        "--set",    "admin_email=" ADMIN_EMAIL, "--set",  setting, NULL
    };
    assert_int_equal (vit_run ("vitrine-auth", common, NULL, 0, err, sizeof err, 20000), 2);
    assert_non_null (strstr (err, "admin_password_file: one of the most common"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_register_login_me),
        cmocka_unit_test (test_conflict_and_bad_input),
        cmocka_unit_test (test_weak_and_common_passwords_refused),
        cmocka_unit_test (test_refresh_rotates_and_reuse_ends_the_session),
        cmocka_unit_test (test_logout_ends_the_family),
        cmocka_unit_test (test_change_password_ends_all_sessions),
        cmocka_unit_test (test_rate_limited_after_ten_failures),
        cmocka_unit_test (test_roles_and_admin_from_config),
        cmocka_unit_test (test_acknowledged_register_survives_kill9),
        cmocka_unit_test (test_refuses_to_start_without_a_token_key),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("auth integration", tests, s_group_setup, s_group_teardown);
}
