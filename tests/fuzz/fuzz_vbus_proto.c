//  fuzz_vbus_proto.c — the bus's frame decoders on arbitrary bytes: command frames, request and
//  reply headers, READY payloads. Every peer of the broker can send these, so they must refuse
//  anything malformed without reading outside the input, and what they accept must re-encode.
#include "fuzz_standalone.h"
#include "vbus_proto.h"
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int command = vbus__cmd_parse (data, size);
    if (command >= 0 && (command < VBUS_READY || command > VBUS_DISCONNECT || size < 4))
        abort ();

    vbus__header_t h;
    size_t used;
    if (vbus__header_decode (&h, data, size, &used) == 0) {
        if (used > size || used > VBUS_MAX_HEADER || h.method_len > VBUS_MAX_METHOD
            || h.service_len > VBUS_MAX_SERVICE || h.key_len > VBUS_MAX_KEY
            || h.user_len > VBUS_MAX_USER || h.trace_len > VBUS_MAX_TRACE)
            abort ();
        //  What was accepted re-encodes and decodes to the same fields.
        char buf[VBUS_MAX_HEADER * 2];
        int len = vbus__header_encode (&h, buf, sizeof buf);
        vbus__header_t again;
        size_t used_again;
        if (len < 0 || vbus__header_decode (&again, buf, (size_t) len, &used_again) != 0
            || again.id != h.id || again.deadline_ms != h.deadline_ms
            || again.method_len != h.method_len || memcmp (again.method, h.method, h.method_len)
            || (again.key == NULL) != (h.key == NULL) || again.flags != h.flags)
            abort ();
    }

    uint64_t id;
    int status;
    const char *msg;
    uint32_t msg_len;
    if (vbus__reply_decode (data, size, &id, &status, &msg, &msg_len, &used) == 0) {
        if (used > size || status < 0 || status > VE_LAST_STATUS || msg < (const char *) data
            || msg + msg_len > (const char *) data + size)
            abort ();
    }

    vbus__ready_t ready;
    uint8_t bits[VBUS_MAX_PARTITIONS / 8];
    bool all;
    if (vbus__ready_decode (data, size, &ready, bits, sizeof bits, &all) == 0) {
        if (ready.partitions == 0 || ready.partitions > VBUS_MAX_PARTITIONS || ready.credit == 0
            || (all && ready.owned_count))
            abort ();
    }
    return 0;
}
