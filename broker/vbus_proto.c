//  vbus_proto.c — encoding and decoding of the bus's command frames and headers.
//  Decoders see bytes from any peer: they check every type, length and limit and never allocate.
#include "vbus_proto.h"
#include <string.h>
#include <time.h>

void
vbus__cmd (uint8_t out[4], int command)
{
    out[0] = 'V';
    out[1] = 'B';
    out[2] = VBUS_VERSION;
    out[3] = (uint8_t) command;
}

int
vbus__cmd_parse (const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len < VBUS_CMD_SIZE || p[0] != 'V' || p[1] != 'B' || p[2] != VBUS_VERSION)
        return -VE_PROTO;
    if (p[3] < VBUS_READY || p[3] > VBUS_DISCONNECT)
        return -VE_PROTO;
    return p[3];
}

//  A fixed-buffer packer target: no allocation on the hot path.
typedef struct {
    char *buf;
    size_t len, size;
} s_fixed_t;

static int
s_fixed_write (void *data, const char *buf, size_t len)
{
    s_fixed_t *f = data;
    if (len > f->size - f->len)
        return -1;
    memcpy (f->buf + f->len, buf, len);
    f->len += len;
    return 0;
}

static int
s_pack_str (msgpack_packer *pk, const char *s, size_t len)
{
    if (!s)
        return msgpack_pack_nil (pk);
    return msgpack_pack_str (pk, len) || msgpack_pack_str_body (pk, s, len) ? -1 : 0;
}

int
vbus__header_encode (const vbus__header_t *h, char *buf, size_t size)
{
    s_fixed_t f = { buf, 0, size };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &f, s_fixed_write);
    int rc = msgpack_pack_array (&pk, h->partition >= 0 ? 10 : 9);
    rc |= msgpack_pack_uint64 (&pk, h->id);
    rc |= s_pack_str (&pk, h->service, h->service_len);
    rc |= s_pack_str (&pk, h->method, h->method_len);
    rc |= msgpack_pack_int64 (&pk, h->deadline_ms);
    rc |= s_pack_str (&pk, h->trace ? h->trace : "", h->trace ? h->trace_len : 0);
    rc |= s_pack_str (&pk, h->key, h->key_len);
    rc |= s_pack_str (&pk, h->user, h->user_len);
    rc |= msgpack_pack_uint32 (&pk, h->roles);
    rc |= msgpack_pack_uint32 (&pk, h->flags);
    if (h->partition >= 0)
        rc |= msgpack_pack_uint32 (&pk, (uint32_t) h->partition);
    return rc ? -VE_TOOBIG : (int) f.len;
}

//  Reads a string or nil (*s = NULL) of at most max bytes.
static int
s_read_opt_str (vmp_reader_t *r, const char **s, uint32_t *len, uint32_t max)
{
    if (vmp_read_nil (r)) {
        *s = NULL;
        *len = 0;
        return 0;
    }
    int rc = vmp_read_str (r, s, len);
    if (rc)
        return rc;
    return *len > max ? -VE_TOOBIG : 0;
}

static int
s_read_u32 (vmp_reader_t *r, uint32_t *out)
{
    uint64_t u;
    int rc = vmp_read_uint (r, &u);
    if (rc)
        return rc;
    if (u > UINT32_MAX)
        return -VE_RANGE;
    *out = (uint32_t) u;
    return 0;
}

//  Skips the elements a newer peer appended (forward compatible), bounded in depth.
static int
s_skip_rest (vmp_reader_t *r, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        int rc = vmp_skip (r, 4);
        if (rc)
            return rc;
    }
    return 0;
}

//  A reader over the header at the start of data: never more than VBUS_MAX_HEADER bytes.
static void
s_header_reader (vmp_reader_t *r, const void *data, size_t len)
{
    vmp_reader_init (r, data, len < VBUS_MAX_HEADER ? len : VBUS_MAX_HEADER);
}

int
vbus__header_decode (vbus__header_t *h, const void *data, size_t len, size_t *used)
{
    vmp_reader_t r;
    s_header_reader (&r, data, len);
    uint32_t n;
    int rc = vmp_read_array (&r, &n);
    if (rc)
        return rc;
    if (n < 5)
        return -VE_PROTO;
    memset (h, 0, sizeof *h);
    if ((rc = vmp_read_uint (&r, &h->id)) || (rc = vmp_read_str (&r, &h->service, &h->service_len))
        || (rc = vmp_read_str (&r, &h->method, &h->method_len))
        || (rc = vmp_read_int (&r, &h->deadline_ms))
        || (rc = s_read_opt_str (&r, &h->trace, &h->trace_len, VBUS_MAX_TRACE)))
        return rc;
    if (!vbus__name_ok (h->method, h->method_len, VBUS_MAX_METHOD)
        || !vbus__name_ok (h->service, h->service_len, VBUS_MAX_SERVICE))
        return -VE_PROTO;
    if (n > 5 && (rc = s_read_opt_str (&r, &h->key, &h->key_len, VBUS_MAX_KEY)))
        return rc;
    if (n > 6 && (rc = s_read_opt_str (&r, &h->user, &h->user_len, VBUS_MAX_USER)))
        return rc;
    if (n > 7 && (rc = s_read_u32 (&r, &h->roles)))
        return rc;
    if (n > 8 && (rc = s_read_u32 (&r, &h->flags)))
        return rc;
    h->partition = -1;
    if (n > 9 && !vmp_read_nil (&r)) {
        uint32_t p;
        if ((rc = s_read_u32 (&r, &p)))
            return rc;
        if (p >= VBUS_MAX_PARTITIONS)
            return -VE_RANGE;
        h->partition = p;
    }
    if ((rc = s_skip_rest (&r, n > 10 ? n - 10 : 0)))
        return rc;
    *used = (size_t) (r.p - (const uint8_t *) data);
    return 0;
}

int
vbus__reply_encode (uint64_t id, int status, const char *msg, size_t msg_len, char *buf,
                    size_t size)
{
    s_fixed_t f = { buf, 0, size };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &f, s_fixed_write);
    int rc = msgpack_pack_array (&pk, 3);
    rc |= msgpack_pack_uint64 (&pk, id);
    rc |= msgpack_pack_uint32 (&pk, (uint32_t) status);
    rc |= s_pack_str (&pk, msg ? msg : "", msg ? msg_len : 0);
    return rc ? -VE_TOOBIG : (int) f.len;
}

int
vbus__reply_decode (const void *data, size_t len, uint64_t *id, int *status, const char **msg,
                    uint32_t *msg_len, size_t *used)
{
    vmp_reader_t r;
    s_header_reader (&r, data, len);
    uint32_t n, st;
    int rc = vmp_read_array (&r, &n);
    if (rc)
        return rc;
    if (n < 3)
        return -VE_PROTO;
    if ((rc = vmp_read_uint (&r, id)) || (rc = s_read_u32 (&r, &st))
        || (rc = vmp_read_str (&r, msg, msg_len)))
        return rc;
    if (st > VE_LAST_STATUS)
        return -VE_RANGE;
    *status = (int) st;
    if ((rc = s_skip_rest (&r, n - 3)))
        return rc;
    *used = (size_t) (r.p - (const uint8_t *) data);
    return 0;
}

int
vbus__ready_encode (const vbus__ready_t *ready, vbuf_t *out)
{
    msgpack_packer pk;
    vmp_packer_init (&pk, out);
    int rc = msgpack_pack_array (&pk, 5);
    rc |= msgpack_pack_uint32 (&pk, ready->partitions);
    rc |= msgpack_pack_array (&pk, (size_t) ready->owned_count);
    for (size_t i = 0; i < ready->owned_count; i++)
        rc |= msgpack_pack_uint32 (&pk, ready->owned[i]);
    rc |= msgpack_pack_uint32 (&pk, ready->credit);
    rc |= s_pack_str (&pk, ready->name ? ready->name : "", ready->name ? ready->name_len : 0);
    rc |= msgpack_pack_uint32 (&pk, ready->heartbeat_ms);
    return rc ? -VE_NOMEM : 0;
}

int
vbus__ready_decode (const void *data, size_t len, vbus__ready_t *ready, uint8_t *bits,
                    size_t bits_size, bool *all)
{
    vmp_reader_t r;
    vmp_reader_init (&r, data, len);
    uint32_t n, owned;
    int rc = vmp_read_array (&r, &n);
    if (rc)
        return rc;
    if (n < 5)
        return -VE_PROTO;
    memset (ready, 0, sizeof *ready);
    if ((rc = s_read_u32 (&r, &ready->partitions)) || (rc = vmp_read_array (&r, &owned)))
        return rc;
    if (ready->partitions == 0 || ready->partitions > VBUS_MAX_PARTITIONS
        || (size_t) (ready->partitions + 7) / 8 > bits_size || owned > ready->partitions)
        return -VE_RANGE;
    memset (bits, 0, (ready->partitions + 7) / 8);
    *all = owned == 0;
    for (uint32_t i = 0; i < owned; i++) {
        uint32_t p;
        if ((rc = s_read_u32 (&r, &p)))
            return rc;
        if (p >= ready->partitions)
            return -VE_RANGE;
        bits[p / 8] |= (uint8_t) (1u << (p % 8));
    }
    ready->owned_count = owned;
    if ((rc = s_read_u32 (&r, &ready->credit))
        || (rc = s_read_opt_str (&r, &ready->name, &ready->name_len, 128))
        || (rc = s_read_u32 (&r, &ready->heartbeat_ms)))
        return rc;
    if (ready->credit == 0 || ready->credit > 100000 || ready->heartbeat_ms < 10
        || ready->heartbeat_ms > 600000)
        return -VE_RANGE;
    if ((rc = s_skip_rest (&r, n - 5)))
        return rc;
    return vmp_reader_done (&r) ? 0 : -VE_PROTO;
}

bool
vbus__name_ok (const char *name, size_t len, size_t max)
{
    if (!name || len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int64_t
vbus_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
vbus__recv (void *socket, zmq_msg_t *frames, int max, int flags)
{
    int count = 0;
    for (;;) {
        zmq_msg_t *msg = &frames[count < max ? count : max];
        zmq_msg_init (msg);
        if (zmq_msg_recv (msg, socket, count ? 0 : flags) < 0) {
            int err = errno;
            zmq_msg_close (msg);
            vbus__close (frames, count < max ? count : max);
            errno = err;
            return -1;
        }
        bool more = zmq_msg_more (msg);
        if (count < max)
            count++;
        else {
            zmq_msg_close (msg);
            count = max + 1;
        }
        if (!more)
            return count;
        if (count > max)
            continue;
    }
}

void
vbus__close (zmq_msg_t *frames, int count)
{
    for (int i = 0; i < count; i++)
        zmq_msg_close (&frames[i]);
}

int
vbus__sendv (void *socket, const void *const *data, const size_t *len, int count, int flags)
{
    for (int i = 0; i < count; i++) {
        int more = i + 1 < count ? ZMQ_SNDMORE : 0;
        if (zmq_send (socket, data[i], len[i], flags | more) < 0)
            return -1;
    }
    return 0;
}

int
vbus__frame (zmq_msg_t *msg, const void *a, size_t a_len, const void *b, size_t b_len,
             const void *c, size_t c_len)
{
    if (zmq_msg_init_size (msg, a_len + b_len + c_len) != 0)
        return -1;
    char *data = zmq_msg_data (msg);
    if (a_len)
        memcpy (data, a, a_len);
    if (b_len)
        memcpy (data + a_len, b, b_len);
    if (c_len)
        memcpy (data + a_len + b_len, c, c_len);
    return 0;
}

int
vbus__send_frames (void *socket, zmq_msg_t *frames, int count, int flags)
{
    if (zmq_msg_send (&frames[0], socket, flags | (count > 1 ? ZMQ_SNDMORE : 0)) < 0) {
        int err = errno;
        vbus__close (frames, count);
        errno = err;
        return -1;
    }
    //  The first frame went: the rest of a multipart message always follows.
    for (int i = 1; i < count; i++)
        zmq_msg_send (&frames[i], socket, i + 1 < count ? ZMQ_SNDMORE : 0);
    return 0;
}
