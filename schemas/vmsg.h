//  vmsg.h — message schemas and the codec: the one source of truth for every message body.
//  A schema is a static table of fields (schemas/<domain>.schema.c); the codec decodes and
//  validates MessagePack against it into a read-only value tree allocated from an arena, checks
//  what we encode, maps JSON to MessagePack and back (the edge, vtctl), and docs are printed from
//  the same tables. Every decode of outside bytes is bounded: total size, depth, lengths, counts.
//  All functions are thread-safe (the tables are constant); an arena belongs to one thread.
#ifndef VMSG_H
#define VMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "verr.h"
#include "venum.h"
#include "vmp.h"

//  Roles a method may require (the same bits as VBUS_ROLE_* in broker/vbus.h).
#define VMSG_ROLE_PUBLIC   0x0u  //  anyone, signed in or not
#define VMSG_ROLE_CUSTOMER 0x1u
#define VMSG_ROLE_ADMIN    0x2u
#define VMSG_ROLE_SERVICE  0x4u  //  another actor or an internal tool

#define VMSG_MAX_SIZE   ((size_t) 1 << 20)  //  default ceiling on an encoded body
#define VMSG_MAX_JSON   ((size_t) 4 << 20)  //  ceiling on JSON text (bytes grow by 4/3)
#define VMSG_MAX_FIELDS 64                  //  fields in one schema
#define VMSG_MAX_KEY    256                 //  bytes in a map key
#define VMSG_MAX_PATH   256                 //  bytes of a field path in error messages

//  ---------------------------------------------------------------- arena
//  Memory with one lifetime (a request): many allocations, one free.
typedef struct varena_s varena_t;

//  Creates an arena that grabs chunk bytes at a time (0 = 8 KiB). Returns NULL when out of memory.
varena_t *varena_new (size_t chunk);
//  Frees everything allocated from the arena, and the arena. NULL-safe, idempotent.
void varena_destroy (varena_t **self_p);
//  Frees everything allocated so far but keeps the first chunk for reuse.
void varena_reset (varena_t *self);
//  Returns size bytes aligned for any type (NULL when out of memory). Owned by the arena.
void *varena_alloc (varena_t *self, size_t size);
//  Copies len bytes and adds a NUL (strndup that keeps embedded bytes). NULL when out of memory.
char *varena_strndup (varena_t *self, const char *s, size_t len);
char *varena_strdup (varena_t *self, const char *s);

//  ---------------------------------------------------------------- schema tables
typedef enum {
    VMSG_INT,   //  signed 64-bit integer
    VMSG_UINT,  //  unsigned 64-bit integer
    VMSG_BOOL,
    VMSG_STR,    //  UTF-8 text, no NUL bytes; length limits in bytes
    VMSG_BYTES,  //  msgpack bin (base64 text in JSON)
    VMSG_FLOAT,  //  a finite double; integers are accepted and converted
    VMSG_ARRAY,  //  array of elements of type .of
    VMSG_MAP,    //  string keys to values of type .of (a JSON object with free keys)
    VMSG_MSG,    //  a nested message of schema .schema
    VMSG_ANY     //  any value (string map keys), still size and depth limited
} vmsg_type_t;

typedef struct vmsg_schema_s vmsg_schema_t;

//  One field. Limits that do not apply to the type are ignored. For VMSG_ARRAY and VMSG_MAP the
//  count limits apply to the container, and the value, length and schema limits to each element.
//  Write limits with the macros below: { "qty", VMSG_UINT, VMSG_RANGE (1, 1000), .doc = "..." }.
typedef struct {
    const char *name;  //  NULL ends a field list
    vmsg_type_t type;
    vmsg_type_t of;  //  element type of an array or map
    bool required;
    bool has_min, has_max;          //  value bounds in effect (int, uint, float)
    double min, max;                //  value bounds, inclusive (exact up to 2^53)
    uint32_t min_len, max_len;      //  string/bytes length in bytes; max_len 0 = no own limit
    uint32_t min_count, max_count;  //  array/map elements; max_count 0 = no own limit
    const vmsg_schema_t *schema;    //  for VMSG_MSG (or elements of type VMSG_MSG)
    const char *doc;
    //  VMSG_STR (or its elements): the only values allowed, a NULL-terminated table from
    //  venum.h; NULL = any text. With min_len 0 the empty string is allowed too (the default).
    const char *const *values;
} vmsg_field_t;

#define VMSG_REQUIRED      .required = true
#define VMSG_MIN(lo)       .has_min = true, .min = (lo)
#define VMSG_MAX(hi)       .has_max = true, .max = (hi)
#define VMSG_RANGE(lo, hi) VMSG_MIN (lo), VMSG_MAX (hi)
#define VMSG_LEN(lo, hi)   .min_len = (lo), .max_len = (hi)
#define VMSG_COUNT(lo, hi) .min_count = (lo), .max_count = (hi)
#define VMSG_ENUM(table)   .values = (table)

struct vmsg_schema_s {
    const char *name;            //  "echo.echo.request": for docs and errors
    const vmsg_field_t *fields;  //  ends with { 0 }; at most VMSG_MAX_FIELDS
    size_t max_size;             //  encoded size ceiling; 0 = VMSG_MAX_SIZE
    const char *doc;
};

//  A method: what it takes, what it answers, who may call it.
typedef struct {
    const char *service;
    const char *method;  //  NULL ends a method list
    const vmsg_schema_t *request;
    const vmsg_schema_t *reply;
    uint32_t role;  //  VMSG_ROLE_PUBLIC, or the role bits of which one is needed
    const char *doc;
} vmsg_method_t;

//  An event: topic "<domain>.<event>" and its body.
typedef struct {
    const char *topic;  //  NULL ends an event list
    const vmsg_schema_t *schema;
    const char *doc;
} vmsg_event_t;

//  A domain: one *.schema.c file, listed once in schemas/vschemas.c.
typedef struct {
    const char *name;
    const vmsg_method_t *methods;
    const vmsg_event_t *events;
    const char *doc;
} vmsg_domain_t;

//  A message with no fields (requests that need nothing, replies that say nothing but status).
extern const vmsg_schema_t vmsg_empty;

//  ---------------------------------------------------------------- registry
//  Looks up a method or an event; NULL when unknown. Arguments may be NULL (then NULL).
const vmsg_method_t *vmsg_method_find (const char *service, const char *method);
const vmsg_event_t *vmsg_event_find (const char *topic);
//  Iteration in registry order: the i-th domain, method or event, NULL past the end.
const vmsg_domain_t *vmsg_domain_at (size_t i);
const vmsg_method_t *vmsg_method_at (size_t i);
const vmsg_event_t *vmsg_event_at (size_t i);
//  Checks a table: field names unique, at most VMSG_MAX_FIELDS, element types that are not
//  containers, schemas where needed, min <= max. Returns 0 or -VE_CONFIG with the reason in err.
int vmsg_schema_check (const vmsg_schema_t *schema, char *err, size_t errlen);
//  True when a caller with these role bits may call a method requiring role.
bool vmsg_role_allows (uint32_t role, uint32_t caller_roles);
//  Writes docs/messages.md (markdown tables from the registry) to out. Returns 0 or -VE_IO.
int vmsg_doc_markdown (FILE *out);

//  ---------------------------------------------------------------- values
//  A decoded value: read-only, every pointer into the arena it was decoded with. Kinds are
//  vmp's: VMP_UINT holds values >= 0 and VMP_INT values < 0 whatever the field's type; a float
//  field is always VMP_FLOAT; a nil inside a message means absent and is not kept.
typedef struct vmsg_value_s vmsg_value_t;
typedef struct vmsg_pair_s vmsg_pair_t;

struct vmsg_value_s {
    vmp_kind_t kind;
    uint32_t len;  //  bytes of STR/BIN/EXT; elements of ARRAY/MAP
    int8_t ext_type;
    union {
        bool b;
        uint64_t u;
        int64_t i;
        double f;
        const char *s;              //  STR: NUL-terminated; BIN/EXT: len bytes
        const vmsg_value_t *items;  //  ARRAY
        const vmsg_pair_t *pairs;   //  MAP (a message is a map of its present fields)
    } v;
};

struct vmsg_pair_s {
    const char *key;  //  NUL-terminated
    vmsg_value_t value;
};

//  Decodes data (len bytes of MessagePack; len 0 reads as an empty map) against schema, or as
//  any one value when schema is NULL, into a tree allocated from arena (not NULL; the tree
//  lives until the arena is destroyed or reset; data may be freed at once). Unknown fields are
//  skipped (still size and depth checked). Returns 0 and sets *out, or a negative code with a
//  message in err (may be NULL) that names the field path and the limit, "items[3].qty: above
//  1000": -VE_TOOBIG (over a size, length or count), -VE_RANGE (outside value bounds, under a
//  length or count), -VE_TYPE, -VE_INVAL
//  (required field missing, duplicate field, bad UTF-8, NUL in text, non-finite float),
//  -VE_DEPTH, -VE_TRUNC, -VE_PROTO (malformed msgpack, trailing bytes), -VE_NOMEM.
//  Every input error is a bad_request for the caller; -VE_NOMEM is ours.
int vmsg_decode (const vmsg_schema_t *schema, const void *data, size_t len, varena_t *arena,
                 const vmsg_value_t **out, char *err, size_t errlen);

//  Checks data against schema (NULL: one well-formed value) exactly as vmsg_decode does,
//  without building a tree or allocating. Same returns.
int vmsg_validate (const vmsg_schema_t *schema, const void *data, size_t len, char *err,
                   size_t errlen);

//  Appends value as MessagePack to out, then (schema not NULL) validates what it appended.
//  Returns 0, the codes of vmsg_validate, -VE_DEPTH (a tree deeper than VMP_MAX_DEPTH) or
//  -VE_NOMEM when out failed (out of memory or over its limit). On error nothing stays appended
//  (unless out failed: then it stays failed).
int vmsg_encode (const vmsg_schema_t *schema, const vmsg_value_t *value, vbuf_t *out, char *err,
                 size_t errlen);

//  Accessors by field name on a map value; name NULL reads v itself (an array element or a
//  map's value from vmsg_at). All accept v NULL or of another kind and then return NULL / the
//  default; vmsg_str and vmsg_bytes return arena memory.
const vmsg_value_t *vmsg_get (const vmsg_value_t *v, const char *name);
bool vmsg_has (const vmsg_value_t *v, const char *name);
const char *vmsg_str (const vmsg_value_t *v, const char *name);
const void *vmsg_bytes (const vmsg_value_t *v, const char *name, size_t *len);
uint64_t vmsg_uint (const vmsg_value_t *v, const char *name, uint64_t dflt);
int64_t vmsg_int (const vmsg_value_t *v, const char *name, int64_t dflt);
double vmsg_float (const vmsg_value_t *v, const char *name, double dflt);
bool vmsg_bool (const vmsg_value_t *v, const char *name, bool dflt);
//  Elements of an array or map (0 for anything else), the i-th element (an array's item or a
//  map's value) and the i-th key of a map; NULL when out of range.
uint32_t vmsg_count (const vmsg_value_t *v);
const vmsg_value_t *vmsg_at (const vmsg_value_t *v, uint32_t i);
const char *vmsg_key_at (const vmsg_value_t *v, uint32_t i);

//  ---------------------------------------------------------------- JSON
//  JSON text to MessagePack appended to out. With a schema: the top level is an object, JSON
//  numbers become int/uint/float per field, bytes fields are base64 strings, and the result is
//  validated (same errors as vmsg_decode). Without: the generic mapping (null, bool, integer,
//  real, string, array, object). Unknown fields pass through. Text over VMSG_MAX_JSON or nested
//  deeper than VMP_MAX_DEPTH is refused before it is parsed. Returns 0 or a negative code
//  (-VE_INVAL for JSON syntax, with the line and column in err).
int vmsg_json_to_msgpack (const vmsg_schema_t *schema, const char *json, size_t len, vbuf_t *out,
                          char *err, size_t errlen);

//  True when JSON text nests arrays and objects at most max deep (brackets outside strings
//  counted; the text need not be valid JSON). A cheap look before anything parses it.
bool vmsg_json_depth_ok (const char *json, size_t len, int max);

#define VMSG_JSON_COMPACT 0x0
#define VMSG_JSON_PRETTY  0x1  //  two-space indent

//  Appends the compact JSON text of MessagePack data decoded with schema (NULL: any one value)
//  to out; the value tree is allocated from arena. The same text as vmsg_msgpack_to_json, with
//  no allocation per value (the HTTP edge's reply path). Returns 0 or a negative code (decode
//  errors, -VE_RANGE for an integer above 2^63-1, -VE_TYPE for an ext, -VE_NOMEM) with the
//  reason and the field path in err (may be NULL); on error out keeps what it had.
int vmsg_json_write (const vmsg_schema_t *schema, const void *data, size_t len, varena_t *arena,
                     vbuf_t *out, char *err, size_t errlen);
//  The same for a value already decoded.
int vmsg_json_value (const vmsg_value_t *v, vbuf_t *out, char *err, size_t errlen);

//  MessagePack to JSON text: decoded with the schema (or generically), bin as base64. Returns a
//  NUL-terminated malloc'ed string the caller frees, or NULL with the reason in err (decode
//  errors, or a value JSON cannot hold: an ext, an integer above 2^63-1).
char *vmsg_msgpack_to_json (const vmsg_schema_t *schema, const void *data, size_t len, int flags,
                            char *err, size_t errlen);

#endif
