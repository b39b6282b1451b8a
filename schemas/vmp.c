//  vmp.c — the growable buffer, and a bounds-checked MessagePack reader that never allocates.
#include "vmp.h"
#include "verr.h"
#include <stdlib.h>
#include <string.h>

#define VBUF_DEFAULT_LIMIT ((size_t) 64 << 20)

void
vbuf_init (vbuf_t *self, void *storage, size_t size)
{
    memset (self, 0, sizeof *self);
    self->data = (char *) storage;
    self->cap = storage ? size : 0;
}

void
vbuf_free (vbuf_t *self)
{
    if (!self)
        return;
    if (self->heap)
        free (self->data);
    self->data = NULL;
    self->cap = self->len = 0;
    self->heap = false;
}

void
vbuf_reset (vbuf_t *self)
{
    self->len = 0;
    self->failed = false;
}

int
vbuf_append (vbuf_t *self, const void *data, size_t len)
{
    if (self->failed)
        return -VE_NOMEM;
    size_t limit = self->limit ? self->limit : VBUF_DEFAULT_LIMIT;
    if (len > limit - self->len) {
        self->failed = true;
        return -VE_TOOBIG;
    }
    if (self->len + len > self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 256;
        while (cap < self->len + len)
            cap *= 2;
        char *data_new = self->heap ? realloc (self->data, cap) : malloc (cap);
        if (!data_new) {
            self->failed = true;
            return -VE_NOMEM;
        }
        if (!self->heap && self->len)
            memcpy (data_new, self->data, self->len);
        self->data = data_new;
        self->cap = cap;
        self->heap = true;
    }
    if (len)
        memcpy (self->data + self->len, data, len);
    self->len += len;
    return 0;
}

char *
vbuf_detach (vbuf_t *self, size_t *len)
{
    char *out;
    if (self->failed)
        out = NULL;
    else if (self->heap)
        out = self->data;
    else {
        out = malloc (self->len ? self->len : 1);
        if (out && self->len)
            memcpy (out, self->data, self->len);
    }
    if (out && len)
        *len = self->len;
    if (!out && self->heap)
        free (self->data);
    self->data = NULL;
    self->len = self->cap = 0;
    self->heap = false;
    self->failed = false;
    return out;
}

int
vbuf_msgpack_write (void *data, const char *buf, size_t len)
{
    return vbuf_append ((vbuf_t *) data, buf, len) == 0 ? 0 : -1;
}

int
vmp_pack_cstr (msgpack_packer *pk, const char *s)
{
    if (!s)
        return msgpack_pack_nil (pk);
    size_t len = strlen (s);
    if (msgpack_pack_str (pk, len) != 0)
        return -1;
    return msgpack_pack_str_body (pk, s, len);
}

int
vmp_pack_kstr (msgpack_packer *pk, const char *key, const char *value)
{
    return vmp_pack_cstr (pk, key) || vmp_pack_cstr (pk, value) ? -1 : 0;
}

int
vmp_pack_kint (msgpack_packer *pk, const char *key, int64_t value)
{
    return vmp_pack_cstr (pk, key) || msgpack_pack_int64 (pk, value) ? -1 : 0;
}

int
vmp_pack_kuint (msgpack_packer *pk, const char *key, uint64_t value)
{
    return vmp_pack_cstr (pk, key) || msgpack_pack_uint64 (pk, value) ? -1 : 0;
}

//  ---------------------------------------------------------------- reader

static uint64_t
s_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int
vmp_read (vmp_reader_t *r, vmp_item_t *item)
{
    const uint8_t *p = r->p;
    size_t left = (size_t) (r->end - p);
    if (left < 1)
        return -VE_TRUNC;
    uint8_t b = *p++;
    left--;
    //  Size of the length/value field that follows the type byte, and what it means.
    int n = 0;
    enum { SCALAR, STR, BIN, ARRAY, MAP, EXT } shape = SCALAR;
    item->ext_type = 0;
    if (b <= 0x7f) {
        item->kind = VMP_UINT;
        item->v.u = b;
    }
    else if (b >= 0xe0) {
        item->kind = VMP_INT;
        item->v.i = (int8_t) b;
    }
    else if ((b & 0xf0) == 0x80) {
        shape = MAP;
        item->len = b & 0x0f;
    }
    else if ((b & 0xf0) == 0x90) {
        shape = ARRAY;
        item->len = b & 0x0f;
    }
    else if ((b & 0xe0) == 0xa0) {
        shape = STR;
        item->len = b & 0x1f;
    }
    else {
        switch (b) {
        case 0xc0: item->kind = VMP_NIL; break;
        case 0xc2:
            item->kind = VMP_BOOL;
            item->v.b = false;
            break;
        case 0xc3:
            item->kind = VMP_BOOL;
            item->v.b = true;
            break;
        case 0xc4:
        case 0xc5:
        case 0xc6:
            shape = BIN;
            n = 1 << (b - 0xc4);
            break;
        case 0xc7:
        case 0xc8:
        case 0xc9:
            shape = EXT;
            n = 1 << (b - 0xc7);
            break;
        case 0xca:
        case 0xcb: {
            int w = b == 0xca ? 4 : 8;
            if (left < (size_t) w)
                return -VE_TRUNC;
            uint64_t bits = s_be (p, w);
            p += w;
            item->kind = VMP_FLOAT;
            if (w == 4) {
                uint32_t b32 = (uint32_t) bits;
                float f;
                memcpy (&f, &b32, 4);
                item->v.f = f;
            }
            else
                memcpy (&item->v.f, &bits, 8);
            break;
        }
        case 0xcc:
        case 0xcd:
        case 0xce:
        case 0xcf: {
            int w = 1 << (b - 0xcc);
            if (left < (size_t) w)
                return -VE_TRUNC;
            item->kind = VMP_UINT;
            item->v.u = s_be (p, w);
            p += w;
            break;
        }
        case 0xd0:
        case 0xd1:
        case 0xd2:
        case 0xd3: {
            int w = 1 << (b - 0xd0);
            if (left < (size_t) w)
                return -VE_TRUNC;
            uint64_t u = s_be (p, w);
            p += w;
            int64_t v;
            if (w == 1)
                v = (int8_t) u;
            else if (w == 2)
                v = (int16_t) u;
            else if (w == 4)
                v = (int32_t) u;
            else
                v = (int64_t) u;
            if (v >= 0) {
                item->kind = VMP_UINT;
                item->v.u = (uint64_t) v;
            }
            else {
                item->kind = VMP_INT;
                item->v.i = v;
            }
            break;
        }
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
            shape = EXT;
            item->len = 1u << (b - 0xd4);
            n = 0;
            if (left < 1)
                return -VE_TRUNC;
            item->ext_type = (int8_t) *p++;
            left--;
            break;
        case 0xd9:
        case 0xda:
        case 0xdb:
            shape = STR;
            n = 1 << (b - 0xd9);
            break;
        case 0xdc:
        case 0xdd:
            shape = ARRAY;
            n = b == 0xdc ? 2 : 4;
            break;
        case 0xde:
        case 0xdf:
            shape = MAP;
            n = b == 0xde ? 2 : 4;
            break;
        default: return -VE_PROTO;  //  0xc1 is never used
        }
    }
    if (n) {
        if (left < (size_t) n)
            return -VE_TRUNC;
        item->len = (uint32_t) s_be (p, n);
        p += n;
        left -= (size_t) n;
        if (shape == EXT && b >= 0xc7 && b <= 0xc9) {
            if (left < 1)
                return -VE_TRUNC;
            item->ext_type = (int8_t) *p++;
            left--;
        }
    }
    left = (size_t) (r->end - p);
    switch (shape) {
    case SCALAR: break;
    case STR:
    case BIN:
    case EXT:
        if (item->len > left)
            return -VE_TRUNC;
        item->kind = shape == STR ? VMP_STR : shape == BIN ? VMP_BIN : VMP_EXT;
        item->v.ptr = (const char *) p;
        p += item->len;
        break;
    case ARRAY:
        //  Every element needs at least one byte: a bigger count is a lie.
        if (item->len > left)
            return -VE_PROTO;
        item->kind = VMP_ARRAY;
        break;
    case MAP:
        if ((uint64_t) item->len * 2 > left)
            return -VE_PROTO;
        item->kind = VMP_MAP;
        break;
    }
    r->p = p;
    return 0;
}

int
vmp_skip (vmp_reader_t *r, int max_depth)
{
    //  Iterative: a stack of remaining-element counts, so input cannot grow our C stack.
    uint64_t pending[VMP_MAX_DEPTH + 1];
    int depth = 0;
    if (max_depth > VMP_MAX_DEPTH)
        max_depth = VMP_MAX_DEPTH;
    const uint8_t *start = r->p;
    uint64_t todo = 1;
    for (;;) {
        while (todo == 0) {
            if (depth == 0)
                return 0;
            todo = pending[--depth];
        }
        vmp_item_t it;
        int rc = vmp_read (r, &it);
        if (rc) {
            r->p = start;
            return rc;
        }
        todo--;
        if (it.kind == VMP_ARRAY || it.kind == VMP_MAP) {
            //  Every container counts as a level, empty or not, as the codec counts them.
            if (depth >= max_depth) {
                r->p = start;
                return -VE_DEPTH;
            }
            uint64_t n = it.kind == VMP_MAP ? (uint64_t) it.len * 2 : it.len;
            if (n) {
                pending[depth++] = todo;
                todo = n;
            }
        }
    }
}

int
vmp_check (const void *data, size_t len, int max_depth)
{
    vmp_reader_t r;
    vmp_reader_init (&r, data, len);
    int rc = vmp_skip (&r, max_depth);
    if (rc)
        return rc;
    return vmp_reader_done (&r) ? 0 : -VE_PROTO;
}

static int
s_read_kind (vmp_reader_t *r, vmp_item_t *it, vmp_kind_t kind)
{
    vmp_reader_t save = *r;
    int rc = vmp_read (r, it);
    if (rc)
        return rc;
    if (it->kind != kind) {
        *r = save;
        return -VE_TYPE;
    }
    return 0;
}

int
vmp_read_uint (vmp_reader_t *r, uint64_t *out)
{
    vmp_item_t it;
    int rc = s_read_kind (r, &it, VMP_UINT);
    if (rc == 0)
        *out = it.v.u;
    return rc;
}

int
vmp_read_int (vmp_reader_t *r, int64_t *out)
{
    vmp_reader_t save = *r;
    vmp_item_t it;
    int rc = vmp_read (r, &it);
    if (rc)
        return rc;
    if (it.kind == VMP_INT)
        *out = it.v.i;
    else if (it.kind == VMP_UINT && it.v.u <= (uint64_t) INT64_MAX)
        *out = (int64_t) it.v.u;
    else {
        *r = save;
        return it.kind == VMP_UINT ? -VE_RANGE : -VE_TYPE;
    }
    return 0;
}

int
vmp_read_str (vmp_reader_t *r, const char **s, uint32_t *len)
{
    vmp_item_t it;
    int rc = s_read_kind (r, &it, VMP_STR);
    if (rc == 0) {
        *s = it.v.ptr;
        *len = it.len;
    }
    return rc;
}

int
vmp_read_bool (vmp_reader_t *r, bool *out)
{
    vmp_item_t it;
    int rc = s_read_kind (r, &it, VMP_BOOL);
    if (rc == 0)
        *out = it.v.b;
    return rc;
}

int
vmp_read_array (vmp_reader_t *r, uint32_t *count)
{
    vmp_item_t it;
    int rc = s_read_kind (r, &it, VMP_ARRAY);
    if (rc == 0)
        *count = it.len;
    return rc;
}

int
vmp_read_map (vmp_reader_t *r, uint32_t *count)
{
    vmp_item_t it;
    int rc = s_read_kind (r, &it, VMP_MAP);
    if (rc == 0)
        *count = it.len;
    return rc;
}

bool
vmp_read_nil (vmp_reader_t *r)
{
    if (r->p < r->end && *r->p == 0xc0) {
        r->p++;
        return true;
    }
    return false;
}

size_t
vmp_map_begin (msgpack_packer *pk)
{
    vbuf_t *buf = pk->data;
    size_t at = buf->len;
    //  map 32 with a count of 0 for now: five bytes, whatever the count will be.
    static const char header[5] = { (char) 0xdf, 0, 0, 0, 0 };
    vbuf_append (buf, header, sizeof header);
    return at;
}

int
vmp_map_end (msgpack_packer *pk, size_t at)
{
    vbuf_t *buf = pk->data;
    if (buf->failed)
        return -VE_NOMEM;
    vmp_reader_t r;
    vmp_reader_init (&r, buf->data + at + 5, buf->len - at - 5);
    uint32_t items = 0;
    while (!vmp_reader_done (&r)) {
        if (vmp_skip (&r, VMP_MAX_DEPTH) != 0)
            return -VE_PROTO;
        items++;
    }
    if (items % 2)
        return -VE_PROTO;
    uint32_t n = items / 2;
    unsigned char *count = (unsigned char *) buf->data + at + 1;
    count[0] = (unsigned char) (n >> 24);
    count[1] = (unsigned char) (n >> 16);
    count[2] = (unsigned char) (n >> 8);
    count[3] = (unsigned char) n;
    return (int) n;
}
