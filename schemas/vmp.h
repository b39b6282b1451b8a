//  vmp.h — MessagePack primitives shared by the bus and the codec.
//  Writing goes through msgpack-c's packer into a vbuf_t (a growable buffer that may start on
//  the stack). Reading is our own bounds-checked cursor: it never allocates, never trusts a
//  length or count beyond the bytes present, and limits nesting, so it is safe on outside input.
#ifndef VMP_H
#define VMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

//  Hard ceilings for any msgpack value read from outside the process.
#define VMP_MAX_DEPTH 32

//  ---------------------------------------------------------------- growable buffer
typedef struct {
    char *data;    //  bytes written so far
    size_t len;    //  how many
    size_t cap;    //  capacity of data
    size_t limit;  //  writes that would grow past this fail (0 = 64 MiB)
    bool heap;     //  data is ours to free (false while it is the caller's initial storage)
    bool failed;   //  a write failed (out of memory or over limit); len stops growing
} vbuf_t;

//  Starts a buffer on caller storage (may be NULL, 0); grows onto the heap when needed.
void vbuf_init (vbuf_t *self, void *storage, size_t size);
//  Frees heap storage; the buffer may be initialised again. NULL-safe.
void vbuf_free (vbuf_t *self);
//  Forgets the contents, keeps the storage.
void vbuf_reset (vbuf_t *self);
//  Appends bytes; returns 0 or -VE_NOMEM / -VE_TOOBIG (and sets failed).
int vbuf_append (vbuf_t *self, const void *data, size_t len);
//  Takes the contents as a malloc'ed block the caller frees (copies when on caller storage).
//  Returns NULL on failure. The buffer is left empty.
char *vbuf_detach (vbuf_t *self, size_t *len);
//  msgpack_packer write callback for a vbuf_t (data is a vbuf_t *).
int vbuf_msgpack_write (void *data, const char *buf, size_t len);

//  Initialises a packer writing into buf.
static inline void
vmp_packer_init (msgpack_packer *pk, vbuf_t *buf)
{
    msgpack_packer_init (pk, buf, vbuf_msgpack_write);
}
//  Packs a NUL-terminated string (NULL packs nil).
int vmp_pack_cstr (msgpack_packer *pk, const char *s);
//  Packs a map entry: the key, then the value (a string, NULL packed as nil like
//  vmp_pack_cstr; or an integer).
int vmp_pack_kstr (msgpack_packer *pk, const char *key, const char *value);
int vmp_pack_kint (msgpack_packer *pk, const char *key, int64_t value);
int vmp_pack_kuint (msgpack_packer *pk, const char *key, uint64_t value);

//  A map whose entry count nobody writes by hand: vmp_map_begin packs a map header with room
//  for any count and returns where it is; vmp_map_end counts the entries packed since (reading
//  the bytes back, nested values skipped whole) and writes the count. So an optional field is
//  packed or not without a matching `n + (x != NULL)` to keep right. The packer must write into
//  a vbuf_t (vmp_packer_init). Returns the entries counted, or -VE_PROTO when a key has no
//  value (a bug in the caller) and -VE_NOMEM when the buffer failed.
size_t vmp_map_begin (msgpack_packer *pk);
int vmp_map_end (msgpack_packer *pk, size_t at);

//  ---------------------------------------------------------------- reader
typedef enum {
    VMP_NIL,
    VMP_BOOL,
    VMP_UINT,
    VMP_INT,
    VMP_FLOAT,
    VMP_STR,
    VMP_BIN,
    VMP_ARRAY,
    VMP_MAP,
    VMP_EXT
} vmp_kind_t;

//  One item: a scalar, or the head of a string/bin (len bytes at ptr) or container (len
//  elements; a map has len key/value pairs that follow). VMP_UINT holds values >= 0, VMP_INT
//  values < 0.
typedef struct {
    vmp_kind_t kind;
    uint32_t len;
    union {
        bool b;
        uint64_t u;
        int64_t i;
        double f;
        const char *ptr;
    } v;
    int8_t ext_type;
} vmp_item_t;

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} vmp_reader_t;

static inline void
vmp_reader_init (vmp_reader_t *r, const void *data, size_t len)
{
    r->p = (const uint8_t *) data;
    r->end = r->p + len;
}
static inline bool
vmp_reader_done (const vmp_reader_t *r)
{
    return r->p >= r->end;
}

//  Reads the next item's head. Returns 0 or -VE_TRUNC (bytes run out), -VE_PROTO (reserved byte
//  0xc1, or a container count larger than the bytes left could hold). On error the reader does
//  not move.
int vmp_read (vmp_reader_t *r, vmp_item_t *item);
//  Skips one whole value (with everything nested in it), at most max_depth levels deep.
//  Returns 0, -VE_TRUNC, -VE_PROTO or -VE_DEPTH.
int vmp_skip (vmp_reader_t *r, int max_depth);
//  Checks that data holds exactly one well-formed value at most max_depth deep.
int vmp_check (const void *data, size_t len, int max_depth);

//  Typed reads: return 0, or -VE_TYPE when the next item is of another kind (reader unmoved).
int vmp_read_uint (vmp_reader_t *r, uint64_t *out);  //  accepts non-negative ints
int vmp_read_int (vmp_reader_t *r, int64_t *out);    //  accepts any int that fits int64
int vmp_read_str (vmp_reader_t *r, const char **s, uint32_t *len);  //  str (not NUL-terminated)
int vmp_read_bool (vmp_reader_t *r, bool *out);
int vmp_read_array (vmp_reader_t *r, uint32_t *count);
int vmp_read_map (vmp_reader_t *r, uint32_t *count);
//  True (and consumes it) when the next item is nil.
bool vmp_read_nil (vmp_reader_t *r);

#endif
