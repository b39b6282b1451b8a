//  verr.h — the one list of status and error codes in Vitrine.
//  Codes 0..9 are the bus statuses that travel on the wire; codes from 32 on are local errors
//  that never leave a process. Functions return 0 or a negative code (-VE_TIMEOUT); replies carry
//  the positive status. Names and messages come from the same X-macro list (libuv's UV_ERRNO_MAP).
#ifndef VERR_H
#define VERR_H

//  X (NAME, value, wire-name, message)
// clang-format off
#define VERR_MAP(X)                                                                    \
    X (OK,          0,  "ok",          "ok")                                              \
    X (BAD_REQUEST, 1,  "bad_request", "bad request")                                     \
    X (UNAUTHORIZED, 2, "unauthorized", "unauthorized")                                   \
    X (FORBIDDEN,   3,  "forbidden",   "forbidden")                                       \
    X (NOT_FOUND,   4,  "not_found",   "not found")                                       \
    X (CONFLICT,    5,  "conflict",    "conflict")                                        \
    X (UNAVAILABLE, 6,  "unavailable", "service unavailable")                             \
    X (BUSY,        7,  "busy",        "busy, try again later")                           \
    X (TIMEOUT,     8,  "timeout",     "deadline passed")                                 \
    X (INTERNAL,    9,  "internal",    "internal error")                                  \
    X (NOMEM,       32, "nomem",       "out of memory")                                   \
    X (INVAL,       33, "inval",       "invalid argument")                                \
    X (PROTO,       34, "proto",       "protocol error")                                  \
    X (TOOBIG,      35, "toobig",      "too large")                                       \
    X (DEPTH,       36, "depth",       "nested too deeply")                               \
    X (TRUNC,       37, "trunc",       "truncated input")                                 \
    X (TYPE,        38, "type",        "wrong type")                                      \
    X (RANGE,       39, "range",       "value out of range")                              \
    X (IO,          40, "io",          "input/output error")                              \
    X (CLOSED,      41, "closed",      "closed")                                          \
    X (AGAIN,       42, "again",       "try again")                                       \
    X (CONFIG,      43, "config",      "bad configuration")
// clang-format on

typedef enum {
#define VERR_ENUM_(name, value, wire, msg) VE_##name = value,
    VERR_MAP (VERR_ENUM_)
#undef VERR_ENUM_
} verr_t;

//  The highest code that is a wire status (a reply may carry 0..VE_LAST_STATUS).
#define VE_LAST_STATUS VE_INTERNAL

//  Short snake_case name of a code ("not_found"); accepts code or -code; "unknown" otherwise.
//  Returns a static string. Thread-safe.
const char *verr_name (int code);

//  Human-readable message of a code ("deadline passed"); accepts code or -code. Static string.
const char *verr_str (int code);

//  Parses a wire name ("not_found") into its code; returns -VE_INVAL when unknown.
int verr_from_name (const char *name);

#endif
