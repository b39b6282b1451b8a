//  edge_ident.h — who is calling: the access token from "Authorization: Bearer" or the
//  vt_access cookie, verified here by signature and expiry (auth_token.h, no bus call), and the
//  decision a route's role makes of it (proceed, 401, 403). Also the request id every response
//  carries. The edge keeps no session state: everything comes from the token. Thread-safe
//  except edge_rid_new (one loop per process).
#ifndef EDGE_IDENT_H
#define EDGE_IDENT_H

#include "auth_token.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDGE_RID_MAX        64  //  characters of a request id
#define EDGE_COOKIE_ACCESS  "vt_access"
#define EDGE_COOKIE_REFRESH "vt_refresh"

//  True when a client's X-Request-Id may be kept: 1..64 characters of [A-Za-z0-9._-].
bool edge_rid_ok (const char *s, size_t len);
//  Writes a new request id (24 characters: this process's 8 random hex, "-", a 15-hex counter)
//  and its NUL into out (EDGE_RID_MAX + 1 bytes). Not thread-safe.
void edge_rid_new (char *out);

//  The value of cookie name in a Cookie header (RFC 6265 "a=1; b=2"); NULL when absent.
const char *edge_cookie (const char *header, size_t len, const char *name, size_t *value_len);

//  The request's access token: the Authorization header when it is present (its credentials
//  if the scheme is Bearer; *len 0 otherwise: a present but unusable header never falls back
//  to the cookie), else the vt_access cookie. NULL when the request carries neither.
const char *edge_ident_token (const char *authorization, size_t alen, const char *cookie,
                              size_t clen, size_t *len);

//  Decides for a route needing role (VMSG_ROLE_*): verifies token (may be NULL: none) at
//  now_ms. Returns 0 to proceed — *claims filled and *identified true when the token verified,
//  *identified false when the call goes on anonymously (public route, no or bad token) — or the
//  HTTP status to answer: 401 (role needed and the token is missing, malformed, forged or
//  expired) or 403 (valid token without the role). *why says which, for the error body.
int edge_ident_check (const auth_token_key_t *key, const char *token, size_t len, int64_t now_ms,
                      uint32_t role, auth_token_claims_t *claims, bool *identified,
                      const char **why);

#endif
