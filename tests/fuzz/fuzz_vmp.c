//  fuzz_vmp.c — the MessagePack reader on arbitrary bytes: vmp_read, vmp_skip and vmp_check must
//  stay inside the input and agree with each other, and whatever vmp_check accepts msgpack-c
//  must parse too (a second opinion on what "one well-formed value" means).
#include "fuzz_standalone.h"
#include "verr.h"
#include "vmp.h"
#include <stdlib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  Item by item to the end: the cursor only moves forward and never past the end.
    vmp_reader_t r;
    vmp_reader_init (&r, data, size);
    vmp_item_t it;
    while (!vmp_reader_done (&r)) {
        const uint8_t *before = r.p;
        int rc = vmp_read (&r, &it);
        if (rc) {
            if (r.p != before || (rc != -VE_TRUNC && rc != -VE_PROTO))
                abort ();
            break;
        }
        if (r.p <= before || r.p > r.end)
            abort ();
        if ((it.kind == VMP_STR || it.kind == VMP_BIN || it.kind == VMP_EXT)
            && ((const uint8_t *) it.v.ptr < data || (const uint8_t *) it.v.ptr + it.len > r.end))
            abort ();
    }

    //  Typed reads never move the cursor on failure.
    vmp_reader_init (&r, data, size);
    uint64_t u;
    int64_t i;
    uint32_t n;
    const char *s;
    bool b;
    if (vmp_read_uint (&r, &u) && r.p != data)
        abort ();
    vmp_reader_init (&r, data, size);
    if (vmp_read_int (&r, &i) && r.p != data)
        abort ();
    vmp_reader_init (&r, data, size);
    if (vmp_read_str (&r, &s, &n) && r.p != data)
        abort ();
    vmp_reader_init (&r, data, size);
    if (vmp_read_bool (&r, &b) && r.p != data)
        abort ();
    vmp_reader_init (&r, data, size);
    if (vmp_read_map (&r, &n) && r.p != data)
        abort ();

    //  Skipping values one after another; a refused skip leaves the cursor alone.
    for (int depth = 0; depth <= VMP_MAX_DEPTH + 1; depth += 11) {
        vmp_reader_init (&r, data, size);
        while (!vmp_reader_done (&r)) {
            const uint8_t *before = r.p;
            if (vmp_skip (&r, depth)) {
                if (r.p != before)
                    abort ();
                break;
            }
        }
    }

    //  What we accept as one value, msgpack-c parses to exactly the same length.
    int rc = vmp_check (data, size, VMP_MAX_DEPTH);
    if (rc == 0) {
        msgpack_unpacked msg;
        msgpack_unpacked_init (&msg);
        size_t off = 0;
        msgpack_unpack_return ret = msgpack_unpack_next (&msg, (const char *) data, size, &off);
        if (ret != MSGPACK_UNPACK_SUCCESS || off != size)
            abort ();
        msgpack_unpacked_destroy (&msg);
    }
    else if (rc != -VE_TRUNC && rc != -VE_PROTO && rc != -VE_DEPTH)
        abort ();
    return 0;
}
