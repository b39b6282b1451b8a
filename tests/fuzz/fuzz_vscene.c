//  fuzz_vscene.c — the scene decoder on arbitrary bytes: scenes come from the catalog (admin
//  input), so vscene_decode must refuse anything malformed without reading outside the input,
//  and whatever it accepts must validate, compile, and re-encode to the same scene.
#include "fuzz_standalone.h"
#include "vscene.h"
#include "vtape.h"
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static vscene_t scene, again;
    static vtape_t tape;
    char err[256];
    if (vscene_decode (data, size, &scene, err, sizeof err) != 0)
        return 0;
    if (vscene_validate (&scene, err, sizeof err) != 0)
        abort ();  //  decode promises a valid scene
    if (vtape_compile (&scene, &tape, err, sizeof err) != 0)
        abort ();  //  every valid scene compiles
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    if (vscene_encode (&scene, &buf) != 0
        || vscene_decode (buf.data, buf.len, &again, err, sizeof err) != 0)
        abort ();
    vtape_t tape2;
    if (vtape_compile (&again, &tape2, err, sizeof err) != 0 || tape2.hash != tape.hash)
        abort ();  //  the round trip draws the same picture
    vbuf_free (&buf);
    return 0;
}
