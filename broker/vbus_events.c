//  vbus_events.c — event streams: a publisher (PUB → broker XSUB) and a subscriber (SUB ←
//  broker XPUB) that checks every stream's sequence numbers and reports gaps and duplicates.
//  An event is three frames: [topic][meta: [stream, seq, time_ms, prev]][body]; prev is the seq
//  of the stream's previous event of the same topic (0: not known), so that a consumer that
//  subscribes to one topic of a stream can tell a lost event of it from the stream's others.
#include "vbus_proto.h"
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_MAX_TOPIC  128
#define EVENT_MAX_STREAM 128

//  Per-stream sequence state, shared by the publisher (next seq to give) and the subscriber
//  (next seq expected). A small open-addressed table: a process sees few streams.
typedef struct {
    char *stream;
    uint64_t next;
} s_stream_t;

typedef struct {
    s_stream_t *items;
    size_t count, cap;
} s_streams_t;

static s_stream_t *
s_stream_find (s_streams_t *t, const char *stream, bool create)
{
    for (size_t i = 0; i < t->count; i++)
        if (strcmp (t->items[i].stream, stream) == 0)
            return &t->items[i];
    if (!create)
        return NULL;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        s_stream_t *items = realloc (t->items, cap * sizeof *items);
        if (!items)
            return NULL;
        t->items = items;
        t->cap = cap;
    }
    char *copy = strdup (stream);
    if (!copy)
        return NULL;
    t->items[t->count] = (s_stream_t) { copy, 0 };
    return &t->items[t->count++];
}

static void
s_streams_free (s_streams_t *t)
{
    for (size_t i = 0; i < t->count; i++)
        free (t->items[i].stream);
    free (t->items);
    memset (t, 0, sizeof *t);
}

//  ---------------------------------------------------------------- publisher
struct vbus_pub_s {
    zsock_t *sock;
    void *handle;
    s_streams_t streams;
    s_streams_t topics;  //  "<stream>\t<topic>": the last seq published of the topic
};

vbus_pub_t *
vbus_pub_new (const char *endpoint)
{
    vbus_pub_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = zsock_new (ZMQ_PUB);
    if (!self->sock) {
        free (self);
        return NULL;
    }
    self->handle = zsock_resolve (self->sock);
    zsock_set_sndhwm (self->sock, 100000);
    zsock_set_linger (self->sock, 2000);
    if (zsock_connect (self->sock, "%s", endpoint) != 0) {
        vbus_log ('E', "vbus", "publisher: cannot connect to '%s'", endpoint);
        vbus_pub_destroy (&self);
        return NULL;
    }
    return self;
}

void
vbus_pub_destroy (vbus_pub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vbus_pub_t *self = *self_p;
    zsock_destroy (&self->sock);
    s_streams_free (&self->streams);
    s_streams_free (&self->topics);
    free (self);
    *self_p = NULL;
}

int
vbus_pub_send (vbus_pub_t *self, const char *topic, const char *stream, uint64_t seq,
               const void *body, size_t body_len)
{
    return vbus_pub_send_after (self, topic, stream, seq, UINT64_MAX, body, body_len);
}

int
vbus_pub_send_after (vbus_pub_t *self, const char *topic, const char *stream, uint64_t seq,
                     uint64_t prev, const void *body, size_t body_len)
{
    size_t topic_len = topic ? strlen (topic) : 0;
    if (!topic_len || topic_len > EVENT_MAX_TOPIC || !stream || !*stream
        || strlen (stream) > EVENT_MAX_STREAM || !strchr (topic, '.'))
        return -VE_INVAL;
    s_stream_t *st = NULL;
    if (seq == 0) {
        st = s_stream_find (&self->streams, stream, true);
        if (!st)
            return -VE_NOMEM;
        seq = st->next + 1;
    }
    //  The topic's previous seq in this stream, as this publisher saw it: a publisher that
    //  started since says 0 (not known) for its first of each topic. It moves even when the
    //  send fails: the next one then points at the lost one.
    char key[EVENT_MAX_STREAM + EVENT_MAX_TOPIC + 2];
    snprintf (key, sizeof key, "%s\t%s", stream, topic);
    s_stream_t *tt = s_stream_find (&self->topics, key, true);
    if (!tt)
        return -VE_NOMEM;
    if (prev == UINT64_MAX)
        prev = tt->next < seq ? tt->next : 0;
    else if (prev >= seq)
        return -VE_INVAL;
    if (tt->next < seq)
        tt->next = seq;
    char meta[256];
    vbuf_t buf;
    vbuf_init (&buf, meta, sizeof meta);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_array (&pk, 4);
    vmp_pack_cstr (&pk, stream);
    msgpack_pack_uint64 (&pk, seq);
    msgpack_pack_int64 (&pk, vbus_now_ms ());
    msgpack_pack_uint64 (&pk, prev);
    const void *parts[3] = { topic, buf.data, body ? body : "" };
    size_t lens[3] = { topic_len, buf.len, body ? body_len : 0 };
    int rc = vbus__sendv (self->handle, parts, lens, 3, ZMQ_DONTWAIT)
                 ? (errno == EAGAIN ? -VE_AGAIN : -VE_IO)
                 : 0;
    vbuf_free (&buf);
    if (rc == 0 && st)
        st->next = seq;
    return rc;
}

//  ---------------------------------------------------------------- subscriber
struct vbus_sub_s {
    zsock_t *sock;
    void *handle;
    s_streams_t streams;
    zmq_msg_t frames[VBUS_MAX_FRAMES + 1];
    int count;
    char topic[EVENT_MAX_TOPIC + 1];
    char stream[EVENT_MAX_STREAM + 1];
    uint64_t malformed;
};

vbus_sub_t *
vbus_sub_new (const char *endpoint, const char *const *prefixes)
{
    vbus_sub_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = zsock_new (ZMQ_SUB);
    if (!self->sock) {
        free (self);
        return NULL;
    }
    self->handle = zsock_resolve (self->sock);
    zsock_set_rcvhwm (self->sock, 100000);
    zsock_set_linger (self->sock, 0);
    for (size_t i = 0; prefixes && prefixes[i]; i++) {
        size_t len = strlen (prefixes[i]);
        if (len && prefixes[i][len - 1] == '*')
            len--;
        zmq_setsockopt (self->handle, ZMQ_SUBSCRIBE, prefixes[i], len);
    }
    if (zsock_connect (self->sock, "%s", endpoint) != 0) {
        vbus_log ('E', "vbus", "subscriber: cannot connect to '%s'", endpoint);
        vbus_sub_destroy (&self);
        return NULL;
    }
    return self;
}

void
vbus_sub_destroy (vbus_sub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vbus_sub_t *self = *self_p;
    vbus__close (self->frames, self->count);
    zsock_destroy (&self->sock);
    s_streams_free (&self->streams);
    free (self);
    *self_p = NULL;
}

int
vbus_sub_expect (vbus_sub_t *self, const char *stream, uint64_t next_seq)
{
    s_stream_t *st = s_stream_find (&self->streams, stream, true);
    if (!st)
        return -VE_NOMEM;
    st->next = next_seq;
    return 0;
}

void *
vbus_sub_socket (vbus_sub_t *self)
{
    return self->handle;
}

int
vbus_sub_fd (vbus_sub_t *self)
{
    return zsock_fd (self->sock);
}

//  Decodes the current frames into ev; returns 0 or -VE_PROTO.
static int
s_decode (vbus_sub_t *self, vbus_event_t *ev)
{
    if (self->count != 3 || zmq_msg_size (&self->frames[0]) > EVENT_MAX_TOPIC)
        return -VE_PROTO;
    vmp_reader_t r;
    vmp_reader_init (&r, zmq_msg_data (&self->frames[1]), zmq_msg_size (&self->frames[1]));
    uint32_t n, stream_len;
    const char *stream;
    uint64_t seq, prev = 0;
    int64_t time_ms;
    if (vmp_read_array (&r, &n) || n < 3 || vmp_read_str (&r, &stream, &stream_len)
        || stream_len == 0 || stream_len > EVENT_MAX_STREAM || vmp_read_uint (&r, &seq) || seq == 0
        || vmp_read_int (&r, &time_ms) || (n >= 4 && (vmp_read_uint (&r, &prev) || prev >= seq)))
        return -VE_PROTO;
    memcpy (self->topic, zmq_msg_data (&self->frames[0]), zmq_msg_size (&self->frames[0]));
    self->topic[zmq_msg_size (&self->frames[0])] = 0;
    memcpy (self->stream, stream, stream_len);
    self->stream[stream_len] = 0;
    *ev = (vbus_event_t) { .topic = self->topic,
                           .stream = self->stream,
                           .seq = seq,
                           .prev = prev,
                           .time_ms = time_ms,
                           .body = zmq_msg_data (&self->frames[2]),
                           .body_len = zmq_msg_size (&self->frames[2]) };
    s_stream_t *st = s_stream_find (&self->streams, self->stream, true);
    if (!st)
        return -VE_NOMEM;
    if (st->next == 0)
        st->next = seq;  //  first event of a stream we had no offset for
    if (seq < st->next)
        ev->duplicate = true;
    else {
        if (seq > st->next)
            ev->gap_from = st->next;
        st->next = seq + 1;
    }
    return 0;
}

int
vbus_sub_recv (vbus_sub_t *self, vbus_event_t *ev, int timeout_ms)
{
    vbus__close (self->frames, self->count);
    self->count = 0;
    zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
    int64_t deadline = vbus_mono_us () / 1000 + timeout_ms;
    int count;
    //  Readable does not always mean a whole event is there: wait again until the deadline.
    while ((count = vbus__recv (self->handle, self->frames, VBUS_MAX_FRAMES, ZMQ_DONTWAIT)) < 0) {
        int64_t left = timeout_ms < 0 ? -1 : deadline - vbus_mono_us () / 1000;
        if (timeout_ms >= 0 && left <= 0)
            return -VE_TIMEOUT;
        if (zmq_poll (&item, 1, (long) left) < 0 && errno != EINTR)
            return -VE_IO;
    }
    self->count = count > VBUS_MAX_FRAMES ? VBUS_MAX_FRAMES : count;
    if (count > VBUS_MAX_FRAMES || s_decode (self, ev) != 0) {
        self->malformed++;
        vbus_log ('W', "vbus", "subscriber: skipped a malformed event");
        return -VE_PROTO;
    }
    return 0;
}
