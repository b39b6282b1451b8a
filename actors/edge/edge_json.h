//  edge_json.h — a reply body to JSON on the hot path: the MessagePack is decoded and validated
//  with the method's reply schema (vmsg_decode, exactly as vmsg_msgpack_to_json does), then the
//  value tree is written as JSON text straight into a buffer — no JSON object tree, no malloc
//  per value. The text is the same as vmsg_msgpack_to_json's (key order, numbers, base64), which
//  the unit test checks. Thread-safe.
#ifndef EDGE_JSON_H
#define EDGE_JSON_H

#include "vmsg.h"

//  Appends the JSON text of msgpack data decoded against schema (NULL: any one value) to out;
//  the tree is allocated from arena. Returns 0, a vmsg_decode error with the reason in err, or
//  -VE_RANGE / -VE_TYPE for values JSON cannot hold (an integer above 2^63-1, an ext),
//  -VE_NOMEM when out failed. On error out keeps what it had before.
int edge_json_write (const vmsg_schema_t *schema, const void *data, size_t len, varena_t *arena,
                     vbuf_t *out, char *err, size_t errlen);

//  Appends the JSON text of a decoded value. Same returns (no decoding errors).
int edge_json_value (const vmsg_value_t *v, vbuf_t *out);

#endif
