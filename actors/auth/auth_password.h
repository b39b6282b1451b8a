//  auth_password.h — what a password and an email address must look like, and password hashing:
//  Argon2id through libsodium, behind an explicit bound on how many hashes run at once (each one
//  holds AUTH_PASSWORD_MEMLIMIT bytes, so the bound is the memory a burst of logins can take).
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_PASSWORD_MIN      8            //  code points
#define AUTH_PASSWORD_MAX      128          //  code points (at most 512 bytes of UTF-8)
#define AUTH_PASSWORD_OPSLIMIT 2            //  Argon2id passes
#define AUTH_PASSWORD_MEMLIMIT (19u << 20)  //  19 MiB per hash (OWASP's Argon2id minimum)
#define AUTH_PASSWORD_HASH_MAX 128          //  crypto_pwhash_STRBYTES, NUL included
#define AUTH_EMAIL_MAX         254          //  bytes of a normalised address (RFC 5321 path)

//  ---------------------------------------------------------------- email
//  Normalises an address: trims ASCII blanks, lowercases ASCII letters, and checks a sane
//  shape: local@domain, local 1..64 bytes of letters, digits and !#$%&'*+/=?^_`{|}~.- with no
//  leading, trailing or doubled dot; domain of two or more dot-separated labels of letters,
//  digits and inner hyphens (1..63 bytes each); at most AUTH_EMAIL_MAX bytes in all.
//  Writes it to out (size >= AUTH_EMAIL_MAX + 1). Returns 0, or -VE_INVAL with the reason
//  ("not an email address", ...) in why (may be NULL).
int auth_email_normalise (const char *in, char *out, size_t size, char *why, size_t whylen);

//  ---------------------------------------------------------------- common passwords
typedef struct auth_common_s auth_common_t;

//  Loads a list of common passwords, one per line (blank lines and lines starting with '#'
//  skipped; trailing CR tolerated). Returns NULL and the reason in why when the file cannot
//  be read or holds no entry. Caller owns the list (auth_common_destroy).
auth_common_t *auth_common_load (const char *path, char *why, size_t whylen);
void auth_common_destroy (auth_common_t **self_p);
size_t auth_common_size (const auth_common_t *self);
//  True when password is on the list, comparing ASCII letters case-insensitively.
bool auth_common_has (const auth_common_t *self, const char *password);

//  ---------------------------------------------------------------- policy
//  Counts UTF-8 code points of a NUL-terminated string; -1 when it is not valid UTF-8.
long auth_utf8_length (const char *s);

//  Checks a new password: AUTH_PASSWORD_MIN..MAX code points (never truncated), not on the
//  common list (common may be NULL), not the email address or its local part (email may be
//  NULL). field names the request field in the message ("password: fewer than 8 characters").
//  Returns 0 or -VE_INVAL with the message in why.
int auth_password_check (const auth_common_t *common, const char *password, const char *email,
                         const char *field, char *why, size_t whylen);

//  ---------------------------------------------------------------- hashing
//  At most max hashes at once. The actor runtime runs one request at a time per process, so
//  with the default max 1 acquiring never fails there; the counter states the bound and keeps
//  it should handlers ever run concurrently (then a full pool answers busy, no queueing).
typedef struct {
    unsigned max;
    unsigned _Atomic busy;
} auth_hasher_t;

void auth_hasher_init (auth_hasher_t *self, unsigned max);

//  Hashes password into out (an "$argon2id$v=19$m=19456,t=2,p=1$..." string). Returns 0,
//  -VE_BUSY when max hashes are already running, -VE_NOMEM when the memory is not there.
int auth_password_hash (auth_hasher_t *self, const char *password,
                        char out[AUTH_PASSWORD_HASH_MAX]);
//  Verifies password against a stored hash. Returns 0 when it matches, -VE_UNAUTHORIZED when
//  not (or the hash is not one we can read), -VE_BUSY as above.
int auth_password_verify (auth_hasher_t *self, const char *hash, const char *password);
//  True when hash is an Argon2id string libsodium can verify (for configured hashes).
bool auth_password_hash_valid (const char *hash);

#endif
