//  echo.c — the echo service: answers with what it was sent. It exists to exercise and measure
//  the bus (latency, errors, identity, keyed routing, events) with a real worker process.
//  Usage: vitrine-echo [--broker EP] [--partitions P] [--owns 0,3,5] [--credit N]
//                      [--heartbeat MS] [--name NAME] [--publish]
#include "vbus.h"
#include "vbus_util.h"
#include "vmsg.h"
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define WHO "echo"

#define ECHO_MAX_LATER 1024  //  deferred echo.later requests at once

typedef struct {
    vbus_defer_t to;
    int64_t due_ms;  //  vbus_now_ms clock
    char *text;
} echo_later_t;

typedef struct {
    varena_t *arena;  //  per-request memory, reset before each request
    vbus_worker_t *worker;
    int timer_fd;  //  fires when the earliest echo.later is due
    echo_later_t later[ECHO_MAX_LATER];
    size_t nlater;
    vbus_pub_t *pub;  //  NULL unless --publish
    char stream[160];
    const char *name;
} echo_t;

//  Decodes the request body against the method's schema and checks the caller's role.
static int
s_decode (echo_t *self, const vbus_request_t *req, vbus_out_t *out, const vmsg_value_t **v)
{
    const vmsg_method_t *m = vmsg_method_find (req->service, req->method);
    if (!m)
        return vbus_out_error (out, VE_NOT_FOUND, "no schema for %s.%s", req->service, req->method);
    if (!vmsg_role_allows (m->role, req->caller.roles))
        return vbus_out_error (out, VE_FORBIDDEN, "%s.%s needs another role", req->service,
                               req->method);
    varena_reset (self->arena);
    char err[200];
    if (vmsg_decode (m->request, req->body, req->body_len, self->arena, v, err, sizeof err))
        return vbus_out_error (out, VE_BAD_REQUEST, "%s", err);
    return VE_OK;
}

static int
echo_echo (const vbus_request_t *req, vbus_out_t *out, void *arg)
{
    echo_t *self = arg;
    const vmsg_value_t *v;
    int status = s_decode (self, req, out, &v);
    if (status)
        return status;
    const char *text = vmsg_str (v, "text");
    uint64_t delay = vmsg_uint (v, "delay_ms", 0);
    if (delay)
        usleep ((useconds_t) delay * 1000);
    msgpack_pack_map (&out->pk, 2);
    vmp_pack_kstr (&out->pk, "text", text);
    vmp_pack_kstr (&out->pk, "worker", self->name);
    if (self->pub) {
        char storage[256];
        vbuf_t body;
        vbuf_init (&body, storage, sizeof storage);
        msgpack_packer pk;
        vmp_packer_init (&pk, &body);
        msgpack_pack_map (&pk, 1);
        vmp_pack_kstr (&pk, "text", text);
        if (vbus_pub_send (self->pub, "echo.said", self->stream, 0, body.data, body.len))
            vbus_log ('W', WHO, "could not publish echo.said");
        vbuf_free (&body);
    }
    return VE_OK;
}

//  Arms the timer for the earliest pending echo.later (disarms it when none is left).
static void
s_arm (echo_t *self)
{
    int64_t due = 0;
    for (size_t i = 0; i < self->nlater; i++)
        if (!due || self->later[i].due_ms < due)
            due = self->later[i].due_ms;
    struct itimerspec when = { { 0, 0 }, { 0, 0 } };
    if (due) {
        int64_t wait = due - vbus_now_ms ();
        if (wait < 1)
            wait = 1;
        when.it_value.tv_sec = wait / 1000;
        when.it_value.tv_nsec = (wait % 1000) * 1000000;
    }
    timerfd_settime (self->timer_fd, 0, &when, NULL);
}

//  The worker's watch: answers every echo.later that is due.
static void
s_answer_due (void *arg)
{
    echo_t *self = arg;
    if (!self->nlater)
        return;  //  the timer is disarmed: nothing to read, no system call on the hot path
    uint64_t expirations;
    if (read (self->timer_fd, &expirations, sizeof expirations) < 0) {
        //  EAGAIN: woken by something else; the due ones are checked anyway.
    }
    int64_t now = vbus_now_ms ();
    for (size_t i = 0; i < self->nlater;) {
        echo_later_t *l = &self->later[i];
        if (l->due_ms > now) {
            i++;
            continue;
        }
        char storage[512];
        vbuf_t body;
        vbuf_init (&body, storage, sizeof storage);
        msgpack_packer pk;
        vmp_packer_init (&pk, &body);
        msgpack_pack_map (&pk, 2);
        vmp_pack_kstr (&pk, "text", l->text);
        vmp_pack_kstr (&pk, "worker", self->name);
        if (body.failed)
            vbus_worker_reply (self->worker, &l->to, VE_INTERNAL, "out of memory", NULL, 0);
        else
            vbus_worker_reply (self->worker, &l->to, VE_OK, NULL, body.data, body.len);
        vbuf_free (&body);
        free (l->text);
        *l = self->later[--self->nlater];
    }
    s_arm (self);
}

//  echo.later: the same answer as echo.echo, deferred by delay_ms while the worker goes on.
static int
echo_later (const vbus_request_t *req, vbus_out_t *out, void *arg)
{
    echo_t *self = arg;
    const vmsg_value_t *v;
    int status = s_decode (self, req, out, &v);
    if (status)
        return status;
    if (self->nlater == ECHO_MAX_LATER)
        return vbus_out_error (out, VE_BUSY, "%d echo.later requests pending", ECHO_MAX_LATER);
    echo_later_t *l = &self->later[self->nlater];
    l->text = strdup (vmsg_str (v, "text"));
    if (!l->text)
        return vbus_out_error (out, VE_INTERNAL, "out of memory");
    l->due_ms = vbus_now_ms () + (int64_t) vmsg_uint (v, "delay_ms", 0);
    vbus_defer (req, &l->to);
    self->nlater++;
    s_arm (self);
    return VBUS_DEFERRED;
}

static int
echo_fail (const vbus_request_t *req, vbus_out_t *out, void *arg)
{
    const vmsg_value_t *v;
    int status = s_decode (arg, req, out, &v);
    if (status)
        return status;
    const char *name = vmsg_str (v, "status");
    int code = verr_from_name (name);
    if (code < 0 || code > VE_LAST_STATUS)
        return vbus_out_error (out, VE_BAD_REQUEST, "status: '%s' is not a status name", name);
    const char *message = vmsg_str (v, "message");
    return vbus_out_error (out, code, "%s", message ? message : verr_str (code));
}

static int
echo_whoami (const vbus_request_t *req, vbus_out_t *out, void *arg)
{
    const vmsg_value_t *v;
    int status = s_decode (arg, req, out, &v);
    if (status)
        return status;
    msgpack_pack_map (&out->pk, 5);
    vmp_pack_kstr (&out->pk, "user_id", req->caller.user_id);
    vmp_pack_kuint (&out->pk, "roles", req->caller.roles);
    vmp_pack_kstr (&out->pk, "trace_id", req->trace_id);
    vmp_pack_kstr (&out->pk, "key", req->key ? req->key : "");
    vmp_pack_kuint (&out->pk, "partition", req->partition);
    return VE_OK;
}

//  Parses "0,3,5" into owned[]; returns the count or -1.
static int
s_parse_owned (const char *arg, uint32_t *owned, int max)
{
    int n = 0;
    const char *p = arg;
    while (*p) {
        char *end;
        long v = strtol (p, &end, 10);
        if (end == p || v < 0 || v >= VBUS_MAX_PARTITIONS || n == max)
            return -1;
        owned[n++] = (uint32_t) v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return n;
}

int
main (int argc, char **argv)
{
    const char *endpoint = getenv ("VITRINE_BROKER");
    if (!endpoint)
        endpoint = "tcp://127.0.0.1:7700";
    static uint32_t owned[VBUS_MAX_PARTITIONS];
    vbus_worker_config_t config = { .service = "echo" };
    bool publish = false;
    static const struct option opts[] = { { "broker", 1, 0, 'b' },    { "partitions", 1, 0, 'p' },
                                          { "owns", 1, 0, 'o' },      { "credit", 1, 0, 'c' },
                                          { "heartbeat", 1, 0, 'h' }, { "name", 1, 0, 'n' },
                                          { "publish", 0, 0, 'P' },   { 0, 0, 0, 0 } };
    int c;
    long v;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': endpoint = optarg; break;
        case 'p':
            if (vbus_arg_long ("vitrine-echo", "--partitions", optarg, 1, VBUS_MAX_PARTITIONS, &v))
                return 2;
            config.partitions = (uint32_t) v;
            break;
        case 'o': {
            int n = s_parse_owned (optarg, owned, VBUS_MAX_PARTITIONS);
            if (n <= 0) {
                fprintf (stderr, "vitrine-echo: --owns: expected partition numbers like 0,3,5\n");
                return 2;
            }
            config.owned = owned;
            config.owned_count = (size_t) n;
            break;
        }
        case 'c':
            if (vbus_arg_long ("vitrine-echo", "--credit", optarg, 1, 100000, &v))
                return 2;
            config.credit = (uint32_t) v;
            break;
        case 'h':
            if (vbus_arg_long ("vitrine-echo", "--heartbeat", optarg, 10, 600000, &v))
                return 2;
            config.heartbeat_ms = (int) v;
            break;
        case 'n': config.name = optarg; break;
        case 'P': publish = true; break;
        default:
            fprintf (stderr, "usage: vitrine-echo [--broker EP] [--partitions P] [--owns LIST] "
                             "[--credit N] [--heartbeat MS] [--name NAME] [--publish]\n");
            return 2;
        }
    }
    char name[128];
    snprintf (name, sizeof name, "echo-%d", (int) getpid ());
    if (!config.name)
        config.name = name;
    echo_t self = { .arena = varena_new (0), .name = config.name };
    snprintf (self.stream, sizeof self.stream, "echo/%s", config.name);
    if (publish) {
        char pub[256];
        if (vbus_endpoint_offset (endpoint, 1, pub, sizeof pub) == 0)
            self.pub = vbus_pub_new (pub);
        if (!self.pub) {
            fprintf (stderr, "vitrine-echo: cannot publish next to broker '%s'\n", endpoint);
            return 2;
        }
    }
    const vbus_method_t methods[] = { { "echo", echo_echo, &self },
                                      { "later", echo_later, &self },
                                      { "fail", echo_fail, &self },
                                      { "whoami", echo_whoami, &self },
                                      { NULL } };
    config.endpoint = endpoint;
    config.methods = methods;
    self.timer_fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    vbus_worker_t *worker = self.arena && self.timer_fd >= 0 ? vbus_worker_new (&config) : NULL;
    int rc = -1;
    if (worker) {
        self.worker = worker;
        vbus_worker_watch (worker, self.timer_fd, s_answer_due, &self);
        rc = vbus_worker_run (worker);
    }
    else
        fprintf (stderr, "vitrine-echo: cannot start (broker '%s')\n", endpoint);
    vbus_worker_destroy (&worker);
    if (self.timer_fd >= 0)
        close (self.timer_fd);
    vbus_pub_destroy (&self.pub);
    varena_destroy (&self.arena);
    return rc == 0 ? 0 : 1;
}
