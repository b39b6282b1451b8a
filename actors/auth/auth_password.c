//  auth_password.c — email shape, password policy, the common-password list and Argon2id hashing.
#include "auth_password.h"
#include "verr.h"
#include "vhash.h"
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_why (char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (why, whylen, fmt, args);
        va_end (args);
    }
    return -VE_INVAL;
}

//  ---------------------------------------------------------------- email
static bool
s_local_char (int c)
{
    return isalnum (c) || (c && strchr ("!#$%&'*+/=?^_`{|}~.-", c));
}

int
auth_email_normalise (const char *in, char *out, size_t size, char *why, size_t whylen)
{
    static const char *bad = "not an email address";
    if (!in)
        return s_why (why, whylen, "%s", bad);
    while (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
        in++;
    size_t len = strlen (in);
    while (len
           && (in[len - 1] == ' ' || in[len - 1] == '\t' || in[len - 1] == '\r'
               || in[len - 1] == '\n'))
        len--;
    if (len == 0)
        return s_why (why, whylen, "empty");
    if (len > AUTH_EMAIL_MAX)
        return s_why (why, whylen, "longer than %d bytes", AUTH_EMAIL_MAX);
    if (size < len + 1)
        return s_why (why, whylen, "longer than %zu bytes", size - 1);
    for (size_t i = 0; i < len; i++)
        out[i] = (char) tolower ((unsigned char) in[i]);
    out[len] = 0;

    const char *at = strchr (out, '@');
    if (!at || strchr (at + 1, '@'))
        return s_why (why, whylen, "%s (expected one '@')", bad);
    size_t local_len = (size_t) (at - out);
    if (local_len == 0 || local_len > 64)
        return s_why (why, whylen, "%s (the part before '@' must be 1 to 64 bytes)", bad);
    for (size_t i = 0; i < local_len; i++) {
        unsigned char c = (unsigned char) out[i];
        if (!s_local_char (c) || (c == '.' && (i == 0 || i == local_len - 1 || out[i + 1] == '.')))
            return s_why (why, whylen, "%s (unexpected '%c' before '@')", bad,
                          isprint (c) ? c : '?');
    }
    //  Domain: labels of letters, digits and inner hyphens; at least two of them, so that
    //  "user@localhost" (almost always a typo here) is refused.
    const char *d = at + 1;
    int labels = 0;
    while (true) {
        const char *label = d;
        while (isalnum ((unsigned char) *d) || *d == '-')
            d++;
        size_t label_len = (size_t) (d - label);
        if (label_len == 0 || label_len > 63 || label[0] == '-' || d[-1] == '-')
            return s_why (why, whylen, "%s (bad domain after '@')", bad);
        labels++;
        if (*d == 0)
            break;
        if (*d != '.')
            return s_why (why, whylen, "%s (bad domain after '@')", bad);
        d++;
    }
    if (labels < 2)
        return s_why (why, whylen, "%s (the domain needs a dot)", bad);
    return 0;
}

//  ---------------------------------------------------------------- common passwords
//  An open-addressing set of the lowercased entries: a lookup is one hash and a probe or two.
struct auth_common_s {
    char **slots;
    size_t nslots;  //  a power of two, at least twice the entries
    size_t count;
};

static void
s_lower (char *s)
{
    for (; *s; s++)
        *s = (char) tolower ((unsigned char) *s);
}

static bool
s_find (const auth_common_t *self, const char *lower, size_t *slot)
{
    size_t i = (size_t) vhash_fnv1a (lower, strlen (lower)) & (self->nslots - 1);
    while (self->slots[i]) {
        if (strcmp (self->slots[i], lower) == 0) {
            *slot = i;
            return true;
        }
        i = (i + 1) & (self->nslots - 1);
    }
    *slot = i;
    return false;
}

static int
s_add (auth_common_t *self, const char *word)
{
    if (2 * (self->count + 1) > self->nslots) {
        auth_common_t bigger = { .nslots = self->nslots ? 2 * self->nslots : 2048 };
        bigger.slots = calloc (bigger.nslots, sizeof (char *));
        if (!bigger.slots)
            return -VE_NOMEM;
        for (size_t i = 0; i < self->nslots; i++)
            if (self->slots[i]) {
                size_t slot;
                s_find (&bigger, self->slots[i], &slot);
                bigger.slots[slot] = self->slots[i];
            }
        free (self->slots);
        self->slots = bigger.slots;
        self->nslots = bigger.nslots;
    }
    size_t slot;
    if (s_find (self, word, &slot))
        return 0;
    if (!(self->slots[slot] = strdup (word)))
        return -VE_NOMEM;
    self->count++;
    return 0;
}

auth_common_t *
auth_common_load (const char *path, char *why, size_t whylen)
{
    FILE *file = path ? fopen (path, "r") : NULL;
    if (!file) {
        s_why (why, whylen, "cannot read '%s': %s", path ? path : "(none)", strerror (errno));
        return NULL;
    }
    auth_common_t *self = calloc (1, sizeof *self);
    char line[1024];
    int rc = self ? 0 : -VE_NOMEM;
    while (rc == 0 && fgets (line, sizeof line, file)) {
        line[strcspn (line, "\r\n")] = 0;
        if (line[0] == 0 || line[0] == '#')
            continue;
        s_lower (line);
        rc = s_add (self, line);
    }
    fclose (file);
    if (rc == 0 && self->count == 0) {
        s_why (why, whylen, "'%s' holds no passwords", path);
        rc = -VE_INVAL;
    }
    else if (rc)
        s_why (why, whylen, "out of memory reading '%s'", path);
    if (rc)
        auth_common_destroy (&self);
    return self;
}

void
auth_common_destroy (auth_common_t **self_p)
{
    auth_common_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->nslots; i++)
        free (self->slots[i]);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

size_t
auth_common_size (const auth_common_t *self)
{
    return self ? self->count : 0;
}

bool
auth_common_has (const auth_common_t *self, const char *password)
{
    if (!self || !password || strlen (password) >= 1024)
        return false;  //  longer than any line we could have loaded
    char lower[1024];
    strcpy (lower, password);
    s_lower (lower);
    size_t slot;
    return s_find (self, lower, &slot);
}

//  ---------------------------------------------------------------- policy
long
auth_utf8_length (const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        int extra = *p < 0x80                 ? 0
                    : *p >= 0xc2 && *p < 0xe0 ? 1
                    : *p >= 0xe0 && *p < 0xf0 ? 2
                    : *p >= 0xf0 && *p < 0xf5 ? 3
                                              : -1;
        if (extra < 0)
            return -1;
        p++;
        for (int i = 0; i < extra; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return -1;
        n++;
    }
    return n;
}

int
auth_password_check (const auth_common_t *common, const char *password, const char *email,
                     const char *field, char *why, size_t whylen)
{
    long chars = password ? auth_utf8_length (password) : -1;
    if (chars < 0)
        return s_why (why, whylen, "%s: required, as valid UTF-8", field);
    if (chars < AUTH_PASSWORD_MIN)
        return s_why (why, whylen, "%s: fewer than %d characters", field, AUTH_PASSWORD_MIN);
    if (chars > AUTH_PASSWORD_MAX)
        return s_why (why, whylen, "%s: more than %d characters", field, AUTH_PASSWORD_MAX);
    if (auth_common_has (common, password))
        return s_why (why, whylen, "%s: one of the most common passwords; choose another", field);
    if (email && *email) {
        const char *at = strchr (email, '@');
        size_t local = at ? (size_t) (at - email) : strlen (email);
        if (strcasecmp (password, email) == 0
            || (strlen (password) == local && strncasecmp (password, email, local) == 0))
            return s_why (why, whylen, "%s: must not be the email address", field);
    }
    return 0;
}

//  ---------------------------------------------------------------- hashing
void
auth_hasher_init (auth_hasher_t *self, unsigned max)
{
    self->max = max ? max : 1;
    atomic_init (&self->busy, 0);
}

static int
s_acquire (auth_hasher_t *self)
{
    unsigned busy = atomic_load (&self->busy);
    do {
        if (busy >= self->max)
            return -VE_BUSY;
    } while (!atomic_compare_exchange_weak (&self->busy, &busy, busy + 1));
    return 0;
}

static void
s_release (auth_hasher_t *self)
{
    atomic_fetch_sub (&self->busy, 1);
}

int
auth_password_hash (auth_hasher_t *self, const char *password, char out[AUTH_PASSWORD_HASH_MAX])
{
    if (sodium_init () < 0)
        return -VE_INTERNAL;
    if (s_acquire (self))
        return -VE_BUSY;
    int rc = crypto_pwhash_str_alg (out, password, strlen (password), AUTH_PASSWORD_OPSLIMIT,
                                    AUTH_PASSWORD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13);
    s_release (self);
    return rc == 0 ? 0 : -VE_NOMEM;  //  libsodium fails here only when memory is short
}

int
auth_password_verify (auth_hasher_t *self, const char *hash, const char *password)
{
    if (sodium_init () < 0)
        return -VE_INTERNAL;
    if (!hash || strnlen (hash, AUTH_PASSWORD_HASH_MAX) >= AUTH_PASSWORD_HASH_MAX)
        return -VE_UNAUTHORIZED;
    if (s_acquire (self))
        return -VE_BUSY;
    int rc = crypto_pwhash_str_verify (hash, password, strlen (password));
    s_release (self);
    return rc == 0 ? 0 : -VE_UNAUTHORIZED;
}

bool
auth_password_hash_valid (const char *hash)
{
    if (!hash || strncmp (hash, "$argon2id$", 10) != 0
        || strnlen (hash, AUTH_PASSWORD_HASH_MAX) >= AUTH_PASSWORD_HASH_MAX)
        return false;
    //  -1 means libsodium cannot parse it; 0 or 1 (weaker parameters) still verify.
    return crypto_pwhash_str_needs_rehash (hash, AUTH_PASSWORD_OPSLIMIT, AUTH_PASSWORD_MEMLIMIT)
           != -1;
}
