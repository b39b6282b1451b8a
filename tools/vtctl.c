//  vtctl — the internal tool: call any method with a JSON body, publish and watch events, and
//  show the broker's traffic. JSON goes through the schemas (schemas/vmsg.h), so what vtctl
//  sends is checked exactly as the receiver will check it.
//  Exit: 0 ok, 1 bad arguments or a local failure, 2 the call answered with an error status.
#define _POSIX_C_SOURCE 200809L
#include "vbus.h"
#include "vmsg.h"
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#define VTCTL_DEFAULT_BROKER "tcp://127.0.0.1:7700"

static const char s_usage[] =
    "usage: vtctl [--broker ENDPOINT] COMMAND ...\n"
    "  call SERVICE.METHOD ['{json}'] [--key K] [--timeout MS] [--admin] [--as USER_ID]\n"
    "      send a request; print the reply body as JSON (exit 2 on an error status)\n"
    "  publish TOPIC ['{json}'] [--stream S]\n"
    "      publish one event (stream default vtctl/<pid>)\n"
    "  subscribe PATTERN [--count N] [--timeout MS]\n"
    "      print one JSON line per event whose topic starts with PATTERN (\"*\" = all)\n"
    "  stats\n"
    "      show the broker's counters and latencies per service\n"
    "The broker is --broker, else $VITRINE_BROKER, else " VTCTL_DEFAULT_BROKER ".\n";

typedef struct {
    const char *broker;
    const char *command;
    const char *args[2];  //  positional arguments after the command
    int nargs;
    const char *key;
    const char *stream;
    int timeout_ms;  //  0: not given
    long count;      //  0: not given
    bool admin;
    const char *as;  //  --as: call as this signed-in customer (the caller in the header)
} s_opts_t;

static int
s_fail (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs ("vtctl: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
    return 1;
}

static bool
s_parse_long (const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

//  Options may come anywhere; returns 0 or 1 (after saying why).
static int
s_parse (int argc, char **argv, s_opts_t *o)
{
    memset (o, 0, sizeof *o);
    o->broker = getenv ("VITRINE_BROKER");
    if (!o->broker || !*o->broker)
        o->broker = VTCTL_DEFAULT_BROKER;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool valued = !strcmp (a, "--broker") || !strcmp (a, "--key") || !strcmp (a, "--stream")
                      || !strcmp (a, "--timeout") || !strcmp (a, "--count") || !strcmp (a, "--as");
        if (valued && i + 1 >= argc)
            return s_fail ("%s needs a value\n%s", a, s_usage);
        long v;
        if (!strcmp (a, "-h") || !strcmp (a, "--help")) {
            fputs (s_usage, stdout);
            exit (0);
        }
        else if (!strcmp (a, "--broker"))
            o->broker = argv[++i];
        else if (!strcmp (a, "--key"))
            o->key = argv[++i];
        else if (!strcmp (a, "--stream"))
            o->stream = argv[++i];
        else if (!strcmp (a, "--timeout")) {
            if (!s_parse_long (argv[++i], 1, 3600000, &v))
                return s_fail ("--timeout: expected milliseconds 1..3600000, got '%s'", argv[i]);
            o->timeout_ms = (int) v;
        }
        else if (!strcmp (a, "--count")) {
            if (!s_parse_long (argv[++i], 1, 1000000000, &v))
                return s_fail ("--count: expected a number 1..1000000000, got '%s'", argv[i]);
            o->count = v;
        }
        else if (!strcmp (a, "--admin"))
            o->admin = true;
        else if (!strcmp (a, "--as")) {
            o->as = argv[++i];
            if (!o->as || !*o->as || strlen (o->as) > VBUS_MAX_USER)
                return s_fail ("--as: expected a user id of 1..%d bytes", VBUS_MAX_USER);
        }
        else if (a[0] == '-' && a[1] == '-')
            return s_fail ("unknown option %s\n%s", a, s_usage);
        else if (!o->command)
            o->command = a;
        else if (o->nargs < 2)
            o->args[o->nargs++] = a;
        else
            return s_fail ("unexpected argument '%s'\n%s", a, s_usage);
    }
    if (!o->command)
        return s_fail ("no command\n%s", s_usage);
    return 0;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
        ;
}

//  JSON text (NULL = "{}") to msgpack through schema (NULL: generic) into out.
static int
s_body (const vmsg_schema_t *schema, const char *json, vbuf_t *out)
{
    char err[512];
    if (!json)
        json = "{}";
    if (vmsg_json_to_msgpack (schema, json, strlen (json), out, err, sizeof err) != 0)
        return s_fail ("request body: %s", err);
    return 0;
}

//  A body as JSON: through schema, or generically (with a warning) when it does not match.
static char *
s_to_json (const vmsg_schema_t *schema, const void *body, size_t len, int flags)
{
    char err[512];
    char *text = vmsg_msgpack_to_json (schema, body, len, flags, err, sizeof err);
    if (!text && schema) {
        fprintf (stderr, "vtctl: warning: body does not match %s: %s\n", schema->name, err);
        text = vmsg_msgpack_to_json (NULL, body, len, flags, err, sizeof err);
    }
    if (!text)
        s_fail ("cannot show the body: %s", err);
    return text;
}

//  Calls service.method; on success *reply is the reply (status ok). Returns an exit code.
static int
s_call (const s_opts_t *o, const char *service, const char *method, const char *json,
        vbus_msg_t **reply)
{
    const vmsg_method_t *m = vmsg_method_find (service, method);
    char storage[4096];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    int rc = s_body (m ? m->request : NULL, json, &body);
    if (rc) {
        vbuf_free (&body);
        return rc;
    }
    vbus_client_t *client = vbus_client_new (o->broker, o->timeout_ms);
    if (!client) {
        vbuf_free (&body);
        return s_fail ("cannot connect to the broker at %s", o->broker);
    }
    //  --as speaks for a customer (a tool that tries what a shopper can do): that user, the
    //  customer role only, so the actors' ownership checks apply to it as to the edge's calls.
    vbus_caller_t caller = o->as ? (vbus_caller_t) { o->as, VBUS_ROLE_CUSTOMER }
                                 : (vbus_caller_t) { "vtctl", VBUS_ROLE_SERVICE
                                                                  | (o->admin ? VBUS_ROLE_ADMIN : 0) };
    vbus_opts_t opts = { .key = o->key, .timeout_ms = o->timeout_ms, .caller = &caller };
    rc = vbus_client_call (client, service, method, body.data, body.len, &opts, reply);
    vbuf_free (&body);
    vbus_client_destroy (&client);
    if (rc)
        return s_fail ("%s.%s: %s", service, method, verr_str (rc));
    if ((*reply)->status != VE_OK) {
        fprintf (stderr, "error: %s: %s\n", verr_name ((*reply)->status),
                 *(*reply)->message ? (*reply)->message : verr_str ((*reply)->status));
        vbus_msg_destroy (reply);
        return 2;
    }
    return 0;
}

static int
s_cmd_call (const s_opts_t *o)
{
    const char *target = o->args[0];
    const char *dot = target ? strchr (target, '.') : NULL;
    if (!dot || dot == target || !dot[1])
        return s_fail ("call: expected SERVICE.METHOD, got '%s'", target ? target : "");
    char service[VBUS_MAX_SERVICE + 1];
    if ((size_t) (dot - target) > VBUS_MAX_SERVICE)
        return s_fail ("call: service name longer than %d bytes", VBUS_MAX_SERVICE);
    memcpy (service, target, (size_t) (dot - target));
    service[dot - target] = 0;
    const char *method = dot + 1;

    vbus_msg_t *reply = NULL;
    int rc = s_call (o, service, method, o->args[1], &reply);
    if (rc)
        return rc;
    const vmsg_method_t *m = vmsg_method_find (service, method);
    char *text = s_to_json (m ? m->reply : NULL, reply->body, reply->body_len, VMSG_JSON_PRETTY);
    vbus_msg_destroy (&reply);
    if (!text)
        return 1;
    puts (text);
    free (text);
    return 0;
}

static int
s_cmd_publish (const s_opts_t *o)
{
    const char *topic = o->args[0];
    if (!topic || !strchr (topic, '.'))
        return s_fail ("publish: expected a topic <domain>.<event>, got '%s'", topic ? topic : "");
    const vmsg_event_t *e = vmsg_event_find (topic);
    char storage[4096], endpoint[256];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    int rc = s_body (e ? e->schema : NULL, o->args[1], &body);
    if (rc == 0 && vbus_endpoint_offset (o->broker, 1, endpoint, sizeof endpoint) != 0)
        rc = s_fail ("broker endpoint %s is not tcp://host:port or ipc://path", o->broker);
    vbus_pub_t *pub = rc ? NULL : vbus_pub_new (endpoint);
    if (rc == 0 && !pub)
        rc = s_fail ("cannot connect to %s", endpoint);
    if (pub) {
        //  A PUB socket drops what it sends before the subscription handshake is done, and a
        //  process that exits at once may lose what is still queued: wait on both sides.
        s_sleep_ms (200);
        //  Each invocation is its own stream (seq 1), so subscribers see no false duplicates.
        char own[32];
        snprintf (own, sizeof own, "vtctl/%d", (int) getpid ());
        const char *stream = o->stream ? o->stream : own;
        int sent = vbus_pub_send (pub, topic, stream, 0, body.data, body.len);
        if (sent)
            rc = s_fail ("publish %s: %s", topic, verr_str (sent));
        s_sleep_ms (100);
        vbus_pub_destroy (&pub);
    }
    vbuf_free (&body);
    return rc;
}

//  Prints a string as a JSON string literal.
static void
s_print_json_string (const char *s)
{
    json_t *j = json_string (s);
    char *text = j ? json_dumps (j, JSON_ENCODE_ANY) : NULL;
    fputs (text ? text : "null", stdout);
    free (text);
    json_decref (j);
}

static int
s_cmd_subscribe (const s_opts_t *o)
{
    if (!o->args[0] || o->args[1])
        return s_fail ("subscribe: expected one PATTERN");
    char endpoint[256];
    if (vbus_endpoint_offset (o->broker, 2, endpoint, sizeof endpoint) != 0)
        return s_fail ("broker endpoint %s is not tcp://host:port or ipc://path", o->broker);
    const char *prefixes[] = { o->args[0], NULL };
    vbus_sub_t *sub = vbus_sub_new (endpoint, prefixes);
    if (!sub)
        return s_fail ("cannot connect to %s", endpoint);
    int64_t deadline = o->timeout_ms ? vbus_now_ms () + o->timeout_ms : 0;
    long seen = 0;
    int rc = 0;
    while (!o->count || seen < o->count) {
        int wait = -1;
        if (deadline) {
            int64_t left = deadline - vbus_now_ms ();
            wait = left > 0 ? (int) left : 0;
        }
        vbus_event_t ev;
        int got = vbus_sub_recv (sub, &ev, wait);
        if (got == -VE_TIMEOUT) {
            if (o->count)
                rc = s_fail ("subscribe: timed out after %d ms with %ld of %ld events",
                             o->timeout_ms, seen, o->count);
            break;
        }
        if (got == -VE_PROTO) {
            fprintf (stderr, "vtctl: warning: skipped a malformed event\n");
            continue;
        }
        if (got) {
            rc = s_fail ("subscribe: %s", verr_str (got));
            break;
        }
        const vmsg_event_t *e = vmsg_event_find (ev.topic);
        char *body = s_to_json (e ? e->schema : NULL, ev.body, ev.body_len, VMSG_JSON_COMPACT);
        fputs ("{\"topic\":", stdout);
        s_print_json_string (ev.topic);
        fputs (",\"stream\":", stdout);
        s_print_json_string (ev.stream);
        printf (",\"seq\":%llu,\"time_ms\":%lld", (unsigned long long) ev.seq,
                (long long) ev.time_ms);
        if (ev.gap_from > 0)
            printf (",\"gap_from\":%llu", (unsigned long long) ev.gap_from);
        if (ev.duplicate)
            fputs (",\"duplicate\":true", stdout);
        printf (",\"body\":%s}\n", body ? body : "null");
        fflush (stdout);
        free (body);
        seen++;
    }
    vbus_sub_destroy (&sub);
    return rc;
}

static void
s_print_ms (uint64_t us)
{
    printf (" %9.3f", (double) us / 1000.0);
}

static int
s_cmd_stats (const s_opts_t *o)
{
    if (o->nargs)
        return s_fail ("stats: takes no arguments");
    vbus_msg_t *reply = NULL;
    int rc = s_call (o, "broker", "stats", NULL, &reply);
    if (rc)
        return rc;
    const vmsg_method_t *m = vmsg_method_find ("broker", "stats");
    varena_t *arena = varena_new (reply->body_len + 1024);
    const vmsg_value_t *stats = NULL;
    char err[512] = "out of memory";
    if (!arena
        || vmsg_decode (m->reply, reply->body, reply->body_len, arena, &stats, err, sizeof err)
               != 0)
        rc = s_fail ("broker.stats: unexpected reply: %s", err);
    else {
        uint64_t up = vmsg_uint (stats, "uptime_ms", 0) / 1000;
        printf ("broker up %lluh%02llum%02llus   requests %llu  replies %llu  errors %llu  "
                "drops %llu  malformed %llu\n",
                (unsigned long long) (up / 3600), (unsigned long long) (up / 60 % 60),
                (unsigned long long) (up % 60),
                (unsigned long long) vmsg_uint (stats, "requests", 0),
                (unsigned long long) vmsg_uint (stats, "replies", 0),
                (unsigned long long) vmsg_uint (stats, "errors", 0),
                (unsigned long long) vmsg_uint (stats, "drops", 0),
                (unsigned long long) vmsg_uint (stats, "malformed", 0));
        printf ("events in %llu  out %llu  dropped %llu\n\n",
                (unsigned long long) vmsg_uint (stats, "events_in", 0),
                (unsigned long long) vmsg_uint (stats, "events_out", 0),
                (unsigned long long) vmsg_uint (stats, "events_dropped", 0));
        printf ("%-20s %10s %8s %8s %9s %9s %9s\n", "SERVICE", "REQUESTS", "ERRORS", "QUEUED",
                "IN_FLIGHT", "P50_MS", "P99_MS");
        const vmsg_value_t *services = vmsg_get (stats, "services");
        for (uint32_t i = 0; i < vmsg_count (services); i++) {
            const vmsg_value_t *s = vmsg_at (services, i);
            printf ("%-20s %10llu %8llu %8llu %9llu", vmsg_str (s, "name"),
                    (unsigned long long) vmsg_uint (s, "requests", 0),
                    (unsigned long long) vmsg_uint (s, "errors", 0),
                    (unsigned long long) vmsg_uint (s, "queued", 0),
                    (unsigned long long) vmsg_uint (s, "in_flight", 0));
            s_print_ms (vmsg_uint (s, "p50_us", 0));
            s_print_ms (vmsg_uint (s, "p99_us", 0));
            putchar ('\n');
        }
        if (vmsg_count (services) == 0)
            puts ("(no services)");
    }
    varena_destroy (&arena);
    vbus_msg_destroy (&reply);
    return rc;
}

int
main (int argc, char **argv)
{
    s_opts_t o;
    if (s_parse (argc, argv, &o))
        return 1;
    if (!strcmp (o.command, "call"))
        return s_cmd_call (&o);
    if (!strcmp (o.command, "publish"))
        return s_cmd_publish (&o);
    if (!strcmp (o.command, "subscribe"))
        return s_cmd_subscribe (&o);
    if (!strcmp (o.command, "stats"))
        return s_cmd_stats (&o);
    return s_fail ("unknown command '%s'\n%s", o.command, s_usage);
}
