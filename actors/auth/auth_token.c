//  auth_token.c — signing and verifying access tokens, making and hashing refresh tokens.
//  Only libsodium and the caller's clock: the HTTP edge links this file as it is.
#include "auth_token.h"
#include "verr.h"
#include <sodium.h>
#include <string.h>

#define S_FIXED        (1 + 4 + 4 + 8 + 8 + 1)  //  payload bytes before the user id
#define S_PAYLOAD_MAX  (S_FIXED + AUTH_TOKEN_MAX_USER)
#define S_B64          sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define S_MAC_TEXT     sodium_base64_ENCODED_LEN (crypto_auth_BYTES, S_B64)  //  with the NUL
#define S_PAYLOAD_TEXT sodium_base64_ENCODED_LEN (S_PAYLOAD_MAX, S_B64)

_Static_assert(AUTH_TOKEN_KEY_BYTES == crypto_auth_KEYBYTES, "key size differs from crypto_auth");
_Static_assert(S_PAYLOAD_TEXT - 1 + 1 + S_MAC_TEXT <= AUTH_TOKEN_MAX, "AUTH_TOKEN_MAX too small");
_Static_assert(AUTH_REFRESH_TEXT == sodium_base64_ENCODED_LEN (AUTH_REFRESH_BYTES, S_B64),
               "AUTH_REFRESH_TEXT differs from the encoding");

static void
s_put32 (uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

static void
s_put64 (uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

static uint64_t
s_get (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

//  Decodes base64url text that must be canonical: re-encoding gives the same text, so two
//  different strings never carry the same bytes (a changed character is a changed token).
static int
s_decode (const char *text, size_t len, uint8_t *bin, size_t max, size_t *bin_len)
{
    char again[S_PAYLOAD_TEXT > S_MAC_TEXT ? S_PAYLOAD_TEXT : S_MAC_TEXT];
    const char *end;
    if (len == 0 || sodium_base642bin (bin, max, text, len, NULL, bin_len, &end, S_B64) != 0
        || end != text + len)
        return -VE_PROTO;
    if (sodium_base64_ENCODED_LEN (*bin_len, S_B64) > sizeof again)
        return -VE_PROTO;
    sodium_bin2base64 (again, sizeof again, bin, *bin_len, S_B64);
    if (strlen (again) != len || memcmp (again, text, len) != 0)
        return -VE_PROTO;
    return 0;
}

int
auth_token_key_from_hex (auth_token_key_t *key, const char *hex)
{
    if (sodium_init () < 0)
        return -VE_INTERNAL;
    size_t got = 0;
    const char *end = NULL;
    if (!hex || strlen (hex) != 2 * AUTH_TOKEN_KEY_BYTES
        || sodium_hex2bin (key->bytes, sizeof key->bytes, hex, strlen (hex), NULL, &got, &end)
        || got != AUTH_TOKEN_KEY_BYTES || *end)
        return -VE_INVAL;
    if (sodium_is_zero (key->bytes, sizeof key->bytes))
        return -VE_INVAL;  //  a placeholder, not a key
    //  The id names the key without revealing it: a keyed hash nobody can invert.
    uint8_t digest[crypto_generichash_BYTES];
    static const char context[] = "vitrine access token key id";
    crypto_generichash (digest, sizeof digest, (const uint8_t *) context, sizeof context - 1,
                        key->bytes, sizeof key->bytes);
    key->id = (uint32_t) s_get (digest, 4);
    return 0;
}

void
auth_token_key_wipe (auth_token_key_t *key)
{
    if (key)
        sodium_memzero (key, sizeof *key);
}

int
auth_token_sign (const auth_token_key_t *key, const auth_token_claims_t *claims, char *out,
                 size_t size)
{
    size_t uid_len = strnlen (claims->user_id, sizeof claims->user_id);
    if (uid_len == 0 || uid_len > AUTH_TOKEN_MAX_USER || claims->expires_ms <= claims->issued_ms)
        return -VE_INVAL;
    uint8_t payload[S_PAYLOAD_MAX];
    payload[0] = AUTH_TOKEN_VERSION;
    s_put32 (payload + 1, key->id);
    s_put32 (payload + 5, claims->roles);
    s_put64 (payload + 9, (uint64_t) claims->issued_ms);
    s_put64 (payload + 17, (uint64_t) claims->expires_ms);
    payload[25] = (uint8_t) uid_len;
    memcpy (payload + S_FIXED, claims->user_id, uid_len);
    size_t payload_len = S_FIXED + uid_len;

    size_t text_len = sodium_base64_ENCODED_LEN (payload_len, S_B64) - 1;
    if (size < text_len + 1 + S_MAC_TEXT)
        return -VE_TOOBIG;
    sodium_bin2base64 (out, size, payload, payload_len, S_B64);
    //  The MAC covers the text as sent, so any changed character of the payload fails it.
    uint8_t mac[crypto_auth_BYTES];
    crypto_auth (mac, (const uint8_t *) out, text_len, key->bytes);
    out[text_len] = '.';
    sodium_bin2base64 (out + text_len + 1, size - text_len - 1, mac, sizeof mac, S_B64);
    return (int) (text_len + 1 + S_MAC_TEXT - 1);
}

int
auth_token_verify (const auth_token_key_t *key, const char *token, size_t len, int64_t now_ms,
                   auth_token_claims_t *claims)
{
    if (!token || len >= AUTH_TOKEN_MAX)
        return -VE_PROTO;
    const char *dot = memchr (token, '.', len);
    if (!dot)
        return -VE_PROTO;
    size_t text_len = (size_t) (dot - token);
    uint8_t payload[S_PAYLOAD_MAX], mac[crypto_auth_BYTES];
    size_t payload_len, mac_len;
    if (s_decode (token, text_len, payload, sizeof payload, &payload_len)
        || s_decode (dot + 1, len - text_len - 1, mac, sizeof mac, &mac_len)
        || mac_len != sizeof mac)
        return -VE_PROTO;
    if (payload_len < S_FIXED + 1 || payload[0] != AUTH_TOKEN_VERSION
        || payload[25] != payload_len - S_FIXED)
        return -VE_PROTO;
    //  Constant time whatever the bytes: nothing about the right MAC leaks through timing.
    if (crypto_auth_verify (mac, (const uint8_t *) token, text_len, key->bytes) != 0)
        return -VE_UNAUTHORIZED;
    //  Checked after the MAC: the key id is a hint for rotation, the MAC is the proof.
    if ((uint32_t) s_get (payload + 1, 4) != key->id)
        return -VE_UNAUTHORIZED;
    int64_t exp = (int64_t) s_get (payload + 17, 8);
    if (now_ms >= exp)
        return -VE_TIMEOUT;
    const uint8_t *uid = payload + S_FIXED;
    size_t uid_len = payload_len - S_FIXED;
    if (memchr (uid, 0, uid_len))
        return -VE_PROTO;  //  we never sign one; keeps user_id a clean C string
    if (claims) {
        memset (claims, 0, sizeof *claims);
        memcpy (claims->user_id, uid, uid_len);
        claims->key_id = key->id;
        claims->roles = (uint32_t) s_get (payload + 5, 4);
        claims->issued_ms = (int64_t) s_get (payload + 9, 8);
        claims->expires_ms = exp;
    }
    return 0;
}

int
auth_refresh_new (char text[AUTH_REFRESH_TEXT], uint8_t hash[AUTH_REFRESH_HASH_BYTES])
{
    if (sodium_init () < 0)
        return -VE_INTERNAL;
    uint8_t raw[AUTH_REFRESH_BYTES];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (text, AUTH_REFRESH_TEXT, raw, sizeof raw, S_B64);
    crypto_generichash (hash, AUTH_REFRESH_HASH_BYTES, raw, sizeof raw, NULL, 0);
    sodium_memzero (raw, sizeof raw);
    return 0;
}

int
auth_refresh_hash (const char *text, uint8_t hash[AUTH_REFRESH_HASH_BYTES])
{
    uint8_t raw[AUTH_REFRESH_BYTES];
    size_t len;
    if (!text || strlen (text) != AUTH_REFRESH_TEXT - 1
        || s_decode (text, AUTH_REFRESH_TEXT - 1, raw, sizeof raw, &len) || len != sizeof raw)
        return -VE_PROTO;
    crypto_generichash (hash, AUTH_REFRESH_HASH_BYTES, raw, sizeof raw, NULL, 0);
    sodium_memzero (raw, sizeof raw);
    return 0;
}
