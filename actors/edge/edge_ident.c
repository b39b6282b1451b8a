//  edge_ident.c — access tokens, cookies and request ids at the edge (see edge_ident.h).
#include "edge_ident.h"
#include "verr.h"
#include "vmsg.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool
edge_rid_ok (const char *s, size_t len)
{
    if (len == 0 || len > EDGE_RID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
              || c == '_' || c == '-'))
            return false;
    }
    return true;
}

void
edge_rid_new (char *out)
{
    static char prefix[9];
    static uint64_t counter;
    static const char hex[] = "0123456789abcdef";
    if (!prefix[0]) {
        //  Random per process, so ids from several edges behind one port do not collide.
        uint32_t r = randombytes_random ();
        for (int i = 0; i < 8; i++)
            prefix[i] = hex[(r >> (28 - 4 * i)) & 15];
    }
    memcpy (out, prefix, 8);
    out[8] = '-';
    uint64_t n = ++counter;
    for (int i = 14; i >= 0; i--, n >>= 4)
        out[9 + i] = hex[n & 15];
    out[24] = 0;
}

const char *
edge_cookie (const char *header, size_t len, const char *name, size_t *value_len)
{
    size_t want = strlen (name);
    const char *p = header, *end = header + len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        const char *semi = memchr (p, ';', (size_t) (end - p));
        const char *stop = semi ? semi : end;
        const char *eq = memchr (p, '=', (size_t) (stop - p));
        if (eq && (size_t) (eq - p) == want && memcmp (p, name, want) == 0) {
            const char *v = eq + 1;
            size_t n = (size_t) (stop - v);
            while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {  //  a quoted cookie-value
                v++;
                n -= 2;
            }
            if (value_len)
                *value_len = n;
            return v;
        }
        p = stop;
    }
    return NULL;
}

const char *
edge_ident_token (const char *authorization, size_t alen, const char *cookie, size_t clen,
                  size_t *len)
{
    if (authorization) {
        *len = 0;
        if (alen > 7 && strncasecmp (authorization, "Bearer ", 7) == 0) {
            const char *t = authorization + 7;
            size_t n = alen - 7;
            while (n && *t == ' ') {
                t++;
                n--;
            }
            *len = n;
            return t;
        }
        return authorization;
    }
    return cookie ? edge_cookie (cookie, clen, EDGE_COOKIE_ACCESS, len) : NULL;
}

int
edge_ident_check (const auth_token_key_t *key, const char *token, size_t len, int64_t now_ms,
                  uint32_t role, auth_token_claims_t *claims, bool *identified, const char **why)
{
    *identified = false;
    *why = NULL;
    int rc = -VE_UNAUTHORIZED;
    if (token && len > 0 && len < AUTH_TOKEN_MAX)
        rc = auth_token_verify (key, token, len, now_ms, claims);
    if (rc == 0) {
        *identified = true;
        if (vmsg_role_allows (role, claims->roles))
            return 0;
        *why = "this needs a role the caller does not have";
        return 403;
    }
    if (role == VMSG_ROLE_PUBLIC)
        return 0;  //  anyone may call it: a bad token just means anonymous
    *why = !token              ? "sign in first: no access token"
           : rc == -VE_TIMEOUT ? "the access token has expired"
                               : "the access token is not valid";
    return 401;
}
