//  test_bus.c — integration tests of the bus with real processes: a broker and echo workers on
//  loopback ports chosen at run time. Every wait has a deadline; every process is stopped.
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
#include <unistd.h>
#include <uv.h>
#include <zmq.h>

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    varena_t *arena;
    pid_t workers[4];
    char ipc_dir[64];  //  the unix sockets' folder, when the broker is on ipc
} fixture_t;

static int
s_setup_with (void **state, const char *const *broker_args)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (vit_broker_start (&f->broker, 0, broker_args) != 0) {
        free (f);
        return -1;
    }
    f->client = vbus_client_new (f->broker.endpoint, 3000);
    f->arena = varena_new (0);
    *state = f;
    return 0;
}

static int
s_setup (void **state)
{
    return s_setup_with (state, NULL);
}

//  The broker on unix sockets (ipc://<tmp>/bus, -1, -2) instead of loopback TCP.
static int
s_setup_ipc (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (vit_tmpdir ("vitrine-bus-ipc", f->ipc_dir, sizeof f->ipc_dir) != 0
        || vit_broker_start_ipc (&f->broker, f->ipc_dir, NULL) != 0) {
        free (f);
        return -1;
    }
    f->client = vbus_client_new (f->broker.endpoint, 3000);
    f->arena = varena_new (0);
    *state = f;
    return 0;
}

static int
s_setup_small_queue (void **state)
{
    const char *args[] = { "--queue", "4", NULL };
    return s_setup_with (state, args);
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 4; i++)
        if (f->workers[i] > 0)
            vit_stop (f->workers[i], SIGKILL, 2000);
    vbus_client_destroy (&f->client);
    assert_int_equal (vit_stop (f->broker.pid, SIGTERM, 5000), 0);  //  clean exit on SIGTERM
    if (f->ipc_dir[0])
        vit_rmtree (f->ipc_dir);
    varena_destroy (&f->arena);
    free (f);
    return 0;
}

//  Packs {"text": text, "delay_ms": delay} into buf.
static void
s_echo_body (vbuf_t *buf, const char *text, unsigned delay)
{
    msgpack_packer pk;
    vmp_packer_init (&pk, buf);
    msgpack_pack_map (&pk, delay ? 2 : 1);
    vmp_pack_cstr (&pk, "text");
    vmp_pack_cstr (&pk, text);
    if (delay) {
        vmp_pack_cstr (&pk, "delay_ms");
        msgpack_pack_uint32 (&pk, delay);
    }
}

//  Calls echo.echo; returns the reply (caller destroys).
static vbus_msg_t *
s_echo (fixture_t *f, const char *text, unsigned delay, const vbus_opts_t *opts)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    s_echo_body (&body, text, delay);
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, "echo", "echo", body.data, body.len, opts, &reply), 0);
    vbuf_free (&body);
    return reply;
}

static const vmsg_value_t *
s_decode_reply (fixture_t *f, const char *service, const char *method, const vbus_msg_t *reply)
{
    const vmsg_method_t *m = vmsg_method_find (service, method);
    assert_non_null (m);
    const vmsg_value_t *v = NULL;
    char err[200] = "";
    int rc = vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, &v, err, sizeof err);
    if (rc)
        fail_msg ("%s.%s reply does not match its schema: %s", service, method, err);
    return v;
}

static void
s_start_echo (fixture_t *f, int i, const char *name, const char *const *extra)
{
    f->workers[i] = vit_echo_start (&f->broker, name, extra);
    assert_true (f->workers[i] > 0);
}

//  ---------------------------------------------------------------- tests

static void
test_call_reply (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    vbus_msg_t *reply = s_echo (f, "hello, vitrine", 0, NULL);
    assert_int_equal (reply->status, VE_OK);
    const vmsg_value_t *v = s_decode_reply (f, "echo", "echo", reply);
    assert_string_equal (vmsg_str (v, "text"), "hello, vitrine");
    assert_string_equal (vmsg_str (v, "worker"), "w0");
    vbus_msg_destroy (&reply);

    //  Errors keep their status and message end to end.
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, "{\"status\":\"conflict\",\"message\":\"taken\"}",
                                            39, &body, NULL, 0),
                      0);
    assert_int_equal (
        vbus_client_call (f->client, "echo", "fail", body.data, body.len, NULL, &reply), 0);
    assert_int_equal (reply->status, VE_CONFLICT);
    assert_string_equal (reply->message, "taken");
    vbus_msg_destroy (&reply);
    vbuf_free (&body);

    //  A body that breaks the schema is a bad request naming the field.
    reply = NULL;
    assert_int_equal (vbus_client_call (f->client, "echo", "echo", "\x80", 1, NULL, &reply), 0);
    assert_int_equal (reply->status, VE_BAD_REQUEST);
    assert_non_null (strstr (reply->message, "text"));
    vbus_msg_destroy (&reply);

    //  A body the broker could not take is refused before it leaves.
    char *huge = calloc (1, VBUS_MAX_BODY + 1);
    assert_int_equal (
        vbus_client_call (f->client, "echo", "echo", huge, VBUS_MAX_BODY + 1, NULL, &reply),
        -VE_TOOBIG);
    free (huge);

    //  Unknown method of a known service.
    assert_int_equal (vbus_client_call (f->client, "echo", "nope", NULL, 0, NULL, &reply), 0);
    assert_int_equal (reply->status, VE_NOT_FOUND);
    vbus_msg_destroy (&reply);
}

static void
test_identity_and_trace_pass_through (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    vbus_caller_t who = { "u-42", VBUS_ROLE_CUSTOMER | VBUS_ROLE_ADMIN };
    vbus_opts_t opts = { .caller = &who, .trace_id = "trace-abc", .key = "cart-7" };
    vbus_msg_t *reply = NULL;
    assert_int_equal (vbus_client_call (f->client, "echo", "whoami", NULL, 0, &opts, &reply), 0);
    assert_int_equal (reply->status, VE_OK);
    const vmsg_value_t *v = s_decode_reply (f, "echo", "whoami", reply);
    assert_string_equal (vmsg_str (v, "user_id"), "u-42");
    assert_int_equal (vmsg_uint (v, "roles", 0), VBUS_ROLE_CUSTOMER | VBUS_ROLE_ADMIN);
    assert_string_equal (vmsg_str (v, "trace_id"), "trace-abc");
    assert_string_equal (vmsg_str (v, "key"), "cart-7");
    vbus_msg_destroy (&reply);
}

typedef struct {
    int answered;
    int ok;
    int status_count[VE_LAST_STATUS + 1];
} tally_t;

static void
s_tally (const vbus_reply_t *reply, void *arg)
{
    tally_t *t = arg;
    t->answered++;
    t->status_count[reply->status]++;
    if (reply->status == VE_OK)
        t->ok++;
}

static void
s_wait_tally (vbus_client_t *client, tally_t *t, int want, int timeout_ms)
{
    for (int waited = 0; t->answered < want && waited < timeout_ms; waited += 50)
        vbus_client_poll (client, 50);
}

static void
test_thousand_concurrent_async_calls (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    s_start_echo (f, 1, "w1", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 2, 5000), 0);
    tally_t t = { 0 };
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    s_echo_body (&body, "x", 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal (vbus_client_send (f->client, "echo", "echo", body.data, body.len, NULL,
                                            s_tally, &t, NULL),
                          0);
    assert_int_equal (vbus_client_pending (f->client), 1000);
    s_wait_tally (f->client, &t, 1000, 10000);
    assert_int_equal (t.answered, 1000);
    assert_int_equal (t.ok, 1000);
    assert_int_equal (vbus_client_pending (f->client), 0);
    vbuf_free (&body);
}

//  The client inside a libuv loop, as the HTTP edge runs it: the socket's fd in a uv_poll,
//  the next local deadline in a uv_timer, dispatch after every wake-up and every send.
typedef struct {
    uv_poll_t poll;
    uv_timer_t timer;
    uv_timer_t guard;
    vbus_client_t *client;
    tally_t tally;
    int want;
    int wakeups;
} uv_fixture_t;

static void s_uv_kick (uv_fixture_t *u);

static void
s_uv_on_poll (uv_poll_t *handle, int status, int events)
{
    (void) status;
    (void) events;
    uv_fixture_t *u = handle->data;
    u->wakeups++;
    s_uv_kick (u);
}

static void
s_uv_on_timer (uv_timer_t *handle)
{
    s_uv_kick (handle->data);
}

static void
s_uv_stop (uv_fixture_t *u)
{
    uv_poll_stop (&u->poll);
    uv_timer_stop (&u->timer);
    uv_timer_stop (&u->guard);
    uv_close ((uv_handle_t *) &u->poll, NULL);
    uv_close ((uv_handle_t *) &u->timer, NULL);
    uv_close ((uv_handle_t *) &u->guard, NULL);
}

static void
s_uv_on_guard (uv_timer_t *handle)
{
    s_uv_stop (handle->data);  //  the test's own deadline: the assertions then fail
}

static void
s_uv_kick (uv_fixture_t *u)
{
    vbus_client_dispatch (u->client);
    if (u->tally.answered >= u->want) {
        s_uv_stop (u);
        return;
    }
    int next = vbus_client_next_timeout (u->client);
    uv_timer_start (&u->timer, s_uv_on_timer, next < 0 ? 1000 : (uint64_t) next, 0);
}

static void
test_client_in_libuv_loop (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    uv_loop_t loop;
    uv_loop_init (&loop);
    uv_fixture_t u = { .client = f->client, .want = 300 };
    u.poll.data = u.timer.data = u.guard.data = &u;
    uv_poll_init (&loop, &u.poll, vbus_client_fd (f->client));
    uv_timer_init (&loop, &u.timer);
    uv_timer_init (&loop, &u.guard);
    uv_poll_start (&u.poll, UV_READABLE, s_uv_on_poll);
    uv_timer_start (&u.guard, s_uv_on_guard, 10000, 0);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    s_echo_body (&body, "in a loop", 0);
    for (int i = 0; i < u.want; i++)
        assert_int_equal (vbus_client_send (f->client, "echo", "echo", body.data, body.len, NULL,
                                            s_tally, &u.tally, NULL),
                          0);
    s_uv_kick (&u);
    uv_run (&loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&loop), 0);
    assert_int_equal (u.tally.answered, u.want);
    assert_int_equal (u.tally.ok, u.want);
    assert_true (u.wakeups > 0);  //  woken by the fd, not only by timers
    vbuf_free (&body);
}

static void
test_deadline_expiry_is_timeout (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    vbus_opts_t opts = { .timeout_ms = 200 };
    vbus_msg_t *reply = s_echo (f, "slow", 1000, &opts);
    assert_int_equal (reply->status, VE_TIMEOUT);
    assert_non_null (strstr (reply->message, "deadline"));  //  the broker's answer, not ours
    vbus_msg_destroy (&reply);
    //  The worker's late reply is dropped, its credit comes back: the next call works.
    reply = s_echo (f, "after", 0, NULL);
    assert_int_equal (reply->status, VE_OK);
    vbus_msg_destroy (&reply);
}

static void
test_unknown_service (void **state)
{
    fixture_t *f = *state;
    vbus_msg_t *reply = NULL;
    assert_int_equal (vbus_client_call (f->client, "nosuch", "thing", NULL, 0, NULL, &reply), 0);
    assert_int_equal (reply->status, VE_UNAVAILABLE);
    assert_non_null (strstr (reply->message, "unknown service 'nosuch'"));
    vbus_msg_destroy (&reply);
    //  Bad names never reach a worker.
    assert_int_equal (vbus_client_call (f->client, "Bad Name", "x", NULL, 0, NULL, &reply),
                      -VE_INVAL);
}

static void
test_no_worker_within_deadline (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    assert_int_equal (vit_stop (f->workers[0], SIGTERM, 5000), 0);  //  drains, exits 0
    f->workers[0] = 0;
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 0, 5000), 0);
    vbus_opts_t opts = { .timeout_ms = 300 };
    vbus_msg_t *reply = s_echo (f, "anyone?", 0, &opts);
    assert_int_equal (reply->status, VE_UNAVAILABLE);
    assert_non_null (strstr (reply->message, "no worker"));
    vbus_msg_destroy (&reply);
}

static void
test_kill9_busy_worker_answers_unavailable (void **state)
{
    fixture_t *f = *state;
    const char *hb[] = { "--heartbeat", "300", NULL };
    s_start_echo (f, 0, "w0", hb);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    tally_t t = { 0 };
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    s_echo_body (&body, "doomed", 5000);
    vbus_opts_t opts = { .timeout_ms = 20000 };
    for (int i = 0; i < 3; i++)
        vbus_client_send (f->client, "echo", "echo", body.data, body.len, &opts, s_tally, &t, NULL);
    vbus_client_poll (f->client, 300);  //  let the requests reach the worker
    assert_int_equal (vit_stop (f->workers[0], SIGKILL, 2000), 128 + SIGKILL);
    f->workers[0] = 0;
    //  Heartbeat window: 3 × 300 ms; answered well before the 20 s deadline.
    s_wait_tally (f->client, &t, 3, 3000);
    assert_int_equal (t.answered, 3);
    assert_int_equal (t.status_count[VE_UNAVAILABLE], 3);
    vbuf_free (&body);
}

static void
test_idempotent_request_retried_on_another_worker (void **state)
{
    fixture_t *f = *state;
    //  Handlers block the worker's heartbeats: keep the delay inside the 3 s window.
    const char *hb[] = { "--heartbeat", "1000", "--credit", "1", NULL };
    s_start_echo (f, 0, "w0", hb);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    tally_t t = { 0 };
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    s_echo_body (&body, "again", 1500);
    vbus_opts_t opts = { .timeout_ms = 15000, .idempotent = true };
    vbus_client_send (f->client, "echo", "echo", body.data, body.len, &opts, s_tally, &t, NULL);
    vbus_client_poll (f->client, 300);
    s_start_echo (f, 1, "w1", hb);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 2, 5000), 0);
    vit_stop (f->workers[0], SIGKILL, 2000);
    f->workers[0] = 0;
    s_wait_tally (f->client, &t, 1, 8000);
    assert_int_equal (t.answered, 1);
    assert_int_equal (t.ok, 1);  //  w1 answered it
    vbuf_free (&body);
}

static void
test_worker_reconnects_after_broker_restart (void **state)
{
    fixture_t *f = *state;
    const char *hb[] = { "--heartbeat", "200", NULL };
    s_start_echo (f, 0, "w0", hb);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    assert_int_equal (vit_stop (f->broker.pid, SIGKILL, 2000), 128 + SIGKILL);
    assert_int_equal (vit_broker_start (&f->broker, f->broker.port, NULL), 0);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 10000), 0);
    vbus_msg_t *reply = s_echo (f, "back", 0, NULL);
    assert_int_equal (reply->status, VE_OK);
    vbus_msg_destroy (&reply);
}

static void
test_keyed_routing_same_key_same_worker (void **state)
{
    fixture_t *f = *state;
    const char *a[] = { "--partitions", "4", "--owns", "0,1", NULL };
    const char *b[] = { "--partitions", "4", "--owns", "2,3", NULL };
    s_start_echo (f, 0, "wa", a);
    s_start_echo (f, 1, "wb", b);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 2, 5000), 0);
    int seen_a = 0, seen_b = 0;
    for (int k = 0; k < 40; k++) {
        char key[32];
        snprintf (key, sizeof key, "user-%d", k);
        uint32_t p = vbus_partition (key, strlen (key), 4);
        const char *owner = p < 2 ? "wa" : "wb";
        for (int rep = 0; rep < 3; rep++) {
            vbus_opts_t opts = { .key = key };
            vbus_msg_t *reply = s_echo (f, key, 0, &opts);
            assert_int_equal (reply->status, VE_OK);
            const vmsg_value_t *v = s_decode_reply (f, "echo", "echo", reply);
            assert_string_equal (vmsg_str (v, "worker"), owner);
            vbus_msg_destroy (&reply);
            varena_reset (f->arena);
        }
        seen_a += p < 2;
        seen_b += p >= 2;
    }
    assert_true (seen_a > 0 && seen_b > 0);
    //  Explicit partitions (replay and other per-partition requests) bypass the key.
    for (uint32_t p = 0; p < 4; p++) {
        vbus_opts_t opts = { .to_partition = true, .partition = p };
        vbus_msg_t *reply = NULL;
        assert_int_equal (vbus_client_call (f->client, "echo", "whoami", NULL, 0, &opts, &reply),
                          0);
        assert_int_equal (reply->status, VE_OK);
        const vmsg_value_t *v = s_decode_reply (f, "echo", "whoami", reply);
        assert_int_equal (vmsg_uint (v, "partition", 99), p);
        vbus_msg_destroy (&reply);
        varena_reset (f->arena);
    }
    vbus_opts_t beyond = { .to_partition = true, .partition = 4 };
    vbus_msg_t *reply = NULL;
    assert_int_equal (vbus_client_call (f->client, "echo", "whoami", NULL, 0, &beyond, &reply), 0);
    assert_int_equal (reply->status, VE_BAD_REQUEST);
    vbus_msg_destroy (&reply);
}

static void
test_queue_full_is_busy (void **state)
{
    fixture_t *f = *state;
    const char *one[] = { "--credit", "1", NULL };
    s_start_echo (f, 0, "w0", one);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    tally_t t = { 0 };
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    s_echo_body (&body, "q", 300);
    for (int i = 0; i < 10; i++)
        vbus_client_send (f->client, "echo", "echo", body.data, body.len, NULL, s_tally, &t, NULL);
    s_wait_tally (f->client, &t, 10, 10000);
    assert_int_equal (t.answered, 10);
    //  1 in flight + 4 queued are served; the other 5 are refused at once.
    assert_int_equal (t.status_count[VE_BUSY], 5);
    assert_int_equal (t.ok, 5);
    vbuf_free (&body);
}

//  The bus on unix sockets: a call through the broker to a worker and back, and an event from
//  a publisher to a subscriber (the -1 and -2 endpoints), as on TCP.
static void
test_ipc_transport (void **state)
{
    fixture_t *f = *state;
    assert_non_null (strstr (f->broker.endpoint, "ipc://"));
    assert_non_null (strstr (f->broker.sub, "/bus-2"));
    s_start_echo (f, 0, "w-ipc", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    vbus_msg_t *reply = s_echo (f, "over a unix socket", 0, NULL);
    assert_int_equal (reply->status, VE_OK);
    assert_string_equal (vmsg_str (s_decode_reply (f, "echo", "echo", reply), "text"),
                         "over a unix socket");
    vbus_msg_destroy (&reply);
    const char *prefixes[] = { "orders.", NULL };
    vbus_sub_t *sub = vbus_sub_new (f->broker.sub, prefixes);
    vbus_pub_t *pub = vbus_pub_new (f->broker.pub);
    vbus_event_t ev;
    int got = 0;
    for (uint64_t i = 1; i <= 100 && !got; i++) {
        vbus_pub_send (pub, "orders.probe", "probe/0", i, "\x80", 1);
        got = vbus_sub_recv (sub, &ev, 50) == 0;
    }
    assert_true (got);
    assert_string_equal (ev.topic, "orders.probe");
    vbus_pub_destroy (&pub);
    vbus_sub_destroy (&sub);
}

static void
test_events_in_order_without_gaps (void **state)
{
    fixture_t *f = *state;
    const char *prefixes[] = { "orders.", NULL };
    vbus_sub_t *sub = vbus_sub_new (f->broker.sub, prefixes);
    vbus_pub_t *pub = vbus_pub_new (f->broker.pub);
    assert_non_null (sub);
    assert_non_null (pub);
    //  Subscriptions travel to the publisher asynchronously: probe until one arrives.
    vbus_event_t ev;
    int got_probe = 0;
    for (int i = 0; i < 100 && !got_probe; i++) {
        vbus_pub_send (pub, "orders.probe", "probe/0", 0, "\x80", 1);
        got_probe = vbus_sub_recv (sub, &ev, 50) == 0;
    }
    assert_true (got_probe);
    while (vbus_sub_recv (sub, &ev, 100) == 0)
        ;
    for (uint64_t seq = 1; seq <= 2000; seq++) {
        assert_int_equal (
            vbus_pub_send (pub, "orders.created", "orders/3", seq, "\x81\xa1n\x01", 4), 0);
        if (seq % 10 == 0)
            vbus_pub_send (pub, "inventory.changed", "inventory/0", seq / 10, "\x80",
                           1);  //  not subscribed
    }
    uint64_t expect = 1;
    while (expect <= 2000) {
        int rc = vbus_sub_recv (sub, &ev, 5000);
        if (rc != 0 || ev.seq != expect) {
            vbus_caller_t tool = { "test", VBUS_ROLE_SERVICE };
            vbus_opts_t opts = { .caller = &tool };
            vbus_msg_t *reply = NULL;
            vbus_client_call (f->client, "broker", "stats", NULL, 0, &opts, &reply);
            const vmsg_value_t *v = s_decode_reply (f, "broker", "stats", reply);
            fail_msg ("rc %d: expected seq %llu, got %llu (gap_from %llu); broker: events in "
                      "%llu, out %llu, dropped %llu",
                      rc, (unsigned long long) expect, (unsigned long long) ev.seq,
                      (unsigned long long) ev.gap_from,
                      (unsigned long long) vmsg_uint (v, "events_in", 0),
                      (unsigned long long) vmsg_uint (v, "events_out", 0),
                      (unsigned long long) vmsg_uint (v, "events_dropped", 0));
        }
        assert_string_equal (ev.topic, "orders.created");
        assert_string_equal (ev.stream, "orders/3");
        assert_int_equal (ev.seq, expect);
        assert_int_equal (ev.prev, expect - 1);  //  the stream's previous orders.created
        assert_int_equal (ev.gap_from, 0);
        assert_false (ev.duplicate);
        expect++;
    }
    //  A gap is reported with where it starts.
    vbus_pub_send (pub, "orders.created", "orders/3", 2005, "\x80", 1);
    assert_int_equal (vbus_sub_recv (sub, &ev, 5000), 0);
    assert_int_equal (ev.seq, 2005);
    assert_int_equal (ev.gap_from, 2001);
    assert_int_equal (ev.prev, 2000);
    //  prev names the same topic's previous event, past the stream's others; a prev that is
    //  not before the event is refused.
    vbus_pub_send (pub, "orders.paid", "orders/3", 2006, "\x80", 1);
    vbus_pub_send (pub, "orders.created", "orders/3", 2007, "\x80", 1);
    assert_int_equal (vbus_sub_recv (sub, &ev, 5000), 0);
    assert_string_equal (ev.topic, "orders.paid");
    assert_int_equal (ev.prev, 0);  //  its first: not known
    assert_int_equal (vbus_sub_recv (sub, &ev, 5000), 0);
    assert_int_equal (ev.seq, 2007);
    assert_int_equal (ev.prev, 2005);
    assert_int_equal (vbus_pub_send_after (pub, "orders.created", "orders/3", 2008, 2008, "\x80", 1),
                      -VE_INVAL);
    //  And from a publisher that sends it anyway, the subscriber skips the event as malformed.
    void *ctx = zmq_ctx_new ();
    void *raw = zmq_socket (ctx, ZMQ_PUB);
    int zero = 0;
    zmq_setsockopt (raw, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_connect (raw, f->broker.pub), 0);
    //  meta [stream "r/0", seq, time 0, prev]: fixints
    unsigned char meta[] = { 0x94, 0xa3, 'r', '/', '0', 0, 0x00, 0 };
    int got_raw = 0;
    for (int i = 1; i < 100 && !got_raw; i++) {
        meta[5] = (unsigned char) i, meta[7] = 0;
        zmq_send (raw, "orders.raw", 10, ZMQ_SNDMORE);
        zmq_send (raw, meta, sizeof meta, ZMQ_SNDMORE);
        zmq_send (raw, "\x80", 1, 0);
        got_raw = vbus_sub_recv (sub, &ev, 50) == 0;
    }
    assert_true (got_raw);
    while (vbus_sub_recv (sub, &ev, 100) == 0)
        ;  //  a probe that came late
    meta[5] = 120, meta[7] = 120;  //  prev not before seq
    zmq_send (raw, "orders.raw", 10, ZMQ_SNDMORE);
    zmq_send (raw, meta, sizeof meta, ZMQ_SNDMORE);
    zmq_send (raw, "\x80", 1, 0);
    meta[5] = 121, meta[7] = 0;
    zmq_send (raw, "orders.raw", 10, ZMQ_SNDMORE);
    zmq_send (raw, meta, sizeof meta, ZMQ_SNDMORE);
    zmq_send (raw, "\x80", 1, 0);
    assert_int_equal (vbus_sub_recv (sub, &ev, 5000), -VE_PROTO);
    assert_int_equal (vbus_sub_recv (sub, &ev, 5000), 0);
    assert_int_equal (ev.seq, 121);
    zmq_close (raw);
    zmq_ctx_term (ctx);
    vbus_pub_destroy (&pub);
    vbus_sub_destroy (&sub);
}

static void
test_garbage_frames_do_not_disturb (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    void *ctx = zmq_ctx_new ();
    void *rogue = zmq_socket (ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt (rogue, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_connect (rogue, f->broker.endpoint), 0);
    //  A request whose header is 40 nested arrays deep.
    char deep[45] = "VB\x01\x02";
    memset (deep + 4, 0x91, 40);
    deep[44] = 0x01;
    for (int round = 0; round < 50; round++) {
        zmq_send (rogue, "garbage", 7, 0);             //  no tag
        zmq_send (rogue, "VB\x09\x02\x80", 5, 0);      //  wrong version
        zmq_send (rogue, "VB\x01\x02\xc1\xc1", 6, 0);  //  bad header msgpack
        zmq_send (rogue, deep, sizeof deep, 0);        //  too deep
        zmq_send (rogue,
                  "VB\x01\x01"
                  "echo",
                  8, ZMQ_SNDMORE);  //  READY, bad payload
        zmq_send (rogue, "\x95\x00\x90\x00\xa0\x00", 6, 0);
        zmq_send (rogue,
                  "VB\x01\x04"
                  "xx",
                  6, 0);             //  HEARTBEAT + junk
        for (int i = 0; i < 8; i++)  //  too many frames
            zmq_send (rogue, "VB\x01\x02", 4, i < 7 ? ZMQ_SNDMORE : 0);
        zmq_send (rogue,
                  "VB\x01\x03"
                  "12345678",
                  12, ZMQ_SNDMORE);  //  REPLY from a stranger
        zmq_send (rogue, "VB\x01\x03\x93\x01\x00\xa0", 8, 0);
        vbus_msg_t *reply = s_echo (f, "still fine", 0, NULL);
        assert_int_equal (reply->status, VE_OK);
        vbus_msg_destroy (&reply);
    }
    zmq_close (rogue);
    zmq_ctx_term (ctx);
    vbus_caller_t tool = { "test", VBUS_ROLE_SERVICE };
    vbus_opts_t opts = { .caller = &tool };
    vbus_msg_t *reply = NULL;
    assert_int_equal (vbus_client_call (f->client, "broker", "stats", NULL, 0, &opts, &reply), 0);
    assert_int_equal (reply->status, VE_OK);
    const vmsg_value_t *v = s_decode_reply (f, "broker", "stats", reply);
    assert_true (vmsg_uint (v, "malformed", 0) >= 50 * 6);
    vbus_msg_destroy (&reply);
}

static void
test_broker_service (void **state)
{
    fixture_t *f = *state;
    const char *p[] = { "--partitions", "8", "--owns", "1,5", NULL };
    s_start_echo (f, 0, "w0", p);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    vbus_msg_t *reply = s_echo (f, "count me", 0, NULL);
    vbus_msg_destroy (&reply);
    //  Without a role: forbidden (ping is public).
    assert_int_equal (vbus_client_call (f->client, "broker", "stats", NULL, 0, NULL, &reply), 0);
    assert_int_equal (reply->status, VE_FORBIDDEN);
    vbus_msg_destroy (&reply);
    vbus_caller_t tool = { "test", VBUS_ROLE_SERVICE };
    vbus_opts_t opts = { .caller = &tool };
    const char *methods[] = { "ping", "services", "workers", "stats" };
    for (int i = 0; i < 4; i++) {
        assert_int_equal (
            vbus_client_call (f->client, "broker", methods[i], NULL, 0, &opts, &reply), 0);
        assert_int_equal (reply->status, VE_OK);
        const vmsg_value_t *v = s_decode_reply (f, "broker", methods[i], reply);
        if (strcmp (methods[i], "workers") == 0) {
            const vmsg_value_t *w = vmsg_at (vmsg_get (v, "workers"), 0);
            assert_string_equal (vmsg_str (w, "name"), "w0");
            const vmsg_value_t *parts = vmsg_get (w, "partitions");
            assert_int_equal (vmsg_count (parts), 2);
        }
        if (strcmp (methods[i], "stats") == 0) {
            const vmsg_value_t *s = vmsg_at (vmsg_get (v, "services"), 0);
            assert_string_equal (vmsg_str (s, "name"), "echo");
            assert_int_equal (vmsg_uint (s, "replies", 0), 1);
            assert_true (vmsg_uint (s, "p99_us", 0) > 0);
        }
        vbus_msg_destroy (&reply);
    }
}

static void
test_sigterm_drains_in_flight (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    tally_t t = { 0 };
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    s_echo_body (&body, "finish me", 200);
    for (int i = 0; i < 5; i++)
        vbus_client_send (f->client, "echo", "echo", body.data, body.len, NULL, s_tally, &t, NULL);
    vbus_client_poll (f->client, 100);
    kill (f->workers[0], SIGTERM);
    s_wait_tally (f->client, &t, 5, 5000);
    assert_int_equal (t.ok, 5);  //  every request it had was answered
    assert_int_equal (vit_stop (f->workers[0], 0, 5000), 0);
    f->workers[0] = 0;
    vbuf_free (&body);
}

//  Records the order replies come in (the text of each).
typedef struct {
    char order[8][32];
    int n;
} order_t;

static void
s_record (const vbus_reply_t *reply, void *arg)
{
    order_t *o = arg;
    if (o->n == 8)
        return;
    if (reply->status != VE_OK) {
        snprintf (o->order[o->n++], sizeof o->order[0], "status %d", reply->status);
        return;
    }
    vmp_reader_t r;
    vmp_reader_init (&r, reply->body, reply->body_len);
    uint32_t pairs;
    const char *key, *text;
    uint32_t klen, tlen;
    snprintf (o->order[o->n], sizeof o->order[0], "?");
    if (vmp_read_map (&r, &pairs) == 0 && vmp_read_str (&r, &key, &klen) == 0
        && vmp_read_str (&r, &text, &tlen) == 0)
        snprintf (o->order[o->n], sizeof o->order[0], "%.*s", (int) tlen, text);
    o->n++;
}

//  A deferred request holds no thread: the worker answers others meanwhile, replies when the
//  work is done, and a SIGTERM drain waits for deferred requests too.
static void
test_deferred_replies (void **state)
{
    fixture_t *f = *state;
    s_start_echo (f, 0, "w0", NULL);
    assert_int_equal (vit_wait_workers (&f->broker, "echo", 1, 5000), 0);
    order_t o = { .n = 0 };
    vbuf_t slow, fast;
    vbuf_init (&slow, NULL, 0);
    vbuf_init (&fast, NULL, 0);
    s_echo_body (&slow, "slow", 800);
    s_echo_body (&fast, "fast", 0);
    assert_int_equal (vbus_client_send (f->client, "echo", "later", slow.data, slow.len, NULL,
                                        s_record, &o, NULL),
                      0);
    vbus_client_poll (f->client, 100);
    assert_int_equal (
        vbus_client_send (f->client, "echo", "echo", fast.data, fast.len, NULL, s_record, &o, NULL),
        0);
    for (int waited = 0; o.n < 2 && waited < 5000; waited += 50)
        vbus_client_poll (f->client, 50);
    assert_int_equal (o.n, 2);
    assert_string_equal (o.order[0], "fast");  //  not stuck behind the deferred one
    assert_string_equal (o.order[1], "slow");

    //  SIGTERM with deferred requests pending: they are still answered before it exits.
    o.n = 0;
    for (int i = 0; i < 3; i++)
        vbus_client_send (f->client, "echo", "later", slow.data, slow.len, NULL, s_record, &o,
                          NULL);
    vbus_client_poll (f->client, 100);
    kill (f->workers[0], SIGTERM);
    for (int waited = 0; o.n < 3 && waited < 8000; waited += 50)
        vbus_client_poll (f->client, 50);
    assert_int_equal (o.n, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal (o.order[i], "slow");
    assert_int_equal (vit_stop (f->workers[0], 0, 5000), 0);
    f->workers[0] = 0;
    vbuf_free (&slow);
    vbuf_free (&fast);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_deferred_replies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_call_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ipc_transport, s_setup_ipc, s_teardown),
        cmocka_unit_test_setup_teardown (test_identity_and_trace_pass_through, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_thousand_concurrent_async_calls, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_in_libuv_loop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_deadline_expiry_is_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_service, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_no_worker_within_deadline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_kill9_busy_worker_answers_unavailable, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_idempotent_request_retried_on_another_worker, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_worker_reconnects_after_broker_restart, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_keyed_routing_same_key_same_worker, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_queue_full_is_busy, s_setup_small_queue, s_teardown),
        cmocka_unit_test_setup_teardown (test_events_in_order_without_gaps, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_garbage_frames_do_not_disturb, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_broker_service, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sigterm_drains_in_flight, s_setup, s_teardown),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("bus integration", tests, NULL, NULL);
}
