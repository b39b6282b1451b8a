//  verr.c — names and messages for the codes in verr.h, from the same X-macro list.
#include "verr.h"
#include <string.h>

const char *
verr_name (int code)
{
    if (code < 0)
        code = -code;
    switch (code) {
#define VERR_NAME_(name, value, wire, msg)                                                         \
    case value: return wire;
        VERR_MAP (VERR_NAME_)
#undef VERR_NAME_
    }
    return "unknown";
}

const char *
verr_str (int code)
{
    if (code < 0)
        code = -code;
    switch (code) {
#define VERR_STR_(name, value, wire, msg)                                                          \
    case value: return msg;
        VERR_MAP (VERR_STR_)
#undef VERR_STR_
    }
    return "unknown error";
}

int
verr_from_name (const char *name)
{
#define VERR_FROM_(n, value, wire, msg)                                                            \
    if (strcmp (name, wire) == 0)                                                                  \
        return value;
    VERR_MAP (VERR_FROM_)
#undef VERR_FROM_
    return -VE_INVAL;
}
