//  auth_token.h — access tokens (signed, short-lived, verified without a bus call) and refresh
//  tokens (random, stored hashed). The HTTP edge links this module to verify access tokens
//  itself, so it depends only on libsodium and on the clock value its caller passes in.
//
//  An access token is  base64url(payload) "." base64url(mac)  with no padding, where mac is
//  crypto_auth (HMAC-SHA512-256) over the payload's base64url text, and payload is:
//      version u8 (1) | key id u32 | roles u32 | iat i64 | exp i64 | uid_len u8 | uid
//  integers big-endian, times in Unix milliseconds, uid 1..64 bytes. docs/auth.md has more.
//  Everything here is thread-safe once sodium_init has run (auth_token_key_from_hex runs it).
#ifndef AUTH_TOKEN_H
#define AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_TOKEN_VERSION      1
#define AUTH_TOKEN_KEY_BYTES    32   //  crypto_auth_KEYBYTES
#define AUTH_TOKEN_MAX_USER     64   //  bytes of a user id (VBUS_MAX_USER)
#define AUTH_TOKEN_MAX          256  //  characters of an access token, NUL included
#define AUTH_REFRESH_BYTES      32   //  random bytes in a refresh token
#define AUTH_REFRESH_TEXT       44   //  its base64url text (43 characters) and the NUL
#define AUTH_REFRESH_HASH_BYTES 32   //  crypto_generichash of those bytes: the stored key

//  A signing key and its id (derived from the key, so both sides agree without a setting).
typedef struct {
    uint8_t bytes[AUTH_TOKEN_KEY_BYTES];
    uint32_t id;
} auth_token_key_t;

//  What an access token says.
typedef struct {
    char user_id[AUTH_TOKEN_MAX_USER + 1];
    uint32_t roles;      //  VBUS_ROLE_* bits
    int64_t issued_ms;   //  iat, Unix ms
    int64_t expires_ms;  //  exp, Unix ms: the token is refused from this instant on
    uint32_t key_id;     //  the key that signed it
} auth_token_claims_t;

//  Reads a key from 64 hex characters (32 bytes; surrounding blanks are not allowed).
//  Returns 0, or -VE_INVAL when hex is NULL, not 64 characters, not hex, or all zero bytes;
//  -VE_INTERNAL when libsodium cannot start.
int auth_token_key_from_hex (auth_token_key_t *key, const char *hex);
//  Forgets the key bytes (sodium_memzero).
void auth_token_key_wipe (auth_token_key_t *key);

//  Signs claims (user_id 1..64 bytes) into out (size bytes, AUTH_TOKEN_MAX is enough) as a
//  NUL-terminated token; claims->key_id is ignored (the key's id is used). Returns the token's
//  length, or -VE_INVAL (empty or too long user id, exp not after iat), -VE_TOOBIG (out short).
int auth_token_sign (const auth_token_key_t *key, const auth_token_claims_t *claims, char *out,
                     size_t size);

//  Verifies a token (len bytes, need not be NUL-terminated) against key, in constant time for
//  the MAC, and checks it is not expired at now_ms. Fills claims (may be NULL) only on success.
//  Returns 0; -VE_PROTO when it is not a token of ours (shape, encoding, version, lengths);
//  -VE_UNAUTHORIZED when the MAC does not verify (tampered, or signed with another key);
//  -VE_TIMEOUT when now_ms >= exp. Every failure means 401 at the edge.
int auth_token_verify (const auth_token_key_t *key, const char *token, size_t len, int64_t now_ms,
                       auth_token_claims_t *claims);

//  Makes a refresh token: AUTH_REFRESH_BYTES random bytes as base64url text (43 characters)
//  in text, and their hash (the store's key) in hash. Returns 0 or -VE_INTERNAL.
int auth_refresh_new (char text[AUTH_REFRESH_TEXT], uint8_t hash[AUTH_REFRESH_HASH_BYTES]);
//  Hashes a refresh token presented by a client. Returns 0, or -VE_PROTO when text is not a
//  refresh token of ours (43 base64url characters, canonical).
int auth_refresh_hash (const char *text, uint8_t hash[AUTH_REFRESH_HASH_BYTES]);

#endif
