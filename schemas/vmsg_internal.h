//  vmsg_internal.h — what vmsg.c, vjson.c and vmsg_doc.c share and nobody else uses: the field
//  path kept while walking a value (for error messages), the error writer, names of types.
#ifndef VMSG_INTERNAL_H
#define VMSG_INTERNAL_H

#include "vmsg.h"

//  "items[3].qty" while walking; always NUL-terminated, cut short when it would overflow.
typedef struct {
    char buf[VMSG_MAX_PATH];
    size_t len;
} vmsg__path_t;

//  Appends ".name" (a key from outside is cut to 32 bytes, control bytes shown as '?') or
//  "[i]"; return the previous length for vmsg__path_pop.
size_t vmsg__path_key (vmsg__path_t *self, const char *name, size_t len);
size_t vmsg__path_index (vmsg__path_t *self, uint32_t index);
void vmsg__path_pop (vmsg__path_t *self, size_t mark);

//  Writes "<path>: <message>" into err (path "body" when empty; err may be NULL) and returns code.
int vmsg__fail (char *err, size_t errlen, const vmsg__path_t *path, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

//  The field called name (len bytes) in schema, or NULL.
const vmsg_field_t *vmsg__field_find (const vmsg_schema_t *schema, const char *name, size_t len);

//  "uint", "string", ... for a schema type; "integer", "map", ... for a msgpack kind.
const char *vmsg__type_name (vmsg_type_t type);
const char *vmsg__kind_name (vmp_kind_t kind);
//  A bound as people write it: "1000", "-5", "0.25".
void vmsg__num (char *buf, size_t size, double value);

#endif
