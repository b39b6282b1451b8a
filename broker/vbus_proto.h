//  vbus_proto.h — the wire protocol's frames and headers (docs/protocol.md), shared by the
//  broker and the client, worker, publisher and subscriber. Internal to broker/.
#ifndef VBUS_PROTO_H
#define VBUS_PROTO_H

#include "vbus.h"
#include "vbus_util.h"

//  Every message starts with a command: 'V' 'B' version command. A request or reply is ONE
//  frame — command, msgpack header (self-delimiting), body — that the broker passes on as it
//  came, prefixed by a routing frame; a round trip moves as many frames as a bare relay.
enum {
    VBUS_READY = 1,       //  worker → broker: [cmd service][ready]
    VBUS_REQUEST = 2,     //  client → broker: [cmd header body]
                          //  broker → worker: [cmd token][cmd header body]
    VBUS_REPLY = 3,       //  worker → broker: [cmd token][cmd reply-header body]
                          //  broker → client: [cmd reply-header body]
    VBUS_HEARTBEAT = 4,   //  both ways: [cmd]
    VBUS_DISCONNECT = 5,  //  both ways: [cmd] (broker → leaving worker: [cmd][{sent}])
};

#define VBUS_CMD_SIZE        4
#define VBUS_TOKEN_SIZE      8
#define VBUS_FLAG_IDEMPOTENT 0x1u
//  A token as the broker makes it (a worker only echoes it back): two uint32 in the broker's
//  byte order, [slot index | generation << VBUS_TOKEN_INDEX_BITS] [32 random bits]. Both the
//  generation and the random part are new for each delivery of the slot to a worker.
#define VBUS_TOKEN_INDEX_BITS 22

//  Fills the 4 command bytes.
void vbus__cmd (uint8_t out[4], int command);
//  Returns the command of a frame that starts with a command (its argument follows, len - 4
//  bytes), or -VE_PROTO (too short, wrong tag or version, unknown command).
int vbus__cmd_parse (const void *data, size_t len);

//  A request header (msgpack array, see docs/protocol.md). Strings point into the decoded
//  bytes (not NUL-terminated); decode never allocates.
typedef struct {
    uint64_t id;
    const char *service;
    uint32_t service_len;
    const char *method;
    uint32_t method_len;
    int64_t deadline_ms;
    const char *trace;
    uint32_t trace_len;
    const char *key;
    uint32_t key_len;  //  key NULL = unkeyed
    const char *user;
    uint32_t user_len;  //  user NULL = anonymous
    uint32_t roles;
    uint32_t flags;
    int64_t partition;  //  explicit partition, or -1 (route by key, or any)
} vbus__header_t;

//  Encodes a header into buf (at least VBUS_MAX_HEADER bytes); returns its size or -VE_TOOBIG.
int vbus__header_encode (const vbus__header_t *h, char *buf, size_t size);
//  Decodes the header at the start of data and checks its limits; *used = its size (the body
//  follows). Returns 0 or -VE_PROTO / -VE_TOOBIG / -VE_TRUNC / -VE_TYPE / -VE_RANGE.
int vbus__header_decode (vbus__header_t *h, const void *data, size_t len, size_t *used);

//  A reply header: [id, status, message].
int vbus__reply_encode (uint64_t id, int status, const char *msg, size_t msg_len, char *buf,
                        size_t size);
//  Decodes the reply header at the start of data; *used = its size (the body follows).
int vbus__reply_decode (const void *data, size_t len, uint64_t *id, int *status, const char **msg,
                        uint32_t *msg_len, size_t *used);

//  READY payload: [partitions, [owned...], credit, name, heartbeat_ms].
typedef struct {
    uint32_t partitions;
    const uint32_t *owned;
    size_t owned_count;  //  for encode
    uint32_t credit;
    const char *name;
    uint32_t name_len;
    uint32_t heartbeat_ms;
} vbus__ready_t;
int vbus__ready_encode (const vbus__ready_t *r, vbuf_t *out);
//  Decodes; owned partitions are written as a bitmap into bits (partitions bits, zeroed first);
//  *all set when the list is empty. Returns 0 or a negative code.
int vbus__ready_decode (const void *data, size_t len, vbus__ready_t *r, uint8_t *bits,
                        size_t bits_size, bool *all);

//  True when name is a valid service or method name: 1..max bytes of [a-z0-9_-].
bool vbus__name_ok (const char *name, size_t len, size_t max);

#include <zmq.h>

#define VBUS_MAX_FRAMES 6
//  Receives one whole multipart message into frames (at most max; more frames are read and
//  dropped, and the count returned is max + 1 so the caller refuses it). Returns the number of
//  frames, or -1 with errno (EAGAIN when nothing is waiting with ZMQ_DONTWAIT).
int vbus__recv (void *socket, zmq_msg_t *frames, int max, int flags);
void vbus__close (zmq_msg_t *frames, int count);
//  Sends count buffers as one multipart message (copies). Returns 0 or -1 with errno.
int vbus__sendv (void *socket, const void *const *data, const size_t *len, int count, int flags);
//  Makes one frame of up to 3 buffers (NULL/0 skipped). Returns 0 or -1 (out of memory).
int vbus__frame (zmq_msg_t *msg, const void *a, size_t a_len, const void *b, size_t b_len,
                 const void *c, size_t c_len);
//  Sends count prepared frames as one multipart message; they are consumed (closed) either
//  way. Returns 0 or -1 with errno (nothing was sent).
int vbus__send_frames (void *socket, zmq_msg_t *frames, int count, int flags);
#endif
