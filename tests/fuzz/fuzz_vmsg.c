//  fuzz_vmsg.c — the codec on arbitrary bytes, against every schema in the registry and
//  generically: as MessagePack (decode, validate, and a JSON round trip of what decodes) and as
//  JSON text (JSON → MessagePack → JSON). Any disagreement aborts.
#include "fuzz_standalone.h"
#include "vmsg.h"
#include <stdlib.h>
#include <string.h>

//  Decoded bodies go to JSON and back to the same JSON; only what JSON cannot hold may fail.
static void
s_msgpack (const vmsg_schema_t *schema, const uint8_t *data, size_t size, varena_t *arena)
{
    char err[512], err2[512];
    const vmsg_value_t *v;
    int rc = vmsg_decode (schema, data, size, arena, &v, err, sizeof err);
    if (rc != vmsg_validate (schema, data, size, err2, sizeof err2) || strcmp (err, err2))
        abort ();
    if (rc)
        return;
    //  Encoding the tree gives bytes that validate.
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    if (vmsg_encode (schema, v, &out, err, sizeof err))
        abort ();
    vbuf_free (&out);

    char *text = vmsg_msgpack_to_json (schema, data, size, VMSG_JSON_COMPACT, err, sizeof err);
    if (!text) {
        if (!strstr (err, "has no JSON form"))
            abort ();
        return;
    }
    vbuf_init (&out, NULL, 0);
    size_t len = strlen (text);
    if (len <= VMSG_MAX_JSON) {
        if (vmsg_json_to_msgpack (schema, text, len, &out, err, sizeof err))
            abort ();
        char *again =
            vmsg_msgpack_to_json (schema, out.data, out.len, VMSG_JSON_COMPACT, err, sizeof err);
        if (!again || strcmp (again, text))
            abort ();
        free (again);
    }
    vbuf_free (&out);
    free (text);
}

//  JSON text that converts must come back out as JSON.
static void
s_json (const vmsg_schema_t *schema, const uint8_t *data, size_t size)
{
    char err[512];
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    if (vmsg_json_to_msgpack (schema, (const char *) data, size, &out, err, sizeof err) == 0) {
        char *text =
            vmsg_msgpack_to_json (schema, out.data, out.len, VMSG_JSON_PRETTY, err, sizeof err);
        if (!text)
            abort ();
        free (text);
    }
    vbuf_free (&out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    varena_t *arena = varena_new (0);
    if (!arena)
        return 0;
    const vmsg_method_t *m;
    const vmsg_event_t *e;
    for (size_t i = 0; (m = vmsg_method_at (i)); i++) {
        s_msgpack (m->request, data, size, arena);
        s_msgpack (m->reply, data, size, arena);
        s_json (m->request, data, size);
        s_json (m->reply, data, size);
        varena_reset (arena);
    }
    for (size_t i = 0; (e = vmsg_event_at (i)); i++) {
        s_msgpack (e->schema, data, size, arena);
        s_json (e->schema, data, size);
    }
    s_msgpack (NULL, data, size, arena);
    s_json (NULL, data, size);
    varena_destroy (&arena);
    return 0;
}
