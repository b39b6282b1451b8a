//  test_broker_slots.c — the broker's request slots, seen from the wire. The test plays the
//  worker and the callers on raw ZeroMQ sockets, so it decides every byte a worker sends back:
//  a reply must reach a caller only when it answers that caller's request (its token, its
//  worker and its id), and a request whose deadline passed must never reach a worker.
//  Each test fails when the broker check it names is taken out (the token comparison, the
//  slot's state, the worker, the request id, the deadline at routing).
#include "vbus_proto.h"
#include "vit.h"
#include "vmsg.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define SERVICE "slots"
#define QUIET   300  //  ms a socket must stay silent to count as "nothing came"

typedef struct {
    vit_broker_t broker;
    void *ctx;
    void *sockets[8];  //  every raw socket, closed by the teardown (also after a failure)
    int nsockets;
    void *worker;         //  the raw worker: DEALER, READY sent
    vbus_client_t *tool;  //  reads broker.stats and broker.workers
    varena_t *arena;
} fixture_t;

//  A request as the raw worker received it.
typedef struct {
    uint8_t token[VBUS_TOKEN_SIZE];
    uint64_t id;
    char body[64];
} delivery_t;

//  A reply as a raw caller received it.
typedef struct {
    uint64_t id;
    int status;
    char message[128];
    char body[64];
} answer_t;

//  ---------------------------------------------------------------- raw sockets

static void *
s_dealer (fixture_t *f)
{
    assert_true (f->nsockets < 8);
    void *sock = zmq_socket (f->ctx, ZMQ_DEALER);
    assert_non_null (sock);
    f->sockets[f->nsockets++] = sock;
    int zero = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_connect (sock, f->broker.endpoint), 0);
    return sock;
}

//  Announces a worker of SERVICE with the given credit. Its heartbeat interval is long: the
//  test never heartbeats, and the broker must not think it dead within a test.
static void
s_ready (void *sock, const char *name, uint32_t credit)
{
    char storage[256];
    vbuf_t ready;
    vbuf_init (&ready, storage, sizeof storage);
    vbus__ready_t r = { .partitions = 1,
                        .credit = credit,
                        .name = name,
                        .name_len = (uint32_t) strlen (name),
                        .heartbeat_ms = 20000 };
    assert_int_equal (vbus__ready_encode (&r, &ready), 0);
    uint8_t cmd[VBUS_CMD_SIZE + sizeof SERVICE - 1];
    vbus__cmd (cmd, VBUS_READY);
    memcpy (cmd + VBUS_CMD_SIZE, SERVICE, sizeof SERVICE - 1);
    const void *data[2] = { cmd, ready.data };
    size_t len[2] = { sizeof cmd, ready.len };
    assert_int_equal (vbus__sendv (sock, data, len, 2, 0), 0);
    vbuf_free (&ready);
}

//  Receives the next message that is not a HEARTBEAT, waiting at most timeout_ms. Returns its
//  frame count (frames to close with vbus__close), or 0 when nothing came in time.
static int
s_recv (void *sock, zmq_msg_t *frames, int timeout_ms)
{
    int64_t until = vbus_mono_us () / 1000 + timeout_ms;
    for (;;) {
        int64_t left = until - vbus_mono_us () / 1000;
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long) left) <= 0)
            return 0;
        int count = vbus__recv (sock, frames, VBUS_MAX_FRAMES, ZMQ_DONTWAIT);
        if (count <= 0)
            continue;
        if (count <= VBUS_MAX_FRAMES
            && vbus__cmd_parse (zmq_msg_data (&frames[0]), zmq_msg_size (&frames[0]))
                   == VBUS_HEARTBEAT) {
            vbus__close (frames, count);
            continue;
        }
        return count;
    }
}

static void
s_text (char *out, size_t size, const char *data, size_t len)
{
    snprintf (out, size, "%.*s", (int) len, data);
}

//  A caller sends request id to SERVICE, due deadline_ms (epoch ms); the body is the raw bytes
//  of body (the broker never reads a body).
static void
s_call (void *client, uint64_t id, int64_t deadline_ms, const char *body)
{
    vbus__header_t h = { .id = id,
                         .service = SERVICE,
                         .service_len = sizeof SERVICE - 1,
                         .method = "echo",
                         .method_len = 4,
                         .deadline_ms = deadline_ms,
                         .trace = "slots",
                         .trace_len = 5,
                         .partition = -1 };
    char header[VBUS_MAX_HEADER];
    int hlen = vbus__header_encode (&h, header, sizeof header);
    assert_true (hlen > 0);
    uint8_t cmd[VBUS_CMD_SIZE];
    vbus__cmd (cmd, VBUS_REQUEST);
    zmq_msg_t frame;
    assert_int_equal (
        vbus__frame (&frame, cmd, sizeof cmd, header, (size_t) hlen, body, strlen (body)), 0);
    assert_int_equal (vbus__send_frames (client, &frame, 1, 0), 0);
}

//  The next request the raw worker gets: [cmd token][cmd header body]. Returns 0, or -1 when
//  none came within timeout_ms.
static int
s_deliver (void *worker, delivery_t *d, int timeout_ms)
{
    zmq_msg_t frames[VBUS_MAX_FRAMES];
    int count = s_recv (worker, frames, timeout_ms);
    if (count == 0)
        return -1;
    assert_int_equal (count, 2);
    const char *head = zmq_msg_data (&frames[0]);
    assert_int_equal (vbus__cmd_parse (head, zmq_msg_size (&frames[0])), VBUS_REQUEST);
    assert_int_equal (zmq_msg_size (&frames[0]), VBUS_CMD_SIZE + VBUS_TOKEN_SIZE);
    memcpy (d->token, head + VBUS_CMD_SIZE, VBUS_TOKEN_SIZE);
    const char *data = (const char *) zmq_msg_data (&frames[1]) + VBUS_CMD_SIZE;
    size_t size = zmq_msg_size (&frames[1]) - VBUS_CMD_SIZE, used;
    vbus__header_t h;
    assert_int_equal (vbus__header_decode (&h, data, size, &used), 0);
    d->id = h.id;
    s_text (d->body, sizeof d->body, data + used, size - used);
    vbus__close (frames, count);
    return 0;
}

//  The raw worker sends a reply: [cmd token][cmd [id, status, ""] body].
static void
s_reply (void *worker, const uint8_t *token, uint64_t id, const char *body)
{
    uint8_t cmd[VBUS_CMD_SIZE];
    vbus__cmd (cmd, VBUS_REPLY);
    char header[VBUS_MAX_HEADER];
    int hlen = vbus__reply_encode (id, VE_OK, "", 0, header, sizeof header);
    assert_true (hlen > 0);
    zmq_msg_t frames[2];
    assert_int_equal (vbus__frame (&frames[0], cmd, sizeof cmd, token, VBUS_TOKEN_SIZE, NULL, 0),
                      0);
    assert_int_equal (
        vbus__frame (&frames[1], cmd, sizeof cmd, header, (size_t) hlen, body, strlen (body)), 0);
    assert_int_equal (vbus__send_frames (worker, frames, 2, 0), 0);
}

//  The next reply a raw caller gets. Returns 0, or -1 when none came within timeout_ms.
static int
s_answer (void *client, answer_t *a, int timeout_ms)
{
    zmq_msg_t frames[VBUS_MAX_FRAMES];
    int count = s_recv (client, frames, timeout_ms);
    if (count == 0)
        return -1;
    assert_int_equal (count, 1);
    const char *data = zmq_msg_data (&frames[0]);
    size_t size = zmq_msg_size (&frames[0]), used;
    assert_int_equal (vbus__cmd_parse (data, size), VBUS_REPLY);
    const char *msg;
    uint32_t msg_len;
    assert_int_equal (vbus__reply_decode (data + VBUS_CMD_SIZE, size - VBUS_CMD_SIZE, &a->id,
                                          &a->status, &msg, &msg_len, &used),
                      0);
    s_text (a->message, sizeof a->message, msg, msg_len);
    s_text (a->body, sizeof a->body, data + VBUS_CMD_SIZE + used, size - VBUS_CMD_SIZE - used);
    vbus__close (frames, count);
    return 0;
}

//  Asserts the caller gets exactly one reply, id and body as given, and nothing after it.
static void
s_expect_only (void *client, uint64_t id, const char *body)
{
    answer_t a;
    assert_int_equal (s_answer (client, &a, 3000), 0);
    assert_int_equal (a.status, VE_OK);
    assert_string_equal (a.body, body);  //  first: it names whose reply leaked
    assert_int_equal (a.id, id);
    assert_int_equal (s_answer (client, &a, QUIET), -1);
}

//  The slot index and the random part of a token (layout in vbus_proto.h).
static uint32_t
s_token_index (const uint8_t *token)
{
    uint32_t word;
    memcpy (&word, token, sizeof word);
    return word & ((1u << VBUS_TOKEN_INDEX_BITS) - 1);
}

static uint32_t
s_token_random (const uint8_t *token)
{
    uint32_t word;
    memcpy (&word, token + 4, sizeof word);
    return word;
}

//  ---------------------------------------------------------------- the broker's view

static const vmsg_value_t *
s_broker_call (fixture_t *f, const char *method)
{
    vbus_caller_t tool = { "test", VBUS_ROLE_SERVICE };
    vbus_opts_t opts = { .caller = &tool };
    vbus_msg_t *reply = NULL;
    assert_int_equal (vbus_client_call (f->tool, "broker", method, NULL, 0, &opts, &reply), 0);
    assert_int_equal (reply->status, VE_OK);
    const vmsg_value_t *v = NULL;
    char err[200] = "";
    if (vmsg_decode (vmsg_method_find ("broker", method)->reply, reply->body, reply->body_len,
                     f->arena, &v, err, sizeof err))
        fail_msg ("broker.%s reply: %s", method, err);
    vbus_msg_destroy (&reply);
    return v;
}

//  Waits until the broker counted at least n refused messages (drops + malformed): what a
//  worker sent has then been judged, since one connection's messages are read in order.
static uint64_t
s_wait_refused (fixture_t *f, uint64_t n)
{
    uint64_t refused = 0;
    for (int waited = 0; waited <= 3000; waited += 20) {
        const vmsg_value_t *v = s_broker_call (f, "stats");
        refused = vmsg_uint (v, "drops", 0) + vmsg_uint (v, "malformed", 0);
        varena_reset (f->arena);
        if (refused >= n)
            break;
        zmq_poll (NULL, 0, 20);
    }
    return refused;
}

//  Asserts what the broker says of the worker named name: requests in flight and handled.
static void
s_expect_worker (fixture_t *f, const char *name, uint64_t in_flight, uint64_t handled)
{
    const vmsg_value_t *list = vmsg_get (s_broker_call (f, "workers"), "workers");
    bool found = false;
    for (uint32_t i = 0; i < vmsg_count (list); i++) {
        const vmsg_value_t *w = vmsg_at (list, i);
        if (strcmp (vmsg_str (w, "name"), name) != 0)
            continue;
        found = true;
        assert_int_equal (vmsg_uint (w, "in_flight", 0), in_flight);
        assert_int_equal (vmsg_uint (w, "handled", 0), handled);
    }
    assert_true (found);
    varena_reset (f->arena);
}

//  ---------------------------------------------------------------- fixture

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < f->nsockets; i++)
        zmq_close (f->sockets[i]);
    vbus_client_destroy (&f->tool);
    varena_destroy (&f->arena);
    int rc = vit_stop (f->broker.pid, SIGTERM, 5000);
    zmq_ctx_term (f->ctx);
    free (f);
    assert_int_equal (rc, 0);  //  a clean exit on SIGTERM
    return 0;
}

//  A broker with a small slot pool (16: a flipped index bit points past it or at a free
//  slot) and one raw worker "raw" with credit 4.
static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    const char *args[] = { "--max-requests", "16", NULL };
    if (!f || vit_broker_start (&f->broker, 0, args) != 0) {
        free (f);
        return -1;
    }
    f->ctx = zmq_ctx_new ();
    f->tool = vbus_client_new (f->broker.endpoint, 2000);
    f->arena = varena_new (0);
    f->worker = s_dealer (f);
    s_ready (f->worker, "raw", 4);
    *state = f;
    if (vit_wait_workers (&f->broker, SERVICE, 1, 5000) != 0) {
        s_teardown (state);
        return -1;
    }
    return 0;
}

static int64_t
s_in (int ms)
{
    return vbus_now_ms () + ms;
}

//  ---------------------------------------------------------------- tests

//  A reply that comes late (after the caller's timeout), again (a duplicate) and once more
//  after the slot went to the next request: the broker drops all three, and the next caller
//  of that slot gets its own reply only, though both callers used the same request id (ids
//  are unique per connection only). Red without the token comparison (the next caller gets
//  "A") or without the slot-state check (the duplicate is handled as a reply to a free slot).
static void
test_late_and_duplicate_replies_never_reach_the_next_caller (void **state)
{
    fixture_t *f = *state;
    void *first = s_dealer (f), *second = s_dealer (f);
    delivery_t a, b;
    answer_t answer;

    s_call (first, 7, s_in (300), "request A");
    assert_int_equal (s_deliver (f->worker, &a, 3000), 0);
    assert_int_equal (a.id, 7);
    assert_int_equal (s_answer (first, &answer, 3000), 0);  //  the broker's timeout
    assert_int_equal (answer.status, VE_TIMEOUT);
    assert_string_equal (answer.message, "deadline passed at the worker");

    s_reply (f->worker, a.token, 7, "A");  //  late: the slot is freed, the credit returns
    s_reply (f->worker, a.token, 7, "A");  //  duplicate: the slot is free
    assert_int_equal (s_wait_refused (f, 2), 2);
    s_expect_worker (f, "raw", 0, 1);

    s_call (second, 7, s_in (5000), "request B");
    assert_int_equal (s_deliver (f->worker, &b, 3000), 0);
    assert_string_equal (b.body, "request B");
    //  The test means something only when B took A's slot (the free list is LIFO).
    assert_int_equal (s_token_index (b.token), s_token_index (a.token));
    assert_memory_not_equal (b.token, a.token, VBUS_TOKEN_SIZE);

    s_reply (f->worker, a.token, 7, "A");  //  stale: the slot now holds B
    uint64_t refused = s_wait_refused (f, 3);
    s_reply (f->worker, b.token, 7, "B");
    s_expect_only (second, 7, "B");
    assert_int_equal (s_answer (first, &answer, QUIET), -1);
    assert_int_equal (refused, 3);
    s_expect_worker (f, "raw", 0, 2);
}

//  A reply with the right token and another request's id is dropped; the slot keeps waiting
//  and the right reply still gets through. Red without the id comparison.
static void
test_reply_with_another_id_is_dropped (void **state)
{
    fixture_t *f = *state;
    void *client = s_dealer (f);
    delivery_t d;
    s_call (client, 7, s_in (5000), "ask");
    assert_int_equal (s_deliver (f->worker, &d, 3000), 0);
    s_reply (f->worker, d.token, 8, "wrong id");
    uint64_t refused = s_wait_refused (f, 1);
    s_reply (f->worker, d.token, 7, "right id");
    s_expect_only (client, 7, "right id");
    assert_int_equal (refused, 1);
    s_expect_worker (f, "raw", 0, 1);
}

//  Every token one bit away from the one given is refused: the index bits point at another
//  (free) slot or past the pool, and the generation and every one of the 32 random bits are
//  compared. Then the real token works. Red without the token comparison. And the random part
//  is drawn anew for each delivery: eight deliveries of one slot show eight values, and not
//  a counter's.
static void
test_forged_tokens_are_dropped (void **state)
{
    fixture_t *f = *state;
    void *client = s_dealer (f);
    delivery_t d;
    s_call (client, 7, s_in (5000), "ask");
    assert_int_equal (s_deliver (f->worker, &d, 3000), 0);
    for (int bit = 0; bit < 8 * VBUS_TOKEN_SIZE; bit++) {
        uint8_t forged[VBUS_TOKEN_SIZE];
        memcpy (forged, d.token, sizeof forged);
        forged[bit / 8] ^= (uint8_t) (1u << bit % 8);
        s_reply (f->worker, forged, 7, "forged");
    }
    uint64_t refused = s_wait_refused (f, 64);
    s_reply (f->worker, d.token, 7, "real");
    s_expect_only (client, 7, "real");
    assert_int_equal (refused, 64);

    uint32_t seen[8];
    seen[0] = s_token_random (d.token);
    for (int i = 1; i < 8; i++) {
        s_call (client, (uint64_t) i, s_in (5000), "again");
        assert_int_equal (s_deliver (f->worker, &d, 3000), 0);
        seen[i] = s_token_random (d.token);
        for (int j = 0; j < i; j++)
            assert_int_not_equal (seen[i], seen[j]);
        s_reply (f->worker, d.token, (uint64_t) i, "again");
        s_expect_only (client, (uint64_t) i, "again");
    }
    bool counter = true;  //  a counter or any fixed stride is no random part
    for (int i = 2; i < 8; i++)
        counter = counter && seen[i] - seen[i - 1] == seen[1] - seen[0];
    assert_false (counter);
}

//  A worker cannot answer a request given to another worker, even with its token. Red without
//  the worker comparison.
static void
test_reply_from_another_worker_is_dropped (void **state)
{
    fixture_t *f = *state;
    void *other = s_dealer (f);
    s_ready (other, "other", 4);
    assert_int_equal (vit_wait_workers (&f->broker, SERVICE, 2, 5000), 0);
    void *client = s_dealer (f);
    s_call (client, 7, s_in (5000), "ask");
    delivery_t d;
    void *holder = f->worker, *stranger = other;
    if (s_deliver (f->worker, &d, 1000) != 0) {
        holder = other;
        stranger = f->worker;
        assert_int_equal (s_deliver (other, &d, 3000), 0);
    }
    s_reply (stranger, d.token, 7, "stranger");
    uint64_t refused = s_wait_refused (f, 1);
    s_reply (holder, d.token, 7, "holder");
    s_expect_only (client, 7, "holder");
    assert_int_equal (refused, 1);
}

//  A request whose deadline already passed is answered at once, by the routing check, and is
//  never given to a worker (which has credit and takes the next request at once). The expiry
//  timer would also answer it in time, but only after giving it to the worker, and with
//  another message: red without the routing check, both ways.
static void
test_request_past_its_deadline_never_reaches_a_worker (void **state)
{
    fixture_t *f = *state;
    void *client = s_dealer (f);
    s_call (client, 7, vbus_now_ms () - 1000, "too late");
    answer_t a;
    assert_int_equal (s_answer (client, &a, 3000), 0);
    assert_int_equal (a.id, 7);
    assert_int_equal (a.status, VE_TIMEOUT);
    assert_string_equal (a.message, "deadline passed before routing");
    delivery_t d;
    assert_int_equal (s_deliver (f->worker, &d, QUIET), -1);
    s_expect_worker (f, "raw", 0, 0);

    s_call (client, 8, s_in (5000), "in time");
    assert_int_equal (s_deliver (f->worker, &d, 3000), 0);
    assert_int_equal (d.id, 8);
    s_reply (f->worker, d.token, 8, "done");
    s_expect_only (client, 8, "done");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_late_and_duplicate_replies_never_reach_the_next_caller, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reply_with_another_id_is_dropped, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_forged_tokens_are_dropped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reply_from_another_worker_is_dropped, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_request_past_its_deadline_never_reaches_a_worker,
                                         s_setup, s_teardown),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("broker slots", tests, NULL, NULL);
}
