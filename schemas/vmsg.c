//  vmsg.c — the arena, and one walk over MessagePack that validates against a schema and (with an
//  arena) builds the value tree: vmsg_decode and vmsg_validate are the same code, so what we
//  check before sending is exactly what the receiver accepts. Also the accessors and the encoder.
#include "vmsg_internal.h"
#include <assert.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------- arena

#define VARENA_ALIGN alignof (max_align_t)

typedef struct s_chunk_s {
    struct s_chunk_s *next;
    size_t size;
    alignas (max_align_t) unsigned char data[];
} s_chunk_t;

struct varena_s {
    s_chunk_t *chunks;  //  newest first; chunks[0] is where small allocations go
    unsigned char *p;   //  free space in chunks[0]
    size_t left;
    size_t chunk;
};

varena_t *
varena_new (size_t chunk)
{
    varena_t *self = calloc (1, sizeof *self);
    if (self)
        self->chunk = chunk ? chunk : 8192;
    return self;
}

void
varena_destroy (varena_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    varena_t *self = *self_p;
    while (self->chunks) {
        s_chunk_t *next = self->chunks->next;
        free (self->chunks);
        self->chunks = next;
    }
    free (self);
    *self_p = NULL;
}

void
varena_reset (varena_t *self)
{
    s_chunk_t *keep = NULL;
    while (self->chunks) {
        s_chunk_t *next = self->chunks->next;
        if (!keep && self->chunks->size == self->chunk)
            keep = self->chunks;
        else
            free (self->chunks);
        self->chunks = next;
    }
    self->chunks = keep;
    if (keep)
        keep->next = NULL;
    self->p = keep ? keep->data : NULL;
    self->left = keep ? keep->size : 0;
}

void *
varena_alloc (varena_t *self, size_t size)
{
    if (size > SIZE_MAX / 2)
        return NULL;
    size = (size + VARENA_ALIGN - 1) & ~(VARENA_ALIGN - 1);
    if (size == 0)
        size = VARENA_ALIGN;
    if (size > self->left) {
        //  A big block gets a chunk of its own, behind the current one, so the free space left
        //  in the current chunk stays usable.
        bool own = size > self->chunk / 4 && self->chunks;
        size_t csize = size > self->chunk ? size : self->chunk;
        s_chunk_t *c = malloc (sizeof *c + csize);
        if (!c)
            return NULL;
        c->size = csize;
        if (own) {
            c->next = self->chunks->next;
            self->chunks->next = c;
            return c->data;
        }
        c->next = self->chunks;
        self->chunks = c;
        self->p = c->data;
        self->left = csize;
    }
    void *out = self->p;
    self->p += size;
    self->left -= size;
    return out;
}

char *
varena_strndup (varena_t *self, const char *s, size_t len)
{
    char *out = varena_alloc (self, len + 1);
    if (out) {
        memcpy (out, s, len);
        out[len] = 0;
    }
    return out;
}

char *
varena_strdup (varena_t *self, const char *s)
{
    return varena_strndup (self, s, strlen (s));
}

//  ---------------------------------------------------------------- shared helpers

size_t
vmsg__path_key (vmsg__path_t *self, const char *name, size_t len)
{
    size_t mark = self->len;
    size_t n = len > 32 ? 32 : len;
    //  Never cut a UTF-8 sequence in half.
    while (n < len && n > 0 && ((unsigned char) name[n] & 0xc0) == 0x80)
        n--;
    if (self->len + n + 5 >= sizeof self->buf)
        return mark;
    if (self->len)
        self->buf[self->len++] = '.';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) name[i];
        self->buf[self->len++] = c < 0x20 || c == 0x7f ? '?' : (char) c;
    }
    if (n < len) {
        memcpy (self->buf + self->len, "...", 3);
        self->len += 3;
    }
    self->buf[self->len] = 0;
    return mark;
}

size_t
vmsg__path_index (vmsg__path_t *self, uint32_t index)
{
    size_t mark = self->len;
    int n = snprintf (self->buf + self->len, sizeof self->buf - self->len, "[%u]", index);
    if (n > 0 && (size_t) n < sizeof self->buf - self->len)
        self->len += (size_t) n;
    else
        self->buf[self->len] = 0;
    return mark;
}

void
vmsg__path_pop (vmsg__path_t *self, size_t mark)
{
    self->len = mark;
    self->buf[mark] = 0;
}

int
vmsg__fail (char *err, size_t errlen, const vmsg__path_t *path, int code, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf (err, errlen, "%s: ", path && path->len ? path->buf : "body");
        if (n >= 0 && (size_t) n < errlen) {
            va_list ap;
            va_start (ap, fmt);
            vsnprintf (err + n, errlen - (size_t) n, fmt, ap);
            va_end (ap);
        }
    }
    return code;
}

const vmsg_field_t *
vmsg__field_find (const vmsg_schema_t *schema, const char *name, size_t len)
{
    //  name comes from outside and may hold NUL bytes: compare lengths, then bytes (the first
    //  byte first: most fields differ there, and it spares their strlen).
    if (len == 0)
        return NULL;  //  no field has an empty name
    for (const vmsg_field_t *f = schema->fields; f->name; f++)
        if (f->name[0] == name[0] && strlen (f->name) == len && memcmp (f->name, name, len) == 0)
            return f;
    return NULL;
}

const char *
vmsg__type_name (vmsg_type_t type)
{
    static const char *const names[] = { "int",   "uint",  "bool", "string",  "bytes",
                                         "float", "array", "map",  "message", "any" };
    return (unsigned) type < sizeof names / sizeof names[0] ? names[type] : "?";
}

const char *
vmsg__kind_name (vmp_kind_t kind)
{
    static const char *const names[] = { "nil",   "bool",   "integer", "negative integer",
                                         "float", "string", "bytes",   "array",
                                         "map",   "ext" };
    return (unsigned) kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

void
vmsg__num (char *buf, size_t size, double value)
{
    if (value > -1e15 && value < 1e15 && (double) (int64_t) value == value)
        snprintf (buf, size, "%lld", (long long) value);
    else
        snprintf (buf, size, "%.15g", value);
}

//  ---------------------------------------------------------------- the walk

typedef struct {
    vmp_reader_t r;
    varena_t *arena;  //  NULL: validate only, build nothing
    vmsg__path_t path;
    int depth;  //  containers we are inside
    char *err;
    size_t errlen;
} s_walk_t;

#define s_fail(w, code, ...) vmsg__fail ((w)->err, (w)->errlen, &(w)->path, code, __VA_ARGS__)

static int s_value (s_walk_t *w, const vmsg_field_t *f, vmsg_type_t type, const vmp_item_t *it,
                    vmsg_value_t *out);

static int
s_read (s_walk_t *w, vmp_item_t *it)
{
    int rc = vmp_read (&w->r, it);
    if (rc == -VE_TRUNC)
        return s_fail (w, rc, "truncated");
    if (rc)
        return s_fail (w, rc, "malformed msgpack");
    return 0;
}

static bool
s_utf8_valid (const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0)
            n = 1, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            n = 2, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
            n = 3, cp = c & 0x07, min = 0x10000;
        else
            return false;
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        //  Overlong forms, UTF-16 surrogates and code points past Unicode are not UTF-8.
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

//  Text we hand out as C strings: valid UTF-8 without NUL bytes.
static int
s_text (s_walk_t *w, const char *s, uint32_t len)
{
    if (memchr (s, 0, len))
        return s_fail (w, -VE_INVAL, "contains a NUL byte");
    if (!s_utf8_valid ((const unsigned char *) s, len))
        return s_fail (w, -VE_INVAL, "not valid UTF-8");
    return 0;
}

//  An enumeration's check: the text is one of the field's values.
static bool
s_enum_has (const vmsg_field_t *f, const vmp_item_t *it)
{
    for (const char *const *v = f->values; *v; v++)
        if (strlen (*v) == it->len && memcmp (*v, it->v.ptr, it->len) == 0)
            return true;
    return false;
}

//  "expected one of: relevance, price_asc, …" — the list is the schema's, so it stays true.
static int
s_enum_fail (s_walk_t *w, const vmsg_field_t *f)
{
    char list[256];
    size_t n = 0;
    list[0] = 0;
    for (const char *const *v = f->values; *v && n < sizeof list; v++)
        n += (size_t) snprintf (list + n, sizeof list - n, "%s%s", v == f->values ? "" : ", ", *v);
    return s_fail (w, -VE_INVAL, "expected one of: %s", list);
}

//  Copies a string or bin into the arena (NUL-terminated either way).
static int
s_copy (s_walk_t *w, const vmp_item_t *it, vmsg_value_t *out)
{
    out->kind = it->kind;
    out->len = it->len;
    out->ext_type = it->ext_type;
    out->v.s = NULL;
    if (w->arena && !(out->v.s = varena_strndup (w->arena, it->v.ptr, it->len)))
        return s_fail (w, -VE_NOMEM, "out of memory");
    return 0;
}

static int
s_wrong_type (s_walk_t *w, vmsg_type_t type, const vmp_item_t *it)
{
    return s_fail (w, -VE_TYPE, "expected %s, got %s", vmsg__type_name (type),
                   vmsg__kind_name (it->kind));
}

static int
s_bounds (s_walk_t *w, const vmsg_field_t *f, double value)
{
    char num[32];
    if (f && f->has_min && value < f->min) {
        vmsg__num (num, sizeof num, f->min);
        return s_fail (w, -VE_RANGE, "below %s", num);
    }
    if (f && f->has_max && value > f->max) {
        vmsg__num (num, sizeof num, f->max);
        return s_fail (w, -VE_RANGE, "above %s", num);
    }
    return 0;
}

static int
s_enter (s_walk_t *w)
{
    if (w->depth >= VMP_MAX_DEPTH)
        return s_fail (w, -VE_DEPTH, "nested deeper than %d", VMP_MAX_DEPTH);
    w->depth++;
    return 0;
}

static void *
s_alloc (s_walk_t *w, size_t count, size_t size)
{
    //  count is at most the bytes left in the input, so this cannot overflow.
    return w->arena ? varena_alloc (w->arena, count * size) : NULL;
}

//  A map key: a string of at most VMSG_MAX_KEY bytes of valid text.
static int
s_key (s_walk_t *w, vmp_item_t *key)
{
    int rc = s_read (w, key);
    if (rc)
        return rc;
    if (key->kind != VMP_STR)
        return s_fail (w, -VE_TYPE, "map key is %s, not a string", vmsg__kind_name (key->kind));
    if (key->len > VMSG_MAX_KEY)
        return s_fail (w, -VE_TOOBIG, "map key longer than %d bytes", VMSG_MAX_KEY);
    return s_text (w, key->v.ptr, key->len);
}

//  An array or map (it is its head). Elements are of type `type` with f's limits; f is NULL
//  inside an "any" value.
static int
s_container (s_walk_t *w, const vmsg_field_t *f, vmsg_type_t type, const vmp_item_t *it,
             vmsg_value_t *out)
{
    if (f && it->len < f->min_count)
        return s_fail (w, -VE_RANGE, "fewer than %u items", f->min_count);
    if (f && f->max_count && it->len > f->max_count)
        return s_fail (w, -VE_TOOBIG, "more than %u items", f->max_count);
    int rc = s_enter (w);
    if (rc)
        return rc;
    bool map = it->kind == VMP_MAP;
    vmsg_value_t *items = NULL;
    vmsg_pair_t *pairs = NULL;
    if (w->arena && it->len) {
        if (map ? !(pairs = s_alloc (w, it->len, sizeof *pairs))
                : !(items = s_alloc (w, it->len, sizeof *items)))
            return s_fail (w, -VE_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < it->len && rc == 0; i++) {
        vmsg_value_t tmp;
        vmsg_value_t *dst = map ? (pairs ? &pairs[i].value : &tmp) : (items ? &items[i] : &tmp);
        vmp_item_t key, head;
        size_t mark;
        if (map) {
            if ((rc = s_key (w, &key)))
                break;
            if (pairs && !(pairs[i].key = varena_strndup (w->arena, key.v.ptr, key.len)))
                rc = s_fail (w, -VE_NOMEM, "out of memory");
            mark = vmsg__path_key (&w->path, key.v.ptr, key.len);
        }
        else
            mark = vmsg__path_index (&w->path, i);
        if (rc == 0 && (rc = s_read (w, &head)) == 0)
            rc = s_value (w, f, type, &head, dst);
        vmsg__path_pop (&w->path, mark);
    }
    w->depth--;
    out->kind = it->kind;
    out->len = it->len;
    if (map)
        out->v.pairs = pairs;
    else
        out->v.items = items;
    return rc;
}

//  A message of schema (it is the head of its map): known fields are checked and kept, unknown
//  ones skipped, duplicates refused, nil means absent.
static int
s_message (s_walk_t *w, const vmsg_schema_t *schema, const vmp_item_t *it, vmsg_value_t *out)
{
    size_t nfields = 0;
    while (schema->fields[nfields].name)
        nfields++;
    assert (nfields <= VMSG_MAX_FIELDS);
    int rc = s_enter (w);
    if (rc)
        return rc;
    size_t room = it->len < nfields ? it->len : nfields;
    vmsg_pair_t *pairs = NULL;
    if (w->arena && room && !(pairs = s_alloc (w, room, sizeof *pairs)))
        return s_fail (w, -VE_NOMEM, "out of memory");
    uint64_t seen = 0, present = 0;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < it->len && rc == 0; i++) {
        vmp_item_t key, head;
        if ((rc = s_read (w, &key)))
            break;
        if (key.kind != VMP_STR) {
            rc = s_fail (w, -VE_TYPE, "field name is %s, not a string", vmsg__kind_name (key.kind));
            break;
        }
        const vmsg_field_t *f = vmsg__field_find (schema, key.v.ptr, key.len);
        size_t mark = vmsg__path_key (&w->path, key.v.ptr, key.len);
        if (!f) {
            //  Forward compatible: a newer sender's field is skipped, but within our limits.
            rc = vmp_skip (&w->r, VMP_MAX_DEPTH - w->depth);
            if (rc == -VE_DEPTH)
                rc = s_fail (w, rc, "nested deeper than %d", VMP_MAX_DEPTH);
            else if (rc)
                rc = s_fail (w, rc, rc == -VE_TRUNC ? "truncated" : "malformed msgpack");
        }
        else {
            uint64_t bit = (uint64_t) 1 << (f - schema->fields);
            if (seen & bit)
                rc = s_fail (w, -VE_INVAL, "duplicate field");
            else if ((rc = s_read (w, &head)) == 0 && head.kind != VMP_NIL) {
                vmsg_value_t tmp;
                vmsg_pair_t *pair = pairs ? &pairs[kept++] : NULL;
                if (pair)
                    pair->key = f->name;
                rc = s_value (w, f, f->type, &head, pair ? &pair->value : &tmp);
                present |= bit;
            }
            seen |= bit;
        }
        vmsg__path_pop (&w->path, mark);
    }
    for (size_t i = 0; i < nfields && rc == 0; i++) {
        if (schema->fields[i].required && !(present & ((uint64_t) 1 << i))) {
            const char *name = schema->fields[i].name;
            size_t mark = vmsg__path_key (&w->path, name, strlen (name));
            rc = s_fail (w, -VE_INVAL, "required");
            vmsg__path_pop (&w->path, mark);
        }
    }
    w->depth--;
    out->kind = VMP_MAP;
    out->len = kept;
    out->v.pairs = pairs;
    return rc;
}

//  One value whose head is it, checked as `type` with f's limits (f NULL inside "any").
static int
s_value (s_walk_t *w, const vmsg_field_t *f, vmsg_type_t type, const vmp_item_t *it,
         vmsg_value_t *out)
{
    out->kind = it->kind;
    out->len = 0;
    out->ext_type = 0;
    switch (type) {
    case VMSG_INT:
        if (it->kind == VMP_UINT && it->v.u > (uint64_t) INT64_MAX)
            return s_fail (w, -VE_RANGE, "above %lld", (long long) INT64_MAX);
        if (it->kind != VMP_INT && it->kind != VMP_UINT)
            return s_wrong_type (w, type, it);
        if (it->kind == VMP_INT)
            out->v.i = it->v.i;
        else
            out->v.u = it->v.u;
        return s_bounds (w, f, it->kind == VMP_INT ? (double) it->v.i : (double) it->v.u);
    case VMSG_UINT:
        if (it->kind == VMP_INT)
            return s_fail (w, -VE_RANGE, "below 0");
        if (it->kind != VMP_UINT)
            return s_wrong_type (w, type, it);
        out->v.u = it->v.u;
        return s_bounds (w, f, (double) it->v.u);
    case VMSG_FLOAT:
        out->kind = VMP_FLOAT;
        if (it->kind == VMP_UINT)
            out->v.f = (double) it->v.u;
        else if (it->kind == VMP_INT)
            out->v.f = (double) it->v.i;
        else if (it->kind == VMP_FLOAT)
            out->v.f = it->v.f;
        else
            return s_wrong_type (w, type, it);
        if (!isfinite (out->v.f))
            return s_fail (w, -VE_INVAL, "not a finite number");
        return s_bounds (w, f, out->v.f);
    case VMSG_BOOL:
        if (it->kind != VMP_BOOL)
            return s_wrong_type (w, type, it);
        out->v.b = it->v.b;
        return 0;
    case VMSG_STR:
    case VMSG_BYTES: {
        if (it->kind != (type == VMSG_STR ? VMP_STR : VMP_BIN))
            return s_wrong_type (w, type, it);
        int rc = 0;
        if (it->len < f->min_len)
            rc = s_fail (w, -VE_RANGE, "shorter than %u bytes", f->min_len);
        else if (f->max_len && it->len > f->max_len)
            rc = s_fail (w, -VE_TOOBIG, "longer than %u bytes", f->max_len);
        else if (type == VMSG_STR)
            rc = s_text (w, it->v.ptr, it->len);
        if (rc == 0 && type == VMSG_STR && f->values && it->len > 0 && !s_enum_has (f, it))
            rc = s_enum_fail (w, f);
        return rc ? rc : s_copy (w, it, out);
    }
    case VMSG_ARRAY:
    case VMSG_MAP:
        if (it->kind != (type == VMSG_ARRAY ? VMP_ARRAY : VMP_MAP))
            return s_wrong_type (w, type, it);
        return s_container (w, f, f->of, it, out);
    case VMSG_MSG:
        if (it->kind != VMP_MAP)
            return s_wrong_type (w, type, it);
        return s_message (w, f->schema, it, out);
    case VMSG_ANY:
        switch (it->kind) {
        case VMP_ARRAY:
        case VMP_MAP: return s_container (w, NULL, VMSG_ANY, it, out);
        case VMP_STR: {
            int rc = s_text (w, it->v.ptr, it->len);
            return rc ? rc : s_copy (w, it, out);
        }
        case VMP_BIN:
        case VMP_EXT: return s_copy (w, it, out);
        case VMP_FLOAT:
            if (!isfinite (it->v.f))
                return s_fail (w, -VE_INVAL, "not a finite number");
            out->v.f = it->v.f;
            return 0;
        case VMP_INT: out->v.i = it->v.i; return 0;
        case VMP_UINT: out->v.u = it->v.u; return 0;
        case VMP_BOOL: out->v.b = it->v.b; return 0;
        default: out->v.u = 0; return 0;
        }
    }
    return s_fail (w, -VE_INVAL, "field has no valid type");
}

static int
s_walk (const vmsg_schema_t *schema, const void *data, size_t len, varena_t *arena,
        vmsg_value_t *out, char *err, size_t errlen)
{
    s_walk_t w = { .arena = arena, .err = err, .errlen = errlen };
    if (err && errlen)
        err[0] = 0;
    size_t max = schema && schema->max_size ? schema->max_size : VMSG_MAX_SIZE;
    if (len > max)
        return s_fail (&w, -VE_TOOBIG, "larger than %zu bytes", max);
    static const uint8_t empty_map = 0x80;
    if (len == 0)
        data = &empty_map, len = 1;
    vmp_reader_init (&w.r, data, len);
    //  The top level is a message field of its own, so it goes through the same code.
    vmsg_field_t top = { .type = schema ? VMSG_MSG : VMSG_ANY, .schema = schema };
    vmp_item_t head;
    int rc = s_read (&w, &head);
    if (rc == 0)
        rc = s_value (&w, schema ? &top : NULL, top.type, &head, out);
    if (rc == 0 && !vmp_reader_done (&w.r))
        rc = s_fail (&w, -VE_PROTO, "trailing bytes after the value");
    return rc;
}

int
vmsg_decode (const vmsg_schema_t *schema, const void *data, size_t len, varena_t *arena,
             const vmsg_value_t **out, char *err, size_t errlen)
{
    *out = NULL;
    vmsg_value_t *root = varena_alloc (arena, sizeof *root);
    if (!root)
        return vmsg__fail (err, errlen, NULL, -VE_NOMEM, "out of memory");
    int rc = s_walk (schema, data, len, arena, root, err, errlen);
    if (rc == 0)
        *out = root;
    return rc;
}

int
vmsg_validate (const vmsg_schema_t *schema, const void *data, size_t len, char *err, size_t errlen)
{
    vmsg_value_t root;
    return s_walk (schema, data, len, NULL, &root, err, errlen);
}

//  ---------------------------------------------------------------- accessors

const vmsg_value_t *
vmsg_get (const vmsg_value_t *v, const char *name)
{
    if (!name)
        return v;   //  the value itself: an array element, a map's value
    if (!v || v->kind != VMP_MAP)
        return NULL;
    for (uint32_t i = 0; i < v->len; i++)
        if (v->v.pairs[i].key[0] == name[0] && strcmp (v->v.pairs[i].key, name) == 0)
            return &v->v.pairs[i].value;
    return NULL;
}

bool
vmsg_has (const vmsg_value_t *v, const char *name)
{
    return vmsg_get (v, name) != NULL;
}

const char *
vmsg_str (const vmsg_value_t *v, const char *name)
{
    v = vmsg_get (v, name);
    return v && v->kind == VMP_STR ? v->v.s : NULL;
}

const void *
vmsg_bytes (const vmsg_value_t *v, const char *name, size_t *len)
{
    v = vmsg_get (v, name);
    if (!v || v->kind != VMP_BIN)
        return NULL;
    if (len)
        *len = v->len;
    return v->v.s;
}

uint64_t
vmsg_uint (const vmsg_value_t *v, const char *name, uint64_t dflt)
{
    v = vmsg_get (v, name);
    return v && v->kind == VMP_UINT ? v->v.u : dflt;
}

int64_t
vmsg_int (const vmsg_value_t *v, const char *name, int64_t dflt)
{
    v = vmsg_get (v, name);
    if (v && v->kind == VMP_INT)
        return v->v.i;
    if (v && v->kind == VMP_UINT && v->v.u <= (uint64_t) INT64_MAX)
        return (int64_t) v->v.u;
    return dflt;
}

double
vmsg_float (const vmsg_value_t *v, const char *name, double dflt)
{
    v = vmsg_get (v, name);
    if (!v)
        return dflt;
    switch (v->kind) {
    case VMP_FLOAT: return v->v.f;
    case VMP_UINT: return (double) v->v.u;
    case VMP_INT: return (double) v->v.i;
    default: return dflt;
    }
}

bool
vmsg_bool (const vmsg_value_t *v, const char *name, bool dflt)
{
    v = vmsg_get (v, name);
    return v && v->kind == VMP_BOOL ? v->v.b : dflt;
}

uint32_t
vmsg_count (const vmsg_value_t *v)
{
    return v && (v->kind == VMP_ARRAY || v->kind == VMP_MAP) ? v->len : 0;
}

const vmsg_value_t *
vmsg_at (const vmsg_value_t *v, uint32_t i)
{
    if (i >= vmsg_count (v))
        return NULL;
    return v->kind == VMP_ARRAY ? &v->v.items[i] : &v->v.pairs[i].value;
}

const char *
vmsg_key_at (const vmsg_value_t *v, uint32_t i)
{
    if (!v || v->kind != VMP_MAP || i >= v->len)
        return NULL;
    return v->v.pairs[i].key;
}

//  ---------------------------------------------------------------- encoder

//  msgpack-c's packers return 0 or -1 (the buffer failed).
#define S_PK(call) ((call) ? -VE_NOMEM : 0)

static int
s_pack (msgpack_packer *pk, const vmsg_value_t *v, int depth)
{
    //  Trees may be built by hand: refuse what no decoder would accept back (containers more
    //  than VMP_MAX_DEPTH deep; the root is at depth 1).
    if ((v->kind == VMP_ARRAY || v->kind == VMP_MAP) && depth > VMP_MAX_DEPTH)
        return -VE_DEPTH;
    int rc = 0;
    switch (v->kind) {
    case VMP_NIL: return S_PK (msgpack_pack_nil (pk));
    case VMP_BOOL: return S_PK (v->v.b ? msgpack_pack_true (pk) : msgpack_pack_false (pk));
    case VMP_UINT: return S_PK (msgpack_pack_uint64 (pk, v->v.u));
    case VMP_INT: return S_PK (msgpack_pack_int64 (pk, v->v.i));
    case VMP_FLOAT: return S_PK (msgpack_pack_double (pk, v->v.f));
    case VMP_STR:
        return S_PK (msgpack_pack_str (pk, v->len) || msgpack_pack_str_body (pk, v->v.s, v->len));
    case VMP_BIN:
        return S_PK (msgpack_pack_bin (pk, v->len) || msgpack_pack_bin_body (pk, v->v.s, v->len));
    case VMP_EXT:
        return S_PK (msgpack_pack_ext (pk, v->len, v->ext_type)
                     || msgpack_pack_ext_body (pk, v->v.s, v->len));
    case VMP_ARRAY:
        rc = S_PK (msgpack_pack_array (pk, v->len));
        for (uint32_t i = 0; i < v->len && rc == 0; i++)
            rc = s_pack (pk, &v->v.items[i], depth + 1);
        return rc;
    case VMP_MAP:
        rc = S_PK (msgpack_pack_map (pk, v->len));
        for (uint32_t i = 0; i < v->len && rc == 0; i++)
            if ((rc = S_PK (vmp_pack_cstr (pk, v->v.pairs[i].key))) == 0)
                rc = s_pack (pk, &v->v.pairs[i].value, depth + 1);
        return rc;
    }
    return -VE_INVAL;
}

int
vmsg_encode (const vmsg_schema_t *schema, const vmsg_value_t *value, vbuf_t *out, char *err,
             size_t errlen)
{
    size_t start = out->len;
    msgpack_packer pk;
    vmp_packer_init (&pk, out);
    int rc = s_pack (&pk, value, 1);
    if (rc == 0 && out->failed)
        rc = -VE_NOMEM;
    if (rc)
        rc = vmsg__fail (err, errlen, NULL, rc, "%s",
                         rc == -VE_DEPTH   ? "nested too deeply"
                         : rc == -VE_INVAL ? "value of no known kind"
                                           : "out of memory or too large");
    else if (schema)
        rc = vmsg_validate (schema, out->data + start, out->len - start, err, errlen);
    if (rc && !out->failed)
        out->len = start;
    return rc;
}

//  ---------------------------------------------------------------- schema tables

bool
vmsg_role_allows (uint32_t role, uint32_t caller_roles)
{
    return role == VMSG_ROLE_PUBLIC || (role & caller_roles) != 0;
}
