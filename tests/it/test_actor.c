//  test_actor.c — the actor runtime with real processes: the kv service on a real broker and
//  real RocksDB in a temporary directory. Acknowledged writes survive kill -9; events go out in
//  order and replay on request; a replica started late catches up by replay and then follows
//  live; roles are checked inside the actor; bad configuration exits 2.
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

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    varena_t *arena;
    char dir[64];
    pid_t writer, replica;
} fixture_t;

static const vbus_caller_t s_tool = { "test", VBUS_ROLE_SERVICE };

//  A kv process for service (following follow, or NULL), with one more setting (or NULL).
static pid_t
s_start_kv_set (fixture_t *f, const char *service, const char *follow, const char *setting)
{
    char data[128], svc[64], fol[64];
    snprintf (data, sizeof data, "%s/%s", f->dir, service);
    snprintf (svc, sizeof svc, "service=%s", service);
    snprintf (fol, sizeof fol, "follow=%s", follow ? follow : "");
    const char *args[12] = { "--broker", f->broker.endpoint, "--data", data, "--set", svc };
    int n = 6;
    if (follow) {
        args[n++] = "--set";
        args[n++] = fol;
    }
    if (setting) {
        args[n++] = "--set";
        args[n++] = setting;
    }
    args[n] = NULL;
    pid_t pid = vit_spawn ("vitrine-kv", args);
    assert_int_equal (vit_wait_workers (&f->broker, service, 1, 10000), 0);
    return pid;
}

static pid_t
s_start_kv (fixture_t *f, const char *service, const char *follow)
{
    return s_start_kv_set (f, service, follow, NULL);
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (vit_tmpdir ("vitrine-test", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0)
        return -1;
    f->client = vbus_client_new (f->broker.endpoint, 5000);
    f->arena = varena_new (0);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    if (f->replica > 0)
        assert_int_equal (vit_stop (f->replica, SIGTERM, 10000), 0);
    if (f->writer > 0)
        assert_int_equal (vit_stop (f->writer, SIGTERM, 10000), 0);
    vbus_client_destroy (&f->client);
    vit_stop (f->broker.pid, SIGTERM, 5000);
    varena_destroy (&f->arena);
    assert_int_equal (vit_rmtree (f->dir), 0);  //  nothing left behind
    free (f);
    return 0;
}

//  Calls service.method with a JSON body as the given caller; returns the status and, when
//  ok, the decoded reply in *out.
static int
s_call (fixture_t *f, const char *service, const char *method, const char *json,
        const vbus_caller_t *caller, const vmsg_value_t **out)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
    vbus_opts_t opts = { .caller = caller };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, service, method, body.data, body.len, &opts, &reply), 0);
    vbuf_free (&body);
    int status = reply->status;
    if (status == VE_OK && out) {
        const vmsg_method_t *m = vmsg_method_find ("kv", method);
        if (!m)
            m = vmsg_method_find ("runtime", method);
        char err[200] = "";
        if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, out, err, sizeof err))
            fail_msg ("%s.%s reply does not match its schema: %s", service, method, err);
    }
    vbus_msg_destroy (&reply);
    return status;
}

static void
test_put_get_delete_and_roles (void **state)
{
    fixture_t *f = *state;
    f->writer = s_start_kv (f, "kv", NULL);
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "kv", "put", "{\"key\":\"a\",\"value\":\"one\"}", &s_tool, &v), 0);
    assert_int_equal (vmsg_uint (v, "version", 0), 1);
    assert_int_equal (s_call (f, "kv", "put", "{\"key\":\"a\",\"value\":\"two\"}", &s_tool, &v), 0);
    assert_int_equal (vmsg_uint (v, "version", 0), 2);
    assert_int_equal (s_call (f, "kv", "get", "{\"key\":\"a\"}", &s_tool, &v), 0);
    assert_string_equal (vmsg_str (v, "value"), "two");
    assert_int_equal (s_call (f, "kv", "delete", "{\"key\":\"a\"}", &s_tool, &v), 0);
    assert_int_equal (s_call (f, "kv", "get", "{\"key\":\"a\"}", &s_tool, NULL), VE_NOT_FOUND);
    assert_int_equal (s_call (f, "kv", "delete", "{\"key\":\"a\"}", &s_tool, NULL), VE_NOT_FOUND);
    //  The schema is enforced before the handler runs.
    assert_int_equal (s_call (f, "kv", "put", "{\"key\":\"\",\"value\":\"x\"}", &s_tool, NULL),
                      VE_BAD_REQUEST);
    //  Roles are checked inside the actor, whoever calls.
    assert_int_equal (s_call (f, "kv", "get", "{\"key\":\"a\"}", NULL, NULL), VE_UNAUTHORIZED);
    vbus_caller_t customer = { "u1", VBUS_ROLE_CUSTOMER };
    assert_int_equal (s_call (f, "kv", "get", "{\"key\":\"a\"}", &customer, NULL), VE_FORBIDDEN);
    //  The runtime's own methods.
    assert_int_equal (s_call (f, "kv", "stats", "{}", &s_tool, &v), 0);
    const vmsg_value_t *m = vmsg_at (vmsg_get (v, "methods"), 0);
    assert_string_equal (vmsg_str (m, "name"), "put");
    assert_int_equal (vmsg_uint (m, "calls", 0), 3);
    assert_int_equal (vmsg_uint (m, "errors", 0), 1);
}

static void
test_acknowledged_write_survives_kill9 (void **state)
{
    fixture_t *f = *state;
    f->writer = s_start_kv (f, "kv", NULL);
    char json[64];
    for (int i = 0; i < 20; i++) {
        snprintf (json, sizeof json, "{\"key\":\"k%d\",\"value\":\"v%d\"}", i, i);
        assert_int_equal (s_call (f, "kv", "put", json, &s_tool, NULL), VE_OK);
    }
    assert_int_equal (vit_stop (f->writer, SIGKILL, 2000), 128 + SIGKILL);
    f->writer = 0;
    assert_int_equal (vit_wait_workers (&f->broker, "kv", 0, 10000), 0);
    f->writer = s_start_kv (f, "kv", NULL);
    const vmsg_value_t *v;
    for (int i = 0; i < 20; i++) {
        snprintf (json, sizeof json, "{\"key\":\"k%d\"}", i);
        assert_int_equal (s_call (f, "kv", "get", json, &s_tool, &v), VE_OK);
        char want[16];
        snprintf (want, sizeof want, "v%d", i);
        assert_string_equal (vmsg_str (v, "value"), want);
        varena_reset (f->arena);
    }
    //  The outbox survived too: sequence numbers go on from 21.
    assert_int_equal (
        s_call (f, "kv", "put", "{\"key\":\"k0\",\"value\":\"again\"}", &s_tool, NULL), 0);
    assert_int_equal (s_call (f, "kv", "replay", "{\"partition\":0,\"from\":20}", &s_tool, &v), 0);
    const vmsg_value_t *events = vmsg_get (v, "events");
    assert_int_equal (vmsg_count (events), 2);
    assert_int_equal (vmsg_uint (vmsg_at (events, 1), "seq", 0), 21);
    assert_int_equal (vmsg_uint (v, "last", 0), 21);
}

//  Waits (up to 5 s: housekeeping runs once a second) until the outbox's oldest event is
//  want, then checks that a replay from 1 starts there and runs to last.
static void
s_expect_outbox (fixture_t *f, uint64_t want, uint64_t last)
{
    const vmsg_value_t *v = NULL;
    for (int i = 0; i < 50; i++) {
        varena_reset (f->arena);
        assert_int_equal (
            s_call (f, "kv", "replay", "{\"partition\":0,\"from\":1}", &s_tool, &v), 0);
        if (vmsg_uint (v, "first", 0) == want)
            break;
        usleep (100000);
    }
    assert_int_equal (vmsg_uint (v, "first", 0), want);
    const vmsg_value_t *events = vmsg_get (v, "events");
    assert_int_equal (vmsg_count (events), last - want + 1);
    assert_int_equal (vmsg_uint (vmsg_at (events, 0), "seq", 0), want);
    assert_int_equal (vmsg_uint (v, "last", 0), last);
}

static void
s_puts (fixture_t *f, int from, int n)
{
    char json[64];
    for (int i = from; i < from + n; i++) {
        snprintf (json, sizeof json, "{\"key\":\"t%d\",\"value\":\"v\"}", i);
        assert_int_equal (s_call (f, "kv", "put", json, &s_tool, NULL), VE_OK);
    }
}

//  The outbox keeps its newest outbox_keep events: the trim goes on round after round, and
//  after a restart.
static void
test_outbox_trimmed_to_its_keep (void **state)
{
    fixture_t *f = *state;
    f->writer = s_start_kv_set (f, "kv", NULL, "outbox_keep=10");
    s_puts (f, 0, 30);
    s_expect_outbox (f, 21, 30);
    s_puts (f, 30, 5);
    s_expect_outbox (f, 26, 35);
    assert_int_equal (vit_stop (f->writer, SIGTERM, 10000), 0);
    f->writer = s_start_kv_set (f, "kv", NULL, "outbox_keep=10");
    s_expect_outbox (f, 26, 35);
    s_puts (f, 35, 7);
    s_expect_outbox (f, 33, 42);
}

static void
test_events_published_in_order_and_replayed (void **state)
{
    fixture_t *f = *state;
    f->writer = s_start_kv (f, "kv", NULL);
    const char *prefixes[] = { "kv.", NULL };
    vbus_sub_t *sub = vbus_sub_new (f->broker.sub, prefixes);
    vbus_event_t ev;
    //  Wait until the subscription is in place: writes until one event arrives.
    int warm = 0;
    for (int i = 0; i < 50 && !warm; i++) {
        s_call (f, "kv", "put", "{\"key\":\"warm\",\"value\":\"x\"}", &s_tool, NULL);
        warm = vbus_sub_recv (sub, &ev, 100) == 0;
    }
    assert_true (warm);
    while (vbus_sub_recv (sub, &ev, 200) == 0)
        ;
    uint64_t first = ev.seq + 1;
    char json[64];
    for (int i = 0; i < 30; i++) {
        snprintf (json, sizeof json, "{\"key\":\"e%d\",\"value\":\"%d\"}", i, i);
        assert_int_equal (s_call (f, "kv", "put", json, &s_tool, NULL), VE_OK);
    }
    for (int i = 0; i < 30; i++) {
        assert_int_equal (vbus_sub_recv (sub, &ev, 5000), 0);
        assert_string_equal (ev.topic, "kv.changed");
        assert_string_equal (ev.stream, "kv/0");
        assert_int_equal (ev.seq, first + (uint64_t) i);
        assert_int_equal (ev.gap_from, 0);
    }
    vbus_sub_destroy (&sub);
    //  Replay pages through the same events.
    const vmsg_value_t *v;
    snprintf (json, sizeof json, "{\"partition\":0,\"from\":%llu,\"limit\":10}",
              (unsigned long long) first);
    assert_int_equal (s_call (f, "kv", "replay", json, &s_tool, &v), 0);
    assert_int_equal (vmsg_count (vmsg_get (v, "events")), 10);
    assert_int_equal (vmsg_uint (vmsg_at (vmsg_get (v, "events"), 0), "seq", 0), first);
    //  A partition this process does not serve is refused.
    assert_int_equal (s_call (f, "kv", "replay", "{\"partition\":3,\"from\":1}", &s_tool, NULL),
                      VE_UNAVAILABLE);
}

static void
test_late_replica_catches_up_then_follows (void **state)
{
    fixture_t *f = *state;
    f->writer = s_start_kv (f, "kv", NULL);
    char json[96];
    for (int i = 0; i < 1200; i++) {  //  more than two replay pages
        snprintf (json, sizeof json, "{\"key\":\"p%d\",\"value\":\"v%d\"}", i % 700, i);
        assert_int_equal (s_call (f, "kv", "put", json, &s_tool, NULL), VE_OK);
    }
    f->replica = s_start_kv (f, "kv-read", "kv/0");
    const vmsg_value_t *v;
    //  Registered only after catching up: every write is there at once.
    assert_int_equal (s_call (f, "kv-read", "get", "{\"key\":\"p699\"}", &s_tool, &v), 0);
    assert_string_equal (vmsg_str (v, "value"), "v699");
    assert_int_equal (s_call (f, "kv-read", "get", "{\"key\":\"p0\"}", &s_tool, &v), 0);
    assert_string_equal (vmsg_str (v, "value"), "v700");
    assert_int_equal (vmsg_uint (v, "version", 0), 2);
    //  Then it follows live.
    assert_int_equal (
        s_call (f, "kv", "put", "{\"key\":\"live\",\"value\":\"now\"}", &s_tool, NULL), 0);
    int status = VE_NOT_FOUND;
    for (int i = 0; i < 100 && status != VE_OK; i++) {
        status = s_call (f, "kv-read", "get", "{\"key\":\"live\"}", &s_tool, &v);
        if (status != VE_OK)
            usleep (50000);
    }
    assert_int_equal (status, VE_OK);
    assert_string_equal (vmsg_str (v, "value"), "now");
    //  A replica takes no writes.
    assert_int_equal (
        s_call (f, "kv-read", "put", "{\"key\":\"x\",\"value\":\"y\"}", &s_tool, NULL),
        VE_FORBIDDEN);
    //  After a restart it resumes from its stored offset.
    assert_int_equal (vit_stop (f->replica, SIGTERM, 10000), 0);
    assert_int_equal (
        s_call (f, "kv", "put", "{\"key\":\"while-down\",\"value\":\"1\"}", &s_tool, NULL), 0);
    f->replica = s_start_kv (f, "kv-read", "kv/0");
    assert_int_equal (s_call (f, "kv-read", "get", "{\"key\":\"while-down\"}", &s_tool, &v), 0);
    assert_int_equal (s_call (f, "kv-read", "stats", "{}", &s_tool, &v), 0);
    assert_true (vmsg_uint (v, "events_applied", 0) >= 1);
}

//  Replies to the asynchronous puts of test_group_commit.
typedef struct {
    int answered, ok;
} s_acks_t;

static void
s_on_put (const vbus_reply_t *reply, void *arg)
{
    s_acks_t *acks = arg;
    acks->answered++;
    if (reply->status == VE_OK)
        acks->ok++;
}

//  Synced writes from many concurrent callers share fsyncs, and each one acknowledged is there
//  after a kill -9.
static void
test_group_commit (void **state)
{
    fixture_t *f = *state;
    f->writer = s_start_kv (f, "kv", NULL);
    s_acks_t acks = { 0 };
    int sent = 0;
    int64_t deadline = vbus_mono_us () + 30 * 1000000LL;
    while (acks.answered < 400 && vbus_mono_us () < deadline) {
        //  A window of 64 requests in flight, as many clients would have.
        while (sent < 400 && sent - acks.answered < 64) {
            char json[64];
            snprintf (json, sizeof json, "{\"key\":\"g%d\",\"value\":\"v%d\"}", sent, sent);
            vbuf_t body;
            vbuf_init (&body, NULL, 0);
            assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
            vbus_opts_t opts = { .caller = &s_tool };
            assert_int_equal (vbus_client_send (f->client, "kv", "put_durable", body.data,
                                                body.len, &opts, s_on_put, &acks, NULL),
                              0);
            vbuf_free (&body);
            sent++;
        }
        vbus_client_poll (f->client, 100);
    }
    assert_int_equal (acks.ok, 400);
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "kv", "stats", "{}", &s_tool, &v), 0);
    uint64_t commits = vmsg_uint (v, "synced_commits", 0), syncs = vmsg_uint (v, "syncs", 0);
    print_message ("group commit: %llu synced writes, %llu fsyncs\n",
                   (unsigned long long) commits, (unsigned long long) syncs);
    assert_int_equal (commits, 400);
    assert_true (syncs >= 1 && syncs < commits);  //  shared, not one fsync per write
    assert_int_equal (vit_stop (f->writer, SIGKILL, 2000), 128 + SIGKILL);
    f->writer = 0;
    assert_int_equal (vit_wait_workers (&f->broker, "kv", 0, 10000), 0);
    f->writer = s_start_kv (f, "kv", NULL);
    for (int i = 0; i < 400; i++) {
        char json[64], want[16];
        snprintf (json, sizeof json, "{\"key\":\"g%d\"}", i);
        snprintf (want, sizeof want, "v%d", i);
        assert_int_equal (s_call (f, "kv", "get", json, &s_tool, &v), VE_OK);
        assert_string_equal (vmsg_str (v, "value"), want);
        varena_reset (f->arena);
    }
}

static void
s_on_fetch (const vbus_reply_t *reply, void *arg)
{
    *(int *) arg = reply->status;
}

//  kv.fetch calls another service asynchronously: while that call waits (no worker of it yet)
//  the actor answers other requests; the copy commits and survives a kill -9.
static void
test_async_call_does_not_block (void **state)
{
    fixture_t *f = *state;
    pid_t source = s_start_kv (f, "kv-src", NULL);
    assert_int_equal (
        s_call (f, "kv-src", "put", "{\"key\":\"a\",\"value\":\"hello\"}", &s_tool, NULL),
        VE_OK);
    assert_int_equal (vit_stop (source, SIGTERM, 10000), 0);
    assert_int_equal (vit_wait_workers (&f->broker, "kv-src", 0, 10000), 0);

    f->writer = s_start_kv (f, "kv", NULL);
    const char *json = "{\"key\":\"a\",\"from\":\"kv-src\"}";
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
    vbus_opts_t opts = { .caller = &s_tool, .timeout_ms = 10000 };
    int fetched = -1;
    assert_int_equal (vbus_client_send (f->client, "kv", "fetch", body.data, body.len, &opts,
                                        s_on_fetch, &fetched, NULL),
                      0);
    vbuf_free (&body);
    vbus_client_poll (f->client, 300);
    assert_int_equal (fetched, -1);  //  still waiting for kv-src
    //  Meanwhile the actor serves: a read and a write answered while the fetch is out.
    int64_t start = vbus_mono_us ();
    assert_int_equal (s_call (f, "kv", "get", "{\"key\":\"a\"}", &s_tool, NULL), VE_NOT_FOUND);
    assert_int_equal (s_call (f, "kv", "put", "{\"key\":\"b\",\"value\":\"x\"}", &s_tool,
                              NULL),
                      VE_OK);
    print_message ("answered in %lld us while a call was out\n",
                   (long long) (vbus_mono_us () - start));
    assert_int_equal (fetched, -1);
    //  The source comes back: the waiting call is delivered, the copy stored, the call answered.
    source = s_start_kv (f, "kv-src", NULL);
    for (int64_t end = vbus_mono_us () + 10000000; fetched == -1 && vbus_mono_us () < end;)
        vbus_client_poll (f->client, 100);
    assert_int_equal (fetched, VE_OK);
    assert_int_equal (vit_stop (f->writer, SIGKILL, 2000), 128 + SIGKILL);
    f->writer = 0;
    assert_int_equal (vit_wait_workers (&f->broker, "kv", 0, 10000), 0);
    f->writer = s_start_kv (f, "kv", NULL);
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "kv", "get", "{\"key\":\"a\"}", &s_tool, &v), VE_OK);
    assert_string_equal (vmsg_str (v, "value"), "hello");
    //  A source that does not exist: the fetch fails with the bus's status, nothing is stored.
    assert_int_not_equal (s_call (f, "kv", "fetch", "{\"key\":\"z\",\"from\":\"kv-none\"}",
                                  &s_tool, NULL),
                          VE_OK);
    assert_int_equal (s_call (f, "kv", "get", "{\"key\":\"z\"}", &s_tool, NULL), VE_NOT_FOUND);
    assert_int_equal (vit_stop (source, SIGTERM, 10000), 0);
}

static void
test_bad_config_exits_2 (void **state)
{
    fixture_t *f = *state;
    char err[2048];
    const char *unknown[] = { "--data", f->dir, "--set", "colour=blue", NULL };
    assert_int_equal (vit_run ("vitrine-kv", unknown, NULL, 0, err, sizeof err, 5000), 2);
    assert_non_null (strstr (err, "colour"));
    const char *parts[] = { "--data", f->dir, "--partitions", "0", NULL };
    assert_int_equal (vit_run ("vitrine-kv", parts, NULL, 0, err, sizeof err, 5000), 2);
    assert_non_null (strstr (err, "partitions"));
    const char *owns[] = { "--data", f->dir, "--partitions", "2", "--owns", "2", NULL };
    assert_int_equal (vit_run ("vitrine-kv", owns, NULL, 0, err, sizeof err, 5000), 2);
    assert_non_null (strstr (err, "owns"));
    const char *nofile[] = { "--config", "/nonexistent/kv.conf", NULL };
    assert_int_equal (vit_run ("vitrine-kv", nofile, NULL, 0, err, sizeof err, 5000), 2);
    assert_non_null (strstr (err, "--config"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_put_get_delete_and_roles, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_acknowledged_write_survives_kill9, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_outbox_trimmed_to_its_keep, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_events_published_in_order_and_replayed, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_late_replica_catches_up_then_follows, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_group_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_async_call_does_not_block, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_config_exits_2, s_setup, s_teardown),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("actor runtime", tests, NULL, NULL);
}
