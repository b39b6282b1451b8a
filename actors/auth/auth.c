//  auth.c — the auth service: accounts with Argon2id passwords, sign-in issuing a 15-minute
//  access token (verified by the edge without a call) and a rotating 30-day refresh token,
//  brute-force limits, roles, the first admin from configuration. docs/auth.md is the design.
//  Usage: vitrine-auth --broker EP --data DIR --set token_key=<64 hex> [--set admin_email=...]
#include "auth_limit.h"
#include "auth_password.h"
#include "auth_token.h"
#include "vactor.h"
#include <assert.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WHO "auth"

#define S_FAMILY_BYTES 16   //  a session (refresh token family) id, random
#define S_NAME_MAX     100  //  characters of a display name
#define S_PAGE_DEFAULT 50

typedef struct {
    auth_token_key_t key;
    auth_common_t *common;
    auth_hasher_t hasher;
    auth_limit_t *accounts;                   //  failed sign-ins per normalised email
    auth_limit_t *clients;                    //  failed sign-ins per client address
    char dummy_hash[AUTH_PASSWORD_HASH_MAX];  //  verified for unknown emails: same cost
    int cf_users, cf_emails, cf_refresh, cf_families;
    int64_t access_ttl_ms, refresh_ttl_ms;
} auth_t;

//  A user record as stored in "users" (msgpack map); strings point into the call's arena.
typedef struct {
    const char *id;
    const char *email;
    const char *name;
    const char *hash;
    uint32_t roles;
    int64_t created_at;
    int64_t password_at;
} s_user_t;

//  A refresh token record as stored in "refresh" under the token's hash.
typedef struct {
    const char *user_id;
    const char *family;  //  hex
    int64_t issued_at;
    int64_t expires_at;
    int64_t used_at;  //  0 while it is the family's current token
} s_refresh_t;

static const char *const s_cfs[] = { "users", "emails", "refresh", "families", NULL };

static const char *const s_config_keys[] = { "token_key",
                                             "admin_email",
                                             "admin_password_hash",
                                             "admin_password_file",
                                             "admin_name",
                                             "common_passwords",
                                             "hash_concurrency",
                                             "login_max_failures",
                                             "login_window_s",
                                             "login_max_backoff_s",
                                             "access_ttl_s",
                                             "refresh_ttl_s",
                                             NULL };

//  ---------------------------------------------------------------- records
//  Reads a msgpack record into the arena as a value tree. Returns 0 (found), -VE_NOT_FOUND,
//  or -VE_INTERNAL (store failure or a record we cannot read: logged).
static int
s_get (vstore_t *store, int cf, const void *key, size_t klen, varena_t *arena,
       const vmsg_value_t **value)
{
    char *raw = NULL;
    size_t len = 0;
    if (vstore_get (store, cf, key, klen, &raw, &len) != 0)
        return -VE_INTERNAL;
    if (!raw)
        return -VE_NOT_FOUND;
    char err[128];
    int rc = vmsg_decode (NULL, raw, len, arena, value, err, sizeof err);
    free (raw);
    if (rc || (*value)->kind != VMP_MAP) {
        vbus_log ('E', WHO, "unreadable record: %s", rc ? err : "not a map");
        return -VE_INTERNAL;
    }
    return 0;
}

static void
s_put_user (vstore_batch_t *batch, vstore_t *store, const auth_t *self, const s_user_t *u)
{
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 6);
    vmp_pack_kstr (&pk, "email", u->email);
    vmp_pack_kstr (&pk, "name", u->name);
    vmp_pack_kstr (&pk, "hash", u->hash);
    vmp_pack_kint (&pk, "roles", u->roles);
    vmp_pack_kint (&pk, "created_at", u->created_at);
    vmp_pack_kint (&pk, "password_at", u->password_at);
    vstore_batch_put (batch, store, self->cf_users, u->id, strlen (u->id), buf.data, buf.len);
    vbuf_free (&buf);
}

static int
s_get_user (vstore_t *store, const auth_t *self, const char *id, varena_t *arena, s_user_t *u)
{
    const vmsg_value_t *v;
    int rc = s_get (store, self->cf_users, id, strlen (id), arena, &v);
    if (rc)
        return rc;
    *u = (s_user_t) { .id = varena_strdup (arena, id),
                      .email = vmsg_str (v, "email"),
                      .name = vmsg_str (v, "name"),
                      .hash = vmsg_str (v, "hash"),
                      .roles = (uint32_t) vmsg_uint (v, "roles", 0),
                      .created_at = vmsg_int (v, "created_at", 0),
                      .password_at = vmsg_int (v, "password_at", 0) };
    if (!u->id || !u->email || !u->name || !u->hash) {
        vbus_log ('E', WHO, "user %s: record without email, name or hash", id);
        return -VE_INTERNAL;
    }
    return 0;
}

//  Looks a user up by normalised email. Same returns as s_get.
static int
s_get_user_by_email (vstore_t *store, const auth_t *self, const char *email, varena_t *arena,
                     s_user_t *u)
{
    char *id = NULL;
    size_t len = 0;
    if (vstore_get (store, self->cf_emails, email, strlen (email), &id, &len) != 0)
        return -VE_INTERNAL;
    if (!id)
        return -VE_NOT_FOUND;
    char *copy = varena_strndup (arena, id, len);
    free (id);
    return copy ? s_get_user (store, self, copy, arena, u) : -VE_INTERNAL;
}

static void
s_pack_user (msgpack_packer *pk, const s_user_t *u)
{
    msgpack_pack_map (pk, 5);
    vmp_pack_kstr (pk, "user_id", u->id);
    vmp_pack_kstr (pk, "email", u->email);
    vmp_pack_kstr (pk, "name", u->name);
    vmp_pack_kint (pk, "roles", u->roles);
    vmp_pack_kint (pk, "created_at", u->created_at);
}

//  "families" key: user id, '/', family hex — so one prefix scan finds a user's sessions.
static size_t
s_family_key (char *out, size_t size, const char *user_id, const char *family)
{
    return (size_t) snprintf (out, size, "%s/%s", user_id, family);
}

static void
s_put_family (vstore_batch_t *batch, vstore_t *store, const auth_t *self, const char *user_id,
              const char *family, int64_t created_at, int64_t revoked_at)
{
    char key[VBUS_MAX_USER + 2 + 2 * S_FAMILY_BYTES + 1];
    size_t klen = s_family_key (key, sizeof key, user_id, family);
    char storage[128];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 2);
    vmp_pack_kint (&pk, "created_at", created_at);
    vmp_pack_kint (&pk, "revoked_at", revoked_at);
    vstore_batch_put (batch, store, self->cf_families, key, klen, buf.data, buf.len);
    vbuf_free (&buf);
}

static void
s_put_refresh (vstore_batch_t *batch, vstore_t *store, const auth_t *self,
               const uint8_t hash[AUTH_REFRESH_HASH_BYTES], const s_refresh_t *r)
{
    char storage[256];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 5);
    vmp_pack_kstr (&pk, "user_id", r->user_id);
    vmp_pack_kstr (&pk, "family", r->family);
    vmp_pack_kint (&pk, "issued_at", r->issued_at);
    vmp_pack_kint (&pk, "expires_at", r->expires_at);
    vmp_pack_kint (&pk, "used_at", r->used_at);
    vstore_batch_put (batch, store, self->cf_refresh, hash, AUTH_REFRESH_HASH_BYTES, buf.data,
                      buf.len);
    vbuf_free (&buf);
}

//  Ends every session of a user, or only the family named (family not NULL), in batch.
//  Returns how many families it ended.
static int
s_revoke (vstore_batch_t *batch, vstore_t *store, const auth_t *self, const char *user_id,
          const char *family, int64_t now, varena_t *arena)
{
    char prefix[VBUS_MAX_USER + 2 + 2 * S_FAMILY_BYTES + 1];
    size_t plen = family ? s_family_key (prefix, sizeof prefix, user_id, family)
                         : (size_t) snprintf (prefix, sizeof prefix, "%s/", user_id);
    vstore_iter_t *it = vstore_iter_new (store, self->cf_families, prefix, plen, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    int ended = 0;
    while (it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        const vmsg_value_t *v;
        if (vmsg_decode (NULL, val, vlen, arena, &v, NULL, 0) != 0
            || vmsg_int (v, "revoked_at", 0) != 0)
            continue;
        int64_t created_at = vmsg_int (v, "created_at", 0);
        char k[sizeof prefix];
        snprintf (k, sizeof k, "%.*s", (int) klen, key);
        const char *slash = strchr (k, '/');
        if (!slash || (family && strcmp (slash + 1, family) != 0))
            continue;
        s_put_family (batch, store, self, user_id, slash + 1, created_at, now);
        ended++;
    }
    vstore_iter_destroy (&it);
    return ended;
}

//  ---------------------------------------------------------------- helpers
static auth_t *
s_self (vactor_call_t *call)
{
    return vactor_state (call->actor);
}

//  Random lowercase hex of n bytes into out (2n + 1).
static void
s_random_hex (char *out, size_t n)
{
    uint8_t raw[32];
    randombytes_buf (raw, n);
    sodium_bin2hex (out, 2 * n + 1, raw, n);
}

//  A new user id that routes to the same partition as the user's email ("u" + 20 hex): with
//  keyed routing, calls keyed by user id (me) and by email (login) meet the same store.
static int
s_new_user_id (vstore_t *store, const auth_t *self, uint32_t partitions, uint32_t partition,
               char out[22])
{
    for (int tries = 0; tries < 1000000; tries++) {
        out[0] = 'u';
        s_random_hex (out + 1, 10);
        if (partitions > 1 && vbus_partition (out, 21, partitions) != partition)
            continue;
        if (!vstore_has (store, self->cf_users, out, 21))
            return 0;
    }
    return -VE_INTERNAL;
}

//  "in 900 s (at 2026-11-25T13:15:00Z)"
static void
s_retry_text (char *out, size_t size, int64_t now_ms, int64_t retry_at_ms)
{
    time_t at = (time_t) ((retry_at_ms + 999) / 1000);
    struct tm tm;
    gmtime_r (&at, &tm);
    char iso[32];
    strftime (iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf (out, size, "in %lld s (at %s)", (long long) ((retry_at_ms - now_ms + 999) / 1000),
              iso);
}

//  Answers busy when the account or the client address is locked out; 0 when it may try.
static int
s_limited (vactor_call_t *call, const char *email, const char *client, int64_t now)
{
    auth_t *self = s_self (call);
    int64_t retry = 0;
    const char *what = NULL;
    if (email && auth_limit_check (self->accounts, email, now, &retry))
        what = "this account";
    else if (client && *client && auth_limit_check (self->clients, client, now, &retry))
        what = "this address";
    if (!what)
        return 0;
    char when[96];
    s_retry_text (when, sizeof when, now, retry);
    return vbus_out_error (call->out, VE_BUSY,
                           "rate limited: too many failed sign-ins for %s; try again %s", what,
                           when);
}

static void
s_failed (vactor_call_t *call, const char *email, const char *client, int64_t now)
{
    auth_t *self = s_self (call);
    if (email && auth_limit_fail (self->accounts, email, now, NULL) == -VE_BUSY)
        vbus_log ('W', WHO, "sign-ins for an account locked after repeated failures");
    if (client && *client && auth_limit_fail (self->clients, client, now, NULL) == -VE_BUSY)
        vbus_log ('W', WHO, "sign-ins from %s locked after repeated failures", client);
}

static int
s_hash_status (vactor_call_t *call, int rc)
{
    if (rc == -VE_BUSY)
        return vbus_out_error (call->out, VE_BUSY, "password hashing at capacity; try again");
    return vbus_out_error (call->out, VE_INTERNAL, "password hashing failed");
}

//  Issues an access token and a refresh token in family (a new family when NULL), writes the
//  refresh record (and the family), and packs the auth.tokens reply.
static int
s_issue (vactor_call_t *call, const s_user_t *u, const char *family)
{
    auth_t *self = s_self (call);
    int64_t now = vactor_now_ms (call->actor);
    char family_hex[2 * S_FAMILY_BYTES + 1];
    if (!family) {
        s_random_hex (family_hex, S_FAMILY_BYTES);
        family = family_hex;
        s_put_family (call->batch, call->store, self, u->id, family, now, 0);
    }
    //  The refresh token routes to the user's partition too, so the edge may key refresh and
    //  logout by the token itself.
    char refresh[AUTH_REFRESH_TEXT];
    uint8_t hash[AUTH_REFRESH_HASH_BYTES];
    uint32_t partitions = vactor_partitions (call->actor);
    do {
        if (auth_refresh_new (refresh, hash))
            return vbus_out_error (call->out, VE_INTERNAL, "no randomness");
    } while (partitions > 1
             && vbus_partition (refresh, strlen (refresh), partitions) != call->partition);
    s_refresh_t r = { .user_id = u->id,
                      .family = family,
                      .issued_at = now,
                      .expires_at = now + self->refresh_ttl_ms };
    s_put_refresh (call->batch, call->store, self, hash, &r);

    auth_token_claims_t claims = { .roles = u->roles,
                                   .issued_ms = now,
                                   .expires_ms = now + self->access_ttl_ms };
    snprintf (claims.user_id, sizeof claims.user_id, "%s", u->id);
    char access[AUTH_TOKEN_MAX];
    if (auth_token_sign (&self->key, &claims, access, sizeof access) < 0)
        return vbus_out_error (call->out, VE_INTERNAL, "could not sign a token");

    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 5);
    vmp_pack_kstr (pk, "access_token", access);
    vmp_pack_kint (pk, "expires_at", claims.expires_ms);
    vmp_pack_kstr (pk, "refresh_token", refresh);
    vmp_pack_kint (pk, "refresh_expires_at", r.expires_at);
    vmp_pack_cstr (pk, "user");
    s_pack_user (pk, u);
    sodium_memzero (refresh, sizeof refresh);
    return VE_OK;
}

//  Rehashes a password whose stored hash is weaker than today's parameters (e.g. an admin
//  hash from configuration); best effort: the sign-in succeeds either way.
static void
s_maybe_rehash (vactor_call_t *call, s_user_t *u, const char *password)
{
    auth_t *self = s_self (call);
    if (crypto_pwhash_str_needs_rehash (u->hash, AUTH_PASSWORD_OPSLIMIT, AUTH_PASSWORD_MEMLIMIT)
        != 1)
        return;
    char *hash = varena_alloc (call->arena, AUTH_PASSWORD_HASH_MAX);
    if (hash && auth_password_hash (&self->hasher, password, hash) == 0) {
        u->hash = hash;
        s_put_user (call->batch, call->store, self, u);
    }
}

static int
s_emit (vactor_call_t *call, const char *topic, const char *user_id, const char *email)
{
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, email ? 3 : 2);
    vmp_pack_kstr (&pk, "user_id", user_id);
    if (email)
        vmp_pack_kstr (&pk, "email", email);
    vmp_pack_kint (&pk, "at", vactor_now_ms (call->actor));
    int rc = vactor_emit (call, topic, buf.data, buf.len);
    vbuf_free (&buf);
    return rc ? vbus_out_error (call->out, VE_INTERNAL, "could not record %s", topic) : VE_OK;
}

//  ---------------------------------------------------------------- handlers
static int
auth_register (vactor_call_t *call)
{
    auth_t *self = s_self (call);
    char email[AUTH_EMAIL_MAX + 1], why[256];
    if (auth_email_normalise (vmsg_str (call->body, "email"), email, sizeof email, why, sizeof why))
        return vbus_out_error (call->out, VE_BAD_REQUEST, "email: %s", why);
    const char *name = vmsg_str (call->body, "name");
    long name_chars = auth_utf8_length (name);
    if (name_chars > S_NAME_MAX)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "name: more than %d characters",
                               S_NAME_MAX);
    if (name_chars < 1 || strspn (name, " \t\r\n") == strlen (name))
        return vbus_out_error (call->out, VE_BAD_REQUEST, "name: empty");
    const char *password = vmsg_str (call->body, "password");
    if (auth_password_check (self->common, password, email, "password", why, sizeof why))
        return vbus_out_error (call->out, VE_BAD_REQUEST, "%s", why);
    //  Checked before hashing: a taken address costs no hash. One request at a time and the
    //  commit before the next, so nobody can take it in between.
    if (vstore_has (call->store, self->cf_emails, email, strlen (email)))
        return vbus_out_error (call->out, VE_CONFLICT, "email: already registered");

    char id[22];
    if (s_new_user_id (call->store, self, vactor_partitions (call->actor), call->partition, id))
        return vbus_out_error (call->out, VE_INTERNAL, "could not make a user id");
    char hash[AUTH_PASSWORD_HASH_MAX];
    int rc = auth_password_hash (&self->hasher, password, hash);
    if (rc)
        return s_hash_status (call, rc);
    int64_t now = vactor_now_ms (call->actor);
    s_user_t u = { .id = id,
                   .email = email,
                   .name = name,
                   .hash = hash,
                   .roles = VBUS_ROLE_CUSTOMER,
                   .created_at = now,
                   .password_at = now };
    s_put_user (call->batch, call->store, self, &u);
    vstore_batch_put (call->batch, call->store, self->cf_emails, email, strlen (email), id,
                      strlen (id));
    int status = s_emit (call, "auth.user_registered", id, email);
    if (status)
        return status;
    s_pack_user (&call->out->pk, &u);
    return VE_OK;
}

static int
auth_login (vactor_call_t *call)
{
    auth_t *self = s_self (call);
    int64_t now = vactor_now_ms (call->actor);
    const char *client = vmsg_str (call->body, "client_addr");
    char email[AUTH_EMAIL_MAX + 1], why[256];
    if (auth_email_normalise (vmsg_str (call->body, "email"), email, sizeof email, why, sizeof why))
        return vbus_out_error (call->out, VE_BAD_REQUEST, "email: %s", why);
    //  Locked out: answered before any hashing, so a flood of guesses costs us nothing.
    int status = s_limited (call, email, client, now);
    if (status)
        return status;
    const char *password = vmsg_str (call->body, "password");
    s_user_t u = { 0 };
    int rc = s_get_user_by_email (call->store, self, email, call->arena, &u);
    if (rc == -VE_INTERNAL)
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read");
    bool found = rc == 0;
    //  An unknown address costs the same hash as a wrong password: timing tells nothing.
    rc = auth_password_verify (&self->hasher, found ? u.hash : self->dummy_hash, password);
    if (rc == -VE_BUSY)
        return s_hash_status (call, rc);
    if (rc || !found) {
        s_failed (call, email, client, now);
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "email or password is wrong");
    }
    auth_limit_reset (self->accounts, email);  //  not the address: it may be shared or hostile
    s_maybe_rehash (call, &u, password);
    if ((status = s_issue (call, &u, NULL)))
        return status;
    return s_emit (call, "auth.logged_in", u.id, NULL);
}

//  Reads and checks a presented refresh token. Returns VE_OK with *r and hash filled, or an
//  error status already written to the reply.
static int
s_refresh_lookup (vactor_call_t *call, uint8_t hash[AUTH_REFRESH_HASH_BYTES], s_refresh_t *r,
                  bool *revoked)
{
    auth_t *self = s_self (call);
    const vmsg_value_t *v;
    if (auth_refresh_hash (vmsg_str (call->body, "refresh_token"), hash) != 0)
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "refresh_token: not recognised");
    int rc = s_get (call->store, self->cf_refresh, hash, AUTH_REFRESH_HASH_BYTES, call->arena, &v);
    if (rc == -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "refresh_token: not recognised");
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read");
    *r = (s_refresh_t) { .user_id = vmsg_str (v, "user_id"),
                         .family = vmsg_str (v, "family"),
                         .issued_at = vmsg_int (v, "issued_at", 0),
                         .expires_at = vmsg_int (v, "expires_at", 0),
                         .used_at = vmsg_int (v, "used_at", 0) };
    if (!r->user_id || !r->family)
        return vbus_out_error (call->out, VE_INTERNAL, "unreadable refresh record");
    char key[VBUS_MAX_USER + 2 + 2 * S_FAMILY_BYTES + 1];
    size_t klen = s_family_key (key, sizeof key, r->user_id, r->family);
    rc = s_get (call->store, self->cf_families, key, klen, call->arena, &v);
    if (rc == -VE_INTERNAL)
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read");
    *revoked = rc == -VE_NOT_FOUND || vmsg_int (v, "revoked_at", 0) != 0;
    return VE_OK;
}

static int
auth_refresh (vactor_call_t *call)
{
    auth_t *self = s_self (call);
    int64_t now = vactor_now_ms (call->actor);
    uint8_t hash[AUTH_REFRESH_HASH_BYTES];
    s_refresh_t r;
    bool revoked;
    int status = s_refresh_lookup (call, hash, &r, &revoked);
    if (status)
        return status;
    if (revoked)
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "refresh_token: the session has ended");
    if (r.used_at) {
        //  A rotated token came back: it was copied. End the whole session, for the thief and
        //  the owner alike. Committed here, since a failed call's batch is thrown away.
        vstore_batch_t *batch = vstore_batch_new ();
        s_revoke (batch, call->store, self, r.user_id, r.family, now, call->arena);
        int rc = batch ? vstore_commit (call->store, batch, true) : -VE_NOMEM;
        vstore_batch_destroy (&batch);
        vbus_log ('W', WHO, "user %s: a used refresh token was presented again; session ended",
                  r.user_id);
        if (rc)
            return vbus_out_error (call->out, VE_INTERNAL, "the store could not write");
        return vbus_out_error (call->out, VE_UNAUTHORIZED,
                               "refresh_token: already used; the session has been ended");
    }
    if (now >= r.expires_at)
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "refresh_token: expired");
    s_user_t u;
    int rc = s_get_user (call->store, self, r.user_id, call->arena, &u);
    if (rc == -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "refresh_token: no such user");
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read");
    //  Rotation: the old token stays, marked used, until it would have expired, so that its
    //  reuse is recognised.
    r.used_at = now;
    s_put_refresh (call->batch, call->store, self, hash, &r);
    return s_issue (call, &u, r.family);
}

static int
auth_logout (vactor_call_t *call)
{
    auth_t *self = s_self (call);
    uint8_t hash[AUTH_REFRESH_HASH_BYTES];
    s_refresh_t r;
    bool revoked;
    int status = s_refresh_lookup (call, hash, &r, &revoked);
    if (status)
        return status;
    if (!revoked)
        s_revoke (call->batch, call->store, self, r.user_id, r.family, vactor_now_ms (call->actor),
                  call->arena);
    msgpack_pack_map (&call->out->pk, 0);
    return VE_OK;
}

//  The signed-in caller's user, or an error status written to the reply.
static int
s_caller (vactor_call_t *call, s_user_t *u)
{
    const char *id = call->req->caller.user_id;
    if (!id || !*id)
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "sign in first");
    int rc = s_get_user (call->store, s_self (call), id, call->arena, u);
    if (rc == -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_NOT_FOUND, "user: no such user");
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read");
    return VE_OK;
}

static int
auth_me (vactor_call_t *call)
{
    s_user_t u;
    int status = s_caller (call, &u);
    if (status)
        return status;
    s_pack_user (&call->out->pk, &u);
    return VE_OK;
}

static int
auth_change_password (vactor_call_t *call)
{
    auth_t *self = s_self (call);
    int64_t now = vactor_now_ms (call->actor);
    s_user_t u;
    int status = s_caller (call, &u);
    if (status)
        return status;
    const char *old_password = vmsg_str (call->body, "old_password");
    const char *new_password = vmsg_str (call->body, "new_password");
    char why[256];
    if (auth_password_check (self->common, new_password, u.email, "new_password", why, sizeof why))
        return vbus_out_error (call->out, VE_BAD_REQUEST, "%s", why);
    if (strcmp (old_password, new_password) == 0)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "new_password: same as the old one");
    //  A stolen access token must not become a way to guess the password: same limits.
    if ((status = s_limited (call, u.email, NULL, now)))
        return status;
    int rc = auth_password_verify (&self->hasher, u.hash, old_password);
    if (rc == -VE_BUSY)
        return s_hash_status (call, rc);
    if (rc) {
        s_failed (call, u.email, NULL, now);
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "old_password: wrong password");
    }
    char *hash = varena_alloc (call->arena, AUTH_PASSWORD_HASH_MAX);
    if (!hash)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    if ((rc = auth_password_hash (&self->hasher, new_password, hash)))
        return s_hash_status (call, rc);
    u.hash = hash;
    u.password_at = now;
    s_put_user (call->batch, call->store, self, &u);
    int ended = s_revoke (call->batch, call->store, self, u.id, NULL, now, call->arena);
    vbus_log ('I', WHO, "user %s changed password; %d sessions ended", u.id, ended);
    msgpack_pack_map (&call->out->pk, 0);
    return VE_OK;
}

static int
auth_list_users (vactor_call_t *call)
{
    auth_t *self = s_self (call);
    //  The runtime checked the role from the schema table; checked again here so that a
    //  table edit cannot open the user list by accident.
    if (!(call->req->caller.roles & VBUS_ROLE_ADMIN))
        return vbus_out_error (call->out, VE_FORBIDDEN, "auth.list_users: admins only");
    const char *cursor = vmsg_str (call->body, "cursor");
    uint32_t limit = (uint32_t) vmsg_uint (call->body, "limit", S_PAGE_DEFAULT);
    s_user_t *users = varena_alloc (call->arena, (limit + 1) * sizeof *users);
    if (!users)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    size_t clen = cursor ? strlen (cursor) : 0;
    vstore_iter_t *it =
        vstore_iter_new (call->store, self->cf_users, NULL, 0, clen ? cursor : NULL, clen);
    const char *key, *val;
    size_t klen, vlen;
    uint32_t n = 0;
    while (it && n <= limit && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        if (clen && klen == clen && memcmp (key, cursor, clen) == 0)
            continue;  //  the cursor is the last id already shown
        const vmsg_value_t *v;
        if (vmsg_decode (NULL, val, vlen, call->arena, &v, NULL, 0) != 0)
            continue;
        s_user_t *u = &users[n];
        *u = (s_user_t) { .id = varena_strndup (call->arena, key, klen),
                          .email = vmsg_str (v, "email"),
                          .name = vmsg_str (v, "name"),
                          .roles = (uint32_t) vmsg_uint (v, "roles", 0),
                          .created_at = vmsg_int (v, "created_at", 0) };
        if (u->id && u->email && u->name)
            n++;
    }
    vstore_iter_destroy (&it);
    bool more = n > limit;
    if (more)
        n = limit;
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, more ? 2 : 1);
    vmp_pack_cstr (pk, "users");
    msgpack_pack_array (pk, n);
    for (uint32_t i = 0; i < n; i++)
        s_pack_user (pk, &users[i]);
    if (more)
        vmp_pack_kstr (pk, "next_cursor", users[n - 1].id);
    return VE_OK;
}

//  ---------------------------------------------------------------- start and stop
static void
s_free (auth_t **self_p)
{
    auth_t *self = *self_p;
    if (!self)
        return;
    auth_common_destroy (&self->common);
    auth_limit_destroy (&self->accounts);
    auth_limit_destroy (&self->clients);
    auth_token_key_wipe (&self->key);
    free (self);
    *self_p = NULL;
}

//  The shipped list: the setting, else next to the program (the build copies it there), else
//  the source tree.
static auth_common_t *
s_load_common (vactor_t *actor, char *why, size_t whylen)
{
    const char *path = vactor_config (actor, "common_passwords");
    if (path)
        return auth_common_load (path, why, whylen);
    char exe[PATH_MAX] = "";
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr (exe, '/');
        if (slash) {
            snprintf (slash + 1, sizeof exe - (size_t) (slash + 1 - exe), "common-passwords.txt");
            if (access (exe, R_OK) == 0)
                return auth_common_load (exe, why, whylen);
        }
    }
    return auth_common_load (AUTH_SOURCE_DIR "/common-passwords.txt", why, whylen);
}

//  Reads the first line of a file holding the admin's password.
static int
s_read_secret (const char *path, char *out, size_t size)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return -VE_IO;
    bool ok = fgets (out, (int) size, f) != NULL;
    fclose (f);
    if (!ok)
        return -VE_INVAL;
    out[strcspn (out, "\r\n")] = 0;
    return 0;
}

static int
s_config_error (const char *setting, const char *what)
{
    fprintf (stderr, "vitrine-auth: %s: %s\n", setting, what);
    return -VE_CONFIG;
}

//  Creates the configured admin when no user has that address. Never changes an existing user:
//  an address someone registered before the setting existed does not become an admin.
static int
s_seed_admin (vactor_t *actor, auth_t *self)
{
    const char *given = vactor_config (actor, "admin_email");
    const char *hash_setting = vactor_config (actor, "admin_password_hash");
    const char *file = vactor_config (actor, "admin_password_file");
    if (!given) {
        if (hash_setting || file)
            return s_config_error ("admin_email", "required with admin_password_*");
        return 0;
    }
    char email[AUTH_EMAIL_MAX + 1], why[256];
    if (auth_email_normalise (given, email, sizeof email, why, sizeof why))
        return s_config_error ("admin_email", why);
    if (!hash_setting == !file)
        return s_config_error ("admin_password_hash",
                               "set exactly one of admin_password_hash and admin_password_file");
    uint32_t partitions = vactor_partitions (actor);
    uint32_t partition = vbus_partition (email, strlen (email), partitions);
    vstore_t *store = vactor_store (actor, partition);
    if (!store) {
        vbus_log ('I', WHO, "admin %s belongs to partition %u, not served here", email, partition);
        return 0;
    }
    //  Settings are checked on every start, whether or not the admin exists yet.
    char password[4 * AUTH_PASSWORD_MAX + 2] = "";
    if (hash_setting && !auth_password_hash_valid (hash_setting))
        return s_config_error ("admin_password_hash",
                               "expected an Argon2id hash string ($argon2id$v=19$...)");
    if (file && s_read_secret (file, password, sizeof password))
        return s_config_error ("admin_password_file", "cannot read a password from it");
    if (file
        && auth_password_check (self->common, password, email, "admin_password_file", why,
                                sizeof why)) {
        sodium_memzero (password, sizeof password);
        return s_config_error ("admin_password_file", strchr (why, ':') + 2);
    }
    if (vstore_has (store, self->cf_emails, email, strlen (email))) {
        sodium_memzero (password, sizeof password);
        vbus_log ('I', WHO, "admin %s already exists", email);
        return 0;
    }
    char hash[AUTH_PASSWORD_HASH_MAX];
    int rc = 0;
    if (hash_setting)
        snprintf (hash, sizeof hash, "%s", hash_setting);
    else
        rc = auth_password_hash (&self->hasher, password, hash);
    sodium_memzero (password, sizeof password);
    if (rc)
        return rc;
    char id[22];
    if (s_new_user_id (store, self, partitions, partition, id))
        return -VE_INTERNAL;
    int64_t now = vactor_now_ms (actor);
    const char *name = vactor_config (actor, "admin_name");
    long name_chars = name ? auth_utf8_length (name) : 0;
    if (name_chars < 0 || name_chars > S_NAME_MAX)
        return s_config_error ("admin_name", "expected at most 100 characters of UTF-8");
    s_user_t u = { .id = id,
                   .email = email,
                   .name = name && *name ? name : "Administrator",
                   .hash = hash,
                   .roles = VBUS_ROLE_ADMIN | VBUS_ROLE_CUSTOMER,
                   .created_at = now,
                   .password_at = now };
    vstore_batch_t *batch = vstore_batch_new ();
    if (!batch)
        return -VE_NOMEM;
    s_put_user (batch, store, self, &u);
    vstore_batch_put (batch, store, self->cf_emails, email, strlen (email), id, strlen (id));
    rc = vstore_commit (store, batch, true);
    vstore_batch_destroy (&batch);
    if (rc == 0)
        vbus_log ('I', WHO, "admin %s created as %s", email, id);
    return rc;
}

static int
s_open (vactor_t *actor, auth_t *self)
{
    int rc = auth_token_key_from_hex (&self->key, vactor_config (actor, "token_key"));
    if (rc == -VE_INTERNAL)
        return rc;
    if (rc)
        return s_config_error ("token_key", vactor_config (actor, "token_key")
                                                ? "expected 64 hex characters (32 random bytes)"
                                                : "required: 64 hex characters (32 random bytes), "
                                                  "shared with the HTTP edge");
    char why[512];
    if (!(self->common = s_load_common (actor, why, sizeof why)))
        return s_config_error ("common_passwords", why);
    long hashes, failures, window_s, backoff_s, access_s, refresh_s;
    if (vactor_config_long (actor, "hash_concurrency", 1, 64, 1, &hashes)
        || vactor_config_long (actor, "login_max_failures", 1, AUTH_LIMIT_MAX_FAILURES, 10,
                               &failures)
        || vactor_config_long (actor, "login_window_s", 1, 86400, 900, &window_s)
        || vactor_config_long (actor, "login_max_backoff_s", window_s, 30 * 86400, 86400,
                               &backoff_s)
        || vactor_config_long (actor, "access_ttl_s", 10, 86400, 900, &access_s)
        || vactor_config_long (actor, "refresh_ttl_s", 60, 365L * 86400, 30L * 86400, &refresh_s)) {
        return -VE_CONFIG;  //  vactor_config_long named the setting
    }
    auth_hasher_init (&self->hasher, (unsigned) hashes);
    self->access_ttl_ms = access_s * 1000;
    self->refresh_ttl_ms = refresh_s * 1000;
    auth_limit_config_t limits = { .failures = (unsigned) failures,
                                   .window_ms = window_s * 1000,
                                   .max_backoff_ms = backoff_s * 1000 };
    self->accounts = auth_limit_new (&limits);
    self->clients = auth_limit_new (&limits);
    if (!self->accounts || !self->clients)
        return -VE_NOMEM;

    const uint32_t *owned;
    vactor_owned (actor, &owned);
    vstore_t *store = vactor_store (actor, owned[0]);
    self->cf_users = vstore_cf (store, "users");
    self->cf_emails = vstore_cf (store, "emails");
    self->cf_refresh = vstore_cf (store, "refresh");
    self->cf_families = vstore_cf (store, "families");
    assert (self->cf_users >= 0 && self->cf_emails >= 0 && self->cf_refresh >= 0
            && self->cf_families >= 0);

    //  The stand-in for unknown addresses: a real hash of a random password.
    char random[33];
    s_random_hex (random, 16);
    if ((rc = auth_password_hash (&self->hasher, random, self->dummy_hash)))
        return rc;
    return s_seed_admin (actor, self);
}

static int
auth_open (vactor_t *actor)
{
    auth_t *self = calloc (1, sizeof *self);
    if (!self)
        return -VE_NOMEM;
    int rc = s_open (actor, self);
    if (rc) {
        s_free (&self);
        return rc;
    }
    vactor_set_state (actor, self);
    vbus_log ('I', WHO, "token key %08x, %zu common passwords, %u hash at once", self->key.id,
              auth_common_size (self->common), self->hasher.max);
    return 0;
}

static void
auth_close (vactor_t *actor)
{
    auth_t *self = vactor_state (actor);
    s_free (&self);
    vactor_set_state (actor, NULL);
}

static const vactor_method_t s_methods[] = {
    //  sync: accounts, passwords and ended sessions survive a power cut, not only a crash;
    //  the fsync is small next to the password hash these calls pay anyway.
    { "register", auth_register, true },
    { "login", auth_login, false },
    { "refresh", auth_refresh, false },
    { "logout", auth_logout, true },
    { "me", auth_me, false },
    { "change_password", auth_change_password, true },
    { "list_users", auth_list_users, false },
    { NULL },
};

static const vactor_def_t s_def = { .service = "auth",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .partitions = 1,
                                    .config_keys = s_config_keys,
                                    .open = auth_open,
                                    .close = auth_close };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
